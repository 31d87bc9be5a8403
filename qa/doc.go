// Package qa scores calls against scorecards from their transcripts and
// keeps what QA staff do with the scores.
//
// A Scorecard is data (it comes from the config): items with a key, label,
// weight, type (automatic or manual) and an auto-fail flag, each judged by a
// detector Kind. The rule detectors work on the speaker-labelled transcript
// only, so live and imported calls are scored alike: greeting with a name
// within the first seconds, verification before account details, empathy
// when the caller is negative, prohibited and dismissive language, resolution
// and next steps, closing (offer of further help, then thanks), dead air,
// hold etiquette, over-talk, talk ratio and the caller's sentiment from
// start to end. Every item carries its evidence: the utterances and times it
// was judged on, and in each the words (Highlights: a phrase said, a name
// given) that decided it, which the review desk marks (highlight.go).
//
// LLM judges the same items with an OpenAI-compatible chat endpoint (JSON
// schema response format) and falls back to the rules on any error.
//
// Reviews change an evaluation after the fact: an Override replaces one
// item's result with a comment (Evaluation.Apply recomputes the effective
// score), an Ack records the agent's acknowledgement or dispute, and
// Calibrations (several reviewers judging one call) give an Agreement.
package qa
