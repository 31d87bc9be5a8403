package media

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// senderQueue is how many frames WriteFrame may run ahead of the wire:
// 60 ms, short enough that Flush (barge-in) is near-instant.
const senderQueue = 3

// sender is the send half shared by every leg kind: a bounded frame queue
// drained by a 20 ms clock that encodes, packetizes and hands packets to
// write (a UDP socket or a WebRTC track).
type sender struct {
	queue   chan []int16
	dtmfReq chan *dtmfJob
	// free recycles frame buffers (a sync.Pool of slices would allocate
	// a header on every Put).
	free    chan []int16
	stopped <-chan struct{} // closed when the leg closes
	stats   *counters
	log     *rateLimitedLog
	// held keeps queued audio (and writers) waiting while the transport is
	// not ready yet, e.g. a WebRTC leg before ICE/DTLS connect.
	held atomic.Bool

	// Set before run starts; owned by the run goroutine afterwards.
	codec   Codec
	enc     encoder
	dtmfPT  uint8
	hasDTMF bool
	write   func(*rtp.Packet) error

	pkt     rtp.Packet
	payload []byte
	ts      uint32 // RTP timestamp of the current tick
	idle    bool   // nothing was sent on the previous tick
	job     *dtmfJob
}

type dtmfJob struct {
	event   uint8
	ticks   int // event length in 20 ms ticks
	sent    int
	startTS uint32
	done    chan error
}

func newSender(stopped <-chan struct{}, stats *counters, log *rateLimitedLog) *sender {
	s := &sender{
		queue:   make(chan []int16, senderQueue),
		dtmfReq: make(chan *dtmfJob),
		stopped: stopped,
		stats:   stats,
		log:     log,
		idle:    true,
		payload: make([]byte, 0, 1500),
	}
	s.free = make(chan []int16, senderQueue+2)
	return s
}

// configure sets the wire format; call before run.
func (s *sender) configure(c Codec, enc encoder, dtmfPT uint8, hasDTMF bool, write func(*rtp.Packet) error) {
	s.codec, s.enc, s.dtmfPT, s.hasDTMF, s.write = c, enc, dtmfPT, hasDTMF, write
	s.pkt.Version = 2
	s.pkt.SSRC = rand.Uint32()
	s.pkt.SequenceNumber = uint16(rand.Uint32())
	s.ts = rand.Uint32()
}

// forward queues pcm without waiting: when the queue is full its oldest
// frame is dropped (and counted), so a bridge adds at most the queue's
// length of delay and never stalls on a peer whose clock runs slow.
func (s *sender) forward(pcm []int16) error {
	buf, err := s.copyFrame(pcm)
	if err != nil {
		return err
	}
	for {
		select {
		case s.queue <- buf:
			return nil
		default:
		}
		select {
		case old := <-s.queue:
			s.putBuf(old)
			s.stats.sendDropped.Add(1)
		default:
		}
	}
}

// writeFrame copies pcm into the queue, waiting while it is full.
func (s *sender) writeFrame(ctx context.Context, pcm []int16) error {
	buf, err := s.copyFrame(pcm)
	if err != nil {
		return err
	}
	select {
	case s.queue <- buf:
		return nil
	case <-s.stopped:
		s.putBuf(buf)
		return ErrClosed
	case <-ctx.Done():
		s.putBuf(buf)
		return ctx.Err()
	}
}

// copyFrame checks pcm and copies it into a queue buffer padded to a
// whole frame, so callers may reuse their slice.
func (s *sender) copyFrame(pcm []int16) ([]int16, error) {
	if len(pcm) > FrameSamples {
		return nil, fmt.Errorf("%w: %d samples", ErrFrameSize, len(pcm))
	}
	select {
	case <-s.stopped:
		return nil, ErrClosed
	default:
	}
	buf := s.getBuf()
	n := copy(buf, pcm)
	clear(buf[n:])
	return buf, nil
}

