package metrics

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/contactd/contactd/asr"
)

// Recognizer wraps r so that each stream's final results observe
// contactd_asr_final_latency_seconds: the wall time from when the audio
// at the result's end (EndMS) was written to when the result arrived.
func (m *Metrics) Recognizer(r asr.Recognizer) asr.Recognizer {
	return &recognizer{Recognizer: r, m: m}
}

type recognizer struct {
	asr.Recognizer
	m *Metrics
}

// WantsAudio is the wrapped recogniser's: wrapping one that wants no
// audio (provider none) must not make calls open streams for it.
func (r *recognizer) WantsAudio() bool { return asr.WantsAudio(r.Recognizer) }

func (r *recognizer) NewStream(ctx context.Context, opts asr.StreamOptions) (asr.Stream, error) {
	s, err := r.Recognizer.NewStream(ctx, opts)
	if err != nil {
		return nil, err
	}
	channel := "other"
	if i := strings.LastIndexByte(opts.Label, '/'); i >= 0 { // "<call>/caller", "<call>/agent"
		channel = opts.Label[i+1:]
	}
	ms := &stream{Stream: s, out: make(chan asr.Result, 16), obs: r.m.asrLatency.WithLabelValues(channel),
		abandon: make(chan struct{}), done: make(chan struct{}), start: time.Now()}
	go ms.forward()
	return ms, nil
}

// marks is how many write times a stream remembers: 20 s of 20 ms frames
// (more when audio comes in bursts), longer than a final result takes
// after its audio; 16 KiB per stream, two streams per call.
const marks = 1024

type mark struct {
	endMS int64 // audio written up to here
	at    int64 // when: nanoseconds since the stream started (monotonic)
}

// abandonAfter is how long after Close the wrapper keeps offering results
// nobody takes (a call that gave up flushing) before it drops them, so
// its goroutine ends with the wrapped stream.
var abandonAfter = 30 * time.Second

type stream struct {
	asr.Stream
	out       chan asr.Result
	obs       interface{ Observe(float64) }
	closeOnce sync.Once
	abandon   chan struct{} // closed abandonAfter after Close
	done      chan struct{} // closed when forward returns

	mu      sync.Mutex
	start   time.Time
	samples int64
	ring    [marks]mark
	n       int // marks written in total
}

// Write notes when the audio up to its end was written; it never blocks.
func (s *stream) Write(pcm []int16) {
	s.mu.Lock()
	s.samples += int64(len(pcm))
	s.ring[s.n%marks] = mark{endMS: s.samples * 1000 / asr.SampleRate, at: int64(time.Since(s.start))}
	s.n++
	s.mu.Unlock()
	s.Stream.Write(pcm)
}

// writtenAt is when the audio at ms had been written; false when that is
// no longer (or not yet) known.
func (s *stream) writtenAt(ms int64) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lo := max(0, s.n-marks)
	if s.n == 0 || s.ring[lo%marks].endMS > ms+20 || s.ring[(s.n-1)%marks].endMS < ms {
		return time.Time{}, false
	}
	// The first mark at or past ms (marks grow with n).
	hi := s.n - 1
	for lo < hi {
		mid := (lo + hi) / 2
		if s.ring[mid%marks].endMS < ms {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return s.start.Add(time.Duration(s.ring[lo%marks].at)), true
}

func (s *stream) forward() {
	defer close(s.done)
	defer close(s.out)
	for r := range s.Stream.Results() {
		if r.Kind == asr.Final && r.EndMS > 0 && strings.TrimSpace(r.Text) != "" {
			if at, ok := s.writtenAt(r.EndMS); ok {
				s.obs.Observe(time.Since(at).Seconds())
			}
		}
		select {
		case s.out <- r:
		case <-s.abandon:
		}
	}
}

// Close ends the wrapped stream's audio.
func (s *stream) Close() error {
	s.closeOnce.Do(func() { time.AfterFunc(abandonAfter, func() { close(s.abandon) }) })
	return s.Stream.Close()
}

func (s *stream) Results() <-chan asr.Result { return s.out }

// Err keeps the wrapped stream's failure visible to asr.StreamErr.
func (s *stream) Err() error { return asr.StreamErr(s.Stream) }

// SetTurns passes on to the wrapped stream (asr.TurnTaker): without it, a
// call could not tell the recogniser that its IVR is over. A no-op for a
// stream that does not take turns.
func (s *stream) SetTurns(on bool) {
	if t, ok := s.Stream.(asr.TurnTaker); ok {
		t.SetTurns(on)
	}
}

// EndPause passes on to the wrapped stream (asr.PauseEnder); a no-op for
// a stream whose utterances cannot end sooner.
func (s *stream) EndPause(atMS int64, silence time.Duration) {
	if p, ok := s.Stream.(asr.PauseEnder); ok {
		p.EndPause(atMS, silence)
	}
}
