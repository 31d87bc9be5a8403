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
