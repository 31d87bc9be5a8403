package media

import (
	"math"
	"time"
)

// Jitter buffer bounds. The target playout delay follows the measured
// network jitter between these.
const (
	jbSlots        = 64 // packets buffered at most: 200 ms at 10 ms ptime plus reordering
	jbMinDelay     = 10 * time.Millisecond
	jbMaxDelay     = 200 * time.Millisecond
	jbInitialDelay = 40 * time.Millisecond
	jbMaxUnderrun  = 5    // concealed ticks with nothing buffered before the stream counts as stopped
	jbLateWindow   = 1000 // sequence numbers behind the playout point that count as late, not a restart
)

type jbState uint8

const (
	jbIdle    jbState = iota // no stream: nothing is played out
	jbPriming                // first packets of a talkspurt wait for the target delay
	jbPlaying                // one frame per tick, concealing what is missing
)

type jbSlot struct {
	seq     uint16
	full    bool
	event   bool  // a telephone-event packet: its tick is played as silence
	arrival int64 // unix ns
	excess  int64 // ns the packet came later than the fastest path
	payload []byte
}

// jitterBuffer reorders packets by sequence number and plays them out one
// 20 ms frame per clock tick, a target delay after the fastest path would
// have delivered them. The target follows the peak of recent delay
// variation; the playout point moves towards it by concealing a frame
// (delay grows) or skipping one (delay shrinks). A missing packet is
// concealed by the codec (Opus PLC/FEC) or by pitch repetition with fade.
// It is not safe for concurrent use (inbound locks it).
type jitterBuffer struct {
	clock int64 // RTP clock rate
	dec   decoder
	rate  int // the decoder's sample rate: what pending and next hold
	frame int // samples in 20 ms at rate
	stats *counters
	// minDelay is the smallest target delay: jbMinDelay, more while the
	// leg plays out in batches (setMinDelay).
	minDelay int64

	slots    [jbSlots]jbSlot
	n        int // full slots
	state    jbState
	haveNext bool
	nextSeq  uint16
	lowSeq   uint16 // lowest buffered while priming
	primeAt  int64
	underrun int

	// Delay estimation: rel is arrival minus media time; its sliding
	// minimum is the fastest path, and a packet's excess over it is jitter.
	haveRef     bool
	refArrival  int64
	refTS       uint32
	winMin      [2]int64
	winCount    int
	peak        int64 // held, then decaying, peak of excess, ns
	peakAge     int   // packets since the peak was set
	target      int64 // ns
	delay       int64 // smoothed playout delay of played packets, ns
	played      int
	sinceAdjust int

	pending []int16 // decoded samples not yet played
	lastDur int     // samples in the last packet
	plc     waveformPLC
}

func newJitterBuffer(stats *counters) *jitterBuffer {
	return &jitterBuffer{
		stats:    stats,
		minDelay: int64(jbMinDelay),
		target:   int64(jbInitialDelay),
		rate:     SampleRate,
		frame:    FrameSamples,
		pending:  make([]int16, 0, 8*FrameSamples),
		lastDur:  FrameSamples,
		plc:      newWaveformPLC(SampleRate),
	}
}

func (j *jitterBuffer) configure(clock int, dec decoder) {
	j.clock, j.dec = int64(clock), dec
	if dec != nil && dec.rate() != j.rate {
		j.rate = dec.rate()
		j.frame = j.rate / 50
		j.lastDur = j.frame
		j.plc = newWaveformPLC(j.rate)
	}
	j.reset()
}

// reset forgets the stream (new SSRC, sequence jump); counters stay.
func (j *jitterBuffer) reset() {
	for i := range j.slots {
		j.slots[i].full = false
	}
	j.n = 0
	j.state = jbIdle
	j.haveNext = false
	j.haveRef = false
	j.pending = j.pending[:0]
}

// setMinDelay sets the smallest target delay. Played out in batches of
// up to d' each at its own tick time, a buffer that holds at least that
// much has each frame's packet in hand when its tick is played.
func (j *jitterBuffer) setMinDelay(d time.Duration) {
	j.minDelay = min(int64(d), int64(jbMaxDelay))
	j.target = min(max(j.target, j.minDelay), int64(jbMaxDelay))
}

// Target is the current target playout delay.
func (j *jitterBuffer) targetDelay() time.Duration { return time.Duration(j.target) }

