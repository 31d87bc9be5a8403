package ivr

import (
	"sort"
	"strings"
	"unicode"
)

// stopwords carry no intent on their own. They still take part in bigrams
// ("log in", "sign up") but do not count as known words when deciding
// whether a text is out of scope.
var stopwords = toSet(`a an the i im id ive ill me my mine we our you your yours it its is are was were be been
am do does did to of in on at for from with about and or but so if then than this that these those there
theres here what whats when where wheres who why how can could would should will wont shall may might must
please hi hello hey yes yeah no not just like want wanted need needed get got have has had some any
thanks thank um uh er erm okay ok well oh really very also still again now today tomorrow yesterday`)

// numberWords normalise to one token: callers say order numbers in many
// ways and the exact value never tells the intent.
var numberWords = toSet(`zero oh one two three four five six seven eight nine ten eleven twelve thirteen fourteen
fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred
thousand double triple`)

func toSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// tokenize lower-cases text, drops apostrophes ("don't" → "dont"), splits
// on everything that is not a letter or digit, folds digit strings and
// number words into "<num>" (a run of them into one) and stems lightly.
func tokenize(text string) []string {
	var raw []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			raw = append(raw, b.String())
			b.Reset()
		}
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case r == '\'' || r == '’':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	out := raw[:0]
	for _, w := range raw {
		if isNum(w) {
			// "ten days" keeps its number; sequences collapse.
			if len(out) > 0 && out[len(out)-1] == "<num>" {
				continue
			}
			out = append(out, "<num>")
			continue
		}
		out = append(out, stem(normalise(w)))
	}
	return out
}

// synonyms map a few words onto the more common word callers use for the
// same thing (formal, British or older usage), so that examples written one
// way still match callers who say it the other way.
var synonyms = map[string]string{
	"telephone": "phone", "telephones": "phones", "television": "tv", "wireless": "wifi",
	"goods": "items", "enquire": "inquire", "enquiring": "inquiring", "enquiry": "inquiry",
	"enquiries": "inquiries", "despatch": "dispatch", "despatched": "dispatched",
	"cancelled": "canceled", "cancelling": "canceling", "technician": "engineer", "technicians": "engineers",
}

// normalise folds spelling variants: synonyms, then British -ise/-isation,
// -our and -re endings to the American ones ("recognised" and "recognized",
// "colour" and "color", "fibre" and "fiber" meet). Both the examples and
// callers' words go through it, so a fold that makes a non-word is harmless.
func normalise(w string) string {
	if s, ok := synonyms[w]; ok {
		return s
	}
	if stopwords[w] || len(w) < 5 {
		return w
	}
	for _, suf := range []string{"ise", "ised", "ises", "ising", "isation", "isations"} {
		if strings.HasSuffix(w, suf) {
			return w[:len(w)-len(suf)] + "iz" + suf[2:]
		}
	}
	switch {
	case len(w) > 5 && strings.HasSuffix(w, "our"):
		return w[:len(w)-3] + "or"
	case strings.HasSuffix(w, "ours") && len(w) > 6:
		return w[:len(w)-4] + "ors"
	case strings.HasSuffix(w, "bre") || strings.HasSuffix(w, "tre"):
		return w[:len(w)-2] + "er"
	}
	return w
}

func isNum(w string) bool {
	if numberWords[w] {
		return true
	}
	digits := 0
	for _, r := range w {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	return digits > 0 && digits*2 >= len(w)
}

// stem strips a few English suffixes so that "deliver", "delivered" and
// "delivering" meet. It is deliberately crude: the classifier only needs
// the forms to collide, not to be words.
func stem(w string) string {
	if stopwords[w] {
		return w
	}
	switch {
	case len(w) > 5 && strings.HasSuffix(w, "ing"):
		return w[:len(w)-3]
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && strings.HasSuffix(w, "ed"):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us"):
		return w[:len(w)-1]
	}
	return w
}

// featureSet is a sparse, L2-normalised feature vector.
type featureSet struct {
	idx []int
	val []float64
}

// charWeight scales character 4-grams against word features. They let
// "refunded" meet "refund" and survive misrecognised words; 1 was best in
// cross-validation without the concept features, 0.7 with them (cv
// accuracy 0.862 at 1, 0.878 at 0.7; dev sets 0.961 and 0.967).
const charWeight = 0.5

// feature is one named feature value.
type feature struct {
	name string
	val  float64
}

// rawFeatures lists the feature names of a token list with their weights,
// sorted by name so that training never depends on map order: word
// unigrams ("w:") and bigrams ("b:"), character 4-grams of content words
// ("c:") and the concept groups the words belong to ("k:", lexicon.go).
func rawFeatures(toks []string) []feature {
	f := map[string]float64{}
	for i, t := range toks {
		f["w:"+t] = 1
		if i+1 < len(toks) {
			f["b:"+t+"_"+toks[i+1]] = 1
		}
		if !stopwords[t] && t != "<num>" && len(t) > 3 {
			p := "<" + t + ">"
			for k := 0; k+4 <= len(p); k++ {
				f["c:"+p[k:k+4]] += charWeight
			}
		}
	}
	for _, c := range conceptsOf(toks) {
		f["k:"+c] = conceptWeight
	}
	out := make([]feature, 0, len(f))
	for name, v := range f {
		out = append(out, feature{name, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// contentWords are the tokens that are neither stop words nor numbers.
func contentWords(toks []string) []string {
	var out []string
	for _, t := range toks {
		if !stopwords[t] && t != "<num>" {
			out = append(out, t)
		}
	}
	return out
}
