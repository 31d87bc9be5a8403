package ivr

import (
	"bytes"
	"errors"
	"github.com/contactd/contactd/config"
	"io/fs"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Floors for the demo's evaluation sets. The examples (and the
// classifier's settings) are tuned on testdata/dev.tsv (125 lines),
// heldout2.tsv (83) and heldout3.tsv (96 lines in many voices; held out
// until its failures were seen, dev since). With the concept lexicon: dev
// 0.984 (123/125), out-of-scope recall 0.867 (13/15); heldout2 0.964
// (80/83), 0.917 (11/12); heldout3 0.948 (91/96), 1.0 (11/11) (before it:
// 0.952 / 0.867, 0.916 / 0.917, 0.812 / 0.909). eval.tsv and heldout4.tsv
// are held out, never tuned on. heldout4.tsv (102 lines in callers' own
// words, 12 out of scope) was written before the lexicon and run twice: at
// the start accuracy 0.627 (64/102), out-of-scope recall 0.750 (9/12); at
// the end 0.716 (73/102), 0.417 (5/12). eval.tsv at the end: 0.988
// (84/85), 1.0 (10/10) (0.965, 1.0 before). The floors leave a margin for
// changes to the examples.
var heldOutSets = []struct {
	file               string
	accFloor, oosFloor float64
	// heldOut: no line may be a training example (the intents' and
	// out-of-scope examples, and the lines of the training files);
	// fileFree: no line may be a line of the training files (the sets
	// written after some intents' examples, which they happen to repeat:
	// "agent", "i want to make a complaint").
	heldOut, fileFree bool
}{
	{"eval.tsv", 0.9, 0.8, true, false},
	// Written before the round of lexicon words from the dev sets'
	// confusions and run once before it (0.790, out-of-scope recall 13/15)
	// and once after (0.800, 13/15). Its line "i was charged for something
	// i never ordered" is close to heldout4.tsv's "i've been charged for
	// something i never ordered", a dev line that round tuned on.
	{"heldout6.tsv", 0.76, 0.8, true, false},
	// Written by strangers to the examples, each before a round of work
	// and run only at its start and end (figures in the README). Since
	// session 9 the demo also trains on blind-written callers' lines
	// (config/training); lines identical to a test set's were taken out
	// of them, and this test keeps it so.
	{"heldout7.tsv", 0.88, 0.8, false, true},
	{"heldout8.tsv", 0.88, 0.8, false, true},
	{"heldout9.tsv", 0.88, 0.8, false, true},
	{"heldout10.tsv", 0.88, 0.8, false, true},
	{"heldout11.tsv", 0.85, 0.8, false, true},
	// Written after session 9's work, blind, and run once: 0.985 / 0.917.
	{"heldout12.tsv", 0.9, 0.8, false, true},
	// The validation sets of session 9's training-data round.
	{"dev12.tsv", 0.9, 0.8, false, true},
	{"dev13.tsv", 0.9, 0.8, false, true},
	// Dev sets, as guards against losing what was tuned (heldout4.tsv and
	// heldout5.tsv were held out until their failures were seen; heldout5
	// was 0.901 / 17 of 21 then).
	{"heldout5.tsv", 0.9, 0.75, false, false},
	{"heldout4.tsv", 0.85, 0.8, false, false},
	{"heldout2.tsv", 0.93, 0.8, false, false},
	{"heldout3.tsv", 0.93, 0.8, false, false},
}

var (
	demoOnce sync.Once
	demoC    *Classifier
	demoErr  error
)

// demoSet is the built-in demo config's intents.
type demoSet struct{ cfg *config.Config }

func (d demoSet) Examples() map[string][]string {
	ex, err := d.cfg.ClassifierExamples()
	if err != nil {
		panic(err) // the built-in demo's files are embedded
	}
	return ex
}

func (d demoSet) Lookup(name string) (config.Intent, bool) { return d.cfg.Intent(name) }

func demoIntents(t *testing.T) demoSet {
	t.Helper()
	c, err := config.Parse("demo", config.Demo())
	if err != nil {
		t.Fatal(err)
	}
	return demoSet{c}
}

func demoClassifier(t *testing.T) *Classifier {
	t.Helper()
	s := demoIntents(t)
	demoOnce.Do(func() { demoC, demoErr = TrainClassifier(s.Examples()) })
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoC
}

func TestDemoIntents(t *testing.T) {
	s := demoIntents(t)
	want := map[string]string{
		"order_status": "orders", "returns": "returns", "billing": "billing", "tech_support": "support",
		"account_access": "accounts", "cancel": "retention", "sales": "sales", "complaint": "complaints", "human": "general",
	}
	if len(s.cfg.Intents) != len(want) {
		t.Fatalf("%d intents, want %d", len(s.cfg.Intents), len(want))
	}
	for name, queue := range want {
		in, ok := s.Lookup(name)
		if !ok {
			t.Errorf("intent %s missing", name)
			continue
		}
		if in.Queue != queue {
			t.Errorf("%s queue = %q, want %q", name, in.Queue, queue)
		}
		if len(in.Examples) < 20 {
			t.Errorf("%s has %d examples, want at least 20", name, len(in.Examples))
		}
		if in.DTMF == "" || in.MenuLabel == "" {
			t.Errorf("%s lacks dtmf or menu_label", name)
		}
	}
}

func TestTrainAndCrossValidate(t *testing.T) {
	s := demoIntents(t)
	start := time.Now()
	c := demoClassifier(t)
	took := time.Since(start)
	st := c.Stats()
	t.Logf("trained in %v (0 when another test trained first; with %d-fold CV): %d intents, %d examples, %d features, cv accuracy %.3f, unknown threshold %.3f",
		took, st.CVFolds, st.Intents, st.Examples, st.Features, st.CVAccuracy, st.Threshold)
	if st.CVAccuracy < 0.6 {
		t.Errorf("cross-validated accuracy %.3f < 0.6", st.CVAccuracy)
	}
	if st.Threshold < minThreshold || st.Threshold > maxThreshold {
		t.Errorf("threshold %.3f outside [%v, %v]", st.Threshold, minThreshold, maxThreshold)
	}
	// Deterministic: a second training answers identically.
	c2, err := TrainClassifier(s.Examples())
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"where is my order", "i want to cancel", "tell me a joke", "my bill is wrong"} {
		if a, b := c.Classify(text), c2.Classify(text); !reflect.DeepEqual(a, b) {
			t.Errorf("Classify(%q) differs between trainings: %+v vs %+v", text, a, b)
		}
	}
}