func (s *sender) getBuf() []int16 {
	select {
	case b := <-s.free:
		return b
	default:
		return make([]int16, FrameSamples)
	}
}

func (s *sender) putBuf(b []int16) {
	select {
	case s.free <- b:
	default:
	}
}

func (s *sender) flush() {
	for {
		select {
		case f := <-s.queue:
			s.putBuf(f)
		default:
			return
		}
	}
}

// sendDTMF queues an RFC 4733 event and waits until its last packet is out.
func (s *sender) sendDTMF(ctx context.Context, digit rune, d time.Duration) error {
	i := strings.IndexRune(dtmfEvents, digit)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrDTMFDigit, digit)
	}
	ticks := int(d / FrameDuration)
	if ticks < 2 {
		ticks = 2
	}
	// The duration field is 16 bits of RTP clock.
	if maxTicks := 0xFFFF / int(s.codec.frameTicks()); ticks > maxTicks {
		ticks = maxTicks
	}
	job := &dtmfJob{event: uint8(i), ticks: ticks, done: make(chan error, 1)}
	select {
	case s.dtmfReq <- job:
	case <-s.stopped:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-job.done:
		return err
	case <-s.stopped:
		return ErrClosed
	}
}

// run is the 20 ms clock; it returns when stop is closed. onTick (may be
// nil) runs on every tick after the send, with the RTP timestamp of the
// tick: the leg's playout and RTCP ride on the same clock.
func (s *sender) run(stop <-chan struct{}, onTick func(now time.Time, ts uint32)) {
	t := time.NewTicker(FrameDuration)
	defer t.Stop()
	for {
		select {
		case <-stop:
			if s.job != nil {
				s.job.done <- ErrClosed
			}
			return
		case now := <-t.C:
			s.tick()
			if onTick != nil {
				onTick(now, s.ts)
			}
			// The RTP clock runs on through silence so the receiver sees
			// the real gap.
			s.ts += s.codec.frameTicks()
		}
	}
}

func (s *sender) tick() {
	if s.held.Load() {
		s.idle = true
		return
	}
	if s.job == nil {
		select {
		case j := <-s.dtmfReq:
			j.startTS = s.ts
			s.job = j
		default:
		}
	}
	if s.job != nil {
		s.sendEvent()
		return
	}
	var frame []int16
	select {
	case frame = <-s.queue:
	default:
		s.idle = true
		return
	}
	var err error
	s.payload, err = s.enc.encode(s.payload[:0], frame)
	s.putBuf(frame)
	if err != nil {
		s.log.warn("media: encode failed", "codec", s.codec.Name, "err", err)
		return
	}
	s.send(s.codec.PayloadType, s.ts, s.idle)
	s.idle = false
}

// sendEvent sends the next packet of the current DTMF event: updates with a
// growing duration, then the end packet three times (RFC 4733 §2.5.1.4).
func (s *sender) sendEvent() {
	j := s.job
	n := j.sent + 1
	end := n >= j.ticks
	dur := uint32(min(n, j.ticks)) * s.codec.frameTicks()
	flags := byte(10) // volume -10 dBm0
	if end {
		flags |= 0x80
	}
	s.payload = append(s.payload[:0], j.event, flags, byte(dur>>8), byte(dur))
	s.send(s.dtmfPT, j.startTS, j.sent == 0)
	j.sent++
	if j.sent >= j.ticks+2 {
		j.done <- nil
		s.job = nil
		s.idle = true // next audio starts a new talkspurt
	}
}

func (s *sender) send(pt uint8, ts uint32, marker bool) {
	s.pkt.PayloadType = pt
	s.pkt.Timestamp = ts
	s.pkt.Marker = marker
	s.pkt.Payload = s.payload
	s.pkt.SequenceNumber++
	if err := s.write(&s.pkt); err != nil {
		s.log.warn("media: rtp write failed", "err", err)
		return
	}
	s.stats.packetsOut.Add(1)
	s.stats.bytesOut.Add(uint64(len(s.payload)))
}
