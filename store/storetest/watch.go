package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// testSLABreaches covers the breach watcher's queries: which open targets
// are due, flagging each once (also when two nodes race), and that updates
// keep the flags.
func testSLABreaches(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	mk := func(id, status string, frDue, resDue, frAt time.Time) tickets.Ticket {
		return tickets.Ticket{ID: id, CallID: "c-" + id, Category: "billing", Priority: tickets.PriorityNormal, Status: status,
			Entities: map[string]string{}, Tags: []string{}, CreatedAt: base, UpdatedAt: base,
			FirstResponseDue: frDue, ResolutionDue: resDue, FirstResponseAt: frAt}
	}
	h := time.Hour
	for _, tk := range []tickets.Ticket{
		mk("b1", tickets.StatusNew, base.Add(h), base.Add(8*h), time.Time{}),          // both clocks run
		mk("b2", tickets.StatusOpen, base.Add(2*h), base.Add(4*h), base.Add(30*60e9)), // answered: resolution only
		mk("b3", tickets.StatusSolved, base.Add(h), base.Add(2*h), time.Time{}),       // solved: nothing
		mk("b4", tickets.StatusOpen, time.Time{}, time.Time{}, time.Time{}),           // no targets
		mk("b5", tickets.StatusPending, base.Add(10*h), base.Add(20*h), time.Time{}),  // not due yet
	} {
		must(t, s.CreateTicket(c, tk), "CreateTicket "+tk.ID)
	}
	due, err := s.SLABreachesDue(c, base.Add(9*h), 100)
	must(t, err, "SLABreachesDue")
	equal(t, due, []tickets.Breach{
		{TicketID: "b1", Target: tickets.TargetFirstResponse, Due: ms(base.Add(h))},
		{TicketID: "b2", Target: tickets.TargetResolution, Due: ms(base.Add(4 * h))},
		{TicketID: "b1", Target: tickets.TargetResolution, Due: ms(base.Add(8 * h))},
	}, "breaches due, earliest first")
	if l, _ := s.SLABreachesDue(c, base.Add(9*h), 1); len(l) != 1 || l[0].TicketID != "b1" {
		t.Errorf("limit 1: %+v", l)
	}

	// Two watchers flag the same breach at once: one wins.
	sys := tickets.WithActor(c, tickets.ActorSystem)
	var wg sync.WaitGroup
	wins := make(chan bool, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.FlagSLABreach(sys, due[0], base.Add(9*h))
			if err != nil {
				t.Errorf("FlagSLABreach: %v", err)
			}
			wins <- ok
		}()
	}
	wg.Wait()
	close(wins)
	n := 0
	for ok := range wins {
		if ok {
			n++
		}
	}
	equal(t, n, 1, "flags won by two racing watchers")
	ok, err := s.FlagSLABreach(sys, due[0], base.Add(10*h))
	must(t, err, "FlagSLABreach again")
	equal(t, ok, false, "flagging twice")
	_, err = s.FlagSLABreach(sys, tickets.Breach{TicketID: "ghost", Target: tickets.TargetResolution}, base)
	wantErr(t, err, store.ErrNotFound, "flag absent ticket")
	if _, err := s.FlagSLABreach(sys, tickets.Breach{TicketID: "b1", Target: "lunch"}, base); err == nil {
		t.Error("unknown target accepted")
	}

	got, err := s.Ticket(c, "b1")
	must(t, err, "Ticket b1")
	equal(t, got.FirstResponseBreachedAt, ms(base.Add(9*h)), "first response breach flagged at")
	equal(t, got.ResolutionBreachedAt, time.Time{}, "resolution not flagged yet")
	evs, err := s.TicketEvents(c, "b1")
	must(t, err, "TicketEvents")
	last := evs[len(evs)-1]
	if last.Field != tickets.FieldSLA || last.New != "first_response_breached" || last.Actor != tickets.ActorSystem || len(evs) != 2 {
		t.Errorf("audit trail %+v", evs)
	}

	// An update that does not mention the flag keeps it (Lifecycle).
	got.FirstResponseBreachedAt = time.Time{}
	got.Priority, got.UpdatedAt = tickets.PriorityHigh, base.Add(9*h)
	must(t, s.UpdateTicket(sys, got), "UpdateTicket")
	got, _ = s.Ticket(c, "b1")
	equal(t, got.FirstResponseBreachedAt, ms(base.Add(9*h)), "flag after an update")

	due, err = s.SLABreachesDue(c, base.Add(9*h), 100)
	must(t, err, "SLABreachesDue after flagging")
	equal(t, due, []tickets.Breach{
		{TicketID: "b2", Target: tickets.TargetResolution, Due: ms(base.Add(4 * h))},
		{TicketID: "b1", Target: tickets.TargetResolution, Due: ms(base.Add(8 * h))},
	}, "breaches due after flagging one")
	// Solving stops the clock: nothing left to flag for b2.
	b2, _ := s.Ticket(c, "b2")
	b2.Status, b2.UpdatedAt = tickets.StatusSolved, base.Add(9*h)
	must(t, s.UpdateTicket(tickets.WithActor(c, "alice"), b2), "solve b2")
	due, _ = s.SLABreachesDue(c, base.Add(9*h), 100)
	equal(t, len(due), 1, "breaches due after solving b2")
}

