package media

import (
	"github.com/pion/rtp"
)

// inbound is the receive half shared by every leg kind: payload-type check,
// duplicate/late drop, decode, reframing to 20 ms and RFC 4733 digits. It is
// used by a single reader goroutine.
type inbound struct {
	frames chan []int16
	dtmf   chan rune
	stats  *counters
	log    *rateLimitedLog

	pt      uint8
	dtmfPT  uint8
	hasDTMF bool
	dec     decoder

	pending   []int16 // decoded samples not yet making a whole frame
	lastSeq   uint16
	haveSeq   bool
	lastEvent uint32 // RTP timestamp of the last reported DTMF event
	haveEvent bool
}

func newInbound(buffer int, stats *counters, log *rateLimitedLog) *inbound {
	if buffer <= 0 {
		buffer = 50
	}
	return &inbound{
		frames:  make(chan []int16, buffer),
		dtmf:    make(chan rune, 16),
		stats:   stats,
		log:     log,
		pending: make([]int16, 0, 4*FrameSamples),
	}
}

func (in *inbound) configure(pt uint8, dec decoder, dtmfPT uint8, hasDTMF bool) {
	in.pt, in.dec, in.dtmfPT, in.hasDTMF = pt, dec, dtmfPT, hasDTMF
}

// handle processes one parsed packet. It never blocks.
func (in *inbound) handle(p *rtp.Packet) {
	isDTMF := in.hasDTMF && p.PayloadType == in.dtmfPT
	if p.PayloadType != in.pt && !isDTMF {
		in.stats.ignored.Add(1)
		return
	}
	// Drop duplicates and packets that arrive after newer ones; a large
	// backwards jump is a sender restart and is accepted.
	if in.haveSeq {
		d := int16(p.SequenceNumber - in.lastSeq)
		if d <= 0 && d > -1000 {
			in.stats.ignored.Add(1)
			return
		}
	}
	in.lastSeq, in.haveSeq = p.SequenceNumber, true
	in.stats.packetsIn.Add(1)
	in.stats.bytesIn.Add(uint64(len(p.Payload)))
	if isDTMF {
		in.handleEvent(p)
		return
	}
	var err error
	in.pending, err = in.dec.decode(in.pending, p.Payload)
	if err != nil {
		in.stats.decodeErrors.Add(1)
		in.log.warn("media: dropping undecodable rtp payload", "pt", p.PayloadType, "err", err)
	}
	for len(in.pending) >= FrameSamples {
		f := make([]int16, FrameSamples)
		copy(f, in.pending)
		n := copy(in.pending, in.pending[FrameSamples:])
		in.pending = in.pending[:n]
		select {
		case in.frames <- f:
		default:
			in.stats.framesDropped.Add(1)
		}
	}
}

// dtmfEvents maps RFC 4733 event codes 0-15 to digits.
const dtmfEvents = "0123456789*#ABCD"

func (in *inbound) handleEvent(p *rtp.Packet) {
	if len(p.Payload) < 4 || int(p.Payload[0]) >= len(dtmfEvents) {
		in.stats.ignored.Add(1)
		return
	}
	// Every packet of one event (updates and the repeated end packets)
	// carries the event's start timestamp: report the first one only.
	if in.haveEvent && p.Timestamp == in.lastEvent {
		return
	}
	in.lastEvent, in.haveEvent = p.Timestamp, true
	select {
	case in.dtmf <- rune(dtmfEvents[p.Payload[0]]):
	default:
		in.stats.framesDropped.Add(1)
	}
}

// close ends the channels; the reader must have stopped.
func (in *inbound) close() {
	close(in.frames)
	close(in.dtmf)
}
