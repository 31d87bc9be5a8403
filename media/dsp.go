package media

import (
	"math"
	"sync"
	"time"
)

// RMS is the root-mean-square level of pcm in sample units (0..32768).
func RMS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, s := range pcm {
		v := float64(s)
		sum += v * v
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

// Tone generates a sine of freq Hz lasting dur at rate, with amp the peak as
// a fraction of full scale (0..1).
func Tone(freq float64, dur time.Duration, rate int, amp float64) []int16 {
	n := int(dur.Seconds() * float64(rate))
	if n <= 0 || rate <= 0 {
		return nil
	}
	out := make([]int16, n)
	for i := range out {
		out[i] = clip16(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// Goertzel returns the power of pcm at freq Hz, normalised so that a
// full-scale sine at exactly freq gives about 0.25 whatever the length;
// compare it across frequencies or against RMS²/32768².
func Goertzel(pcm []int16, rate int, freq float64) float64 {
	if len(pcm) == 0 || rate <= 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, x := range pcm {
		s := float64(x)/32768 + coeff*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	n := float64(len(pcm))
	return p / (n * n)
}

// MusicOnHold returns about 6.4 s of soft chimes (a slow arpeggio, each note
// fading in and out to silence) at SampleRate; it loops without clicks. The
// audio is made once (300,000 sines: milliseconds of CPU that every queued
// call paid) and shared by every call (a copy each was 200 KB of garbage
// per queued call): read it, never write to it.
func MusicOnHold() []int16 { return musicOnHold() }

var musicOnHold = sync.OnceValue(makeMusicOnHold)

func makeMusicOnHold() []int16 {
	notes := []float64{261.63, 329.63, 392.00, 523.25, 392.00, 329.63, 293.66, 349.23}
	const noteDur = 800 * time.Millisecond
	per := int(noteDur.Seconds() * SampleRate)
	out := make([]int16, 0, per*len(notes))
	for _, f := range notes {
		for i := 0; i < per; i++ {
			t := float64(i) / SampleRate
			// Smooth attack and decay: sin² envelope over the note.
			env := math.Sin(math.Pi * float64(i) / float64(per))
			env *= env
			v := 0.7*math.Sin(2*math.Pi*f*t) + 0.3*math.Sin(2*math.Pi*2*f*t)
			out = append(out, clip16(0.18*32767*env*v))
		}
	}
	return out
}
