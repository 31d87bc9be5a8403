package call

import (
	"context"
	"strings"
	"sync"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/media"
)

// scriptASR is a recogniser for tests that hears only loudness: each loud
// stretch of a stream's audio (a tone burst) followed by 300 ms of quiet
// is one utterance, reported as a Final with the next line of that
// channel's script and its words spread evenly over the stretch. Times
// count the samples written, as a real stream's do. Lines run out: later
// utterances are reported as "unscripted".
type scriptASR struct {
	mu      sync.Mutex
	scripts map[string][]string // by channel: "caller", "agent"
	streams []*scriptStream
}

func (r *scriptASR) NewStream(ctx context.Context, opts asr.StreamOptions) (asr.Stream, error) {
	ch := opts.Label[strings.LastIndexByte(opts.Label, '/')+1:]
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &scriptStream{script: r.scripts[ch], out: make(chan asr.Result, 64)}
	r.streams = append(r.streams, s)
	return s, nil
}

func (r *scriptASR) Recognize(context.Context, []int16) (asr.Result, error) {
	return asr.Result{Kind: asr.Final}, nil
}

func (r *scriptASR) Close() error { return nil }

type scriptStream struct {
	mu       sync.Mutex
	script   []string
	next     int
	n        int64 // samples written
	inRun    bool
	runStart int64
	lastLoud int64
	loud     int64 // samples of loud audio written, in all
	closed   bool
	out      chan asr.Result
}

const (
	scriptLoud  = 1000                      // RMS of a loud frame
	scriptQuiet = media.SampleRate * 3 / 10 // 300 ms ends an utterance
)

func (s *scriptStream) Write(pcm []int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for off := 0; off < len(pcm); off += media.FrameSamples {
		f := pcm[off:min(off+media.FrameSamples, len(pcm))]
		if media.RMS(f) > scriptLoud {
			if !s.inRun {
				s.inRun, s.runStart = true, s.n
			}
			s.lastLoud = s.n + int64(len(f))
			s.loud += int64(len(f))
		}
		s.n += int64(len(f))
		if s.inRun && s.n-s.lastLoud > scriptQuiet {
			s.emit()
		}
	}
}

// emit reports the utterance in progress.
func (s *scriptStream) emit() {
	s.inRun = false
	text := "unscripted"
	if s.next < len(s.script) {
		text = s.script[s.next]
	}
	s.next++
	ms := func(n int64) int64 { return n * 1000 / media.SampleRate }
	r := asr.Result{Kind: asr.Final, Text: text, StartMS: ms(s.runStart), EndMS: ms(s.lastLoud), Confidence: 0.9}
	words := strings.Fields(text)
	span := (r.EndMS - r.StartMS) / int64(len(words))
	for i, w := range words {
		r.Words = append(r.Words, asr.Word{Text: w, StartMS: r.StartMS + int64(i)*span, EndMS: r.StartMS + int64(i+1)*span, Conf: 0.9})
	}
	select {
	case s.out <- r:
	default:
	}
}

func (s *scriptStream) Results() <-chan asr.Result { return s.out }

func (s *scriptStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if s.inRun {
		s.emit()
	}
	s.closed = true
	close(s.out)
	return nil
}

// loudMS is how much loud audio the stream was given.
func (s *scriptStream) loudMS() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loud * 1000 / media.SampleRate
}
