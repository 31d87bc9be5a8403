package media

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// refDown and refUp are the plain 63-tap convolutions the polyphase,
// symmetric downsampler and upsampler must reproduce.
type refDown struct {
	hist []float64
	odd  bool
}

func (d *refDown) process(dst []int16, in []int16) []int16 {
	if d.hist == nil {
		d.hist = make([]float64, firTaps-1)
	}
	buf := d.hist
	for _, s := range in {
		buf = append(buf, float64(s))
	}
	i := firTaps - 1
	if d.odd {
		i++
	}
	for ; i < len(buf); i += 2 {
		var acc float64
		for k, h := range halfbandTaps {
			acc += h * buf[i-(firTaps-1)+k]
		}
		dst = append(dst, clip16(acc))
	}
	d.odd = i == len(buf)+1
	d.hist = append([]float64(nil), buf[len(buf)-(firTaps-1):]...)
	return dst
}

type refUp struct{ hist []float64 }

func (u *refUp) process(dst []int16, in []int16) []int16 {
	if u.hist == nil {
		u.hist = make([]float64, firTaps-1)
	}
	buf := u.hist
	for _, s := range in {
		buf = append(buf, 2*float64(s), 0)
	}
	for i := firTaps - 1; i < len(buf); i++ {
		var acc float64
		for k, h := range halfbandTaps {
			acc += h * buf[i-(firTaps-1)+k]
		}
		dst = append(dst, clip16(acc))
	}
	u.hist = append([]float64(nil), buf[len(buf)-(firTaps-1):]...)
	return dst
}

// The fast filters give the plain convolution's samples (±1 for float
// rounding) on speech-like noise and full-scale clipping, in chunks of
// every size, odd ones included (the downsampler carries a pending sample).
func TestResamplersMatchConvolution(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	in := make([]int16, 3*SampleRate)
	for i := range in {
		switch {
		case i < SampleRate: // noise
			in[i] = int16(r.IntN(20000) - 10000)
		case i < 2*SampleRate: // a tone plus noise
			in[i] = int16(12000*float64(Tone(700, 2*FrameDuration, SampleRate, 1)[i%(2*FrameSamples)])/32767) + int16(r.IntN(2000)-1000)
		default: // full scale square wave: the filters overshoot and clip
			in[i] = 32767
			if i/37%2 == 0 {
				in[i] = -32768
			}
		}
	}
	var fd downsampler
	var rd refDown
	var fu upsampler
	var ru refUp
	var gotD, wantD, gotU, wantU []int16
	for off := 0; off < len(in); {
		n := min(1+r.IntN(2*FrameSamples), len(in)-off) // 1..640 samples
		chunk := in[off : off+n]
		gotD, wantD = fd.process(gotD, chunk), rd.process(wantD, chunk)
		gotU, wantU = fu.process(gotU, chunk), ru.process(wantU, chunk)
		off += n
	}
	for name, p := range map[string][2][]int16{"down": {gotD, wantD}, "up": {gotU, wantU}} {
		got, want := p[0], p[1]
		if len(got) != len(want) {
			t.Fatalf("%s: %d samples, want %d", name, len(got), len(want))
		}
		diffs := 0
		for i := range got {
			if d := int(got[i]) - int(want[i]); d < -1 || d > 1 {
				t.Fatalf("%s: sample %d is %d, want %d", name, i, got[i], want[i])
			} else if d != 0 {
				diffs++
			}
		}
		if diffs > len(got)/1000 {
			t.Fatalf("%s: %d of %d samples off by one", name, diffs, len(got))
		}
	}
}

func BenchmarkUpsampler(b *testing.B) {
	in := Tone(440, FrameDuration, 8000, 0.5)
	var u upsampler
	dst := make([]int16, 0, FrameSamples)
	for b.Loop() {
		dst = u.process(dst[:0], in)
	}
}

func BenchmarkDownsampler(b *testing.B) {
	in := Tone(440, FrameDuration, SampleRate, 0.5)
	var d downsampler
	dst := make([]int16, 0, FrameSamples)
	for b.Loop() {
		dst = d.process(dst[:0], in)
	}
}

var _ = time.Second

// The tabulated kernel gives what evaluating the sinc per tap gives, for the
// rates prompts and WAV files come in, and an odd ratio takes the direct path.
func TestResampleTableMatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	in := make([]int16, 4000)
	for i := range in {
		in[i] = int16(8000*math.Sin(float64(i)/7) + float64(rng.IntN(4000)-2000))
	}
	for _, r := range [][2]int{{22050, 16000}, {44100, 16000}, {11025, 16000}, {8000, 16000}, {16000, 8000}, {48000, 16000}, {24000, 16000}} {
		k := newSincKernel(r[0], r[1])
		if k.phases == nil {
			t.Fatalf("%d→%d: no table", r[0], r[1])
		}
		out := Resample(in, r[0], r[1])
		if want := len(in) * r[1] / r[0]; len(out) != want {
			t.Fatalf("%d→%d: %d samples, want %d", r[0], r[1], len(out), want)
		}
		for n, v := range out {
			if d := int(v) - int(clip16(k.direct(in, n))); d < -1 || d > 1 {
				t.Fatalf("%d→%d: sample %d is %d, the direct sinc gives %d", r[0], r[1], n, v, clip16(k.direct(in, n)))
			}
		}
	}
	if k := newSincKernel(44101, 16000); k.phases != nil {
		t.Fatal("44101→16000 tabulated 16000 phases")
	}
	if out := Resample(in[:441], 44101, 16000); len(out) != 441*16000/44101 {
		t.Fatalf("odd ratio: %d samples", len(out))
	}
}

// BenchmarkResamplePrompt: three seconds of espeak-ng output (22.05 kHz) to
// 16 kHz, tabulated and per tap.
func BenchmarkResamplePrompt(b *testing.B) {
	in := make([]int16, 3*22050)
	for i := range in {
		in[i] = int16(8000 * math.Sin(float64(i)/7))
	}
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			Resample(in, 22050, 16000)
		}
	})
	b.Run("direct", func(b *testing.B) {
		k := newSincKernel(22050, 16000)
		out := make([]int16, len(in)*16000/22050)
		for b.Loop() {
			for n := range out {
				out[n] = clip16(k.direct(in, n))
			}
		}
	})
}
