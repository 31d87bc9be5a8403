// Package storetest is the conformance suite every store.Store
// implementation must pass. Implementations call Run from their own tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// Opener returns a Store for the test t. The first call for a given t must
// return a store on a fresh, empty database; later calls with the same t
// must reopen that same database (the suite closes the previous Store first).
// The opener closes whatever it returned when t ends; Close must therefore
// tolerate being called twice.
type Opener func(t *testing.T) store.Store

// Run runs the conformance suite as subtests of t. raw reaches the same
// database as open, bypassing the Store (see RawSQL).
func Run(t *testing.T, open Opener, raw RawSQL) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"Agents", testAgents},
		{"AgentStateLog", testAgentStateLog},
		{"Queues", testQueues},
		{"Callbacks", testCallbacks},
		{"Calls", testCalls},
		{"ListCalls", testListCalls},
		{"CallerHistory", testCallerHistory},
		{"IVRStats", testIVRStats},
		{"Segments", testSegments},
		{"ConcurrentSegments", testConcurrentSegments},
		{"Tickets", testTickets},
		{"TicketFields", testTicketFields},
		{"Helpdesk", testHelpdesk},
		{"TicketAudit", testTicketAudit},
		{"Evaluations", testEvaluations},
		{"QAReviews", testQAReviews},
		{"Reopen", testReopen},
		{"CancelledContext", testCancelledContext},
		{"SessionIdle", testSessionIdle},
		{"APITokens", testAPITokens},
		{"CallsOf", testCallsOf},
		{"TicketsOf", testTicketsOf},
		{"Audit", func(t *testing.T, open Opener) { testAudit(t, open, raw) }},
		{"Retention", testRetention},
		{"Erasure", testErasure},
		{"CallsSince", testCallsSince},
		{"SLABreaches", testSLABreaches},
		{"DeadLetters", testDeadLetters},
		{"Teams", testTeams},
		{"SegmentWords", testSegmentWords},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// ms is t as a store returns it: millisecond precision, UTC.
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// base is a fixed instant with sub-millisecond digits that must be dropped.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("X", 3600))

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

func equal(t *testing.T, got, want any, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}

func testUsers(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	n, err := s.CountUsers(c)
	must(t, err, "CountUsers on empty store")
	equal(t, n, 0, "CountUsers on empty store")

	users := []store.User{
		{ID: "u2", Username: "bob", PasswordHash: "$2a$10$hash-b", Role: store.RoleAgent, CreatedAt: base, SIPHA1MD5: "0123abcd", SIPHA1SHA256: "4567ef01"},
		{ID: "u1", Username: "alice", PasswordHash: "$2a$10$hash-a", Role: store.RoleAdmin, CreatedAt: base.Add(time.Second)},
		{ID: "u3", Username: "carol", Role: store.RoleQA}, // zero CreatedAt
	}
	for _, u := range users {
		must(t, s.CreateUser(c, u), "CreateUser "+u.Username)
	}
	for _, u := range users {
		want := u
		want.CreatedAt = ms(u.CreatedAt)
		got, err := s.UserByName(c, u.Username)
		must(t, err, "UserByName")
		equal(t, got, want, "UserByName "+u.Username)
		got, err = s.UserByID(c, u.ID)
		must(t, err, "UserByID")
		equal(t, got, want, "UserByID "+u.ID)
	}

	for _, tc := range []struct {
		name string
		u    store.User
	}{
		{"taken username", store.User{ID: "u9", Username: "alice"}},
		{"taken id", store.User{ID: "u1", Username: "zed"}},
	} {
		wantErr(t, s.CreateUser(c, tc.u), store.ErrConflict, "CreateUser "+tc.name)
	}
	if err := s.CreateUser(c, store.User{ID: "u8"}); err == nil || errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateUser with empty username: err = %v, want a validation error", err)
	}

	_, err = s.UserByName(c, "nobody")
	wantErr(t, err, store.ErrNotFound, "UserByName absent")
	_, err = s.UserByID(c, "nope")
	wantErr(t, err, store.ErrNotFound, "UserByID absent")

	// An empty ID is filled in.
	must(t, s.CreateUser(c, store.User{Username: "dave", Role: store.RoleSupervisor}), "CreateUser without ID")
	d, err := s.UserByName(c, "dave")
	must(t, err, "UserByName dave")
	if d.ID == "" {
		t.Error("CreateUser without ID stored an empty ID")
	}

	list, err := s.ListUsers(c)
	must(t, err, "ListUsers")
	var names []string
	for _, u := range list {
		names = append(names, u.Username)
	}
	equal(t, names, []string{"alice", "bob", "carol", "dave"}, "ListUsers order")
	n, err = s.CountUsers(c)
	must(t, err, "CountUsers")
	equal(t, n, 4, "CountUsers")
}