// put stores one packet. It reports false when the packet was dropped
// (late, duplicate or no room).
func (j *jitterBuffer) put(seq uint16, ts uint32, arrival int64, payload []byte, event bool) bool {
	// Late packets count most for the delay estimate: measure first.
	var excess int64
	if !event {
		excess = j.measure(ts, arrival)
	}
	if j.haveNext {
		d := int16(seq - j.nextSeq)
		switch {
		case d < 0 && d > -jbLateWindow:
			j.stats.late.Add(1)
			return false
		case d < 0 || d >= jbSlots:
			j.reset() // sender restart or a long outage
		}
	}
	if j.state == jbPriming {
		if d := int16(seq - j.lowSeq); d >= jbSlots || d <= -jbSlots {
			j.reset()
		}
	}
	s := &j.slots[seq%jbSlots]
	if s.full {
		j.stats.ignored.Add(1) // duplicate (or a collision while priming)
		return false
	}
	s.seq, s.full, s.event, s.arrival = seq, true, event, arrival
	s.payload = append(s.payload[:0], payload...)
	s.excess = excess
	j.n++
	switch j.state {
	case jbIdle:
		j.state, j.primeAt, j.lowSeq = jbPriming, arrival, seq
	case jbPriming:
		if int16(seq-j.lowSeq) < 0 {
			j.lowSeq = seq
		}
	}
	return true
}

// measure updates the delay estimate with one packet and returns its
// excess delay over the fastest recent path.
func (j *jitterBuffer) measure(ts uint32, arrival int64) int64 {
	if !j.haveRef || j.clock == 0 {
		j.haveRef, j.refArrival, j.refTS = true, arrival, ts
		j.winMin = [2]int64{0, 0}
		j.winCount = 0
		return 0
	}
	media := int64(int32(ts-j.refTS)) * int64(time.Second) / j.clock
	rel := arrival - j.refArrival - media
	// Two windows of 100 packets: the minimum is at most 4 s old, so
	// clock drift and route changes are followed.
	if j.winCount == 0 || rel < j.winMin[1] {
		j.winMin[1] = rel
	}
	if j.winCount++; j.winCount >= 100 {
		j.winMin[0], j.winCount = j.winMin[1], 0
	}
	base := min(j.winMin[0], j.winMin[1])
	excess := rel - base
	if excess < 0 {
		excess = 0
	}
	// Hold a peak for 5 s (so spikes that recur are covered), then let it
	// fade over a second or two.
	if excess >= j.peak {
		j.peak, j.peakAge = excess, 0
	} else if j.peakAge++; j.peakAge > 250 {
		j.peak -= j.peak / 64
		j.peak = max(j.peak, excess)
	}
	j.target = min(max(j.peak+int64(5*time.Millisecond), j.minDelay), int64(jbMaxDelay))
	return excess
}

// next plays out one frame at a clock tick; ok is false while nothing is
// playing. The frame is only valid until the next call.
func (j *jitterBuffer) next(now int64) (frame []int16, ok bool) {
	switch j.state {
	case jbIdle:
		return nil, false
	case jbPriming:
		if now-j.primeAt < j.target {
			return nil, false
		}
		j.state, j.nextSeq, j.haveNext, j.underrun = jbPlaying, j.lowSeq, true, 0
		j.pending = j.pending[:0]
		j.sinceAdjust = 0
	}
	j.sinceAdjust++
	adjust := j.played >= 8 && j.sinceAdjust >= 5
	if adjust && j.delay < j.target-int64(10*time.Millisecond) {
		// Too close to the edge: stretch by one concealed frame.
		j.concealInto(j.frame, nil)
		j.delay += int64(FrameDuration)
		j.sinceAdjust = 0
	} else if adjust && j.delay > j.target+int64(30*time.Millisecond) && j.n >= 2 {
		// Too much buffered: skip a frame's worth of audio.
		for len(j.pending) < 2*j.frame && j.pull(now) {
		}
		if len(j.pending) >= 2*j.frame {
			j.drop(j.frame)
			j.stats.skipped.Add(1)
			j.delay -= int64(FrameDuration)
			j.sinceAdjust = 0
		}
	}
	for len(j.pending) < j.frame && j.pull(now) {
	}
	if len(j.pending) < j.frame {
		// Nothing buffered: the network is late or the talkspurt ended.
		if j.underrun++; j.underrun > jbMaxUnderrun {
			j.state = jbIdle
			j.pending = j.pending[:0]
			return nil, false
		}
		j.concealInto(j.frame-len(j.pending), nil)
	}
	return j.pending[:j.frame], true
}

// consumed drops the frame next returned.
func (j *jitterBuffer) consumed() { j.drop(j.frame) }

