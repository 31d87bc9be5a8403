// Package vad finds utterances in 16 kHz speech: an energy detector with an
// adaptive noise floor decides, 10 ms at a time, whether a frame is speech,
// and a Segmenter turns those decisions into events — SpeechStart as soon as
// speech is confirmed (a barge-in cue, about 80 ms after onset) and one
// Utterance with its audio (plus a short pre-roll) once the speaker has been
// silent for Config.SilenceEnd, or when the utterance reaches
// Config.MaxUtterance.
//
// Every recogniser that decodes whole utterances uses the same Segmenter,
// so "where does an utterance end" is decided once for all providers. The
// measurements in shared/notes/speech-measurements.md are why: decoding a
// VAD-cut utterance with utterance-level normalisation beats live decoding.
//
// The noise floor follows quiet frames quickly downwards and slowly
// upwards, and hardly moves during speech, so a long sentence does not
// raise it above the speaker. A stream that begins in the middle of speech
// is heard from its first pause on.
package vad
