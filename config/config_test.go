package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDemoIsValid(t *testing.T) {
	c, err := Parse("demo", Demo())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"order_status", "returns", "billing", "tech_support", "account_access", "cancel", "sales", "complaint", "human"}
	if len(c.Intents) != len(want) {
		t.Fatalf("demo has %d intents, want %d", len(c.Intents), len(want))
	}
	for _, name := range want {
		in, ok := c.Intent(name)
		if !ok {
			t.Fatalf("demo lacks intent %s", name)
		}
		if len(in.Examples) < 15 {
			t.Errorf("intent %s has %d examples, want at least 15", name, len(in.Examples))
		}
		q, ok := c.Queue(in.Queue)
		if !ok {
			t.Fatalf("intent %s: queue %s missing", name, in.Queue)
		}
		served := false
		for _, a := range c.Agents {
			served = served || a.Skills[q.Skill] > 0
		}
		if !served {
			t.Errorf("no demo agent has skill %s for intent %s", q.Skill, name)
		}
	}
	if c.IVR.NoInputTimeout.D() != 8*time.Second || c.HTTP.Addr != "127.0.0.1:8080" || c.SIP.Addr != "0.0.0.0:5060" ||
		c.HTTP.SessionTTL.D() != 12*time.Hour || c.HTTP.SessionIdle.D() != time.Hour || c.HTTP.TLSCert != "" {
		t.Errorf("defaults changed: %+v %+v %+v", c.IVR, c.HTTP, c.SIP)
	}
}

func TestBadConfigNamesFieldAndWhy(t *testing.T) {
	base := string(Demo())
	tests := []struct {
		name   string
		edit   func(string) string
		want   string
		wantFE bool
	}{
		{"unknown field", func(s string) string { return s + "\ncolour: red\n" }, "field colour not found", false},
		{"bad yaml", func(s string) string { return s + "\nqueues: [\n" }, "yaml", false},
		{"bad duration", func(s string) string {
			return strings.Replace(s, "no_input_timeout: 8s", "no_input_timeout: soon", 1)
		}, "want a duration", false},
		{"intent names a missing queue", func(s string) string {
			return strings.Replace(s, "queue: orders", "queue: nowhere", 1)
		}, `intents[0].queue: intent "order_status" names queue "nowhere", which is not in queues`, true},
		{"threshold out of range", func(s string) string {
			return strings.Replace(s, "confidence_threshold: 0.3", "confidence_threshold: 3", 1)
		}, "ivr.confidence_threshold: must be between 0 and 1", true},
		{"bad proficiency", func(s string) string {
			return strings.Replace(s, "skills: {orders: 8,", "skills: {orders: 11,", 1)
		}, "agents[0].skills.orders: proficiency must be 1-10, got 11", true},
		{"dtmf 0 is the agent's", func(s string) string {
			return strings.Replace(s, `dtmf: "1"`, `dtmf: "0"`, 1)
		}, "intents[0].dtmf: key 0 always reaches an agent", true},
		{"rtp range", func(s string) string {
			return strings.Replace(s, "rtp_port_max: 29999", "rtp_port_max: 100", 1)
		}, "sip.rtp_port_min", true},
		{"unknown nlu provider", func(s string) string {
			return strings.Replace(s, "nlu:\n  provider: embedded", "nlu:\n  provider: magic", 1)
		}, `nlu.provider: want embedded or openai, got "magic"`, true},
		{"openai without model", func(s string) string {
			return strings.Replace(s, "nlu:\n  provider: embedded", "nlu:\n  provider: openai\n  options: {url: \"http://x\"}", 1)
		}, "nlu.options: provider openai needs url and model", true},
		{"tls cert without key", func(s string) string {
			return strings.Replace(s, "  addr: 127.0.0.1:8080\n", "  addr: 127.0.0.1:8080\n  tls_cert: cert.pem\n", 1)
		}, "http.tls_cert: set both tls_cert and tls_key", true},
		{"idle beyond the lifetime", func(s string) string {
			return strings.Replace(s, "  addr: 127.0.0.1:8080\n", "  addr: 127.0.0.1:8080\n  session_ttl: 1h\n  session_idle: 2h\n", 1)
		}, "http.session_idle: want 0 < session_idle <= session_ttl", true},
		{"bad origin pattern", func(s string) string {
			return strings.Replace(s, "  addr: 127.0.0.1:8080\n", "  addr: 127.0.0.1:8080\n  allowed_origins: [\"*\"]\n", 1)
		}, "http.allowed_origins[0]", true},
		{"language names a missing intent", func(s string) string {
			return strings.Replace(s, "        billing: [", "        bills: [", 1)
		}, `ivr.languages.es.intents.bills: intent "bills" is not in intents`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y := tc.edit(base)
			if y == base {
				t.Fatal("edit did not change the demo config; the test is stale")
			}
			_, err := Parse("test.yaml", []byte(y))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "test.yaml") {
				t.Fatalf("err = %v, want it to name test.yaml and contain %q", err, tc.want)
			}
			var fe *FieldError
			if tc.wantFE && !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FieldError", err)
			}
		})
	}
}

