package none_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
	_ "github.com/contactd/contactd/asr/none"
)

// The provider is found by name the way serve finds it, takes a call's
// worth of real audio without blocking, reports nothing and closes.
func TestNoneDiscardsAudioAndReportsNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec, err := asr.New(ctx, "none", asr.Config{Options: map[string]string{}})
	if err != nil {
		t.Fatalf("asr.New(none): %v", err)
	}
	defer rec.Close()
	s, err := rec.NewStream(ctx, asr.StreamOptions{Label: "call/caller", Narrowband: true})
	if err != nil {
		t.Fatal(err)
	}
	tone := make([]int16, 3*asr.SampleRate) // 3 s of a loud 440 Hz tone
	for i := range tone {
		tone[i] = int16(16000 * math.Sin(2*math.Pi*440*float64(i)/asr.SampleRate))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i+320 <= len(tone); i += 320 {
			s.Write(tone[i : i+320]) // 20 ms frames
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Write blocked")
	}
	select {
	case r := <-s.Results():
		t.Fatalf("got a result %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // twice is fine
		t.Fatal(err)
	}
	if r, ok := <-s.Results(); ok {
		t.Fatalf("Results not closed after Close: %+v", r)
	}
	if err := asr.StreamErr(s); err != nil {
		t.Fatalf("StreamErr = %v", err)
	}
	r, err := rec.Recognize(ctx, tone)
	if err != nil || r.Text != "" {
		t.Fatalf("Recognize = %+v, %v; want empty", r, err)
	}
}

// A stream ends with its context, like the other providers' streams.
func TestNoneStreamEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := (asrNone(t)).NewStream(ctx, asr.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case _, ok := <-s.Results():
		if ok {
			t.Fatal("a result after cancel")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Results still open after the context ended")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := (asrNone(t)).NewStream(ctx, asr.StreamOptions{}); err == nil {
		t.Fatal("NewStream on an ended context: want an error")
	}
}

func asrNone(t *testing.T) asr.Recognizer {
	t.Helper()
	rec, err := asr.New(context.Background(), "none", asr.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}
