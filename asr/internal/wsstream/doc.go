// Package wsstream is the streaming half shared by the WebSocket
// recognisers (asr/vosk, asr/deepgram): one WebSocket per asr.Stream,
// binary 16 kHz PCM16 up, JSON events down. A Parser speaks the vendor's
// dialect; this package owns the connection, the bounded audio queue, the
// shared VAD (asr/vad, for SpeechStart barge-in cues the vendors do not
// send) and the failure rules:
//
//   - Write never blocks: a full queue drops audio and counts it.
//   - The server going away, a write failing, or a message that is not the
//     dialect ends the stream: Results closes before Close is called and
//     Err says why. The next stream dials afresh, which is the reconnect.
//   - Close sends the dialect's end-of-audio message and waits (bounded by
//     CloseTimeout) for the last results and the server's close.
package wsstream