func testSessions(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	must(t, s.CreateUser(c, store.User{ID: "u1", Username: "alice"}), "CreateUser")
	now := time.Now()
	sessions := []store.Session{
		{TokenHash: "live", UserID: "u1", ExpiresAt: now.Add(time.Hour), CreatedAt: now},
		{TokenHash: "expired", UserID: "u1", ExpiresAt: now.Add(-time.Second), CreatedAt: now.Add(-time.Hour)},
		{TokenHash: "forever", UserID: "u1"}, // zero ExpiresAt never expires
	}
	for _, x := range sessions {
		must(t, s.CreateSession(c, x), "CreateSession "+x.TokenHash)
	}
	for _, tc := range []struct {
		hash  string
		found bool
	}{{"live", true}, {"forever", true}, {"expired", false}, {"absent", false}} {
		got, err := s.SessionByTokenHash(c, tc.hash)
		if !tc.found {
			wantErr(t, err, store.ErrNotFound, "SessionByTokenHash "+tc.hash)
			continue
		}
		must(t, err, "SessionByTokenHash "+tc.hash)
		for _, x := range sessions {
			if x.TokenHash == tc.hash {
				x.ExpiresAt, x.CreatedAt = ms(x.ExpiresAt), ms(x.CreatedAt)
				equal(t, got, x, "SessionByTokenHash "+tc.hash)
			}
		}
	}
	wantErr(t, s.CreateSession(c, store.Session{TokenHash: "live", UserID: "u1", ExpiresAt: now.Add(time.Hour)}),
		store.ErrConflict, "CreateSession duplicate hash")
	wantErr(t, s.CreateSession(c, store.Session{TokenHash: "orphan", UserID: "ghost", ExpiresAt: now.Add(time.Hour)}),
		store.ErrNotFound, "CreateSession for unknown user")

	must(t, s.DeleteSession(c, "live"), "DeleteSession")
	_, err := s.SessionByTokenHash(c, "live")
	wantErr(t, err, store.ErrNotFound, "SessionByTokenHash after delete")
	must(t, s.DeleteSession(c, "live"), "DeleteSession twice")
}

func testAgents(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	agents := []store.Agent{
		{Username: "zoe", Skills: map[string]int{"billing": 7, "tech": 3}, MaxCalls: 2, State: "available", StateSince: base},
		{Username: "adam", Skills: map[string]int{}, MaxCalls: 1, State: "offline"}, // empty, not nil
		{Username: "mia", Skills: nil, State: "away", StateSince: base.Add(time.Minute)},
	}
	for _, a := range agents {
		must(t, s.UpsertAgent(c, a), "UpsertAgent "+a.Username)
	}
	for _, a := range agents {
		got, err := s.Agent(c, a.Username)
		must(t, err, "Agent")
		a.StateSince = ms(a.StateSince)
		equal(t, got, a, "Agent "+a.Username)
	}
	got, err := s.Agent(c, "adam")
	must(t, err, "Agent adam")
	if got.Skills == nil {
		t.Error("empty skills map came back nil")
	}
	got, err = s.Agent(c, "mia")
	must(t, err, "Agent mia")
	if got.Skills != nil {
		t.Errorf("nil skills map came back as %#v", got.Skills)
	}

	upd := store.Agent{Username: "zoe", Skills: map[string]int{"sales": 10}, MaxCalls: 4, State: "busy", StateSince: base.Add(time.Hour)}
	must(t, s.UpsertAgent(c, upd), "UpsertAgent update")
	got, err = s.Agent(c, "zoe")
	must(t, err, "Agent zoe")
	upd.StateSince = ms(upd.StateSince)
	equal(t, got, upd, "Agent after update")

	list, err := s.ListAgents(c)
	must(t, err, "ListAgents")
	var names []string
	for _, a := range list {
		names = append(names, a.Username)
	}
	equal(t, names, []string{"adam", "mia", "zoe"}, "ListAgents order")

	_, err = s.Agent(c, "nobody")
	wantErr(t, err, store.ErrNotFound, "Agent absent")
}

