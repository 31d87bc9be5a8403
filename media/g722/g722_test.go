package g722

import (
	"math"
	"testing"
)

func tone(freq float64, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(12000 * math.Sin(2*math.Pi*freq*float64(i)/16000))
	}
	return out
}

// snr compares b against a, searching a small delay (the QMF adds ~22 samples).
func snr(a, b []int16) (best float64, lag int) {
	best = math.Inf(-1)
	for d := 0; d < 64; d++ {
		var sig, noise float64
		for i := 1000; i < len(a)-64; i++ {
			x, y := float64(a[i]), float64(b[i+d])
			sig += x * x
			noise += (x - y) * (x - y)
		}
		if s := 10 * math.Log10(sig/noise); s > best {
			best, lag = s, d
		}
	}
	return best, lag
}

func TestRoundTrip(t *testing.T) {
	for _, f := range []float64{300, 1000, 3000, 6000} {
		enc, err := NewEncoder()
		if err != nil {
			t.Fatal(err)
		}
		dec, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		in := tone(f, 16000)
		var out []int16
		var wire []byte
		for i := 0; i < len(in); i += 320 {
			wire = enc.Encode(wire[:0], in[i:i+320])
			if len(wire) != 160 {
				t.Fatalf("20 ms encoded to %d bytes, want 160", len(wire))
			}
			out = dec.Decode(out, wire)
		}
		if len(out) != len(in) {
			t.Fatalf("decoded %d samples of %d", len(out), len(in))
		}
		if s, lag := snr(in, out); s < 20 {
			t.Errorf("%v Hz: snr %.1f dB at lag %d, want >= 20", f, s, lag)
		}
	}
}

func TestEmpty(t *testing.T) {
	enc, _ := NewEncoder()
	dec, _ := NewDecoder()
	if b := enc.Encode(nil, nil); len(b) != 0 {
		t.Fatal(b)
	}
	if p := dec.Decode(nil, nil); len(p) != 0 {
		t.Fatal(p)
	}
}

func BenchmarkEncode20ms(b *testing.B) {
	enc, _ := NewEncoder()
	in := tone(440, 320)
	buf := make([]byte, 0, 160)
	b.ReportAllocs()
	for b.Loop() {
		buf = enc.Encode(buf[:0], in)
	}
}
