package asr_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
)

// tone makes d of a loud 300 Hz tone, a stand-in for speech.
func tone(d time.Duration) []int16 {
	out := make([]int16, int(d.Seconds()*asr.SampleRate))
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*300*float64(i)/asr.SampleRate))
	}
	return out
}

func TestSegmentedStreamOrderAndClose(t *testing.T) {
	n := 0
	decode := func(ctx context.Context, pcm []int16) (asr.Result, error) {
		n++
		time.Sleep(20 * time.Millisecond) // a slow decoder must not reorder
		return asr.Result{Text: fmt.Sprintf("utt%d len%d", n, len(pcm)/1600)}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := asr.NewSegmentedStream(ctx, decode, asr.SegmentedOptions{})
	silence := make([]int16, asr.SampleRate)
	for _, p := range [][]int16{silence, tone(time.Second), silence, tone(2 * time.Second), silence} {
		st.Write(p)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st.Write(silence) // after Close: dropped, no panic
	// A SpeechStart may overtake the previous Final; Finals keep order.
	var starts int
	var finals []string
	for r := range st.Results() {
		switch r.Kind {
		case asr.SpeechStart:
			starts++
		case asr.Final:
			finals = append(finals, fmt.Sprintf("%s@%d", r.Text, r.StartMS/1000))
		}
	}
	want := []string{"utt1 len13@0", "utt2 len23@2"}
	if starts != 2 || len(finals) != 2 || finals[0] != want[0] || finals[1] != want[1] {
		t.Fatalf("starts=%d finals=%q want %q", starts, finals, want)
	}
	if s, _ := st.Dropped(); s != asr.SampleRate {
		t.Fatalf("dropped %d samples, want %d", s, asr.SampleRate)
	}
	if err := st.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestSegmentedStreamFailure(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name        string
		maxFailures int
		err         error
		wantEnded   bool
	}{
		{"transient failure keeps going", 0, boom, false},
		{"two failures in a row end it", 2, boom, true},
		{"fatal ends it at once", 0, fmt.Errorf("x: %w", asr.ErrFatal), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			decode := func(ctx context.Context, pcm []int16) (asr.Result, error) { return asr.Result{}, tc.err }
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st := asr.NewSegmentedStream(ctx, decode, asr.SegmentedOptions{MaxFailures: tc.maxFailures})
			silence := make([]int16, asr.SampleRate)
			st.Write(silence)
			for range 3 {
				st.Write(tone(time.Second))
				st.Write(silence)
			}
			ended := false
			deadline := time.After(5 * time.Second)
		read:
			for {
				select {
				case _, ok := <-st.Results():
					if !ok {
						ended = true
						break read
					}
				case <-deadline:
					break read
				case <-time.After(1500 * time.Millisecond):
					break read // quiet: the stream is still open
				}
			}
			if ended != tc.wantEnded {
				t.Fatalf("Results closed before Close = %v, want %v", ended, tc.wantEnded)
			}
			st.Close()
			if err := asr.StreamErr(st); !errors.Is(err, tc.err) {
				t.Fatalf("StreamErr = %v, want %v", err, tc.err)
			}
			for range st.Results() {
			}
		})
	}
}

// TestSegmentedStreamTentativeOrder: a Tentative comes after the Finals of
// the utterances before its own and before its own Final; one whose Final
// has gone is dropped; one for audio the VAD has not reached waits.
func TestSegmentedStreamTentativeOrder(t *testing.T) {
	release, decoding := make(chan struct{}), make(chan struct{})
	calls := 0
	decode := func(ctx context.Context, pcm []int16) (asr.Result, error) {
		calls++
		if calls == 1 {
			close(decoding)
			select { // the first utterance decodes slowly
			case <-release:
			case <-ctx.Done():
				return asr.Result{}, ctx.Err()
			}
		}
		return asr.Result{Text: fmt.Sprintf("final%d", calls)}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st := asr.NewSegmentedStream(ctx, decode, asr.SegmentedOptions{})
	defer st.Close()
	silence := make([]int16, asr.SampleRate)
	next := func() asr.Result {
		t.Helper()
		select {
		case r := <-st.Results():
			t.Logf("%v %d..%d %q", r.Kind, r.StartMS, r.EndMS, r.Text)
			return r
		case <-ctx.Done():
			t.Fatal("no result")
		}
		return asr.Result{}
	}
	// Utterance 0 (1-2 s), cut and stuck in the decoder; utterance 1 open.
	for _, p := range [][]int16{silence, tone(time.Second), silence, tone(time.Second)} {
		st.Write(p)
	}
	var starts []int64
	for len(starts) < 2 {
		if r := next(); r.Kind == asr.SpeechStart {
			starts = append(starts, r.StartMS)
		} else {
			t.Fatalf("want two SpeechStarts first, got %v", r.Kind)
		}
	}
	select {
	case <-decoding:
	case <-ctx.Done():
		t.Fatal("utterance 0 never decoded")
	}
	st.Tentative(1, asr.Result{Text: "so far", StartMS: starts[1] - 200, EndMS: 3900})
	st.Tentative(1, asr.Result{Text: "ahead of the audio", StartMS: starts[1] - 200, EndMS: 60000})
	select {
	case r := <-st.Results():
		t.Fatalf("%v %q before the first Final", r.Kind, r.Text)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	want := []string{"Final final1", "Tentative so far"}
	for _, w := range want {
		if r := next(); fmt.Sprintf("%v %s", kindName(r.Kind), r.Text) != w {
			t.Fatalf("got %v %q, want %s", r.Kind, r.Text, w)
		}
	}
	st.Tentative(0, asr.Result{Text: "stale", StartMS: 800, EndMS: 1900}) // its Final has gone
	st.Write(silence)                                                     // ends utterance 1
	for _, w := range []string{"Tentative ahead of the audio", "Final final2"} {
		r := next()
		if got := fmt.Sprintf("%v %s", kindName(r.Kind), r.Text); got != w {
			t.Fatalf("got %s, want %s", got, w)
		}
		if r.StartMS != starts[1]-200 {
			t.Fatalf("%s starts at %d, want %d", w, r.StartMS, starts[1]-200)
		}
	}
	st.Tentative(1, asr.Result{Text: "after its final"})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for r := range st.Results() {
		t.Fatalf("after the last Final: %v %q", r.Kind, r.Text)
	}
}

func kindName(k asr.Kind) string {
	return map[asr.Kind]string{asr.SpeechStart: "SpeechStart", asr.Partial: "Partial", asr.Final: "Final", asr.Tentative: "Tentative"}[k]
}

// TestSegmentedStreamEndPause: EndPause at a pause ends the utterance
// there once the short silence has passed; a request whose pause the
// speaker breaks (speech after it) changes nothing.
func TestSegmentedStreamEndPause(t *testing.T) {
	for _, tc := range []struct {
		name   string
		gap    time.Duration
		ask    bool
		finals int
	}{
		{"a 500 ms pause is inside the utterance", 500 * time.Millisecond, false, 1},
		{"ended at the pause", 500 * time.Millisecond, true, 2},
		{"the speaker went on before the short silence", 250 * time.Millisecond, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			decode := func(ctx context.Context, pcm []int16) (asr.Result, error) {
				return asr.Result{Text: fmt.Sprintf("len%d", len(pcm)/1600)}, nil
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st := asr.NewSegmentedStream(ctx, decode, asr.SegmentedOptions{})
			var _ asr.PauseEnder = st
			st.Write(make([]int16, asr.SampleRate)) // the VAD's noise floor
			st.Write(tone(time.Second))
			st.Write(make([]int16, asr.SampleRate/5)) // the 150 ms pause is reported in here
			if tc.ask {
				st.EndPause(2150, 350*time.Millisecond)
			}
			st.Write(make([]int16, int(tc.gap.Seconds()*asr.SampleRate)-asr.SampleRate/5))
			st.Write(tone(time.Second))
			st.Write(make([]int16, asr.SampleRate))
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			var finals []string
			for r := range st.Results() {
				if r.Kind == asr.Final {
					finals = append(finals, fmt.Sprintf("%s %d..%d", r.Text, r.StartMS, r.EndMS))
				}
			}
			if len(finals) != tc.finals {
				t.Fatalf("finals %q, want %d", finals, tc.finals)
			}
		})
	}
}