func testAgentStateLog(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	var all []store.AgentStateChange
	for i := range 5 {
		ch := store.AgentStateChange{Username: "zoe", State: fmt.Sprint("s", i), Reason: fmt.Sprint("r", i), At: base.Add(time.Duration(i) * time.Second)}
		all = append(all, ch)
	}
	// Insert out of time order; read back by time.
	for _, i := range []int{2, 0, 4, 1, 3} {
		must(t, s.LogAgentState(c, all[i]), "LogAgentState")
	}
	must(t, s.LogAgentState(c, store.AgentStateChange{Username: "other", State: "x", At: base.Add(time.Hour)}), "LogAgentState other")

	got, err := s.AgentStateLog(c, "zoe", 3)
	must(t, err, "AgentStateLog")
	var want []store.AgentStateChange
	for _, i := range []int{4, 3, 2} {
		w := all[i]
		w.At = ms(w.At)
		want = append(want, w)
	}
	equal(t, got, want, "AgentStateLog newest first, limit 3")

	got, err = s.AgentStateLog(c, "zoe", 0)
	must(t, err, "AgentStateLog no limit")
	equal(t, len(got), 5, "AgentStateLog limit 0 returns all (under the default cap)")

	got, err = s.AgentStateLog(c, "nobody", 10)
	must(t, err, "AgentStateLog absent")
	equal(t, len(got), 0, "AgentStateLog of unknown agent")
}

func testQueues(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	for _, q := range []store.Queue{{Name: "support", Skill: "tech"}, {Name: "billing", Skill: "billing"}, {Name: "support", Skill: "general"}} {
		must(t, s.UpsertQueue(c, q), "UpsertQueue "+q.Name)
	}
	got, err := s.ListQueues(c)
	must(t, err, "ListQueues")
	equal(t, got, []store.Queue{{Name: "billing", Skill: "billing"}, {Name: "support", Skill: "general"}}, "ListQueues")
}

func testCalls(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	call := store.Call{ID: "c1", From: "sip:+15551234@example.com", To: "sip:support@example.com", StartedAt: base}
	must(t, s.CreateCall(c, call), "CreateCall")
	got, err := s.Call(c, "c1")
	must(t, err, "Call")
	want := call
	want.StartedAt = ms(call.StartedAt)
	equal(t, got, want, "Call after create (zero times stay zero)")

	call.AnsweredAt = base.Add(20 * time.Second)
	call.EndedAt = base.Add(5 * time.Minute)
	call.Intent, call.Queue, call.Agent = "billing", "billing", "zoe"
	call.RecordingPath, call.Disposition = "recordings/c1.wav", "caller hung up"
	call.Quality = map[string]store.MediaQuality{
		"caller": {Codec: "PCMU", PacketsIn: 15000, PacketsLost: 150, LossPct: 1, JitterMS: 12.5, RTTMS: 40, MOS: 4.1},
		"agent":  {Codec: "opus", PacketsIn: 14900, MOS: 4.4},
	}
	call.RecordingPauses = []store.RecordingPause{{StartMS: 61000, EndMS: 93500, By: "zoe", ResumedBy: "sue"}, {StartMS: 200000, EndMS: 210000, By: "zoe"}}
	must(t, s.UpdateCall(c, call), "UpdateCall")
	got, err = s.Call(c, "c1")
	must(t, err, "Call")
	want = call
	want.StartedAt, want.AnsweredAt, want.EndedAt = ms(call.StartedAt), ms(call.AnsweredAt), ms(call.EndedAt)
	equal(t, got, want, "Call after update")

	wantErr(t, s.CreateCall(c, store.Call{ID: "c1"}), store.ErrConflict, "CreateCall duplicate")
	wantErr(t, s.UpdateCall(c, store.Call{ID: "nope"}), store.ErrNotFound, "UpdateCall absent")
	_, err = s.Call(c, "nope")
	wantErr(t, err, store.ErrNotFound, "Call absent")
}

