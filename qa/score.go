package qa

import (
	"sort"
	"strings"
	"unicode"

	"github.com/contactd/contactd/transcript"
)

// words lower-cases text, drops apostrophes ("I've" → "ive") and splits it
// on everything that is not a letter or digit, so that phrases match
// recogniser output and typed transcripts alike.
func words(text string) []string {
	return strings.FieldsFunc(strings.Map(func(r rune) rune {
		switch {
		case r == '\'' || r == '’':
			return -1
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			return unicode.ToLower(r)
		}
		return ' '
	}, text), func(r rune) bool { return r == ' ' })
}

// said reports whether text contains one of the phrases as whole words and
// which one.
func said(text string, phrases []string) (string, bool) {
	w := " " + strings.Join(words(text), " ") + " "
	for _, p := range phrases {
		if strings.Contains(w, " "+strings.Join(words(p), " ")+" ") {
			return p, true
		}
	}
	return "", false
}

func evidence(s transcript.Segment) Evidence {
	return Evidence{Speaker: s.Speaker, StartMS: s.StartMS, Text: s.Text}
}

// Score judges a transcript against a scorecard. Each item passes or
// fails whole (score Max or 0) and carries the lines it was judged on: the
// lines that matched, for a failed phrase item the lines searched (when a
// window was set), for prohibited language the offending lines, for dead
// air the lines either side of the longest gap. The scorecard is not
// validated here; an invalid criterion simply fails. ID and CreatedAt are
// left for the store.
func Score(card Scorecard, tr transcript.Transcript) Evaluation {
	segs := append([]transcript.Segment(nil), tr.Segments...)
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].StartMS < segs[j].StartMS })
	ev := Evaluation{CallID: tr.CallID, Scorecard: card.Name, Items: make([]Item, 0, len(card.Items))}
	for _, c := range card.Items {
		it := Item{Key: c.Key, Label: c.Label, Max: c.Max, Evidence: []Evidence{}}
		switch c.Kind {
		case KindPhrase:
			lines := window(speakerLines(segs, c.Speaker), c.FirstN, c.LastN)
			for _, s := range lines {
				if _, ok := said(s.Text, c.Phrases); ok {
					it.Passed = true
					it.Evidence = append(it.Evidence, evidence(s))
				}
			}
			if !it.Passed && (c.FirstN > 0 || c.LastN > 0) {
				for _, s := range lines {
					it.Evidence = append(it.Evidence, evidence(s))
				}
			}
		case KindNoPhrase:
			it.Passed = true
			for _, s := range speakerLines(segs, c.Speaker) {
				if _, ok := said(s.Text, c.Phrases); ok {
					it.Passed = false
					it.Evidence = append(it.Evidence, evidence(s))
				}
			}
		case KindMaxGap:
			before, after, gap, ok := longestGap(segs)
			it.Passed = c.MaxGapMS > 0 && gap <= c.MaxGapMS
			if ok {
				it.Evidence = append(it.Evidence, evidence(before), evidence(after))
			}
		}
		if it.Passed {
			it.Score = c.Max
		}
		ev.Score += it.Score
		ev.MaxScore += c.Max
		ev.Items = append(ev.Items, it)
	}
	return ev
}

// speakerLines are the segments of who (the agent when empty) with text.
func speakerLines(segs []transcript.Segment, who transcript.Speaker) []transcript.Segment {
	if who == "" {
		who = transcript.Agent
	}
	var out []transcript.Segment
	for _, s := range segs {
		if s.Speaker == who && strings.TrimSpace(s.Text) != "" {
			out = append(out, s)
		}
	}
	return out
}

// window keeps the first n or last n lines, when set; with both, either.
func window(lines []transcript.Segment, first, last int) []transcript.Segment {
	if first <= 0 && last <= 0 {
		return lines
	}
	keep := make([]bool, len(lines))
	for i := range lines {
		if (first > 0 && i < first) || (last > 0 && i >= len(lines)-last) {
			keep[i] = true
		}
	}
	var out []transcript.Segment
	for i, s := range lines {
		if keep[i] {
			out = append(out, s)
		}
	}
	return out
}

// longestGap finds the longest silence between consecutive lines from the
// agent's first line on: the IVR and the queue come before that and are
// not the agent's dead air. Overlapping speech is no gap. ok is false when
// there are fewer than two such lines.
func longestGap(segs []transcript.Segment) (before, after transcript.Segment, gap int64, ok bool) {
	start := -1
	for i, s := range segs {
		if s.Speaker == transcript.Agent {
			start = i
			break
		}
	}
	if start < 0 {
		return before, after, 0, false
	}
	end := segs[start].EndMS
	prev := segs[start]
	for _, s := range segs[start+1:] {
		if g := s.StartMS - end; !ok || g > gap {
			before, after, gap, ok = prev, s, max(g, 0), true
		}
		if s.EndMS > end {
			end = s.EndMS
			prev = s
		}
	}
	return before, after, gap, ok
}
