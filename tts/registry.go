package tts

import (
	"context"
	"fmt"
	"sort"
	"sync"
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

var (
	mu        sync.Mutex
	factories = map[string]Factory{}
)

// Register makes a provider available by name. It panics on a nil factory
// or a duplicate name, as database/sql.Register does.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if f == nil {
		panic("tts: Register factory is nil")
	}
	if _, dup := factories[name]; dup {
		panic("tts: Register called twice for " + name)
	}
	factories[name] = f
}

// Providers lists the registered provider names.
func Providers() []string {
	mu.Lock()
	defer mu.Unlock()
	names := make([]string, 0, len(factories))
	for n := range factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New builds the named provider.
func New(ctx context.Context, name string, cfg Config) (Synthesizer, error) {
	mu.Lock()
	f := factories[name]
	mu.Unlock()
	if f == nil {
		return nil, fmt.Errorf("tts: unknown provider %q (have %v)", name, Providers())
	}
	return f(ctx, cfg)
}
