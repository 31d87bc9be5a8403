package tickets

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/contactd/contactd/transcript"
)

// smallTalk words do not make a line a request.
var smallTalk = map[string]bool{
	"hi": true, "hello": true, "hey": true, "yes": true, "yeah": true, "yep": true, "no": true,
	"ok": true, "okay": true, "thanks": true, "thank": true, "you": true, "bye": true,
	"goodbye": true, "good": true, "morning": true, "afternoon": true, "evening": true,
	"um": true, "uh": true, "er": true, "right": true, "sure": true, "great": true, "please": true,
	"its": true, "it": true, "is": true, "a": true, "the": true, "i": true, "my": true, "me": true,
	"and": true, "so": true, "that": true, "thats": true, "there": true, "oh": true, "well": true,
}

// resolutionCues mark an agent line that states an outcome or next step.
var resolutionCues = []string{
	"ive", "i have", "i will", "ill", "ive gone ahead", "has been", "have been", "will be",
	"youll", "you will", "you should", "refund", "refunded", "processed", "arranged", "sent",
	"booked", "scheduled", "escalated", "escalate", "reset", "cancelled", "canceled", "credited",
	"credit", "replacement", "engineer", "working days", "reference", "updated", "fixed",
	"resolved", "next step", "arrive", "delivered", "dispatched", "waived", "applied",
}

// closingCues mark the goodbyes, which are never the resolution.
var closingCues = []string{"anything else", "thank you for calling", "thanks for calling", "goodbye", "bye", "have a"}

// hasPhrase reports whether the token list contains a phrase as whole words.
func hasPhrase(words []string, phrase string) bool {
	p := strings.Fields(phrase)
	for i := 0; i+len(p) <= len(words); i++ {
		ok := true
		for k := range p {
			if words[i+k] != p[k] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func wordsOf(text string) []string {
	toks := tokens(text)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.text
	}
	return out
}

func anyPhrase(words []string, phrases []string) bool {
	for _, p := range phrases {
		if hasPhrase(words, p) {
			return true
		}
	}
	return false
}

// request picks the caller's line that says what they want: the first with
// at least three words beyond small talk, else the caller's longest line.
func request(tr transcript.Transcript) string {
	var longest string
	for _, s := range spoken(tr, transcript.Caller) {
		n := 0
		for _, w := range wordsOf(s.Text) {
			if !smallTalk[w] {
				n++
			}
		}
		if n >= 3 {
			return trimOpeners(s.Text)
		}
		if len(s.Text) > len(longest) {
			longest = s.Text
		}
	}
	return longest
}

// openers are dropped from the start of a request: "hi um i ordered..."
// reads better as "I ordered...".
var openers = map[string]bool{
	"hi": true, "hello": true, "hey": true, "um": true, "uh": true, "er": true, "erm": true,
	"yes": true, "yeah": true, "so": true, "well": true, "oh": true, "ok": true, "okay": true, "there": true,
}

func trimOpeners(text string) string {
	toks := tokens(text)
	i := 0
	for i < len(toks)-1 && openers[toks[i].text] {
		i++
	}
	if i == 0 {
		return text
	}
	return text[toks[i].start:]
}

// resolution picks the agent's last line that states an outcome or next
// step and is not a goodbye.
func resolution(tr transcript.Transcript) string {
	agent := spoken(tr, transcript.Agent)
	for i := len(agent) - 1; i >= 0; i-- {
		w := wordsOf(agent[i].Text)
		if anyPhrase(w, resolutionCues) && !(anyPhrase(w, closingCues) && len(w) < 8) {
			return agent[i].Text
		}
	}
	return ""
}

// summarize writes "Caller: <problem>. Agent: <what the agent did>.
// Outcome: …" from the transcript's own words, with card data masked.
func summarize(tr transcript.Transcript, opts DraftOptions, outcome string, follow []FollowUp) string {
	limit := opts.MaxSummary
	if limit <= 0 {
		limit = 240
	}
	req, res := request(tr), resolution(tr)
	var parts []string
	if req != "" {
		parts = append(parts, "Caller: "+sentence(Redact(req), limit))
	} else {
		parts = append(parts, "Caller said nothing recognisable.")
	}
	switch {
	case res != "":
		parts = append(parts, "Agent: "+sentence(Redact(res), limit))
	case len(spoken(tr, transcript.Agent)) == 0:
		parts = append(parts, "No agent took part.")
	default:
		parts = append(parts, "No resolution stated.")
	}
	switch {
	case outcome == OutcomeResolved:
		parts = append(parts, "Outcome: resolved on the call.")
	case len(follow) > 0 && len(spoken(tr, transcript.Agent)) > 0:
		steps := make([]string, 0, len(follow))
		for _, f := range follow {
			s := strings.TrimSuffix(f.Action, ".")
			if !f.Due.IsZero() {
				s += " (due " + f.Due.Format("Mon 2 Jan") + ")"
			}
			steps = append(steps, s)
		}
		parts = append(parts, "Outcome: follow-up needed. Next steps: "+strings.Join(steps, "; ")+".")
	default:
		parts = append(parts, "Outcome: follow-up needed.")
	}
	return strings.Join(parts, " ")
}

// sentence tidies a transcript line for a summary: trimmed, capitalised,
// cut at a word boundary to limit characters, ending in a full stop.
func sentence(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > limit {
		r := []rune(s)[:limit]
		cut := string(r)
		if i := strings.LastIndexByte(cut, ' '); i > limit/2 {
			cut = cut[:i]
		}
		s = strings.TrimRight(cut, " ,;:") + "…"
	}
	if r, n := utf8.DecodeRuneInString(s); n > 0 {
		s = string(unicode.ToUpper(r)) + s[n:]
	}
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "…") {
		s += "."
	}
	return s
}
