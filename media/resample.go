package media

import "math"

// firTaps is the length of the 16k↔8k anti-alias/anti-image filter: a
// Blackman-windowed sinc with its cutoff at 3.6 kHz (16 kHz rate), which gives
// about 1.4 kHz of transition band, enough for telephone speech.
const firTaps = 63

var halfbandTaps = designLowpass(firTaps, 3600.0/16000.0)

// designLowpass returns a unity-gain windowed-sinc low-pass; fc is the cutoff
// as a fraction of the sample rate.
func designLowpass(n int, fc float64) []float64 {
	h := make([]float64, n)
	m := float64(n - 1)
	var sum float64
	for i := range h {
		x := float64(i) - m/2
		v := 2 * fc
		if x != 0 {
			v = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/m) + 0.08*math.Cos(4*math.Pi*float64(i)/m)
		h[i] = v * w
		sum += h[i]
	}
	for i := range h {
		h[i] /= sum
	}
	return h
}

// clip16 rounds v half away from zero (math.Round, without its call on
// the per-sample path) and clips it to 16 bits.
func clip16(v float64) int16 {
	if v >= 32767 {
		return 32767
	}
	if v <= -32768 {
		return -32768
	}
	if v < 0 {
		return int16(v - 0.5)
	}
	return int16(v + 0.5)
}

// The filter is symmetric (halfbandTaps[k] == halfbandTaps[firTaps-1-k]),
// so each pair of samples that meets the same tap is added first and
// multiplied once. The 2× upsampler's zero-stuffed input meets only every
// second tap: its even outputs use the even taps and its odd outputs the odd
// ones (polyphase), so it never multiplies the zeros. Both give the
// results of the plain 63-tap convolution (up to float rounding) at about a
// quarter (up) and half (down) of its cost: these two run for every G.711
// packet in each direction.
var (
	// upEven[m] = 2·h[2m] multiplies x[a+m] + x[a+31-m] (m < 16).
	upEven [16]float64
	// upOdd[m] = 2·h[2m+1] multiplies x[b+m] + x[b+30-m] (m < 15);
	// upOdd[15] = 2·h[31] multiplies x[b+15] alone.
	upOdd [16]float64
	// downHalf[k] = h[k] multiplies s[k] + s[62-k] (k < 31); downHalf[31]
	// multiplies s[31] alone.
	downHalf [32]float64
)

func init() {
	for m := range 16 {
		upEven[m] = 2 * halfbandTaps[2*m]
		upOdd[m] = 2 * halfbandTaps[2*m+1]
	}
	copy(downHalf[:], halfbandTaps[:32])
}

// downsampler halves the rate (16k → 8k), keeping filter history across
// calls so consecutive frames join without clicks.
type downsampler struct {
	hist []float64 // last firTaps-1 inputs, then scratch
	odd  bool      // an input sample is pending from the previous call
}

func (d *downsampler) process(dst []int16, in []int16) []int16 {
	if d.hist == nil {
		d.hist = make([]float64, firTaps-1, firTaps-1+2*FrameSamples)
	}
	buf := d.hist
	for _, s := range in {
		buf = append(buf, float64(s))
	}
	// buf[i] for i >= firTaps-1 is the new input; an output is produced for
	// every second input sample.
	i := firTaps - 1
	if d.odd {
		i++
	}
	for ; i < len(buf); i += 2 {
		w := buf[i-(firTaps-1) : i+1]
		_ = w[firTaps-1]
		var acc0, acc1 float64
		for k := 0; k < 30; k += 2 {
			acc0 += downHalf[k] * (w[k] + w[firTaps-1-k])
			acc1 += downHalf[k+1] * (w[k+1] + w[firTaps-2-k])
		}
		acc0 += downHalf[30] * (w[30] + w[32])
		acc1 += downHalf[31] * w[31]
		dst = append(dst, clip16(acc0+acc1))
	}
	d.odd = i == len(buf)+1 // consumed one past the end: next starts at an odd offset
	// Keep the last firTaps-1 samples as history.
	n := copy(buf, buf[len(buf)-(firTaps-1):])
	d.hist = buf[:n]
	return dst
}

// upsampler doubles the rate (8k → 16k) by zero stuffing and filtering,
// done as two polyphase branches over the input samples.
type upsampler struct {
	hist []float64 // last firTaps/2 inputs, then scratch
}

