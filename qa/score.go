package qa

import (
	"fmt"
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

// norm is text as " w1 w2 … " for whole-word matching.
func norm(text string) string { return " " + strings.Join(words(text), " ") + " " }

// said reports whether text contains one of the phrases as whole words and
// which one.
func said(text string, phrases []string) (string, bool) {
	w := norm(text)
	for _, p := range phrases {
		if pw := words(p); len(pw) > 0 && strings.Contains(w, " "+strings.Join(pw, " ")+" ") {
			return p, true
		}
	}
	return "", false
}

// count is how many of the phrases text contains (each once).
func count(text string, phrases []string) int {
	w, n := norm(text), 0
	for _, p := range phrases {
		if pw := words(p); len(pw) > 0 && strings.Contains(w, " "+strings.Join(pw, " ")+" ") {
			n++
		}
	}
	return n
}

func evidence(s transcript.Segment) Evidence {
	return Evidence{Speaker: s.Speaker, StartMS: s.StartMS, EndMS: s.EndMS, Text: s.Text}
}

func evidenceOf(segs ...transcript.Segment) []Evidence {
	out := make([]Evidence, 0, len(segs))
	for _, s := range segs {
		out = append(out, evidence(s))
	}
	return out
}

// Score judges a transcript against a scorecard with the rule detectors.
// It is ScoreCall without an agent name.
func Score(card Scorecard, tr transcript.Transcript) Evaluation {
	return ScoreCall(card, tr, "")
}

// ScoreCall judges a transcript against a scorecard with the rule
// detectors; agent is the agent's name (or username) for the greeting,
// empty when unknown. Each automatic item passes or fails whole (score
// Points or 0) and carries the lines it was judged on. Manual items are
// left pending. The scorecard is not validated here; an invalid criterion
// simply fails. ID and CreatedAt are left for the store.
func ScoreCall(card Scorecard, tr transcript.Transcript, agent string) Evaluation {
	segs := make([]transcript.Segment, 0, len(tr.Segments))
	for _, s := range tr.Segments {
		if strings.TrimSpace(s.Text) != "" {
			segs = append(segs, s)
		}
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].StartMS < segs[j].StartMS })
	ev := Evaluation{CallID: tr.CallID, Scorecard: card.Name, Method: "rules", Items: make([]Item, 0, len(card.Items))}
	names := append(append([]string(nil), card.Company...), agent)
	for _, c := range card.Items {
		it := Item{Key: c.Key, Label: c.Label, Max: c.Points(), Type: c.Type, AutoFail: c.AutoFail, Evidence: []Evidence{}}
		if c.Type == Manual {
			it.Pending = true
			it.Detail = "manual item: awaiting a reviewer"
			ev.Items = append(ev.Items, it)
			continue
		}
		judge(&it, c, segs, names)
		highlight(&it, c, names)
		timeWords(&it, segs)
		if it.Evidence == nil {
			it.Evidence = []Evidence{}
		}
		if it.Passed {
			it.Score = it.Max
		}
		ev.Items = append(ev.Items, it)
	}
	ev.Recompute()
	return ev
}

// Recompute sets Score, MaxScore and AutoFailed from the items: pending
// items count in neither, a failed auto-fail item zeroes the score.
func (e *Evaluation) Recompute() {
	e.Score, e.MaxScore, e.AutoFailed = 0, 0, false
	for _, it := range e.Items {
		if it.Pending {
			continue
		}
		e.Score += it.Score
		e.MaxScore += it.Max
		if it.AutoFail && !it.Passed {
			e.AutoFailed = true
		}
	}
	if e.AutoFailed {
		e.Score = 0
	}
}

