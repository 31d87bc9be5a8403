package qa

import (
	"errors"
	"strings"
	"testing"

	"github.com/contactd/contactd/transcript"
)

func TestExtendedDetectors(t *testing.T) {
	tests := []struct {
		name     string
		key      string
		tr       transcript.Transcript
		passed   bool
		na       bool
		detail   string // substring of Detail
		evidence int    // evidence lines
	}{
		{"hold none", "hold", goodCall, true, true, "no hold", 0},
		{"hold asked and back", "hold", tr(
			seg{"a", 0, 3, "is it ok if i put you on hold while i check"}, seg{"c", 3, 4, "sure"},
			seg{"a", 40, 42, "thanks for holding"}), true, false, "asked", 2},
		{"hold not asked", "hold", tr(
			seg{"a", 0, 2, "one moment"}, seg{"a", 30, 32, "right i found it"}), false, false, "without asking", 2},
		{"hold too long", "hold", tr(
			seg{"a", 0, 3, "can i put you on hold"}, seg{"c", 3, 4, "yes"},
			seg{"a", 100, 102, "sorry about the wait"}), false, false, "longer than 60 s", 2},
		{"hold marker", "hold", tr(
			seg{"a", 0, 3, "would you mind holding for a moment"}, seg{"s", 3, 3, "[hold]"},
			seg{"a", 20, 22, "thanks for waiting"}), true, false, "asked", 2},
		{"short check is no hold", "hold", tr(
			seg{"a", 0, 2, "let me check"}, seg{"a", 4, 6, "yes it's there"}), true, true, "no hold", 0},
		{"interruptions few", "interruptions", tr(
			seg{"c", 0, 5, "my order is late"}, seg{"a", 4.9, 6, "i see"}), true, false, "interrupted 0 times", 0},
		{"interruptions many", "interruptions", tr(
			seg{"c", 0, 5, "a"}, seg{"a", 1, 6, "b"}, seg{"c", 7, 12, "c"}, seg{"a", 8, 13, "d"}, seg{"c", 14, 19, "e"}, seg{"a", 15, 20, "f"}),
			false, false, "interrupted 3 times", 6},
		{"talk ratio ok", "talk_ratio", goodCall, true, false, "ratio 0.61", 1},
		{"talk ratio monologue", "talk_ratio", tr(seg{"a", 0, 60, "blah"}, seg{"c", 60, 61, "ok"}), false, false, "ratio 0.98", 1},
		{"sentiment improves", "sentiment", tr(
			seg{"c", 0, 2, "this is ridiculous i'm fed up"}, seg{"a", 2, 3, "sorry"}, seg{"c", 3, 4, "ok"}, seg{"c", 5, 6, "great thanks"}),
			true, false, "-4 at the start, +2 at the end", 2},
		{"sentiment sours", "sentiment", tr(
			seg{"c", 0, 2, "hi thanks"}, seg{"c", 3, 4, "ok"}, seg{"c", 5, 6, "this is useless"}),
			false, false, "+1 at the start, -2 at the end", 2},
	}
	card := ExtendedScorecard()
	if err := card.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := item(t, ScoreCall(card, tt.tr, ""), tt.key)
			if it.Passed != tt.passed || it.NA != tt.na || !strings.Contains(it.Detail, tt.detail) || len(it.Evidence) != tt.evidence {
				t.Errorf("got passed=%v na=%v detail=%q evidence=%d, want %v %v %q %d: %+v",
					it.Passed, it.NA, it.Detail, len(it.Evidence), tt.passed, tt.na, tt.detail, tt.evidence, it.Evidence)
			}
		})
	}
}

func TestGreetingAgentName(t *testing.T) {
	call := tr(seg{"a", 0, 2, "hello alice here how can i help"})
	if item(t, ScoreCall(DefaultScorecard(), call, ""), "greeting").Passed {
		t.Error("passed without knowing the name")
	}
	if !item(t, ScoreCall(DefaultScorecard(), call, "alice"), "greeting").Passed {
		t.Error("failed with the agent's name")
	}
	card := DefaultScorecard()
	card.Company = []string{"Northwind Broadband"}
	if !item(t, Score(card, tr(seg{"a", 0, 2, "northwind broadband good morning"})), "greeting").Passed {
		t.Error("failed with the company's name")
	}
}