func testIVRStats(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	for i, o := range []string{store.IVRContained, store.IVRTransferred, store.IVRTransferred, ""} {
		id := fmt.Sprintf("iv%d", i)
		must(t, s.CreateCall(c, store.Call{ID: id, StartedAt: base.Add(time.Duration(i) * time.Minute), IVROutcome: o}), "CreateCall")
		must(t, s.AddIVRVisits(c, []store.IVRVisit{
			{CallID: id, Flow: "main", Node: "greet", Kind: "prompt", EnteredAt: base, LeftAt: base.Add(time.Second), ExitTo: "ask"},
			{CallID: id, Flow: "main", Node: "ask", Kind: "ask", EnteredAt: base.Add(time.Second), ExitTo: map[bool]string{true: "(transfer)", false: "faq"}[i > 0]},
		}), "AddIVRVisits")
	}
	must(t, s.CreateTicket(c, tickets.Ticket{ID: "tm", CallID: "iv1", Tags: []string{"billing", "misroute:billing->returns"}, CreatedAt: base}), "CreateTicket")
	must(t, s.CreateTicket(c, tickets.Ticket{ID: "tn", CallID: "iv2", Tags: []string{"billing"}, CreatedAt: base}), "CreateTicket")
	st, err := s.IVRStats(c, base.Add(-time.Hour))
	must(t, err, "IVRStats")
	if st.Calls != 4 || st.Outcomes[store.IVRContained] != 1 || st.Outcomes[store.IVRTransferred] != 2 || st.Misroutes != 1 {
		t.Fatalf("IVRStats = %+v", st)
	}
	if len(st.Nodes) != 2 {
		t.Fatalf("nodes = %+v", st.Nodes)
	}
	for _, n := range st.Nodes {
		switch n.Node {
		case "greet":
			if n.Reached != 4 || n.Exits["ask"] != 4 {
				t.Fatalf("greet = %+v", n)
			}
		case "ask":
			if n.Reached != 4 || n.Exits["(transfer)"] != 3 || n.Exits["faq"] != 1 {
				t.Fatalf("ask = %+v", n)
			}
		}
	}
	later, err := s.IVRStats(c, base.Add(time.Hour))
	must(t, err, "IVRStats later")
	if later.Calls != 0 || len(later.Nodes) != 0 {
		t.Fatalf("IVRStats after everything = %+v", later)
	}

	must(t, s.CreateTicket(c, tickets.Ticket{ID: "to", CallID: "iv3", Tags: []string{"misroute:sales->cancel"}, CreatedAt: base}), "CreateTicket")
	must(t, s.AddSegments(c, "iv1", []transcript.Segment{
		{Speaker: transcript.System, StartMS: 0, EndMS: 900, Text: "how can i help?"},
		{Speaker: transcript.Caller, StartMS: 1000, EndMS: 1900, Text: "there's a charge\ti don't"},
		{Speaker: transcript.Caller, StartMS: 2000, EndMS: 2900, Text: "recognise"},
		{Speaker: transcript.Agent, StartMS: 3000, EndMS: 3900, Text: "billing, hello"},
		{Speaker: transcript.Caller, StartMS: 4000, EndMS: 4900, Text: "hi"},
	}), "AddSegments")
	must(t, s.AddSegments(c, "iv2", []transcript.Segment{{Speaker: transcript.Caller, StartMS: 0, EndMS: 900, Text: "not misrouted"}}), "AddSegments")
	ms, err := s.Misroutes(c, base.Add(-time.Hour), 10)
	must(t, err, "Misroutes")
	want := []store.Misroute{
		{CallID: "iv1", TicketID: "tm", From: "billing", To: "returns", StartedAt: base.Add(time.Minute), Said: "there's a charge i don't recognise"},
		{CallID: "iv3", TicketID: "to", From: "sales", To: "cancel", StartedAt: base.Add(3 * time.Minute)},
	}
	if len(ms) != len(want) {
		t.Fatalf("Misroutes = %+v, want %+v", ms, want)
	}
	for i := range want {
		if ms[i].CallID != want[i].CallID || ms[i].TicketID != want[i].TicketID || ms[i].From != want[i].From ||
			ms[i].To != want[i].To || ms[i].Said != want[i].Said || ms[i].StartedAt.Sub(want[i].StartedAt).Abs() >= time.Millisecond {
			t.Errorf("Misroutes[%d] = %+v, want %+v", i, ms[i], want[i])
		}
	}
	if one, err := s.Misroutes(c, base.Add(-time.Hour), 1); err != nil || len(one) != 1 || one[0].CallID != "iv1" {
		t.Errorf("Misroutes limit 1 = %+v, %v", one, err)
	}
	if none, err := s.Misroutes(c, base.Add(2*time.Minute), 10); err != nil || len(none) != 1 || none[0].CallID != "iv3" {
		t.Errorf("Misroutes since after iv1 = %+v, %v", none, err)
	}
}

