package qa

import (
	"fmt"
	"strings"

	"github.com/contactd/contactd/transcript"
)

// introducesName reports whether text introduces a name: a lead such as
// "my name is" followed by a word that is not a function word, a word
// followed by "speaking", or one of names.
func introducesName(text string, names []string) bool {
	w := words(text)
	j := " " + strings.Join(w, " ") + " "
	for _, n := range names {
		if nw := words(n); len(nw) > 0 && strings.Contains(j, " "+strings.Join(nw, " ")+" ") {
			return true
		}
	}
	for _, lead := range introLeads {
		lw := words(lead)
	next:
		for i := 0; i+len(lw) < len(w); i++ {
			for k := range lw {
				if w[i+k] != lw[k] {
					continue next
				}
			}
			if !notNames[w[i+len(lw)]] {
				return true
			}
		}
	}
	for i := 1; i < len(w); i++ {
		if w[i] == "speaking" && !notNames[w[i-1]] && w[i-1] != "youre" && w[i-1] != "im" {
			return true
		}
	}
	return false
}

func greeting(it *Item, c Criterion, segs []transcript.Segment, names []string) {
	within := c.WithinMS
	if within <= 0 {
		within = 15_000
	}
	t0, ok := firstAgentStart(segs)
	if !ok {
		it.Detail = "the agent never spoke"
		return
	}
	names = append(append([]string(nil), names...), c.Names...)
	var looked []transcript.Segment
	for _, s := range speakerLines(segs, transcript.Agent) {
		if s.StartMS > t0+within {
			break
		}
		looked = append(looked, s)
		if introducesName(s.Text, names) || (len(c.Phrases) > 0 && hasPhrase(s.Text, c.Phrases)) {
			it.Passed = true
			it.Evidence = []Evidence{evidence(s)}
			return
		}
	}
	it.Evidence = evidenceOf(looked...)
	it.Detail = fmt.Sprintf("no greeting with a name in the agent's first %d s", within/1000)
}

func hasPhrase(text string, phrases []string) bool {
	_, ok := said(text, phrases)
	return ok
}

func verification(it *Item, c Criterion, segs []transcript.Segment) {
	ask, detail := -1, -1
	agent := speakerLines(segs, transcript.Agent)
	for i, s := range agent {
		if ask < 0 && hasPhrase(s.Text, append(c.Phrases, verifyPhrases...)) {
			ask = i
		}
		if detail < 0 && hasPhrase(s.Text, detailPhrases) {
			detail = i
		}
	}
	switch {
	case ask >= 0 && (detail < 0 || ask <= detail):
		it.Passed = true
		it.Evidence = evidenceOf(agent[ask])
	case detail >= 0 && ask < 0:
		it.Evidence = evidenceOf(agent[detail])
		it.Detail = "account details discussed without verification"
	case detail >= 0:
		it.Evidence = evidenceOf(agent[detail], agent[ask])
		it.Detail = "account details discussed before verification"
	default:
		for _, s := range speakerLines(segs, transcript.Caller) {
			if hasPhrase(s.Text, accountIssue) {
				it.Evidence = evidenceOf(s)
				it.Detail = "the caller raised their account and was not verified"
				return
			}
		}
		it.Passed, it.NA = true, true
		it.Detail = "no account details discussed"
	}
}

// negative reports whether a caller line is negative.
func negative(text string) bool { return hasPhrase(text, negativePhrases) }

// empathic reports whether an agent line shows empathy, not counting a
// "sorry" that only asks for a repeat.
func empathic(text string, extra []string) bool {
	p, ok := said(text, append(append([]string(nil), extra...), empathyPhrases...))
	if !ok {
		return false
	}
	if p == "sorry" && hasPhrase(text, clarifySorry) {
		// Another empathy phrase may still be there.
		rest := strings.Replace(norm(text), " sorry ", " ", 1)
		return hasPhrase(rest, empathyPhrases[1:]) || hasPhrase(rest, extra)
	}
	return true
}

