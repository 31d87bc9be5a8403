package vad_test

import (
	"context"
	"math/rand/v2"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/asr/vad"
	"github.com/contactd/contactd/tts/espeak"
)

var (
	speechOnce sync.Once
	speechA    []int16
	speechB    []int16
	speechErr  error
)

// speech synthesises two sentences once for all tests.
func speech(t *testing.T) ([]int16, []int16) {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
	speechOnce.Do(func() {
		s := espeak.New(espeak.Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		speechA, speechErr = s.Synthesize(ctx, "I want to check the status of my order, the number is 5 8 2 1 3.")
		if speechErr == nil {
			speechB, speechErr = s.Synthesize(ctx, "My internet is not working.")
		}
	})
	if speechErr != nil {
		t.Fatal(speechErr)
	}
	return speechA, speechB
}

// span is where speech really is in a test signal, in ms.
type span struct{ start, end int64 }

// voicedSpan finds the first and last loud sample of a clip.
func voicedSpan(pcm []int16) (first, last int) {
	first, last = -1, -1
	for i, v := range pcm {
		if v > 1000 || v < -1000 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

// signal lays clips out after gaps of silence and adds white noise of the
// given RMS, returning the audio and the spans of speech in it.
func signal(noiseRMS float64, parts ...any) ([]int16, []span) {
	var out []int16
	var spans []span
	for _, p := range parts {
		switch p := p.(type) {
		case time.Duration:
			out = append(out, make([]int16, int(p.Seconds()*16000))...)
		case []int16:
			f, l := voicedSpan(p)
			spans = append(spans, span{int64(len(out)+f) / 16, int64(len(out)+l) / 16})
			out = append(out, p...)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range out {
		v := float64(out[i]) + r.NormFloat64()*noiseRMS
		out[i] = int16(max(-32768, min(32767, v)))
	}
	return out, spans
}

// run feeds audio in 20 ms frames and records when each event came out.
func run(seg *vad.Segmenter, pcm []int16) (evs []vad.Event, at []int64) {
	for i := 0; i < len(pcm); i += 320 {
		n := len(evs)
		evs = seg.Write(pcm[i:min(i+320, len(pcm))], evs)
		for range evs[n:] {
			at = append(at, int64(min(i+320, len(pcm)))/16)
		}
	}
	n := len(evs)
	evs = seg.Flush(evs)
	for range evs[n:] {
		at = append(at, int64(len(pcm))/16)
	}
	return evs, at
}

func TestSegmenterFindsUtterances(t *testing.T) {
	a, b := speech(t)
	tests := []struct {
		name  string
		noise float64
	}{
		{"clean", 0},
		{"quiet noise", 30},
		{"noise 20 dB below speech", 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pcm, spans := signal(tc.noise, time.Second, a, 1500*time.Millisecond, b, time.Second)
			evs, at := run(vad.New(vad.Config{}), pcm)
			var utts []vad.Event
			var starts []int64
			for i, ev := range evs {
				t.Logf("%s %d..%d (emitted at %d ms)", ev.Kind, ev.StartMS, ev.EndMS, at[i])
				switch ev.Kind {
				case vad.SpeechStart:
					starts = append(starts, at[i])
				case vad.Utterance:
					utts = append(utts, ev)
				case vad.Discard:
					t.Errorf("unexpected discard at %d ms", ev.StartMS)
				}
			}
			if len(utts) != len(spans) || len(starts) != len(spans) {
				t.Fatalf("got %d utterances, %d starts, want %d", len(utts), len(starts), len(spans))
			}
			for i, sp := range spans {
				if lat := starts[i] - sp.start; lat < 0 || lat > 150 {
					t.Errorf("utterance %d: SpeechStart %d ms after onset, want < 150", i, lat)
				}
				u := utts[i]
				if u.StartMS > sp.start || u.EndMS < sp.end-30 {
					t.Errorf("utterance %d: %d..%d does not cover speech %d..%d", i, u.StartMS, u.EndMS, sp.start, sp.end)
				}
				if u.StartMS < sp.start-400 || u.EndMS > sp.end+400 {
					t.Errorf("utterance %d: %d..%d is much wider than speech %d..%d", i, u.StartMS, u.EndMS, sp.start, sp.end)
				}
				if want := int(u.EndMS-u.StartMS) * 16; len(u.PCM) < want-16 || len(u.PCM) > want+16 {
					t.Errorf("utterance %d: %d samples for %d ms", i, len(u.PCM), u.EndMS-u.StartMS)
				}
				if end := sp.end + 600; at[2*i+1] < end || at[2*i+1] > end+300 {
					t.Errorf("utterance %d ended at %d ms, want soon after %d", i, at[2*i+1], end)
				}
			}
		})
	}
}

func TestSegmenterDiscardsClicksAndCutsLongSpeech(t *testing.T) {
	a, _ := speech(t)
	click := make([]int16, 16*60) // 60 ms burst
	for i := range click {
		click[i] = int16((i%16 - 8) * 2000)
	}
	long := append(append(append(append([]int16(nil), a...), a...), a...), a...)
	tests := []struct {
		name      string
		parts     []any
		wantUtts  int
		wantLimit time.Duration
	}{
		{"click", []any{time.Second, click, time.Second}, 0, 0},
		{"long speech is cut", []any{time.Second, long, time.Second}, 2, 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pcm, _ := signal(50, tc.parts...)
			evs, _ := run(vad.New(vad.Config{MaxUtterance: tc.wantLimit}), pcm)
			var n int
			for _, ev := range evs {
				t.Logf("%s %d..%d", ev.Kind, ev.StartMS, ev.EndMS)
				if ev.Kind == vad.Utterance {
					n++
					if tc.wantLimit > 0 && time.Duration(ev.EndMS-ev.StartMS)*time.Millisecond > tc.wantLimit+300*time.Millisecond {
						t.Errorf("utterance of %d ms exceeds the limit", ev.EndMS-ev.StartMS)
					}
				}
			}
			if tc.wantLimit > 0 && n < tc.wantUtts || tc.wantLimit == 0 && n != tc.wantUtts {
				t.Fatalf("%d utterances, want %d", n, tc.wantUtts)
			}
		})
	}
}

func TestSegmenterOddWriteSizes(t *testing.T) {
	a, _ := speech(t)
	pcm, _ := signal(30, time.Second, a, time.Second)
	seg := vad.New(vad.Config{})
	var evs []vad.Event
	for i, n := 0, 1; i < len(pcm); i, n = i+n, n%997+7 {
		evs = seg.Write(pcm[i:min(i+n, len(pcm))], evs)
	}
	evs = seg.Flush(evs)
	if len(evs) != 2 || evs[1].Kind != vad.Utterance {
		t.Fatalf("events %v", evs)
	}
}

// TestSegmenterEndPause: a consumer that finds the words up to a pause
// complete ends the utterance after a short silence; speech after the
// pause it judged (a caller going on) keeps the full end-of-speech
// silence, so the utterance is not cut inside.
func TestSegmenterEndPause(t *testing.T) {
	_, b := speech(t)
	f, l := voicedSpan(b)
	b = b[f : l+1] // the gaps below are the whole pause
	tests := []struct {
		name     string
		gap      time.Duration // between the two phrases
		ask      bool          // EndPause at the pause after the first
		wantUtts int
	}{
		{"no request: a 500 ms pause is inside the utterance", 500 * time.Millisecond, false, 1},
		{"request: the utterance ends 350 ms into the pause", 500 * time.Millisecond, true, 2},
		{"request, but the caller goes on 250 ms into the pause", 250 * time.Millisecond, true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pcm, spans := signal(30, time.Second, b, tc.gap, b, time.Second)
			seg := vad.New(vad.Config{})
			mark := spans[0].end + 150 // where a 150 ms pause is reported
			asked := false
			var evs []vad.Event
			var at []int64
			for i := 0; i < len(pcm); i += 320 {
				if now := int64(i) / 16; tc.ask && !asked && now >= mark+20 {
					seg.EndPause(mark, 350*time.Millisecond)
					asked = true
				}
				n := len(evs)
				evs = seg.Write(pcm[i:min(i+320, len(pcm))], evs)
				for range evs[n:] {
					at = append(at, int64(min(i+320, len(pcm)))/16)
				}
			}
			evs = seg.Flush(evs)
			var utts []int
			for i, ev := range evs {
				t.Logf("%s %d..%d", ev.Kind, ev.StartMS, ev.EndMS)
				if ev.Kind == vad.Utterance {
					utts = append(utts, i)
				}
			}
			if len(utts) != tc.wantUtts {
				t.Fatalf("%d utterances, want %d", len(utts), tc.wantUtts)
			}
			if tc.wantUtts == 2 {
				first := evs[utts[0]]
				if first.EndMS < spans[0].end || first.EndMS > spans[0].end+200 {
					t.Errorf("first utterance ends at %d ms, speech at %d", first.EndMS, spans[0].end)
				}
				if end := at[utts[0]]; end < spans[0].end+330 || end > spans[0].end+450 {
					t.Errorf("first utterance cut at %d ms, want about 350 ms after its speech (%d)", end, spans[0].end)
				}
			}
		})
	}
}