func TestHeldOutEval(t *testing.T) {
	c := demoClassifier(t)
	// The training examples must not leak into the held-out sets.
	ex := map[string]bool{}
	for _, list := range demoIntents(t).Examples() {
		for _, e := range list {
			ex[strings.Join(tokenize(e), " ")] = true
		}
	}
	files := map[string]bool{}
	demo := demoIntents(t).cfg
	for _, name := range demo.IVR.TrainingData {
		data, err := fs.ReadFile(demo.Dir, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if _, text, ok := strings.Cut(line, "\t"); ok && !strings.HasPrefix(line, "#") {
				files[strings.Join(tokenize(text), " ")] = true
			}
		}
	}
	if len(files) < 1000 {
		t.Fatalf("%d lines in the demo's training files, want at least 1000", len(files))
	}
	for _, set := range heldOutSets {
		t.Run(set.file, func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + set.file)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			r, err := Eval(c, bytes.NewReader(data), &out)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("\n%s", out.String())
			if r.Accuracy < set.accFloor {
				t.Errorf("held-out accuracy %.3f < %.2f", r.Accuracy, set.accFloor)
			}
			if r.OutOfScope < 5 || r.OutOfScopeRecall < set.oosFloor {
				t.Errorf("out-of-scope recall %.3f over %d lines, want >= %.2f over >= 5", r.OutOfScopeRecall, r.OutOfScope, set.oosFloor)
			}
			for _, want := range []string{"accuracy=", "out_of_scope_recall=", "precision", "confusion matrix", "order_status"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q", want)
				}
			}
			for i, line := range strings.Split(string(data), "\n") {
				_, text, ok := strings.Cut(line, "\t")
				key := strings.Join(tokenize(text), " ")
				if ok && set.heldOut && ex[key] {
					t.Errorf("%s line %d is a training example: %q", set.file, i+1, text)
				}
				if ok && set.fileFree && files[key] {
					t.Errorf("%s line %d is a line of the training files: %q", set.file, i+1, text)
				}
			}
		})
	}
}

