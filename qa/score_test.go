package qa

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/contactd/contactd/transcript"
)

// seg is one line: "a"/"c"/"s", start and end in seconds, text.
type seg struct {
	who        string
	start, end float64
	text       string
}

func tr(lines ...seg) transcript.Transcript {
	t := transcript.Transcript{CallID: "c1", CallerNumber: "+441234"}
	for _, l := range lines {
		sp := map[string]transcript.Speaker{"a": transcript.Agent, "c": transcript.Caller, "s": transcript.System}[l.who]
		t.Segments = append(t.Segments, transcript.Segment{Speaker: sp, StartMS: int64(l.start * 1000), EndMS: int64(l.end * 1000), Text: l.text})
	}
	return t
}

// goodCall is a call an agent does everything right in, as a recogniser
// prints it: lower case, no punctuation.
var goodCall = tr(
	seg{"s", 0, 3, "welcome to acme how can i help"},
	seg{"c", 3, 5, "where is my order"},
	// 40 s in the queue: not the agent's dead air.
	seg{"a", 45, 48, "hello thank you for calling acme my name is sam how can i help"},
	seg{"c", 49, 54, "my order hasn't arrived and i'm really annoyed"},
	seg{"a", 55, 60, "i'm sorry to hear that can i have your order number please"},
	seg{"c", 61, 64, "five eight two one three"},
	seg{"a", 66, 74, "thank you ive checked and it will be delivered tomorrow i've also sent you a tracking link"},
	seg{"c", 75, 77, "great thanks"},
	seg{"a", 78, 80, "is there anything else i can help with"},
	seg{"c", 81, 82, "no thanks"},
	seg{"a", 83, 85, "thank you for calling goodbye"},
)

func item(t *testing.T, ev Evaluation, key string) Item {
	t.Helper()
	for _, it := range ev.Items {
		if it.Key == key {
			return it
		}
	}
	t.Fatalf("no item %q in %+v", key, ev.Items)
	return Item{}
}

