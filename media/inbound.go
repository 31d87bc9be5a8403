package media

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// inbound is the receive half shared by every leg kind. The network reader
// calls handle: payload-type check, RFC 3550 receive statistics, RFC 4733
// digits, and the packet goes into the jitter buffer. The leg's 20 ms clock
// calls tick: the jitter buffer decodes or conceals one frame, in-band DTMF
// detection looks at it, and it is offered on Frames() without blocking.
type inbound struct {
	frames chan []int16
	dtmf   chan rune
	stats  *counters
	log    *rateLimitedLog

	lastPacket atomic.Int64 // unix ns of the last accepted RTP packet
	// native: Frames() carries frames at the decoder's rate (NativeFrames).
	native atomic.Bool

	mu         sync.Mutex
	configured bool
	pt         uint8
	dtmfPT     uint8
	hasDTMF    bool
	jb         *jitterBuffer
	rx         rxStats
	inband     *dtmfDetector
	up         upsampler // a narrowband decoder's frames to 16 kHz
	lastEvent  uint32    // RTP timestamp of the last reported DTMF event
	haveEvent  bool
	// direct, when set, takes the audio as it arrives in place of the
	// jitter buffer and the clock (RTPLeg.RecordTo).
	direct *directRec
}

// directRec keeps a relayed G.711 leg's recording from its packets as
// they arrive: their bytes as they are (no decoding), with silence for
// lost packets and for gaps in the sender's timeline (silence
// suppression), late and repeated packets left out. Its timeline is the
// packets' timestamps, so what a recording of the jitter buffer's playout
// would delay or conceal is in place here at once: the recorder keeps the
// two channels together.
type directRec struct {
	sink    func(g711 []byte, alaw bool)
	law     wavLaw // lawUlaw or lawAlaw
	started bool
	nextTS  uint32 // timestamp the next packet should carry
	pend    []byte // taken, for flushDirect to hand over once the packet is forwarded
}

// directMaxGap is the most silence a gap in the timeline puts in the
// recording (the recorder pads a channel left further behind itself).
const directMaxGap = 200 * time.Millisecond

// take keeps one audio packet's samples in pend (after silence for a
// gap); false when it is late or a repeat. G.711 is one byte per sample
// of its 8 kHz clock.
func (d *directRec) take(ts uint32, payload []byte) bool {
	if d.started {
		gap := int32(ts - d.nextTS)
		if gap < 0 && gap > -NarrowRate {
			return false // late or repeated (a jump back of a second or more is a new timeline)
		}
		if gap > 0 {
			d.pend = d.law.silence(d.pend, min(int(gap), NarrowRate*int(directMaxGap/time.Millisecond)/1000))
		}
	}
	d.started, d.nextTS = true, ts+uint32(len(payload))
	d.pend = append(d.pend, payload...)
	return true
}

// flushDirect hands what take kept to the sink. The reader calls it after
// forwarding the packet.
func (in *inbound) flushDirect() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if d := in.direct; d != nil && len(d.pend) > 0 {
		d.sink(d.pend, d.law == lawAlaw)
		d.pend = d.pend[:0]
	}
}

// directOn reports whether the audio is taken as it arrives.
func (in *inbound) directOn() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.direct != nil
}

// setDirect starts (sink non-nil, for G.711 in law) or stops taking the
// audio as it arrives. The jitter buffer starts afresh either way.
func (in *inbound) setDirect(sink func([]byte, bool), law wavLaw) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.jb.reset()
	if sink == nil {
		in.direct = nil
		return
	}
	in.direct = &directRec{sink: sink, law: law}
}

func newInbound(buffer int, stats *counters, log *rateLimitedLog) *inbound {
	if buffer <= 0 {
		buffer = 50
	}
	return &inbound{
		frames: make(chan []int16, buffer),
		dtmf:   make(chan rune, 16),
		stats:  stats,
		log:    log,
		jb:     newJitterBuffer(stats),
	}
}

