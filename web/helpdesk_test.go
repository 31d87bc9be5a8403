package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/sqlite"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/tickets/webhook"
)

// hookSink is a webhook endpoint that fails while down and records what
// it accepted, signature checked.
type hookSink struct {
	mu       sync.Mutex
	down     bool
	accepted []webhook.Payload
	badSig   int
}

const sinkSecret = "0123456789abcdef-sink"

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Header.Get("X-Contactd-Signature") != webhook.Signature(sinkSecret, b) {
		h.badSig++
	}
	if h.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var p webhook.Payload
	_ = json.Unmarshal(b, &p)
	h.accepted = append(h.accepted, p)
}

func (h *hookSink) types() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, p := range h.accepted {
		out = append(out, p.Type+":"+p.Ticket.ID)
	}
	return out
}

// helpdeskStore opens the store the helpdesk tests run on: Postgres when
// CONTACTD_TEST_DATABASE_URL is set (a fresh schema), else SQLite.
func helpdeskStore(t *testing.T) store.Store {
	t.Helper()
	if os.Getenv("CONTACTD_TEST_DATABASE_URL") != "" {
		return openPostgres(t) // a fresh database
	}
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestSLABreachWatcher runs the watcher as the server does: a ticket whose
// first response falls due while nobody looks at it is flagged, escalated
// and announced on its own, to a supervisor's WebSocket, the webhook, the
// audit log and the ticket's own trail. Once only.
func TestSLABreachWatcher(t *testing.T) {
	raw := helpdeskStore(t)
	sink := &hookSink{}
	hs := httptest.NewServer(sink)
	defer hs.Close()
	d, err := webhook.New([]webhook.Endpoint{{URL: hs.URL, Secret: sinkSecret}}, webhook.Options{Backoff: 10 * time.Millisecond, Store: raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go d.Run(ctx)
	defer d.Close()
	st := webhook.Wrap(raw, d)
	f := newAPIWith(t, st, func(o *Options) { o.Webhooks = d })
	if st := f.do(t, f.admin, "POST", "/api/v1/users", map[string]string{"username": "sue", "password": "sue-password", "role": "supervisor"}, nil); st != 201 {
		t.Fatalf("create sue: %d", st)
	}
	sue := f.login(t, "sue", "sue-password")
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"/api/v1/events?token="+sue, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	waitFor(t, func() bool { f.hub().mu.Lock(); defer f.hub().mu.Unlock(); return len(f.hub().watchers) == 1 })

	// A normal-priority ticket whose first response is due in a moment.
	now := time.Now()
	tk := tickets.Ticket{ID: "tkt_sla", CallID: "c-sla", Category: "billing", Priority: tickets.PriorityNormal, Status: tickets.StatusNew,
		Subject: "Charged twice", Entities: map[string]string{}, Tags: []string{"billing"}, CreatedAt: now, UpdatedAt: now,
		FirstResponseDue: now.Add(300 * time.Millisecond), ResolutionDue: now.Add(time.Hour)}
	if err := st.CreateTicket(tickets.WithActor(ctx, tickets.ActorSystem), tk); err != nil {
		t.Fatal(err)
	}
	w := &tickets.Watcher{Store: st, Every: 50 * time.Millisecond, Log: slog.New(slog.DiscardHandler),
		Notify: []tickets.BreachNotifier{f.hub(), BreachAudit(st, nil), d}}
	wctx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); w.Run(wctx) }()
	defer func() { stopWatch(); <-watchDone }()

	var ev map[string]any
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for sla_breach: %v", err)
		}
		if err := json.Unmarshal(b, &ev); err == nil && ev["type"] == "sla_breach" {
			break
		}
	}
	if ev["ticket_id"] != "tkt_sla" || ev["target"] != "first_response" || ev["priority"] != "high" || ev["subject"] != "Charged twice" {
		t.Errorf("event %v", ev)
	}
	waitFor(t, func() bool {
		ts := sink.types()
		return slices.Contains(ts, "ticket.sla_breached:tkt_sla") && slices.Contains(ts, "ticket.updated:tkt_sla")
	})

	var got tickets.Ticket
	if st := f.do(t, sue, "GET", "/api/v1/tickets/tkt_sla", nil, &got); st != 200 {
		t.Fatalf("ticket: %d", st)
	}
	if got.Priority != tickets.PriorityHigh || !slices.Contains(got.Tags, tickets.TagSLABreached) || !got.Breached ||
		got.FirstResponseBreachedAt.IsZero() || !got.ResolutionBreachedAt.IsZero() {
		t.Errorf("escalated ticket %+v", got)
	}
	var evs struct{ Events []tickets.Event }
	f.do(t, sue, "GET", "/api/v1/tickets/tkt_sla/events", nil, &evs)
	var fields []string
	for _, e := range evs.Events {
		fields = append(fields, e.Actor+" "+e.Field+" "+e.New)
	}
	for _, want := range []string{"system sla first_response_breached", "system priority high"} {
		if !slices.Contains(fields, want) {
			t.Errorf("audit trail %q lacks %q", fields, want)
		}
	}
	var audit struct{ Entries []store.AuditEntry }
	f.do(t, f.admin, "GET", "/api/v1/audit?action=ticket.sla_breach", nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Target != "ticket:tkt_sla" || audit.Entries[0].Actor != "system" {
		t.Errorf("audit log %+v", audit.Entries)
	}
	// Later passes find nothing more to flag.
	time.Sleep(200 * time.Millisecond)
	if n, err := w.Check(ctx); n != 0 || err != nil {
		t.Errorf("second check flagged %d (%v)", n, err)
	}
	if n := strings.Count(strings.Join(sink.types(), " "), "ticket.sla_breached"); n != 1 {
		t.Errorf("%d breach webhooks, want 1", n)
	}
}

