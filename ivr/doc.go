// Package ivr answers calls before an agent does: it greets the caller,
// understands what they want and decides where the call goes.
//
// Understanding is local and needs no outside service. TrainClassifier
// learns the configured intents (the intents section of the config,
// e.g. config/demo.yaml) from their example phrasings at start-up, in a
// fraction of a second: a multinomial logistic regression over word
// unigrams, bigrams and character 4-grams. Its unknown threshold is chosen
// by cross-validation on those same examples, and text with no word the
// examples use is unknown outright. Asking for an agent, a human, a
// representative or an operator always gives the human intent. Eval scores
// a classifier on a held-out TSV file (contactd ivr-eval).
//
// Run is the call flow: greeting, an open question, classification, a
// reprompt, the keypad menu after MaxMisses, and a human whenever the caller
// presses 0 or asks for one. It runs on the call's owner goroutine, which
// implements Session.
//
// Slot values (order numbers said digit by digit, yes/no answers) come from
// the sub-package slots, which the ticket writer shares.
package ivr
