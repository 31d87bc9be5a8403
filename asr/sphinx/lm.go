package sphinx

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"unicode"
)

// BaseSentences are always in the domain language model, whatever the
// configured phrases: answers and requests every support call hears.
var BaseSentences = []string{
	"yes", "no", "yes please", "no thanks", "no thank you", "yeah", "nope", "okay", "sure",
	"that's right", "that is correct", "that's wrong", "thank you", "thanks", "goodbye", "bye",
	"hello", "hi", "agent", "operator", "representative", "a human", "a person",
	"i want to speak to an agent", "let me talk to a person", "speak to a representative",
	"help", "i need help", "repeat that", "can you repeat that", "say that again", "i don't know",
	"what", "sorry", "one moment", "hold on", "wait", "main menu", "go back", "start over",
	"cancel", "i want to cancel", "my order number is", "the number is", "my account number is",
	"my phone number is", "it is", "it's", "zero", "oh", "one", "two", "three", "four", "five",
	"six", "seven", "eight", "nine", "ten", "hundred", "thousand",
}

var digitWords = [10]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// DigitSentences returns sentences, most with an introduction such as
// "my order number is", that use every ordered pair of spoken digits once (a de Bruijn sequence of order 2 over "zero".."nine" with
// "oh" for some zeros), so any digit may follow any other in the LM.
func DigitSentences() []string {
	// de Bruijn B(10, 2) by the standard Lyndon-word construction.
	a := make([]int, 20)
	var seq []int
	var db func(t, p int)
	db = func(t, p int) {
		if t > 2 {
			if 2%p == 0 {
				seq = append(seq, a[1:p+1]...)
			}
			return
		}
		a[t] = a[t-p]
		db(t+1, p)
		for j := a[t-p] + 1; j < 10; j++ {
			a[t] = j
			db(t+1, t)
		}
	}
	db(1, 1)
	seq = append(seq, seq[0]) // wrap around
	var out []string
	for i := 0; i < len(seq); i += 10 {
		words := make([]string, 0, 11)
		for j, d := range seq[i:min(i+11, len(seq))] {
			w := digitWords[d]
			if d == 0 && (i/10+j)%3 == 0 {
				w = "oh"
			}
			words = append(words, w)
		}
		out = append(out, strings.Join(words, " "))
	}
	// Numbers usually follow an introduction, so every digit also starts
	// a number after one: "is five" must not be a back-off to the unigram.
	intros := []string{"the number is", "my order number is", "it is", "my account number is", "it's"}
	for d := range 10 {
		words := []string{intros[d%len(intros)], digitWords[d]}
		for _, e := range seq[10*d : 10*d+4] {
			words = append(words, digitWords[e])
		}
		out = append(out, strings.Join(words, " "))
	}
	return out
}