func testCallerHistory(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	for i, id := range []string{"h1", "h2", "h3"} {
		must(t, s.CreateCall(c, store.Call{ID: id, From: "+15550100", Agent: "zoe", StartedAt: base.Add(time.Duration(i) * time.Hour)}), "CreateCall")
		must(t, s.CreateTicket(c, tickets.Ticket{ID: "t-" + id, CallID: id, Category: "billing", CreatedAt: base}), "CreateTicket")
	}
	must(t, s.CreateCall(c, store.Call{ID: "other", From: "+15550999", StartedAt: base.Add(9 * time.Hour)}), "CreateCall other")
	cs, err := s.CallsByCaller(c, "+15550100", 2)
	must(t, err, "CallsByCaller")
	if len(cs) != 2 || cs[0].ID != "h3" || cs[1].ID != "h2" {
		t.Fatalf("CallsByCaller = %+v, want h3, h2", cs)
	}
	ts, err := s.TicketsByCaller(c, "+15550100", 10)
	must(t, err, "TicketsByCaller")
	if len(ts) != 3 || ts[0].ID != "t-h3" || ts[2].ID != "t-h1" {
		t.Fatalf("TicketsByCaller = %+v", ts)
	}
	none, err := s.CallsByCaller(c, "+10000000000", 5)
	must(t, err, "CallsByCaller unknown")
	if len(none) != 0 {
		t.Fatalf("unknown caller has calls: %+v", none)
	}
}

func testListCalls(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	// IDs in an order unrelated to start times; one call has no start time.
	starts := map[string]time.Duration{"a": 3, "b": 1, "c": 5, "d": 2, "e": 4}
	for id, d := range starts {
		must(t, s.CreateCall(c, store.Call{ID: id, StartedAt: base.Add(d * time.Minute)}), "CreateCall "+id)
	}
	must(t, s.CreateCall(c, store.Call{ID: "z-unstarted"}), "CreateCall unstarted")

	for _, tc := range []struct {
		limit int
		want  []string
	}{
		{3, []string{"c", "e", "a"}},
		{10, []string{"c", "e", "a", "d", "b", "z-unstarted"}},
		{0, []string{"c", "e", "a", "d", "b", "z-unstarted"}},
	} {
		got, err := s.ListCalls(c, tc.limit)
		must(t, err, "ListCalls")
		var ids []string
		for _, x := range got {
			ids = append(ids, x.ID)
		}
		equal(t, ids, tc.want, fmt.Sprintf("ListCalls(%d)", tc.limit))
	}
}

func testSegments(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	must(t, s.CreateCall(c, store.Call{ID: "c1", StartedAt: base}), "CreateCall")
	must(t, s.CreateCall(c, store.Call{ID: "c2", StartedAt: base}), "CreateCall")
	first := []transcript.Segment{
		{Speaker: transcript.Agent, StartMS: 3000, EndMS: 4000, Text: "How can I help?", Confidence: 0.9},
		{Speaker: transcript.System, StartMS: 0, EndMS: 1500, Text: "Welcome to support."},
	}
	second := []transcript.Segment{
		{Speaker: transcript.Caller, StartMS: 1600, EndMS: 2900, Text: "My bill is wrong — «ünïcode»", Confidence: 0.75},
		{Speaker: transcript.Caller, StartMS: 5000, EndMS: 6000, Text: "it's 'quoted'; DROP TABLE calls;--"},
	}
	must(t, s.AddSegments(c, "c1", first), "AddSegments")
	must(t, s.AddSegments(c, "c1", second), "AddSegments")
	must(t, s.AddSegments(c, "c2", []transcript.Segment{{Speaker: transcript.Caller, StartMS: 1, Text: "other call"}}), "AddSegments c2")
	must(t, s.AddSegments(c, "c1", nil), "AddSegments nothing")

	got, err := s.Segments(c, "c1")
	must(t, err, "Segments")
	equal(t, got, []transcript.Segment{first[1], second[0], first[0], second[1]}, "Segments in StartMS order")

	got, err = s.Segments(c, "none")
	must(t, err, "Segments of unknown call")
	equal(t, len(got), 0, "Segments of unknown call")

	wantErr(t, s.AddSegments(c, "ghost", first), store.ErrNotFound, "AddSegments to unknown call")

	// More segments than one INSERT batch holds.
	big := make([]transcript.Segment, 1234)
	for i := range big {
		big[i] = transcript.Segment{Speaker: transcript.Agent, StartMS: int64(len(big) - i), EndMS: int64(len(big) - i + 1), Text: fmt.Sprint(i)}
	}
	must(t, s.CreateCall(c, store.Call{ID: "big"}), "CreateCall big")
	must(t, s.AddSegments(c, "big", big), "AddSegments big")
	got, err = s.Segments(c, "big")
	must(t, err, "Segments big")
	if len(got) != len(big) {
		t.Fatalf("Segments big: got %d, want %d", len(got), len(big))
	}
	for i, sg := range got {
		if sg.StartMS != int64(i+1) || sg.Text != fmt.Sprint(len(big)-1-i) {
			t.Fatalf("Segments big [%d] = %+v", i, sg)
		}
	}
}

