package tickets

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/contactd/contactd/ivr/slots"
	"github.com/contactd/contactd/transcript"
)

// Spoken numbers in a conversation, before the slot extractors read them.
// ivr/slots reads one utterance at a time, as the IVR hears it; a caller
// talking to an agent also says "oh" for a zero at the end of a number
// ("two nine five five oh") and several times over ("three nine oh oh
// four"), corrects themself ("six two four one one sorry no six two five
// one one"), and pauses in the middle of a number, so that it comes in two
// segments, sometimes with the agent's "go on" between them.

// numberFillers may stand inside a spoken number.
var numberFillers = map[string]bool{
	"um": true, "uh": true, "er": true, "erm": true, "ah": true, "hmm": true, "mm": true, "umm": true, "uhm": true,
	"dash": true, "hyphen": true,
}

// correctionWords take back what was just said ("sorry", "no", "i mean",
// "actually"); between two digit strings they mean the second replaces
// the first.
var correctionWords = map[string]bool{
	"sorry": true, "no": true, "nah": true, "nope": true, "actually": true, "mean": true, "i": true, "wait": true, "hang": true, "on": true,
	"its": true, "it": true, "is": true, "thats": true, "that": true, "was": true, "wrong": true, "oops": true,
	"rather": true, "or": true, "correction": true, "let": true, "me": true, "start": true, "again": true,
}

// correctionNouns may stand in a correction after its first word: "no
// wait, that's my old number", "sorry, the new order is"; and oneOf before
// "one" ("that's the old one") make it a word, not a digit.
var (
	correctionNouns = map[string]bool{"the": true, "my": true, "old": true, "new": true, "number": true, "order": true, "other": true, "right": true, "this": true}
	oneOf           = map[string]bool{"old": true, "wrong": true, "other": true, "new": true, "right": true}
)

// pickWords before "one" make it a word, as oneOf do: "the first one",
// "which one" ("the last one" is left to lastDigit: "the last one's an
// eight"; "that one" to the notFound and stall phrases).
var pickWords = map[string]bool{"first": true, "second": true, "third": true,
	"this": true, "which": true, "each": true, "every": true, "any": true, "same": true, "other": true}

// correctionMarkers are the correctionWords that, at least one of them,
// make a correction ("its" alone between two numbers does not).
var correctionMarkers = map[string]bool{
	"sorry": true, "no": true, "nah": true, "nope": true, "actually": true, "mean": true, "wait": true, "wrong": true, "oops": true,
	"rather": true, "correction": true, "again": true,
}

// backchannels are an agent's words while a caller reads a number out:
// "go on", "yes", "mhm".
var backchannels = map[string]bool{
	"yes": true, "yeah": true, "yep": true, "go": true, "on": true, "ok": true, "okay": true, "mhm": true, "uh": true,
	"huh": true, "right": true, "carry": true, "and": true, "then": true, "the": true, "rest": true, "got": true,
	"that": true, "keep": true, "going": true, "sure": true, "um": true, "mm": true, "hmm": true, "sorry": true,
	"with": true, "you": true, "im": true, "so": true, "far": true, "thats": true, "fine": true,
	"hm": true, "mmhm": true, "uhhuh": true, "yup": true, "alright": true,
}

// isOh reports whether w is a spoken zero that is also a word.
func isOh(w string) bool { return w == "oh" || w == "o" }

// numberWord reports whether w is a digit word on its own ("seven",
// "twenty", "58213", "double").
func numberWord(w string) bool {
	switch w {
	case "double", "triple", "hundred":
		return true
	case "and", "oh", "o", "to", "too", "for", "fore", "ate", "won":
		return false
	}
	return slots.ParseDigits(w) != ""
}

// isVerbBefore say what a digit is: "the last is three not eight".
var isVerbBefore = map[string]bool{"is": true, "s": true, "its": true, "was": true, "be": true, "should": true}

// ohSaid and ohSaidAfterStop are an "oh" said as a word, no zero: "…
// four three. oh wait there's also a code", "oh sorry", "oh hang on".
var (
	ohSaid          = regexp.MustCompile(`(?i)(^|\s)oh\s+(wait|sorry|hang|actually|hold|god|dear|yeah|yes|right|okay|ok|well)\b`)
	ohSaidAfterStop = regexp.MustCompile(`(?i)([.!?])\s+oh\s+(\w+)`)
)

// theThingOne is "one" naming a thing before a comma: "let me pull up the
// pillows one, nine oh two four one seven".
var theThingOne = regexp.MustCompile(`(?i)\b(the|that|this|your)\s+(\w+)\s+one\s*,`)

// saidOh writes an "oh" said as a word (ohSaid, ohSaidAfterStop) as "ah".
func saidOh(text string) string {
	text = ohSaidAfterStop.ReplaceAllStringFunc(text, func(m string) string {
		sub := ohSaidAfterStop.FindStringSubmatch(m)
		if x := strings.ToLower(sub[2]); numberWord(x) || isOh(x) || numberFillers[x] {
			return m // "… that's it. oh seven seven oh …": a number starting
		}
		return sub[1] + " ah " + sub[2]
	})
	text = ohSaid.ReplaceAllString(text, "${1}ah $2")
	return text
}

// thingOne writes "one" naming a thing (theThingOne) as "item".
func thingOne(text string) string {
	text = theThingOne.ReplaceAllStringFunc(text, func(m string) string {
		sub := theThingOne.FindStringSubmatch(m)
		if x := strings.ToLower(sub[2]); numberWord(x) || isOh(x) || numberFillers[x] {
			return m
		}
		return sub[1] + " " + sub[2] + " item,"
	})
	return text
}

// digitStop is a number read out digit by digit (four digit words at
// least) ending a sentence, and the digit word and the word that open the
// next: "… four seven two zero one eight. Three office chairs."
var digitStop = regexp.MustCompile(`(?i)((?:\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)[\s,]+){3,}(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)[.!?]+\s+)(one|two|three|four|five|six|seven|eight|nine)(\s+)([a-z']+)`)

// countAfterStop puts "also" before a digit word that opens a sentence
// after a number read out digit by digit when a word that is no digit
// follows it ("… two zero one eight. Three office chairs."): a count, not
// more of the number ("five eight. three one nine" goes on).
func countAfterStop(text string) string {
	return digitStop.ReplaceAllStringFunc(text, func(m string) string {
		sub := digitStop.FindStringSubmatch(m)
		if x := strings.ToLower(sub[4]); numberWord(x) || isOh(x) || numberFillers[x] || correctionWords[x] || x == "double" || x == "triple" || x == "at" {
			return m // "… four four one. two at the end." corrects the last digit
		}
		return sub[1] + "also " + sub[2] + sub[3] + sub[4]
	})
}

