package tickets

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/contactd/contactd/transcript"
)

// token is a word or digit string of a text with its byte span.
type token struct {
	text       string // lower case, apostrophes dropped
	start, end int
}

// tokens splits text into words and digit strings, keeping where each one
// is so that a caller can cut the original text.
func tokens(text string) []token {
	var out []token
	var b strings.Builder
	start, kind := -1, 0 // kind 1 letters, 2 digits
	flush := func(end int) {
		if b.Len() > 0 {
			out = append(out, token{text: b.String(), start: start, end: end})
		}
		b.Reset()
		start, kind = -1, 0
	}
	for i, r := range text {
		switch {
		case (r == '\'' || r == '’') && kind == 1:
			// "don't" stays one word
		case unicode.IsDigit(r):
			if kind == 1 {
				flush(i)
			}
			if start < 0 {
				start = i
			}
			kind = 2
			b.WriteRune(r)
		case unicode.IsLetter(r):
			if kind == 2 {
				flush(i)
			}
			if start < 0 {
				start = i
			}
			kind = 1
			b.WriteRune(unicode.ToLower(r))
		default:
			flush(i)
		}
	}
	flush(len(text))
	return out
}

var spokenDigits = map[string]string{
	"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
	"five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}

// digitsOf returns the digits a single token stands for, "" if none.
func digitsOf(t string) string {
	if d, ok := spokenDigits[t]; ok {
		return d
	}
	for _, r := range t {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return t
}

// luhn reports whether digits pass the Luhn check payment cards use.
func luhn(digits string) bool {
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// onlySeparators reports whether s between two digit tokens keeps them in
// one number: spaces, dashes and dots.
func onlySeparators(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '-' && r != '.' && r != '\t' {
			return false
		}
	}
	return true
}

// Keywords that introduce a card security code or a national ID number.
var (
	cvvKeywords = [][]string{{"cvv"}, {"cvc"}, {"cv2"}, {"cvv2"}, {"security", "code"}, {"security", "number"},
		{"three", "digit", "code"}, {"digits", "on", "the", "back"}, {"code", "on", "the", "back"}}
	nationalIDKeywords = [][]string{{"social", "security"}, {"ssn"}, {"social"}, {"national", "insurance"},
		{"national", "id"}, {"tax", "id"}, {"sin"}, {"passport"}}
)

// keywordBefore reports whether one of the phrases ends within window
// tokens before token i.
func keywordBefore(toks []token, i, window int, phrases [][]string) bool {
	for end := i - 1; end >= 0 && end >= i-window; end-- {
		for _, p := range phrases {
			if end+1 < len(p) {
				continue
			}
			ok := true
			for k := range p {
				if toks[end+1-len(p)+k].text != p[k] {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// Redaction marks. Card numbers keep their last four digits, which
// receipts print too and agents need to tell cards apart.
const (
	MaskCVV        = "[cvv]"
	MaskNationalID = "[national id]"
)

// Redact masks payment card data and national ID numbers in text, typed
// or spoken digit by digit:
//   - 13 to 19 digits in a row that pass the Luhn check (payment cards)
//     become "[card ending 1111]";
//   - a 3 or 4 digit code right after "cvv", "security code", "the three
//     digit code on the back" … becomes "[cvv]";
//   - a US social security number typed as 123-45-6789, or nine digits
//     right after "social security", "ssn", "national insurance" …,
//     becomes "[national id]"; so does a UK National Insurance number
//     (AB123456C).
//
// Other numbers (orders, phones, amounts) are left alone.
func Redact(text string) string {
	toks := tokens(text)
	var b strings.Builder
	last := 0 // bytes of text already copied
	mask := func(from, to int, with string) {
		b.WriteString(text[last:toks[from].start])
		b.WriteString(with)
		last = toks[to].end
	}
	for i := 0; i < len(toks); {
		if digitsOf(toks[i].text) == "" {
			if ninoRE.MatchString(strings.ToUpper(toks[i].text)) || (i+1 < len(toks) && ninoSplit(toks, i, text)) {
				end := i
				if !ninoRE.MatchString(strings.ToUpper(toks[i].text)) {
					end = i + 2
				}
				mask(i, end, MaskNationalID)
				i = end + 1
				continue
			}
			i++
			continue
		}
		// The run of digit tokens starting at i.
		j := i
		for j+1 < len(toks) && digitsOf(toks[j+1].text) != "" && onlySeparators(text[toks[j].end:toks[j+1].start]) {
			j++
		}
		masked := false
		// Longest card-like stretch starting at token i.
		for e := j; e >= i; e-- {
			var d strings.Builder
			for k := i; k <= e; k++ {
				d.WriteString(digitsOf(toks[k].text))
			}
			ds := d.String()
			if len(ds) >= 13 && len(ds) <= 19 && luhn(ds) {
				mask(i, e, "[card ending "+ds[len(ds)-4:]+"]")
				i = e + 1
				masked = true
				break
			}
		}
		if masked {
			continue
		}
		var d strings.Builder
		for k := i; k <= j; k++ {
			d.WriteString(digitsOf(toks[k].text))
		}
		ds := d.String()
		switch {
		case len(ds) == 9 && (typedSSN(toks, i, j, text) || keywordBefore(toks, i, 6, nationalIDKeywords)):
			mask(i, j, MaskNationalID)
			i = j + 1
		case (len(ds) == 3 || len(ds) == 4) && keywordBefore(toks, i, 6, cvvKeywords):
			mask(i, j, MaskCVV)
			i = j + 1
		default:
			i++
		}
	}
	b.WriteString(text[last:])
	return b.String()
}

// typedSSN reports whether tokens i..j are written 123-45-6789.
func typedSSN(toks []token, i, j int, text string) bool {
	return j == i+2 && len(toks[i].text) == 3 && len(toks[i+1].text) == 2 && len(toks[j].text) == 4 &&
		text[toks[i].end:toks[i+1].start] == "-" && text[toks[i+1].end:toks[j].start] == "-"
}

// ninoRE is a UK National Insurance number as one token.
var ninoRE = regexp.MustCompile(`^[A-CEGHJ-PR-TW-Z]{2}[0-9]{6}[A-D]$`)

// ninoSplit reports whether tokens i, i+1, i+2 read "AB 123456 C" (the
// tokenizer splits letters from digits).
func ninoSplit(toks []token, i int, text string) bool {
	if i+2 >= len(toks) {
		return false
	}
	joined := strings.ToUpper(text[toks[i].start:toks[i+2].end])
	joined = strings.ReplaceAll(joined, " ", "")
	return len(toks[i].text) == 2 && len(toks[i+1].text) == 6 && len(toks[i+2].text) == 1 &&
		digitsOf(toks[i+1].text) == toks[i+1].text && ninoRE.MatchString(joined)
}

// RedactTranscript returns tr with every segment's text redacted; tr's
// own segments are not modified.
func RedactTranscript(tr transcript.Transcript) transcript.Transcript {
	segs := make([]transcript.Segment, len(tr.Segments))
	for i, s := range tr.Segments {
		s.Text = Redact(s.Text)
		segs[i] = s
	}
	tr.Segments = segs
	return tr
}

// RedactSegments redacts segs in place.
func RedactSegments(segs []transcript.Segment) {
	for i := range segs {
		segs[i].Text = Redact(segs[i].Text)
	}
}

// RedactTicket masks card data and national IDs in the ticket's free
// text: subject, summary, entity values and follow-up actions.
func RedactTicket(t Ticket) Ticket {
	t.Subject, t.Summary = Redact(t.Subject), Redact(t.Summary)
	if t.Entities != nil {
		e := make(map[string]string, len(t.Entities))
		for k, v := range t.Entities {
			e[k] = Redact(v)
		}
		t.Entities = e
	}
	if t.FollowUps != nil {
		f := make([]FollowUp, len(t.FollowUps))
		for i, u := range t.FollowUps {
			u.Action = Redact(u.Action)
			f[i] = u
		}
		t.FollowUps = f
	}
	return t
}
