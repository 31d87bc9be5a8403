// Package ivr answers calls before an agent does: it greets the caller,
// understands what they want, answers what it can and decides where the
// call goes.
//
// Understanding is local and needs no outside service. TrainClassifier
// learns the configured intents (the intents section of the config,
// e.g. config/demo.yaml) from their example phrasings at start-up, in a
// fraction of a second: a multinomial logistic regression over word
// unigrams, bigrams and character 4-grams. Its unknown threshold is chosen
// by cross-validation on those same examples, and text with no word the
// examples use is unknown outright. Asking for an agent, a human, a
// representative or an operator always gives the human intent. Eval scores
// a classifier on a held-out TSV file (contactd ivr-eval). TrainLanguages
// trains one classifier per language; ivr/llm asks an OpenAI-compatible
// chat endpoint instead and falls back to the embedded classifier. All of
// them are Understanders: intent, confidence, a candidate to confirm when
// unsure, and slot values (ExtractSlots, sub-package slots).
//
// A call flow is a graph of nodes in YAML (ParseFlow, LoadFlow; see
// config/flows/northwind.yaml): prompt, branch, ask (an open question, or
// one slot said or keyed), menu (keypad), answer (a knowledge-base passage
// from ivr/kb, then "did that answer your question?"), transfer (queue and
// priority) and hangup. Edges choose the next node by intent, slot
// presence, business hours and holidays in the flow's time zone, VIP
// callers, known customers and language. Validation names the file, line,
// node, field and why.
//
// Run interprets a flow on the call's owner goroutine, which implements
// Session. Without a flow it runs DefaultFlow: greeting, an open question,
// a reprompt, the keypad menu after MaxMisses, and a human whenever the
// caller presses 0 or asks for one. Low confidence asks for confirmation;
// misses, swearing and requests for an agent add up to frustration, which
// sends the caller to a person at raised priority. An Observer sees every
// node entered and left, for analytics; Decision says whether the call was
// transferred or ended in the IVR, and whether self-service contained it.
//
// Turn-taking: with a Session that is a TurnListener (the call, whose
// recogniser reports the utterance so far at each pause as an
// asr.Tentative), an open question ends the caller's turn by meaning, not
// only by silence. At a pause, words the embedded classifier puts in a
// routed intent at defaults.early_turn confidence (0.6), that the flow
// would act on without asking for a slot first, and whose last word does
// not dangle ("my", "the", "to", "and", "uh", ...) end the turn there.
// Complete words the flow would answer with a question rather than act on
// (out of scope, unsure, or an order question with no number said yet;
// at least two words beyond function words and fillers) end the
// utterance after a short silence (the call: 350 ms, against the
// recogniser's 600) unless the caller goes on (TurnShort,
// asr.PauseEnder). Words that dangle and are not understood wait a little
// more after the end of speech (the call: 400 ms) and are joined to what
// follows. early_turn off waits for the end-of-speech silence always.
// Yes/no questions end at the first yes or no.
package ivr