func TestDefaultScorecard(t *testing.T) {
	card := DefaultScorecard()
	if err := card.Validate(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	total := 0
	for _, c := range card.Items {
		keys = append(keys, c.Key)
		total += c.Max
	}
	want := []string{"greeting", "verification", "empathy", "prohibited_language", "resolution", "closing", "dead_air"}
	if !reflect.DeepEqual(keys, want) || total != 100 {
		t.Errorf("keys %v total %d, want %v and 100", keys, total, want)
	}
}

func TestScoreGoodCall(t *testing.T) {
	ev := Score(DefaultScorecard(), goodCall)
	if ev.Score != 100 || ev.MaxScore != 100 || ev.CallID != "c1" || ev.Scorecard != "default" {
		t.Errorf("score %d/%d call %q card %q", ev.Score, ev.MaxScore, ev.CallID, ev.Scorecard)
	}
	for _, it := range ev.Items {
		if !it.Passed || it.Score != it.Max {
			t.Errorf("%s failed: %+v", it.Key, it)
		}
		if it.Key != "prohibited_language" && len(it.Evidence) == 0 {
			t.Errorf("%s has no evidence", it.Key)
		}
		for _, e := range it.Evidence {
			if e.Text == "" || e.Speaker == "" {
				t.Errorf("%s evidence %+v", it.Key, e)
			}
		}
	}
	if e := item(t, ev, "greeting").Evidence; e[0].StartMS != 45000 {
		t.Errorf("greeting evidence %+v", e)
	}
	if e := item(t, ev, "dead_air").Evidence; len(e) != 2 || e[1].StartMS != 66000 {
		t.Errorf("dead_air evidence %+v, want the 2 s gap before the line at 66 s", e)
	}
}

func TestScoreItems(t *testing.T) {
	tests := []struct {
		name     string
		key      string
		tr       transcript.Transcript
		passed   bool
		evidence []string // texts expected in the evidence, in order
	}{
		{"greeting pass", "greeting", tr(seg{"a", 0, 2, "Good morning, you're through to Priya."}), true, []string{"Good morning, you're through to Priya."}},
		{"greeting pass second line", "greeting", tr(seg{"a", 0, 1, "yep"}, seg{"a", 1, 2, "hi this is priya"}), true, []string{"hi this is priya"}},
		{"greeting too late", "greeting", tr(seg{"a", 0, 1, "yep"}, seg{"a", 10, 12, "go on"}, seg{"a", 20, 23, "hello my name is sam"}), false, []string{"yep", "go on"}},
		{"greeting without a name", "greeting", tr(seg{"a", 0, 2, "hello how can i help"}), false, []string{"hello how can i help"}},
		{"greeting thanks for calling how", "greeting", tr(seg{"a", 0, 2, "thank you for calling how can i help"}), false, []string{"thank you for calling how can i help"}},
		{"greeting company", "greeting", tr(seg{"a", 0, 2, "thanks for calling northwind"}), true, []string{"thanks for calling northwind"}},
		{"greeting speaking", "greeting", tr(seg{"a", 0, 2, "customer service sam speaking"}), true, []string{"customer service sam speaking"}},
		{"greeting none", "greeting", tr(seg{"c", 0, 1, "hello"}, seg{"a", 1, 2, "what do you want"}), false, []string{"what do you want"}},
		{"verification pass", "verification", tr(seg{"a", 0, 2, "could i take your account number please"}), true, []string{"could i take your account number please"}},
		{"verification pass dob", "verification", tr(seg{"a", 0, 2, "and your date of birth"}), true, []string{"and your date of birth"}},
		{"verification not needed", "verification", tr(seg{"a", 0, 2, "ok i'll just do that for you"}), true, nil},
		{"verification after details", "verification", tr(seg{"a", 0, 2, "i can see your order went out"}, seg{"a", 3, 4, "can you confirm your postcode"}), false, []string{"i can see your order went out", "can you confirm your postcode"}},
		{"verification never", "verification", tr(seg{"a", 0, 2, "right your balance is forty pounds"}), false, []string{"right your balance is forty pounds"}},
		{"verification by caller only", "verification", tr(seg{"c", 0, 2, "my order number is 58213"}, seg{"a", 2, 3, "right i can see it"}), false, []string{"right i can see it"}},
		{"empathy pass", "empathy", tr(seg{"c", 0, 1, "this is ridiculous"}, seg{"a", 1, 2, "I'm so sorry about that"}), true, []string{"this is ridiculous", "I'm so sorry about that"}},
		{"empathy not needed", "empathy", tr(seg{"c", 0, 1, "hi can i check my balance"}, seg{"a", 1, 2, "sure"}), true, nil},
		{"empathy sorry pardon", "empathy", tr(seg{"c", 0, 1, "i'm really annoyed"}, seg{"a", 1, 2, "sorry can you repeat that"}), false, []string{"i'm really annoyed"}},
		{"empathy understand", "empathy", tr(seg{"c", 0, 1, "i've been waiting a week"}, seg{"a", 1, 2, "i understand that's really frustrating"}), true, []string{"i've been waiting a week", "i understand that's really frustrating"}},
		{"empathy fail", "empathy", tr(seg{"a", 0, 2, "right what's the problem"}, seg{"c", 2, 3, "it still hasn't arrived and i'm fed up"}, seg{"a", 3, 4, "ok"}), false, []string{"it still hasn't arrived and i'm fed up"}},
		{"prohibited pass", "prohibited_language", tr(seg{"a", 0, 2, "hello how can i help"}), true, nil},
		{"prohibited hello is not hell", "prohibited_language", tr(seg{"a", 0, 2, "hello shell"}), true, nil},
		{"prohibited fail", "prohibited_language", tr(seg{"a", 0, 2, "hello"}, seg{"a", 3, 4, "calm down sir"}, seg{"a", 5, 6, "that's not my problem"}), false, []string{"calm down sir", "that's not my problem"}},
		{"prohibited by caller is fine", "prohibited_language", tr(seg{"c", 0, 2, "this is crap"}), true, nil},
		{"resolution pass", "resolution", tr(seg{"a", 0, 2, "ok i've processed your refund"}), true, []string{"ok i've processed your refund"}},
		{"resolution next step", "resolution", tr(seg{"a", 0, 2, "you'll receive an email within two working days"}), true, []string{"you'll receive an email within two working days"}},
		{"resolution fail", "resolution", tr(seg{"a", 0, 2, "hmm let me look"}, seg{"a", 3, 4, "ok bye"}), false, nil},
		{"closing pass", "closing", tr(seg{"a", 0, 2, "anything else i can help with"}, seg{"c", 2, 3, "no"}, seg{"a", 3, 4, "thanks for calling"}), true, []string{"anything else i can help with", "thanks for calling"}},
		{"closing thanks only", "closing", tr(seg{"a", 0, 2, "hello"}, seg{"a", 3, 4, "thanks for calling"}), false, []string{"hello", "thanks for calling"}},
		{"closing one line", "closing", tr(seg{"a", 0, 2, "Is there anything else? No? Thank you for calling."}), true, []string{"Is there anything else? No? Thank you for calling."}},
		{"closing no thanks", "closing", tr(seg{"a", 0, 2, "Is there anything else?"}, seg{"c", 2, 3, "no"}, seg{"a", 3, 4, "ok"}), false, []string{"Is there anything else?", "ok"}},
		{"closing fail", "closing", tr(seg{"a", 0, 2, "anything else"}, seg{"a", 3, 4, "one"}, seg{"a", 5, 6, "two"}, seg{"a", 7, 8, "three"}, seg{"a", 9, 10, "thanks"}), false, []string{"one", "two", "three", "thanks"}},
		{"dead air pass", "dead_air", tr(seg{"a", 0, 2, "hello"}, seg{"c", 11, 12, "hi"}), true, []string{"hello", "hi"}},
		{"dead air fail", "dead_air", tr(seg{"a", 0, 2, "let me check"}, seg{"c", 3, 4, "ok"}, seg{"a", 16, 17, "right"}), false, []string{"ok", "right"}},
		{"dead air queue wait ignored", "dead_air", tr(seg{"s", 0, 2, "please hold"}, seg{"a", 60, 62, "hello"}, seg{"c", 62, 63, "hi"}), true, []string{"hello", "hi"}},
		{"dead air overlap", "dead_air", tr(seg{"a", 0, 20, "long explanation"}, seg{"c", 5, 6, "mm"}, seg{"c", 25, 26, "ok"}), true, []string{"long explanation", "ok"}},
		{"dead air no agent", "dead_air", tr(seg{"c", 0, 1, "hello"}), true, nil},
		{"dead air announced hold", "dead_air", tr(seg{"a", 0, 2, "can i put you on hold for a minute"}, seg{"c", 2, 3, "sure"}, seg{"a", 40, 41, "thanks for holding"}), true, []string{"can i put you on hold for a minute", "sure"}},
		{"prohibited dismissive", "prohibited_language", tr(seg{"a", 0, 2, "i already told you that"}), false, []string{"i already told you that"}},
	}
	card := DefaultScorecard()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := item(t, Score(card, tt.tr), tt.key)
			if it.Passed != tt.passed {
				t.Fatalf("passed = %v, want %v (%+v)", it.Passed, tt.passed, it)
			}
			if (it.Score == it.Max) != tt.passed || (!tt.passed && it.Score != 0) {
				t.Errorf("score %d of %d", it.Score, it.Max)
			}
			var got []string
			for _, e := range it.Evidence {
				got = append(got, e.Text)
			}
			if !reflect.DeepEqual(got, tt.evidence) {
				t.Errorf("evidence %q, want %q", got, tt.evidence)
			}
		})
	}
}

