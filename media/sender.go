package media

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
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

	pkt     rtp.Packet // SequenceNumber is the last sent: guarded by wmu
	payload []byte
	ts      uint32 // RTP timestamp of the current tick
	idle    bool   // nothing was sent on the previous tick
	job     *dtmfJob
	// tail is how many frames of silence the clock still sends after the
	// last queued frame, so the far end's decoder plays silence instead of
	// concealing (continuing) a prompt that was just cut off.
	tail    int
	silence []int16

	// wmu orders everything sent on the leg's RTP stream: the clock's
	// packets and those a bridge relays into it (relay.go), which share
	// one SSRC, one sequence and one timeline.
	wmu sync.Mutex
	st  streamState // guarded by wmu
	// dtmfBusy is set while an RFC 4733 event of ours is on the wire:
	// relayed packets give way to it.
	dtmfBusy atomic.Bool
	// batch is set while the leg's packets are relayed: the clock may then
	// wake less often (run). kick wakes it when there is something to send.
	batch atomic.Bool
	// noPlayout: while batched, the leg plays nothing out either (RecordTo).
	noPlayout atomic.Bool
	kick      chan struct{}
	// quiet: the clock sent nothing on its last tick, so a frame written
	// now starts a talkspurt; startNow asks the clock to send it at once
	// rather than at its next tick (writeFrame).
	quiet, startNow atomic.Bool
}

// streamState is where the leg's outgoing stream stands, so that whoever
// sends next (the clock or a relay) continues it: the far end sees one
// stream, whatever was bridged to it and however often that changed.
type streamState struct {
	clock   int64  // RTP clock rate
	frame   uint32 // RTP ticks of one 20 ms frame
	relayed bool   // a relay sent last: the clock resyncs before it sends
	sent    bool
	lastTS  uint32 // RTP timestamp of the last packet sent
	// refTS is the stream's RTP time at refAt (unix ns): the clock's tick,
	// or the last relayed packet.
	refTS uint32
	refAt int64
	// The relay's mapping of its source's sequence and timestamps onto
	// this stream (relay.go).
	link   *relayLink
	inSSRC uint32
	maxIn  uint16 // highest source sequence number forwarded
	seqOff uint16
	tsOff  uint32
}

// nextTS is the timestamp for a packet sent at now that continues the
// stream: its RTP time by the wall clock, and at least one frame after the
// last packet.
func (st *streamState) nextTS(now int64) uint32 {
	d := max(now-st.refAt, 0) / 10_000 // 10 µs units: no overflow for years
	ts := st.refTS + uint32(d*st.clock/100_000)
	if st.sent && int32(ts-(st.lastTS+st.frame)) < 0 {
		ts = st.lastTS + st.frame
	}
	return ts
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
		dtmfReq: make(chan *dtmfJob, 1),
		kick:    make(chan struct{}, 1),
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
	s.wmu.Lock()
	s.st = streamState{clock: int64(c.ClockRate), frame: c.frameTicks(), refTS: s.ts, refAt: time.Now().UnixNano()}
	s.wmu.Unlock()
}

// resync continues the stream after relayed packets: the clock's
// timestamp jumps to where the relay left it plus the time since. It
// reports whether it did (the next packet starts a talkspurt).
func (s *sender) resync(now time.Time) bool {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if !s.st.relayed {
		return false
	}
	s.ts = s.st.nextTS(now.UnixNano())
	s.st.relayed, s.st.link = false, nil
	s.st.refTS, s.st.refAt = s.ts, now.UnixNano()
	return true
}

// clockAt notes the clock's tick: while the clock owns the stream its
// RTP time is the tick's.
func (s *sender) clockAt(now time.Time) {
	s.wmu.Lock()
	if !s.st.relayed {
		s.st.refTS, s.st.refAt = s.ts, now.UnixNano()
	}
	s.wmu.Unlock()
}

// rtpTime is the stream's RTP timestamp at now, for RTCP sender reports.
func (s *sender) rtpTime(now time.Time) uint32 {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	d := max(now.UnixNano()-s.st.refAt, 0) / 10_000
	return s.st.refTS + uint32(d*s.st.clock/100_000)
}

