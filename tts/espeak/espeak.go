package espeak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/tts"
)

func init() {
	tts.Register("espeak", func(ctx context.Context, cfg tts.Config) (tts.Synthesizer, error) {
		o := Options{Program: cfg.Options["program"], Voice: strings.TrimSpace(cfg.Options["voice"])}
		if v := strings.TrimSpace(cfg.Options["speed"]); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 80 || n > 500 {
				return nil, fmt.Errorf("espeak: option speed=%q: want words per minute, 80-500", v)
			}
			o.Speed = n
		}
		return New(o), nil
	})
}

// ErrNotInstalled reports that the espeak-ng program was not found.
var ErrNotInstalled = errors.New("espeak: espeak-ng not found in PATH (Debian: apt-get install espeak-ng)")

// Options tune a Synth. Zero fields take defaults.
type Options struct {
	// Program is the espeak-ng binary (default "espeak-ng", looked up in PATH).
	Program string
	// Voice is an espeak-ng voice name (default "en-us").
	Voice string
	// Speed in words per minute (default 160).
	Speed int
}

// Synth implements tts.Synthesizer with espeak-ng. It is safe for
// concurrent use: every call runs its own process.
type Synth struct {
	opts Options
}

var _ tts.Synthesizer = (*Synth)(nil)

// New returns a Synth. It does not look for the program: the first
// Synthesize reports ErrNotInstalled if it is missing.
func New(opts Options) *Synth {
	if opts.Program == "" {
		opts.Program = "espeak-ng"
	}
	if opts.Voice == "" {
		opts.Voice = "en-us"
	}
	if opts.Speed <= 0 {
		opts.Speed = 160
	}
	return &Synth{opts: opts}
}

// Voice names the voice and speed, so prompt caches keep them apart.
func (s *Synth) Voice() string { return fmt.Sprintf("espeak/%s/%d", s.opts.Voice, s.opts.Speed) }

// String describes the synthesiser for logs.
func (s *Synth) String() string {
	return fmt.Sprintf("espeak(%s, %d wpm)", s.opts.Voice, s.opts.Speed)
}

// Synthesize renders text as 16 kHz mono PCM.
func (s *Synth) Synthesize(ctx context.Context, text string) ([]int16, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("espeak: empty text")
	}
	prog, err := exec.LookPath(s.opts.Program)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotInstalled, err)
	}
	// "--" ends the options, so a prompt starting with "-" stays text.
	cmd := exec.CommandContext(ctx, prog, "--stdout", "-v", s.opts.Voice,
		"-s", strconv.Itoa(s.opts.Speed), "--", text)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("espeak: %w", ctx.Err())
		}
		return nil, fmt.Errorf("espeak: %s: %w: %s", prog, err, strings.TrimSpace(stderr.String()))
	}
	// espeak-ng writes a placeholder data size to a pipe; media.ReadWAV
	// takes the samples that are there.
	pcm, rate, ch, err := media.ReadWAV(bytes.NewReader(stdout.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("espeak: output of %s: %w", prog, err)
	}
	if ch != 1 {
		return nil, fmt.Errorf("espeak: output of %s: %d channels, want 1", prog, ch)
	}
	return media.Resample(pcm, rate, tts.SampleRate), nil
}
