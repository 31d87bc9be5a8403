// Package slots pulls values out of what a caller said: digit strings spoken
// as words ("five eight two one three", "double five", "oh"), order and
// account numbers, yes/no answers, money amounts and e-mail addresses.
//
// Recognisers return lower-case text without punctuation and often spell
// numbers as words, so every function here accepts both "58213" and
// "five eight two one three", tolerates fillers ("um", "uh") and never
// fails loudly: a value that is not there is reported with ok == false.
//
// The package imports nothing of ours so that both the IVR (live calls) and
// the ticket writer (finished transcripts) can use it without the ticket
// writer depending on the IVR's call flows.
package slots