// spokenNumbers rewrites text's words for the slot extractors: an "oh" (or
// a row of them) is "0" between digits, and after three or more digit
// words at the end of a number; a digit string followed by a correction
// and another digit string is dropped. An "oh" said as a word and "one"
// naming a thing are no digits (saidOh, thingOne).
func spokenNumbers(text string) string {
	if strings.Contains(text, "oh") || strings.Contains(text, "Oh") || strings.Contains(text, "OH") {
		text = saidOh(text)
	}
	if strings.Contains(text, "one,") || strings.Contains(text, "one ,") || strings.Contains(text, "ONE,") {
		text = thingOne(text)
	}
	if strings.ContainsAny(text, ".!?") {
		text = countAfterStop(text)
	}
	w := wordsOf(text)
	if !slices.ContainsFunc(w, numberWord) {
		return text
	}
	// "the 58214 one": a written number and "one" after it is the thing
	// it names, no digit more (a recogniser writes a number's digits
	// together).
	for i := 0; i+1 < len(w); i++ {
		if w[i+1] == "one" && len(w[i]) >= 4 && strings.Trim(w[i], "0123456789") == "" {
			w[i+1] = "item"
		}
	}
	// "the other one 615530": "one" after a word that picks a thing out
	// ("other", "old", "second", "that") is the thing, no digit.
	for i := 1; i < len(w); i++ {
		if w[i] == "one" && (oneOf[w[i-1]] || pickWords[w[i-1]]) {
			w[i] = "item"
		}
	}
	// "a long one": "one" after "a" and a word that is no digit is the
	// thing spoken of ("it's a long one. two two nine oh …"), no digit.
	for i := 2; i < len(w); i++ {
		if w[i] == "one" && (w[i-2] == "a" || w[i-2] == "an") && !numberWord(w[i-1]) && !isOh(w[i-1]) &&
			!numberFillers[w[i-1]] && !slices.Contains(orderKeywords, w[i-1]) && !weakNumberWords[w[i-1]] {
			w[i] = "item"
		}
	}
	// "not a three": a digit named as the wrong one ("the last digit's a
	// four not a three. seven one nine oh five four", "the last is three
	// not eight") is no digit of the number said after it.
	for i := 2; i < len(w); i++ {
		if w[i-2] == "not" && (w[i-1] == "a" || w[i-1] == "an") && len(slots.ParseDigits(w[i])) == 1 && w[i] != "double" && w[i] != "triple" {
			w[i] = "item"
		}
		// "the last is three not eight. four one seven …"
		if i >= 3 && w[i-1] == "not" && len(slots.ParseDigits(w[i])) == 1 && len(slots.ParseDigits(w[i-2])) == 1 && isVerbBefore[w[i-3]] &&
			w[i] != "double" && w[i] != "triple" {
			w[i] = "item"
		}
	}
	// A number given in chunks with "then" between ("it starts with nine
	// nine then three four oh then seventy one") is one number: "then"
	// (and an "and" before it) goes when two or three single digits come
	// before it and digits after, four or more in all.
	var joins [][2]int // the words w[b:i+1] to drop
	for i := 2; i+1 < len(w); i++ {
		if w[i] != "then" {
			continue
		}
		b := i // the chunk before is w[a:b]
		if w[b-1] == "and" {
			b--
		}
		a := b
		for a > 0 && (isOh(w[a-1]) || numberWord(w[a-1]) && len(slots.ParseDigits(w[a-1])) == 1) {
			a--
		}
		e := i + 1 // the chunk after is w[i+1:e]
		for e < len(w) && (isOh(w[e]) || numberWord(w[e])) {
			e++
		}
		if n := b - a; n >= 2 && n <= 3 && e > i+1 && numberWord(w[i+1]) &&
			n+len(slots.ParseDigits(strings.ReplaceAll(strings.Join(w[i+1:e], " "), "oh", "zero"))) >= 4 {
			joins = append(joins, [2]int{b, i + 1})
		}
	}
	for k := len(joins) - 1; k >= 0; k-- {
		w = slices.Delete(w, joins[k][0], joins[k][1])
	}
	// "oh" as zero.
	digitsBefore := 0 // digit words in the number running up to i
	for i := 0; i < len(w); i++ {
		switch {
		case numberWord(w[i]):
			digitsBefore++
			continue
		case numberFillers[w[i]]:
			continue
		case !isOh(w[i]):
			digitsBefore = 0
			continue
		}
		j := i // the row of ohs is w[i:j]
		for j < len(w) && (isOh(w[j]) || numberFillers[w[j]]) {
			j++
		}
		next := j < len(w) && numberWord(w[j])
		if digitsBefore > 0 && next || digitsBefore >= 3 && !next || digitsBefore == 0 && next && j-i > 1 {
			for k := i; k < j; k++ {
				if isOh(w[k]) {
					w[k] = "0"
					digitsBefore++
				}
			}
		} else {
			digitsBefore = 0
		}
		i = j - 1
	}
	// Two numbers joined by "and" ("nine oh two one four and nine oh
	// three three seven") stay two: the extractors take "and" inside a
	// number ("five hundred and two").
	for i := 1; i+1 < len(w); i++ {
		if w[i] == "and" && len(slots.ParseDigits(strings.Join(digitRun(w[:i], -1), " "))) >= 4 &&
			len(slots.ParseDigits(strings.Join(digitRun(w[i+1:], 1), " "))) >= 4 {
			w[i] = "also"
		}
	}
	// A year said after a number read out digit by digit ("six three
	// three one eight, twenty twenty four") is not more of its digits.
	for i := 4; i+1 < len(w); i++ {
		if yearStart(w[i:]) && singleDigits(digitRun(w[:i], -1)) >= 4 {
			w = slices.Insert(w, i, "also")
			i++
		}
	}
	// A count of something after a number ("order two seven seven four
	// five. three weeks.", "… four eight one oh two one box came") is not
	// the number's last digit.
	for i := 1; i+1 < len(w); i++ {
		if numberWord(w[i]) && countedWords[w[i+1]] && numberWord(w[i-1]) {
			w = slices.Insert(w, i, "also")
			i++
		}
	}
	// A number said twice in a row ("nine zero five five one. nine oh
	// five five one.") is one number, not one of twice the length.
	for i := 0; i < len(w); i++ {
		if !numberWord(w[i]) {
			continue
		}
		j := i
		for j < len(w) && numberWord(w[j]) {
			j++
		}
		for s := i + 1; s < j; s++ {
			if d := slots.ParseDigits(strings.Join(w[i:s], " ")); len(d) >= 4 && d == slots.ParseDigits(strings.Join(w[s:j], " ")) {
				w = slices.Insert(w, s, "also")
				j++
				break
			}
		}
		i = j
	}
	// "no wait the last one's a nine seven seven three oh one five nine":
	// the digit named as the last is no digit of the number said after it.
	for i := 2; i+1 < len(w); i++ {
		if (w[i-1] == "a" || w[i-1] == "an") && len(slots.ParseDigits(w[i])) == 1 && numberWord(w[i]) && w[i] != "double" && w[i] != "triple" &&
			(numberWord(w[i+1]) || isOh(w[i+1])) && slices.ContainsFunc(lastDigitPhrases, func(p string) bool { return hasPhrase(w[max(0, i-4):i-1], p) }) {
			w = slices.Insert(w, i+1, "also")
		}
	}
	// "… eight one two. two at the end.": a digit named as the last one
	// right after a number read out digit by digit is that number's last
	// digit, said again or corrected, not one more.
	for i := 1; i < len(w); i++ {
		if len(slots.ParseDigits(w[i])) != 1 || !numberWord(w[i]) || w[i] == "double" || w[i] == "triple" ||
			!(hasPhrase(w[i+1:min(len(w), i+4)], "at the end") || hasPhrase(w[i+1:min(len(w), i+4)], "on the end")) {
			continue
		}
		if run := digitRun(w[:i], -1); singleDigits(run) >= 5 && len(slots.ParseDigits(run[len(run)-1])) == 1 && numberWord(run[len(run)-1]) {
			w[i-1] = w[i]
			w = slices.Delete(w, i, i+1)
		}
	}
	// A number taken back after it is said, with nothing in its place in
	// the line ("it's 2 9 4 1 7 6. oh no, sorry, that's the rug I
	// returned", "one two nine four four oh oh wait that's my account
	// number isn't it"), goes: the number that follows in a later line is
	// the one meant.
	for i := 0; i < len(w); i++ {
		if !numberWord(w[i]) {
			continue
		}
		j := i
		for j < len(w) && (numberWord(w[j]) || w[j] == "0" || numberFillers[w[j]]) {
			j++
		}
		if retracted(w[j:]) {
			w = slices.Delete(w, i, j)
			break
		}
		i = j
	}
	// Corrections: the digit string before "sorry no" goes.
	var out []string
	for i := 0; i < len(w); i++ {
		if !numberWord(w[i]) {
			out = append(out, w[i])
			continue
		}
		j := i // the number is w[i:j]
		for j < len(w) && (numberWord(w[j]) || numberFillers[w[j]]) {
			j++
		}
		k, marked := j, false // the correction is w[j:k]
		for k < len(w) && k-j < 9 {
			if k+1 < len(w) && (w[k+1] == "one" || w[k+1] == "item") && oneOf[w[k]] && k > j {
				w[k+1] = "item" // "that's the old one", "wrong one": no digit
				k += 2
				continue
			}
			if !correctionWords[w[k]] && !(k > j && correctionNouns[w[k]]) || !marked && k-j >= 5 {
				break
			}
			marked = marked || correctionMarkers[w[k]]
			k++
		}
		if marked && k > j && k < len(w) && numberWord(w[k]) {
			if last := lastWord(w[i:j]); last >= 0 && len(slots.ParseDigits(w[i+last])) == 1 && len(slots.ParseDigits(w[k])) == 1 &&
				(hasPhrase(w[k+1:min(len(w), k+4)], "at the end") || hasPhrase(w[k+1:min(len(w), k+4)], "on the end")) {
				// "one eight eight three five, no sorry, four at the end"
				out = append(out, w[i:i+last]...)
				out = append(out, w[k])
				out = append(out, w[j:k]...)
				i = k
				continue
			}
			out = append(out, w[j:k]...) // the words of the correction stay
			// "two seven four five oh eight, sorry, no, three. five oh
			// three. two seven four five oh three": the correction ends
			// with the whole number again, as long as the first try (or a
			// digit or two longer: the first was cut short) and opening
			// as it did; the pieces before that whole go.
			first := slots.ParseDigits(strings.Join(w[i:j], " "))
			i = k - 1
			e := k
			for e < len(w) && (numberWord(w[e]) || w[e] == "0" || numberFillers[w[e]]) {
				e++
			}
			if rest := slots.ParseDigits(strings.Join(w[k:e], " ")); len(first) >= 5 && len(rest) > len(first)+1 {
				for s := k + 1; s < e; s++ {
					if d := slots.ParseDigits(strings.Join(w[s:e], " ")); len(d) >= len(first) && len(d) <= len(first)+2 && d[:3] == first[:3] {
						i = s - 1
						break
					}
				}
			}
			continue
		}
		out = append(out, w[i:j]...)
		i = j - 1
	}
	return strings.Join(out, " ")
}

// retractMarkers take back what was just said; "no" alone does not ("five
// eight two one three, no it hasn't arrived").
var retractMarkers = map[string]bool{"sorry": true, "wait": true, "oops": true, "wrong": true, "mistake": true}

// retracted reports whether the words after a number take it back and give
// no other in its place: a retractMarker within the first four words, then
// "that's" or "it's" naming what the number was within three more, and no
// digit word in the rest of the line.
func retracted(after []string) bool {
	m := -1
	for k := 0; k < min(4, len(after)); k++ {
		if retractMarkers[after[k]] {
			m = k
			break
		}
	}
	if m < 0 {
		return false
	}
	named := false
	for k := m + 1; k < min(m+4, len(after)); k++ {
		named = named || after[k] == "thats" || after[k] == "its"
	}
	return named && !slices.ContainsFunc(after, numberWord)
}

// digitRun is the run of digit words at the end of w (dir −1) or at its
// start (dir 1), fillers other than "and" included.
func digitRun(w []string, dir int) []string {
	in := func(x string) bool { return numberWord(x) || numberFillers[x] || x == "0" }
	if dir < 0 {
		i := len(w)
		for i > 0 && in(w[i-1]) {
			i--
		}
		return w[i:]
	}
	j := 0
	for j < len(w) && in(w[j]) {
		j++
	}
	return w[:j]
}

// lastWord is the index of the last word of a number that is no filler,
// -1 when there is none.
func lastWord(number []string) int {
	for i := len(number) - 1; i >= 0; i-- {
		if !numberFillers[number[i]] {
			return i
		}
	}
	return -1
}

// numberLine is a line for entity extraction: its text with spoken
// numbers rewritten, and the line said before it.
type numberLine struct {
	text, prev string
	caller     bool
}

// numberLines lists the conversation's lines for entity extraction, in
// order: spoken numbers rewritten (spokenNumbers), and a caller's number
// that runs on into their next line joined to it ("it's five eight" …
// "three one nine"), across an agent's backchannel ("go on"). A line that
// is joined on keeps the line said before its first part.
func numberLines(tr transcript.Transcript) []numberLine {
	var out []numberLine
	prev := ""
	segs := tr.Segments
	for k := 0; k < len(segs); k++ {
		s := segs[k]
		if (s.Speaker != transcript.Caller && s.Speaker != transcript.Agent) || strings.TrimSpace(s.Text) == "" {
			continue
		}
		text := purchaseNumber.ReplaceAllString(s.Text, "order $1")
		if s.Speaker == transcript.Caller {
			for {
				n, ok := runsOn(segs, k, text)
				if !ok {
					break
				}
				text += " " + purchaseNumber.ReplaceAllString(segs[n].Text, "order $1")
				k = n
			}
		}
		text = otherReferences(oneMoment.ReplaceAllString(text, "${1}a $2"), s.Speaker == transcript.Agent)
		// Letters spelled before the number that answers a question naming
		// the order ("could i take the order reference" … "n w five six oh
		// one four") are the order number's own.
		ordersOwn := s.Speaker == transcript.Caller && mentions(prev, []string{"order", "orders"}) && asksOrder(prev) &&
			!mentions(text, []string{"courier", "couriers", "tracking"}) // "i only have the courier one it's e v r seven …"
		out = append(out, numberLine{text: spokenNumbers(numberMarks(expandIs(text), ordersOwn, s.Speaker == transcript.Caller)), prev: otherReferences(customerTeam.ReplaceAllString(prev, "team"), false), caller: s.Speaker == transcript.Caller})
		if !stall(wordsOf(text)) || prev == "" {
			prev = text
		}
	}
	return out
}

// oneMoment is "one second" and the like: a stall, no digit ("one one
// four five nine nine. one second.").
var oneMoment = regexp.MustCompile(`(?i)(^|[\s,.;:!?])one\s+(second|sec|moment|minute|mo|tick)\b`)

