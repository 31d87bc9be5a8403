package qa

import (
	"slices"
	"strings"

	"github.com/contactd/contactd/transcript"
)

// Span is a run of words of an evidence line, [From, To) as indices into
// the line's text split at white space (strings.Fields): the words an item
// was judged on, which the review desk highlights.
type Span struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// lineWords is a line's normalised words (as words() makes them) with the
// index of the space-separated field each came from.
type lineWords struct {
	words []string
	field []int
}

func splitLine(text string) lineWords {
	var lw lineWords
	for i, f := range strings.Fields(text) {
		for _, w := range words(f) {
			lw.words = append(lw.words, w)
			lw.field = append(lw.field, i)
		}
	}
	return lw
}

// span is the field span of normalised words [from, to).
func (lw lineWords) span(from, to int) Span {
	return Span{From: lw.field[from], To: lw.field[to-1] + 1}
}

// phraseSpans finds every whole-word occurrence of each phrase.
func (lw lineWords) phraseSpans(phrases []string) []Span {
	var out []Span
	for _, p := range phrases {
		pw := words(p)
		if len(pw) == 0 {
			continue
		}
		for i := 0; i+len(pw) <= len(lw.words); i++ {
			if slices.Equal(lw.words[i:i+len(pw)], pw) {
				out = append(out, lw.span(i, i+len(pw)))
			}
		}
	}
	return out
}

// nameSpans finds what introducesName accepts: a known name, an intro
// lead and the name after it, or a name and "speaking".
func (lw lineWords) nameSpans(names []string) []Span {
	out := lw.phraseSpans(names)
	w := lw.words
	for _, lead := range introLeads {
		lead := words(lead)
		for i := 0; i+len(lead) < len(w); i++ {
			if slices.Equal(w[i:i+len(lead)], lead) && !notNames[w[i+len(lead)]] {
				out = append(out, lw.span(i, i+len(lead)+1))
			}
		}
	}
	for i := 1; i < len(w); i++ {
		if w[i] == "speaking" && !notNames[w[i-1]] && w[i-1] != "youre" && w[i-1] != "im" {
			out = append(out, lw.span(i-1, i+1))
		}
	}
	return out
}

// merge sorts spans and joins overlapping or touching ones.
func merge(sp []Span) []Span {
	if len(sp) == 0 {
		return nil
	}
	slices.SortFunc(sp, func(a, b Span) int { return a.From - b.From })
	out := []Span{sp[0]}
	for _, s := range sp[1:] {
		last := &out[len(out)-1]
		if s.From <= last.To {
			last.To = max(last.To, s.To)
			continue
		}
		out = append(out, s)
	}
	return out
}

// phrasesFor are the phrases an item of criterion c is judged on in a
// line of speaker who; nil for items judged on times (dead air, talk
// ratio, interruptions).
func phrasesFor(c Criterion, who transcript.Speaker) []string {
	cat := func(lists ...[]string) []string { return slices.Concat(lists...) }
	switch c.Kind {
	case KindPhrase, KindNoPhrase:
		return c.Phrases
	case KindProhibited:
		return cat(c.Phrases, rudePhrases)
	case KindVerification:
		if who == transcript.Caller {
			return accountIssue
		}
		return cat(c.Phrases, verifyPhrases, detailPhrases)
	case KindEmpathy:
		if who == transcript.Caller {
			return negativePhrases
		}
		return cat(c.Phrases, empathyPhrases)
	case KindResolution:
		return cat(c.Phrases, resolutionPhrases)
	case KindClosing:
		return cat(c.Phrases, offerPhrases, thanksPhrases)
	case KindHold:
		if who == transcript.System {
			return []string{"hold"}
		}
		return cat(holdPhrases, permissionPhrases)
	case KindSentiment:
		return cat(positivePhrases, negativePhrases)
	case KindGreeting:
		return c.Phrases
	}
	return nil
}

// highlight marks in each of the item's evidence lines the words it was
// judged on.
func highlight(it *Item, c Criterion, names []string) {
	for i := range it.Evidence {
		e := &it.Evidence[i]
		lw := splitLine(e.Text)
		sp := lw.phraseSpans(phrasesFor(c, e.Speaker))
		if c.Kind == KindGreeting && e.Speaker == transcript.Agent {
			sp = append(sp, lw.nameSpans(append(slices.Clone(names), c.Names...))...)
		}
		e.Highlights = merge(sp)
	}
}

// timeWords gives the highlighted words of each of the item's evidence
// lines their times, from the line's word timings in segs when they
// spell its text word for word.
func timeWords(it *Item, segs []transcript.Segment) {
	for i := range it.Evidence {
		e := &it.Evidence[i]
		e.Words = nil
		if len(e.Highlights) == 0 {
			continue
		}
		s, ok := lineOf(segs, e.Speaker, e.StartMS)
		if !ok || len(s.Words) == 0 {
			continue
		}
		fields := strings.Fields(s.Text)
		if len(fields) != len(s.Words) {
			continue // the words do not spell the text (redacted, edited)
		}
		for _, h := range e.Highlights {
			if h.From < 0 || h.To > len(s.Words) || h.From >= h.To {
				continue
			}
			e.Words = append(e.Words, s.Words[h.From:h.To]...)
		}
	}
}

// lineOf is the line of speaker who starting at start.
func lineOf(segs []transcript.Segment, who transcript.Speaker, start int64) (transcript.Segment, bool) {
	for _, s := range segs {
		if s.Speaker == who && s.StartMS == start {
			return s, true
		}
	}
	return transcript.Segment{}, false
}

// quoted finds where a judge's quote was said: the line of speaker who
// with the longest run of the quote's words, when the run is most of the
// quote (60 %, and two words for a quote of two or more), the line
// nearest start winning ties; sp is the span of the line's words the run
// covers. A quote found nowhere leaves the line starting at start, if
// any, unmarked (the model gave the time right but not the words). ok is
// false when there is neither: a model may paraphrase or invent.
func quoted(segs []transcript.Segment, who transcript.Speaker, start int64, quote string) (line transcript.Segment, sp []Span, ok bool) {
	qw := words(quote)
	need := max(min(2, len(qw)), (len(qw)*3+4)/5)
	best, bestLen, bestDist := -1, 0, int64(0)
	var bestSpan Span
	for i, s := range segs {
		if s.Speaker != who {
			continue
		}
		lw := splitLine(s.Text)
		n, at := longestRun(lw.words, qw)
		dist := max(s.StartMS-start, start-s.StartMS)
		if n > 0 && n >= need && (n > bestLen || n == bestLen && dist < bestDist) {
			best, bestLen, bestDist = i, n, dist
			bestSpan = lw.span(at, at+n)
		}
	}
	if best >= 0 {
		return segs[best], []Span{bestSpan}, true
	}
	s, ok := lineOf(segs, who, start)
	return s, nil, ok
}

// longestRun is the longest run of b's words found in a, its length and
// where it starts in a.
func longestRun(a, b []string) (n, at int) {
	if len(a) == 0 || len(b) == 0 {
		return 0, 0
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
				if cur[j] > n {
					n, at = cur[j], i-cur[j]
				}
			} else {
				cur[j] = 0
			}
		}
		prev, cur = cur, prev
	}
	return n, at
}
