package ivr

import (
	"context"
	"strings"
	"time"

	"github.com/contactd/contactd/ivr/slots"
)

// Understanding is what the NLU made of one utterance: the intent, and the
// slot values it found.
type Understanding struct {
	// Intent is the best intent, or Unknown.
	Intent string `json:"intent"`
	// Confidence is the probability of Intent, or of Candidate when Intent
	// is Unknown.
	Confidence float64 `json:"confidence"`
	// Candidate is the best intent even when it was turned down as too
	// unlikely; the flow may confirm it ("Is this about billing?"). Empty
	// when nothing came close (no known word).
	Candidate string `json:"candidate,omitempty"`
	// Slots are the values found: order_number, account_number, date
	// (2006-01-02), amount ("49.99").
	Slots map[string]string `json:"slots,omitempty"`
	// Source says who decided: "embedded", "llm" or "fallback" (embedded
	// after the LLM failed).
	Source string `json:"source"`
}

// Understander turns an utterance in a language into an Understanding. The
// embedded Classifier, Languages and the LLM client (ivr/llm) implement it.
type Understander interface {
	Understand(ctx context.Context, text, lang string) (Understanding, error)
}

// Understand classifies text (the language is ignored: a Classifier knows
// one) and extracts the slots it can.
func (c *Classifier) Understand(_ context.Context, text, _ string) (Understanding, error) {
	cl := c.Classify(text)
	u := Understanding{Intent: cl.Intent, Confidence: cl.Confidence, Source: "embedded", Slots: ExtractSlots(text, time.Now())}
	if cl.Reason == "below_threshold" {
		best, bestP := "", -1.0
		for in, p := range cl.Scores {
			if p > bestP || (p == bestP && in < best) {
				best, bestP = in, p
			}
		}
		u.Candidate = best
	} else if cl.Intent != Unknown {
		u.Candidate = cl.Intent
	}
	return u, nil
}

// Understand is Classifier.Understand.
func (s Simple) Understand(ctx context.Context, text, lang string) (Understanding, error) {
	return s.C.Understand(ctx, text, lang)
}

// Languages picks an Understander by language, the Default one for a
// language it does not have.
type Languages struct {
	Default string
	By      map[string]Understander
}

// Understand asks the language's Understander.
func (l Languages) Understand(ctx context.Context, text, lang string) (Understanding, error) {
	u, ok := l.By[lang]
	if !ok {
		u = l.By[l.Default]
	}
	if u == nil {
		return Understanding{Intent: Unknown}, nil
	}
	return u.Understand(ctx, text, lang)
}

// Classify classifies text in the default language (for IntentClassifier
// consumers such as the classify API).
func (l Languages) Classify(text string) (string, float64) {
	u, _ := l.Understand(context.Background(), text, l.Default)
	return u.Intent, u.Confidence
}

// TrainLanguages trains one classifier per language from examples[lang]
// [intent]; def is the default language.
func TrainLanguages(def string, examples map[string]map[string][]string) (Languages, error) {
	return trainLanguages(def, examples, TrainClassifier)
}

// trainLanguages is TrainLanguages with train for each language.
func trainLanguages(def string, examples map[string]map[string][]string, train func(map[string][]string) (*Classifier, error)) (Languages, error) {
	l := Languages{Default: def, By: map[string]Understander{}}
	for _, lang := range sortedKeys(examples) {
		c, err := train(examples[lang])
		if err != nil {
			return Languages{}, wrapLang(lang, err)
		}
		l.By[lang] = c
	}
	return l, nil
}

type langError struct {
	lang string
	err  error
}

func (e *langError) Error() string { return "language " + e.lang + ": " + e.err.Error() }
func (e *langError) Unwrap() error { return e.err }

func wrapLang(lang string, err error) error { return &langError{lang, err} }

// classifierUnderstander adapts a plain IntentClassifier.
type classifierUnderstander struct{ c IntentClassifier }

func (a classifierUnderstander) Understand(_ context.Context, text, _ string) (Understanding, error) {
	in, conf := a.c.Classify(text)
	u := Understanding{Intent: in, Confidence: conf, Source: "embedded", Slots: ExtractSlots(text, time.Now())}
	if in != Unknown {
		u.Candidate = in
	}
	return u, nil
}

func understanderOf(c IntentClassifier) Understander {
	if u, ok := c.(Understander); ok {
		return u
	}
	return classifierUnderstander{c}
}

