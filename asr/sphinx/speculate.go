//go:build cgo

package sphinx

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/vad"
)

// specStream is the sphinx stream: an asr.SegmentedStream whose decoder
// may already have the answer when an utterance ends.
//
// A Final can only come after the configured end-of-speech silence
// (silence_ms, 600 ms), and decoding the whole utterance then takes
// RTF × its length: half a second for a long sentence. So a second pair of
// segmenters watches the same audio, and when the speaker has paused for
// speculate_ms (200 ms) the utterance so far is decoded at once, while a
// decoder is idle. If the speaker stays silent, the utterance the stream's
// VAD then cuts is exactly that audio, and its Final is the speculative
// result, ready or nearly so. If the speaker goes on, the speculation is
// wasted CPU and the utterance is decoded as usual. Results are the same
// either way: a speculation is used only for identical audio.
//
// Each speculation's result is also reported as an asr.Tentative (the
// stream places it before the utterance's Final), so a consumer that can
// tell a complete request from a pause inside one need not wait for the
// end-of-speech silence.
type specStream struct {
	*asr.SegmentedStream
	dec   asr.DecodeFunc
	queue chan job // the pool's queue: speculate only while it is empty

	long, short vad.Config
	ctx         context.Context
	cancel      context.CancelFunc

	mu     sync.RWMutex // guards closed against sends on in
	closed bool
	in     chan []int16
	broken atomic.Bool // audio was dropped: the timelines no longer agree
	wg     sync.WaitGroup

	specMu sync.Mutex
	spec   *speculation

	hits, misses atomic.Int64
	log          *slog.Logger
}

type speculation struct {
	seq  int64 // the utterance's number in the stream (asr.SegmentedStream.Tentative)
	at   int64 // its first sample
	pcm  []int16
	done chan struct{}
	res  asr.Result
	err  error
}

// newSpecStream starts the stream and its speculator goroutine; Close
// stops both.
func newSpecStream(ctx context.Context, dec asr.DecodeFunc, queue chan job, long vad.Config, short time.Duration, opts asr.SegmentedOptions) *specStream {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.Label != "" {
		log = log.With("stream", opts.Label)
	}
	s := &specStream{dec: dec, queue: queue, long: long, short: long, in: make(chan []int16, 250), log: log}
	s.short.SilenceEnd = short
	s.ctx, s.cancel = context.WithCancel(ctx)
	opts.VAD = long
	s.SegmentedStream = asr.NewSegmentedStream(ctx, s.decode, opts)
	s.wg.Add(1)
	go s.run()
	return s
}

// Write passes the audio on and to the speculator, never blocking.
func (s *specStream) Write(pcm []int16) {
	s.SegmentedStream.Write(pcm)
	if len(pcm) == 0 {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	select {
	case s.in <- append([]int16(nil), pcm...):
	default:
		s.broken.Store(true)
	}
}

// Close finishes the stream (see asr.SegmentedStream.Close), then stops
// the speculator and any speculative decoding. Safe to call twice.
func (s *specStream) Close() error {
	err := s.SegmentedStream.Close()
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.in)
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return err
}

// Speculations reports how many Finals came from a speculative decode
// (hits) and how many utterances were decoded after they ended although a
// speculation had been made (misses).
func (s *specStream) Speculations() (hits, misses int64) { return s.hits.Load(), s.misses.Load() }

// decode is the stream's DecodeFunc: the speculation's result when it was
// made on this very audio, else a decode now.
func (s *specStream) decode(ctx context.Context, pcm []int16) (asr.Result, error) {
	s.specMu.Lock()
	sp := s.spec
	s.specMu.Unlock()
	if sp != nil && slices.Equal(sp.pcm, pcm) {
		select {
		case <-sp.done:
		case <-ctx.Done():
			return asr.Result{}, ctx.Err()
		}
		if sp.err == nil {
			s.hits.Add(1)
			res := sp.res
			res.Words = slices.Clone(res.Words) // the stream shifts their times
			return res, nil
		}
	} else if sp != nil {
		s.misses.Add(1)
	}
	return s.dec(ctx, pcm)
}

