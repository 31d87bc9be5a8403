package prompts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/tts"
)

func init() {
	tts.Register("prompts", New)
}

// ErrNoPrompt reports a text that has no recording and no fallback.
var ErrNoPrompt = errors.New("prompts: no recording for this text")

// Set is a directory of recorded prompts with a fallback synthesizer.
// It is safe for concurrent use; its recordings are read-only.
type Set struct {
	dir      string
	pcm      map[string][]int16
	fallback tts.Synthesizer // nil: none
}

var (
	_ tts.Synthesizer = (*Set)(nil)
	_ tts.Voicer      = (*Set)(nil)
)

// New loads the prompt set (see the package doc for the options). It is a
// tts.Factory.
func New(ctx context.Context, cfg tts.Config) (tts.Synthesizer, error) {
	dir := strings.TrimSpace(cfg.Options["dir"])
	if dir == "" {
		return nil, errors.New("prompts: option dir is required")
	}
	s, err := Load(dir)
	if err != nil {
		return nil, err
	}
	fb := strings.TrimSpace(cfg.Options["fallback"])
	if fb == "" {
		fb = "espeak"
	}
	if fb == "prompts" {
		return nil, errors.New("prompts: fallback cannot be prompts itself")
	}
	if fb != "none" {
		opts := map[string]string{}
		for k, v := range cfg.Options {
			if name, ok := strings.CutPrefix(k, "fallback."); ok {
				opts[name] = v
			}
		}
		if s.fallback, err = tts.New(ctx, fb, tts.Config{Options: opts, DataDir: cfg.DataDir}); err != nil {
			return nil, fmt.Errorf("prompts: fallback: %w", err)
		}
	}
	return s, nil
}

// Load reads dir/index.yaml and every recording it names. The Set it
// returns has no fallback.
func Load(dir string) (*Set, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.yaml"))
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	var index map[string]string
	if err := yaml.Unmarshal(b, &index); err != nil {
		return nil, fmt.Errorf("prompts: %s: %w", filepath.Join(dir, "index.yaml"), err)
	}
	s := &Set{dir: dir, pcm: make(map[string][]int16, len(index))}
	for text, file := range index {
		key := strings.TrimSpace(text)
		if key == "" || strings.TrimSpace(file) == "" {
			return nil, fmt.Errorf("prompts: index.yaml: entry %q: %q: want non-empty text and file", text, file)
		}
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		pcm, err := readMono(file)
		if err != nil {
			return nil, fmt.Errorf("prompts: recording for %q: %w", key, err)
		}
		s.pcm[key] = pcm
	}
	return s, nil
}

func readMono(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pcm, rate, ch, err := media.ReadWAV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if ch != 1 {
		mono := make([]int16, len(pcm)/ch)
		for i := range mono {
			mono[i] = pcm[i*ch]
		}
		pcm = mono
	}
	if len(pcm) == 0 {
		return nil, fmt.Errorf("%s: no audio", path)
	}
	return media.Resample(pcm, rate, tts.SampleRate), nil
}

// Len is the number of recordings.
func (s *Set) Len() int { return len(s.pcm) }

// Voice names the directory and the fallback's voice, so prompt caches
// keep prompt sets apart.
func (s *Set) Voice() string {
	v := "prompts:" + s.dir
	if s.fallback != nil {
		v += "+" + tts.VoiceOf(s.fallback)
	}
	return v
}

// Synthesize returns the recording for text, or asks the fallback. The
// recordings are shared: do not modify the slices returned.
func (s *Set) Synthesize(ctx context.Context, text string) ([]int16, error) {
	if pcm, ok := s.pcm[strings.TrimSpace(text)]; ok {
		return pcm, nil
	}
	if s.fallback == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoPrompt, text)
	}
	return s.fallback.Synthesize(ctx, text)
}
