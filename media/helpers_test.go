package media

import (
	"runtime"
	"testing"
	"time"
)

// collect reads frames from ch until it has want samples or the deadline.
func collect(t *testing.T, ch <-chan []int16, want int, timeout time.Duration) []int16 {
	t.Helper()
	var out []int16
	deadline := time.After(timeout)
	for len(out) < want {
		select {
		case f, ok := <-ch:
			if !ok {
				t.Fatalf("frames closed after %d samples", len(out))
			}
			out = append(out, f...)
		case <-deadline:
			t.Fatalf("got %d samples of %d before timeout", len(out), want)
		}
	}
	return out
}

// assertTone checks pcm is dominated by freq: its Goertzel power beats the
// other probe frequencies by 20x and it is loud enough.
func assertTone(t *testing.T, pcm []int16, rate int, freq float64) {
	t.Helper()
	p := Goertzel(pcm, rate, freq)
	for _, other := range []float64{freq * 0.5, freq * 1.5, freq * 2.3, 1000, 2500} {
		if other > freq*0.9 && other < freq*1.1 {
			continue
		}
		if o := Goertzel(pcm, rate, other); o*20 > p {
			t.Fatalf("power at %v Hz = %g, at %v Hz = %g: not a %v Hz tone", freq, p, other, o, freq)
		}
	}
	if r := RMS(pcm); r < 1000 {
		t.Fatalf("tone too quiet: rms %f", r)
	}
}

// waitGoroutines polls until the goroutine count is back to at most base.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines leaked: %d > %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