// TestWebhookDeadLettersAPI: a delivery given up on is kept in the store;
// an admin lists and replays it once the endpoint is back; the replay is
// audited and cannot be repeated; others may not see the list.
func TestWebhookDeadLettersAPI(t *testing.T) {
	raw := helpdeskStore(t)
	sink := &hookSink{down: true}
	hs := httptest.NewServer(sink)
	defer hs.Close()
	d, err := webhook.New([]webhook.Endpoint{{URL: hs.URL, Secret: sinkSecret, Events: []string{webhook.TicketCreated}}},
		webhook.Options{MaxAttempts: 2, Backoff: 5 * time.Millisecond, Store: raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go d.Run(ctx)
	defer d.Close()
	f := newAPIWith(t, webhook.Wrap(raw, d), func(o *Options) { o.Webhooks = d })

	var res call.Result
	if st := f.do(t, f.admin, "POST", "/api/v1/calls/import", map[string]any{"caller_number": "+15550199",
		"transcript": []map[string]any{{"speaker": "caller", "start_ms": 0, "end_ms": 2000, "text": "i was charged twice on my bill"}}}, &res); st != 201 {
		t.Fatalf("import: %d", st)
	}
	type list struct {
		DeadLetters []store.DeadLetter `json:"dead_letters"`
	}
	var l list
	waitFor(t, func() bool {
		f.do(t, f.admin, "GET", "/api/v1/webhooks/dead-letters?pending=true", nil, &l)
		return len(l.DeadLetters) == 1
	})
	dl := l.DeadLetters[0]
	if dl.TicketID != res.TicketID || dl.EventType != webhook.TicketCreated || dl.Attempts != 2 || dl.URL != hs.URL {
		t.Errorf("dead letter %+v", dl)
	}
	if st := f.do(t, f.login(t, "admin", "admin-password"), "GET", "/api/v1/webhooks/dead-letters?pending=maybe", nil, nil); st != 400 {
		t.Errorf("bad pending: %d", st)
	}
	if _, err := CreateUser(ctx, f.store, f.router, "contactd", "sue", "sue-password", store.RoleSupervisor); err != nil {
		t.Fatal(err)
	}
	sue := f.login(t, "sue", "sue-password")
	if st := f.do(t, sue, "GET", "/api/v1/webhooks/dead-letters", nil, nil); st != 403 {
		t.Errorf("supervisor listed dead letters: %d", st)
	}

	sink.mu.Lock()
	sink.down = false
	sink.mu.Unlock()
	path := "/api/v1/webhooks/dead-letters/" + jsonNumber(dl.ID) + "/replay"
	var replayed store.DeadLetter
	if st := f.do(t, f.admin, "POST", path, nil, &replayed); st != 202 || replayed.ReplayedBy != "admin" || replayed.ReplayedAt.IsZero() {
		t.Fatalf("replay: %d %+v", st, replayed)
	}
	waitFor(t, func() bool { return slices.Contains(sink.types(), "ticket.created:"+res.TicketID) })
	if sink.badSig != 0 {
		t.Errorf("%d bad signatures", sink.badSig)
	}
	if st := f.do(t, f.admin, "POST", path, nil, nil); st != 409 {
		t.Errorf("second replay: %d, want 409", st)
	}
	if st := f.do(t, f.admin, "POST", "/api/v1/webhooks/dead-letters/99999/replay", nil, nil); st != 404 {
		t.Errorf("replay absent: %d", st)
	}
	if st := f.do(t, f.admin, "POST", "/api/v1/webhooks/dead-letters/x/replay", nil, nil); st != 400 {
		t.Errorf("replay bad id: %d", st)
	}
	f.do(t, f.admin, "GET", "/api/v1/webhooks/dead-letters?pending=true", nil, &l)
	if len(l.DeadLetters) != 0 {
		t.Errorf("pending after replay: %+v", l.DeadLetters)
	}
	var audit struct{ Entries []store.AuditEntry }
	f.do(t, f.admin, "GET", "/api/v1/audit?action=webhook.replay", nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Actor != "admin" {
		t.Errorf("audit %+v", audit.Entries)
	}
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestTeams: agents and supervisors in teams; the QA queue and report
// filter by team, and a supervisor in a team sees only that team's
// evaluations (others' answer 404) and report.
func TestTeams(t *testing.T) {
	f := newAPIWith(t, helpdeskStore(t), nil)
	for _, u := range []map[string]string{
		{"username": "alice", "password": "alice-password", "role": "agent", "team": "north"},
		{"username": "bob", "password": "bob-password", "role": "agent", "team": "south"},
		{"username": "sue", "password": "sue-password", "role": "supervisor", "team": "north"},
		{"username": "quinn", "password": "quinn-password", "role": "qa"},
	} {
		if st := f.do(t, f.admin, "POST", "/api/v1/users", u, nil); st != 201 {
			t.Fatalf("create %s: %d", u["username"], st)
		}
	}
	if st := f.do(t, f.admin, "POST", "/api/v1/users", map[string]string{"username": "x1", "password": "x1-password", "role": "agent", "team": "North Side"}, nil); st != 400 {
		t.Errorf("bad team name: %d", st)
	}
	if st := f.do(t, f.admin, "PUT", "/api/v1/users/bob/team", map[string]string{"team": "east"}, nil); st != 200 {
		t.Errorf("move bob: %d", st)
	}
	if st := f.do(t, f.admin, "PUT", "/api/v1/users/nobody/team", map[string]string{"team": "east"}, nil); st != 404 {
		t.Errorf("move nobody: %d", st)
	}
	sue, quinn := f.login(t, "sue", "sue-password"), f.login(t, "quinn", "quinn-password")
	if st := f.do(t, sue, "PUT", "/api/v1/users/bob/team", map[string]string{"team": "north"}, nil); st != 403 {
		t.Errorf("supervisor moved an agent: %d", st)
	}
	var teams struct{ Teams []teamJSON }
	f.do(t, quinn, "GET", "/api/v1/teams", nil, &teams)
	if len(teams.Teams) != 2 || teams.Teams[0].Name != "east" || teams.Teams[1].Name != "north" ||
		!slices.Equal(teams.Teams[1].Agents, []string{"alice"}) || !slices.Equal(teams.Teams[1].Supervisors, []string{"sue"}) {
		t.Errorf("teams %+v", teams.Teams)
	}
	f.do(t, sue, "GET", "/api/v1/teams", nil, &teams)
	if len(teams.Teams) != 1 || teams.Teams[0].Name != "north" {
		t.Errorf("sue's teams %+v", teams.Teams)
	}

	imp := func(agent, text string) call.Result {
		var res call.Result
		if st := f.do(t, quinn, "POST", "/api/v1/calls/import", map[string]any{"caller_number": "+1555" + agent, "agent": agent,
			"transcript": []map[string]any{
				{"speaker": "agent", "start_ms": 0, "end_ms": 2000, "text": "hello my name is " + agent + " how can i help"},
				{"speaker": "caller", "start_ms": 2500, "end_ms": 5000, "text": text}}}, &res); st != 201 {
			t.Fatalf("import for %s: %d", agent, st)
		}
		return res
	}
	north, east := imp("alice", "where is my order"), imp("bob", "my internet is down")
	if st := f.do(t, quinn, "POST", "/api/v1/calls/import", map[string]any{"agent": "quinn",
		"transcript": []map[string]any{{"speaker": "caller", "start_ms": 0, "end_ms": 1, "text": "hi"}}}, nil); st != 400 {
		t.Errorf("import naming a non-agent: %d", st)
	}
	type queue struct {
		Evaluations []store.EvaluationSummary `json:"evaluations"`
	}
	ids := func(tok, query string) []string {
		t.Helper()
		var q queue
		if st := f.do(t, tok, "GET", "/api/v1/qa/evaluations"+query, nil, &q); st != 200 {
			t.Fatalf("queue %s: %d", query, st)
		}
		var out []string
		for _, e := range q.Evaluations {
			out = append(out, e.ID+"/"+e.Team)
		}
		slices.Sort(out)
		return out
	}
	all := []string{east.EvaluationID + "/east", north.EvaluationID + "/north"}
	slices.Sort(all)
	if got := ids(quinn, ""); !slices.Equal(got, all) {
		t.Errorf("qa's queue %v, want %v", got, all)
	}
	if got := ids(quinn, "?team=east"); !slices.Equal(got, []string{east.EvaluationID + "/east"}) {
		t.Errorf("east's queue %v", got)
	}
	if got := ids(sue, ""); !slices.Equal(got, []string{north.EvaluationID + "/north"}) {
		t.Errorf("sue's queue %v", got)
	}
	if st := f.do(t, sue, "GET", "/api/v1/qa/evaluations?team=east", nil, nil); st != 403 {
		t.Errorf("sue asked for east: %d", st)
	}
	if st := f.do(t, sue, "GET", "/api/v1/qa/evaluations/"+east.EvaluationID, nil, nil); st != 404 {
		t.Errorf("sue read east's evaluation: %d", st)
	}
	if st := f.do(t, sue, "POST", "/api/v1/qa/evaluations/"+east.EvaluationID+"/overrides",
		map[string]any{"item": "greeting", "passed": false, "comment": "x"}, nil); st != 404 {
		t.Errorf("sue overrode east's evaluation: %d", st)
	}
	if st := f.do(t, sue, "GET", "/api/v1/qa/evaluations?call_id="+east.CallID, nil, nil); st != 404 {
		t.Errorf("sue listed east's call: %d", st)
	}
	var ev qa.Evaluation
	if st := f.do(t, sue, "GET", "/api/v1/qa/evaluations/"+north.EvaluationID, nil, &ev); st != 200 || ev.ID != north.EvaluationID {
		t.Errorf("sue read north's evaluation: %d", st)
	}

	var rep store.QAReport
	f.do(t, quinn, "GET", "/api/v1/qa/reports", nil, &rep)
	if len(rep.ScoreByTeamWeek) != 2 || rep.Evaluations != 2 || rep.Team != "" {
		t.Errorf("whole report %+v", rep)
	}
	f.do(t, sue, "GET", "/api/v1/qa/reports", nil, &rep)
	if rep.Team != "north" || rep.Evaluations != 1 || len(rep.ScoreByAgentWeek) != 1 || rep.ScoreByAgentWeek[0].Agent != "alice" {
		t.Errorf("sue's report %+v", rep)
	}
	code, csv := f.raw(t, quinn, "GET", "/api/v1/qa/reports?format=csv&table=team_week", "")
	if code != 200 || !strings.HasPrefix(csv, "team,week,evaluations,avg_pct\n") || !strings.Contains(csv, "\neast,") || !strings.Contains(csv, "\nnorth,") {
		t.Errorf("team csv %d %q", code, csv)
	}
}