func testConcurrentSegments(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	const writers, each = 20, 10
	must(t, s.CreateCall(c, store.Call{ID: "busy", StartedAt: base}), "CreateCall")
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				seg := transcript.Segment{Speaker: transcript.Caller, StartMS: int64(w*each + i), Text: fmt.Sprint(w, "/", i)}
				if err := s.AddSegments(c, "busy", []transcript.Segment{seg}); err != nil {
					errs <- err
				}
				// Interleave other writes and reads.
				if err := s.LogAgentState(c, store.AgentStateChange{Username: fmt.Sprint("a", w), State: "busy", At: base}); err != nil {
					errs <- err
				}
				if _, err := s.Segments(c, "busy"); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	got, err := s.Segments(c, "busy")
	must(t, err, "Segments")
	if len(got) != writers*each {
		t.Fatalf("got %d segments, want %d", len(got), writers*each)
	}
	for i, sg := range got {
		if sg.StartMS != int64(i) {
			t.Fatalf("segment %d has StartMS %d", i, sg.StartMS)
		}
	}
}

func testTickets(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	tk := tickets.Ticket{
		ID: "t1", CallID: "c1", Category: "billing", Priority: tickets.PriorityHigh,
		Subject: "Wrong bill", Summary: "Caller was charged twice.",
		Entities: map[string]string{"order_number": "A-1234", "amount": "€12.50"}, Sentiment: "negative",
		Tags: []string{"billing", "refund"}, Status: tickets.StatusOpen,
		Customer: tickets.Customer{Phone: "+15551234"}, CreatedAt: base, UpdatedAt: base,
	}
	empty := tickets.Ticket{ID: "t2", CallID: "c1", Entities: map[string]string{}, Tags: []string{}, CreatedAt: base.Add(time.Second)}
	bare := tickets.Ticket{ID: "t3", CallID: "c2"} // nil map, nil slice, zero times
	for _, x := range []tickets.Ticket{tk, empty, bare} {
		must(t, s.CreateTicket(c, x), "CreateTicket "+x.ID)
	}
	norm := func(x tickets.Ticket) tickets.Ticket {
		x.CreatedAt, x.UpdatedAt, x.SolvedAt = ms(x.CreatedAt), ms(x.UpdatedAt), ms(x.SolvedAt)
		return x
	}
	for _, x := range []tickets.Ticket{tk, empty, bare} {
		got, err := s.Ticket(c, x.ID)
		must(t, err, "Ticket "+x.ID)
		equal(t, got, norm(x), "Ticket "+x.ID)
	}
	got, err := s.Ticket(c, "t2")
	must(t, err, "Ticket t2")
	if got.Entities == nil || got.Tags == nil {
		t.Errorf("empty entities/tags came back nil: %#v %#v", got.Entities, got.Tags)
	}
	got, err = s.Ticket(c, "t3")
	must(t, err, "Ticket t3")
	if got.Entities != nil || got.Tags != nil {
		t.Errorf("nil entities/tags came back non-nil: %#v %#v", got.Entities, got.Tags)
	}

	tk.Status, tk.Summary, tk.UpdatedAt = tickets.StatusSolved, "Refunded.", base.Add(time.Hour)
	tk.Tags = append(tk.Tags, "done")
	must(t, s.UpdateTicket(c, tk), "UpdateTicket")
	got, err = s.Ticket(c, "t1")
	must(t, err, "Ticket after update")
	tk.SolvedAt = tk.UpdatedAt // solving stops the resolution clock
	equal(t, got, norm(tk), "Ticket after update")

	byCall, err := s.TicketsByCall(c, "c1")
	must(t, err, "TicketsByCall")
	equal(t, byCall, []tickets.Ticket{norm(tk), norm(empty)}, "TicketsByCall")
	byCall, err = s.TicketsByCall(c, "none")
	must(t, err, "TicketsByCall none")
	equal(t, len(byCall), 0, "TicketsByCall of unknown call")

	wantErr(t, s.CreateTicket(c, tickets.Ticket{ID: "t1"}), store.ErrConflict, "CreateTicket duplicate")
	wantErr(t, s.UpdateTicket(c, tickets.Ticket{ID: "nope"}), store.ErrNotFound, "UpdateTicket absent")
	_, err = s.Ticket(c, "nope")
	wantErr(t, err, store.ErrNotFound, "Ticket absent")
}

