// Package vosk is the asr provider "vosk": a client of the vosk-server
// WebSocket protocol (alphacep/vosk-server asr_server.py), which
// sherpa-onnx's and several other streaming servers speak as well.
//
// Each stream is one WebSocket. The client sends
// {"config":{"sample_rate":16000}}, then binary messages of 16-bit
// little-endian mono PCM; the server answers every message with
// {"partial":"..."} or, at an endpoint it chose, {"result":[{"word",
// "start","end","conf"}...],"text":"..."} (times in seconds from the start
// of the audio). {"eof":1} asks for the last result, after which the
// server closes the connection. The server cuts utterances itself; the
// shared VAD (asr/vad) still runs locally, only for SpeechStart barge-in
// cues.
//
// A connection that fails mid-call ends its stream (Results closes before
// Close; Err says why; see asr.Failer); the next stream dials again.
//
// Options: url (default ws://127.0.0.1:2700), silence_ms (the local VAD's
// end of speech, default 600), close_timeout (default 5s).
package vosk
