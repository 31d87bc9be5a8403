// Package registry is the name → factory table behind every pluggable part
// (speech recognisers, synthesizers), in the manner of database/sql.Register:
// providers register in init in their own packages, cmd imports them.
package registry

import (
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// Registry maps provider names to factories of type F.
type Registry[F any] struct {
	kind string // "asr", "tts": used in messages
	mu   sync.Mutex
	m    map[string]F
}

// New returns an empty registry; kind names it in panics and errors.
func New[F any](kind string) *Registry[F] {
	return &Registry[F]{kind: kind, m: map[string]F{}}
}

// Register makes a provider available by name. It panics on a nil factory
// or a duplicate name: both are programming errors found at start-up.
func (r *Registry[F]) Register(name string, f F) {
	if v := reflect.ValueOf(f); !v.IsValid() || (v.Kind() == reflect.Func && v.IsNil()) {
		panic(r.kind + ": Register factory is nil")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[name]; dup {
		panic(r.kind + ": Register called twice for " + name)
	}
	r.m[name] = f
}

// Names lists the registered providers, sorted.
func (r *Registry[F]) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Get returns the named provider's factory, or an error naming the ones
// there are.
func (r *Registry[F]) Get(name string) (F, error) {
	r.mu.Lock()
	f, ok := r.m[name]
	r.mu.Unlock()
	if !ok {
		var zero F
		return zero, fmt.Errorf("%s: unknown provider %q (have %v)", r.kind, name, r.Names())
	}
	return f, nil
}
