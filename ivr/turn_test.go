package ivr

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// pauser is a TurnListener: each turn is the words at the caller's pauses,
// then the whole utterance. It records judge's verdicts and ends the turn
// at the first whole pause, as the call does.
type pauser struct {
	scripted
	turns    [][]string
	verdicts [][]Turn
}

func (p *pauser) ListenTurn(ctx context.Context, _ time.Duration, judge func(string) Turn) (Input, error) {
	if len(p.turns) == 0 {
		return Input{Timeout: true}, nil
	}
	words := p.turns[0]
	p.turns = p.turns[1:]
	var vs []Turn
	defer func() { p.verdicts = append(p.verdicts, vs) }()
	for _, w := range words[:len(words)-1] {
		vs = append(vs, judge(w))
		if vs[len(vs)-1] == TurnWhole {
			return Input{Text: w, Early: true}, nil
		}
	}
	return Input{Text: words[len(words)-1]}, nil
}

func TestJudgeIntentOnDemoFlow(t *testing.T) {
	flow, err := LoadFlow(os.DirFS("../config"), "flows/northwind.yaml", demoEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	nlu := Simple{demoClassifier(t)}
	tests := []struct {
		name   string
		turns  [][]string // pauses..., the whole utterance
		want   []Turn     // verdicts of the first turn's pauses
		early  bool
		intent string
	}{
		{"a whole request ends the turn at its pause",
			[][]string{{"well", "my internet", "my internet is not working"}},
			[]Turn{TurnCut, TurnWhole}, true, "tech_support"},
		{"a phrase stopping on a function word, not understood, is cut",
			[][]string{{"i was wondering if you could tell me about the", "i was wondering if you could tell me about the new fibre plans"}},
			[]Turn{TurnCut}, false, "sales"},
		{"one stopping on a function word, understood, is neither",
			[][]string{{"i want to cancel my", "i want to cancel my contract"}},
			[]Turn{TurnOpen}, false, "cancel"},
		{"an order without its number: a short silence, the caller may be saying it",
			[][]string{{"where is my order", "where is my order five eight two one three"}},
			[]Turn{TurnShort}, false, "order_status"},
		{"an order number being said: the whole silence",
			[][]string{{"where is my order", "where is my order five eight", "where is my order five eight two one three"}},
			[]Turn{TurnShort, TurnOpen}, false, "order_status"},
		{"out of scope, complete: a short silence, then the reprompt",
			[][]string{{"what is the score of the match", "what is the score of the match"}, {"my internet is not working", "my internet is not working"}},
			[]Turn{TurnShort}, false, "tech_support"},
		{"an order with its number is whole",
			[][]string{{"where is my order five eight two one three", "where is my order five eight two one three thanks"}},
			[]Turn{TurnWhole}, true, "order_status"},
		{"a person, at once",
			[][]string{{"agent", "agent please"}},
			[]Turn{TurnWhole}, true, "human"},
		{"nothing known: wait",
			[][]string{{"well you see", "well you see the thing is my router is broken"}},
			[]Turn{TurnOpen}, false, "tech_support"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &pauser{turns: tc.turns}
			cfg := FlowConfig{Confirm: "Thanks. Connecting you to %s.", NoInput: time.Second, HumanIntent: "human", Routes: demoRoutes, Graph: flow}
			d, err := Run(context.Background(), s, cfg, nlu)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.verdicts) == 0 || !equalTurns(s.verdicts[0], tc.want) {
				t.Fatalf("verdicts %v, want %v", s.verdicts, tc.want)
			}
			if d.Intent != tc.intent {
				t.Fatalf("intent %q, want %q (decision %+v)", d.Intent, tc.intent, d)
			}
			last := tc.turns[len(tc.turns)-1]
			want := last[len(last)-1] // the whole utterance
			if tc.early {
				want = last[len(tc.want)-1] // the pause that ended the turn
			}
			if d.Utterance != want {
				t.Fatalf("utterance %q, want %q", d.Utterance, want)
			}
		})
	}

	// early_turn: off never ends a turn at a pause.
	off, err := ParseFlow("off.yaml", []byte("start: q\ndefaults: {early_turn: off}\nnodes:\n  q: {kind: ask, say: hi, next: t}\n  t: {kind: transfer}\n"), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := &pauser{turns: [][]string{{"my internet is not working", "what is the score of the match", "my internet is not working"}}}
	if _, err := Run(context.Background(), s, FlowConfig{HumanIntent: "human", Routes: demoRoutes, Graph: off}, nlu); err != nil {
		t.Fatal(err)
	}
	if !equalTurns(s.verdicts[0], []Turn{TurnOpen, TurnOpen}) {
		t.Fatalf("early_turn off: verdicts %v", s.verdicts)
	}
	if _, err := ParseFlow("bad.yaml", []byte("start: q\ndefaults: {early_turn: 1.5}\nnodes:\n  q: {kind: ask, say: hi, next: t}\n  t: {kind: transfer}\n"), testEnv); err == nil || !strings.Contains(err.Error(), "early_turn") {
		t.Fatalf("early_turn 1.5: err %v", err)
	}
}

func TestSays(t *testing.T) {
	for text, want := range map[string]bool{
		"well you see": false, "hello yes": false, "um i have a question": false, "i was wondering": false,
		"what is the score of the match": true, "play some music": true, "I'd like a pizza": false,
		"": false,
	} {
		if got := says(text, "en"); got != want {
			t.Errorf("%q: %v, want %v", text, got, want)
		}
	}
	if !says("quiero pedir una pizza", "es") || says("hola buenos días", "es") {
		t.Error("es")
	}
}

func TestJudgeYesNo(t *testing.T) {
	r := &runner{lang: "en"}
	for text, want := range map[string]Turn{"yes": TurnWhole, "no": TurnWhole, "yeah but": TurnCut, "hmm": TurnCut, "well I": TurnCut, "maybe later": TurnOpen} {
		if got := r.judgeYesNo(text); got != want {
			t.Errorf("%q: %v, want %v", text, got, want)
		}
	}
	r.lang = "es"
	for text, want := range map[string]Turn{"sí": TurnWhole, "no": TurnWhole, "quiero": TurnCut, "pues el": TurnCut} {
		if got := r.judgeYesNo(text); got != want {
			t.Errorf("es %q: %v, want %v", text, got, want)
		}
	}
}

func equalTurns(a, b []Turn) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