// stallWords are a caller's or agent's words while the caller looks for
// the number asked for ("hang on let me find it", "no rush").
var stallWords = map[string]bool{
	"hang": true, "on": true, "let": true, "me": true, "find": true, "it": true, "look": true, "check": true,
	"get": true, "just": true, "one": true, "moment": true, "sec": true, "second": true, "minute": true, "bear": true,
	"with": true, "its": true, "in": true, "my": true, "the": true, "email": true, "somewhere": true, "here": true,
	"a": true, "got": true, "to": true, "no": true, "rush": true, "take": true, "your": true, "time": true,
	"problem": true, "worries": true, "of": true, "course": true, "ill": true, "wait": true, "where": true, "is": true,
	"i": true, "have": true, "had": true, "ive": true, "bit": true, "now": true, "up": true, "pull": true,
	"phone": true, "app": true, "confirmation": true, "thats": true, "fine": true, "okay": true, "ok": true,
	"sure": true, "um": true, "er": true, "erm": true, "uh": true, "right": true, "yes": true, "yeah": true,
}

// stall reports whether a line only holds the conversation while the
// caller looks for a number ("hang on let me find it" … "no rush"): the
// question before it stays the line the number answers.
func stall(words []string) bool {
	if len(words) == 0 || len(words) > 10 {
		return false
	}
	for _, w := range words {
		if !stallWords[w] && !backchannels[w] {
			return false
		}
	}
	return true
}

// weakNumberWords may stand between a keyword and its number ("a number
// one two …").
var weakNumberWords = map[string]bool{"number": true, "no": true, "num": true, "code": true}

// otherReference names a reference of another kind than an order's: a
// complaint's, a fault's, a cancellation's, a payment's, a return's ("your fault reference is FLT
// 20 77 31", "my complaint ref is …"); the keyword becomes "case", which
// no order's number follows.
var otherReference = regexp.MustCompile(`(?i)\b(complaints?|faults?|cancellation|case|ticket|incident|repair|engineer|appointment|installation|install|claim|refund|escalation|dispute|porting|job|receipt|visit|quote|quotation|exchange|collection|payment|transaction|returns?)(\s+)(?:reference|ref|confirmation|tracking)\b`)

// issuedReference is an agent giving the caller a reference ("your
// reference is 5503 882", "your confirmation number is …"): one made for
// what the agent has just done, not the order's, unless "order" or
// "purchase" names it ("your order reference is …"). An agent asking for
// one ("what's your reference?") says no "is" after it.
var issuedReference = regexp.MustCompile(`(?i)\byour\s+(?:([a-z]+)\s+)?(?:reference|ref|confirmation)((?:\s+(?:number|no))?\s+(?:is|will\s+be)\b)`)

// actionReference is an agent's reference for what they have just done
// ("I've raised a formal complaint to our complaints team, reference
// nine two seven seven"): the keyword in the same sentence as the action.
var actionReference = regexp.MustCompile(`(?i)\b(i['’]?ve|i have)(\s+(?:just\s+)?(?:raised|logged|booked|arranged|opened|set up|created|escalated|submitted|filed|registered|put in)\b[^.?!]*?\b)(reference|ref)\b`)

// callReference is the reference of an earlier call the caller names
// ("i was on with you last week reference 44817 about prices"): the
// call's, not an order's, unless "order" stands between.
var callReference = regexp.MustCompile(`(?i)\b(was\s+on\s+with\s+you|spoke\s+to\s+(?:you|someone|somebody)|rang\s+(?:you|before|earlier|last)|called\s+(?:you|before|earlier|last))(\s[^.?!]*?\b)(reference|ref)\b`)

// otherReferences marks references of another kind than an order's
// (otherReference), and in an agent's line those the agent gives out
// (issuedReference).
func otherReferences(text string, agent bool) string {
	text = otherReference.ReplaceAllString(text, "${1}${2}case")
	text = callReference.ReplaceAllStringFunc(text, func(m string) string {
		sub := callReference.FindStringSubmatch(m)
		if o := strings.ToLower(sub[2]); strings.Contains(o, "order") || strings.Contains(o, "purchase") {
			return m
		}
		return sub[1] + sub[2] + "case"
	})
	if !agent {
		return text
	}
	text = actionReference.ReplaceAllStringFunc(text, func(m string) string {
		sub := actionReference.FindStringSubmatch(m)
		if o := strings.ToLower(sub[2]); strings.Contains(o, " order") || strings.Contains(o, "purchase") {
			return m // "i've booked the return for order …, reference" names the order
		}
		return sub[1] + sub[2] + "case"
	})
	return issuedReference.ReplaceAllStringFunc(text, func(m string) string {
		sub := issuedReference.FindStringSubmatch(m)
		if q := strings.ToLower(sub[1]); q == "order" || q == "purchase" {
			return m
		}
		return "your " + sub[1] + " case" + sub[2]
	})
}

// expandIs spells out the "'s" of "the order's …", "the number's …" so
// that the keyword stands on its own before the number.
func expandIs(text string) string {
	return keywordIs.ReplaceAllString(text, "$1 is")
}

// numberMarks rewrites the words around a number that say what it is
// when the recogniser or the caller puts them oddly: an "order code" is
// the order's number (a "code" alone is another kind); "for"
// or "fore" right after "order", "number" or "reference" and before three
// digit words or more is the recogniser's "four" ("order number for three
// one nine two"); and two letters or more spelled before a number mark it
// as a reference of another kind, not an order's ("my reference is c r
// eight one two two four": a case reference; "case" is put before it;
// the "s" of "it's" is no letter), unless the line answers a question
// naming the order (ordersOwn: "the order reference?" … "n w five six oh
// one four") or is the caller's and "order" names the letters ("one says
// order m k four eight seven …").
// An amount written with its currency ("order two hundred and twenty
// thousand and nine, £18.75") is no digits of a number beside it, nor
// is a sentence after a number written in digits ("order 305562. Two
// payments of …"): a recogniser writes a number's digits together, so
// the number ends there.
// Then a quantity with "thousand" is written in digits (thousands) and a
// count said after a whole number is kept off it (countsAfter).
func numberMarks(text string, ordersOwn, caller bool) string {
	text = endDigitSaid.ReplaceAllString(text, "$1 $2 also$3")
	text = moneyWritten.ReplaceAllString(text, "${1}amount")
	text = forNumeral.ReplaceAllString(text, "$1 also for $2")
	if strings.Contains(text, "hundred") || strings.Contains(text, "Hundred") {
		text = moneySpoken.ReplaceAllString(text, "amount")
	}
	text = numeralEnds.ReplaceAllString(text, "$1$2 also $3")
	text = orderCode.ReplaceAllString(text, "$1 number")
	text = forFour.ReplaceAllString(text, "$1 four $2")
	if !ordersOwn {
		text = lettersBefore.ReplaceAllStringFunc(text, func(m string) string {
			// "one says order m k four eight seven one zero two": the
			// order's own letters, when the caller names them so (an
			// agent's "order reference S P 7 7 1 0 4" is a new one's).
			i := strings.Index(text, m)
			if before := wordsOf(text[:max(0, i)]); caller && ordersLetters(before) {
				return m
			}
			sub := lettersBefore.FindStringSubmatch(m)
			return sub[1] + "case " + sub[2]
		})
		text = letterReference(text)
	}
	text = gluedLetters(text)
	text = capitalsBefore(text, ordersOwn)
	return countsAfter(thousands(pricesAfter(text)))
}

// pairWords say a two-digit number's tens, or a teen.
var pairWords = map[string]bool{
	"ten": true, "eleven": true, "twelve": true, "thirteen": true, "fourteen": true, "fifteen": true, "sixteen": true,
	"seventeen": true, "eighteen": true, "nineteen": true, "twenty": true, "thirty": true, "forty": true, "fifty": true,
	"sixty": true, "seventy": true, "eighty": true, "ninety": true,
}

// tensHyphen is a tens word joined to its unit: "sixty-two".
var tensHyphen = regexp.MustCompile(`(?i)\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-(one|two|three|four|five|six|seven|eight|nine)\b`)

// priceWords make a line about a price.
var priceWords = []string{"percent", "discount", "price", "cost", "costs", "pounds", "dollars", "quid", "bucks", "off", "save", "saving", "deal"}

// ordersLetters reports whether the words before letters a caller spells
// name the order as what they belong to: "order" in the last two ("one
// says order m k …"), or "order number" with no other kind of number
// after it ("the order number on my email is W E B …").
func ordersLetters(before []string) bool {
	if slices.Contains(before[max(0, len(before)-2):], "order") {
		return true
	}
	for k := len(before) - 1; k >= max(0, len(before)-7); k-- {
		if slices.Contains(otherNumbers, before[k]) || before[k] == "tracking" || before[k] == "courier" || before[k] == "reference" {
			return false
		}
		if before[k] == "order" && k+1 < len(before) && before[k+1] == "number" {
			return true
		}
	}
	return false
}

// pricesAfter puts "case" before a price said as pounds and pence after
// "for" ("the order placed on the third for fifty four ninety eight",
// "for twelve ninety nine"), or after "be" in a line about a price ("ten
// percent on your first order, so it'd be sixty-two ten"): two pairs of digits, each a tens or teen
// word with perhaps a unit after it, and then no more digits. An order's
// number said after "order for" by a recogniser that heard "four"
// ("order for two two nine one") is single digits, no pairs.
func pricesAfter(text string) string {
	f := strings.Fields(tensHyphen.ReplaceAllString(text, "$1 $2"))
	clean := func(i int) string { return strings.ToLower(strings.Trim(f[i], ",.?!;:")) }
	changed := false
	priced := mentions(text, priceWords)
	for i := 0; i+2 < len(f); i++ {
		// "for fifty four ninety eight", and in a line about a price "so
		// it'd be sixty-two ten"
		if clean(i) != "for" && (clean(i) != "be" || !priced) {
			continue
		}
		j, pairs := i+1, 0
		for pairs < 2 && j < len(f) && pairWords[clean(j)] {
			tens := cardinalWords[clean(j)] >= 20
			j++
			pairs++
			if tens && j < len(f) && cardinalWords[clean(j)] > 0 && cardinalWords[clean(j)] < 10 && !strings.ContainsAny(f[j-1], ",.?!;:") {
				j++
			}
		}
		if pairs == 2 && (j == len(f) || !numberWord(clean(j)) && !isOh(clean(j))) {
			f[i] = "for case"
			changed = true
		}
	}
	if !changed {
		return text
	}
	return strings.Join(f, " ")
}

// letterReference puts "case" before a reference that opens with one
// letter spelled apart from its digits ("reference R 3 1 8 8" for an
// exchange, "the quote reference is Q 8 4 4 1 7"): the shop's order
// numbers are digits, so it is a reference of another kind, unless
// "order" or "purchase" names it ("order reference is W 4 1 7 7 2").
func letterReference(text string) string {
	return letterRef.ReplaceAllStringFunc(text, func(m string) string {
		sub := letterRef.FindStringSubmatch(m)
		if q := strings.ToLower(sub[1]); q == "order" || q == "purchase" {
			return m
		}
		return sub[1] + sub[2] + sub[3] + "case " + sub[4]
	})
}

