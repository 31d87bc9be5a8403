package main

import (
	"context"
	"sync"
	"time"

	"github.com/contactd/contactd/media"
)

// listener collects what a caller hears and tracks when it last heard speech.
type listener struct {
	mu       sync.Mutex
	audio    []int16
	lastLoud time.Time
	heard    bool
}

func (l *listener) run(leg media.Leg) {
	for f := range leg.Frames() {
		l.mu.Lock()
		l.audio = append(l.audio, f...)
		if media.RMS(f) > 300 {
			l.lastLoud, l.heard = time.Now(), true
		}
		l.mu.Unlock()
	}
}

func (l *listener) pcm() []int16 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int16(nil), l.audio...)
}

// waitForSilenceAfterSpeech returns once audio was heard and then quiet for
// gap, or after max.
func (l *listener) waitForSilenceAfterSpeech(ctx context.Context, gap, max time.Duration) {
	deadline := time.Now().Add(max)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.mu.Lock()
		done := l.heard && time.Since(l.lastLoud) > gap
		l.mu.Unlock()
		if done {
			return
		}
	}
}
