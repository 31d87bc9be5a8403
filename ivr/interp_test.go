package ivr

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/ivr/kb"
)

// caller is a scripted Session that knows its call and records language
// switches.
type caller struct {
	scripted
	info  CallInfo
	langs []string
}

func (c *caller) CallInfo() CallInfo      { return c.info }
func (c *caller) SetLanguage(lang string) { c.langs = append(c.langs, lang) }

// fakeNLU understands by keyword with a fixed confidence per keyword.
type fakeNLU map[string]struct {
	intent string
	conf   float64
}

func (f fakeNLU) Classify(text string) (string, float64) {
	u, _ := f.Understand(context.Background(), text, "")
	return u.Intent, u.Confidence
}

func (f fakeNLU) Understand(_ context.Context, text, _ string) (Understanding, error) {
	u := Understanding{Intent: Unknown, Confidence: 0.1, Slots: ExtractSlots(text, time.Now())}
	for kw, v := range f {
		if strings.Contains(text, kw) {
			u.Intent, u.Confidence, u.Candidate = v.intent, v.conf, v.intent
			if v.conf < 0.4 { // below the classifier's own threshold
				u.Intent = Unknown
			}
		}
	}
	return u, nil
}

var demoNLU = fakeNLU{
	"order":    {"order_status", 0.9},
	"pedido":   {"order_status", 0.9},
	"bill":     {"billing", 0.9},
	"charge":   {"billing", 0.42}, // unsure: confirm
	"money":    {"returns", 0.33}, // the classifier says unknown, but close: confirm
	"agent":    {"human", 0.99},
	"persona":  {"human", 0.99},
	"internet": {"tech_support", 0.9},
}

var demoRoutes = []Route{
	{Intent: "order_status", Queue: "orders", Priority: "normal", DTMF: "1", Label: "order status"},
	{Intent: "returns", Queue: "returns", Priority: "normal", DTMF: "2", Label: "returns and refunds"},
	{Intent: "billing", Queue: "billing", Priority: "normal", DTMF: "3", Label: "billing and payments"},
	{Intent: "tech_support", Queue: "support", Priority: "normal", DTMF: "4", Label: "technical support"},
	{Intent: "human", Queue: "general", Priority: "normal", DTMF: "0", Label: "speak to someone"},
}

// counter is an Observer counting enters and exits per node.
type counter struct {
	enter, exit map[string]int
	to          map[string]string
}

func (c *counter) NodeEvent(e NodeEvent) {
	if e.Exit {
		c.exit[e.Node]++
		c.to[e.Node] = e.To
	} else {
		c.enter[e.Node]++
	}
}

type customers map[string]bool

func (c customers) KnownCustomer(_ context.Context, n string) (bool, error) {
	if n == "+1broken" {
		return false, errors.New("store down")
	}
	return c[n], nil
}

