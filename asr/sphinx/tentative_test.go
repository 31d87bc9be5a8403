//go:build cgo

package sphinx_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
)

// trimSilence cuts the near-silent 10 ms frames off both ends.
func trimSilence(pcm []int16) []int16 {
	loud := func(f []int16) bool {
		for _, v := range f {
			if v > 500 || v < -500 {
				return true
			}
		}
		return false
	}
	const fr = asr.SampleRate / 100
	a, b := 0, len(pcm)
	for a+fr <= b && !loud(pcm[a:a+fr]) {
		a += fr
	}
	for b-fr >= a && !loud(pcm[b-fr:b]) {
		b -= fr
	}
	return pcm[a:b]
}

// twoRequests is 500 ms of silence, "Where is my order?", pauseMS of
// silence, "I forgot my password." and 1.5 s of silence at 16 kHz, and
// the length of the first request.
func twoRequests(t *testing.T, pauseMS int) ([]int16, int) {
	t.Helper()
	a := trimSilence(synth(t, "Where is my order?"))
	b := trimSilence(synth(t, "I forgot my password."))
	audio := make([]int16, 8000, 8000+len(a)+pauseMS*16+len(b)+24000)
	audio = append(audio, a...)
	audio = append(audio, make([]int16, pauseMS*16)...)
	audio = append(audio, b...)
	audio = append(audio, make([]int16, 24000)...)
	return audio, len(a)
}

// writeRealTime writes 16 kHz audio to st in 20 ms frames, one per 20 ms,
// as a call's audio comes.
func writeRealTime(st asr.Stream, audio []int16) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < len(audio); i += 320 {
		<-tick.C
		st.Write(audio[i:min(i+320, len(audio))])
	}
}

// TestStreamTentatives speaks one utterance with a 400 ms pause inside it,
// in real time: the stream reports the words before the pause as a
// Tentative, the whole as a Tentative at the final pause when a decoder is
// free (the same text as the Final, which is made from that decode), and
// then one Final; every Tentative comes after the SpeechStart and before
// the Final, with the Final's start.
func TestStreamTentatives(t *testing.T) {
	r := newRecognizer(t, 2)
	audio, lenA := twoRequests(t, 400)
	pauseAt := int64(500 + lenA/16)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := r.NewStream(ctx, asr.StreamOptions{Label: "test/tentative"})
	if err != nil {
		t.Fatal(err)
	}
	var got []asr.Result
	done := make(chan struct{})
	go func() {
		defer close(done)
		for res := range st.Results() {
			t.Logf("%v %d..%d %q", res.Kind, res.StartMS, res.EndMS, res.Text)
			got = append(got, res)
		}
	}()
	// Real time: the pause must be a pause to the speculator too.
	writeRealTime(st, audio)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
	if n, u := st.(interface{ Dropped() (int64, int64) }).Dropped(); n != 0 || u != 0 {
		t.Fatalf("dropped %d samples, %d utterances", n, u)
	}
	if len(got) < 3 || got[0].Kind != asr.SpeechStart || got[len(got)-1].Kind != asr.Final {
		t.Fatalf("want SpeechStart, Tentative..., Final; got %d results", len(got))
	}
	fin := got[len(got)-1]
	if !strings.Contains(fin.Text, "order") || !strings.Contains(fin.Text, "password") {
		t.Fatalf("final %q", fin.Text)
	}
	var early bool
	for _, res := range got[1 : len(got)-1] {
		if res.Kind != asr.Tentative {
			t.Fatalf("%v between the SpeechStart and the Final", res.Kind)
		}
		if d := res.StartMS - fin.StartMS; d < -30 || d > 30 {
			t.Fatalf("tentative starts at %d, final at %d", res.StartMS, fin.StartMS)
		}
		if res.EndMS < pauseAt+400 {
			early = true
			if !strings.Contains(res.Text, "order") || strings.Contains(res.Text, "password") {
				t.Fatalf("tentative at the inner pause: %q", res.Text)
			}
		} else if res.EndMS == fin.EndMS && res.Text != fin.Text {
			t.Fatalf("tentative of the whole %q, final %q", res.Text, fin.Text)
		}
	}
	if !early {
		t.Fatal("no tentative at the pause inside the utterance")
	}
}

// TestStreamEndPause: a consumer that finds the words of the Tentative at
// a 500 ms pause complete asks for the utterance to end 300 ms into it
// (asr.PauseEnder): the stream cuts two utterances where its
// end-of-speech silence (600 ms) would have made one, and the speculator
// follows the cut (the second utterance's Final, like the first's, comes
// from a speculative decode of exactly its audio).
func TestStreamEndPause(t *testing.T) {
	r := newRecognizer(t, 2)
	audio, _ := twoRequests(t, 500)

	for _, ask := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		st, err := r.NewStream(ctx, asr.StreamOptions{Label: "test/endpause"})
		if err != nil {
			t.Fatal(err)
		}
		var finals []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			asked := false
			for res := range st.Results() {
				t.Logf("ask=%v: %v %d..%d %q", ask, res.Kind, res.StartMS, res.EndMS, res.Text)
				switch res.Kind {
				case asr.Tentative:
					if ask && !asked && strings.Contains(res.Text, "order") {
						st.(asr.PauseEnder).EndPause(res.EndMS, 300*time.Millisecond)
						asked = true
					}
				case asr.Final:
					finals = append(finals, res.Text)
				}
			}
		}()
		writeRealTime(st, audio)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		<-done
		if !ask {
			if len(finals) != 1 {
				t.Fatalf("without EndPause: finals %q, want one", finals)
			}
			continue
		}
		if len(finals) != 2 || !strings.Contains(finals[0], "order") || strings.Contains(finals[0], "password") || !strings.Contains(finals[1], "password") {
			t.Fatalf("with EndPause: finals %q, want the order, then the password", finals)
		}
		if hits, misses := st.(interface{ Speculations() (int64, int64) }).Speculations(); hits != 2 || misses != 0 {
			t.Fatalf("speculations: %d hits, %d misses, want 2 and 0", hits, misses)
		}
	}
}
