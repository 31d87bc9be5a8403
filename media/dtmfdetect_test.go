package media

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// dtmfTone is key's two tones at amp each for d.
func dtmfTone(t *testing.T, key rune, d time.Duration, amp float64) []int16 {
	t.Helper()
	for r := range 4 {
		for c := range 4 {
			if dtmfKeys[r][c] == key {
				lo := Tone(dtmfRows[r], d, SampleRate, amp)
				hi := Tone(dtmfCols[c], d, SampleRate, amp)
				for i := range lo {
					lo[i] += hi[i]
				}
				return lo
			}
		}
	}
	t.Fatalf("no key %q", key)
	return nil
}

func detectAll(pcm []int16) string {
	var d dtmfDetector
	var got []rune
	for len(pcm) >= FrameSamples {
		d.process(pcm[:FrameSamples], func(r rune) { got = append(got, r) })
		pcm = pcm[FrameSamples:]
	}
	return string(got)
}

func TestDTMFDetector(t *testing.T) {
	silence := func(d time.Duration) []int16 { return make([]int16, int(d.Seconds()*SampleRate)) }
	seq := func(keys string, on, off time.Duration, amp float64) []int16 {
		out := silence(off)
		for _, k := range keys {
			out = append(out, dtmfTone(t, k, on, amp)...)
			out = append(out, silence(off)...)
		}
		return out
	}
	all := "123A456B789C*0#D"
	tests := []struct {
		name string
		pcm  []int16
		want string
	}{
		{"all keys 100ms", seq(all, 100*time.Millisecond, 100*time.Millisecond, 0.3), all},
		{"40ms tones 40ms gaps", seq("5550", 40*time.Millisecond, 40*time.Millisecond, 0.3), "5550"},
		{"quiet -30dBFS", seq("19", 80*time.Millisecond, 60*time.Millisecond, 0.03), "19"},
		{"long press once", seq("7", 2*time.Second, 100*time.Millisecond, 0.3), "7"},
		{"15ms blip ignored", seq("3", 15*time.Millisecond, 60*time.Millisecond, 0.3), ""},
		// A frame lost inside a press (concealed as silence by a loaded
		// receiver's jitter buffer) does not make it two.
		{"20ms dropout inside a press", slices.Concat(silence(60*time.Millisecond), dtmfTone(t, '1', 80*time.Millisecond, 0.3),
			silence(20*time.Millisecond), dtmfTone(t, '1', 80*time.Millisecond, 0.3), silence(80*time.Millisecond)), "1"},
		{"single tone ignored", Tone(697, time.Second, SampleRate, 0.5), ""},
		{"silence", silence(time.Second), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := detectAll(tc.pcm); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Speech that talks about digits must not dial them.
func TestDTMFDetectorSpeech(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
	texts := []string{
		"My order number is five eight two one three, and my phone is 0 7 7 0 0 9 0 0 1 2 3.",
		"Please press one for sales, two for support, or hold for an agent. Thank you for calling!",
	}
	for i, text := range texts {
		for _, voice := range []string{"en-us", "en+f3"} {
			wav := filepath.Join(t.TempDir(), "s.wav")
			if out, err := exec.Command("espeak-ng", "-v", voice, "-w", wav, text).CombinedOutput(); err != nil {
				t.Fatalf("espeak-ng: %v %s", err, out)
			}
			f, err := os.Open(wav)
			if err != nil {
				t.Fatal(err)
			}
			pcm, rate, _, err := ReadWAV(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			pcm = Resample(pcm, rate, SampleRate)
			// Through G.711 as well: companding noise must not help.
			for _, c := range []Codec{{Name: "L16"}, PCMU} {
				in := pcm
				if c.Name == "PCMU" {
					in = codecRoundTrip(t, c, pcm)
				}
				if got := detectAll(in); got != "" {
					t.Errorf("text %d voice %s codec %s: speech detected as %q", i, voice, c.Name, got)
				}
			}
		}
	}
}

func codecRoundTrip(t *testing.T, c Codec, pcm []int16) []int16 {
	t.Helper()
	enc, _ := newEncoder(c)
	dec, _ := newDecoder(c)
	var out []int16
	for len(pcm) >= FrameSamples {
		b, err := enc.encode(nil, pcm[:FrameSamples])
		if err != nil {
			t.Fatal(err)
		}
		if out, err = dec.decode(out, b); err != nil {
			t.Fatal(err)
		}
		pcm = pcm[FrameSamples:]
	}
	return out
}

// A G.711 peer without telephone-event: its keypad tones arrive as audio
// and still come out of DTMF().
func TestRTPLegInbandDTMF(t *testing.T) {
	for _, c := range []Codec{PCMU, G722, Opus} {
		t.Run(c.Name, func(t *testing.T) {
			a, b := newLegPair(t, c, 0)
			var pcm []int16
			for _, k := range "31#" {
				pcm = append(pcm, dtmfTone(t, k, 80*time.Millisecond, 0.25)...)
				pcm = append(pcm, make([]int16, 80*SampleRate/1000)...)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			go Play(ctx, a, pcm)
			var got []rune
			for len(got) < 3 {
				select {
				case d := <-b.DTMF():
					got = append(got, d)
				case <-ctx.Done():
					t.Fatalf("got %q before timeout", string(got))
				}
			}
			if string(got) != "31#" {
				t.Fatalf("got %q", string(got))
			}
		})
	}
}