func TestDemoFlowCalls(t *testing.T) {
	flow, err := LoadFlow(os.DirFS("../config"), "flows/northwind.yaml", demoEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	lib, err := kb.LoadLibrary(os.DirFS("../config"), "kb", "en")
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	tuesday := time.Date(2026, 3, 10, 10, 0, 0, 0, ny)
	sunday := time.Date(2026, 3, 15, 10, 0, 0, 0, ny)
	type want struct {
		intent, queue, prio, lang string
		outcome                   string
		contained, dtmf           bool
		slot                      string // order_number
		said                      []string
		notSaid                   []string
		confirm                   string // ConfirmText prefix
	}
	tests := []struct {
		name   string
		from   string
		to     string
		now    time.Time
		inputs []Input
		want   want
	}{
		{name: "order with its number", inputs: []Input{{Text: "where is my order five eight two one three"}},
			want: want{intent: "order_status", queue: "orders", prio: "normal", lang: "en", outcome: OutcomeTransfer, slot: "58213",
				notSaid: []string{"order number?"}, confirm: "Thanks. Connecting you to our order status team."}},
		{name: "order number keyed", inputs: []Input{{Text: "where is my order"}, {Digit: '5'}, {Digit: '8'}, {Digit: '2'}, {Digit: '1'}, {Digit: '3'}, {Digit: '#'}},
			want: want{intent: "order_status", queue: "orders", prio: "normal", lang: "en", outcome: OutcomeTransfer, slot: "58213", dtmf: true,
				said: []string{"What's your order number?"}}},
		{name: "order number not given: transfer anyway", inputs: []Input{{Text: "where is my order"}, {Timeout: true}},
			want: want{intent: "order_status", queue: "orders", prio: "normal", lang: "en", outcome: OutcomeTransfer}},
		{name: "low confidence confirmed", inputs: []Input{{Text: "there is a charge"}, {Text: "yes it is"}},
			want: want{intent: "billing", queue: "billing", prio: "normal", lang: "en", outcome: OutcomeTransfer, said: []string{"Is this about billing and payments?"}}},
		{name: "below threshold candidate confirmed", inputs: []Input{{Text: "i want my money"}, {Text: "yeah"}},
			want: want{intent: "returns", queue: "returns", prio: "normal", lang: "en", outcome: OutcomeTransfer, said: []string{"Is this about returns and refunds?"}}},
		{name: "confirmation denied then menu key", inputs: []Input{{Text: "there is a charge"}, {Text: "no"}, {Timeout: true}, {Digit: '4'}},
			want: want{intent: "tech_support", queue: "support", prio: "normal", lang: "en", outcome: OutcomeTransfer, dtmf: true,
				said: []string{"Let's use the keypad instead. For order status, press 1.", "To speak to an agent, press 0."}}},
		{name: "zero is always a person", inputs: []Input{{Digit: '0'}},
			want: want{intent: "human", queue: "general", prio: "normal", lang: "en", outcome: OutcomeTransfer, dtmf: true}},
		{name: "frustrated: swears and asks for an agent", inputs: []Input{{Text: "this is bloody useless get me an agent"}},
			want: want{intent: "human", queue: "general", prio: "high", lang: "en", outcome: OutcomeTransfer}},
		{name: "frustrated: two misses then agent", inputs: []Input{{Text: "blah"}, {Text: "hmm"}, {Text: "agent"}},
			want: want{intent: "human", queue: "general", prio: "high", lang: "en", outcome: OutcomeTransfer}},
		{name: "nothing at all: person at raised priority", inputs: nil,
			want: want{intent: "human", queue: "general", prio: "high", lang: "en", outcome: OutcomeTransfer}},
		{name: "self-service answer helps", inputs: []Input{{Text: "when are your phone lines open on saturday"}, {Text: "yes thanks"}},
			want: want{intent: Unknown, lang: "en", outcome: OutcomeHangup, contained: true,
				said: []string{"Here's what I found. Our phone lines are open Monday to Friday", "Did that answer your question?", "Goodbye."}}},
		{name: "self-service answer does not help", inputs: []Input{{Text: "how do i reset my password"}, {Text: "no"}},
			want: want{intent: "human", queue: "general", prio: "normal", lang: "en", outcome: OutcomeTransfer, said: []string{"reset link"}}},
		{name: "VIP goes straight through", from: "+15550199",
			want: want{intent: "human", queue: "general", prio: "high", lang: "en", outcome: OutcomeTransfer, notSaid: []string{"Thanks for calling"},
				confirm: "Welcome back."}},
		{name: "Spanish by dialled number", to: "+34910000000", inputs: []Input{{Text: "dónde está mi pedido"}},
			want: want{intent: "order_status", queue: "orders", prio: "normal", lang: "es", outcome: OutcomeTransfer,
				said: []string{"Gracias por llamar a Northwind."}, notSaid: []string{"order number"}, confirm: "Gracias. Le paso con un agente."}},
		{name: "Spanish out of hours", to: "+34910000000", now: sunday,
			want: want{lang: "es", outcome: OutcomeHangup, said: []string{"Nuestras líneas están cerradas."}}},
		{name: "Spanish detected from speech", inputs: []Input{{Text: "hola quiero hablar con una persona"}},
			want: want{intent: "human", queue: "general", prio: "normal", lang: "es", outcome: OutcomeTransfer}},
		{name: "Spanish as the recogniser heard it", inputs: []Input{{Text: "agente", Language: "es"}},
			want: want{intent: "human", queue: "general", prio: "normal", lang: "es", outcome: OutcomeTransfer}},
		{name: "a language the flow lacks falls back to the words", inputs: []Input{{Text: "hola quiero hablar con una persona", Language: "fr"}},
			want: want{intent: "human", queue: "general", prio: "normal", lang: "es", outcome: OutcomeTransfer}},
		{name: "Spanish menu", to: "+34910000000", inputs: []Input{{Text: "eh"}, {Timeout: true}, {Digit: '3'}},
			want: want{intent: "billing", queue: "billing", prio: "normal", lang: "es", outcome: OutcomeTransfer, dtmf: true,
				said: []string{"Usemos el teclado. Para order status, pulse 1.", "Para hablar con un agente, pulse 0."}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := tuesday
			if !tc.now.IsZero() {
				now = tc.now
			}
			from := tc.from
			if from == "" {
				from = "+15550101"
			}
			s := &caller{scripted: scripted{inputs: tc.inputs}, info: CallInfo{ID: "c1", From: from, To: tc.to}}
			obs := &counter{enter: map[string]int{}, exit: map[string]int{}, to: map[string]string{}}
			cfg := FlowConfig{Confirm: "Thanks. Connecting you to %s.", NoInput: time.Second, HumanIntent: "human", Routes: demoRoutes,
				Graph: flow, KB: lib, Observer: obs, Now: func() time.Time { return now }}
			d, err := Run(context.Background(), s, cfg, demoNLU)
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			if d.Intent != w.intent || d.Queue != w.queue || d.Priority != w.prio || d.Language != w.lang || d.Outcome != w.outcome ||
				d.Contained != w.contained || d.ViaDTMF != w.dtmf || d.Slots[SlotOrderNumber] != w.slot {
				t.Fatalf("decision = %+v\nsaid %q", d, s.said)
			}
			all := strings.Join(s.said, " | ")
			for _, p := range w.said {
				if !strings.Contains(all, p) {
					t.Errorf("never said %q; said %q", p, s.said)
				}
			}
			for _, p := range w.notSaid {
				if strings.Contains(all, p) {
					t.Errorf("said %q; said %q", p, s.said)
				}
			}
			if w.confirm != "" && !strings.HasPrefix(cfg.ConfirmText(d), w.confirm) {
				t.Errorf("ConfirmText = %q, want %q…", cfg.ConfirmText(d), w.confirm)
			}
			if w.outcome == OutcomeHangup && cfg.ConfirmText(d) != "" {
				t.Errorf("a hang-up has a confirmation: %q", cfg.ConfirmText(d))
			}
			// Every node entered is left, once per visit, and the path lists them.
			for _, id := range d.Path {
				if obs.enter[id] == 0 || obs.enter[id] != obs.exit[id] {
					t.Errorf("node %s: %d enters, %d exits", id, obs.enter[id], obs.exit[id])
				}
			}
			last := d.Path[len(d.Path)-1]
			if want := map[string]string{OutcomeTransfer: ExitTransfer, OutcomeHangup: ExitHangup}[d.Outcome]; obs.to[last] != want {
				t.Errorf("last node %s left to %q, want %q", last, obs.to[last], want)
			}
			if w.lang == "es" && (len(s.langs) == 0 || s.langs[len(s.langs)-1] != "es") {
				t.Errorf("session languages = %v", s.langs)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	flow, err := ParseFlow("cond.yaml", []byte(`
start: b
timezone: Europe/Madrid
hours: {mon-fri: "09:00-18:00"}
holidays: ["2026-01-06"]
nodes:
  b:
    kind: branch
    next:
      - {holiday: true, goto: holiday}
      - {open: false, goto: closed}
      - {known_customer: true, goto: known}
      - goto: stranger
  holiday: {kind: hangup, say: holiday}
  closed: {kind: hangup, say: closed}
  known: {kind: hangup, say: known}
  stranger: {kind: hangup, say: stranger}
`), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	mad, _ := time.LoadLocation("Europe/Madrid")
	open := time.Date(2026, 3, 10, 10, 0, 0, 0, mad)
	tests := []struct {
		name, from string
		now        time.Time
		want       string
	}{
		{"known customer", "+34600000001", open, "known"},
		{"stranger", "+34600000002", open, "stranger"},
		{"lookup failure is not known", "+1broken", open, "stranger"},
		{"closed at night", "+34600000001", time.Date(2026, 3, 10, 18, 0, 0, 0, mad), "closed"},
		{"open in Madrid, not in UTC terms", "+34600000001", time.Date(2026, 3, 10, 8, 30, 0, 0, time.UTC), "known"},
		{"holiday", "+34600000001", time.Date(2026, 1, 6, 10, 0, 0, 0, mad), "holiday"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &caller{info: CallInfo{From: tc.from}}
			_, err := Run(context.Background(), s, FlowConfig{Graph: flow, Customers: customers{"+34600000001": true},
				Now: func() time.Time { return tc.now }}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.said) != 1 || s.said[0] != tc.want {
				t.Fatalf("said %q, want %q", s.said, tc.want)
			}
		})
	}
}

func TestSlotAsks(t *testing.T) {
	tests := []struct {
		slot   string
		inputs []Input
		want   string
	}{
		{SlotAccountNumber, []Input{{Text: "it's four four one two nine"}}, "44129"},
		{SlotAccountNumber, []Input{{Digit: '4'}, {Digit: '4'}, {Digit: '1'}, {Digit: '2'}, {Digit: '*'}, {Digit: '7'}, {Digit: '7'}, {Digit: '7'}, {Digit: '7'}, {Digit: '#'}}, "7777"},
		{SlotAccountNumber, []Input{{Digit: '1'}, {Digit: '2'}, {Digit: '3'}, {Digit: '4'}, {Digit: '5'}, {Timeout: true}}, "12345"},
		{SlotDate, []Input{{Text: "yesterday"}}, "2026-03-09"},
		{SlotDate, []Input{{Text: "no idea"}, {Text: "the fifth of march"}}, "2026-03-05"},
		{SlotAmount, []Input{{Text: "forty nine dollars ninety nine"}}, "49.99"},
		{SlotYesNo, []Input{{Text: "yes please"}}, "yes"},
		{SlotYesNo, []Input{{Digit: '2'}, {Timeout: true}}, "no"},
		{SlotOrderNumber, []Input{{Digit: '1'}, {Digit: '2'}, {Digit: '#'}, {Timeout: true}}, ""}, // too short, then nothing
	}
	for _, tc := range tests {
		t.Run(tc.slot+"/"+tc.want, func(t *testing.T) {
			flow, err := ParseFlow("slot.yaml", []byte(`
start: q
defaults: {retries: 1}
nodes:
  q: {kind: ask, slot: `+tc.slot+`, say: "Tell me", next: [{slot: `+tc.slot+`, goto: got}, {goto: none}]}
  got: {kind: hangup, say: got}
  none: {kind: hangup, say: none}
`), testEnv)
			if err != nil {
				t.Fatal(err)
			}
			s := &caller{scripted: scripted{inputs: tc.inputs}}
			d, err := Run(context.Background(), s, FlowConfig{Graph: flow, Now: func() time.Time { return time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) }}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d.Slots[tc.slot] != tc.want {
				t.Fatalf("slot = %q, want %q (said %q)", d.Slots[tc.slot], tc.want, s.said)
			}
			if wantEnd := map[bool]string{true: "got", false: "none"}[tc.want != ""]; s.said[len(s.said)-1] != wantEnd {
				t.Fatalf("ended with %q, want %q", s.said[len(s.said)-1], wantEnd)
			}
		})
	}
}

func TestLoopIsAnError(t *testing.T) {
	flow, err := ParseFlow("loop.yaml", []byte("start: a\nnodes:\n  a: {kind: prompt, say: hi, next: b}\n  b: {kind: branch, next: a}\n"), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), &caller{}, FlowConfig{Graph: flow}, nil)
	if !errors.Is(err, ErrLoop) {
		t.Fatalf("err = %v, want ErrLoop", err)
	}
}

func TestHangupMidFlowIsReported(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	obs := &counter{enter: map[string]int{}, exit: map[string]int{}, to: map[string]string{}}
	_, err := Run(ctx, cancelSession{}, FlowConfig{HumanIntent: "human", Routes: demoRoutes, Observer: obs}, demoNLU)
	if !errors.Is(err, context.Canceled) || obs.to["ask"] != ExitCallerHangup {
		t.Fatalf("err = %v, exits %v", err, obs.to)
	}
}

// TestDIDEntry: a trunk's DID table starts a call in another node than
// start; entries must name nodes, and count as roots for reachability.
func TestDIDEntry(t *testing.T) {
	env := demoEnv(t)
	env.Entries = []string{"menu"}
	flow, err := LoadFlow(os.DirFS("../config"), "flows/northwind.yaml", env)
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	cfg := FlowConfig{Confirm: "Thanks. Connecting you to %s.", NoInput: time.Second, HumanIntent: "human", Routes: demoRoutes,
		Graph: flow, Now: func() time.Time { return time.Date(2026, 3, 10, 10, 0, 0, 0, ny) }}
	s := &caller{scripted: scripted{inputs: []Input{{Digit: '3'}}}, info: CallInfo{From: "+15550104", To: "+15550155", Entry: "menu"}}
	d, err := Run(context.Background(), s, cfg, demoNLU)
	if err != nil {
		t.Fatal(err)
	}
	if d.Queue != "billing" || !d.ViaDTMF || len(d.Path) == 0 || d.Path[0] != "menu" {
		t.Fatalf("decision %+v, want billing by keypad from the menu node", d)
	}
	if len(s.said) == 0 || !strings.Contains(s.said[0], "keypad") {
		t.Fatalf("first prompt %q, want the menu", s.said)
	}
	env.Entries = []string{"nowhere"}
	if _, err := LoadFlow(os.DirFS("../config"), "flows/northwind.yaml", env); err == nil || !strings.Contains(err.Error(), `DID entry "nowhere" is not a node`) {
		t.Fatalf("unknown entry: %v", err)
	}
}
