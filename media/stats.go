package media

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// Stats counts a leg's traffic since it was created.
type Stats struct {
	PacketsIn      uint64 // RTP packets accepted (audio and DTMF)
	BytesIn        uint64 // RTP payload bytes accepted
	PacketsOut     uint64
	BytesOut       uint64
	PacketsIgnored uint64 // malformed, unexpected payload type, duplicate or late
	DecodeErrors   uint64 // payloads the codec rejected
	FramesDropped  uint64 // decoded frames lost because Frames() was full
	SendDropped    uint64 // outbound frames dropped by Forward to bound latency
	PacketsLate    uint64 // arrived after their playout time (jitter buffer)
	// FramesConcealed counts lost packets and jitter-buffer underruns
	// filled by concealment (Opus PLC/FEC, pitch repetition for G.711/G.722),
	// and frames added to grow the playout delay.
	FramesConcealed uint64
	FramesSkipped   uint64 // frames dropped to shrink the playout delay
	// SRTPDropped counts SRTP and SRTCP packets dropped because they
	// failed authentication, were replayed or could not be decrypted.
	SRTPDropped uint64
	// Relayed counts packets a relayed bridge forwarded out of this leg
	// (RelayTo on the other leg); they are in PacketsOut too.
	Relayed uint64
	// RelayDropped counts packets a relayed bridge did not forward here:
	// telephone-events this far end did not negotiate, packets while our
	// own RFC 4733 key was being sent, and packets too long to send.
	RelayDropped uint64
}

type counters struct {
	packetsIn, bytesIn, packetsOut, bytesOut atomic.Uint64
	ignored, decodeErrors, framesDropped     atomic.Uint64
	sendDropped                              atomic.Uint64
	late, concealed, skipped                 atomic.Uint64
	srtpDropped                              atomic.Uint64
	relayed, relayDropped                    atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		PacketsIn:      c.packetsIn.Load(),
		BytesIn:        c.bytesIn.Load(),
		PacketsOut:     c.packetsOut.Load(),
		BytesOut:       c.bytesOut.Load(),
		PacketsIgnored: c.ignored.Load(),
		DecodeErrors:   c.decodeErrors.Load(),
		FramesDropped:  c.framesDropped.Load(),
		SendDropped:    c.sendDropped.Load(),
		PacketsLate:    c.late.Load(),

		FramesConcealed: c.concealed.Load(),
		FramesSkipped:   c.skipped.Load(),
		SRTPDropped:     c.srtpDropped.Load(),
		Relayed:         c.relayed.Load(),
		RelayDropped:    c.relayDropped.Load(),
	}
}

// rateLimitedLog logs at most once per interval; per-packet paths use it so a
// flood of bad packets cannot flood the log.
type rateLimitedLog struct {
	log  *slog.Logger
	last atomic.Int64
}

const logInterval = 5 * time.Second

func (r *rateLimitedLog) warn(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := r.last.Load()
	if now-last < int64(logInterval) || !r.last.CompareAndSwap(last, now) {
		return
	}
	r.log.Warn(msg, args...)
}

func orDefaultLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