// run follows the stream with two segmenters: one configured as the
// stream's own (to know where its utterance starts) and one with the short
// silence (to know when the speaker pauses).
func (s *specStream) run() {
	defer s.wg.Done()
	const perMS = asr.SampleRate / 1000
	long, short := vad.New(s.long), vad.New(s.short)
	preroll := int64(s.long.Defaults().PreRoll.Milliseconds()) * perMS
	var (
		buf      []int16 // audio from bufStart on
		bufStart int64
		open     bool
		uttStart int64 // sample where the stream's open utterance starts
		cut      int64 // utterances the stream's VAD has cut
		uttSeq   int64 // the open one's number
		evL, evS []vad.Event
	)
	for pcm := range s.in {
		if s.broken.Load() {
			continue
		}
		buf = append(buf, pcm...)
		evL = long.Write(pcm, evL[:0])
		evS = short.Write(pcm, evS[:0])
		for _, ev := range evL {
			switch ev.Kind {
			case vad.SpeechStart:
				open, uttStart, uttSeq = true, max(0, ev.StartMS*perMS-preroll), cut
			case vad.Utterance:
				open = false
				cut++
			default:
				open = false
			}
		}
		for _, ev := range evS {
			end := ev.EndMS * perMS
			if ev.Kind != vad.Utterance || !open || uttStart < bufStart || end <= uttStart || end > bufStart+int64(len(buf)) {
				continue
			}
			s.speculate(uttSeq, uttStart, slices.Clone(buf[uttStart-bufStart:end-bufStart]))
		}
		// Keep what an utterance may still need: since its start, or the
		// last second (pre-roll and onset window) while none is open.
		keepFrom := bufStart + int64(len(buf)) - asr.SampleRate
		if open {
			keepFrom = min(keepFrom, uttStart)
		}
		if cut := keepFrom - bufStart; cut > asr.SampleRate/2 {
			buf = append(buf[:0], buf[cut:]...)
			bufStart += cut
		}
	}
}

// speculate decodes pcm, the audio of the seq-th utterance from its first
// sample at on, in the background when no speculation of this stream is
// running and the pool has no queue; the result goes to the stream as a
// Tentative.
func (s *specStream) speculate(seq, at int64, pcm []int16) {
	s.specMu.Lock()
	defer s.specMu.Unlock()
	if sp := s.spec; sp != nil {
		select {
		case <-sp.done:
		default:
			return // one at a time per stream
		}
	}
	if len(s.queue) > 0 || s.ctx.Err() != nil {
		return
	}
	sp := &speculation{seq: seq, at: at, pcm: pcm, done: make(chan struct{})}
	s.spec = sp
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(sp.done)
		began := time.Now()
		sp.res, sp.err = s.dec(s.ctx, pcm)
		s.log.Debug("sphinx: speculative decode", "audio_ms", len(pcm)/(asr.SampleRate/1000),
			"took_ms", time.Since(began).Milliseconds(), "text", sp.res.Text, "err", sp.err)
		if sp.err == nil && !s.broken.Load() {
			// Before done closes, so it precedes the Final made from it.
			s.SegmentedStream.Tentative(sp.seq, sp.tentative())
		}
	}()
}

// tentative is the speculation's result as a Tentative, its times from the
// stream's start.
func (sp *speculation) tentative() asr.Result {
	const perMS = asr.SampleRate / 1000
	r := sp.res
	r.Kind = asr.Tentative
	r.StartMS = sp.at / perMS
	r.EndMS = (sp.at + int64(len(sp.pcm))) / perMS
	r.Words = slices.Clone(r.Words)
	for i := range r.Words {
		r.Words[i].StartMS += r.StartMS
		r.Words[i].EndMS += r.StartMS
	}
	return r
}
