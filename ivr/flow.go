package ivr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Input is what the caller did in answer to a prompt: said something, pressed
// a key, or nothing before the timeout.
type Input struct {
	Text       string
	Confidence float64
	Digit      rune // 0 when none
	Timeout    bool
}

// Session is what a flow needs from the call that runs it. The call's owner
// goroutine implements it; the flow runs on that goroutine.
type Session interface {
	// Say speaks text. It returns early (barged true) when the caller starts
	// speaking or presses a key; that input is then returned by the next Listen.
	Say(ctx context.Context, text string) (barged bool, err error)
	// Listen waits up to timeout for the caller's next utterance or key.
	Listen(ctx context.Context, timeout time.Duration) (Input, error)
}

// IntentClassifier is the consumer-side view of the NLU.
type IntentClassifier interface {
	Classify(text string) (intent string, confidence float64)
}

// Route says where callers with an intent go.
type Route struct {
	Intent   string
	Queue    string
	Priority string
	DTMF     string // one key of the fallback menu, "" = not in the menu
	Label    string // spoken in the menu and confirmation ("order status")
}

// FlowConfig is the first-call flow: greet, ask, classify, fall back to a
// DTMF menu after MaxMisses, always let 0 or "agent" reach a human.
type FlowConfig struct {
	Greeting, Reprompt, MenuIntro, Confirm string
	Threshold                              float64
	NoInput                                time.Duration
	MaxMisses                              int
	HumanIntent                            string
	Routes                                 []Route
}

// Decision is where the flow sends the caller.
type Decision struct {
	Intent     string
	Queue      string
	Priority   string
	Confidence float64
	Utterance  string // what the caller said that decided it
	ViaDTMF    bool
	Misses     int
}

// ErrNoRoute is returned when the config has no route for the chosen intent.
var ErrNoRoute = errors.New("ivr: no route for intent")

// Run runs the flow until a decision. It returns ctx's error if the caller
// hangs up. It does not confirm the decision: the call queues first and
// then says ConfirmText, so that agents are offered the call while the
// caller hears it.
func Run(ctx context.Context, s Session, cfg FlowConfig, nlu IntentClassifier) (Decision, error) {
	if cfg.MaxMisses < 1 {
		cfg.MaxMisses = 2
	}
	if _, err := s.Say(ctx, cfg.Greeting); err != nil {
		return Decision{}, err
	}
	misses := 0
	for misses < cfg.MaxMisses {
		in, err := s.Listen(ctx, cfg.NoInput)
		if err != nil {
			return Decision{}, err
		}
		if d, ok := cfg.decide(in, nlu); ok {
			d.Misses = misses
			return d, nil
		}
		misses++
		if misses < cfg.MaxMisses {
			if _, err := s.Say(ctx, cfg.Reprompt); err != nil {
				return Decision{}, err
			}
		}
	}
	// Keypad fallback, twice, then a human with raised priority.
	for attempt := 0; attempt < 2; attempt++ {
		if _, err := s.Say(ctx, cfg.menuText(attempt == 0)); err != nil {
			return Decision{}, err
		}
		in, err := s.Listen(ctx, cfg.NoInput)
		if err != nil {
			return Decision{}, err
		}
		if d, ok := cfg.decide(in, nlu); ok {
			d.Misses = misses
			return d, nil
		}
		misses++
	}
	d, err := cfg.route(cfg.HumanIntent)
	if err != nil {
		return Decision{}, err
	}
	d.Priority, d.Misses = "high", misses
	return d, nil
}

// decide turns one input into a decision, if it is clear enough.
func (cfg FlowConfig) decide(in Input, nlu IntentClassifier) (Decision, bool) {
	switch {
	case in.Digit == '0':
		d, err := cfg.route(cfg.HumanIntent)
		d.ViaDTMF = true
		return d, err == nil
	case in.Digit != 0:
		for _, r := range cfg.Routes {
			if r.DTMF != "" && rune(r.DTMF[0]) == in.Digit {
				d, err := cfg.route(r.Intent)
				d.ViaDTMF, d.Confidence = true, 1
				return d, err == nil
			}
		}
		return Decision{}, false
	case strings.TrimSpace(in.Text) == "":
		return Decision{}, false
	}
	intent, conf := nlu.Classify(in.Text)
	if intent == "" || intent == "unknown" || (conf < cfg.Threshold && intent != cfg.HumanIntent) {
		return Decision{}, false
	}
	d, err := cfg.route(intent)
	if err != nil {
		return Decision{}, false
	}
	d.Confidence, d.Utterance = conf, in.Text
	return d, true
}

func (cfg FlowConfig) route(intent string) (Decision, error) {
	for _, r := range cfg.Routes {
		if r.Intent == intent {
			return Decision{Intent: r.Intent, Queue: r.Queue, Priority: r.Priority}, nil
		}
	}
	return Decision{}, fmt.Errorf("%w %q", ErrNoRoute, intent)
}

func (cfg FlowConfig) menuText(first bool) string {
	var b strings.Builder
	if first && cfg.MenuIntro != "" {
		b.WriteString(cfg.MenuIntro)
		b.WriteString(" ")
	}
	for _, r := range cfg.Routes {
		if r.DTMF == "" || r.Intent == cfg.HumanIntent {
			continue
		}
		fmt.Fprintf(&b, "For %s, press %s. ", r.Label, r.DTMF)
	}
	b.WriteString("To speak to an agent, press 0.")
	return b.String()
}

// ConfirmText is what the caller hears once the flow has decided, e.g.
// "Thanks. Connecting you to our order status team."
func (cfg FlowConfig) ConfirmText(d Decision) string {
	if cfg.Confirm == "" {
		return ""
	}
	label := "an agent"
	for _, r := range cfg.Routes {
		if r.Intent == d.Intent && r.Label != "" && r.Intent != cfg.HumanIntent {
			label = "our " + r.Label + " team"
		}
	}
	text := cfg.Confirm
	if strings.Contains(text, "%s") {
		text = fmt.Sprintf(text, label)
	}
	return text
}
