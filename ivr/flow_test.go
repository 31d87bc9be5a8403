package ivr

import (
	"context"
	"strings"
	"testing"
	"time"
)

// scripted is a Session that answers each Listen from a script and records
// what was said.
type scripted struct {
	inputs []Input
	said   []string
}

func (s *scripted) Say(_ context.Context, text string) (bool, error) {
	s.said = append(s.said, text)
	return false, nil
}

func (s *scripted) Listen(ctx context.Context, _ time.Duration) (Input, error) {
	if len(s.inputs) == 0 {
		return Input{Timeout: true}, nil
	}
	in := s.inputs[0]
	s.inputs = s.inputs[1:]
	return in, nil
}

type keywordNLU map[string]string

func (k keywordNLU) Classify(text string) (string, float64) {
	for word, intent := range k {
		if strings.Contains(text, word) {
			return intent, 0.9
		}
	}
	return "unknown", 0.1
}

func TestFlow(t *testing.T) {
	cfg := FlowConfig{
		Greeting: "hello", Reprompt: "again", MenuIntro: "keypad", Confirm: "to %s",
		Threshold: 0.5, NoInput: time.Second, MaxMisses: 2, HumanIntent: "human",
		Routes: []Route{
			{Intent: "order_status", Queue: "orders", Priority: "normal", DTMF: "1", Label: "order status"},
			{Intent: "billing", Queue: "billing", Priority: "normal", DTMF: "2", Label: "billing"},
			{Intent: "human", Queue: "general", Priority: "normal", DTMF: "9", Label: "an agent"},
		},
	}
	nlu := keywordNLU{"order": "order_status", "bill": "billing", "agent": "human"}
	tests := []struct {
		name       string
		inputs     []Input
		wantIntent string
		wantQueue  string
		wantDTMF   bool
		wantPrio   string
		wantMenu   bool
	}{
		{name: "speech first time", inputs: []Input{{Text: "where is my order"}}, wantIntent: "order_status", wantQueue: "orders", wantPrio: "normal"},
		{name: "zero is always an agent", inputs: []Input{{Digit: '0'}}, wantIntent: "human", wantQueue: "general", wantDTMF: true, wantPrio: "normal"},
		{name: "saying agent", inputs: []Input{{Text: "agent please"}}, wantIntent: "human", wantQueue: "general", wantPrio: "normal"},
		{name: "two misses then menu key", inputs: []Input{{Text: "blah"}, {Timeout: true}, {Digit: '2'}}, wantIntent: "billing", wantQueue: "billing", wantDTMF: true, wantPrio: "normal", wantMenu: true},
		{name: "speech still works in the menu", inputs: []Input{{Timeout: true}, {Timeout: true}, {Text: "my bill"}}, wantIntent: "billing", wantQueue: "billing", wantPrio: "normal", wantMenu: true},
		{name: "nothing works: human, raised priority", inputs: nil, wantIntent: "human", wantQueue: "general", wantPrio: "high", wantMenu: true},
		{name: "unknown key is a miss", inputs: []Input{{Digit: '7'}, {Digit: '#'}, {Digit: '1'}}, wantIntent: "order_status", wantQueue: "orders", wantDTMF: true, wantPrio: "normal", wantMenu: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{inputs: tc.inputs}
			d, err := Run(context.Background(), s, cfg, nlu)
			if err != nil {
				t.Fatal(err)
			}
			if d.Intent != tc.wantIntent || d.Queue != tc.wantQueue || d.ViaDTMF != tc.wantDTMF || d.Priority != tc.wantPrio {
				t.Fatalf("decision = %+v", d)
			}
			menu := false
			for _, said := range s.said {
				if strings.Contains(said, "press 1") {
					menu = true
					if !strings.Contains(said, "For order status, press 1.") || !strings.Contains(said, "press 0") {
						t.Fatalf("menu text = %q", said)
					}
					if strings.Contains(said, "press 9") {
						t.Fatalf("menu lists the human intent's key: %q", said)
					}
				}
			}
			if menu != tc.wantMenu {
				t.Fatalf("menu played = %v, want %v (said %q)", menu, tc.wantMenu, s.said)
			}
			if got, want := cfg.ConfirmText(d), "to our "+tc.wantQueue; tc.wantIntent != "human" && !strings.HasPrefix(got, "to our ") {
				t.Fatalf("confirmation = %q, want %q…", got, want)
			}
			if got := cfg.ConfirmText(d); tc.wantIntent == "human" && got != "to an agent" {
				t.Fatalf("confirmation = %q, want \"to an agent\"", got)
			}
		})
	}
}

func TestFlowHangupEndsIt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &cancelSession{}
	_, err := Run(ctx, s, FlowConfig{HumanIntent: "human", Routes: []Route{{Intent: "human", Queue: "q"}}}, keywordNLU{})
	if err == nil {
		t.Fatal("want an error after hang-up")
	}
}

type cancelSession struct{}

func (cancelSession) Say(ctx context.Context, _ string) (bool, error) { return false, ctx.Err() }
func (cancelSession) Listen(ctx context.Context, _ time.Duration) (Input, error) {
	return Input{}, ctx.Err()
}