func (u *upsampler) process(dst []int16, in []int16) []int16 {
	const keep = firTaps / 2 // 31 inputs span the filter
	if u.hist == nil {
		u.hist = make([]float64, keep, keep+FrameSamples)
	}
	x := u.hist
	for _, s := range in {
		x = append(x, float64(s))
	}
	for p := keep; p < len(x); p++ {
		// Even output: taps 0, 2, … 62 over x[p-31 … p].
		e := x[p-keep : p+1]
		_ = e[31]
		var a0, a1 float64
		for m := 0; m < 16; m += 2 {
			a0 += upEven[m] * (e[m] + e[31-m])
			a1 += upEven[m+1] * (e[m+1] + e[30-m])
		}
		// Odd output: taps 1, 3, … 61 over x[p-30 … p].
		o := x[p-keep+1 : p+1]
		_ = o[30]
		var b0, b1 float64
		for m := 0; m < 14; m += 2 {
			b0 += upOdd[m] * (o[m] + o[30-m])
			b1 += upOdd[m+1] * (o[m+1] + o[29-m])
		}
		b0 += upOdd[14] * (o[14] + o[16])
		b1 += upOdd[15] * o[15]
		dst = append(dst, clip16(a0+a1), clip16(b0+b1))
	}
	n := copy(x, x[len(x)-keep:])
	u.hist = x[:n]
	return dst
}

// Resample converts mono pcm from one sample rate to another with a
// Blackman-windowed sinc interpolator (16 zero crossings each side, cutoff at
// 95% of the lower Nyquist rate). It is meant for whole clips (TTS output,
// WAV prompts), not for streaming: each call starts from silence.
//
// The output samples fall on L phases between input samples (L = to/gcd);
// for the usual rates (22.05 or 44.1 kHz TTS and WAV to 16 kHz: 320 and 160
// phases) the kernel is tabulated once per phase instead of evaluated per
// tap, which is what made a prompt's synthesis cost more than espeak-ng
// itself.
func Resample(pcm []int16, from, to int) []int16 {
	if from <= 0 || to <= 0 || len(pcm) == 0 {
		return nil
	}
	if from == to {
		return append([]int16(nil), pcm...)
	}
	k := newSincKernel(from, to)
	outLen := int(int64(len(pcm)) * int64(to) / int64(from))
	out := make([]int16, outLen)
	if k.phases == nil { // an odd ratio: too many phases to tabulate
		for n := range out {
			out[n] = clip16(k.direct(pcm, n))
		}
		return out
	}
	for n := range out {
		pos := int64(n) * int64(k.m) // n·M/L input samples, as base + phase/L
		base, phase := int(pos/int64(k.l)), int(pos%int64(k.l))
		taps := k.phases[phase]
		first := base + k.lo[phase]
		lo, hi := max(first, 0), min(first+len(taps), len(pcm))
		var acc float64
		for i := lo; i < hi; i++ {
			acc += float64(pcm[i]) * taps[i-first]
		}
		out[n] = clip16(acc)
	}
	return out
}

// maxSincPhases bounds the table (phases × ~34 taps of float64).
const maxSincPhases = 4096

// sincKernel is Resample's interpolator for one from→to ratio, L/M in
// lowest terms.
type sincKernel struct {
	l, m         int
	cutoff, half float64
	step         float64     // input samples per output sample
	phases       [][]float64 // per phase p (offset p/L): taps for inputs lo[p]..
	lo           []int       // first tap's input offset from the base sample
}

func newSincKernel(from, to int) *sincKernel {
	g := gcd(from, to)
	k := &sincKernel{l: to / g, m: from / g, step: float64(from) / float64(to)}
	k.cutoff = 0.95 * math.Min(1, float64(to)/float64(from)) // fraction of the input Nyquist rate
	const zeros = 16
	k.half = float64(zeros) / k.cutoff // kernel half-width in input samples
	if k.l > maxSincPhases {
		return k
	}
	k.phases, k.lo = make([][]float64, k.l), make([]int, k.l)
	for p := range k.l {
		frac := float64(p) / float64(k.l)
		lo, hi := int(math.Ceil(frac-k.half)), int(math.Floor(frac+k.half))
		taps := make([]float64, hi-lo+1)
		for j := range taps {
			taps[j] = k.tap(frac - float64(lo+j))
		}
		k.phases[p], k.lo[p] = taps, lo
	}
	return k
}

// tap is the windowed sinc at x input samples from the output instant.
func (k *sincKernel) tap(x float64) float64 {
	s := k.cutoff
	if x != 0 {
		s = math.Sin(math.Pi*k.cutoff*x) / (math.Pi * x)
	}
	p := (x + k.half) / (2 * k.half) // Blackman window over [-half, half]
	return s * (0.42 - 0.5*math.Cos(2*math.Pi*p) + 0.08*math.Cos(4*math.Pi*p))
}

// direct computes output sample n without the table.
func (k *sincKernel) direct(pcm []int16, n int) float64 {
	t := float64(n) * k.step
	lo, hi := max(int(math.Ceil(t-k.half)), 0), min(int(math.Floor(t+k.half)), len(pcm)-1)
	var acc float64
	for i := lo; i <= hi; i++ {
		acc += float64(pcm[i]) * k.tap(t-float64(i))
	}
	return acc
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