func TestLoadAppliesEnvironment(t *testing.T) {
	env := map[string]string{
		"CONTACTD_HTTP_ADDR": "127.0.0.1:9999", "CONTACTD_SIP_ADDR": "127.0.0.1:5099",
		"CONTACTD_DATA_DIR": "/tmp/x", "CONTACTD_DATABASE_URL": "postgres://u@h/db", "CONTACTD_ADMIN_PASSWORD": "pw",
	}
	c, err := Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "127.0.0.1:9999" || c.SIP.Addr != "127.0.0.1:5099" || c.DataDir != "/tmp/x" ||
		c.Database != "postgres://u@h/db" || c.AdminPassword != "pw" {
		t.Fatalf("env not applied: %+v", c)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), os.Getenv); err == nil {
		t.Fatal("missing file accepted")
	}
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("http: {addr: nocolon}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "http.addr") {
		t.Fatalf("err = %v, want http.addr named", err)
	}
}

func TestDirFallsBackToDemoFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(p, Demo(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "kb"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kb", "mine.md"), []byte("# Mine\n\nText."), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadFile(c.Dir, c.IVR.Flow); err != nil {
		t.Fatalf("demo flow not found next to a copied demo config: %v", err)
	}
	if _, err := fs.ReadFile(c.Dir, "kb/mine.md"); err != nil {
		t.Fatalf("the config dir's own file: %v", err)
	}
	d, err := Parse("demo", Demo())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadFile(d.Dir, "kb/delivery-times.md"); err != nil {
		t.Fatalf("built-in demo kb: %v", err)
	}
}

// The recogniser's language model is built from Phrases: the intents'
// examples only. Classifier examples train the classifier and stay out of
// it.
func TestPhrasesLeaveOutClassifierExamples(t *testing.T) {
	c, err := Parse("t", []byte(`
queues: [{name: q, skill: s}]
intents:
  - {name: a, queue: q, examples: [one a, two a, three a], classifier_examples: [extra a]}
  - {name: human, queue: q, examples: [one b, two b, three b]}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.Phrases(), "|")
	if want := "one a|two a|three a|one b|two b|three b"; got != want {
		t.Errorf("Phrases() = %q, want %q", got, want)
	}
	a, _ := c.Intent("a")
	if got := strings.Join(a.TrainingExamples(), "|"); got != "one a|two a|three a|extra a" {
		t.Errorf("TrainingExamples() = %q", got)
	}
	d, err := Parse("demo", Demo())
	if err != nil {
		t.Fatal(err)
	}
	lm := map[string]bool{}
	for _, p := range d.Phrases() {
		lm[p] = true
	}
	n := 0
	for _, in := range d.Intents {
		for _, e := range in.ClassifierExamples {
			n++
			if lm[e] {
				t.Errorf("demo classifier example %q of %s is also in the language model's phrases", e, in.Name)
			}
		}
	}
	if n == 0 {
		t.Error("demo has no classifier_examples")
	}
}

// Training files are read from the config's directory, labelled lines
// join the intents' (and unknown's) examples, and a bad file is an error
// naming the field, the file, the line and why.
func TestTrainingData(t *testing.T) {
	const yaml = `
queues: [{name: q, skill: s}]
ivr:
  training_data: [%s]
intents:
  - {name: a, queue: q, examples: [one a, two a, four a]}
  - {name: human, queue: q, examples: [one b, two b, three b]}
`
	load := func(t *testing.T, files map[string]string, list string) (*Config, error) {
		t.Helper()
		dir := t.TempDir()
		for name, body := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(fmt.Sprintf(yaml, list)), 0o600); err != nil {
			t.Fatal(err)
		}
		return Load(p, func(string) string { return "" })
	}
	c, err := load(t, map[string]string{"t/x.tsv": "\ufeff# comment\n\na\tthree a\r\nunknown\ttell me a joke\nunknown\tsing a song\n"}, "t/x.tsv")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := c.ClassifierExamples()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ex["a"], "|"); got != "one a|two a|four a|three a" {
		t.Errorf("a: %q", got)
	}
	if got := strings.Join(ex["unknown"], "|"); got != "tell me a joke|sing a song" {
		t.Errorf("unknown: %q", got)
	}
	if strings.Contains(strings.Join(c.Phrases(), "|"), "three a") {
		t.Error("a training file's line is in the recogniser's phrases")
	}

	for _, tc := range []struct{ name, body, list, want string }{
		{"no tab", "a three a\n", "x.tsv", "ivr.training_data[0]: x.tsv:1: want intent<TAB>utterance, found no tab"},
		{"not an intent", "a\tok\nb\tthree b\n", "x.tsv", `x.tsv:2: "b" is not an intent (nor unknown)`},
		{"no text", "a\t  \n", "x.tsv", `x.tsv:1: intent "a" has no utterance`},
		{"not utf-8", "a\t\xff\xfe\n", "x.tsv", "x.tsv:1: not UTF-8"},
		{"missing", "", "y.tsv", "ivr.training_data[0]: open y.tsv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, map[string]string{"x.tsv": tc.body}, tc.list)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ClassifierExamples()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := load(t, nil, "../x.tsv"); err == nil || !strings.Contains(err.Error(), "ivr.training_data[0]: want a file path relative to the config's directory") {
		t.Errorf("a path out of the config's directory: %v", err)
	}
	big := strings.Repeat("a\tthree a\n", maxTrainingData/9+1)
	c, err = load(t, map[string]string{"x.tsv": big}, "x.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClassifierExamples(); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("an oversized file: %v", err)
	}
}
