package media

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// A stall of the send clock (the process starved of CPU, a GC pause) must
// not cost frames: the ticks missed run when the clock wakes, so a leg still
// sends 50 packets a second and a bridge's queues do not grow.
func TestSenderCatchesUpMissedTicks(t *testing.T) {
	var st counters
	log := rateLimitedLog{log: orDefaultLogger(nil)}
	stop := make(chan struct{})
	s := newSender(stop, &st, &log)
	enc, err := newEncoder(PCMU)
	if err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int64
	s.configure(PCMU, enc, 0, false, func(*rtp.Packet) error { sent.Add(1); return nil })
	frame := Tone(440, FrameDuration, SampleRate, 0.3)
	var ticks atomic.Int64
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.run(stop, func(time.Time, uint32) {
			// Feed one frame per tick, like a bridge; stall on tick 5
			// for 5 periods and a half.
			_ = s.forward(frame)
			if ticks.Add(1) == 5 {
				time.Sleep(110 * time.Millisecond)
			}
		})
	}()
	_ = s.forward(frame)
	time.Sleep(600 * time.Millisecond)
	close(stop)
	<-done
	elapsed := time.Since(start)
	want := int64(elapsed / FrameDuration)
	if got := ticks.Load(); got < want-2 {
		t.Fatalf("%d ticks ran in %v, want about %d: missed ticks were dropped", got, elapsed, want)
	}
	if got := sent.Load(); got < want-2 {
		t.Fatalf("%d packets sent in %v, want about %d", got, elapsed, want)
	}
	if d := st.sendDropped.Load(); d > 0 {
		t.Fatalf("%d frames dropped from the queue", d)
	}
}

// TestTalkspurtStartsAtOnce: a frame written to a leg that has been
// sending nothing goes out at once, not at the clock's next tick: the
// write comes 2 ms after a tick, so waiting for the next would take 18.
func TestTalkspurtStartsAtOnce(t *testing.T) {
	peer := newRTPPeer(t, 1, 0, 0)
	l := startLegTo(t, peer, PCMU, 101, 0)
	tone := Tone(440, FrameDuration, SampleRate, 0.3)
	fast := 0
	for i := range 5 {
		base := len(peer.received())
		if err := l.WriteFrame(tone); err != nil {
			t.Fatal(err)
		}
		got := peer.waitFor(t, base+4) // the frame and its 3 silent ones
		// Two ticks after the tail's last packet the clock has been idle
		// for a tick; write 2 ms after the next one.
		time.Sleep(time.Until(got[base+3].at.Add(3*FrameDuration + 2*time.Millisecond)))
		start := time.Now()
		if err := l.WriteFrame(tone); err != nil {
			t.Fatal(err)
		}
		got = peer.waitFor(t, base+5)
		if d := got[base+4].at.Sub(start); d < 10*time.Millisecond {
			fast++
		} else {
			t.Logf("trial %d: the talkspurt's first packet after %v", i, d)
		}
		peer.waitFor(t, base+8) // its tail, before the next trial
	}
	if fast < 4 {
		t.Fatalf("%d of 5 talkspurts started within 10 ms of the write", fast)
	}
}
