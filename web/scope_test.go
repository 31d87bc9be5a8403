package web

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/sqlite"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// scopeFixture has two agents' calls, each with a recording, a transcript,
// a ticket and an evaluation.
func scopeFixture(t *testing.T) (*apiFixture, map[string]string) {
	t.Helper()
	dataDir := t.TempDir()
	f := newAPIWith(t, openSQLite(t), func(o *Options) { o.DataDir = dataDir })
	ctx := context.Background()
	toks := map[string]string{"admin": f.admin}
	for _, u := range []struct{ name, role string }{{"alice", "agent"}, {"bob", "agent"}, {"sue", "supervisor"}, {"quinn", "qa"}} {
		if _, err := CreateUser(ctx, f.store, f.router, "", u.name, u.name+"-password", u.role); err != nil {
			t.Fatal(err)
		}
		toks[u.name] = f.login(t, u.name, u.name+"-password")
	}
	now := time.Now()
	for _, x := range []struct{ id, agent, from string }{{"ca", "alice", "+15550111"}, {"cb", "bob", "+15550122"}} {
		rec := filepath.Join("recordings", x.id+".wav")
		if err := os.MkdirAll(filepath.Join(dataDir, "recordings"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dataDir, rec), []byte("RIFF-"+x.id), 0o644); err != nil {
			t.Fatal(err)
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(f.store.CreateCall(ctx, store.Call{ID: x.id, From: x.from, Agent: x.agent, StartedAt: now, AnsweredAt: now,
			EndedAt: now.Add(time.Minute), RecordingPath: rec}))
		must(f.store.AddSegments(ctx, x.id, []transcript.Segment{{Speaker: transcript.Caller, StartMS: 0, EndMS: 900, Text: "secret of " + x.id}}))
		must(f.store.CreateTicket(ctx, tickets.Ticket{ID: "t" + x.id, CallID: x.id, Subject: "ticket of " + x.id, Status: "open",
			Customer: tickets.Customer{Phone: x.from}, CreatedAt: now, UpdatedAt: now}))
		must(f.store.CreateEvaluation(ctx, qa.Evaluation{ID: "e" + x.id, CallID: x.id, Scorecard: "default", CreatedAt: now,
			Items: []qa.Item{{Key: "greeting", Passed: true, Score: 10, Max: 10}}, Score: 10, MaxScore: 10}))
	}
	return f, toks
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestAgentsSeeOnlyTheirOwn: an agent gets their own calls, transcripts,
// recordings, tickets and evaluations, and for someone else's exactly the
// answer an absent one gets (404, same message); the other roles see all.
func TestAgentsSeeOnlyTheirOwn(t *testing.T) {
	f, tok := scopeFixture(t)
	get := func(who, path string) (int, string) {
		t.Helper()
		return f.raw(t, tok[who], "GET", path, "")
	}
	// Each of alice's reads, bob's counterpart and an absent one.
	for _, tc := range []struct{ own, others, absent string }{
		{"/api/v1/calls/ca", "/api/v1/calls/cb", "/api/v1/calls/none"},
		{"/api/v1/calls/ca/recording", "/api/v1/calls/cb/recording", "/api/v1/calls/none/recording"},
		{"/api/v1/tickets/tca", "/api/v1/tickets/tcb", "/api/v1/tickets/none"},
		{"/api/v1/tickets/tca/notes", "/api/v1/tickets/tcb/notes", "/api/v1/tickets/none/notes"},
		{"/api/v1/tickets/tca/events", "/api/v1/tickets/tcb/events", "/api/v1/tickets/none/events"},
		{"/api/v1/tickets?call_id=ca", "/api/v1/tickets?call_id=cb", "/api/v1/tickets?call_id=none"},
		{"/api/v1/qa/evaluations/eca", "/api/v1/qa/evaluations/ecb", "/api/v1/qa/evaluations/none"},
		{"/api/v1/qa/evaluations/eca/reviews", "/api/v1/qa/evaluations/ecb/reviews", "/api/v1/qa/evaluations/none/reviews"},
		{"/api/v1/qa/evaluations?call_id=ca", "/api/v1/qa/evaluations?call_id=cb", "/api/v1/qa/evaluations?call_id=none"},
		{"/api/v1/callers/%2B15550111/history", "/api/v1/callers/%2B15550122/history", "/api/v1/callers/%2B15550199/history"},
	} {
		if st, body := get("alice", tc.own); st != 200 {
			t.Errorf("alice GET %s: %d %s", tc.own, st, body)
		}
		st, body := get("alice", tc.others)
		ast, abody := get("alice", tc.absent)
		if st != 404 || st != ast || body != abody {
			t.Errorf("alice GET %s: %d %q; absent %s: %d %q — want the same 404", tc.others, st, body, tc.absent, ast, abody)
		}
		for _, who := range []string{"bob", "sue", "quinn", "admin"} {
			if st, body := get(who, tc.others); st != 200 {
				t.Errorf("%s GET %s: %d %s", who, tc.others, st, body)
			}
		}
	}
	if _, body := get("alice", "/api/v1/calls/ca"); !strings.Contains(body, "secret of ca") {
		t.Errorf("alice's own call lacks its transcript: %s", body)
	}
	if _, body := get("alice", "/api/v1/calls/ca/recording"); body != "RIFF-ca" {
		t.Errorf("alice's recording: %q", body)
	}
	// Changes to someone else's are refused the same way.
	if st, _ := f.raw(t, tok["alice"], "PATCH", "/api/v1/tickets/tcb", `{"status":"solved"}`); st != 404 {
		t.Errorf("alice PATCH bob's ticket: %d, want 404", st)
	}
	if st, _ := f.raw(t, tok["alice"], "POST", "/api/v1/tickets/tcb/notes", `{"body":"hi"}`); st != 404 {
		t.Errorf("alice notes bob's ticket: %d, want 404", st)
	}
	if st, _ := f.raw(t, tok["alice"], "POST", "/api/v1/qa/evaluations/ecb/ack", `{"status":"acknowledged"}`); st != 404 {
		t.Errorf("alice acks bob's evaluation: %d, want 404", st)
	}

	// Lists hold only the agent's own.
	lists := []struct{ path, field string }{
		{"/api/v1/calls", "calls"}, {"/api/v1/tickets", "tickets"}, {"/api/v1/qa/evaluations", "evaluations"},
	}
	for _, l := range lists {
		for who, want := range map[string]int{"alice": 1, "bob": 1, "sue": 2, "quinn": 2, "admin": 2} {
			var out map[string]any
			st := f.do(t, tok[who], "GET", l.path, nil, &out)
			rows, _ := out[l.field].([]any)
			if st != 200 || len(rows) != want {
				t.Errorf("%s GET %s: %d, %d rows, want %d", who, l.path, st, len(rows), want)
			}
			if who == "alice" && len(rows) == 1 {
				if id, _ := rows[0].(map[string]any)["id"].(string); !strings.HasSuffix(id, "ca") {
					t.Errorf("alice's %s: %v", l.field, rows[0])
				}
			}
		}
	}
	_, body := get("alice", "/api/v1/tickets/export.csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][0] != "tca" {
		t.Errorf("alice's export: %q %v", rows, err)
	}

	// A call being offered to alice is hers to see, with its caller's
	// history, before she answers.
	ctx := context.Background()
	if err := f.store.CreateCall(ctx, store.Call{ID: "cc", From: "+15550122", StartedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f.router.SetAgent("alice", map[string]int{"billing": 5}, 1)
	if err := f.router.SetState("alice", routing.Available, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.router.Enqueue(routing.Contact{CallID: "cc", Queue: "billing", From: "+15550122"}); err != nil {
		t.Fatal(err)
	}
	if a, _ := f.router.Agent("alice"); a.Offering != "cc" {
		t.Fatalf("alice is offered %q", a.Offering)
	}
	for _, p := range []string{"/api/v1/calls/cc", "/api/v1/callers/%2B15550122/history"} {
		if st, body := get("alice", p); st != 200 {
			t.Errorf("alice, offered cc, GET %s: %d %s", p, st, body)
		}
	}
	if st, _ := get("bob", "/api/v1/calls/cc"); st != 404 {
		t.Errorf("bob GET the call offered to alice: %d, want 404", st)
	}
}