func TestScoreBadCall(t *testing.T) {
	bad := tr(
		seg{"a", 0, 2, "yeah what"},
		seg{"c", 3, 8, "my internet has been down for three days"},
		seg{"a", 25, 27, "whatever you people always say that"},
		seg{"c", 28, 30, "can you fix it or not"},
		seg{"a", 31, 32, "no idea"},
	)
	ev := Score(DefaultScorecard(), bad)
	if ev.Score != 0 || ev.MaxScore != 100 {
		t.Errorf("score %d/%d, want 0/100: %+v", ev.Score, ev.MaxScore, ev.Items)
	}
}

func TestCustomScorecard(t *testing.T) {
	card := Scorecard{Name: "caller-mood", Items: []Criterion{
		{Key: "thanked", Label: "Caller thanked the agent", Max: 3, Kind: KindPhrase, Speaker: transcript.Caller, Phrases: []string{"thank you", "thanks"}},
		{Key: "quick", Label: "Gaps up to 1.5 s", Max: 2, Kind: KindMaxGap, MaxGapMS: 1500},
	}}
	if err := card.Validate(); err != nil {
		t.Fatal(err)
	}
	ev := Score(card, goodCall)
	if ev.Score != 3 || ev.MaxScore != 5 || !item(t, ev, "thanked").Passed || item(t, ev, "quick").Passed {
		t.Errorf("got %+v", ev)
	}
}

