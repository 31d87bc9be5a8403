package tickets

import (
	"regexp"
	"slices"
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

// Redaction says what is masked beyond payment card data and national
// IDs, which always are. The zero value masks just those.
type Redaction struct {
	// Emails masks e-mail addresses, typed (ann@example.com) or spoken
	// ("ann dot lee at example dot com"), as "[email]". Off by default:
	// the ticket writer takes the caller's e-mail from the transcript.
	Emails bool
}

// MaskEmail replaces an e-mail address when Redaction.Emails is set.
const MaskEmail = "[email]"

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
func Redact(text string) string { return Redaction{}.Text(text) }

// Text masks text as Redact does, and e-mail addresses when r says so.
func (r Redaction) Text(text string) string { return r.After("", text) }

// After masks text that follows context (the lines said just before,
// which are not returned): a code after "what is the security code?" in
// the line before, or a card number whose first digits ended the line
// before, is masked too. A mask that starts in context covers the part
// of it that is in text. Context and text are joined by a space, which
// lets digits run on from one to the other; a line break at the end of
// context keeps them apart (another speaker said it).
func (r Redaction) After(context, text string) string {
	full, from := text, 0
	if context != "" {
		full, from = context+" "+text, len(context)+1
	}
	var b strings.Builder
	last := from
	for _, m := range r.masks(full) {
		if m.end <= from {
			continue
		}
		b.WriteString(full[last:max(m.start, from)])
		b.WriteString(m.with)
		last = m.end
	}
	b.WriteString(full[last:])
	return b.String()
}

// mask is a span of a text (bytes) and what replaces it.
type mask struct {
	start, end int
	with       string
}

// masks finds what to mask in text, in order and not overlapping.
func (r Redaction) masks(text string) []mask {
	toks := tokens(text)
	var out []mask
	if r.Emails {
		out = emailMasks(text, toks)
	}
	taken := func(i int) bool { // token i is inside an e-mail mask
		for _, m := range out {
			if toks[i].start < m.end && toks[i].end > m.start {
				return true
			}
		}
		return false
	}
	var found []mask
	add := func(from, to int, with string) {
		found = append(found, mask{toks[from].start, toks[to].end, with})
	}
	for i := 0; i < len(toks); {
		if taken(i) {
			i++
			continue
		}
		if digitsOf(toks[i].text) == "" {
			if ninoRE.MatchString(strings.ToUpper(toks[i].text)) || (i+1 < len(toks) && ninoSplit(toks, i, text)) {
				end := i
				if !ninoRE.MatchString(strings.ToUpper(toks[i].text)) {
					end = i + 2
				}
				add(i, end, MaskNationalID)
				i = end + 1
				continue
			}
			i++
			continue
		}
		// The run of digit tokens starting at i.
		j := i
		for j+1 < len(toks) && !taken(j+1) && digitsOf(toks[j+1].text) != "" && onlySeparators(text[toks[j].end:toks[j+1].start]) {
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
				add(i, e, "[card ending "+ds[len(ds)-4:]+"]")
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
			add(i, j, MaskNationalID)
			i = j + 1
		case (len(ds) == 3 || len(ds) == 4) && keywordBefore(toks, i, 6, cvvKeywords):
			add(i, j, MaskCVV)
			i = j + 1
		default:
			i++
		}
	}
	if len(out) == 0 {
		return found
	}
	out = append(out, found...)
	slices.SortFunc(out, func(a, b mask) int { return a.start - b.start })
	return out
}

// emailRE is a typed e-mail address.
var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

// Spoken e-mail addresses: "ann dot lee at example dot com".
var (
	emailJoiners = map[string]bool{"dot": true, "underscore": true, "dash": true, "hyphen": true, "period": true}
	emailTLDs    = map[string]bool{"com": true, "net": true, "org": true, "edu": true, "gov": true, "io": true,
		"co": true, "uk": true, "us": true, "de": true, "fr": true, "ca": true, "au": true, "ie": true, "nl": true,
		"info": true, "biz": true, "me": true}
)

// emailMasks finds e-mail addresses, typed or spoken, in order.
func emailMasks(text string, toks []token) []mask {
	var out []mask
	for _, loc := range emailRE.FindAllStringIndex(text, -1) {
		out = append(out, mask{loc[0], loc[1], MaskEmail})
	}
	inTyped := func(i int) bool {
		for _, m := range out {
			if toks[i].start < m.end && toks[i].end > m.start {
				return true
			}
		}
		return false
	}
	var spoken []mask
	for i := 1; i+3 < len(toks); i++ {
		if toks[i].text != "at" || inTyped(i) {
			continue
		}
		// Domain: word (dot word)+ ending in a known top-level domain.
		j := i + 1
		end := -1
		for j+2 < len(toks) && toks[j+1].text == "dot" {
			if emailTLDs[toks[j+2].text] {
				end = j + 2
			}
			j += 2
		}
		if end < 0 {
			continue
		}
		// Local part, backwards over "x dot y" joins.
		k := i - 1
		for k-2 >= 0 && emailJoiners[toks[k-1].text] {
			k -= 2
		}
		spoken = append(spoken, mask{toks[k].start, toks[end].end, MaskEmail})
		i = end
	}
	if len(spoken) == 0 {
		return out
	}
	out = append(out, spoken...)
	slices.SortFunc(out, func(a, b mask) int { return a.start - b.start })
	return out
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
	return Redaction{}.Transcript(tr)
}

// RedactSegments redacts segs in place.
func RedactSegments(segs []transcript.Segment) { Redaction{}.Segments(segs) }

// Transcript returns tr with every segment redacted; tr's own segments
// are not modified.
func (r Redaction) Transcript(tr transcript.Transcript) transcript.Transcript {
	segs := make([]transcript.Segment, len(tr.Segments))
	copy(segs, tr.Segments)
	r.Segments(segs)
	tr.Segments = segs
	if tr.Slots != nil {
		slots := make(map[string]string, len(tr.Slots))
		for k, v := range tr.Slots {
			slots[k] = r.Text(v)
		}
		tr.Slots = slots
	}
	return tr
}

// Segments redacts segs in place.
func (r Redaction) Segments(segs []transcript.Segment) {
	for i := range segs {
		segs[i] = r.Segment("", segs[i])
	}
}

// Segment masks the segment's text, after context (see After), and its
// words. When the words spell the text, each mask takes the place of the
// words it covers, as one word spanning their times, so the line keeps
// its timing; otherwise, when anything was masked, in the text or in the
// words, the words go: they would say what the text no longer does.
func (r Redaction) Segment(context string, s transcript.Segment) transcript.Segment {
	red := r.After(context, s.Text)
	if len(s.Words) > 0 {
		s.Words = r.words(context, s.Text, red, s.Words)
	}
	s.Text = red
	return s
}

// words redacts a segment's words (see Segment); nil when they must go.
func (r Redaction) words(context, text, red string, ws []transcript.Word) []transcript.Word {
	var b strings.Builder
	spans := make([][2]int, len(ws)) // each word's bytes in joined
	for i, w := range ws {
		if i > 0 {
			b.WriteByte(' ')
		}
		spans[i] = [2]int{b.Len(), b.Len() + len(w.Text)}
		b.WriteString(w.Text)
	}
	joined := b.String()
	from := 0
	full := joined
	if context != "" {
		full, from = context+" "+joined, len(context)+1
	}
	ms := r.masks(full)
	if !sameWords(joined, text) {
		for _, m := range ms {
			if m.end > from {
				return nil
			}
		}
		if red != text {
			return nil
		}
		return slices.Clone(ws)
	}
	out := make([]transcript.Word, 0, len(ws))
	mi := 0
	for i := 0; i < len(ws); {
		ws0, we0 := spans[i][0]+from, spans[i][1]+from
		for mi < len(ms) && ms[mi].end <= ws0 {
			mi++
		}
		if mi == len(ms) || ms[mi].start >= we0 {
			out = append(out, ws[i])
			i++
			continue
		}
		// Words i… overlap mask mi: one word in their place.
		w := transcript.Word{Text: ms[mi].with, StartMS: ws[i].StartMS, EndMS: ws[i].EndMS}
		for i < len(ws) && spans[i][0]+from < ms[mi].end {
			w.EndMS = max(w.EndMS, ws[i].EndMS)
			i++
		}
		out = append(out, w)
		mi++
	}
	return out
}

// sameWords reports whether a and b are the same words, whatever the
// case, spacing and punctuation.
func sameWords(a, b string) bool {
	ta, tb := tokens(a), tokens(b)
	if len(ta) != len(tb) {
		return false
	}
	for i := range ta {
		if ta[i].text != tb[i].text {
			return false
		}
	}
	return true
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
