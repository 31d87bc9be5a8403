package storetest

import (
	"testing"
	"time"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/transcript"
)

// testQAReviews covers the review queue, overrides, acknowledgements,
// calibrations and the report.
func testQAReviews(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	day := 24 * time.Hour
	calls := []store.Call{
		{ID: "q1", From: "+1", StartedAt: base, AnsweredAt: base.Add(10 * time.Second), EndedAt: base.Add(70 * time.Second),
			Intent: "billing", Queue: "orders", Agent: "alice", IVROutcome: store.IVRTransferred},
		{ID: "q2", From: "+1", StartedAt: base.Add(day), AnsweredAt: base.Add(day + 40*time.Second), EndedAt: base.Add(day + 100*time.Second),
			Intent: "billing", Queue: "tech", Agent: "bob", IVROutcome: store.IVRTransferred},
		{ID: "q3", From: "+2", StartedAt: base.Add(2 * day), Intent: "returns", Queue: "orders", IVROutcome: store.IVRTransferred},
		{ID: "q4", From: "+3", StartedAt: base.Add(2 * day), EndedAt: base.Add(2*day + time.Minute), Intent: "order_status", IVROutcome: store.IVRContained},
	}
	for _, cl := range calls {
		must(t, s.CreateCall(c, cl), "CreateCall "+cl.ID)
	}
	items := func(emp bool, empScore int) []qa.Item {
		return []qa.Item{
			{Key: "greeting", Label: "Greeting", Passed: true, Score: 50, Max: 50, Evidence: []qa.Evidence{{Speaker: transcript.Agent, StartMS: 1, Text: "hi"}}},
			{Key: "empathy", Label: "Empathy", Passed: emp, Score: empScore, Max: 40, Evidence: []qa.Evidence{}},
			{Key: "rude", Label: "No rudeness", Passed: true, Score: 10, Max: 10, AutoFail: true, Evidence: []qa.Evidence{}},
		}
	}
	evs := []qa.Evaluation{
		{ID: "qe1", CallID: "q1", Scorecard: "default", Score: 60, MaxScore: 100, Items: items(false, 0), CreatedAt: base, Method: "rules"},
		{ID: "qe2", CallID: "q2", Scorecard: "default", Score: 0, MaxScore: 100, Items: items(true, 40), CreatedAt: base.Add(day), AutoFailed: true},
		{ID: "qe3", CallID: "q3", Scorecard: "default", Score: 100, MaxScore: 100, Items: items(true, 40), CreatedAt: base.Add(2 * day)},
	}
	for _, e := range evs {
		must(t, s.CreateEvaluation(c, e), "CreateEvaluation "+e.ID)
	}
	ids := func(f store.EvaluationFilter) []string {
		t.Helper()
		got, err := s.ListEvaluations(c, f)
		must(t, err, "ListEvaluations")
		out := []string{}
		for _, e := range got {
			out = append(out, e.ID)
		}
		return out
	}
	equal(t, ids(store.EvaluationFilter{}), []string{"qe3", "qe2", "qe1"}, "queue newest first")
	equal(t, ids(store.EvaluationFilter{BelowPct: 61}), []string{"qe2", "qe1"}, "below 61%")
	equal(t, ids(store.EvaluationFilter{BelowPct: 60}), []string{"qe2"}, "below 60%")
	equal(t, ids(store.EvaluationFilter{AutoFailed: true}), []string{"qe2"}, "auto-failed")
	equal(t, ids(store.EvaluationFilter{Agent: "alice"}), []string{"qe1"}, "agent")
	equal(t, ids(store.EvaluationFilter{Queue: "orders"}), []string{"qe3", "qe1"}, "queue")
	equal(t, ids(store.EvaluationFilter{From: base.Add(time.Hour), To: base.Add(2 * day)}), []string{"qe2"}, "date range")
	equal(t, ids(store.EvaluationFilter{Limit: 1}), []string{"qe3"}, "limit")
	list, err := s.ListEvaluations(c, store.EvaluationFilter{Agent: "alice"})
	must(t, err, "ListEvaluations")
	if len(list) != 1 || list[0].Queue != "orders" || list[0].CallerNumber != "+1" || !list[0].CallStartedAt.Equal(ms(base)) || list[0].Method != "rules" {
		t.Errorf("summary %+v", list)
	}

	ev, o, err := s.OverrideItem(c, "qe1", qa.Override{Reviewer: "quinn", Item: "empathy", NewPassed: true, NewScore: -1, Comment: "said sorry at 0:40", CreatedAt: base})
	must(t, err, "OverrideItem")
	if ev.Score != 100 || !ev.Items[1].Overridden || o.OldScore != 0 || o.NewScore != 40 || o.ID == "" {
		t.Errorf("override: %+v %+v", ev, o)
	}
	got, err := s.Evaluation(c, "qe1")
	must(t, err, "Evaluation")
	equal(t, got, ev, "stored effective evaluation")
	rs, err := s.Reviews(c, "qe1")
	must(t, err, "Reviews")
	equal(t, rs, []qa.Override{o}, "review rows")
	equal(t, ids(store.EvaluationFilter{BelowPct: 61}), []string{"qe2"}, "queue after override")
	if l, _ := s.ListEvaluations(c, store.EvaluationFilter{Agent: "alice"}); len(l) != 1 || l[0].Reviews != 1 {
		t.Errorf("review count %+v", l)
	}
	_, _, err = s.OverrideItem(c, "qe1", qa.Override{Item: "nope", Comment: "x"})
	wantErr(t, err, qa.ErrUnknownItem, "override unknown item")
	_, _, err = s.OverrideItem(c, "absent", qa.Override{Item: "empathy", Comment: "x"})
	wantErr(t, err, store.ErrNotFound, "override absent evaluation")
	if rs, _ := s.Reviews(c, "qe1"); len(rs) != 1 {
		t.Errorf("a failed override left a row: %+v", rs)
	}

	must(t, s.AckEvaluation(c, "qe1", qa.Ack{Status: qa.Disputed, By: "alice", Comment: "I did verify", At: base}), "AckEvaluation")
	got, _ = s.Evaluation(c, "qe1")
	equal(t, got.Ack, &qa.Ack{Status: qa.Disputed, By: "alice", Comment: "I did verify", At: ms(base)}, "ack")
	wantErr(t, s.AckEvaluation(c, "absent", qa.Ack{Status: qa.Acknowledged}), store.ErrNotFound, "ack absent")
	wantErr(t, s.AckEvaluation(c, "qe1", qa.Ack{Status: "meh"}), qa.ErrBadReview, "ack bad status")

	must(t, s.SaveCalibration(c, qa.Calibration{EvaluationID: "qe3", Reviewer: "r2", Items: map[string]bool{"greeting": false}, CreatedAt: base}), "SaveCalibration")
	must(t, s.SaveCalibration(c, qa.Calibration{EvaluationID: "qe3", Reviewer: "r1", Items: map[string]bool{"greeting": true}, CreatedAt: base}), "SaveCalibration")
	must(t, s.SaveCalibration(c, qa.Calibration{EvaluationID: "qe3", Reviewer: "r2", Items: map[string]bool{"greeting": true}, Comment: "changed", CreatedAt: base}), "SaveCalibration again")
	cals, err := s.Calibrations(c, "qe3")
	must(t, err, "Calibrations")
	equal(t, cals, []qa.Calibration{
		{EvaluationID: "qe3", Reviewer: "r1", Items: map[string]bool{"greeting": true}, CreatedAt: ms(base)},
		{EvaluationID: "qe3", Reviewer: "r2", Items: map[string]bool{"greeting": true}, Comment: "changed", CreatedAt: ms(base)},
	}, "calibrations")
	wantErr(t, s.SaveCalibration(c, qa.Calibration{EvaluationID: "absent", Reviewer: "r1"}), store.ErrNotFound, "calibrate absent")

	rep, err := s.QAReport(c, store.ReportFilter{From: base.Add(-time.Hour), To: base.Add(3 * day), SLSeconds: 30})
	must(t, err, "QAReport")
	if rep.Calls != 4 || rep.Answered != 2 || rep.AvgHandleSeconds != 60 || rep.FCRRate != 0.5 || rep.Abandoned != 1 ||
		rep.AbandonRate < 0.333 || rep.AbandonRate > 0.334 || rep.ServiceLevel < 0.333 || rep.ServiceLevel > 0.334 ||
		rep.IVRContainment != 0.25 || rep.IntentMix["billing"] != 2 || rep.Evaluations != 3 {
		t.Errorf("report %+v", rep)
	}
	if len(rep.ItemFailures) != 3 || rep.ItemFailures[0].Key != "empathy" || rep.ItemFailures[0].Failed != 0 {
		// qe1's empathy was overridden to passed: nothing fails.
		t.Errorf("item failures %+v", rep.ItemFailures)
	}
	if len(rep.ScoreByAgentWeek) != 3 {
		t.Errorf("by agent and week %+v", rep.ScoreByAgentWeek)
	}
	if _, err := s.QAReport(c, store.ReportFilter{From: base, To: base}); err == nil {
		t.Error("empty period accepted")
	}
}
