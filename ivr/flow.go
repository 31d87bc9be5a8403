package ivr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/contactd/contactd/ivr/kb"
)

// Input is what the caller did in answer to a prompt: said something, pressed
// a key, or nothing before the timeout.
type Input struct {
	Text       string
	Confidence float64
	Digit      rune // 0 when none
	Timeout    bool
	// Language is the language the recogniser heard (ISO 639-1), when it
	// says; the flow's first-utterance detection prefers it to guessing
	// from the words.
	Language string
	// Early says the turn ended at a pause the flow judged a whole
	// request (TurnListener), before the end-of-speech silence.
	Early bool
}

// Session is what a flow needs from the call that runs it. The call's owner
// goroutine implements it; the flow runs on that goroutine. A Session may
// also implement CallInformer (who called which number) and LanguageSetter
// (switch the synthesiser's voice).
type Session interface {
	// Say speaks text. It returns early (barged true) when the caller starts
	// speaking or presses a key; that input is then returned by the next Listen.
	Say(ctx context.Context, text string) (barged bool, err error)
	// Listen waits up to timeout for the caller's next utterance or key.
	Listen(ctx context.Context, timeout time.Duration) (Input, error)
}

// CallInfo identifies a call for conditions (VIP, known customer, dialled
// number) and analytics.
type CallInfo struct {
	ID   string
	From string // the caller's number
	To   string // the dialled number (DID) or user
	// Entry is the node to start in instead of the flow's start (a
	// trunk's DID table maps dialled numbers to entries); empty or
	// unknown: the flow's start.
	Entry string
}

// CallInformer is a Session that knows its call.
type CallInformer interface {
	CallInfo() CallInfo
}

// LanguageSetter is a Session that can change the language it speaks in;
// the flow calls it whenever the call's language is chosen or changes.
type LanguageSetter interface {
	SetLanguage(lang string)
}

// IntentClassifier is the consumer-side view of the NLU. When it also
// implements Understander (the embedded Classifier, Simple, Languages and
// ivr/llm do), flows get candidates for confirmation, slots and languages.
type IntentClassifier interface {
	Classify(text string) (intent string, confidence float64)
}

// Knowledge is the knowledge base answer nodes search (kb.Library).
type Knowledge interface {
	SearchLang(lang, query string, k int) []kb.Hit
}

// CustomerLookup says whether a caller's number belongs to a known
// customer; the store implements it.
type CustomerLookup interface {
	KnownCustomer(ctx context.Context, number string) (bool, error)
}

// NodeEvent is one caller entering or leaving one flow node.
type NodeEvent struct {
	CallID   string
	Flow     string
	Node     string
	Kind     Kind
	Exit     bool   // false: entered, true: left
	To       string // on exit: the next node, or ExitTransfer, ExitHangup, ExitCallerHangup
	Language string
	At       time.Time
}

// Exit reasons in NodeEvent.To besides a next node.
const (
	ExitTransfer     = "(transfer)"
	ExitHangup       = "(hangup)"
	ExitCallerHangup = "(caller hung up)"
)

// Observer receives node events for analytics. It is called on the call's
// goroutine and must return quickly (buffer, store elsewhere).
type Observer interface {
	NodeEvent(NodeEvent)
}

// Route says where callers with an intent go.
type Route struct {
	Intent   string
	Queue    string
	Priority string
	DTMF     string // one key of the fallback menu, "" = not in the menu
	Label    string // spoken in the menu and confirmation ("order status")
}

// FlowConfig is what Run needs besides the session and the NLU. Without a
// Graph, Run runs DefaultFlow(cfg): greet, ask, classify, reprompt, the
// DTMF menu after MaxMisses, 0 or "agent" to a human.
type FlowConfig struct {
	Greeting, Reprompt, MenuIntro, Confirm string
	Threshold                              float64
	NoInput                                time.Duration
	MaxMisses                              int
	HumanIntent                            string
	Routes                                 []Route

	// Graph is the flow to run (LoadFlow); nil: DefaultFlow of the fields above.
	Graph *Flow
	// KB answers answer nodes; nil: they always take no_match.
	KB Knowledge
	// Customers answers known_customer conditions; nil: never known.
	Customers CustomerLookup
	// Observer gets node enter/exit events; nil: none.
	Observer Observer
	// Now is the clock for business hours; nil: time.Now.
	Now func() time.Time
	// Log is for lookups that fail; nil: slog.Default().
	Log *slog.Logger
}