func TestClassify(t *testing.T) {
	c := demoClassifier(t)
	tests := []struct {
		text, want, reason string
	}{
		{"where is my order five eight two one three", "order_status", ""},
		{"I want my money back", "returns", ""},
		{"my internet is not working again", "tech_support", ""},
		{"agent", "human", "rule"},
		{"AGENT!", "human", "rule"},
		{"my internet is down i want an agent", "human", "rule"},
		{"can i speak to a representative about my bill", "human", "rule"},
		{"operator", "human", "rule"},
		{"put me through to the operator", "human", "rule"},
		{"can i speak with your customer service agent", "human", "rule"},
		{"i want an agent", "human", "rule"},
		{"can i have the operator", "human", "rule"},
		{"the agent please", "human", "rule"},
		{"could i have your customer service team rep", "human", "rule"},
		// A person the caller dealt with is named, not asked for.
		{"your agent hung up on me", "complaint", "model"},
		{"the chat agent on your website kept sending me links and would not help", "complaint", "model"},
		{"the last rep i spoke to lied to me about my contract", "complaint", "model"},
		{"get me a real person", "human", "rule"},
		{"i need a human being", "human", "rule"},
		{"", "unknown", "no_known_words"},
		{"   ", "unknown", "no_known_words"},
		{"purple elephants dancing", "unknown", "no_known_words"},
		{"1234567", "unknown", "no_known_words"},
		{"um uh", "unknown", "no_known_words"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := c.Classify(tt.text)
			if got.Intent != tt.want {
				t.Fatalf("Classify(%q) = %s (%.2f, %s), want %s", tt.text, got.Intent, got.Confidence, got.Reason, tt.want)
			}
			if tt.reason != "" && got.Reason != tt.reason {
				t.Errorf("reason = %s, want %s", got.Reason, tt.reason)
			}
			if tt.reason == "rule" && got.Confidence < 0.95 {
				t.Errorf("rule confidence %.2f < 0.95", got.Confidence)
			}
			var sum float64
			for _, v := range got.Scores {
				sum += v
			}
			// The demo's out-of-scope class takes the rest.
			if len(got.Scores) != 9 || sum <= 0 || sum > 1.001 {
				t.Errorf("scores: %d intents summing to %.4f, want 9 summing to at most 1", len(got.Scores), sum)
			}
			if got.Confidence < 0 || got.Confidence > 1 {
				t.Errorf("confidence %v outside [0,1]", got.Confidence)
			}
		})
	}
}

