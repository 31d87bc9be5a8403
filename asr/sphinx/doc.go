// Package sphinx is the embedded speech recogniser: CMU PocketSphinx
// (Debian's pocketsphinx 5prealpha with the pocketsphinx-en-us model)
// through cgo, registered as asr provider "sphinx". Importing it for its
// side effect makes the provider available; without cgo the package
// builds but registers nothing.
//
// These choices come from measurements on this kind of machine
// (shared/notes/speech-measurements.md):
//
//   - A domain language model. At start-up the IVR's own phrases and the
//     knowledge base's text, plus BaseSentences and sentences of spoken
//     digits, become a trigram ARPA model (interpolated Witten-Bell) and
//     a dictionary holding only its words, taken from the CMU dictionary. The general LM turns in-domain
//     requests into noise; the small one gets them right, and is faster.
//
//   - Whole-utterance decoding. A shared VAD (package asr/vad) cuts each
//     stream into utterances, and each is decoded in one pass, so cepstral
//     mean normalisation uses the utterance's own mean instead of the
//     model's wideband initial value. On 8 kHz telephone audio this alone
//     took the measured word error rate from 0.89 to 0.37.
//
//   - Results ready when the speaker stops. A Final can only come after
//     the end-of-speech silence; decoding starts earlier, at each pause of
//     speculate_ms (200 ms) while a decoder is idle, and a long utterance
//     is decoded in pieces (at least speculate_piece_ms, 2 s, each with
//     1 s of the audio before it for context) as it is spoken, so only
//     the audio after its last pause is left when it ends (specStream).
//
//   - Words ready at a pause. A consumer that ends a caller's turn by
//     meaning (the IVR) needs the words so far when the caller pauses, and
//     a decode that starts at the pause comes 100-300 ms later. So a
//     bounded set of live decoders (live_decoders, one per CPU per pool)
//     follows open utterances as their audio arrives, and at a pause of
//     live_pause_ms (150 ms) the live decoder's first-pass hypothesis is
//     an asr.Tentative at once. Block-by-block decoding can only use live
//     CMN, with a mean fixed before the utterance; the mean is therefore
//     measured on the utterance's first live_head_ms (1.5 s), which the
//     live decoder then catches up on: on the in-domain dev phrasings that
//     was within 0.01 WER of the whole-utterance decode (0.5 s: 0.02-0.05
//     worse). Finals still come from whole-utterance decodes.
//
//   - A narrowband model. Telephone audio (G.711 at 8 kHz, upsampled) has
//     nothing above 4 kHz, which the wideband model never saw. A second
//     pool of decoders applies an MLLR transform, NarrowbandMLLR (shipped in
//     model/, trained by deploy/asr/adapt-mllr.sh on the adaptation split
//     of the Asterisk prompts), and streams opened with
//     asr.StreamOptions.Narrowband go to it. One global transform adapts to
//     the channel rather than to the speaker, so it carries over to other
//     voices; on the held-out prompts it took the WER from 0.43 to 0.32
//     (domain LM) and from 0.73 to 0.49 (general LM).
//
//   - A blend with the general model. Callers use words the IVR's
//     phrases never did; the domain LM is interpolated with the general
//     en-us LM (weight 0.1) and the general LM's 20,000 most frequent words
//     join the vocabulary (options general_words, general_weight). On the
//     wideband dev set in flite voices it took WER from 0.31 to 0.11, on
//     the narrowband dev prompts from 0.34 to 0.27, for about twice the
//     decoding CPU. It is off by default for that CPU (general_words:
//     20000 turns it on).
//
//   - Pieces. Whole-utterance decoding makes the wait for a Final grow
//     with the utterance, and a hang-up that cuts off a talking agent
//     left a 10–14 s utterance to decode before the ticket could be
//     written (2.7–3.2 s with the blend, against a 2 s budget). A long
//     utterance is therefore decoded in pieces cut at the speaker's
//     pauses while it goes on (speculate_piece_ms, see specStream), and only the
//     audio since the last pause is left at its end: 0.2–0.4 s in
//     e2e/TestFirstCall.
//
// A decoder holds the acoustic model (tens of MB), so a Recognizer keeps a
// fixed pool of them (Options["decoders"], default one per CPU) shared by
// all streams through a bounded queue: a thousand calls need no thousand
// decoders, only enough CPU for the utterances they speak. The live
// decoders are a fixed set too: an utterance that finds none free gets
// its Tentative from the speculative decode, as before.
package sphinx
