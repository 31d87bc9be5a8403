package media

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// impairedSender plays a tone to dst as RTP over loopback UDP the way a bad
// network delivers it: some packets dropped, each delayed by a random
// jitter (which reorders them), sent on their own schedule.
type impairment struct {
	loss     float64       // fraction dropped
	jitter   time.Duration // each packet delayed uniformly in [0, jitter)
	packets  int
	seed     uint64
	stopSend int // packets sent before the sender goes quiet (0: all)
}

func sendImpaired(t *testing.T, dst *net.UDPAddr, c Codec, pcm []int16, imp impairment) (dropped int) {
	t.Helper()
	enc, err := newEncoder(c)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialUDP("udp", nil, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rng := rand.New(rand.NewPCG(imp.seed, 7))
	type sched struct {
		at  time.Duration
		buf []byte
	}
	var plan []sched
	for i := 0; i < imp.packets; i++ {
		payload, err := enc.encode(nil, pcm[i*FrameSamples:(i+1)*FrameSamples])
		if err != nil {
			t.Fatal(err)
		}
		if i > 2 && i < imp.packets-1 && rng.Float64() < imp.loss {
			dropped++
			continue
		}
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: c.PayloadType, SequenceNumber: uint16(60000 + i),
			Timestamp: uint32(i) * c.frameTicks(), SSRC: 42, Marker: i == 0}, Payload: payload}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		at := time.Duration(i) * FrameDuration
		if imp.jitter > 0 {
			at += time.Duration(rng.Int64N(int64(imp.jitter)))
		}
		plan = append(plan, sched{at, b})
	}
	slices.SortStableFunc(plan, func(a, b sched) int { return int(a.at - b.at) })
	start := time.Now()
	for _, s := range plan {
		// The test sender is the network: waiting is its job.
		time.Sleep(time.Until(start.Add(s.at)))
		if _, err := conn.Write(s.buf); err != nil {
			t.Fatal(err)
		}
	}
	return dropped
}

func energy(pcm []int16) float64 {
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	return e / float64(len(pcm))
}

func TestJitterBufferImpairedNetwork(t *testing.T) {
	tests := []struct {
		name  string
		codec Codec
		imp   impairment
	}{
		{"PCMU clean", PCMU, impairment{packets: 100, seed: 1}},
		{"PCMU 5% loss 40ms jitter", PCMU, impairment{loss: 0.05, jitter: 40 * time.Millisecond, packets: 150, seed: 2}},
		{"G722 5% loss 40ms jitter", G722, impairment{loss: 0.05, jitter: 40 * time.Millisecond, packets: 150, seed: 3}},
		{"opus 5% loss 40ms jitter", Opus, impairment{loss: 0.05, jitter: 40 * time.Millisecond, packets: 150, seed: 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			leg, err := NewRTPLeg(RTPConfig{IP: net.IPv4(127, 0, 0, 1), FrameBuffer: 400})
			if err != nil {
				t.Fatal(err)
			}
			defer leg.Close()
			// Nothing is sent back: the remote is a black hole.
			if err := leg.Start(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, tc.codec, 0); err != nil {
				t.Fatal(err)
			}
			tone := Tone(440, time.Duration(tc.imp.packets)*FrameDuration, SampleRate, 0.4)
			dropped := sendImpaired(t, leg.LocalAddr(), tc.codec, tone, tc.imp)

			// Everything sent comes out as an unbroken run of frames.
			var got []int16
			var times []time.Time
			deadline := time.After(3 * time.Second)
		loop:
			for {
				select {
				case f := <-leg.Frames():
					got = append(got, f...)
					times = append(times, time.Now())
				case <-time.After(300 * time.Millisecond):
					break loop // the stream ended (the buffer went idle)
				case <-deadline:
					t.Fatal("frames never stopped")
				}
			}
			frames := len(got) / FrameSamples
			// Underrun concealment adds at most a few frames at the end;
			// delay adaptation may add or skip a few.
			if frames < tc.imp.packets-4 || frames > tc.imp.packets+jbMaxUnderrun+6 {
				t.Fatalf("%d frames out for %d packets", frames, tc.imp.packets)
			}
			for i := 1; i < len(times); i++ {
				// Channel-buffered frames arrive together; a gap means the
				// clock stalled or the buffer went idle mid-stream.
				if gap := times[i].Sub(times[i-1]); gap > 120*time.Millisecond {
					t.Fatalf("gap of %v before frame %d of %d", gap, i, len(times))
				}
			}
			st := leg.Stats()
			q := leg.Quality()
			t.Logf("dropped %d; stats %+v; quality %+v", dropped, st, q)
			if q.PacketsLost != int64(dropped) {
				t.Fatalf("PacketsLost %d, dropped %d", q.PacketsLost, dropped)
			}
			if st.FramesConcealed < uint64(dropped)-st.PacketsLate {
				t.Fatalf("concealed %d < dropped %d", st.FramesConcealed, dropped)
			}
			// Losses were concealed well enough that the tone keeps its
			// energy and stays a tone (skip the start-up and the tail).
			body := got[5*FrameSamples : (tc.imp.packets-10)*FrameSamples]
			ratio := energy(body) / energy(tone[5*FrameSamples:(tc.imp.packets-10)*FrameSamples])
			if ratio < 0.85 || ratio > 1.15 {
				t.Fatalf("energy ratio %.2f after concealment", ratio)
			}
			assertTone(t, body, SampleRate, 440)
			if tc.imp.jitter > 0 && (q.JitterMS < 1 || q.JitterBufferMS < 30) {
				t.Fatalf("jitter %.1f ms, buffer %.0f ms: jitter not measured", q.JitterMS, q.JitterBufferMS)
			}
			if q.MOS < 1 || q.MOS > 4.5 {
				t.Fatalf("MOS %v", q.MOS)
			}
		})
	}
}

