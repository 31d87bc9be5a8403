package prompts_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/tts"
	"github.com/contactd/contactd/tts/prompts"
)

// fakeSynth is the fallback: one sample holding the text's length.
type fakeSynth struct{ voice string }

func (f fakeSynth) Synthesize(_ context.Context, text string) ([]int16, error) {
	return []int16{int16(len(text))}, nil
}
func (f fakeSynth) Voice() string { return f.voice }

func init() {
	tts.Register("test-fallback", func(ctx context.Context, cfg tts.Config) (tts.Synthesizer, error) {
		return fakeSynth{voice: cfg.Options["voice"]}, nil
	})
}

func writeWAV(t *testing.T, path string, n, rate, ch int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm := make([]int16, n*ch)
	for i := range pcm {
		pcm[i] = 1000
	}
	if err := media.WriteWAV(f, pcm, rate, ch); err != nil {
		t.Fatal(err)
	}
}

func promptDir(t *testing.T, index string) string {
	t.Helper()
	dir := t.TempDir()
	writeWAV(t, filepath.Join(dir, "hello.wav"), 8000, 8000, 1) // 1 s at 8 kHz
	writeWAV(t, filepath.Join(dir, "bye.wav"), 16000, 16000, 2) // 1 s stereo
	if err := os.WriteFile(filepath.Join(dir, "index.yaml"), []byte(index), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

const goodIndex = "\"Hello, how can I help?\": hello.wav\n\"Goodbye.\": bye.wav\n"

func TestPrompts(t *testing.T) {
	dir := promptDir(t, goodIndex)
	s, err := tts.New(context.Background(), "prompts", tts.Config{Options: map[string]string{
		"dir": dir, "fallback": "test-fallback", "fallback.voice": "anna"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text    string
		wantLen int
	}{
		{"Hello, how can I help?", 16000},
		{"  Goodbye.  ", 16000},
		{"Your order 123 ships today.", 1}, // fallback
		{"hello, how can i help?", 1},      // exact text only
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			pcm, err := s.Synthesize(context.Background(), tc.text)
			if err != nil || len(pcm) != tc.wantLen {
				t.Fatalf("len=%d err=%v, want %d", len(pcm), err, tc.wantLen)
			}
		})
	}
	if v := tts.VoiceOf(s); !strings.Contains(v, dir) || !strings.HasSuffix(v, "+anna") {
		t.Fatalf("voice %q", v)
	}
}

func TestNoFallback(t *testing.T) {
	s, err := tts.New(context.Background(), "prompts", tts.Config{Options: map[string]string{"dir": promptDir(t, goodIndex), "fallback": "none"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Synthesize(context.Background(), "unknown"); !errors.Is(err, prompts.ErrNoPrompt) {
		t.Fatalf("err=%v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		index  string // "" : no index file
		opts   map[string]string
		errHas string
	}{
		{"no dir option", goodIndex, map[string]string{"dir": ""}, "dir is required"},
		{"missing index", "", nil, "index.yaml"},
		{"bad yaml", "[oops", nil, "index.yaml"},
		{"missing file", "\"Hi\": nope.wav\n", nil, "nope.wav"},
		{"not a wav", "\"Hi\": index.yaml\n", nil, "Hi"},
		{"unknown fallback", goodIndex, map[string]string{"fallback": "no-such"}, "fallback"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := promptDir(t, tc.index)
			if tc.index == "" {
				os.Remove(filepath.Join(dir, "index.yaml"))
			}
			o := map[string]string{"dir": dir, "fallback": "none"}
			for k, v := range tc.opts {
				o[k] = v
			}
			_, err := tts.New(context.Background(), "prompts", tts.Config{Options: o})
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("err=%v, want %q", err, tc.errHas)
			}
		})
	}
}