// gluedLetters puts "case" before a number written with letters glued to
// its front ("reference F4471902" for a fault, "the tracking number is
// JD0144 9921 7730" for a courier's parcel): the shop's order numbers are
// digits, so it is a reference of another kind, unless "order" names it
// in the three words before ("order number is W41772").
func gluedLetters(text string) string {
	f := strings.Fields(text)
	changed := false
	for i, w := range f {
		if !letterGlued.MatchString(w) {
			continue
		}
		named := false
		for j := max(0, i-3); j < i; j++ {
			named = named || strings.HasPrefix(strings.ToLower(strings.Trim(f[j], ".,;:!?'’\"")), "order")
		}
		if !named {
			f[i], changed = "case "+w, true
		}
	}
	if !changed {
		return text
	}
	return strings.Join(f, " ")
}

// capitalsBefore puts "case" before a number that a code of two to four
// capitals opens, written apart from its digits ("Tracking is PL 88 20 31
// 9", "It's ENG 4 4 0 1 8", "Reference NE 7 0 4 1 2", "It says FB 3 3 0 1
// 9 2"): as with letters glued to it (gluedLetters) or spelled before it
// (lettersBefore), the shop's order numbers are digits, so it is a
// reference of another kind, unless "order" names it in the three words
// before, the line answers a question naming the order (ordersOwn), or
// the capitals are an acronym ("TV", "PIN", "ID").
func capitalsBefore(text string, ordersOwn bool) string {
	if ordersOwn {
		return text
	}
	f := strings.Fields(text)
	changed := false
	for i := 0; i+1 < len(f); i++ {
		w := strings.TrimLeft(f[i], "(\"'‘“")
		if !capitalCode.MatchString(w) || acronyms[w] || !startsDigits.MatchString(f[i+1]) {
			continue
		}
		named := false
		for j := max(0, i-3); j < i; j++ {
			named = named || strings.HasPrefix(strings.ToLower(strings.Trim(f[j], ".,;:!?'’\"")), "order")
		}
		if !named {
			f[i], changed = "case "+f[i], true
		}
	}
	if !changed {
		return text
	}
	return strings.Join(f, " ")
}

var (
	capitalCode  = regexp.MustCompile(`^[A-Z]{2,4}$`)
	startsDigits = regexp.MustCompile(`^\d`)
)

// countsAfter ends a number said in full (four digit words at least)
// before a count said right after it, which the digit extractors would
// read on as more digits: a digit word before "of" ("order five eight two
// one four, two of them were broken"), and "for", "to" or "too" (also
// digits to a recogniser) before a single digit word and a word that is
// none ("order five eight two one four for two chairs"). It puts "then"
// before the count, which no extractor reads as a digit.
func countsAfter(text string) string {
	f := strings.Fields(text)
	clean := func(i int) string { return strings.ToLower(strings.Trim(f[i], ",.?!;:")) }
	digit := func(i int) bool {
		if i < 0 || i >= len(f) {
			return false
		}
		w := clean(i)
		return numberWord(w) && w != "double" && w != "triple" && w != "hundred"
	}
	before := func(i int) int { // digit words in the number that ends at f[i-1]
		n := 0
		for j := i - 1; j >= 0; j-- {
			w := clean(j)
			switch {
			case numberWord(w):
				n++
			case isOh(w) || numberFillers[w]:
			default:
				return n
			}
			if j < i-1 && strings.ContainsAny(f[j], ".?!;:") {
				return n
			}
		}
		return n
	}
	withOhs := func(i int) int { // digit words and ohs in the number that ends at f[i-1]
		n := 0
		for j := i - 1; j >= 0 && (digit(j) || isOh(clean(j))) && (j == i-1 || !strings.ContainsAny(f[j], ".?!;:")); j-- {
			n++
		}
		return n
	}
	var out []string
	changed := false
	for i := range f {
		w := clean(i)
		count := false
		switch {
		case i+1 < len(f) && clean(i+1) == "of" && digit(i) && before(i) >= 4:
			count = true // "…two one four, two of them"
		case (w == "for" || w == "to" || w == "too") && i+2 < len(f) && digit(i+1) && !digit(i+2) &&
			!isOh(clean(i+2)) && !numberFillers[clean(i+2)] && before(i) >= 4:
			count = true // "…two one four for two chairs"
		case i > 0 && strings.HasSuffix(f[i-1], ",") && digit(i) && !strings.ContainsAny(f[i], ",.?!;:") && i+1 < len(f) && pluralNoun(clean(i+1)) && before(i) >= 4:
			count = true // "order nine oh six one two seven, two dresses"
		case digit(i) && !strings.ContainsAny(f[i], ",.?!;:") && i+1 < len(f) && withOhs(i) >= 6 &&
			(pluralNoun(clean(i+1)) || i+2 < len(f) && !digit(i+1) && !isOh(clean(i+1)) && !strings.ContainsAny(f[i+1], ",.?!;:") && pluralNoun(clean(i+2))):
			count = true // "seven zero nine one one five two tins of …", "… four oh two four garden chairs"
		}
		if count {
			out = append(out, "then")
			changed = true
		}
		out = append(out, f[i])
	}
	if !changed {
		return text
	}
	return strings.Join(out, " ")
}

// pluralNoun reports whether w looks like a plural noun ("dresses",
// "chairs"): what a count before it counts.
func pluralNoun(w string) bool {
	return len(w) > 3 && strings.HasSuffix(w, "s") && !strings.ContainsAny(w, "'’") && !strings.HasSuffix(w, "ss") && !notPlural[w] && !numberWord(w)
}

// notPlural end in "s" but count nothing.
var notPlural = map[string]bool{"this": true, "thanks": true, "yes": true, "its": true, "thats": true, "whats": true,
	"theres": true, "heres": true, "lets": true, "hers": true, "ours": true, "yours": true, "theirs": true, "always": true,
	"was": true, "has": true, "does": true, "is": true, "plus": true, "minus": true, "less": true, "unless": true,
	"perhaps": true, "towards": true, "afterwards": true, "sometimes": true, "anyways": true, "cheers": true}

// cardinalWords are the words of a number said as a quantity.
var cardinalWords = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
	"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
	"seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
	"sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

// moneyWords after a quantity make it an amount.
var moneyWords = map[string]bool{"pounds": true, "pound": true, "quid": true, "dollars": true, "dollar": true, "euros": true, "euro": true, "grand": true, "k": true}