// ExtractSlots finds every slot value in text; now anchors relative dates.
func ExtractSlots(text string, now time.Time) map[string]string {
	m := map[string]string{}
	if v, ok := slots.ExtractOrderNumber(text); ok {
		m[SlotOrderNumber] = v
	}
	if v, ok := slots.ExtractAccountNumber(text); ok {
		m[SlotAccountNumber] = v
		if m[SlotOrderNumber] == v {
			delete(m, SlotOrderNumber)
		}
	}
	if d, ok := slots.ExtractDate(text, now); ok {
		m[SlotDate] = d.Format("2006-01-02")
	}
	if a, ok := slots.ExtractAmount(text); ok {
		m[SlotAmount] = a.Value
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// extractSlot reads one slot from what the caller said.
func extractSlot(slot, text, lang string, now time.Time) (string, bool) {
	switch slot {
	case SlotOrderNumber:
		if v, ok := slots.ExtractOrderNumber(text); ok {
			return v, true
		}
	case SlotAccountNumber:
		if v, ok := slots.ExtractNumber(text, slots.AccountKeywords, 4, 12, false); ok {
			return v, true
		}
	case SlotDate:
		if d, ok := slots.ExtractDate(text, now); ok {
			return d.Format("2006-01-02"), true
		}
	case SlotAmount:
		if a, ok := slots.ExtractAmount(text); ok {
			return a.Value, true
		}
	case SlotYesNo:
		if yes, ok := yesNo(text, lang); ok {
			if yes {
				return "yes", true
			}
			return "no", true
		}
	}
	return "", false
}

// keyedSlot checks digits keyed for a slot.
func keyedSlot(slot, digits string) (string, bool) {
	switch slot {
	case SlotOrderNumber:
		return digits, len(digits) >= 4 && len(digits) <= 10
	case SlotAccountNumber:
		return digits, len(digits) >= 4 && len(digits) <= 12
	case SlotYesNo:
		switch digits {
		case "1":
			return "yes", true
		case "2":
			return "no", true
		}
	case SlotAmount:
		return digits + ".00", len(digits) > 0 && len(digits) <= 7
	case SlotDate:
		// DDMMYYYY
		if len(digits) == 8 {
			if t, err := time.Parse("02012006", digits); err == nil {
				return t.Format("2006-01-02"), true
			}
		}
	}
	return "", false
}

var spanishYes = map[string]bool{"si": true, "sí": true, "claro": true, "vale": true, "correcto": true, "exacto": true, "efectivamente": true, "eso": true}

// yesNo reads a yes or no in lang.
func yesNo(text, lang string) (yes, ok bool) {
	if lang == "es" {
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return r == ' ' || r == ',' || r == '.' || r == '¡' || r == '!' }) {
			if w == "no" {
				return false, true
			}
			if spanishYes[w] {
				return true, true
			}
		}
	}
	return slots.ParseYesNo(text)
}

// swearWords mark a frustrated caller. Recognisers often spell them out
// or star them; the words are matched whole.
var swearWords = toSet(`damn dammit damnit hell shit shitty crap crappy bloody bullshit fuck fucking fucked
bollocks piss pissed arse ass bastard bastards rubbish useless stupid idiot idiots ridiculous joke
mierda joder coño puta hostia`)

// swears reports whether text swears or insults.
func swears(text string) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == 'ñ')
	}) {
		if swearWords[w] {
			return true
		}
	}
	return false
}

var languageMarkers = map[string]map[string]bool{
	"es": toSet(`el la los las de del que por para con mi quiero necesito hola dónde donde está esta pedido
factura cuenta quisiera hablar gracias una uno es mis sí puedo cómo como tengo`),
	"en": toSet(`the my i is to a of and where what want need hello my order bill account can how please
have it with for speak`),
}

// detectLanguage guesses which of langs text is in from function words;
// "" when it cannot tell.
func detectLanguage(text string, langs []string) string {
	best, bestN, second := "", 0, 0
	words := strings.Fields(strings.ToLower(text))
	for _, l := range langs {
		m := languageMarkers[l]
		n := 0
		for _, w := range words {
			if m[strings.Trim(w, ".,?!¿¡")] {
				n++
			}
		}
		if n > bestN {
			best, bestN, second = l, n, bestN
		} else if n > second {
			second = n
		}
	}
	if bestN >= 2 && bestN >= 2*second {
		return best
	}
	return ""
}
