package sphinx

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Where's my ORDER?", []string{"where's", "my", "order"}},
		{"order 5821", []string{"order", "five", "eight", "two", "one"}},
		{"I don’t know...", []string{"i", "don't", "know"}},
		{"  ", nil},
		{"'quoted' words, and-dashes", []string{"quoted", "words", "and", "dashes"}},
		{"within 24 hours, 10am or 2 pm, over 50 dollars", []string{"within", "twenty", "four", "hours", "ten", "am", "or", "two", "pm", "over", "fifty", "dollars"}},
		{"order 07 or 13b", []string{"order", "zero", "seven", "or", "thirteen", "b"}},
		{"192.168.1.1", []string{"one", "nine", "two", "one", "six", "eight", "one", "one"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := Normalize(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
}

func TestSentences(t *testing.T) {
	got := Sentences("Go to 192.168.1.1. Sign in: the password is on the card!\nThen wait; it restarts? Yes")
	want := []string{"Go to 192.168.1.1.", "Sign in:", "the password is on the card!", "Then wait;", "it restarts?", "Yes"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if s := Sentences(" \n "); s != nil {
		t.Fatalf("blank: got %q", s)
	}
}

func TestDigitSentencesCoverAllPairs(t *testing.T) {
	pairs := map[string]bool{}
	for _, s := range DigitSentences() {
		var ws []string
		for _, w := range strings.Fields(strings.ReplaceAll(s, "oh", "zero")) {
			if slices.Contains(digitWords[:], w) {
				ws = append(ws, w)
			}
		}
		for i := 1; i < len(ws); i++ {
			pairs[ws[i-1]+" "+ws[i]] = true
		}
	}
	if len(pairs) != 100 {
		t.Fatalf("%d digit pairs covered, want 100", len(pairs))
	}
}

// parseARPA reads n-gram log-probabilities and back-off weights.
func parseARPA(t *testing.T, b []byte) (probs, bows map[string]float64) {
	probs, bows = map[string]float64{}, map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	order := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasSuffix(line, "-grams:") {
			order, _ = strconv.Atoi(line[1:2])
			continue
		}
		f := strings.Fields(line)
		if order == 0 || len(f) < order+1 {
			continue
		}
		p, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatalf("bad line %q", line)
		}
		g := strings.Join(f[1:order+1], " ")
		probs[g] = p
		if len(f) == order+2 {
			bows[g], _ = strconv.ParseFloat(f[order+1], 64)
		}
	}
	return probs, bows
}

func TestARPAIsNormalised(t *testing.T) {
	var sents [][]string
	for _, s := range []string{"check my order", "check my account", "my order is late", "cancel my order", "yes", "no"} {
		sents = append(sents, Normalize(s))
	}
	lm := BuildLM(sents, 3)
	var buf bytes.Buffer
	if err := lm.WriteARPA(&buf); err != nil {
		t.Fatal(err)
	}
	probs, bows := parseARPA(t, buf.Bytes())
	vocab := append(lm.Vocabulary(), "</s>")
	// p follows ARPA back-off: the longest stored n-gram, else bow(h)·p(shorter).
	var p func(g []string) float64
	p = func(g []string) float64 {
		if v, ok := probs[strings.Join(g, " ")]; ok {
			return math.Pow(10, v)
		}
		return math.Pow(10, bows[strings.Join(g[:len(g)-1], " ")]) * p(g[1:])
	}
	for _, h := range [][]string{{"<s>"}, {"my"}, {"<s>", "check"}, {"check", "my"}, {"my", "order"}, {"order"}} {
		var sum float64
		for _, w := range vocab {
			sum += p(append(append([]string(nil), h...), w))
		}
		if math.Abs(sum-1) > 1e-4 {
			t.Errorf("history %q: probabilities sum to %.6f", h, sum)
		}
	}
	if !strings.Contains(buf.String(), "ngram 3=") {
		t.Fatal("no trigrams")
	}
}

func TestFilterDict(t *testing.T) {
	dict := "abc AE B K\norder AO R D ER\norder(2) AO D ER\nmy M AY\nzzz Z\n"
	entries, missing, err := FilterDict(strings.NewReader(dict), map[string]bool{"order": true, "my": true, "contactd": true})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || !reflect.DeepEqual(missing, []string{"contactd"}) {
		t.Fatalf("entries %q missing %q", entries, missing)
	}
}

func TestBuildDomainWords(t *testing.T) {
	dir := t.TempDir()
	dict := filepath.Join(dir, "cmu.dict")
	os.WriteFile(dict, []byte("hello HH AH L OW\nhello(2) HH EH L OW\nworld W ER L D\nmoney M AH N IY\nkettle K EH T AH L\n"), 0o644)
	plain, err := BuildDomain([]string{"hello world"}, dict, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := BuildDomainWords([]string{"hello world"}, []string{"money", "kettle", "hello", "nosuchword"}, dict, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.LMPath == plain.LMPath {
		t.Error("extra words must change the cache key")
	}
	if strings.Join(d.Extra, " ") != "kettle money" || slices.Contains(d.Missing, "nosuchword") || slices.Contains(d.Missing, "world") {
		t.Errorf("extra %v missing %v", d.Extra, d.Missing)
	}
	b, _ := os.ReadFile(d.DictPath)
	for _, w := range []string{"hello(2)", "money", "kettle"} {
		if !strings.Contains(string(b), w+" ") {
			t.Errorf("dictionary lacks %s:\n%s", w, b)
		}
	}
	lm, _ := os.ReadFile(d.LMPath)
	if strings.Contains(string(lm), "money") {
		t.Error("extra words must not be in the domain LM")
	}
	if v := strings.Join(d.Vocabulary(), " "); !strings.Contains(v, "kettle") || !strings.Contains(v, "world") {
		t.Errorf("vocabulary %q", v)
	}
}

func TestShippedMLLR(t *testing.T) {
	if len(NarrowbandMLLR) < 100 || !strings.HasPrefix(string(NarrowbandMLLR), "1\n") {
		t.Fatalf("shipped transform looks wrong: %.40q", NarrowbandMLLR)
	}
	dir := t.TempDir()
	p1, err := writeShippedMLLR(dir)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := writeShippedMLLR(dir)
	if err != nil || p1 != p2 {
		t.Fatalf("second write: %s %v", p2, err)
	}
	if b, _ := os.ReadFile(p1); string(b) != string(NarrowbandMLLR) {
		t.Fatal("written transform differs")
	}
}