// configure sets the negotiated formats; inband turns on Goertzel DTMF
// detection over the decoded audio.
func (in *inbound) configure(c Codec, pt uint8, dec decoder, dtmfPT uint8, hasDTMF, inband bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.pt, in.dtmfPT, in.hasDTMF = pt, dtmfPT, hasDTMF
	in.jb.configure(c.ClockRate, dec)
	in.rx.clock = int64(c.ClockRate)
	if inband {
		in.inband = &dtmfDetector{}
	}
	in.configured = true
}

// handle takes one parsed packet that arrived at now. It never blocks on
// the consumer and does not decode (tick does). It reports the packet's
// kind: pktAudio or pktEvent when its payload type was negotiated and its
// payload is sound (even if the jitter buffer had no use for it, late or
// duplicate), pktBad otherwise.
func (in *inbound) handle(p *rtp.Packet, now time.Time) pktKind {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.configured {
		in.stats.ignored.Add(1)
		return pktBad
	}
	isDTMF := in.hasDTMF && p.PayloadType == in.dtmfPT
	if p.PayloadType != in.pt && !isDTMF {
		in.stats.ignored.Add(1)
		return pktBad
	}
	if isDTMF && (len(p.Payload) < 4 || int(p.Payload[0]) >= len(dtmfEvents)) ||
		!isDTMF && len(p.Payload) == 0 {
		in.stats.ignored.Add(1)
		return pktBad
	}
	kind := pktAudio
	if isDTMF {
		kind = pktEvent
	}
	ns := now.UnixNano()
	if in.rx.update(p.SSRC, p.SequenceNumber, p.Timestamp, ns, isDTMF) {
		in.jb.reset() // a new source
		if in.direct != nil {
			in.direct.started = false // its own timeline
		}
	}
	if d := in.direct; d != nil {
		if !isDTMF && !d.take(p.Timestamp, p.Payload) {
			return kind
		}
	} else if !in.jb.put(p.SequenceNumber, p.Timestamp, ns, p.Payload, isDTMF) {
		return kind
	}
	in.lastPacket.Store(ns)
	in.stats.packetsIn.Add(1)
	in.stats.bytesIn.Add(uint64(len(p.Payload)))
	if isDTMF {
		in.handleEvent(p)
	}
	return kind
}

// pktKind is what inbound.handle made of a packet.
type pktKind uint8

const (
	pktBad pktKind = iota
	pktAudio
	pktEvent
)

// dtmfEvents maps RFC 4733 event codes 0-15 to digits.
const dtmfEvents = "0123456789*#ABCD"

func (in *inbound) handleEvent(p *rtp.Packet) {
	// Every packet of one event (updates and the repeated end packets)
	// carries the event's start timestamp: report the first one only.
	if in.haveEvent && p.Timestamp == in.lastEvent {
		return
	}
	in.lastEvent, in.haveEvent = p.Timestamp, true
	in.digit(rune(dtmfEvents[p.Payload[0]]))
}

func (in *inbound) digit(r rune) {
	select {
	case in.dtmf <- r:
	default:
		in.stats.framesDropped.Add(1)
	}
}

// tick plays out one frame; the leg's 20 ms clock calls it.
func (in *inbound) tick(now time.Time) {
	in.mu.Lock()
	if !in.configured || in.direct != nil {
		in.mu.Unlock()
		return
	}
	pcm, ok := in.jb.next(now.UnixNano())
	if !ok {
		in.mu.Unlock()
		return
	}
	// The frame is handed over to the consumer, so it must be its own
	// (from the pool: see ReleaseFrame).
	var f []int16
	switch {
	case len(pcm) == FrameSamples:
		f = newFrame(FrameSamples)
		copy(f, pcm)
	case in.native.Load() && in.inband == nil && len(pcm) <= FrameSamples:
		// As decoded: nothing upsampled for a consumer that does not
		// need it (a relayed G.711 call's recording).
		f = newFrame(len(pcm))
		copy(f, pcm)
	default:
		f = in.up.process(newFrame(0), pcm)
	}
	in.jb.consumed()
	if in.inband != nil {
		in.inband.process(f, in.digit)
	}
	in.mu.Unlock()
	select {
	case in.frames <- f:
	default:
		in.stats.framesDropped.Add(1)
		ReleaseFrame(f)
	}
}

