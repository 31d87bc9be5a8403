package ivr

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/contactd/contactd/ivr/slots"
)

// Turn is what the flow makes of the caller's words so far, for a Session
// that can end the caller's turn by meaning (TurnListener).
type Turn int

const (
	// TurnOpen: not clearly a whole request: wait for the end-of-speech
	// silence, as Listen does.
	TurnOpen Turn = iota
	// TurnWhole: a request the flow would act on at once (a confident
	// intent, nothing more to ask for, no dangling last word): the turn
	// may end at this pause.
	TurnWhole
	// TurnCut: the words stop mid-phrase ("a question about my"): even
	// after the end-of-speech silence the caller is likely to go on, so
	// wait a little longer for the rest.
	TurnCut
	// TurnShort: a complete phrase the flow would not act on at once (out
	// of scope, unsure, or an intent whose slot it would ask for, with no
	// number said yet): its answer is a reprompt, a confirmation or a
	// question, which need not wait the whole end-of-speech silence. The
	// turn ends if the pause lasts a short silence (call: 350 ms against
	// 600), unless the caller goes on.
	TurnShort
)

// String names the verdict for logs and tests.
func (t Turn) String() string {
	switch t {
	case TurnOpen:
		return "open"
	case TurnWhole:
		return "whole"
	case TurnCut:
		return "cut"
	case TurnShort:
		return "short"
	}
	return "Turn(?)"
}

// TurnListener is a Session whose recogniser reports the utterance so far
// when the caller pauses (asr.Tentative). ListenTurn is Listen, except
// that judge is asked about the words at each pause and after each
// utterance: TurnWhole at a pause ends the turn there (Input.Early),
// TurnShort at a pause ends the utterance after a short silence if the
// caller says nothing more (its Final is the input, as usual), and
// TurnCut after an utterance waits a little longer for more, which is
// joined to it. A Session without tentatives judges only whole utterances.
type TurnListener interface {
	ListenTurn(ctx context.Context, timeout time.Duration, judge func(text string) Turn) (Input, error)
}

// Embedder is an Understander with a cheap local model behind it (the LLM
// client's embedded fallback): the flow judges the words at each pause
// with that one, and asks the Understander itself only once the turn has
// ended.
type Embedder interface {
	Embedded() Understander
}

// defaultEarlyTurn is the least confidence at which an intent ends the
// caller's turn at a pause. On the demo intents and the dev half of the
// held-out phrasings (ivr/testdata/eval.tsv), every prefix of a phrasing
// whose intent reached 0.6 without a dangling last word had the
// phrasing's intent (34 prefixes and 24 of 38 whole phrasings).
const defaultEarlyTurn = 0.6

// earlyTurn is the flow's bar for ending a turn at a pause; above 1: never.
func (r *runner) earlyTurn() float64 {
	if t := r.f.Defaults.EarlyTurn; t > 0 {
		return float64(t)
	}
	return max(defaultEarlyTurn, r.f.Defaults.ConfirmBelow+0.15)
}

// continuation are words a request does not end on: after them the caller
// is still talking, whatever the pause says.
var continuation = map[string]map[string]bool{
	"en": setOf("a", "an", "the", "my", "your", "our", "their", "his", "her", "its", "this", "that", "these", "those",
		"to", "of", "for", "about", "with", "in", "on", "at", "from", "by", "into", "and", "or", "but", "so", "because",
		"is", "are", "was", "were", "be", "been", "am", "has", "have", "had", "do", "does", "did", "can", "could",
		"would", "will", "should", "want", "wanted", "need", "like", "get", "got", "just", "not", "dont", "didnt",
		"cant", "what", "why", "how", "when", "where", "which", "who", "i", "im", "ive", "id", "its", "uh", "um",
		"er", "erm", "hmm", "well", "like", "some", "any", "if", "than", "then", "number"),
	"es": setOf("a", "al", "el", "la", "los", "las", "un", "una", "unos", "unas", "mi", "mis", "su", "sus", "tu",
		"de", "del", "que", "y", "e", "o", "u", "pero", "para", "por", "con", "en", "sin", "sobre", "es", "está",
		"son", "me", "se", "lo", "le", "eh", "este", "esta", "quiero", "necesito", "número"),
}

func setOf(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// dangles reports whether text ends on a word requests do not end on.
func dangles(text, lang string) bool {
	ws := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '’')
	})
	if len(ws) == 0 {
		return false
	}
	last := strings.NewReplacer("'", "", "’", "").Replace(ws[len(ws)-1])
	set, ok := continuation[lang]
	if !ok {
		set = continuation["en"]
	}
	return set[last]
}

