package none

import (
	"context"
	"sync"

	"github.com/contactd/contactd/asr"
)

func init() {
	asr.Register("none", func(context.Context, asr.Config) (asr.Recognizer, error) {
		return Recognizer{}, nil
	})
}

// Recognizer opens streams that discard their audio. The zero value is
// ready to use and safe for concurrent use.
type Recognizer struct{}

var (
	_ asr.Recognizer  = Recognizer{}
	_ asr.AudioWanter = Recognizer{}
)

// WantsAudio is false: a call opens no streams for this recogniser and
// decodes no audio for it (asr.WantsAudio).
func (Recognizer) WantsAudio() bool { return false }

// NewStream returns a stream that discards audio; it ends when Close is
// called or ctx ends.
func (Recognizer) NewStream(ctx context.Context, _ asr.StreamOptions) (asr.Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := &stream{results: make(chan asr.Result)}
	s.mu.Lock() // the AfterFunc may run at once: it waits for stop to be set
	s.stop = context.AfterFunc(ctx, func() { s.Close() })
	s.mu.Unlock()
	return s, nil
}

// Recognize returns an empty result: nothing is recognised.
func (Recognizer) Recognize(ctx context.Context, _ []int16) (asr.Result, error) {
	if err := ctx.Err(); err != nil {
		return asr.Result{}, err
	}
	return asr.Result{Kind: asr.Final}, nil
}

// Close does nothing: the recogniser holds no resources.
func (Recognizer) Close() error { return nil }

type stream struct {
	results chan asr.Result

	mu     sync.Mutex
	closed bool
	stop   func() bool // unregisters the close on ctx's end
}

// Write discards pcm.
func (*stream) Write([]int16) {}

func (s *stream) Results() <-chan asr.Result { return s.results }

// Close closes Results; safe twice and concurrently (and when the
// stream's context ends).
func (s *stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.results)
	if s.stop != nil {
		s.stop()
	}
	return nil
}