func judge(it *Item, c Criterion, segs []transcript.Segment, names []string) {
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
			it.Evidence = evidenceOf(lines...)
		}
	case KindNoPhrase:
		noPhrase(it, speakerLines(segs, c.Speaker), c.Phrases)
	case KindProhibited:
		noPhrase(it, speakerLines(segs, transcript.Agent), append(append([]string(nil), c.Phrases...), rudePhrases...))
	case KindMaxGap:
		before, after, gap, ok := longestGap(segs)
		it.Passed = c.MaxGapMS > 0 && gap <= c.MaxGapMS
		if ok {
			it.Evidence = evidenceOf(before, after)
			it.Detail = fmt.Sprintf("longest silence %.1f s", float64(gap)/1000)
		}
	case KindGreeting:
		greeting(it, c, segs, names)
	case KindVerification:
		verification(it, c, segs)
	case KindEmpathy:
		empathy(it, c, segs)
	case KindResolution:
		for _, s := range speakerLines(segs, transcript.Agent) {
			if _, ok := said(s.Text, append(c.Phrases, resolutionPhrases...)); ok {
				it.Passed = true
				it.Evidence = append(it.Evidence, evidence(s))
			}
		}
		if !it.Passed {
			it.Detail = "no outcome or next step stated"
		}
	case KindClosing:
		closing(it, c, segs)
	case KindHold:
		hold(it, c, segs)
	case KindInterruptions:
		interruptions(it, c, segs)
	case KindTalkRatio:
		talkRatio(it, c, segs)
	case KindSentiment:
		sentiment(it, segs)
	}
}

func noPhrase(it *Item, lines []transcript.Segment, phrases []string) {
	it.Passed = true
	for _, s := range lines {
		if p, ok := said(s.Text, phrases); ok {
			it.Passed = false
			it.Evidence = append(it.Evidence, evidence(s))
			it.Detail = strings.TrimSpace(it.Detail + " \"" + p + "\"")
		}
	}
}

// speakerLines are the segments of who (the agent when empty).
func speakerLines(segs []transcript.Segment, who transcript.Speaker) []transcript.Segment {
	if who == "" {
		who = transcript.Agent
	}
	var out []transcript.Segment
	for _, s := range segs {
		if s.Speaker == who {
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
	var out []transcript.Segment
	for i, s := range lines {
		if (first > 0 && i < first) || (last > 0 && i >= len(lines)-last) {
			out = append(out, s)
		}
	}
	return out
}

// longestGap finds the longest silence between consecutive lines from the
// agent's first line on: the IVR and the queue come before that and are
// not the agent's dead air. Overlapping speech is no gap, and neither is
// an announced hold (a gap after an agent line that mentions a hold, or
// between system hold markers). ok is false when there are fewer than two
// such lines.
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
	onHold := announcedHold(prev)
	for _, s := range segs[start+1:] {
		g := max(s.StartMS-end, 0)
		if onHold {
			g = 0
		}
		if !ok || g > gap {
			before, after, gap, ok = prev, s, g, true
		}
		if s.Speaker != transcript.Caller {
			onHold = announcedHold(s)
		}
		if s.EndMS > end {
			end = s.EndMS
			prev = s
		}
	}
	return before, after, gap, ok
}

// announcedHold: the line puts the caller on hold by name, or is a
// system hold marker.
func announcedHold(s transcript.Segment) bool {
	if s.Speaker == transcript.System {
		return isHoldMarker(s.Text)
	}
	if s.Speaker != transcript.Agent {
		return false
	}
	_, ok := said(s.Text, []string{"on hold", "hold the line", "hold for", "hold please", "hold on a moment", "hold on a minute", "hold for a moment"})
	return ok
}

func isHoldMarker(text string) bool {
	w := norm(text)
	return strings.Contains(w, " hold ") && !strings.Contains(w, " off hold ") && !strings.Contains(w, " unhold ")
}

func firstAgentStart(segs []transcript.Segment) (int64, bool) {
	for _, s := range segs {
		if s.Speaker == transcript.Agent {
			return s.StartMS, true
		}
	}
	return 0, false
}
