package web

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// deskTicket stores a call answered by agent and its drafted ticket.
func deskTicket(t *testing.T, st store.Store, id, agent string) tickets.Ticket {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	if err := st.CreateCall(ctx, store.Call{ID: "call_" + id, From: "+15550123", StartedAt: now, Agent: agent,
		Intent: "returns", Queue: "returns"}); err != nil {
		t.Fatal(err)
	}
	tk := tickets.Ticket{ID: id, CallID: "call_" + id, Category: "returns", Priority: tickets.PriorityNormal,
		Subject: "Return a jacket", Summary: "Caller wants to return a jacket.", Entities: map[string]string{},
		Sentiment: "neutral", Tags: []string{"returns"}, Status: tickets.StatusOpen,
		Customer: tickets.Customer{Phone: "+15550123"}, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestUpdateTicket(t *testing.T) {
	f := newAPI(t)
	for _, u := range []struct{ name, role string }{{"erin", "agent"}, {"frank", "agent"}, {"sue", "supervisor"}, {"quinn", "qa"}} {
		if st := f.do(t, f.admin, "POST", "/api/v1/users", map[string]string{"username": u.name, "password": u.name + "-password", "role": u.role}, nil); st != 201 {
			t.Fatalf("create %s: %d", u.name, st)
		}
	}
	erin, frank := f.login(t, "erin", "erin-password"), f.login(t, "frank", "frank-password")
	sue, quinn := f.login(t, "sue", "sue-password"), f.login(t, "quinn", "quinn-password")
	deskTicket(t, f.store, "tkt_1", "erin")

	refused := []struct {
		name, token, id, body string
		want                  int
		msg                   string // part of the error message
	}{
		{"no token", "", "tkt_1", `{"status":"solved"}`, 401, "bearer"},
		{"unknown ticket", f.admin, "tkt_nope", `{"status":"solved"}`, 404, "no such ticket"},
		{"another agent", frank, "tkt_1", `{"status":"solved"}`, 404, "no such ticket"}, // not even seen
		{"qa role", quinn, "tkt_1", `{"status":"solved"}`, 403, "needs role"},
		{"empty object", erin, "tkt_1", `{}`, 400, "nothing to change"},
		{"not json", erin, "tkt_1", `status=solved`, 400, "bad JSON"},
		{"unknown field", erin, "tkt_1", `{"colour":"red"}`, 400, "unknown field"},
		{"bad status", erin, "tkt_1", `{"status":"done"}`, 400, "status:"},
		{"bad priority", erin, "tkt_1", `{"priority":"asap"}`, 400, "priority:"},
		{"bad disposition", erin, "tkt_1", `{"disposition":"shrug"}`, 400, "disposition:"},
		{"empty subject", erin, "tkt_1", `{"subject":"  "}`, 400, "subject:"},
		{"long subject", erin, "tkt_1", `{"subject":"` + strings.Repeat("x", 201) + `"}`, 400, "subject:"},
		{"unknown category", erin, "tkt_1", `{"category":"pizza"}`, 400, "category:"},
		{"malformed category", erin, "tkt_1", `{"category":"Bad Name!"}`, 400, "category:"},
		{"wrong type", erin, "tkt_1", `{"subject":5}`, 400, "bad JSON"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			var e struct{ Error string }
			if st := f.do(t, tc.token, "PUT", "/api/v1/tickets/"+tc.id, tc.body, &e); st != tc.want || !strings.Contains(e.Error, tc.msg) {
				t.Fatalf("status %d error %q, want %d with %q", st, e.Error, tc.want, tc.msg)
			}
		})
	}
	if tk, _ := f.store.Ticket(context.Background(), "tkt_1"); tk.Status != tickets.StatusOpen || tk.Category != "returns" {
		t.Fatalf("refused edits changed the ticket: %+v", tk)
	}

	type step struct {
		name, token string
		body        map[string]any
		category    string
		tags        []string // sorted
	}
	for _, sp := range []step{
		{"agent files it", erin, map[string]any{"subject": "Damaged jacket", "summary": "Arrived torn; refund agreed.",
			"priority": "high", "status": "solved", "disposition": "resolved"}, "returns", []string{"disposition:resolved", "returns"}},
		{"agent corrects the category", erin, map[string]any{"category": "complaint", "disposition": "escalated"},
			"complaint", []string{"disposition:escalated", "misroute:returns->complaint", "returns"}},
		{"supervisor corrects it again", sue, map[string]any{"category": "billing"},
			"billing", []string{"disposition:escalated", "misroute:returns->billing", "returns"}},
		{"back to the routed category", f.admin, map[string]any{"category": "returns", "disposition": ""},
			"returns", []string{"returns"}},
	} {
		t.Run(sp.name, func(t *testing.T) {
			var got tickets.Ticket
			if st := f.do(t, sp.token, "PUT", "/api/v1/tickets/tkt_1", sp.body, &got); st != 200 {
				t.Fatalf("status %d", st)
			}
			stored, err := f.store.Ticket(context.Background(), "tkt_1")
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(stored.Tags)
			if stored.Category != sp.category || !slices.Equal(stored.Tags, sp.tags) || got.Category != sp.category {
				t.Fatalf("stored %q %v (answer %q), want %q %v", stored.Category, stored.Tags, got.Category, sp.category, sp.tags)
			}
		})
	}
	tk, _ := f.store.Ticket(context.Background(), "tkt_1")
	if tk.Subject != "Damaged jacket" || tk.Summary != "Arrived torn; refund agreed." || tk.Priority != "high" ||
		tk.Status != "solved" || tk.Customer.Phone != "+15550123" || !tk.UpdatedAt.After(tk.CreatedAt) {
		t.Fatalf("ticket after edits = %+v", tk)
	}

	// An imported call has no agent: only supervisors and admins edit it;
	// an agent does not even see it, and assigned to one it is still only
	// the call's agent who edits the wrap-up.
	deskTicket(t, f.store, "tkt_2", "")
	if st := f.do(t, erin, "PUT", "/api/v1/tickets/tkt_2", map[string]string{"status": "closed"}, nil); st != 404 {
		t.Fatalf("agent editing an agentless call's ticket: %d, want 404", st)
	}
	if st := f.do(t, sue, "PATCH", "/api/v1/tickets/tkt_2", map[string]string{"assignee": "erin"}, nil); st != 200 {
		t.Fatalf("supervisor assigning: %d", st)
	}
	if st := f.do(t, erin, "PUT", "/api/v1/tickets/tkt_2", map[string]string{"status": "closed"}, nil); st != 403 {
		t.Fatalf("agent editing an assigned agentless call's ticket: %d, want 403", st)
	}
	if st := f.do(t, sue, "PUT", "/api/v1/tickets/tkt_2", map[string]string{"status": "closed"}, nil); st != 200 {
		t.Fatalf("supervisor editing: %d", st)
	}

	// The caller card with the number's "+" percent-encoded, as browsers
	// send it.
	var hist struct{ Calls, Tickets []struct{ ID string } }
	if st := f.do(t, erin, "GET", "/api/v1/callers/%2B15550123/history", nil, &hist); st != 200 || len(hist.Calls) != 2 || len(hist.Tickets) != 2 {
		t.Fatalf("encoded caller history: %d %+v", st, hist)
	}

	var fields struct {
		Categories, Priorities, Statuses, Dispositions []string
	}
	if st := f.do(t, erin, "GET", "/api/v1/tickets/fields", nil, &fields); st != 200 ||
		!slices.Contains(fields.Categories, "complaint") || !slices.Contains(fields.Dispositions, "follow-up") || len(fields.Statuses) != 4 {
		t.Fatalf("fields: %d %+v", st, fields)
	}
}

// TestSupervisorsWatchEveryAgent: a supervisor's socket gets each agent's
// state and transcript events labelled with the agent; an agent's socket
// gets only their own.
func TestSupervisorsWatchEveryAgent(t *testing.T) {
	f := newAPI(t)
	for _, u := range []struct{ name, role string }{{"frank", "agent"}, {"sue", "supervisor"}} {
		if st := f.do(t, f.admin, "POST", "/api/v1/users", map[string]string{"username": u.name, "password": u.name + "-password", "role": u.role}, nil); st != 201 {
			t.Fatalf("create %s: %d", u.name, st)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dial := func(user string) *websocket.Conn {
		tok := f.login(t, user, user+"-password")
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"/api/v1/events?token="+tok, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		return ws
	}
	sup, frank := dial("sue"), dial("frank")
	// read returns the next event of type want (from agent, when set).
	read := func(ws *websocket.Conn, want, agent string) map[string]any {
		t.Helper()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", want, err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if m["type"] == want && (agent == "" || m["agent"] == agent) {
				return m
			}
		}
	}
	read(frank, "agent_state", "") // the first message is frank's own state
	// The hub registers a socket just after the upgrade; wait until both
	// are in before publishing.
	waitFor(t, func() bool {
		f.hub().mu.Lock()
		defer f.hub().mu.Unlock()
		return len(f.hub().watchers) == 1 && len(f.hub().conns["frank"]) == 1
	})
	f.hub().AgentState("erin", routing.Available)
	if m := read(sup, "agent_state", "erin"); m["state"] != "available" {
		t.Fatalf("supervisor got %v", m)
	}
	f.hub().Publish("erin", call.Event{Type: "transcript", CallID: "c1", Speaker: "caller", Text: "this is ridiculous"})
	f.hub().Publish("frank", call.Event{Type: "transcript", CallID: "c2", Speaker: "caller", Text: "thanks"})
	if m := read(sup, "transcript", ""); m["agent"] != "erin" || m["text"] != "this is ridiculous" || m["call_id"] != "c1" {
		t.Fatalf("supervisor got %v", m)
	}
	if m := read(frank, "transcript", ""); m["call_id"] != "c2" || m["agent"] != nil {
		t.Fatalf("frank got %v, want only his own transcript", m)
	}
}

func (f *apiFixture) hub() *Hub { return f.server.opts.Hub }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The calls whose category an agent corrected come out as training lines
// for the IVR's classifier: the corrected intent, then what the caller
// said before an agent spoke.
func TestMisroutesExport(t *testing.T) {
	f := newAPI(t)
	ctx := context.Background()
	says := func(id string, segs ...transcript.Segment) {
		t.Helper()
		if err := f.store.AddSegments(ctx, "call_"+id, segs); err != nil {
			t.Fatal(err)
		}
	}
	seg := func(who transcript.Speaker, start int64, text string) transcript.Segment {
		return transcript.Segment{Speaker: who, StartMS: start, EndMS: start + 900, Text: text}
	}
	// Corrected, with words in the IVR (a tab and a line break in them).
	deskTicket(t, f.store, "tkt_1", "")
	says("tkt_1", seg(transcript.System, 0, "how can I help you today?"), seg(transcript.Caller, 1000, "there's a charge\tI don't"),
		seg(transcript.Caller, 2000, "recognise\non my statement"), seg(transcript.Agent, 3000, "hello, billing"),
		seg(transcript.Caller, 4000, "hi, it's about the jacket too"))
	// Not corrected.
	deskTicket(t, f.store, "tkt_2", "")
	says("tkt_2", seg(transcript.Caller, 1000, "i want to send a jacket back"))
	// Corrected, but the caller said nothing before the agent (keypad).
	deskTicket(t, f.store, "tkt_3", "")
	says("tkt_3", seg(transcript.Agent, 1000, "hello"), seg(transcript.Caller, 2000, "my bill is wrong"))
	for _, id := range []string{"tkt_1", "tkt_3"} {
		if st := f.do(t, f.admin, "PUT", "/api/v1/tickets/"+id, map[string]string{"category": "billing"}, nil); st != 200 {
			t.Fatalf("correcting %s: %d", id, st)
		}
	}

	st, body := f.raw(t, f.admin, "GET", "/api/v1/ivr/misroutes.tsv", "")
	if st != 200 {
		t.Fatalf("export: %d %s", st, body)
	}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "# ") {
		t.Fatalf("export = %q, want a comment and one line", body)
	}
	if want := "billing\tthere's a charge I don't recognise on my statement"; lines[1] != want {
		t.Errorf("line = %q, want %q", lines[1], want)
	}
	if st, _ := f.raw(t, f.admin, "GET", "/api/v1/ivr/misroutes.tsv?since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), ""); st != 200 {
		t.Errorf("a later since: %d", st)
	} else if _, b := f.raw(t, f.admin, "GET", "/api/v1/ivr/misroutes.tsv?since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), ""); strings.Contains(b, "billing\t") {
		t.Errorf("a since after the calls still lists them: %q", b)
	}
	if st, body := f.raw(t, f.admin, "GET", "/api/v1/ivr/misroutes.tsv?since=yesterday", ""); st != 400 || !strings.Contains(body, "RFC 3339") {
		t.Errorf("bad since: %d %s", st, body)
	}
	agent := f.users(t, [2]string{"erin", "agent"})["erin"]
	if st, _ := f.raw(t, agent, "GET", "/api/v1/ivr/misroutes.tsv", ""); st != 403 {
		t.Errorf("an agent: %d, want 403", st)
	}
}
