// Package media moves call audio: RTP and WebRTC legs, codecs, DTMF,
// playback, bridging and recording. Inside contactd all audio is 16 kHz mono
// signed 16-bit PCM in 20 ms frames; legs convert to and from their codec.
package media

import "time"

// Internal audio format.
const (
	SampleRate    = 16000
	FrameDuration = 20 * time.Millisecond
	FrameSamples  = SampleRate / 50 // 320
	// NarrowRate is G.711's rate. A G.711 leg's jitter buffer works at it,
	// and a leg asked for its native frames (RTPLeg.NativeFrames) delivers
	// 20 ms frames at it (NarrowFrameSamples long) instead of 16 kHz ones.
	NarrowRate         = 8000
	NarrowFrameSamples = NarrowRate / 50 // 160
)

// Codec is a negotiated RTP payload format.
type Codec struct {
	Name        string // "PCMU", "PCMA", "opus"
	PayloadType uint8
	ClockRate   int // RTP clock: 8000 for G.711, 48000 for Opus
	Channels    int
}

// Leg is one party's audio. Each leg paces its own output: WriteFrame queues a
// frame, and a per-leg 20 ms clock sends the next queued frame (or nothing
// when idle), so writers are paced by a short bounded queue.
type Leg interface {
	// Frames delivers decoded 20 ms frames from the far end. It is closed
	// when the leg closes. A slow reader loses frames (counted), never
	// blocks the network path. Each frame is the reader's; one it is done
	// with may go back to the pool with ReleaseFrame.
	Frames() <-chan []int16
	// DTMF delivers digits ('0'-'9', '*', '#', 'A'-'D') from the far end,
	// once per key press.
	DTMF() <-chan rune
	// WriteFrame queues one 20 ms frame (FrameSamples samples) for sending.
	// It blocks while the queue is full, so a player is paced in real time,
	// and returns an error once the leg is closed.
	WriteFrame(pcm []int16) error
	// Forward queues one frame without waiting, dropping the oldest queued
	// frame when the queue is full: for bridging live audio, where a
	// blocked writer would stall the other direction.
	Forward(pcm []int16) error
	// Flush drops queued outbound audio (barge-in).
	Flush()
	// Codec is what this leg speaks on the wire.
	Codec() Codec
	// Close stops the leg's goroutines and releases its sockets. Safe twice.
	Close() error
}
