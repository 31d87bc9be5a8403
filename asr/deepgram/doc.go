// Package deepgram is the asr provider "deepgram": Deepgram's streaming
// API (wss://api.deepgram.com/v1/listen), one WebSocket per stream.
//
// The query asks for encoding=linear16, sample_rate=16000, channels=1,
// interim_results and endpointing; the key goes in the header
// "Authorization: Token <key>". Audio goes up as binary messages; the
// server sends {"type":"Results","channel":{"alternatives":[{"transcript",
// "confidence","words":[{"word","start","end","confidence"}]}]},
// "is_final","speech_final"}. Deepgram finalises long speech in pieces
// (is_final) and marks the end of an utterance with speech_final or an
// UtteranceEnd message; the pieces are joined into one asr.Final there, so
// the IVR hears whole answers. Interim results become asr.Partial.
// {"type":"KeepAlive"} is sent when no audio went out for a while (Deepgram
// closes idle streams after about 10 s), {"type":"CloseStream"} at Close.
// The shared VAD (asr/vad) runs locally for SpeechStart barge-in cues.
//
// A connection that fails mid-call ends its stream (Results closes before
// Close; Err says why; see asr.Failer); the next stream dials again.
//
// Options: api_key (default: env CONTACTD_DEEPGRAM_API_KEY; never logged),
// model (default nova-3), language (default en), endpointing (ms of
// silence, default 500), url (default wss://api.deepgram.com/v1/listen; for
// tests and self-hosted Deepgram), keepalive (default 5s), close_timeout
// (default 5s).
package deepgram