var (
	teenWords = [10]string{"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	tensWords = [10]string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
)

// numberWords speaks a run of digits: a two-digit number as a quantity
// ("24" → "twenty four", as in "24 hours"), anything else digit by digit
// ("5821" → "five eight two one", as callers read order numbers).
func numberWords(digits []rune) []string {
	if len(digits) == 2 && digits[0] != '0' {
		t, u := digits[0]-'0', digits[1]-'0'
		if t == 1 {
			return []string{teenWords[u]}
		}
		if u == 0 {
			return []string{tensWords[t]}
		}
		return []string{tensWords[t], digitWords[u]}
	}
	out := make([]string, len(digits))
	for i, d := range digits {
		out[i] = digitWords[d-'0']
	}
	return out
}

// Sentences splits text (a knowledge-base passage, say) into sentences:
// at line breaks, and after . ! ? ; : followed by a space or the end, so
// "192.168.1.1" stays whole. A language model learns where sentences
// start and end from these.
func Sentences(text string) []string {
	var out []string
	rs := []rune(text)
	start := 0
	cut := func(end int) {
		if s := strings.TrimSpace(string(rs[start:end])); s != "" {
			out = append(out, s)
		}
		start = end
	}
	for i, r := range rs {
		switch {
		case r == '\n':
			cut(i)
		case strings.ContainsRune(".!?;:", r) && (i+1 == len(rs) || unicode.IsSpace(rs[i+1])):
			cut(i + 1)
		}
	}
	cut(len(rs))
	return out
}

// Normalize turns a phrase into LM words: lower case, punctuation dropped
// (apostrophes inside words kept), numbers spoken (see numberWords).
func Normalize(s string) []string {
	var words []string
	var cur, digits []rune
	flush := func() {
		if len(digits) > 0 {
			words = append(words, numberWords(digits)...)
			digits = digits[:0]
		}
		w := strings.Trim(string(cur), "'")
		if w != "" {
			words = append(words, w)
		}
		cur = cur[:0]
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case r <= '9' && r >= '0':
			if len(cur) > 0 {
				flush()
			}
			digits = append(digits, r)
		case unicode.IsLetter(r), r == '\'' || r == '’':
			if len(digits) > 0 {
				flush()
			}
			if r == '’' {
				r = '\''
			}
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	return words
}

// LM is an n-gram language model estimated from a handful of sentences
// with interpolated Witten-Bell smoothing, written in ARPA format.
type LM struct {
	order  int
	counts []map[string]int // counts[n-1]["w1 w2 ... wn"]
}

const (
	bos = "<s>"
	eos = "</s>"
)

// BuildLM estimates a model of the given order (2 or 3) from sentences
// already split into words.
func BuildLM(sentences [][]string, order int) *LM {
	order = max(2, min(3, order))
	lm := &LM{order: order, counts: make([]map[string]int, order)}
	for i := range lm.counts {
		lm.counts[i] = map[string]int{}
	}
	for _, s := range sentences {
		if len(s) == 0 {
			continue
		}
		toks := append(append([]string{bos}, s...), eos)
		for n := 1; n <= order; n++ {
			for i := 0; i+n <= len(toks); i++ {
				lm.counts[n-1][strings.Join(toks[i:i+n], " ")]++
			}
		}
	}
	return lm
}

// Vocabulary lists the model's words without <s> and </s>, sorted.
func (lm *LM) Vocabulary() []string {
	var v []string
	for w := range lm.counts[0] {
		if w != bos && w != eos {
			v = append(v, w)
		}
	}
	sort.Strings(v)
	return v
}

// histStats holds, for a history, the count of its continuations and the
// number of distinct words that followed it.
type histStats struct{ total, types int }

func (lm *LM) stats(n int) map[string]histStats {
	st := map[string]histStats{}
	for g, c := range lm.counts[n-1] {
		h := g[:strings.LastIndexByte(g, ' ')]
		s := st[h]
		s.total += c
		s.types++
		st[h] = s
	}
	return st
}

// WriteARPA writes the model. Probabilities are interpolated Witten-Bell:
// P(w|h) = (c(h,w) + T(h)·P(w|h')) / (c(h) + T(h)) for seen n-grams, and the
// back-off weight of h is T(h)/(c(h)+T(h)), which makes the back-off form
// give exactly the interpolated distribution for unseen words.
func (lm *LM) WriteARPA(w io.Writer) error {
	bw := bufio.NewWriter(w)
	// Unigrams: maximum likelihood over everything but <s>.
	var total int
	for g, c := range lm.counts[0] {
		if g != bos {
			total += c
		}
	}
	prob := make([]map[string]float64, lm.order) // linear probabilities
	prob[0] = map[string]float64{}
	for g, c := range lm.counts[0] {
		if g != bos {
			prob[0][g] = float64(c) / float64(total)
		}
	}
	bow := make([]map[string]float64, lm.order)
	for n := 2; n <= lm.order; n++ {
		st := lm.stats(n)
		prob[n-1] = map[string]float64{}
		bow[n-2] = map[string]float64{}
		for h, s := range st {
			bow[n-2][h] = float64(s.types) / float64(s.total+s.types)
		}
		for g, c := range lm.counts[n-1] {
			h := g[:strings.LastIndexByte(g, ' ')]
			lower := lm.lowerProb(prob, bow, g[strings.IndexByte(g, ' ')+1:])
			s := st[h]
			prob[n-1][g] = (float64(c) + float64(s.types)*lower) / float64(s.total+s.types)
		}
	}

	fmt.Fprintf(bw, "\\data\\\n")
	for n := 1; n <= lm.order; n++ {
		fmt.Fprintf(bw, "ngram %d=%d\n", n, len(lm.counts[n-1]))
	}
	for n := 1; n <= lm.order; n++ {
		fmt.Fprintf(bw, "\n\\%d-grams:\n", n)
		grams := make([]string, 0, len(lm.counts[n-1]))
		for g := range lm.counts[n-1] {
			grams = append(grams, g)
		}
		sort.Strings(grams)
		for _, g := range grams {
			p := -99.0 // <s> is never predicted
			if v, ok := prob[n-1][g]; ok {
				p = math.Log10(v)
			}
			fmt.Fprintf(bw, "%.6f %s", p, g)
			if n < lm.order {
				if b, ok := bow[n-1][g]; ok {
					fmt.Fprintf(bw, " %.6f", math.Log10(b))
				}
			}
			bw.WriteByte('\n')
		}
	}
	fmt.Fprintf(bw, "\n\\end\\\n")
	return bw.Flush()
}

// lowerProb is P(g) under the model of order len(g), using back-off for
// n-grams that were not seen.
func (lm *LM) lowerProb(prob, bow []map[string]float64, g string) float64 {
	n := strings.Count(g, " ") + 1
	if p, ok := prob[n-1][g]; ok {
		return p
	}
	if n == 1 {
		return 0 // unknown word: cannot happen for words of seen n-grams
	}
	h := g[:strings.LastIndexByte(g, ' ')]
	b, ok := bow[n-2][h]
	if !ok {
		b = 1
	}
	return b * lm.lowerProb(prob, bow, g[strings.IndexByte(g, ' ')+1:])
}