func (j *jitterBuffer) drop(n int) {
	m := copy(j.pending, j.pending[n:])
	j.pending = j.pending[:m]
}

// pull decodes (or conceals) the packet at the playout point; false when
// nothing is buffered at all.
func (j *jitterBuffer) pull(now int64) bool {
	s := &j.slots[j.nextSeq%jbSlots]
	if s.full && s.seq == j.nextSeq {
		s.full = false
		j.n--
		j.nextSeq++
		j.underrun = 0
		d := now - s.arrival + s.excess
		if j.played == 0 {
			j.delay = d
		} else {
			j.delay += (d - j.delay) / 4
		}
		j.played++
		if s.event {
			j.pending = appendZeros(j.pending, j.lastDur)
			return true
		}
		before := len(j.pending)
		var err error
		j.pending, err = j.dec.decode(j.pending, s.payload)
		if err != nil || len(j.pending) == before {
			j.pending = j.pending[:before]
			if err != nil {
				j.stats.decodeErrors.Add(1)
			}
			j.concealInto(j.lastDur, nil)
			return true
		}
		if n := len(j.pending) - before; n <= 6*j.frame {
			j.lastDur = n
		}
		j.plc.record(j.pending[before:])
		return true
	}
	if j.n == 0 {
		return false
	}
	// Lost: a later packet is here. Opus can rebuild it from the next
	// packet's in-band FEC.
	var next []byte
	if ns := &j.slots[(j.nextSeq+1)%jbSlots]; ns.full && ns.seq == j.nextSeq+1 && !ns.event {
		next = ns.payload
	}
	j.nextSeq++
	j.concealInto(j.lastDur, next)
	return true
}

// concealer is a decoder with its own loss concealment (Opus).
type concealer interface {
	conceal(dst []int16, n int, next []byte) []int16
}

func (j *jitterBuffer) concealInto(n int, next []byte) {
	j.stats.concealed.Add(1)
	if c, ok := j.dec.(concealer); ok {
		j.pending = c.conceal(j.pending, n, next)
		return
	}
	j.pending = j.plc.conceal(j.pending, n)
}

func appendZeros(dst []int16, n int) []int16 {
	for range n {
		dst = append(dst, 0)
	}
	return dst
}

// waveformPLC conceals a loss in codecs without their own (G.711, G.722)
// the way G.711 Appendix I does: repeat the last pitch period, full level
// for 10 ms, then fading by a fifth every 10 ms to silence after 60 ms.
// It works at the decoder's rate (newWaveformPLC).
type waveformPLC struct {
	hist           []int16 // the last 30 ms
	window         int     // 10 ms
	minLag, maxLag int     // pitch range, 400 Hz to 66 Hz
	period         int
	pos            int
	lost           int // samples concealed in the current run
}

func newWaveformPLC(rate int) waveformPLC {
	return waveformPLC{
		hist:   make([]int16, rate*30/1000),
		window: rate / 100,
		minLag: rate / 400,
		maxLag: rate / 66,
	}
}

func (p *waveformPLC) record(s []int16) {
	p.lost = 0
	h := len(p.hist)
	if len(s) >= h {
		copy(p.hist, s[len(s)-h:])
		return
	}
	copy(p.hist, p.hist[len(s):])
	copy(p.hist[h-len(s):], s)
}

func (p *waveformPLC) conceal(dst []int16, n int) []int16 {
	if p.lost == 0 {
		p.period, p.pos = p.pitch(), 0
	}
	start := len(p.hist) - p.period
	w := p.window
	for range n {
		g := 1.0
		if p.lost > w {
			g = 1 - 0.2*float64(p.lost-w)/float64(w)
		}
		v := 0.0
		if g > 0 {
			v = g * float64(p.hist[start+p.pos])
		}
		dst = append(dst, int16(v))
		p.pos = (p.pos + 1) % p.period
		p.lost++
	}
	return dst
}

// pitch finds the lag (in samples) at which the recent history best
// repeats itself.
func (p *waveformPLC) pitch() int {
	h := p.hist
	n, w := len(h), p.window
	tail := h[n-w:]
	best, bestLag := -math.MaxFloat64, 2*w
	for lag := p.minLag; lag <= p.maxLag; lag++ {
		past := h[n-w-lag : n-lag]
		var xy, yy float64
		for i, x := range tail {
			y := float64(past[i])
			xy += float64(x) * y
			yy += y * y
		}
		if yy == 0 {
			continue
		}
		if c := xy / math.Sqrt(yy); c > best {
			best, bestLag = c, lag
		}
	}
	return bestLag
}
