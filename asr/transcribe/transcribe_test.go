package transcribe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/vad"
	"github.com/contactd/contactd/transcript"
)

// fakeRec "recognises" an utterance as its length, with two words, and
// records what it was asked.
type fakeRec struct {
	mu      sync.Mutex
	narrow  []bool
	lengths []int
	fail    func(n int) error // n: the call's number, from 0
}

func (f *fakeRec) RecognizeOptions(_ context.Context, pcm []int16, o asr.StreamOptions) (asr.Result, error) {
	f.mu.Lock()
	n := len(f.lengths)
	f.narrow, f.lengths = append(f.narrow, o.Narrowband), append(f.lengths, len(pcm))
	f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(n); err != nil {
			return asr.Result{}, err
		}
	}
	ms := int64(len(pcm)) * 1000 / asr.SampleRate
	return asr.Result{Kind: asr.Final, Text: fmt.Sprintf("utterance of %d", ms/100), Confidence: 0.8,
		Words: []asr.Word{{Text: "utterance", StartMS: 0, EndMS: ms / 2}, {Text: "of", StartMS: ms / 2, EndMS: ms}}}, nil
}
func (f *fakeRec) Recognize(ctx context.Context, pcm []int16) (asr.Result, error) {
	return f.RecognizeOptions(ctx, pcm, asr.StreamOptions{})
}
func (f *fakeRec) NewStream(context.Context, asr.StreamOptions) (asr.Stream, error) {
	return nil, errors.New("not used")
}
func (f *fakeRec) Close() error { return nil }

// bursts is rate Hz audio of total seconds with a loud tone in each
// [from, to) second span.
func bursts(rate int, total float64, spans ...[2]float64) []int16 {
	out := make([]int16, int(total*float64(rate)))
	for _, sp := range spans {
		for i := int(sp[0] * float64(rate)); i < int(sp[1]*float64(rate)) && i < len(out); i++ {
			out[i] = int16(8000 * math.Sin(2*math.Pi*300*float64(i)/float64(rate)))
		}
	}
	return out
}

func interleave(a, b []int16) []int16 {
	out := make([]int16, 2*len(a))
	for i := range a {
		out[2*i], out[2*i+1] = a[i], b[i]
	}
	return out
}

func TestCallLabelsSpeakersAndShiftsWords(t *testing.T) {
	rate := 8000
	caller := bursts(rate, 6, [2]float64{3, 4})
	agent := bursts(rate, 6, [2]float64{0.5, 1.5}, [2]float64{4.5, 5.2})
	rec := &fakeRec{}
	res, err := Call(context.Background(), rec, rate, Split(interleave(caller, agent), transcript.Caller, transcript.Agent), vad.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Utterances != 3 || res.Failed != 0 || len(res.Segments) != 3 {
		t.Fatalf("result %+v", res)
	}
	want := []transcript.Speaker{transcript.Agent, transcript.Caller, transcript.Agent}
	for i, s := range res.Segments {
		if s.Speaker != want[i] {
			t.Errorf("segment %d by %s, want %s", i, s.Speaker, want[i])
		}
		if len(s.Words) != 2 || s.Words[0].StartMS != s.StartMS || s.Words[1].EndMS > s.EndMS+20 {
			t.Errorf("segment %d %d-%d words %+v", i, s.StartMS, s.EndMS, s.Words)
		}
	}
	if s := res.Segments[1]; s.StartMS < 2700 || s.StartMS > 3000 || s.EndMS < 4000 || s.EndMS > 4300 {
		t.Errorf("caller's burst at 3-4 s came out at %d-%d ms", s.StartMS, s.EndMS)
	}
	for i, n := range rec.narrow {
		if !n {
			t.Errorf("utterance %d of an 8 kHz call not marked narrowband", i)
		}
	}
	// Utterances reach the recogniser at 16 kHz: the 1 s burst (with
	// pre-roll and tail) is about 1.35 s of 16 kHz samples.
	if l := rec.lengths[0]; l < 18000 || l > 26000 {
		t.Errorf("first utterance %d samples", l)
	}
}

func TestCallFailures(t *testing.T) {
	pcm := bursts(16000, 5, [2]float64{0.5, 1.2}, [2]float64{2.5, 3.2})
	rec := &fakeRec{fail: func(n int) error {
		if n == 0 {
			return errors.New("decoder hiccup")
		}
		return nil
	}}
	res, err := Call(context.Background(), rec, 16000, Split(pcm, transcript.Caller), vad.Config{})
	if err != nil || res.Utterances != 2 || res.Failed != 1 || len(res.Segments) != 1 || rec.narrow[0] {
		t.Errorf("one failed utterance: %+v %v (narrow %v)", res, err, rec.narrow)
	}
	rec = &fakeRec{fail: func(int) error { return fmt.Errorf("key refused: %w", asr.ErrFatal) }}
	if _, err := Call(context.Background(), rec, 16000, Split(pcm, transcript.Caller), vad.Config{}); !errors.Is(err, asr.ErrFatal) {
		t.Errorf("fatal recogniser error: %v", err)
	}
	if _, err := Call(context.Background(), rec, 4000, Split(pcm, transcript.Caller), vad.Config{}); err == nil {
		t.Error("4 kHz accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Call(ctx, &fakeRec{}, 16000, Split(pcm, transcript.Caller), vad.Config{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