func TestTrainClassifierErrors(t *testing.T) {
	tests := []struct {
		name string
		ex   map[string][]string
		want error
	}{
		{"nil", nil, ErrNoExamples},
		{"one intent", map[string][]string{"a": {"x y", "y z"}}, ErrBadExamples},
		{"too few examples", map[string][]string{"a": {"x y", "y z"}, "b": {"q"}}, ErrBadExamples},
		{"empty examples", map[string][]string{"a": {"x y", "y z"}, "b": {"", "  !! "}}, ErrBadExamples},
		{"one intent besides unknown", map[string][]string{"a": {"x y", "y z"}, "unknown": {"q", "r"}}, ErrBadExamples},
		{"too few unknown examples", map[string][]string{"a": {"x y", "y z"}, "b": {"q r", "r s"}, "unknown": {"q"}}, ErrBadExamples},
		{"blank name", map[string][]string{"a": {"x y", "y z"}, " ": {"q", "r"}}, ErrBadExamples},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := TrainClassifier(tt.ex)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// Examples under Unknown train an out-of-scope class: text the model puts
// there is Unknown, and the class is in neither Intents nor Scores.
func TestOutOfScopeClass(t *testing.T) {
	ex := map[string][]string{
		"pay":   {"pay my bill", "make a payment", "i want to pay", "pay by card"},
		"track": {"track my parcel", "where is my parcel", "parcel tracking", "has my parcel come"},
	}
	without, err := TrainClassifier(ex)
	if err != nil {
		t.Fatal(err)
	}
	ex[Unknown] = []string{"what is the weather like", "what is the weather tomorrow", "is the weather nice", "weather forecast please"}
	c, err := TrainClassifier(ex)
	if err != nil {
		t.Fatal(err)
	}
	// "card" is a known word: without the out-of-scope class the model
	// has only the intents to choose from.
	const text = "what is the weather like on my card"
	if got := without.Classify(text); got.Intent != "pay" {
		t.Fatalf("without out-of-scope examples: %+v, want pay", got)
	}
	got := c.Classify(text)
	if got.Intent != Unknown || got.Reason != "out_of_scope" {
		t.Errorf("with out-of-scope examples: %+v, want unknown (out_of_scope)", got)
	}
	if _, ok := got.Scores[Unknown]; ok || len(got.Scores) != 2 {
		t.Errorf("scores %v, want pay and track only", got.Scores)
	}
	if got := c.Classify("where is my parcel"); got.Intent != "track" {
		t.Errorf("in scope: %+v, want track", got)
	}
	if got, want := c.Intents(), []string{"pay", "track"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Intents() = %v, want %v", got, want)
	}
	if st := c.Stats(); st.Intents != 2 || st.Examples != 12 {
		t.Errorf("stats %+v, want 2 intents and 12 examples", st)
	}
	// Words seen only out of scope do not make text known.
	if got := c.Classify("weather forecast"); got.Intent != Unknown || got.Reason != "no_known_words" {
		t.Errorf("%+v, want unknown (no_known_words)", got)
	}
}

func TestClassifierWithoutHumanIntent(t *testing.T) {
	c, err := TrainClassifier(map[string][]string{
		"pay":   {"pay my bill", "make a payment", "i want to pay"},
		"track": {"track my parcel", "where is my parcel", "parcel tracking"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Classify("where is my parcel please"); got.Intent != "track" {
		t.Errorf("got %+v, want track", got)
	}
	// With no human intent configured the rule cannot fire.
	if got := c.Classify("agent"); got.Intent == HumanIntent {
		t.Errorf("got %+v, want anything but human", got)
	}
}

func TestEvalMalformed(t *testing.T) {
	c := demoClassifier(t)
	tests := []struct {
		name, data string
		lines      []string
	}{
		{"no tab", "billing\tmy bill\nwhere is my order\n", []string{"line 2"}},
		{"unknown label", "# comment\n\nrefunds\tmoney back\n", []string{"line 3", `"refunds"`}},
		{"empty text", "billing\t  \n", []string{"line 1", "empty text"}},
		{"three columns", "billing\ta\tb\n", []string{"line 1"}},
		{"several", "x\n\ny\n", []string{"line 1", "line 3"}},
		{"nothing", "# only a comment\n", []string{"no data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Eval(c, strings.NewReader(tt.data), &out)
			if !errors.Is(err, ErrBadEvalData) {
				t.Fatalf("err = %v, want ErrBadEvalData", err)
			}
			for _, l := range tt.lines {
				if !strings.Contains(err.Error(), l) {
					t.Errorf("error %q does not mention %q", err, l)
				}
			}
			if out.Len() != 0 {
				t.Errorf("report written despite bad data: %q", out.String())
			}
		})
	}
}

func TestEvalCounts(t *testing.T) {
	c := demoClassifier(t)
	data := "billing\ti was charged twice\r\nhuman\tagent please\nunknown\tagent\nunknown\tpurple elephants\n"
	r, err := Eval(c, strings.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 4 || r.Correct != 3 || r.OutOfScope != 2 || r.OutOfScopeRecall != 0.5 {
		t.Errorf("got %+v", r)
	}
	if r.Confusion["unknown"]["human"] != 1 || r.PerIntent["human"].Precision != 0.5 {
		t.Errorf("confusion %v, human %+v", r.Confusion["unknown"], r.PerIntent["human"])
	}
	if len(r.Misses) != 1 || r.Misses[0].Line != 3 {
		t.Errorf("misses %+v", r.Misses)
	}
}

func TestSlotWrappers(t *testing.T) {
	if got := ParseDigits("five eight two one three"); got != "58213" {
		t.Errorf("ParseDigits = %q", got)
	}
	if got, ok := ExtractOrderNumber("order number double five one two three"); !ok || got != "55123" {
		t.Errorf("ExtractOrderNumber = %q, %v", got, ok)
	}
	if yes, ok := ParseYesNo("yeah"); !yes || !ok {
		t.Errorf("ParseYesNo = %v, %v", yes, ok)
	}
}

func FuzzClassify(f *testing.F) {
	c, err := TrainClassifier(map[string][]string{"a": {"where is my order", "track parcel"}, "human": {"agent", "person"}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "agent", "ÄÖÜ 123", "order\x00five", "real"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := c.Classify(s)
		if got.Intent == "" || got.Confidence < 0 || got.Confidence > 1 {
			t.Fatalf("Classify(%q) = %+v", s, got)
		}
	})
}

// Simple is what the call flow consumes.
var _ IntentClassifier = Simple{}

func TestSimple(t *testing.T) {
	c := demoClassifier(t)
	intent, conf := Simple{C: c}.Classify("operator please")
	if intent != "human" || conf < 0.95 {
		t.Errorf("got %s %.2f", intent, conf)
	}
	if intent, _ := (Simple{C: c}).Classify("what's the capital of france"); intent != Unknown {
		t.Errorf("got %s, want unknown", intent)
	}
}

func TestHarrellDavis(t *testing.T) {
	// On 0, 1/999, ..., 1 the 1 % point is about 0.01 (the order statistic
	// alone gives 10/999).
	x := make([]float64, 1000)
	for i := range x {
		x[len(x)-1-i] = float64(i) / 999
	}
	if got := harrellDavis(x, 0.01); math.Abs(got-0.01) > 0.001 {
		t.Errorf("harrellDavis(uniform, 0.01) = %v, want about 0.01", got)
	}
	if got := harrellDavis([]float64{0.4}, 0.01); got != 0.4 {
		t.Errorf("harrellDavis of one value = %v", got)
	}
}

// TestThresholdStable: removing one example must move the unknown
// threshold only a little. With folds drawn by a permutation of the list
// and the single 1 % order statistic it moved between 0.261 and 0.335 over
// twelve such removals (on these four, 0.311 -> 0.277 to 0.333, so this
// test failed); with folds by hash, two draws and the Harrell-Davis
// quantile, between 0.306 and 0.316.
func TestThresholdStable(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the cross-validation several times")
	}
	ex := demoIntents(t).Examples()
	var intents []string
	for n := range ex {
		intents = append(intents, n)
	}
	sort.Strings(intents)
	var data []sample
	for ci, name := range intents {
		for _, e := range ex[name] {
			data = append(data, newSample(tokenize(e), ci))
		}
	}
	base := chooseThreshold(crossValidate(intents, data, drawsFor(len(data))).correctConf)
	const maxMove = 0.02
	for k := 0; k < 4; k++ {
		i := (k*137 + 11) % len(data)
		rest := append(append([]sample(nil), data[:i]...), data[i+1:]...)
		th := chooseThreshold(crossValidate(intents, rest, drawsFor(len(rest))).correctConf)
		t.Logf("without %q (%s): threshold %.3f (all: %.3f)", strings.Join(data[i].toks, " "), intents[data[i].class], th, base)
		if math.Abs(th-base) > maxMove {
			t.Errorf("removing %q moved the threshold %.3f -> %.3f (more than %.2f)", strings.Join(data[i].toks, " "), base, th, maxMove)
		}
	}
}