// thousands writes a number said as a quantity with "thousand" in it in
// digits when it has five digits or six ("order number fifty eight
// thousand two hundred fourteen" is order number 58214), as a caller
// reads out a number they see written; the digit extractors read
// "thousand" as nothing. A quantity followed by a word of money ("twenty
// five thousand pounds") is an amount and stays as it is, and so does one
// under ten thousand ("two thousand and twenty").
func thousands(text string) string {
	f := strings.Fields(text)
	if !slices.ContainsFunc(f, func(x string) bool { return strings.EqualFold(strings.Trim(x, ",.?!"), "thousand") }) {
		return text
	}
	clean := func(x string) string { return strings.ToLower(strings.Trim(x, ",.?!;:")) }
	var out []string
	for i := 0; i < len(f); i++ {
		// The quantity is f[i:j]: cardinal words, "hundred", "thousand",
		// "and" between them, with a "thousand" in it.
		j, total, cur, thousand := i, 0, 0, false
		for ; j < len(f); j++ {
			w := clean(f[j])
			if v, ok := cardinalWords[w]; ok {
				if t := cur % 100; !(t == 0 || v < 10 && t >= 20 && t%10 == 0) {
					break // "five eight" is no quantity
				}
				cur += v
			} else if w == "hundred" && cur > 0 && cur < 10 {
				cur *= 100
			} else if w == "thousand" && cur > 0 && !thousand {
				total, cur, thousand = cur*1000, 0, true
			} else if w == "and" && j > i && j+1 < len(f) && cardinalWords[clean(f[j+1])] > 0 {
				continue
			} else {
				break
			}
			// "nine hundred and forty thousand, one hundred and twelve":
			// a comma after "thousand" is a pause within the quantity.
			if strings.ContainsAny(f[j], ",.?!;:") && !(w == "thousand" && strings.HasSuffix(f[j], ",") && j+1 < len(f) && cardinalWords[clean(f[j+1])] > 0) {
				j++
				break
			}
		}
		n := total + cur
		if !thousand || n < 10000 || n > 999999 || j < len(f) && moneyWords[clean(f[j])] {
			out = append(out, f[i])
			continue
		}
		out = append(out, strconv.Itoa(n)+strings.TrimLeft(f[j-1], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
		i = j - 1
	}
	return strings.Join(out, " ")
}

const digitWordRE = `(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple|\d)`

var (
	orderCode = regexp.MustCompile(`(?i)\b(order)\s+code\b`)
	// A "purchase number" is the order's ("my purchase number is …").
	writtenYear    = regexp.MustCompile(`^(19|20)\d\d$`)
	purchaseNumber = regexp.MustCompile(`(?i)\bpurchase\s+(number|no|reference|ref)\b`)
	forFour        = regexp.MustCompile(`(?i)\b(order|number|reference|ref)\s+(?:for|fore)\s+(` + digitWordRE + `(?:[\s,]+` + digitWordRE + `){2,})`)
	letterRef      = regexp.MustCompile(`(?i)(\w*)(\W+)((?:reference|ref)(?:\s+(?:is|number|no))?\s+)([b-hj-np-z]\.?\s+` + digitWordRE + `)`)
	letterGlued    = regexp.MustCompile(`(?i)^[a-z]{1,3}-?\d{3,}[.,;:!?]*$`)
	lettersBefore  = regexp.MustCompile(`(?i)(^|[\s,;:(])((?:[b-hj-np-z]\.?\s+){2,}` + digitWordRE + `)`)
)

// endDigitSaid is a digit named as a number's last, ending its sentence:
// "mine ends in zero. eight seven three one zero" says the digit, then the
// whole number, not one number "087310".
var endDigitSaid = regexp.MustCompile(`(?i)\b(ends?\s+(?:in|with)(?:\s+an?)?|last\s+(?:one|digit|number)(?:['’]?s|\s+is)?(?:\s+an?)?)\s+(zero|oh|one|two|three|four|five|six|seven|eight|nine|\d)([.;!?])`)

// forNumeral is "for" between two numerals ("order 218834 for 549"): a
// recogniser that writes numerals writes a four as 4, so it is a word.
var forNumeral = regexp.MustCompile(`(?i)\b(\d{2,})\s+for\s+(\d{2,})\b`)

// moneySpoken is an amount said in hundreds with a word of money after
// it: "order seven seven one nine nine two oh two hundred and twelve bucks
// taken twice" ends the order's number at "two hundred".
var moneySpoken = regexp.MustCompile(`(?i)\b(?:one|two|three|four|five|six|seven|eight|nine|a)\s+hundred(?:\s+and)?(?:\s+(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|one|two|three|four|five|six|seven|eight|nine))?(?:[\s-]+(?:one|two|three|four|five|six|seven|eight|nine))?\s+(?:bucks|dollars|pounds|quid|euros)\b`)

var (
	moneyWritten = regexp.MustCompile(`(^|[\s(,;:])[£$€]\s?\d[\d,]*(?:\.\d+)?`)
	numeralEnds  = regexp.MustCompile(`\b(\d{4,}[.!?;]|\d{5,},)()\s+([A-Za-z])`)
)

var keywordIs = regexp.MustCompile(`(?i)\b(order|number|reference|ref|account|tracking)['’]s\b`)

// runsOn reports whether the caller's number at the end of text (segment
// k's, perhaps joined) goes on in their next line, and which segment
// that is: text ends in a digit word, the next caller line starts with
// one, only backchannels lie between, and either the first part is too
// short to be a number of its own (under four digits) or the next line is
// nothing but digits.
func runsOn(segs []transcript.Segment, k int, text string) (int, bool) {
	w := wordsOf(text)
	tail := 0 // digit words at the end of text
	for i := len(w) - 1; i >= 0 && (numberWord(w[i]) || isOh(w[i]) || numberFillers[w[i]]); i-- {
		tail++
	}
	if tail == 0 {
		return 0, false
	}
	for n := k + 1; n < len(segs); n++ {
		s := segs[n]
		nw := wordsOf(s.Text)
		if s.Speaker == transcript.Agent {
			if echoes(nw, w[len(w)-tail:]) {
				continue
			}
			if len(nw) > 4 || !allIn(nw, backchannels) {
				return 0, false
			}
			continue
		}
		if s.Speaker != transcript.Caller {
			continue
		}
		first := 0
		for first < len(nw) && numberFillers[nw[first]] {
			first++
		}
		if first == len(nw) || !(numberWord(nw[first]) || isOh(nw[first])) {
			return 0, false
		}
		short := len(slots.ParseDigits(spokenNumbers(strings.Join(w[len(w)-tail:], " ")))) < 4
		only := true
		for _, x := range nw {
			only = only && (numberWord(x) || isOh(x) || numberFillers[x])
		}
		return n, short || only
	}
	return 0, false
}

// echoes reports whether an agent's line only repeats the digits the
// caller has said so far ("order one two six" … "one two six" … "eight
// zero"): the agent writing the number down, not a reply to it.
func echoes(agent, callerTail []string) bool {
	for _, x := range agent {
		if !(numberWord(x) || isOh(x) || numberFillers[x] || backchannels[x]) {
			return false
		}
	}
	said := slots.ParseDigits(spokenNumbers(strings.Join(callerTail, " ")))
	heard := slots.ParseDigits(spokenNumbers(strings.Join(agent, " ")))
	return heard != "" && said != "" && strings.HasSuffix(said, heard)
}

func allIn(words []string, set map[string]bool) bool {
	for _, w := range words {
		if !set[w] {
			return false
		}
	}
	return true
}

// corrected is the number a caller gives instead of v when v was read
// back to them ("five eight two one three" … "no, five eight two one
// four"): a caller line opening with a correction, after a line that said
// v, with a number of v's length give or take one. "" when there is none.
func corrected(ls []numberLine, v string) string {
	if v == "" {
		return ""
	}
	out := ""
	for i := 1; i < len(ls); i++ {
		l := ls[i]
		if !l.caller {
			continue
		}
		if d, ok := lastDigit(l.text); ok {
			// "no, nine at the end" of the number just said or read back
			if p, ok := slots.ExtractNumber(ls[i-1].text, nil, 4, 10, false); ok && editDistance(p, v) <= 2 {
				out, v = p[:len(p)-1]+d, p[:len(p)-1]+d
			}
			continue
		}
		if !ls[i-1].caller && notFound(ls[i-1].text) {
			// "i can't find that one" … "oh sorry it's five eight two one five"
			if d, ok := slots.ExtractNumber(l.text, nil, len(v)-1, len(v)+1, false); ok && d != v {
				out, v = d, d
			}
			continue
		}
		// The caller's own number, with the agent's reply between that
		// says no number ("that's showing as a phone case") and a caller
		// who takes it back ("oh hang on, i've read it wrong. it's …").
		ownBefore := i >= 2 && !ls[i-1].caller && ls[i-2].caller && len(runsOf(ls[i-1].text, 3, 10)) == 0 && // "that one" says no number
			strings.Contains(slots.ParseDigits(ls[i-2].text), v) && correctsFirst(l.text)
		if ownBefore {
			// The caller reads it again: the last number of about v's
			// length they say is the one they mean, v itself again or not
			// ("… no, the last one's an eight. five five oh three two one
			// eight").
			if runs := runsOf(l.text, len(v)-1, len(v)+1); len(runs) > 0 && runs[len(runs)-1] != v {
				out, v = runs[len(runs)-1], runs[len(runs)-1]
			}
			continue
		}
		if !strings.Contains(slots.ParseDigits(ls[i-1].text), v) {
			continue
		}
		if !opensWithCorrection(l.text) && (ls[i-1].caller || !correctsFirst(l.text)) {
			continue
		}
		if d, ok := slots.ExtractNumber(l.text, nil, len(v)-1, len(v)+1, false); ok && d != v {
			out, v = d, d
		}
	}
	return out
}

// notFoundPhrases are an agent's words for a number that finds nothing.
var notFoundPhrases = []string{"cant find", "cannot find", "cant see", "cannot see", "not finding", "nothing coming up",
	"nothings coming up", "nothing comes up", "not coming up", "isnt coming up", "nothing under", "no order under",
	"no orders under", "not showing", "isnt showing", "doesnt match", "no record", "not recognised", "not recognized",
	"doesnt exist", "doesnt bring anything up", "not bringing anything up"}

// notFound reports whether an agent's line says the number given finds
// nothing ("i can't find that one", "nothing's coming up under that"):
// the caller's next number is the one they meant.
func notFound(text string) bool {
	t := " " + strings.Join(wordsOf(text), " ") + " "
	for _, p := range notFoundPhrases {
		if strings.Contains(t, " "+p+" ") {
			return true
		}
	}
	return false
}

// readBack is the agent's reading of v when it differs a little (two
// digits or fewer) and the caller lets it stand: what the agent read back
// and the caller heard is the number agreed ("nine hundred two thirteen"
// read back as "nine zero zero two one three"). "" when there is none.
func readBack(ls []numberLine, v string) string {
	if v == "" {
		return ""
	}
	for i := 0; i+1 < len(ls); i++ {
		if !ls[i].caller || ls[i+1].caller || !strings.Contains(slots.ParseDigits(ls[i].text), v) {
			continue
		}
		r, ok := slots.ExtractNumber(ls[i+1].text, nil, 4, 10, false)
		if runs := numberRuns(ls[i+1].text); !ok && len(runs) == 1 {
			r, ok = runs[0], true // "so that's order three oh eight four seven two": the extractor takes no keyword it wasn't given
		}
		if !ok || r == v || editDistance(r, v) > 2 || slices.Contains(numberRuns(ls[i+1].text), v) {
			continue // the agent says v too ("keep … oh eight and cancel … oh nine"): no misreading
		}
		if len(r) < len(v) && strings.HasSuffix(v, r) && mentions(ls[i+1].text, []string{"ending", "ends", "last"}) {
			continue // "the one ending four oh two six": v named by its end
		}
		if len(r) == len(v)-1 && strings.HasPrefix(v, r) && misheardLast(ls[i+1].text, v) {
			continue // "seven oh two two six for let me have a look": the last digit misheard as a word
		}
		if i+2 < len(ls) && ls[i+2].caller {
			if _, ok := lastDigit(ls[i+2].text); ok || opensWithCorrection(ls[i+2].text) {
				continue // corrected: see corrected
			}
			if saysEnd(ls[i+2].text, v, r) {
				continue // "eight. zero eight": the caller's own ending again
			}
			if d := slots.ParseDigits(ls[i+2].text); strings.Contains(d, v) && (strings.Contains(v, r) || !strings.Contains(d, r)) {
				continue // "… and the last one" "eight. seven oh two one five five four eight": the caller says it again
			}
		}
		return r
	}
	return ""
}

// misheardLast reports whether text says v, its last digit d written as
// the word a recogniser writes for it ("for" for 4, "to" or "too" for 2)
// right after the other digits: "seven oh two two six for let me have a
// look" says 702264 whole.
func misheardLast(text, v string) bool {
	var heard []string
	switch v[len(v)-1] {
	case '4':
		heard = []string{"for", "fore"}
	case '2':
		heard = []string{"to", "too"}
	default:
		return false
	}
	w := wordsOf(text)
	for _, sp := range digitSpans(w) {
		if sp[1] < len(w) && slices.Contains(heard, w[sp[1]]) && slots.ParseDigits(strings.Join(w[sp[0]:sp[1]], " ")) == v[:len(v)-1] {
			return true
		}
	}
	return false
}

// saysEnd reports whether a caller's line after a read-back r of v is no
// more than digits that repeat v's ending where r's differs ("four seven
// seven zero three" read back, "eight. zero eight"): the caller corrects
// the read-back without a word of correction.
func saysEnd(text, v, r string) bool {
	w := wordsOf(text)
	// Only the digits the line opens with: "five seven three. seven before
	// the three" says the ending before it explains.
	n := 0
	for n < len(w) && (numberWord(w[n]) || isOh(w[n]) || numberFillers[w[n]] || correctionWords[w[n]]) {
		n++
	}
	if n == 0 || n > 8 {
		return false
	}
	w = w[:n]
	ends := func(d string) bool {
		return d != "" && len(d) < len(v) && strings.HasSuffix(v, d) && !strings.HasSuffix(r, d)
	}
	for k := range w { // the line's own punctuation is gone: "eight zero eight"
		if ends(slots.ParseDigits(strings.Join(w[k:], " "))) {
			return true
		}
	}
	for k := n - 1; k > 0; k-- { // "five seven three seven before the three": the ending, then the digit it's about
		if d := slots.ParseDigits(strings.Join(w[:k], " ")); len(d) >= 2 && ends(d) {
			return true
		}
	}
	return false
}

// correctsFirst reports whether a line takes something back before the
// first number in it ("oh for god's sake, wrong email. it's six two four
// nine one seven"), as a caller does after an agent read back a number
// and said what it is ("624911, that one's a pair of boots").
func correctsFirst(text string) bool {
	for _, x := range wordsOf(text) {
		if numberWord(x) {
			return false
		}
		if correctionMarkers[x] || x == "mistake" {
			return true
		}
	}
	return false
}

// opensWithCorrection reports whether a line starts by taking something
// back: "no", "sorry", "not quite", "that's wrong".
func opensWithCorrection(text string) bool {
	w := wordsOf(text)
	for _, x := range w[:min(3, len(w))] {
		if correctionMarkers[x] || x == "not" {
			return true
		}
	}
	return false
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// beforeLinks may stand between a number and the keyword it is said
// before: "four four zero one eight, that's my order".
var beforeLinks = map[string]bool{
	"my": true, "the": true, "our": true, "your": true, "is": true, "its": true, "thats": true, "that": true, "it": true,
	"was": true, "for": true, "on": true, "of": true, "re": true, "regarding": true, "number": true, "which": true,
}

// numberBefore is a number said before the keyword that names it ("about
// four four zero one eight, my order"): a run of at least four digit
// words (or a written number of five digits or more) that ends at most
// three linking words before one of keywords, with no word naming
// another kind of number just before it. It is the fallback when no
// number follows a keyword: "ten thirty" or "twenty twenty four" before
// "my order" are too few words to be taken. "" when there is none.
func numberBefore(text string, keywords []string) string {
	w := wordsOf(text)
	for k, x := range w {
		if !slices.Contains(keywords, x) {
			continue
		}
		j := k // the number ends before w[j]
		for j > 0 && k-j < 3 && beforeLinks[w[j-1]] {
			j--
		}
		i := j // the number is w[i:j]
		for i > 0 && (numberWord(w[i-1]) || numberFillers[w[i-1]]) {
			i--
		}
		if i == j {
			continue
		}
		run := w[i:j]
		d := slots.ParseDigits(strings.Join(run, " "))
		digitWords := 0
		for _, r := range run {
			if !numberFillers[r] {
				digitWords++
			}
		}
		if len(d) < 4 || len(d) > 10 || digitWords < 4 && len(d) < 5 {
			continue
		}
		other := false
		for b := i - 1; b >= 0 && b >= i-3; b-- {
			other = other || slices.Contains(otherNumbers, w[b]) || slices.Contains(phoneKeywords, w[b])
		}
		if !other {
			return d
		}
	}
	return ""
}

// lastDigitPhrases come before the digit that ends a number.
var lastDigitPhrases = []string{"ends in", "ends with", "ends in a", "last one is", "last ones", "last digit is", "last digits", "last number is", "last digit", "last one", "last number"}

// lastDigit is the digit a line puts at the end of a number just said,
// correcting it ("no, nine at the end", "six, six at the end", "the last
// one's a four", "it ends in seven"), and whether there is one. A line
// that holds a number of its own does not, nor one of more than eight
// words ("there's one at the end of the drive" is no correction).
func lastDigit(text string) (string, bool) {
	w := wordsOf(text)
	if len(w) > 8 || len(slots.ParseDigits(strings.Join(w, " "))) >= 4 {
		return "", false
	}
	digit := func(x string) string {
		if !numberWord(x) && !isOh(x) {
			return ""
		}
		if isOh(x) {
			return "0"
		}
		if d := slots.ParseDigits(x); len(d) == 1 {
			return d
		}
		return ""
	}
	for i, x := range w {
		d := digit(x)
		if d == "" {
			continue
		}
		if hasPhrase(w[i+1:min(len(w), i+4)], "at the end") || hasPhrase(w[i+1:min(len(w), i+4)], "on the end") {
			return d, true
		}
		before := w[:i]
		if len(before) > 0 && before[len(before)-1] == "a" {
			before = before[:len(before)-1] // "the last one's a four"
		}
		for _, p := range lastDigitPhrases {
			pw := strings.Fields(p)
			if len(before) >= len(pw) && hasPhrase(before[len(before)-len(pw):], p) {
				return d, true
			}
		}
	}
	return "", false
}

// countedWords are what a number says how many of when it comes before
// them ("three weeks", "two days", "five times"): such a number is a
// count, not a digit of the number before it.
var countedWords = map[string]bool{
	"weeks": true, "week": true, "days": true, "day": true, "months": true, "month": true, "years": true,
	"hours": true, "hour": true, "minutes": true, "mins": true, "times": true, "pounds": true, "quid": true,
	"dollars": true, "euros": true, "items": true, "boxes": true, "parcels": true, "calls": true, "oclock": true,
	"box": true, "parcel": true, "package": true, "packages": true, "item": true, "piece": true, "pieces": true,
	"payments": true, "payment": true, "charges": true, "instalments": true, "emails": true, "letters": true,
	"texts": true, "attempts": true, "visits": true, "engineers": true, "people": true, "nights": true,
}

// yearTens are the words that follow "nineteen" or "twenty" in a year
// said as two pairs ("twenty twenty four", "nineteen ninety nine").
var yearTens = map[string]bool{
	"ten": true, "eleven": true, "twelve": true, "thirteen": true, "fourteen": true, "fifteen": true, "sixteen": true,
	"seventeen": true, "eighteen": true, "nineteen": true, "twenty": true, "thirty": true, "forty": true, "fifty": true,
	"sixty": true, "seventy": true, "eighty": true, "ninety": true,
}

// yearStart reports whether w opens with a year: said as two pairs
// ("twenty twenty four", "nineteen eighty", "twenty oh five"), as "two
// thousand and …", or written ("2024").
func yearStart(w []string) bool {
	if len(w) > 0 && writtenYear.MatchString(w[0]) {
		return true // "2024"
	}
	if len(w) > 1 && w[0] == "two" && w[1] == "thousand" {
		return true // "two thousand and twenty four"
	}
	if len(w) < 2 || w[0] != "twenty" && w[0] != "nineteen" {
		return false
	}
	return yearTens[w[1]] || (w[1] == "0" || isOh(w[1])) && len(w) > 2 && len(slots.ParseDigits(w[2])) == 1
}

// singleDigits is how many words of a number run are single digits
// ("six", "oh" read as "0", "double" before one), when all of them are;
// 0 when any word says more than one digit ("sixty", "58213").
func singleDigits(run []string) int {
	n := 0
	for _, x := range run {
		switch {
		case numberFillers[x]:
		case x == "double" || x == "triple" || len(slots.ParseDigits(x)) == 1:
			n++
		default:
			return 0
		}
	}
	return n
}

// meantOf is the order the call is about when the line that names v names
// another number of about its length too ("two orders, nine oh two one
// four and nine oh three three seven"): the one named by its place in
// that line or the speaker's next ("the second one hasn't come"; both
// named, "the first one I'm worried about, the second one came", say
// nothing), else
// the one said again more often in that line or the lines after it ("the
// 58214 one is the late one"), by the caller or
// by the agent acting on it ("it's nine oh three three seven that hasn't
// come", "ok, 67042 is cancelled").
// "" when v stands (none is said again more often than v), or when there
// is no such line; account is never taken.
func meantOf(ls []numberLine, v, account string) string {
	if v == "" {
		return ""
	}
	for i, l := range ls {
		runs := numberRuns(l.text)
		if !slices.Contains(runs, v) {
			continue
		}
		var same []string // the numbers of the line of about v's length
		for _, d := range runs {
			if d != account && len(d) >= len(v)-1 && len(d) <= len(v)+1 && !slices.Contains(same, d) {
				same = append(same, d)
			}
		}
		if len(same) == 2 {
			after := l.text
			for _, next := range ls[i+1 : min(len(ls), i+3)] {
				if next.caller == l.caller {
					after += " " + next.text
					break
				}
			}
			w := wordsOf(after)
			first := ordinalSaid(w, "first") || hasPhrase(w, "the former")
			second := ordinalSaid(w, "second") || hasPhrase(w, "the latter")
			switch {
			case second && !first:
				return same[1]
			case first && !second:
				return ""
			}
			if end := namedByEnding(w); end != "" && strings.HasSuffix(same[0], end) != strings.HasSuffix(same[1], end) {
				if strings.HasSuffix(same[1], end) && same[1] != v || strings.HasSuffix(same[0], end) && same[0] != v {
					if strings.HasSuffix(same[0], end) {
						return same[0]
					}
					return same[1]
				}
				return ""
			}
		}
		best, bestN := v, 0
		count := func(d string) int {
			n := -1 // said again in the line itself counts too
			for _, r := range runs {
				if r == d {
					n++
				}
			}
			for _, later := range ls[i+1:] {
				if slices.Contains(numberRuns(later.text), d) {
					n++
				}
			}
			return n
		}
		bestN = count(v)
		for _, d := range runs {
			if d == v || d == account || len(d) < len(v)-1 || len(d) > len(v)+1 {
				continue
			}
			if n := count(d); n > bestN {
				best, bestN = d, n
			}
		}
		if best == v {
			return ""
		}
		return best
	}
	return ""
}

// namedByEnding is the ending by which words name one of two numbers:
// "the oh nine one" (a number's last digits and "one"), "the one ending
// in nine"; "" when they name none.
func namedByEnding(w []string) string {
	digit := func(x string) string {
		if isOh(x) || x == "0" {
			return "0"
		}
		if d := slots.ParseDigits(x); len(d) == 1 && numberWord(x) && x != "double" && x != "triple" {
			return d
		}
		return ""
	}
	for i := 0; i < len(w); i++ {
		if w[i] == "the" {
			end, j := "", i+1
			for j < len(w) && j-i <= 3 && digit(w[j]) != "" {
				end += digit(w[j])
				j++
			}
			// "the oh nine one": the last digit word is the thing named
			if len(end) >= 2 && w[j-1] == "one" && (j == len(w) || digit(w[j]) == "") {
				return end[:len(end)-1]
			}
		}
		if i+2 < len(w) && w[i] == "ending" && (w[i+1] == "in" || w[i+1] == "with") {
			end := ""
			for _, x := range w[i+2 : min(len(w), i+5)] {
				if digit(x) == "" {
					break
				}
				end += digit(x)
			}
			if end != "" {
				return end
			}
		}
	}
	return ""
}

// ordinalSaid reports whether words name one of two orders by its place
// ("the second one hasn't come", "it's the first order").
func ordinalSaid(words []string, ord string) bool {
	for _, n := range []string{"one", "order", "number", "item"} {
		if hasPhrase(words, ord+" "+n) {
			return true
		}
	}
	return false
}

// numberRuns are the numbers of four to ten digits in text (spoken
// numbers already rewritten), each run of digit words read apart.
func numberRuns(text string) []string { return runsOf(text, 4, 10) }

// runsOf are the numbers of minLen to maxLen digits in text, each run of
// digit words (digitSpans) read apart.
func runsOf(text string, minLen, maxLen int) []string {
	w := wordsOf(text)
	var out []string
	for _, sp := range digitSpans(w) {
		if d := slots.ParseDigits(strings.Join(w[sp[0]:sp[1]], " ")); len(d) >= minLen && len(d) <= maxLen {
			out = append(out, d)
		}
	}
	return out
}

// inLineCorrection is the number a line puts in place of v in the same
// breath: v, then a word of correction, then either a digit for its end
// ("eight one five five six six no sorry last one's a two …") or a number
// of about v's length ("five five one two oh no sorry five five one two
// oh nine"). "" when no line says v so.
func inLineCorrection(nl []numberLine, v string) string {
	if v == "" {
		return ""
	}
	for _, l := range nl {
		w := wordsOf(l.text)
		spans := digitSpans(w)
		for k := 0; k+1 < len(spans); k++ {
			if slots.ParseDigits(strings.Join(w[spans[k][0]:spans[k][1]], " ")) != v {
				continue
			}
			between := w[spans[k][1]:spans[k+1][0]]
			if len(between) == 0 || len(between) > 6 || !slices.ContainsFunc(between, func(x string) bool { return correctionMarkers[x] || x == "hang" || x == "hold" }) {
				continue
			}
			lead := between
			if len(lead) > 0 && lead[len(lead)-1] == "a" {
				lead = lead[:len(lead)-1]
			}
			for _, p := range lastDigitPhrases {
				if pw := strings.Fields(p); len(lead) >= len(pw) && hasPhrase(lead[len(lead)-len(pw):], p) {
					if d := slots.ParseDigits(w[spans[k+1][0]]); len(d) == 1 {
						return v[:len(v)-1] + d
					}
				}
			}
			d := slots.ParseDigits(strings.Join(w[spans[k+1][0]:spans[k+1][1]], " "))
			if d != v && len(d) >= len(v)-1 && len(d) <= len(v)+1 {
				return d
			}
			// "… hang on, the nine. one five three seven two nine": the
			// digit named runs into the number said whole.
			if at := strings.Index(d, v); at > 0 && len(d)-at > len(v) && len(d)-at <= len(v)+1 {
				return d[at:]
			}
		}
	}
	return ""
}

// shortLettered matches an order reference of letters and three digits:
// "order W E B seven three eight", "it says WEB four one seven".
var shortLettered = regexp.MustCompile(`(?:^|[\s,;:])(?:(?i:[a-z]\.?\s+){1,3}(?i:[a-z])|[A-Z]{2,4})\s+(` + digitWordRE + `\s+` + digitWordRE + `\s+` + digitWordRE + `)(?:[\s.,;:?!]+(\S+)|[.,;:?!]*$)`)

// letteredOrder is the three digits of an order reference a caller reads
// out as letters and three digits ("order W E B seven three eight"), in
// a line that names an order: the shop's numbers are longer, but a
// caller reading a web order's reference gives what it says. "" when no
// caller line does.
func letteredOrder(tr transcript.Transcript) string {
	for _, s := range tr.Segments {
		if s.Speaker != transcript.Caller || !mentions(s.Text, []string{"order", "orders"}) {
			continue
		}
		for _, ix := range shortLettered.FindAllStringSubmatchIndex(s.Text, -1) {
			m := func(k int) string {
				if ix[2*k] < 0 {
					return ""
				}
				return s.Text[ix[2*k]:ix[2*k+1]]
			}
			if next := strings.ToLower(strings.Trim(m(2), ".,;:?!")); numberWord(next) || isOh(next) {
				continue // more digits: a longer number, read elsewhere
			}
			// The order names it: "order W E B …", "it says WEB …" (of the
			// order's confirmation), not "the reference was k t …".
			before := wordsOf(s.Text[:ix[0]])
			before = before[max(0, len(before)-3):]
			if !slices.Contains(before, "order") && !slices.Contains(before, "orders") && (len(before) == 0 || before[len(before)-1] != "says") {
				continue
			}
			m1 := m(1)
			if d := slots.ParseDigits(m1); len(d) == 3 {
				return d
			}
		}
	}
	return ""
}

// digitSpans are the runs of digit words in w (a "0" and fillers inside
// them included), as [start, end) word indexes.
func digitSpans(w []string) [][2]int {
	var out [][2]int
	for i := 0; i < len(w); i++ {
		if !numberWord(w[i]) && w[i] != "0" {
			continue
		}
		j := i
		for j < len(w) && (numberWord(w[j]) || w[j] == "0" || numberFillers[w[j]]) {
			j++
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

// agreed is the number the agent last read back after the caller gave
// the order's number in words the extractors could not read whole —
// misheard and in pieces across turns ("its two won ate" … "ok ate double
// for five" … "so two one eight eight four five" … "yep") — when the
// caller let it stand. The caller's lines since the agent's question (or
// since a read-back they correct) are read as digits, misheard words
// included, and the read-back must be within an edit or two of them, so
// a number the agent says of their own is not taken. v is the number
// found so far: the read-back is taken only when v is none or a part of
// it, or a read-back the caller corrected ("21577" … "no there's another
// five to one five five seven seven" … "got it 215577"). A read-back of
// digits the caller said exactly, after a question for the order's number
// or for the number again, is taken whatever v is, unless the caller
// gives another number after it. "" when there is no such read-back.
func agreed(segs []transcript.Segment, v string, ordered bool) string {
	out, said, saidAt := "", "", 0
	var objected []string // read-backs the caller corrected
	q := -1               // the agent's line the caller's block answers
	for k := 0; k < len(segs); k++ {
		a := segs[k]
		if a.Speaker != transcript.Agent {
			continue
		}
		w := wordsOf(a.Text)
		if len(w) <= 4 && allIn(w, backchannels) {
			continue // "uh huh": the caller goes on
		}
		if len(w) <= 6 && echoOnly(w) && len(slots.ParseDigits(strings.Join(w, " "))) < 5 {
			continue // "four one eight", "one eight yes": the agent writing down a piece, the caller goes on
		}
		var block []string
		for _, s := range segs[q+1 : k] {
			if s.Speaker == transcript.Caller {
				block = append(block, wordsOf(s.Text)...)
			}
		}
		prev := ""
		if q >= 0 {
			prev = segs[q].Text
		}
		asked := q >= 0 && asksOrder(prev) && !asksOther(prev)
		// "can you read me the number once more" asks for it again too,
		// for a read-back of digits the caller said exactly.
		again := ordered && q >= 0 && mentions(prev, []string{"number", "again", "once"}) && !asksOther(prev)
		corrects := len(block) > 0 && opensWithCorrection(strings.Join(block, " ")) && out != ""
		q = k
		r, ok := agentNumber(a.Text)
		if !ok || len(block) == 0 || !(asked || again || corrects) {
			continue
		}
		d := blockDigits(block)
		if d == "" {
			continue
		}
		if strings.Contains(d, r) && (asked || again) && !twoNumbers(a.Text) {
			// The caller said these very digits and the agent repeats
			// them: agreed, whatever was read before ("… no hang on, the
			// new one is three eight one eight seven four" … "got it now
			// three eight one eight seven four").
			said, saidAt = r, k
		}
		if editDistance(d, r) > 2 || !(asked || corrects) {
			continue
		}
		if k+1 < len(segs) && segs[k+1].Speaker == transcript.Caller {
			next := segs[k+1].Text
			if _, ok := lastDigit(next); ok || opensWithCorrection(next) {
				out = r // corrected next: the caller's next block is read against it
				objected = append(objected, r)
				continue
			}
		}
		out = r
	}
	// An exact read-back stands unless the caller gives another number
	// after it ("wrong email. it's six two four nine one seven").
	for _, s := range segs[min(saidAt+1, len(segs)):] {
		if s.Speaker == transcript.Caller && slices.ContainsFunc(numberRuns(spokenNumbers(s.Text)), func(d string) bool { return len(d) >= 5 && d != said }) {
			said = ""
		}
	}
	if said != "" && !slices.Contains(objected, said) {
		return said
	}
	// A near read-back only where the extractors read less than it: a
	// number of its own length that differs is a read-back the caller
	// corrected (readBack and corrected decide those).
	if v != "" && !(len(v) < len(out) && strings.Contains(out, v)) && !(slices.Contains(objected, v) && !slices.Contains(objected, out)) {
		return ""
	}
	return out
}

// foundAgree open a caller's yes to the number an agent has found.
var foundAgree = map[string]bool{"yes": true, "yeah": true, "yep": true, "yup": true, "correct": true, "exactly": true}

// found is the number an agent finds for what the caller read out unsure
// and the caller agrees to ("looks like a one. or a seven" … "i'm not
// finding three zero six four seven one. could it be a two? i have three
// zero six four seven two for a fridge freezer" … "yes, two, that's
// it"): the last number of the agent's line, as long as v and within two
// digits of it, or v with a digit or two more, when the caller's next line opens with a
// yes ("yes", "that's it", "that's mine") and takes nothing back. "" when
// there is none; the last such wins.
func found(segs []transcript.Segment, v string) string {
	if v == "" {
		return ""
	}
	out := ""
	for k := 0; k+1 < len(segs); k++ {
		a, c := segs[k], segs[k+1]
		if a.Speaker != transcript.Agent || c.Speaker != transcript.Caller {
			continue
		}
		runs := numberRuns(agentText(a.Text))
		if len(runs) == 0 {
			continue
		}
		r := runs[len(runs)-1] // "there's no … five zero but … five nine is a set of pans"
		if len(r) < 5 || r == v || len(r) < len(v) || !(editDistance(r, v) <= 2 || strings.HasPrefix(r, v) && len(r)-len(v) <= 2) {
			continue
		}
		cw := wordsOf(c.Text)
		agrees := len(cw) > 0 && foundAgree[cw[0]] || len(cw) > 1 && cw[0] == "thats" && (cw[1] == "it" || cw[1] == "me" || cw[1] == "mine" || cw[1] == "the") ||
			len(cw) > 2 && cw[0] == "that" && cw[1] == "is" && (cw[2] == "it" || cw[2] == "mine")
		if _, corrects := lastDigit(c.Text); !agrees || corrects || len(cw) > 1 && (cw[1] == "but" || cw[1] == "no") {
			continue
		}
		out = r
	}
	return out
}

// digitEcho are the words of an agent's line that only repeats a piece
// of a number.
var digitEcho = map[string]bool{"zero": true, "oh": true, "o": true, "one": true, "two": true, "three": true, "four": true,
	"five": true, "six": true, "seven": true, "eight": true, "nine": true, "double": true, "triple": true}

// echoOnly reports whether an agent's words only repeat digits, with a
// backchannel or two ("one eight yes").
func echoOnly(w []string) bool {
	digits := 0
	for _, x := range w {
		switch {
		case digitEcho[x]:
			digits++
		case backchannels[x]:
		default:
			return false
		}
	}
	return digits > 0
}

// completed is the agent's number that completes the first digits a
// caller could give ("it starts four eight seven and then i can't read
// the rest" … "so it's four eight seven two oh five", "13557, and then
// it's torn" … "it's 135579"): a caller's answer to a question for the
// order's number holding a run of three digits or more, and a later agent
// line with a number of five to ten digits, longer, that starts with it.
// "" when there is none.
func completed(nl []numberLine) string {
	for i, l := range nl {
		// The caller answers a question for it, or names it ("just
		// checking on a parcel its order twenty one oh four" … "and the
		// rest of it" … "nine nine sorry").
		named := !asksOrder(l.prev) // named unasked: only a part too short to be a number ("twenty one oh four")
		if !l.caller || asksOther(l.prev) || named && !mentions(l.text, orderKeywords) {
			continue
		}
		if named && slices.ContainsFunc(numberRuns(l.text), func(r string) bool { return len(r) >= 5 }) {
			continue // a whole number said: "order double one four, five double nine"
		}
		for _, p := range runsOf(l.text, 3, 10) {
			for _, a := range nl[i+1:] {
				if a.caller {
					continue
				}
				for _, r := range numberRuns(a.text) {
					if len(r) >= 5 && len(r) > len(p) && strings.HasPrefix(r, p) {
						return r
					}
				}
			}
		}
	}
	return ""
}

// restPhrases end an agent's line that reads back the part of a number
// heard so far and asks for the rest.
var restPhrases = []string{"and then", "and the rest", "the rest of it", "and after that", "whats next", "what comes next", "go on", "carry on", "keep going"}

// restOf is the number a caller completes after the agent reads back what
// they heard and asks for the rest ("one two eight eight for tea" … "sorry
// one two eight eight four and then" … "zero. one two eight eight four
// zero"): a number in the caller's answer that starts with the part read
// back and is longer, read a sentence at a time, or else the part with
// the digits the answer opens with. "" when there is none.
func restOf(segs []transcript.Segment) string {
	for k := 0; k+1 < len(segs); k++ {
		a, c := segs[k], segs[k+1]
		if a.Speaker != transcript.Agent || c.Speaker != transcript.Caller {
			continue
		}
		w := wordsOf(a.Text)
		if !slices.ContainsFunc(restPhrases, func(p string) bool {
			pw := strings.Fields(p)
			return len(w) >= len(pw) && hasPhrase(w[len(w)-len(pw):], p)
		}) {
			continue
		}
		part := ""
		for _, r := range runsOf(spokenNumbers(a.Text), 3, 10) {
			part = r
		}
		if part == "" {
			continue
		}
		sents := sentenceSplit.Split(c.Text, -1)
		for _, sent := range sents {
			for _, r := range numberRuns(spokenNumbers(sent)) {
				if len(r) > len(part) && strings.HasPrefix(r, part) {
					return r
				}
			}
		}
		if d := slots.ParseDigits(spokenNumbers(sents[0])); len(d) >= 1 && len(d) <= 3 && len(part)+len(d) >= 5 && len(part)+len(d) <= 10 {
			return part + d
		}
	}
	return ""
}

// confirmed is the last number an agent says that the caller then says
// back ("i've got a three seater here under nine oh five one six three" …
// "oh six three, yeah, i said it backwards, sorry. nine oh five one six
// three"): the caller agreeing to the agent's number. "" when there is
// none.
func confirmed(segs []transcript.Segment) string {
	out := ""
	for k := 0; k+1 < len(segs); k++ {
		a, c := segs[k], segs[k+1]
		if a.Speaker != transcript.Agent || c.Speaker != transcript.Caller || twoNumbers(a.Text) {
			continue
		}
		r, ok := agentNumber(a.Text)
		if ok && slices.Contains(numberRuns(spokenNumbers(c.Text)), r) {
			out = r
		}
	}
	return out
}

// agentNumber is the number of five to ten digits an agent's line says,
// the one after an order keyword first, with the line marked as
// numberLines marks it: "z q seven seven zero …" is a courier's code and
// "your reference is …" one the agent gives out, neither the order's.
func agentNumber(text string) (string, bool) {
	return slots.ExtractNumber(agentText(text), orderKeywords, 5, 10, false)
}

// agentText is an agent's line marked and rewritten as numberLines does
// it.
func agentText(text string) string {
	return spokenNumbers(numberMarks(expandIs(otherReferences(text, true)), false, false))
}

// twoNumbers reports whether text says two different numbers of five
// digits or more ("keep five five one two oh eight and cancel five five
// one two oh nine"): no read-back of one.
func twoNumbers(text string) bool {
	var seen []string
	for _, d := range numberRuns(spokenNumbers(text)) {
		if len(d) >= 5 && !slices.Contains(seen, d) {
			seen = append(seen, d)
		}
	}
	return len(seen) > 1
}

// blockDigits reads a caller's words as digits, misheard ones ("won",
// "ate", "to", "for") and "oh" included, every run joined: what the
// caller said of a number, for checking an agent's read-back against.
func blockDigits(words []string) string {
	var out strings.Builder
	var run []string
	flush := func() {
		out.WriteString(slots.ParseDigits(strings.Join(run, " ")))
		run = run[:0]
	}
	for _, x := range words {
		switch {
		case numberWord(x):
			run = append(run, x)
		case isOh(x):
			run = append(run, "zero")
		case slots.Misheard(x) != "":
			run = append(run, slots.Misheard(x))
		case numberFillers[x]:
		default:
			flush()
		}
	}
	flush()
	return out.String()
}

// weakMisheard reports whether w is a misheard digit that is also a word
// said right beside numbers ("order for …", "three to five days", "two
// for one"): one at a number's edge, or before its last digit word, is a
// digit only when the agent reads it back.
func weakMisheard(w string) bool { return w == "to" || w == "too" || w == "for" || w == "fore" }

// heardDigits is tr with the misheard digits of each line written as
// digits (misheardDigits); a caller's line is checked against the digits
// of every agent line after it, for the read-back.
func heardDigits(tr transcript.Transcript) transcript.Transcript {
	segs := slices.Clone(tr.Segments)
	for k := range segs {
		var later []string
		asked := false
		if segs[k].Speaker == transcript.Caller {
			for _, s := range segs[k+1:] {
				if s.Speaker == transcript.Agent {
					later = append(later, slots.ParseDigits(s.Text))
				}
			}
			for q := k - 1; q >= 0; q-- { // the question before, across a stall ("hang on let me find it")
				if stall(wordsOf(segs[q].Text)) {
					continue
				}
				asked = segs[q].Speaker == transcript.Agent && asksOrder(segs[q].Text) && !asksOther(segs[q].Text)
				break
			}
		}
		segs[k].Text = misheardDigits(segs[k].Text, later, asked)
	}
	tr.Segments = segs
	return tr
}

// answerOpeners may open a line that answers a question before the answer
// itself ("it's …", "yeah it's …").
var answerOpeners = map[string]bool{"its": true, "it": true, "is": true, "yeah": true, "yes": true, "um": true, "uh": true, "er": true, "erm": true, "so": true, "ok": true, "okay": true, "right": true}

// singleDigit reports whether w says one digit: "five", "5", "oh", "won".
func singleDigit(w string) bool {
	return isOh(w) || slots.Misheard(w) != "" || len(w) == 1 && w[0] >= '0' && w[0] <= '9' || slots.ParseDigits(w) != "" && len(slots.ParseDigits(w)) == 1 && numberWord(w)
}

// misheardDigits writes the misheard digits of text as digit words when
// they stand in a run of digit words ("five five fire oh one ate three",
// "four ate ate to seven oh won three"). The run counts as a number when
// heard (the digits of the agent's lines after it) holds it read back in
// full ("it's nine won to oh oh for" … "nine one two zero zero four"):
// then every misheard word of it is a digit. Otherwise it needs two real
// digit words, or an order keyword just before it and four digit words
// of any kind ("order number to oh for for six won"): then "to" and "for"
// are digits only between single digits, with two or more after them, and
// not at its start unless the keyword is just before ("three to five
// days", "two for one", "order … four for two chairs" keep their words);
// a line answering the agent's question for the order number (asked)
// counts as keyed where it opens with the run, and to its end when the
// run ends it ("eight to nine oh won won for");
// "won", "ate", "free", "tree" and "fire" are digits anywhere in it. An
// "oh" links the run and is left for spokenNumbers.
func misheardDigits(text string, heard []string, asked bool) string {
	f := strings.Fields(text)
	c := make([]string, len(f))
	has := false
	for i, x := range f {
		c[i] = strings.ToLower(strings.NewReplacer("'", "", "’", "").Replace(strings.Trim(x, `.,;:!?"()`)))
		has = has || slots.Misheard(c[i]) != ""
	}
	if !has {
		return text
	}
	digitLike := func(i int) bool {
		return numberWord(c[i]) || isOh(c[i]) || slots.Misheard(c[i]) != "" || numberFillers[c[i]]
	}
	stop := func(i int) bool { return strings.ContainsAny(f[i][len(f[i])-1:], ".?!;") }
	digitsOf := func(a, b int) string {
		var w []string
		for _, x := range c[a:b] {
			switch {
			case slots.Misheard(x) != "":
				w = append(w, slots.Misheard(x))
			case isOh(x):
				w = append(w, "zero")
			default:
				w = append(w, x)
			}
		}
		return slots.ParseDigits(strings.Join(w, " "))
	}
	readBack := func(a, b int) bool {
		d := digitsOf(a, b)
		return len(d) >= 4 && slices.ContainsFunc(heard, func(h string) bool { return strings.Contains(h, d) })
	}
	changed := false
	for i := 0; i < len(f); i++ {
		if !digitLike(i) || numberFillers[c[i]] {
			continue
		}
		j := i // the run is f[i:j]
		for j < len(f) && digitLike(j) {
			j++
			if stop(j - 1) {
				break
			}
		}
		for j > i && numberFillers[c[j-1]] {
			j--
		}
		real, words := 0, 0
		for _, x := range c[i:j] {
			if numberWord(x) {
				real++
			}
			if !numberFillers[x] {
				words++
			}
		}
		keyed := false // an order keyword just before the run
		for k := i - 1; k >= 0 && k >= i-3; k-- {
			if slices.Contains(orderKeywords, c[k]) {
				keyed = true
				break
			}
			if !weakNumberWords[c[k]] && c[k] != "is" && c[k] != "its" {
				break
			}
		}
		// A line answering the agent's question for the order number
		// (asked) is the number from its first words ("it's …") to its
		// end: "to" and "for" there are digits too, as after a keyword.
		answer := asked && i <= 2 && !slices.ContainsFunc(c[:i], func(x string) bool { return !answerOpeners[x] })
		keyed = keyed || answer
		ends := answer && j == len(f)
		a, b := -1, -1 // the read-back stretch, all of whose misheard words are digits
		for _, s := range [][2]int{{i, j}, {i + 1, j}, {i, j - 1}, {i + 1, j - 1}} {
			if s[0] < s[1] && (s[0] == i || weakMisheard(c[i])) && (s[1] == j || weakMisheard(c[j-1])) && readBack(s[0], s[1]) {
				a, b = s[0], s[1]
				break
			}
		}
		licensed := real >= 2 || keyed && real >= 1 && words >= 4
		for p := i; p < j; p++ {
			d := slots.Misheard(c[p])
			if d == "" {
				continue
			}
			after := 0 // single digit words after p in the run, up to one of more digits
			for _, x := range c[p+1 : j] {
				if !numberFillers[x] {
					if !singleDigit(x) {
						break
					}
					after++
				}
			}
			ok := a <= p && p < b
			if !ok && licensed {
				ok = !weakMisheard(c[p]) || (after >= 2 || ends) && (p > i && singleDigit(c[p-1]) || p == i && keyed)
			}
			if ok {
				f[p] = strings.Replace(f[p], strings.Trim(f[p], `.,;:!?"()`), d, 1)
				changed = true
			}
		}
		i = j - 1
	}
	if !changed {
		return text
	}
	return strings.Join(f, " ")
}