// forward queues pcm without waiting: when the queue is full its oldest
// frame is dropped (and counted), so a bridge adds at most the queue's
// length of delay and never stalls on a peer whose clock runs slow.
func (s *sender) forward(pcm []int16) error {
	buf, err := s.copyFrame(pcm)
	if err != nil {
		return err
	}
	if s.batch.Load() {
		defer s.kickNow()
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
	if s.batch.Load() {
		defer s.kickNow()
	} else if s.quiet.Load() {
		// A prompt after silence starts now, not up to 20 ms later.
		s.startNow.Store(true)
		defer s.kickNow()
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
	defer s.kickNow()
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
// nil) runs on every tick after the send, with the tick's time and RTP
// timestamp: the leg's playout and RTCP ride on the same clock.
//
// A ticker drops the ticks its receiver is too late for (the process
// starved of CPU, a GC pause). Those are run on the next wake-up instead
// (up to maxCatchUp of them), so a leg still sends and plays out 50 frames
// a second: otherwise every stall loses a frame and leaves the queues of a
// bridge one frame (20 ms) longer for the rest of the call.
//
// While the leg's packets are relayed (batch) and it has nothing of its
// own to send, the clock wakes every relayBatch instead and plays out the
// frames due since, each at its own tick time: the recording and the
// recogniser get them in small bursts, for a quarter of the wake-ups. A
// frame or key to send (kick) brings the 20 ms clock back at once.
func (s *sender) run(stop <-chan struct{}, onTick func(now time.Time, ts uint32)) {
	period := FrameDuration
	t := time.NewTicker(period)
	defer t.Stop()
	next := time.Now().Add(FrameDuration) // when the next tick to run is due
	for {
		var now time.Time
		select {
		case <-stop:
			if s.job != nil {
				s.job.done <- ErrClosed
			}
			return
		case now = <-t.C:
		case <-s.kick:
			now = time.Now()
			if s.startNow.Swap(false) && period == FrameDuration && s.idle && s.job == nil {
				// A talkspurt starts: the clock's phase moves to now.
				next = now
				t.Reset(period)
			}
		}
		batched := period != FrameDuration
		for n := 0; n < maxCatchUp && !next.After(now.Add(FrameDuration/2)); n++ {
			at := now
			if batched {
				at = next // played out as if at its own tick
			}
			s.clockAt(at)
			// A batch of playout sends at most once, on its last tick:
			// audio or a key that turned up meanwhile goes out paced.
			if last := n == maxCatchUp-1 || next.Add(FrameDuration).After(now.Add(FrameDuration/2)); !batched || last {
				s.tick(at)
			}
			if onTick != nil {
				onTick(at, s.ts)
			}
			// The RTP clock runs on through silence so the receiver
			// sees the real gap.
			s.ts += s.codec.frameTicks()
			next = next.Add(FrameDuration)
		}
		if now.Sub(next) > FrameDuration { // too far behind: start afresh
			next = now.Add(FrameDuration)
		}
		s.quiet.Store(s.idle)
		want := FrameDuration
		if s.batch.Load() && s.job == nil && len(s.queue) == 0 && len(s.dtmfReq) == 0 {
			want = relayBatch
			if s.noPlayout.Load() {
				want = idleBatch
			}
		}
		if want != period {
			period = want
			t.Reset(period)
		}
	}
}

// relayBatch is how often a relaying leg's clock wakes to play out the
// frames due since (four frames).
const relayBatch = 4 * FrameDuration

// idleBatch is how often the clock of a relaying leg with nothing to play
// out (RTPLeg.RecordTo) wakes: as many ticks as one wake plays.
const idleBatch = maxCatchUp * FrameDuration

// setIdle says the relaying leg plays nothing out: its clock may wake
// every idleBatch (see run).
func (s *sender) setIdle(on bool) {
	if s.noPlayout.Swap(on) != on {
		s.kickNow()
	}
}

// setBatch turns the batched playout clock on or off (see run).
func (s *sender) setBatch(on bool) {
	if s.batch.Swap(on) != on {
		s.kickNow()
	}
}

// kickNow wakes the clock to look at its period again.
func (s *sender) kickNow() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// maxCatchUp is how many missed ticks (200 ms) run at once after a stall.
const maxCatchUp = 10

func (s *sender) tick(now time.Time) {
	if s.held.Load() {
		s.idle = true
		return
	}
	if s.job == nil {
		select {
		case j := <-s.dtmfReq:
			s.dtmfBusy.Store(true)
			if s.resync(now) {
				s.idle = true
			}
			j.startTS = s.ts
			s.job = j
		default:
		}
	}
	if s.job != nil {
		s.sendEvent(now)
		return
	}
	var frame []int16
	silent := false
	select {
	case frame = <-s.queue:
		s.tail = silenceTail
	default:
		if s.tail == 0 || s.batch.Load() { // a relay carries the stream now
			s.tail = 0
			s.idle = true
			return
		}
		s.tail--
		if s.silence == nil {
			s.silence = make([]int16, FrameSamples)
		}
		frame, silent = s.silence, true
	}
	if s.resync(now) {
		s.idle = true // a new timeline: the far end's playout resyncs
	}
	var err error
	s.payload, err = s.enc.encode(s.payload[:0], frame)
	if !silent {
		s.putBuf(frame)
	}
	if err != nil {
		s.log.warn("media: encode failed", "codec", s.codec.Name, "err", err)
		return
	}
	s.send(s.codec.PayloadType, s.ts, s.idle, now)
	s.idle = false
}

// silenceTail is how many silent frames follow the end of queued audio
// (or a Flush, at barge-in): 60 ms, enough for a receiver's jitter buffer
// to play silence rather than conceal the cut-off prompt for 100 ms or
// more with its loss concealment.
const silenceTail = 3

// sendEvent sends the next packet of the current DTMF event: updates with a
// growing duration, then the end packet three times (RFC 4733 §2.5.1.4).
func (s *sender) sendEvent(now time.Time) {
	j := s.job
	n := j.sent + 1
	end := n >= j.ticks
	dur := uint32(min(n, j.ticks)) * s.codec.frameTicks()
	flags := byte(10) // volume -10 dBm0
	if end {
		flags |= 0x80
	}
	s.payload = append(s.payload[:0], j.event, flags, byte(dur>>8), byte(dur))
	s.send(s.dtmfPT, j.startTS, j.sent == 0, now)
	j.sent++
	if j.sent >= j.ticks+2 {
		j.done <- nil
		s.job = nil
		s.dtmfBusy.Store(false)
		s.idle = true // next audio starts a new talkspurt
	}
}

func (s *sender) send(pt uint8, ts uint32, marker bool, now time.Time) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.pkt.PayloadType = pt
	s.pkt.Timestamp = ts
	s.pkt.Marker = marker
	s.pkt.Payload = s.payload
	s.pkt.SequenceNumber++
	s.st.sent, s.st.lastTS = true, ts
	s.st.refTS, s.st.refAt = s.ts, now.UnixNano()
	s.st.relayed, s.st.link = false, nil // a relay maps afresh after this
	if err := s.write(&s.pkt); err != nil {
		s.log.warn("media: rtp write failed", "err", err)
		return
	}
	s.stats.packetsOut.Add(1)
	s.stats.bytesOut.Add(uint64(len(s.payload)))
}