// jbFeed runs a jitter buffer on synthetic time: packet i is sent at i*20ms
// and arrives delay(i) later; the clock ticks every 20 ms.
func jbFeed(t *testing.T, packets int, delay func(i int) time.Duration, drop func(i int) bool) (*jitterBuffer, *counters, int) {
	t.Helper()
	var st counters
	j := newJitterBuffer(&st)
	dec, err := newDecoder(PCMU)
	if err != nil {
		t.Fatal(err)
	}
	j.configure(8000, dec)
	enc, _ := newEncoder(PCMU)
	payload, _ := enc.encode(nil, Tone(440, FrameDuration, SampleRate, 0.3))
	type ev struct {
		at  int64
		seq int
	}
	var evs []ev
	for i := 0; i < packets; i++ {
		if drop != nil && drop(i) {
			continue
		}
		evs = append(evs, ev{int64(i)*int64(FrameDuration) + int64(delay(i)), i})
	}
	slices.SortFunc(evs, func(a, b ev) int { return int(a.at - b.at) })
	const t0 = int64(1e18)
	played := 0
	k := 0
	for tick := int64(3 * time.Millisecond); tick < int64(packets+30)*int64(FrameDuration); tick += int64(FrameDuration) {
		for k < len(evs) && evs[k].at <= tick {
			j.put(uint16(evs[k].seq), uint32(evs[k].seq*160), t0+evs[k].at, payload, false)
			k++
		}
		if _, ok := j.next(t0 + tick); ok {
			j.consumed()
			played++
		}
	}
	return j, &st, played
}

func TestJitterBufferAdapts(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	tests := []struct {
		name           string
		delay          func(int) time.Duration
		minT, maxT     time.Duration
		maxLate        uint64
		maxConcealment uint64
	}{
		{"steady", func(int) time.Duration { return 5 * time.Millisecond }, jbMinDelay, jbMinDelay + 5*time.Millisecond, 0, 6},
		{"jitter 80ms", func(int) time.Duration { return time.Duration(rng.Int64N(int64(80 * time.Millisecond))) }, 60 * time.Millisecond, 100 * time.Millisecond, 15, 40},
		{"spikes of 150ms", func(i int) time.Duration {
			if i%50 == 25 {
				return 150 * time.Millisecond
			}
			return 0
		}, 120 * time.Millisecond, jbMaxDelay, 3, 30},
		{"beyond the cap", func(int) time.Duration { return time.Duration(rng.Int64N(int64(400 * time.Millisecond))) }, jbMaxDelay, jbMaxDelay, 1 << 30, 1 << 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, st, played := jbFeed(t, 300, tc.delay, nil)
			got := j.targetDelay()
			s := st.snapshot()
			t.Logf("target %v played %d stats %+v", got, played, s)
			if got < tc.minT || got > tc.maxT {
				t.Fatalf("target delay %v, want %v..%v", got, tc.minT, tc.maxT)
			}
			if s.PacketsLate > tc.maxLate || s.FramesConcealed > tc.maxConcealment {
				t.Fatalf("late %d concealed %d", s.PacketsLate, s.FramesConcealed)
			}
			if played < 300-10 {
				t.Fatalf("played %d of 300", played)
			}
		})
	}
}