func empathy(it *Item, c Criterion, segs []transcript.Segment) {
	var neg []transcript.Segment
	for _, s := range speakerLines(segs, transcript.Caller) {
		if negative(s.Text) {
			neg = append(neg, s)
		}
	}
	if len(neg) == 0 {
		it.Passed, it.NA = true, true
		it.Detail = "the caller was not negative"
		return
	}
	for _, s := range speakerLines(segs, transcript.Agent) {
		if s.EndMS >= neg[0].StartMS && empathic(s.Text, c.Phrases) {
			it.Passed = true
			it.Evidence = evidenceOf(neg[0], s)
			return
		}
	}
	it.Evidence = evidenceOf(neg[:min(len(neg), 3)]...)
	it.Detail = "the caller was negative and the agent showed no empathy"
}

func closing(it *Item, c Criterion, segs []transcript.Segment) {
	n := c.LastN
	if n <= 0 {
		n = 4
	}
	lines := window(speakerLines(segs, transcript.Agent), 0, n)
	offer := -1
	for i, s := range lines {
		if hasPhrase(s.Text, append(c.Phrases, offerPhrases...)) {
			offer = i
			break
		}
	}
	if offer >= 0 {
		for i, s := range lines[offer:] {
			if hasPhrase(s.Text, thanksPhrases) {
				it.Passed = true
				if i == 0 {
					it.Evidence = evidenceOf(s)
				} else {
					it.Evidence = evidenceOf(lines[offer], s)
				}
				return
			}
		}
		it.Detail = "further help offered but no thanks"
	} else {
		it.Detail = "no offer of further help at the end"
	}
	it.Evidence = evidenceOf(lines...)
}

// holdEvent is one hold: the line that started it, when it ended and the
// line that ended it.
type holdEvent struct {
	start      transcript.Segment
	permission bool
	endMS      int64
	back       *transcript.Segment
}

// holds finds the holds: system hold markers, and agent lines announcing
// a wait that are followed by at least 10 s without the agent.
func holds(segs []transcript.Segment) []holdEvent {
	var out []holdEvent
	var prevAgent *transcript.Segment
	for i, s := range segs {
		isMarker := s.Speaker == transcript.System && isHoldMarker(s.Text)
		isAgentHold := s.Speaker == transcript.Agent && hasPhrase(s.Text, holdPhrases)
		if isMarker || isAgentHold {
			var back *transcript.Segment
			for j := i + 1; j < len(segs); j++ {
				if segs[j].Speaker == transcript.Agent {
					back = &segs[j]
					break
				}
			}
			if back != nil && back.StartMS-s.EndMS >= 10_000 || isMarker {
				h := holdEvent{start: s, back: back, endMS: -1}
				if back != nil {
					h.endMS = back.StartMS
				}
				h.permission = hasPhrase(s.Text, permissionPhrases) ||
					(prevAgent != nil && hasPhrase(prevAgent.Text, permissionPhrases))
				if isMarker && prevAgent != nil && !h.permission {
					h.permission = hasPhrase(prevAgent.Text, permissionPhrases)
				}
				if isMarker && prevAgent != nil {
					h.start = *prevAgent
					h.start.EndMS = s.StartMS
				}
				if n := len(out); n > 0 && out[n-1].back != nil && back != nil && out[n-1].back.StartMS == back.StartMS {
					continue // the announcement and its marker are one hold
				}
				out = append(out, h)
			}
		}
		if s.Speaker == transcript.Agent {
			prevAgent = &segs[i]
		}
	}
	return out
}

func hold(it *Item, c Criterion, segs []transcript.Segment) {
	maxHold := c.MaxHoldMS
	if maxHold <= 0 {
		maxHold = 60_000
	}
	hs := holds(segs)
	if len(hs) == 0 {
		it.Passed, it.NA = true, true
		it.Detail = "no hold"
		return
	}
	it.Passed = true
	var why []string
	for _, h := range hs {
		it.Evidence = append(it.Evidence, evidence(h.start))
		if h.back != nil {
			it.Evidence = append(it.Evidence, evidence(*h.back))
		}
		if !h.permission {
			it.Passed = false
			why = append(why, fmt.Sprintf("hold at %.0f s without asking", float64(h.start.StartMS)/1000))
		}
		if h.endMS < 0 || h.endMS-h.start.EndMS > maxHold {
			it.Passed = false
			why = append(why, fmt.Sprintf("hold at %.0f s longer than %d s", float64(h.start.StartMS)/1000, maxHold/1000))
		}
	}
	it.Detail = strings.Join(why, "; ")
	if it.Detail == "" {
		it.Detail = fmt.Sprintf("%d hold(s), asked and back in time", len(hs))
	}
}