// testDeadLetters covers durable webhook dead letters: keep, list (newest
// first, pending, paging), read, and replay once.
func testDeadLetters(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	var ids []int64
	for i, u := range []string{"https://a.example/hook", "https://b.example/hook", "https://a.example/hook"} {
		id, err := s.AddDeadLetter(c, store.DeadLetter{EventID: "evt_" + string(rune('1'+i)), EventType: "ticket.updated", URL: u,
			TicketID: "t1", Body: `{"id":"evt","ticket":{"subject":"«ünïcode» 'quoted'"}}`, Attempts: 6, LastError: "status 503",
			CreatedAt: base.Add(time.Duration(i) * time.Minute)})
		must(t, err, "AddDeadLetter")
		ids = append(ids, id)
	}
	if !(ids[0] < ids[1] && ids[1] < ids[2]) {
		t.Fatalf("ids not increasing: %v", ids)
	}
	if _, err := s.AddDeadLetter(c, store.DeadLetter{Body: "{}"}); err == nil {
		t.Error("dead letter without url accepted")
	}
	got, err := s.DeadLetter(c, ids[1])
	must(t, err, "DeadLetter")
	equal(t, got, store.DeadLetter{ID: ids[1], EventID: "evt_2", EventType: "ticket.updated", URL: "https://b.example/hook", TicketID: "t1",
		Body: `{"id":"evt","ticket":{"subject":"«ünïcode» 'quoted'"}}`, Attempts: 6, LastError: "status 503", CreatedAt: ms(base.Add(time.Minute))},
		"DeadLetter")
	_, err = s.DeadLetter(c, 999999)
	wantErr(t, err, store.ErrNotFound, "DeadLetter absent")

	list := func(f store.DeadLetterFilter) []int64 {
		t.Helper()
		ds, err := s.ListDeadLetters(c, f)
		must(t, err, "ListDeadLetters")
		out := []int64{}
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	equal(t, list(store.DeadLetterFilter{}), []int64{ids[2], ids[1], ids[0]}, "newest first")
	equal(t, list(store.DeadLetterFilter{Before: ids[2], Limit: 1}), []int64{ids[1]}, "paged")

	must(t, s.MarkDeadLetterReplayed(c, ids[1], "admin", base.Add(time.Hour)), "MarkDeadLetterReplayed")
	wantErr(t, s.MarkDeadLetterReplayed(c, ids[1], "admin", base.Add(2*time.Hour)), store.ErrConflict, "replay twice")
	wantErr(t, s.MarkDeadLetterReplayed(c, 999999, "admin", base), store.ErrNotFound, "replay absent")
	got, _ = s.DeadLetter(c, ids[1])
	if !got.ReplayedAt.Equal(ms(base.Add(time.Hour))) || got.ReplayedBy != "admin" {
		t.Errorf("replayed: %+v", got)
	}
	equal(t, list(store.DeadLetterFilter{Pending: true}), []int64{ids[2], ids[0]}, "pending")
}

// testTeams covers users' teams and the QA queue and report by team.
func testTeams(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	for _, u := range []store.User{
		{ID: "tu1", Username: "alice", Role: store.RoleAgent, Team: "north"},
		{ID: "tu2", Username: "bob", Role: store.RoleAgent},
		{ID: "tu3", Username: "sue", Role: store.RoleSupervisor, Team: "north"},
	} {
		must(t, s.CreateUser(c, u), "CreateUser "+u.Username)
	}
	u, err := s.UserByName(c, "alice")
	must(t, err, "UserByName")
	equal(t, u.Team, "north", "team from CreateUser")
	must(t, s.SetUserTeam(c, "bob", "south"), "SetUserTeam")
	wantErr(t, s.SetUserTeam(c, "nobody", "south"), store.ErrNotFound, "SetUserTeam absent")
	us, err := s.ListUsers(c)
	must(t, err, "ListUsers")
	teams := map[string]string{}
	for _, u := range us {
		teams[u.Username] = u.Team
	}
	equal(t, teams, map[string]string{"alice": "north", "bob": "south", "sue": "north"}, "teams")

	day := 24 * time.Hour
	for _, cl := range []store.Call{
		{ID: "tc1", From: "+1", StartedAt: base, AnsweredAt: base.Add(5 * time.Second), EndedAt: base.Add(65 * time.Second), Agent: "alice", Queue: "q", Intent: "billing"},
		{ID: "tc2", From: "+2", StartedAt: base, AnsweredAt: base.Add(5 * time.Second), EndedAt: base.Add(125 * time.Second), Agent: "bob", Queue: "q", Intent: "returns"},
		{ID: "tc3", From: "+3", StartedAt: base.Add(time.Minute)}, // imported: no agent
	} {
		must(t, s.CreateCall(c, cl), "CreateCall "+cl.ID)
	}
	for i, e := range []qa.Evaluation{
		{ID: "te1", CallID: "tc1", Score: 80, MaxScore: 100},
		{ID: "te2", CallID: "tc2", Score: 40, MaxScore: 100},
		{ID: "te3", CallID: "tc3", Score: 60, MaxScore: 100},
	} {
		e.CreatedAt = base.Add(time.Duration(i) * time.Second)
		e.Items = []qa.Item{}
		must(t, s.CreateEvaluation(c, e), "CreateEvaluation "+e.ID)
	}
	list, err := s.ListEvaluations(c, store.EvaluationFilter{Team: "north"})
	must(t, err, "ListEvaluations team")
	if len(list) != 1 || list[0].ID != "te1" || list[0].Team != "north" || list[0].Agent != "alice" {
		t.Errorf("north's queue %+v", list)
	}
	all, _ := s.ListEvaluations(c, store.EvaluationFilter{})
	if len(all) != 3 || all[0].ID != "te3" || all[0].Team != "" || all[1].Team != "south" {
		t.Errorf("whole queue %+v", all)
	}

	rep, err := s.QAReport(c, store.ReportFilter{From: base.Add(-time.Hour), To: base.Add(day)})
	must(t, err, "QAReport")
	if len(rep.ScoreByTeamWeek) != 3 || rep.ScoreByTeamWeek[0].Team != "" || rep.ScoreByTeamWeek[1].Team != "north" ||
		rep.ScoreByTeamWeek[1].AvgPct != 80 || rep.ScoreByTeamWeek[2].AvgPct != 40 || rep.Calls != 3 || rep.Evaluations != 3 {
		t.Errorf("report by team %+v", rep)
	}
	rep, err = s.QAReport(c, store.ReportFilter{From: base.Add(-time.Hour), To: base.Add(day), Team: "south"})
	must(t, err, "QAReport south")
	if rep.Team != "south" || rep.Calls != 1 || rep.Answered != 1 || rep.AvgHandleSeconds != 120 || rep.Evaluations != 1 ||
		len(rep.ScoreByAgentWeek) != 1 || rep.ScoreByAgentWeek[0].Agent != "bob" || rep.IntentMix["returns"] != 1 || len(rep.IntentMix) != 1 {
		t.Errorf("south's report %+v", rep)
	}
}

// testSegmentWords covers word timings kept with transcript segments.
func testSegmentWords(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	must(t, s.CreateCall(c, store.Call{ID: "w1", StartedAt: base}), "CreateCall")
	segs := []transcript.Segment{
		{Speaker: transcript.Caller, StartMS: 1000, EndMS: 2200, Text: "where is my order", Confidence: 0.8,
			Words: []transcript.Word{{Text: "where", StartMS: 1000, EndMS: 1300}, {Text: "is", StartMS: 1300, EndMS: 1450},
				{Text: "my", StartMS: 1450, EndMS: 1600}, {Text: "order", StartMS: 1600, EndMS: 2200}}},
		{Speaker: transcript.Agent, StartMS: 2500, EndMS: 3000, Text: "let me check"}, // no word timings
	}
	must(t, s.AddSegments(c, "w1", segs), "AddSegments")
	got, err := s.Segments(context.WithoutCancel(c), "w1")
	must(t, err, "Segments")
	equal(t, got, segs, "segments with words")
}