func TestJitterBufferLossAndReorder(t *testing.T) {
	// Every 10th packet lost, every 7th swapped with its successor.
	delay := func(i int) time.Duration {
		if i%7 == 0 {
			return 25 * time.Millisecond
		}
		return 0
	}
	drop := func(i int) bool { return i%10 == 9 }
	j, st, played := jbFeed(t, 200, delay, drop)
	s := st.snapshot()
	if s.FramesConcealed < 20 || s.FramesConcealed > 30 {
		t.Fatalf("concealed %d, want about the 20 lost", s.FramesConcealed)
	}
	if played < 195 || played > 200+jbMaxUnderrun+2 {
		t.Fatalf("played %d", played)
	}
	if s.PacketsLate > 2 {
		t.Fatalf("late %d: reordering not absorbed (target %v)", s.PacketsLate, j.targetDelay())
	}
	// A packet from before the playout point is late, a duplicate ignored.
	before := st.late.Load()
	j.put(j.nextSeq-3, 0, 1e18, []byte{1}, false)
	if st.late.Load() != before+1 {
		t.Fatal("old packet not counted late")
	}
}

func TestWaveformPLC(t *testing.T) {
	for _, rate := range []int{SampleRate, NarrowRate} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			frame := rate / 50
			p := newWaveformPLC(rate)
			tone := Tone(300, 60*time.Millisecond, rate, 0.5)
			p.record(tone)
			out := p.conceal(nil, frame)
			// The first 20 ms carries on the tone (pitch repetition), then fades.
			assertTone(t, out, rate, 300)
			more := p.conceal(nil, 3*frame)
			if r := RMS(more[2*frame:]); r != 0 {
				t.Fatalf("still %f rms after 60 ms of loss", r)
			}
			if e := energy(out) / energy(tone[:frame]); e < 0.6 || math.IsNaN(e) {
				t.Fatalf("first concealed frame keeps %.2f of the energy", e)
			}
		})
	}
}

func TestLastPacket(t *testing.T) {
	a, b := newLegPair(t, PCMU, 0)
	if !b.LastPacket().IsZero() {
		t.Fatal("LastPacket before any packet")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	go Play(ctx, a, Tone(440, 100*time.Millisecond, SampleRate, 0.3))
	collect(t, b.Frames(), FrameSamples, 2*time.Second)
	if lp := b.LastPacket(); lp.Before(start) || lp.After(time.Now()) {
		t.Fatalf("LastPacket %v, started %v", lp, start)
	}
}

// TestPlayoutAllocs: a packet in, its frame played out and handed back
// with ReleaseFrame allocates nothing, for a 16 kHz frame and for a
// narrowband one kept as decoded (NativeFrames) or upsampled.
func TestPlayoutAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector; make test runs it without")
	}
	for _, tc := range []struct {
		name   string
		c      Codec
		native bool
		want   int
	}{{"G722", G722, false, FrameSamples}, {"PCMU native", PCMU, true, NarrowFrameSamples}, {"PCMU upsampled", PCMU, false, FrameSamples}} {
		var st counters
		log := rateLimitedLog{log: orDefaultLogger(nil)}
		in := newInbound(4, &st, &log)
		dec, err := newDecoder(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		in.configure(tc.c, tc.c.PayloadType, dec, 0, false, false)
		in.native.Store(tc.native)
		enc, _ := newEncoder(tc.c)
		payload, _ := enc.encode(nil, Tone(440, FrameDuration, SampleRate, 0.3))
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: tc.c.PayloadType, SSRC: 1}, Payload: payload}
		now := time.Now()
		i, frames := 0, 0
		step := func() {
			pkt.SequenceNumber = uint16(i)
			pkt.Timestamp = uint32(i) * tc.c.frameTicks()
			in.handle(&pkt, now)
			now = now.Add(FrameDuration)
			in.tick(now)
			select {
			case f := <-in.frames:
				if len(f) != tc.want {
					t.Fatalf("%s: frame of %d samples, want %d", tc.name, len(f), tc.want)
				}
				frames++
				ReleaseFrame(f)
			default:
			}
			i++
		}
		for range 20 { // past the jitter buffer's priming
			step()
		}
		allocs := testing.AllocsPerRun(500, step)
		if frames < 400 {
			t.Fatalf("%s: %d frames played out", tc.name, frames)
		}
		if allocs > 0 {
			t.Errorf("%s: %.2f allocations per frame, want 0", tc.name, allocs)
		}
	}
}
