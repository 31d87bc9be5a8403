package espeak

import (
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/contactd/contactd/tts"
)

func needEspeak(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
}

func TestSynthesize(t *testing.T) {
	needEspeak(t)
	pcm, err := New(Options{}).Synthesize(context.Background(), "Thank you for calling. Please say what you need.")
	if err != nil {
		t.Fatal(err)
	}
	secs := float64(len(pcm)) / 16000
	if secs < 1.5 || secs > 8 {
		t.Fatalf("duration %.2fs out of range", secs)
	}
	var peak int16
	for _, v := range pcm {
		peak = max(peak, v, -v)
	}
	if peak < 3000 {
		t.Fatalf("peak %d: audio looks silent", peak)
	}
}

func TestSynthesizeErrors(t *testing.T) {
	tests := []struct {
		name string
		s    *Synth
		ctx  func() context.Context
		text string
		want error
	}{
		{"missing program", New(Options{Program: "no-such-espeak-binary"}), context.Background, "hi", ErrNotInstalled},
		{"empty text", New(Options{}), context.Background, "  ", nil},
		{"cancelled", New(Options{}), func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, "hello", context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want != ErrNotInstalled {
				needEspeak(t)
			}
			_, err := tc.s.Synthesize(tc.ctx(), tc.text)
			if err == nil {
				t.Fatal("want error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err=%v, want %v", err, tc.want)
			}
		})
	}
}

func TestTextStartingWithDashIsSpoken(t *testing.T) {
	needEspeak(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pcm, err := New(Options{}).Synthesize(ctx, "-v is not an option here")
	if err != nil || len(pcm) < 8000 {
		t.Fatalf("len=%d err=%v", len(pcm), err)
	}
}

func TestRegistered(t *testing.T) {
	s, err := tts.New(context.Background(), "espeak", tts.Config{Options: map[string]string{"voice": "en-gb", "speed": "150"}})
	if err != nil {
		t.Fatal(err)
	}
	if v := tts.VoiceOf(s); v != "espeak/en-gb/150" {
		t.Fatalf("voice %q", v)
	}
	if _, err := tts.New(context.Background(), "espeak", tts.Config{Options: map[string]string{"speed": "fast"}}); err == nil {
		t.Fatal("bad speed: want error")
	}
}
