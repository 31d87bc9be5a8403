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

func clip16(v float64) int16 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(math.Round(v))
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
		var acc float64
		base := i - (firTaps - 1)
		for k, h := range halfbandTaps {
			acc += h * buf[base+k]
		}
		dst = append(dst, clip16(acc))
	}
	d.odd = i == len(buf)+1 // consumed one past the end: next starts at an odd offset
	// Keep the last firTaps-1 samples as history.
	n := copy(buf, buf[len(buf)-(firTaps-1):])
	d.hist = buf[:n]
	return dst
}

// upsampler doubles the rate (8k → 16k) by zero stuffing and filtering.
type upsampler struct {
	hist []float64 // last (firTaps-1) zero-stuffed samples, then scratch
}

func (u *upsampler) process(dst []int16, in []int16) []int16 {
	if u.hist == nil {
		u.hist = make([]float64, firTaps-1, firTaps-1+2*FrameSamples)
	}
	buf := u.hist
	for _, s := range in {
		buf = append(buf, 2*float64(s), 0)
	}
	for i := firTaps - 1; i < len(buf); i++ {
		var acc float64
		base := i - (firTaps - 1)
		for k, h := range halfbandTaps {
			acc += h * buf[base+k]
		}
		dst = append(dst, clip16(acc))
	}
	n := copy(buf, buf[len(buf)-(firTaps-1):])
	u.hist = buf[:n]
	return dst
}

// Resample converts mono pcm from one sample rate to another with a
// Blackman-windowed sinc interpolator (16 zero crossings each side, cutoff at
// 95% of the lower Nyquist rate). It is meant for whole clips (TTS output,
// WAV prompts), not for streaming: each call starts from silence.
func Resample(pcm []int16, from, to int) []int16 {
	if from <= 0 || to <= 0 || len(pcm) == 0 {
		return nil
	}
	if from == to {
		return append([]int16(nil), pcm...)
	}
	ratio := float64(to) / float64(from)
	cutoff := 0.95 * math.Min(1, ratio) // fraction of the input Nyquist rate
	const zeros = 16
	half := float64(zeros) / cutoff // kernel half-width in input samples
	outLen := int(int64(len(pcm)) * int64(to) / int64(from))
	out := make([]int16, outLen)
	step := float64(from) / float64(to)
	for n := range out {
		t := float64(n) * step
		lo := int(math.Ceil(t - half))
		hi := int(math.Floor(t + half))
		if lo < 0 {
			lo = 0
		}
		if hi > len(pcm)-1 {
			hi = len(pcm) - 1
		}
		var acc float64
		for k := lo; k <= hi; k++ {
			x := t - float64(k)
			var s float64 = cutoff
			if x != 0 {
				s = math.Sin(math.Pi*cutoff*x) / (math.Pi * x)
			}
			// Blackman window over [-half, half].
			p := (x + half) / (2 * half)
			w := 0.42 - 0.5*math.Cos(2*math.Pi*p) + 0.08*math.Cos(4*math.Pi*p)
			acc += float64(pcm[k]) * s * w
		}
		out[n] = clip16(acc)
	}
	return out
}
