//go:build cgo

package sphinx_test

import (
	"context"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/media"
)

// speechSpan is where pcm is loud (20 ms frames over RMS 300), in ms.
func speechSpan(pcm []int16) (from, to int64) {
	from = -1
	for off := 0; off+media.FrameSamples <= len(pcm); off += media.FrameSamples {
		if media.RMS(pcm[off:off+media.FrameSamples]) > 300 {
			if from < 0 {
				from = int64(off) * 1000 / asr.SampleRate
			}
			to = int64(off+media.FrameSamples) * 1000 / asr.SampleRate
		}
	}
	return from, to
}

// TestStreamWordTimes: a stream's finals carry their words with times on
// the stream's clock that fall where each word was said: inside the
// utterance's speech, in order, the first near its start and the last
// near its end, for an utterance that starts seconds into the stream.
func TestStreamWordTimes(t *testing.T) {
	r := newRecognizer(t, 1)
	clips := []struct {
		text, first, last string
	}{
		{"Where is my order?", "where", "order"},
		{"I forgot my password.", "i", "password"},
	}
	var audio []int16
	type span struct{ from, to int64 }
	var spans []span
	for i, c := range clips {
		pad := 500 + 1500*i // ms of silence before
		audio = append(audio, make([]int16, pad*asr.SampleRate/1000)...)
		pcm := synth(t, c.text)
		from, to := speechSpan(pcm)
		at := int64(len(audio)) * 1000 / asr.SampleRate
		spans = append(spans, span{at + from, at + to})
		audio = append(audio, pcm...)
	}
	audio = append(audio, make([]int16, asr.SampleRate)...)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := r.NewStream(ctx, asr.StreamOptions{Label: "test/words"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(audio); i += 3200 {
		st.Write(audio[i:min(i+3200, len(audio))])
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var finals []asr.Result
	for res := range st.Results() {
		if res.Kind == asr.Final {
			finals = append(finals, res)
			t.Logf("%d..%d %q words %+v", res.StartMS, res.EndMS, res.Text, res.Words)
		}
	}
	if len(finals) != len(clips) {
		t.Fatalf("%d finals, want %d", len(finals), len(clips))
	}
	const slack = 250 // ms: a frame decision, VAD padding, the model's own alignment
	for i, f := range finals {
		c, sp := clips[i], spans[i]
		if len(f.Words) < 3 {
			t.Fatalf("utterance %d: words %+v", i, f.Words)
		}
		prev := sp.from - slack
		for _, w := range f.Words {
			if w.StartMS < prev || w.EndMS <= w.StartMS || w.EndMS > sp.to+slack {
				t.Errorf("utterance %d (speech %d-%d ms): word %+v out of place or order", i, sp.from, sp.to, w)
			}
			prev = w.EndMS
		}
		first, last := f.Words[0], f.Words[len(f.Words)-1]
		if first.Text != c.first || last.Text != c.last {
			t.Errorf("utterance %d: words %q … %q, want %q … %q", i, first.Text, last.Text, c.first, c.last)
		}
		if d := first.StartMS - sp.from; d < -slack || d > slack {
			t.Errorf("utterance %d: first word at %d ms, speech starts at %d ms", i, first.StartMS, sp.from)
		}
		if d := last.EndMS - sp.to; d < -slack || d > slack {
			t.Errorf("utterance %d: last word ends at %d ms, speech ends at %d ms", i, last.EndMS, sp.to)
		}
	}
}