func testEvaluations(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	e1 := qa.Evaluation{
		ID: "e1", CallID: "c1", Scorecard: "default", Score: 7, MaxScore: 10, CreatedAt: base,
		Items: []qa.Item{
			{Key: "greeting", Label: "Greeted the caller", Passed: true, Score: 5, Max: 5,
				Evidence: []qa.Evidence{{Speaker: transcript.Agent, StartMS: 1200, Text: "Hello, thanks for calling"}}},
			{Key: "empathy", Label: "Showed empathy", Passed: false, Score: 2, Max: 5, Evidence: []qa.Evidence{}},
		},
	}
	e2 := qa.Evaluation{ID: "e2", CallID: "c1", Scorecard: "strict", CreatedAt: base.Add(time.Minute)} // nil items
	e3 := qa.Evaluation{ID: "e3", CallID: "c2", Items: []qa.Item{}, CreatedAt: base}
	for _, e := range []qa.Evaluation{e2, e1, e3} {
		must(t, s.CreateEvaluation(c, e), "CreateEvaluation "+e.ID)
	}
	norm := func(e qa.Evaluation) qa.Evaluation { e.CreatedAt = ms(e.CreatedAt); return e }
	for _, e := range []qa.Evaluation{e1, e2, e3} {
		got, err := s.Evaluation(c, e.ID)
		must(t, err, "Evaluation "+e.ID)
		equal(t, got, norm(e), "Evaluation "+e.ID)
	}
	byCall, err := s.EvaluationsByCall(c, "c1")
	must(t, err, "EvaluationsByCall")
	equal(t, byCall, []qa.Evaluation{norm(e1), norm(e2)}, "EvaluationsByCall oldest first")

	wantErr(t, s.CreateEvaluation(c, qa.Evaluation{ID: "e1"}), store.ErrConflict, "CreateEvaluation duplicate")
	_, err = s.Evaluation(c, "nope")
	wantErr(t, err, store.ErrNotFound, "Evaluation absent")
}

func testReopen(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	must(t, s.CreateUser(c, store.User{ID: "u1", Username: "alice", Role: store.RoleAdmin, CreatedAt: base}), "CreateUser")
	must(t, s.CreateCall(c, store.Call{ID: "c1", StartedAt: base}), "CreateCall")
	must(t, s.AddSegments(c, "c1", []transcript.Segment{{Speaker: transcript.Caller, StartMS: 10, EndMS: 20, Text: "hi"}}), "AddSegments")
	must(t, s.Close(), "Close")
	must(t, s.Close(), "Close twice")

	s2 := open(t)
	u, err := s2.UserByName(c, "alice")
	must(t, err, "UserByName after reopen")
	equal(t, u, store.User{ID: "u1", Username: "alice", Role: store.RoleAdmin, CreatedAt: ms(base)}, "user after reopen")
	segs, err := s2.Segments(c, "c1")
	must(t, err, "Segments after reopen")
	equal(t, segs, []transcript.Segment{{Speaker: transcript.Caller, StartMS: 10, EndMS: 20, Text: "hi"}}, "segments after reopen")
	// Migrations ran again on reopen and must have been a no-op: writes work.
	must(t, s2.CreateCall(c, store.Call{ID: "c2"}), "CreateCall after reopen")
}

func testCancelledContext(t *testing.T, open Opener) {
	s := open(t)
	c, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.CreateCall(c, store.Call{ID: "c1"}); err == nil {
		t.Error("CreateCall with a cancelled context succeeded")
	}
	if _, err := s.ListCalls(c, 10); err == nil {
		t.Error("ListCalls with a cancelled context succeeded")
	}
}