// setBatched prepares the jitter buffer for playout in batches of
// relayBatch (on) or for the 20 ms clock (off).
func (in *inbound) setBatched(on bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if on {
		in.jb.setMinDelay(relayBatch + FrameDuration)
	} else {
		in.jb.setMinDelay(jbMinDelay)
	}
}

// snapshot returns the receive statistics and the current target playout
// delay.
func (in *inbound) snapshot() (rxStats, time.Duration) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rx, in.jb.targetDelay()
}

// reportBlock is snapshot for an RTCP report: it also starts a new
// reporting interval for the fraction-lost field.
func (in *inbound) reportBlock() (rx rxStats, fraction uint8) {
	in.mu.Lock()
	defer in.mu.Unlock()
	fraction = in.rx.fractionLost()
	return in.rx, fraction
}

// close ends the channels; the reader and the clock must have stopped.
func (in *inbound) close() {
	close(in.frames)
	close(in.dtmf)
}

// rxStats is the RFC 3550 appendix A.1/A.8 receive state for one source.
type rxStats struct {
	clock    int64
	ssrc     uint32
	started  bool
	maxSeq   uint16
	cycles   uint32
	baseSeq  uint32
	received uint32
	// For the fraction lost of the next report.
	expectedPrior, receivedPrior uint32
	transit                      int64   // RTP units
	jitter                       float64 // RTP units
	haveTransit                  bool
	t0                           int64 // arrival of the first packet, ns
}

// update records one packet; it reports true when the source changed.
func (r *rxStats) update(ssrc uint32, seq uint16, ts uint32, arrival int64, event bool) bool {
	changed := r.started && ssrc != r.ssrc
	if !r.started || changed {
		*r = rxStats{clock: r.clock, ssrc: ssrc, started: true, maxSeq: seq, baseSeq: uint32(seq), t0: arrival}
	} else if d := int16(seq - uint16(r.baseSeq)); r.cycles == 0 && d < 0 && d > -100 && seq < uint16(r.baseSeq) && r.received < 100 {
		// Reordered ahead of the first packet seen: it starts the stream.
		r.baseSeq = uint32(seq)
	} else if d := seq - r.maxSeq; d < 3000 {
		if seq < r.maxSeq {
			r.cycles += 1 << 16
		}
		r.maxSeq = seq
	} else if d <= 65536-100 {
		// A big jump: the sender restarted its sequence.
		*r = rxStats{clock: r.clock, ssrc: ssrc, started: true, maxSeq: seq, baseSeq: uint32(seq), t0: arrival}
		changed = true
	}
	r.received++
	if !event && r.clock > 0 {
		// Interarrival jitter, RFC 3550 §6.4.1, in RTP units.
		t := (arrival-r.t0)*r.clock/int64(time.Second) - int64(ts)
		if r.haveTransit {
			d := t - r.transit
			// ts wraps every 2^32 ticks; a huge d is a wrap, not jitter.
			if d > 1<<31 || d < -(1<<31) {
				d = 0
			}
			if d < 0 {
				d = -d
			}
			r.jitter += (float64(d) - r.jitter) / 16
		}
		r.transit, r.haveTransit = t, true
	}
	return changed
}

func (r *rxStats) extMax() uint32 { return r.cycles + uint32(r.maxSeq) }

func (r *rxStats) expected() uint32 {
	if !r.started {
		return 0
	}
	return r.extMax() - r.baseSeq + 1
}

// lost is the cumulative number of packets lost (negative with duplicates).
func (r *rxStats) lost() int64 { return int64(r.expected()) - int64(r.received) }

func (r *rxStats) fractionLost() uint8 {
	exp := r.expected()
	expInt := exp - r.expectedPrior
	recInt := r.received - r.receivedPrior
	r.expectedPrior, r.receivedPrior = exp, r.received
	if expInt == 0 || recInt >= expInt {
		return 0
	}
	return uint8((expInt - recInt) << 8 / expInt)
}

func (r *rxStats) jitterDuration() time.Duration {
	if r.clock == 0 {
		return 0
	}
	return time.Duration(r.jitter * float64(time.Second) / float64(r.clock))
}
