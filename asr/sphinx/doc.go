// Package sphinx is the embedded speech recogniser: CMU PocketSphinx
// (Debian's pocketsphinx 5prealpha with the pocketsphinx-en-us model)
// through cgo, registered as asr provider "sphinx". Importing it for its
// side effect makes the provider available; without cgo the package
// builds but registers nothing.
//
// Two choices come from measurements on this kind of machine
// (shared/notes/speech-measurements.md):
//
//   - A domain language model. At start-up the IVR's own phrases, plus
//     BaseSentences and sentences of spoken digits, become a trigram ARPA
//     model (interpolated Witten-Bell) and a dictionary holding only its
//     words, taken from the CMU dictionary. The general LM turns in-domain
//     requests into noise; the small one gets them right, and is faster.
//   - Whole-utterance decoding. A shared VAD (package asr/vad) cuts each
//     stream into utterances, and each is decoded in one pass, so cepstral
//     mean normalisation uses the utterance's own mean instead of the
//     model's wideband initial value. On 8 kHz telephone audio this alone
//     took the measured word error rate from 0.89 to 0.37.
//
// A decoder holds the acoustic model (tens of MB), so a Recognizer keeps a
// fixed pool of them (Options["decoders"], default one per CPU) shared by
// all streams through a bounded queue: a thousand calls need no thousand
// decoders, only enough CPU for the utterances they speak.
package sphinx