func TestValidate(t *testing.T) {
	ok := Criterion{Key: "k", Max: 1, Kind: KindPhrase, Phrases: []string{"hi"}}
	tests := []struct {
		name string
		card Scorecard
		want string
	}{
		{"no name", Scorecard{Items: []Criterion{ok}}, "name"},
		{"no items", Scorecard{Name: "x"}, "items"},
		{"dup key", Scorecard{Name: "x", Items: []Criterion{ok, ok}}, "twice"},
		{"no key", Scorecard{Name: "x", Items: []Criterion{{Max: 1, Kind: KindPhrase, Phrases: []string{"a"}}}}, "key"},
		{"negative max", Scorecard{Name: "x", Items: []Criterion{{Key: "k", Max: -1, Kind: KindPhrase, Phrases: []string{"a"}}}}, "negative"},
		{"no phrases", Scorecard{Name: "x", Items: []Criterion{{Key: "k", Kind: KindNoPhrase}}}, "phrases"},
		{"empty phrase", Scorecard{Name: "x", Items: []Criterion{{Key: "k", Kind: KindPhrase, Phrases: []string{" !! "}}}}, "phrases[0]"},
		{"bad kind", Scorecard{Name: "x", Items: []Criterion{{Key: "k", Kind: "vibes"}}}, "kind"},
		{"bad gap", Scorecard{Name: "x", Items: []Criterion{{Key: "k", Kind: KindMaxGap}}}, "max_gap_ms"},
		{"bad speaker", Scorecard{Name: "x", Items: []Criterion{{Key: "k", Kind: KindMaxGap, MaxGapMS: 1, Speaker: "robot"}}}, "speaker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.card.Validate()
			if !errors.Is(err, ErrBadScorecard) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrBadScorecard mentioning %q", err, tt.want)
			}
		})
	}
}

func FuzzScore(f *testing.F) {
	f.Add("hello", "sorry", int64(0), int64(5000))
	f.Add("", "’'", int64(-5), int64(-1))
	f.Fuzz(func(t *testing.T, a, c string, s1, s2 int64) {
		ev := Score(DefaultScorecard(), transcript.Transcript{Segments: []transcript.Segment{
			{Speaker: transcript.Agent, StartMS: s1, EndMS: s1 + 10, Text: a},
			{Speaker: transcript.Caller, StartMS: s2, EndMS: s2, Text: c},
		}})
		if ev.Score < 0 || ev.Score > ev.MaxScore || len(ev.Items) != 7 {
			t.Fatalf("%+v", ev)
		}
	})
}

// TestEvidenceHighlights: each evidence line marks the words its item was
// judged on, as indices of the line's space-separated words.
func TestEvidenceHighlights(t *testing.T) {
	ev := Score(DefaultScorecard(), goodCall)
	marked := func(e Evidence) []string {
		f := strings.Fields(e.Text)
		var out []string
		for _, sp := range e.Highlights {
			out = append(out, strings.Join(f[sp.From:sp.To], " "))
		}
		return out
	}
	for _, tc := range []struct {
		key  string
		line int // which evidence line
		want []string
	}{
		{"greeting", 0, []string{"thank you for calling acme my name is sam"}}, // a greeting phrase, the company and a name, merged
		{"empathy", 0, []string{"hasn't arrived", "annoyed"}},                  // the caller's negative line
		{"empathy", 1, []string{"sorry"}},                                      // the agent's answer
		{"closing", 0, []string{"anything else i can help"}},
	} {
		it := item(t, ev, tc.key)
		if len(it.Evidence) <= tc.line {
			t.Errorf("%s: evidence %+v", tc.key, it.Evidence)
			continue
		}
		if got := marked(it.Evidence[tc.line]); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s evidence %d %q: marked %q, want %q", tc.key, tc.line, it.Evidence[tc.line].Text, got, tc.want)
		}
	}
	if e := item(t, ev, "dead_air").Evidence; len(e) > 0 && e[0].Highlights != nil {
		t.Errorf("dead air is judged on times, not words: %+v", e)
	}
	// Punctuation and apostrophes stay with their word.
	lw := splitLine("Sorry, I'm so sorry to hear that!")
	if got := merge(lw.phraseSpans([]string{"sorry to hear that"})); !reflect.DeepEqual(got, []Span{{3, 7}}) {
		t.Errorf("spans %v", got)
	}
}