// judgeIntent judges the words so far of an answer to intent question n:
// whole when the caller asks for a person, or when the (embedded) NLU
// finds an intent at the flow's early-turn confidence that the flow would
// act on without asking for a slot first, and the last word does not
// dangle; cut when it dangles and the words are not understood well
// enough to act on (a recogniser's error often ends on "the" or "on": a
// confident intent is then taken at the end of speech, not waited on);
// short when the last word does not dangle and the flow would answer with
// a question: a confident intent whose slot it would ask for, with no
// number said yet (one being said may go on: "five eight [pause] two"),
// or words it would reprompt or confirm (unknown, unsure, unrouted) that
// say something (two words or more beyond function words and fillers:
// "well you see" is not a request yet). With early_turn off, the turn
// never ends before the end-of-speech silence: no whole, no short.
func (r *runner) judgeIntent(n *Node) func(string) Turn {
	nlu := r.nlu
	if e, ok := nlu.(Embedder); ok && e.Embedded() != nil {
		nlu = e.Embedded()
	}
	return func(text string) Turn {
		text = strings.TrimSpace(text)
		if text == "" {
			return TurnOpen
		}
		dangling := dangles(text, r.lang)
		if wantsHuman(tokenize(text)) {
			if dangling {
				return TurnOpen
			}
			return TurnWhole
		}
		var u Understanding
		var err error = errNoNLU
		if nlu != nil {
			u, err = nlu.Understand(r.ctx, text, r.lang)
		}
		confident := err == nil && u.Intent != "" && u.Intent != Unknown && u.Confidence >= r.earlyTurn()
		if confident && u.Intent != r.cfg.humanIntent() {
			if _, routed := r.cfg.route(u.Intent); !routed && r.cfg.Graph == nil {
				confident = false // not acted on: reprompted
			}
		}
		off := r.earlyTurn() > 1 // early_turn: off waits for the silence
		switch {
		case confident && u.Intent != r.cfg.humanIntent() && r.wouldAskSlot(n, u):
			// The caller may be saying the slot: at least let them start.
			if off || dangling || slots.ParseDigits(text) != "" {
				return TurnOpen
			}
			return TurnShort
		case confident && dangling:
			return TurnOpen
		case confident:
			return TurnWhole
		case dangling:
			return TurnCut
		case !off && err == nil && says(text, r.lang):
			return TurnShort
		}
		return TurnOpen
	}
}

// errNoNLU stands for an answer from a flow without an Understander.
var errNoNLU = errors.New("ivr: no understander")

// fillers are words that, with the continuation words, do not make a
// request on their own ("well you see", "hello yes").
var fillers = map[string]map[string]bool{
	"en": setOf("you", "see", "know", "mean", "hello", "hi", "hey", "yes", "yeah", "yep", "no", "okay", "ok", "right",
		"actually", "basically", "sorry", "please", "thanks", "thank", "me", "it", "calling", "call", "ah", "oh",
		"mm", "hm", "thing", "something", "there", "here", "good", "morning", "afternoon", "evening", "question"),
	"es": setOf("hola", "sí", "si", "bueno", "pues", "vale", "gracias", "mire", "oiga", "buenos", "buenas", "días",
		"tardes", "noches", "favor", "llamo", "algo", "cosa", "pregunta"),
}

// says reports whether text has two words or more that are neither
// continuation words nor fillers.
func says(text, lang string) bool {
	cont, ok := continuation[lang]
	if !ok {
		cont = continuation["en"]
	}
	fill, ok := fillers[lang]
	if !ok {
		fill = fillers["en"]
	}
	n := 0
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '’')
	}) {
		w = strings.NewReplacer("'", "", "’", "").Replace(w)
		if !cont[w] && !fill[w] {
			n++
		}
	}
	return n >= 2
}

// wouldAskSlot reports whether, with intent u and its slots, node n's next
// edge is one for a missing slot (the flow would go on to ask for it).
func (r *runner) wouldAskSlot(n *Node, u Understanding) bool {
	saved, savedSlots := r.d.Intent, r.slots
	r.d.Intent = u.Intent
	r.slots = make(map[string]string, len(savedSlots)+len(u.Slots))
	for k, v := range savedSlots {
		r.slots[k] = v
	}
	for k, v := range u.Slots {
		if _, ok := r.slots[k]; !ok {
			r.slots[k] = v
		}
	}
	defer func() { r.d.Intent, r.slots = saved, savedSlots }()
	for _, e := range n.Next {
		if r.holds(e) {
			return e.Missing != ""
		}
	}
	return false
}

// judgeYesNo judges the words so far of an answer to a yes/no question:
// whole once they say yes or no.
func (r *runner) judgeYesNo(text string) Turn {
	if dangles(text, r.lang) {
		return TurnCut
	}
	if _, ok := yesNo(text, r.lang); ok {
		return TurnWhole
	}
	return TurnOpen
}
