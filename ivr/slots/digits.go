package slots

import (
	"strings"
	"unicode"
)

// unitWords are the spoken digits. "oh" and "o" are zero only next to other
// digits (see ambiguous).
var unitWords = map[string]int{
	"zero": 0, "nought": 0, "naught": 0, "nil": 0, "null": 0,
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
	"six": 6, "seven": 7, "eight": 8, "nine": 9,
}

var teenWords = map[string]int{
	"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
	"fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}

var tensWords = map[string]int{
	"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50,
	"sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

// ambiguous words are digits only between two other digit words: "oh" is
// also an interjection and recognisers write "to", "for", "ate", "free",
// "fire" for digits.
var ambiguous = map[string]string{
	"oh": "0", "o": "0", "to": "2", "too": "2", "for": "4", "fore": "4", "ate": "8", "won": "1",
	"free": "3", "tree": "3", "fire": "5",
}

// Misheard is the digit a recogniser's misheard word stands for ("to" 2,
// "for" 4, "won" 1, "ate" 8, "free" 3, "fire" 5), "" for any other word
// ("oh" is zero in its own right, not a mishearing). Like ParseDigits,
// callers take it for a digit only inside a run of digits.
func Misheard(w string) string {
	if w == "oh" || w == "o" {
		return ""
	}
	return ambiguous[w]
}

// fillers may sit inside a spoken number without ending it.
var fillers = map[string]bool{
	"um": true, "uh": true, "er": true, "erm": true, "ah": true, "hmm": true,
	"mm": true, "uhm": true, "umm": true, "and": true, "dash": true, "hyphen": true,
}

// words splits text into lower-case tokens of letters and digits. An
// apostrophe inside a word is dropped ("it's" → "its"); everything else that
// is not a letter or digit separates tokens, and a token never mixes letters
// and digits ("a58213" → "a", "58213").
func words(text string) []string {
	var out []string
	var b strings.Builder
	kind := 0 // 0 none, 1 letters, 2 digits
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
		kind = 0
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case r == '\'' || r == '’':
			// drop, keep the word together
		case unicode.IsDigit(r):
			if kind == 1 {
				flush()
			}
			kind = 2
			b.WriteRune(r)
		case unicode.IsLetter(r):
			if kind == 2 {
				flush()
			}
			kind = 1
			b.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// isDigitWord reports whether tok on its own is a number token.
func isDigitWord(tok string) bool {
	if tok == "" {
		return false
	}
	if _, ok := unitWords[tok]; ok {
		return true
	}
	if _, ok := teenWords[tok]; ok {
		return true
	}
	if _, ok := tensWords[tok]; ok {
		return true
	}
	if tok == "double" || tok == "triple" || tok == "hundred" {
		return true
	}
	for _, r := range tok {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// run is a stretch of tokens that reads as one spoken digit string.
type run struct {
	digits     string
	start, end int // token indexes, end exclusive
}

// digitRuns finds the digit strings in toks. A run goes on across fillers
// and breaks at any other word.
func digitRuns(toks []string) []run {
	var runs []run
	var cur strings.Builder
	start, last := -1, -1
	end := func() {
		if cur.Len() > 0 {
			runs = append(runs, run{digits: cur.String(), start: start, end: last + 1})
		}
		cur.Reset()
		start, last = -1, -1
	}
	emit := func(i int, d string) {
		if start < 0 {
			start = i
		}
		last = i
		cur.WriteString(d)
	}
	nextDigit := func(i int) bool {
		for j := i + 1; j < len(toks); j++ {
			if isDigitWord(toks[j]) {
				return true
			}
			if !fillers[toks[j]] {
				return false
			}
		}
		return false
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if d, ok := unitWords[t]; ok {
			emit(i, string(rune('0'+d)))
			continue
		}
		if n, ok := teenWords[t]; ok {
			emit(i, itoa(n))
			continue
		}
		if n, ok := tensWords[t]; ok {
			if i+1 < len(toks) {
				if u, ok := unitWords[toks[i+1]]; ok && u > 0 {
					emit(i, itoa(n+u))
					last = i + 1
					i++
					continue
				}
			}
			emit(i, itoa(n))
			continue
		}
		if t == "double" || t == "triple" {
			times := 2
			if t == "triple" {
				times = 3
			}
			if i+1 < len(toks) {
				if d, ok := digitOf(toks, i+1); ok && len(d) == 1 {
					emit(i, strings.Repeat(d, times))
					last = i + 1
					i++
					continue
				}
			}
			end()
			continue
		}
		if t == "hundred" {
			// "five hundred", "five hundred and twelve", "twelve
			// hundred", "forty five hundred": the group before it is
			// hundreds, the two digits after it (or 00) follow.
			if cur.Len() == 0 || last != i-1 || !hundreds(toks, i) {
				end()
				continue
			}
			j := i + 1
			if j < len(toks) && toks[j] == "and" {
				j++
			}
			rest, used := twoDigits(toks, j)
			if used == 0 {
				emit(i, "00")
				continue
			}
			emit(i, rest)
			last = j + used - 1
			i = j + used - 1
			continue
		}
		if isNumeric(t) {
			emit(i, t)
			continue
		}
		if d, ok := ambiguous[t]; ok && cur.Len() > 0 && last == i-1 && nextDigit(i) {
			emit(i, d)
			continue
		}
		if (t == "oh" || t == "o") && cur.Len() == 0 && nextDigit(i) && i+1 < len(toks) && isDigitWord(toks[i+1]) {
			emit(i, "0")
			continue
		}
		if fillers[t] && cur.Len() > 0 {
			continue
		}
		end()
	}
	end()
	return runs
}

// digitOf reads one digit token at toks[i], including "oh".
func digitOf(toks []string, i int) (string, bool) {
	t := toks[i]
	if d, ok := unitWords[t]; ok {
		return string(rune('0' + d)), true
	}
	if t == "oh" || t == "o" {
		return "0", true
	}
	if len(t) == 1 && t[0] >= '0' && t[0] <= '9' {
		return t, true
	}
	return "", false
}

// hundreds reports whether the words before toks[i] ("hundred") count
// hundreds: a unit ("five"), a teen ("twelve"), tens ("forty") or tens and
// a unit ("forty five").
func hundreds(toks []string, i int) bool {
	p := toks[i-1]
	_, teen := teenWords[p]
	_, tens := tensWords[p]
	return isSingleUnit(p) || teen || tens
}

func isSingleUnit(t string) bool {
	if d, ok := unitWords[t]; ok && d > 0 {
		return true
	}
	return len(t) == 1 && t[0] >= '1' && t[0] <= '9'
}

// twoDigits reads "twelve", "forty two", "forty", "five" at toks[i] as two
// digits and says how many tokens it used.
func twoDigits(toks []string, i int) (string, int) {
	if i >= len(toks) {
		return "", 0
	}
	t := toks[i]
	if n, ok := teenWords[t]; ok {
		return itoa(n), 1
	}
	if n, ok := tensWords[t]; ok {
		if i+1 < len(toks) {
			if u, ok := unitWords[toks[i+1]]; ok && u > 0 {
				return itoa(n + u), 2
			}
		}
		return itoa(n), 1
	}
	if u, ok := unitWords[t]; ok {
		return "0" + itoa(u), 1
	}
	return "", 0
}

func isNumeric(t string) bool {
	if t == "" {
		return false
	}
	for _, r := range t {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// ParseDigits turns a spoken digit string into digits: "five eight two one
// three", "5 8 2 1 3" and "58213" all give "58213"; "oh" is 0 between
// digits, "double five" is "55", "forty two" is "42", "five hundred" is
// "500". Fillers ("um", "uh") are skipped and so are other words: every
// digit in text is returned, in order. It returns "" when there is none.
func ParseDigits(text string) string {
	var b strings.Builder
	for _, r := range digitRuns(words(text)) {
		b.WriteString(r.digits)
	}
	return b.String()
}

// Number keywords: a digit string right after these words is taken to be
// that kind of number.
var (
	// OrderKeywords mark order numbers.
	OrderKeywords = []string{"order", "reference", "ref", "tracking", "confirmation"}
	// AccountKeywords mark account or customer numbers.
	AccountKeywords = []string{"account", "customer", "membership", "member"}
	// otherKeywords mark numbers that are neither.
	otherKeywords = []string{"phone", "mobile", "cell", "telephone", "card", "zip", "postcode", "code", "pin", "date", "birth", "year", "extension", "ticket", "case"}
)

// weakKeywords often come right before a number of any kind.
var weakKeywords = []string{"number", "no", "num", "is", "its", "was", "thats"}

// ExtractNumber finds a digit string of minLen to maxLen digits in text and
// prefers the one closest after one of the keywords (within six words),
// e.g. ExtractNumber("my account number is 4 4 1 2 9", AccountKeywords, 4,
// 10, true) is "44129". A number introduced by a word naming another kind
// of number (phone, card, zip, account or order when not among keywords) is
// never taken. Without requireKeyword a number with no keyword before it
// is taken when nothing better is there.
func ExtractNumber(text string, keywords []string, minLen, maxLen int, requireKeyword bool) (string, bool) {
	toks := words(text)
	best, bestScore := "", -1<<30
	for _, r := range digitRuns(toks) {
		if len(r.digits) < minLen || len(r.digits) > maxLen {
			continue
		}
		score := 0
		for j := r.start - 1; j >= 0 && j >= r.start-6; j-- {
			w := toks[j]
			if contains(keywords, w) {
				score = 20 - (r.start - j)
				break
			}
			if contains(otherKeywords, w) || contains(OrderKeywords, w) || contains(AccountKeywords, w) {
				score = -10
				break
			}
			if score == 0 && contains(weakKeywords, w) {
				score = 1
			}
		}
		if score > bestScore {
			best, bestScore = r.digits, score
		}
	}
	if best == "" || bestScore < 0 || (requireKeyword && bestScore < 10) {
		return "", false
	}
	return best, true
}

// ExtractOrderNumber finds an order number (4 to 10 digits) in text, spoken
// or typed, preferring one said right after "order", "reference" or
// "tracking"; numbers introduced as phone, card or account numbers are not
// taken.
func ExtractOrderNumber(text string) (string, bool) {
	return ExtractNumber(text, OrderKeywords, 4, 10, false)
}

// ExtractAccountNumber finds an account number (4 to 12 digits) said after
// "account", "customer" or "membership".
func ExtractAccountNumber(text string) (string, bool) {
	return ExtractNumber(text, AccountKeywords, 4, 12, true)
}

func contains(list []string, w string) bool {
	for _, s := range list {
		if s == w {
			return true
		}
	}
	return false
}