func TestAutoFailAndManual(t *testing.T) {
	card := DefaultScorecard()
	card.Items = append(card.Items, Criterion{Key: "compliance", Label: "Read the disclosure", Weight: 10, Type: Manual})
	if err := card.Validate(); err != nil {
		t.Fatal(err)
	}
	ev := Score(card, goodCall)
	if ev.Score != 100 || ev.MaxScore != 100 || ev.AutoFailed {
		t.Fatalf("pending manual item counted: %d/%d", ev.Score, ev.MaxScore)
	}
	if it := item(t, ev, "compliance"); !it.Pending || it.Max != 10 {
		t.Fatalf("manual item %+v", it)
	}
	ev2, o, err := ev.Apply(Override{Item: "compliance", NewPassed: true, NewScore: -1, Comment: "read it at 1:20", Reviewer: "quinn"})
	if err != nil || ev2.Score != 110 || ev2.MaxScore != 110 || o.OldScore != 0 || o.NewScore != 10 {
		t.Fatalf("apply manual: %v %d/%d %+v", err, ev2.Score, ev2.MaxScore, o)
	}
	ev3, o, err := ev2.Apply(Override{Item: "prohibited_language", NewPassed: false, NewScore: -1, Comment: "swore at 2:00"})
	if err != nil || !ev3.AutoFailed || ev3.Score != 0 || o.OldScore != 20 || !o.OldPassed {
		t.Fatalf("auto-fail override: %v %+v %+v", err, ev3, o)
	}
	if ev2.Score != 110 || item(t, ev2, "prohibited_language").Overridden {
		t.Fatal("Apply changed its receiver")
	}
	for _, bad := range []Override{
		{Item: "nope", Comment: "x"},
		{Item: "greeting", Comment: ""},
		{Item: "greeting", Comment: "x", NewScore: 11},
	} {
		if _, _, err := ev.Apply(bad); !errors.Is(err, ErrUnknownItem) && !errors.Is(err, ErrBadReview) {
			t.Errorf("%+v: err %v", bad, err)
		}
	}
	bad := tr(seg{"a", 0, 2, "hello my name is sam"}, seg{"a", 3, 4, "shut up"})
	if ev := Score(DefaultScorecard(), bad); !ev.AutoFailed || ev.Score != 0 {
		t.Errorf("prohibited language did not auto-fail: %+v", ev)
	}
}

func TestAgree(t *testing.T) {
	auto := Evaluation{Items: []Item{{Key: "a", Passed: true}, {Key: "b", Passed: false}, {Key: "m", Pending: true}}}
	cals := []Calibration{
		{Reviewer: "r1", Items: map[string]bool{"a": true, "b": true}},
		{Reviewer: "r2", Items: map[string]bool{"a": true, "b": false}},
	}
	ag := Agree(cals, &auto)
	// a: 3 pairs all agree; b: auto/r1 no, auto/r2 yes, r1/r2 no → 1/3.
	if ag.Items["a"] != 1 || ag.Items["b"] < 0.33 || ag.Items["b"] > 0.34 || ag.Overall < 0.66 || ag.Overall > 0.67 {
		t.Errorf("agreement %+v", ag)
	}
	if ag.Pairs["auto|r2"] != 1 || ag.Pairs["auto|r1"] != 0.5 || len(ag.Raters) != 3 {
		t.Errorf("pairs %+v raters %v", ag.Pairs, ag.Raters)
	}
	if a := Agree(nil, nil); a.Overall != 0 || len(a.Items) != 0 {
		t.Errorf("empty agreement %+v", a)
	}
}

func TestAckValidate(t *testing.T) {
	for _, tt := range []struct {
		a  Ack
		ok bool
	}{
		{Ack{Status: Acknowledged}, true},
		{Ack{Status: Disputed, Comment: "I did verify, at 0:40"}, true},
		{Ack{Status: Disputed}, false},
		{Ack{Status: "maybe"}, false},
	} {
		if err := tt.a.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v: %v", tt.a, err)
		}
	}
}
