package tickets

import (
	"strings"
	"unicode"
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

// Redact masks payment card numbers in text, typed ("4111 1111 1111 1111")
// or spoken digit by digit ("four one one one ..."): any 13 to 19 digits in
// a row that pass the Luhn check become "[card ending 1111]". Other
// numbers (orders, phones) are left alone.
func Redact(text string) string {
	toks := tokens(text)
	var b strings.Builder
	last := 0 // bytes of text already copied
	for i := 0; i < len(toks); {
		if digitsOf(toks[i].text) == "" {
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
				b.WriteString(text[last:toks[i].start])
				b.WriteString("[card ending " + ds[len(ds)-4:] + "]")
				last = toks[e].end
				i = e + 1
				masked = true
				break
			}
		}
		if !masked {
			i++
		}
	}
	b.WriteString(text[last:])
	return b.String()
}
