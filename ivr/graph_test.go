package ivr

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var testEnv = FlowEnv{
	Intents:   []string{"order_status", "billing", "human"},
	Queues:    []string{"orders", "billing", "general"},
	Languages: []string{"en", "es"},
}

// demoEnv reads the demo config's intents and queues.
func demoEnv(t *testing.T) FlowEnv {
	t.Helper()
	b, err := os.ReadFile("../config/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		IVR struct {
			Languages map[string]any `yaml:"languages"`
		} `yaml:"ivr"`
		Intents []struct{ Name string } `yaml:"intents"`
		Queues  []struct{ Name string } `yaml:"queues"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	env := FlowEnv{Languages: []string{"en"}}
	for _, in := range c.Intents {
		env.Intents = append(env.Intents, in.Name)
	}
	for _, q := range c.Queues {
		env.Queues = append(env.Queues, q.Name)
	}
	for l := range c.IVR.Languages {
		env.Languages = append(env.Languages, l)
	}
	return env
}

func TestDemoFlowIsValid(t *testing.T) {
	f, err := LoadFlow(os.DirFS("../config"), "flows/northwind.yaml", demoEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	if f.Start != "welcome" || f.Nodes["main"].Kind != KindAsk || f.Languages.DID["+34910000000"] != "es" {
		t.Fatalf("flow = %+v", f)
	}
	ny, _ := time.LoadLocation("America/New_York")
	for _, tc := range []struct {
		at   time.Time
		open bool
	}{
		{time.Date(2026, 3, 10, 9, 0, 0, 0, ny), true},         // Tuesday 9:00
		{time.Date(2026, 3, 10, 20, 0, 0, 0, ny), false},       // closes at 20:00
		{time.Date(2026, 3, 14, 16, 59, 0, 0, ny), true},       // Saturday
		{time.Date(2026, 3, 15, 12, 0, 0, 0, ny), false},       // Sunday closed
		{time.Date(2026, 7, 4, 12, 0, 0, 0, ny), false},        // holiday (a Saturday)
		{time.Date(2026, 3, 10, 13, 30, 0, 0, time.UTC), true}, // 9:30 in New York
	} {
		if got := f.Open(tc.at); got != tc.open {
			t.Errorf("Open(%v) = %v, want %v", tc.at, got, tc.open)
		}
	}
}

const goodFlow = `
start: main
nodes:
  main:
    kind: ask
    say: {en: "How can I help?", es: "¿En qué puedo ayudarle?"}
    next:
      - {intent: billing, goto: bill}
      - goto: route
  bill:
    kind: transfer
    queue: billing
  route:
    kind: transfer
`

func TestFlowValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(string) string
		want string // substring of the error
	}{
		{"ok", func(s string) string { return s }, ""},
		{"unknown top-level field", func(s string) string { return s + "colour: red\n" }, "flow.yaml: line 15: field colour not found"},
		{"unknown node field", func(s string) string {
			return strings.Replace(s, "queue: billing", "queue: billing\n    colour: red", 1)
		}, "field colour not found"},
		{"unknown edge field", func(s string) string {
			return strings.Replace(s, "{intent: billing, goto: bill}", "{intent: billing, go: bill}", 1)
		}, "field go not found"},
		{"bad kind", func(s string) string { return strings.Replace(s, "kind: ask", "kind: question", 1) }, `flow.yaml:4: node "main": kind: want prompt, branch`},
		{"missing start", func(s string) string { return strings.Replace(s, "start: main", "start: nope", 1) }, `start: node "nope" does not exist`},
		{"edge to nowhere", func(s string) string { return strings.Replace(s, "goto: bill}", "goto: bil}", 1) }, `flow.yaml:4: node "main": next[0].goto: node "bil" does not exist`},
		{"unknown intent in edge", func(s string) string { return strings.Replace(s, "intent: billing,", "intent: bills,", 1) }, `next[0].intent: unknown intent "bills"`},
		{"no default edge", func(s string) string { return strings.Replace(s, "      - goto: route\n", "", 1) }, `next[0]: the last edge must have no conditions`},
		{"unknown queue", func(s string) string { return strings.Replace(s, "queue: billing", "queue: bills", 1) }, `node "bill": queue: queue "bills" is not in the config's queues`},
		{"field of another kind", func(s string) string {
			return strings.Replace(s, "queue: billing", "queue: billing\n    slot: order_number", 1)
		}, `node "bill": slot: a transfer node does not take slot`},
		{"missing language text", func(s string) string { return strings.Replace(s, `, es: "¿En qué puedo ayudarle?"`, "", 1) }, `say: no text for language "es"`},
		{"bad slot", func(s string) string { return strings.Replace(s, "kind: ask\n", "kind: ask\n    slot: shoe_size\n", 1) }, `slot: want one of`},
		{"unreachable", func(s string) string { return s + "  lost:\n    kind: hangup\n" }, `node "lost": not reachable from start`},
		{"bad timezone", func(s string) string { return "timezone: Mars/Olympus\n" + s }, `timezone: unknown time zone "Mars/Olympus"`},
		{"bad hours", func(s string) string { return "hours: {mon-fri: \"9 to 5\"}\n" + s }, `hours.mon-fri: want times like`},
		{"bad day", func(s string) string { return "hours: {funday: \"09:00-17:00\"}\n" + s }, `hours.funday: want days like`},
		{"bad holiday", func(s string) string { return "holidays: [christmas]\n" + s }, `holidays[0]: want a date`},
		{"unknown DID language", func(s string) string { return "languages: {did: {\"+1\": fr}}\n" + s }, `languages.did.+1: unknown language "fr"`},
		{"bad threshold", func(s string) string { return "defaults: {threshold: 2}\n" + s }, `defaults.threshold: must be between 0 and 1`},
		{"menu key 0", func(s string) string {
			return strings.Replace(s, "  route:\n    kind: transfer\n", "  route:\n    kind: menu\n    say: x\n    options: {\"0\": {goto: bill}}\n", 1)
		}, `options.0: key 0 always reaches an agent`},
		{"answer without yes", func(s string) string {
			return strings.Replace(s, "  route:\n    kind: transfer\n", "  route:\n    kind: answer\n    no: bill\n", 1)
		}, `yes: an answer node needs yes`},
		{"short wait", func(s string) string { return strings.Replace(s, "kind: ask\n", "kind: ask\n    no_input: 10ms\n", 1) }, `no_input: want between 500ms and 1m`},
		{"empty", func(string) string { return "" }, "empty flow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFlow("flow.yaml", []byte(tc.edit(goodFlow)), testEnv)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
			var fe *FlowError
			if !errors.As(err, &fe) || !errors.Is(err, ErrBadFlow) {
				t.Fatalf("err %v is not a *FlowError wrapping ErrBadFlow", err)
			}
		})
	}
}