// Decision is how the flow ended: a transfer to a queue, or a hang-up.
type Decision struct {
	Intent     string
	Queue      string
	Priority   string
	Confidence float64
	Utterance  string // what the caller said that decided it
	// EarlyTurn: that utterance was taken at a pause inside it (Input.Early).
	EarlyTurn bool
	ViaDTMF   bool
	Misses    int

	// Outcome is OutcomeTransfer (queue the call) or OutcomeHangup (the flow
	// said goodbye; hang up).
	Outcome string
	// Contained is true when the caller hung up satisfied by a
	// self-service answer.
	Contained bool
	// Language is the call's language ("en").
	Language string
	// Slots are the values collected (order_number, account_number, date,
	// amount, yes_no).
	Slots map[string]string
	// Path lists the nodes visited, in order.
	Path []string
	// Articles lists the knowledge-base articles spoken (paths).
	Articles []string
	// Frustration is the caller's frustration score at the end.
	Frustration int
	// Confirm is what to say once the call is queued; ConfirmText uses it.
	Confirm string
}

// Outcomes of a Decision.
const (
	OutcomeTransfer = "transfer"
	OutcomeHangup   = "hangup"
)

// Errors of Run.
var (
	ErrNoRoute = errors.New("ivr: no route for intent")
	ErrLoop    = errors.New("ivr: flow visited too many nodes")
)

// Run runs the flow until a decision. It returns ctx's error if the caller
// hangs up. A transfer's confirmation is not spoken: the call queues first
// and then says ConfirmText, so that agents are offered the call while the
// caller hears it. A hang-up's goodbye has been spoken.
func Run(ctx context.Context, s Session, cfg FlowConfig, nlu IntentClassifier) (Decision, error) {
	f := cfg.Graph
	if f == nil {
		var err error
		if f, err = DefaultFlow(cfg); err != nil {
			return Decision{}, err
		}
	}
	r := newRunner(ctx, s, cfg, f, nlu)
	return r.run()
}

// DefaultFlow is the flow FlowConfig describes without a Graph: ask with
// Greeting, reprompt with Reprompt up to MaxMisses, then the keypad menu of
// the routes' keys (twice), then a human at raised priority.
func DefaultFlow(cfg FlowConfig) (*Flow, error) {
	if cfg.MaxMisses < 1 {
		cfg.MaxMisses = 2
	}
	retries, menuRetries := cfg.MaxMisses-1, 1
	f := &Flow{
		Name:  "(default flow)",
		Start: "ask",
		Defaults: Defaults{Threshold: cfg.Threshold, // no_input: FlowConfig.NoInput
			Frustration: cfg.MaxMisses + 1, MinScore: 0.35},
		Nodes: map[string]*Node{
			"ask": {Kind: KindAsk, Say: Text{"": cfg.Greeting}, Reprompt: Text{"": cfg.Reprompt},
				Retries: &retries, Next: Edges{{Goto: "transfer"}}, OnFail: "menu"},
			"menu": {Kind: KindMenu, Say: Text{"": cfg.MenuIntro}, FromIntents: true, Retries: &menuRetries,
				Next: Edges{{Goto: "transfer"}}},
			"transfer": {Kind: KindTransfer},
		},
	}
	if f.Defaults.Threshold == 0 {
		f.Defaults.Threshold = 1e-9 // legacy: any known intent
	}
	env := FlowEnv{}
	for _, r := range cfg.Routes {
		env.Intents = append(env.Intents, r.Intent)
		env.Queues = append(env.Queues, r.Queue)
	}
	if err := f.compile(env); err != nil {
		return nil, fmt.Errorf("ivr: default flow: %w", err)
	}
	return f, nil
}

// ConfirmText is what the caller hears once the flow has decided, e.g.
// "Thanks. Connecting you to our order status team.": the transfer node's
// say text, else Confirm with %s the route's label. Empty for a hang-up.
func (cfg FlowConfig) ConfirmText(d Decision) string {
	if d.Outcome == OutcomeHangup {
		return ""
	}
	text := cfg.Confirm
	if d.Confirm != "" {
		text = d.Confirm
	}
	if text == "" {
		return ""
	}
	label := "an agent"
	for _, r := range cfg.Routes {
		if r.Intent == d.Intent && r.Label != "" && r.Intent != cfg.HumanIntent {
			label = "our " + r.Label + " team"
		}
	}
	if strings.Contains(text, "%s") {
		text = fmt.Sprintf(text, label)
	}
	return text
}

func (cfg FlowConfig) route(intent string) (Route, bool) {
	for _, r := range cfg.Routes {
		if r.Intent == intent {
			return r, true
		}
	}
	return Route{}, false
}

func (cfg FlowConfig) humanIntent() string {
	if cfg.HumanIntent != "" {
		return cfg.HumanIntent
	}
	return HumanIntent
}
