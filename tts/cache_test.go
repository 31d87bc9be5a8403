package tts_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/contactd/contactd/tts"
)

// countingSynth is a Synthesizer that counts calls and can be held.
type countingSynth struct {
	calls atomic.Int32
	gate  chan struct{}
	fail  bool
}

func (s *countingSynth) Synthesize(ctx context.Context, text string) ([]int16, error) {
	s.calls.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.fail {
		return nil, errors.New("boom")
	}
	return []int16{int16(len(text))}, nil
}

func TestCacheSingleflight(t *testing.T) {
	s := &countingSynth{gate: make(chan struct{})}
	c := tts.NewCache(s, 10)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pcm, err := c.Synthesize(context.Background(), "hello")
			if err == nil && (len(pcm) != 1 || pcm[0] != 5) {
				err = fmt.Errorf("got %v", pcm)
			}
			errs <- err
		}()
	}
	// Let the leader through once it is in the synthesiser.
	for s.calls.Load() == 0 {
		runtimeGosched()
	}
	close(s.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("synthesised %d times, want 1", n)
	}
	if _, err := c.Synthesize(context.Background(), "hello"); err != nil || s.calls.Load() != 1 {
		t.Fatalf("cached call: err=%v calls=%d", err, s.calls.Load())
	}
}

func TestCacheEvictsAndDoesNotCacheErrors(t *testing.T) {
	tests := []struct {
		name      string
		fail      bool
		texts     []string
		wantCalls int32
	}{
		{"lru keeps two", false, []string{"a", "b", "a", "c", "a", "b"}, 4},
		{"errors retried", true, []string{"a", "a", "a"}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &countingSynth{fail: tc.fail}
			c := tts.NewCache(s, 2)
			for _, txt := range tc.texts {
				_, err := c.Synthesize(context.Background(), txt)
				if (err != nil) != tc.fail {
					t.Fatalf("%q: err=%v", txt, err)
				}
			}
			if got := s.calls.Load(); got != tc.wantCalls {
				t.Fatalf("calls=%d want %d", got, tc.wantCalls)
			}
		})
	}
}

func TestCacheFollowerRetriesWhenLeaderCancels(t *testing.T) {
	s := &countingSynth{gate: make(chan struct{})}
	c := tts.NewCache(s, 2)
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := c.Synthesize(leaderCtx, "x")
		leaderErr <- err
	}()
	for s.calls.Load() == 0 {
		runtimeGosched()
	}
	follower := make(chan error, 1)
	go func() {
		_, err := c.Synthesize(context.Background(), "x")
		follower <- err
	}()
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader err=%v", err)
	}
	close(s.gate)
	if err := <-follower; err != nil {
		t.Fatalf("follower err=%v", err)
	}
}

// voiceSynth speaks with a voice that can be changed.
type voiceSynth struct {
	countingSynth
	voice atomic.Value // string
}

func (s *voiceSynth) Voice() string { return s.voice.Load().(string) }

func TestCacheKeyedByVoice(t *testing.T) {
	s := &voiceSynth{}
	s.voice.Store("anna")
	c := tts.NewCache(s, 10)
	steps := []struct {
		voice     string
		wantCalls int32
	}{{"anna", 1}, {"anna", 1}, {"bob", 2}, {"anna", 2}, {"bob", 2}}
	for i, st := range steps {
		s.voice.Store(st.voice)
		if _, err := c.Synthesize(context.Background(), "hello"); err != nil {
			t.Fatal(err)
		}
		if n := s.calls.Load(); n != st.wantCalls {
			t.Fatalf("step %d (%s): %d syntheses, want %d", i, st.voice, n, st.wantCalls)
		}
	}
	if v := tts.VoiceOf(c); v != "bob" {
		t.Fatalf("cache voice %q", v)
	}
}

type nopSynth struct{}

func (nopSynth) Synthesize(context.Context, string) ([]int16, error) { return nil, nil }

func TestRegistry(t *testing.T) {
	tts.Register("test-nop", func(ctx context.Context, cfg tts.Config) (tts.Synthesizer, error) {
		return nopSynth{}, nil
	})
	if _, err := tts.New(context.Background(), "test-nop", tts.Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tts.New(context.Background(), "no-such", tts.Config{}); err == nil {
		t.Fatal("unknown provider: want error")
	}
	for name, f := range map[string]tts.Factory{"test-nop": func(context.Context, tts.Config) (tts.Synthesizer, error) { return nil, nil }, "nil": nil} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q): want panic", name)
				}
			}()
			tts.Register(name, f)
		}()
	}
}

// leadSynth returns 60 ms of near-silence (dither-like noise) and then a
// loud square wave.
type leadSynth struct{}

func (leadSynth) Synthesize(ctx context.Context, text string) ([]int16, error) {
	pcm := make([]int16, 0, 2000)
	for i := range 960 {
		pcm = append(pcm, int16(i%3-1)*20)
	}
	for i := range 1000 {
		pcm = append(pcm, int16(1-2*(i/8%2))*3000)
	}
	return pcm, nil
}

// TestCacheTrimsLead checks that a cached prompt starts 10 ms before its
// first sound, not after the synthesiser's lead-in, and keeps the rest.
func TestCacheTrimsLead(t *testing.T) {
	c := tts.NewCache(leadSynth{}, 10)
	pcm, err := c.Synthesize(context.Background(), "please hold")
	if err != nil {
		t.Fatal(err)
	}
	first := -1
	for i, v := range pcm {
		if v > 1000 || v < -1000 {
			first = i
			break
		}
	}
	if first != 160 || len(pcm) != 1160 {
		t.Errorf("first sound at sample %d of %d, want 160 (10 ms) of 1160", first, len(pcm))
	}
	if got := tts.TrimLead([]int16{5, -3, 0}); len(got) != 3 {
		t.Errorf("silence alone: %v, want it kept", got)
	}
}