// overlapMS is how far an agent line must start inside a caller's line to
// count as talking over them.
const overlapMS = 300

func interruptions(it *Item, c Criterion, segs []transcript.Segment) {
	limit := c.MaxCount
	if limit <= 0 {
		limit = 2
	}
	callers := speakerLines(segs, transcript.Caller)
	agentCut, overtalk := 0, 0
	for _, a := range speakerLines(segs, transcript.Agent) {
		for _, cl := range callers {
			if a.StartMS < cl.EndMS-overlapMS && cl.StartMS < a.EndMS-overlapMS {
				overtalk++
				if a.StartMS > cl.StartMS {
					agentCut++
					it.Evidence = append(it.Evidence, evidence(cl), evidence(a))
				}
			}
		}
	}
	it.Passed = agentCut <= limit
	it.Detail = fmt.Sprintf("agent interrupted %d times; over-talk %d times", agentCut, overtalk)
}

// TalkRatio is the agent's share of caller and agent talk time, 0 when
// neither spoke.
func TalkRatio(segs []transcript.Segment) float64 {
	var a, c int64
	for _, s := range segs {
		switch s.Speaker {
		case transcript.Agent:
			a += max(s.EndMS-s.StartMS, 0)
		case transcript.Caller:
			c += max(s.EndMS-s.StartMS, 0)
		}
	}
	if a+c == 0 {
		return 0
	}
	return float64(a) / float64(a+c)
}

func talkRatio(it *Item, c Criterion, segs []transcript.Segment) {
	lo, hi := c.MinRatio, c.MaxRatio
	if hi == 0 {
		hi = 0.75
	}
	if lo == 0 && c.MaxRatio == 0 {
		lo = 0.25
	}
	r := TalkRatio(segs)
	it.Passed = r >= lo && r <= hi
	it.Detail = fmt.Sprintf("agent talk ratio %.2f (want %.2f-%.2f)", r, lo, hi)
	var longest *transcript.Segment
	for i, s := range segs {
		if s.Speaker == transcript.Agent && (longest == nil || s.EndMS-s.StartMS > longest.EndMS-longest.StartMS) {
			longest = &segs[i]
		}
	}
	if longest != nil {
		it.Evidence = evidenceOf(*longest)
	}
}

// Sentiment scores one line: positive phrases count +1, negative -2.
func Sentiment(text string) int {
	return count(text, positivePhrases) - 2*count(text, negativePhrases)
}

// CallerSentiment is the caller's sentiment over the first and the last
// third of their lines.
func CallerSentiment(segs []transcript.Segment) (start, end int, first, last []transcript.Segment) {
	lines := speakerLines(segs, transcript.Caller)
	if len(lines) == 0 {
		return 0, 0, nil, nil
	}
	k := max(1, len(lines)/3)
	first, last = lines[:k], lines[len(lines)-k:]
	for _, s := range first {
		start += Sentiment(s.Text)
	}
	for _, s := range last {
		end += Sentiment(s.Text)
	}
	return start, end, first, last
}

func sentiment(it *Item, segs []transcript.Segment) {
	start, end, first, last := CallerSentiment(segs)
	if len(first) == 0 {
		it.Passed, it.NA = true, true
		it.Detail = "the caller said nothing"
		return
	}
	it.Passed = end >= 0 || end > start
	it.Detail = fmt.Sprintf("caller sentiment %+d at the start, %+d at the end", start, end)
	it.Evidence = evidenceOf(append(append([]transcript.Segment(nil), first...), last...)...)
}
