package tts

import (
	"context"

	"github.com/contactd/contactd/registry"
)

// Voicer is implemented by synthesizers that can name the voice they speak
// with; Cache keys prompts by text and voice, so two voices never share a
// recording.
type Voicer interface {
	Voice() string
}

// VoiceOf returns s.Voice() when s implements Voicer, else "".
func VoiceOf(s Synthesizer) string {
	if v, ok := s.(Voicer); ok {
		return v.Voice()
	}
	return ""
}

// Config is what a provider factory gets.
type Config struct {
	// Options are the provider's own settings from the config file.
	Options map[string]string
	// DataDir is a writable directory the provider may keep files in.
	DataDir string
}

// Factory builds a Synthesizer.
type Factory func(ctx context.Context, cfg Config) (Synthesizer, error)

var providers = registry.New[Factory]("tts")

// Register makes a provider available by name. It panics on a nil factory
// or a duplicate name, as database/sql.Register does.
func Register(name string, f Factory) { providers.Register(name, f) }

// Providers lists the registered provider names.
func Providers() []string { return providers.Names() }

// New builds the named provider.
func New(ctx context.Context, name string, cfg Config) (Synthesizer, error) {
	f, err := providers.Get(name)
	if err != nil {
		return nil, err
	}
	return f(ctx, cfg)
}
