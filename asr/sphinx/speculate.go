//go:build cgo

package sphinx

import (
	"context"
	"log/slog"
	"slices"
	"strings"
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
// A long utterance is also decoded in pieces (piece, 3 s and more): when
// the speaker pauses again after speaking for at least that long since
// the last piece, the audio speculated at the pause before becomes a
// piece of its own, and speculation goes on from its end. The Final of
// such an utterance is its pieces' results joined with a decode of what
// follows them, so what is left to decode when the utterance ends — above
// all at a hang-up, which cuts a talking speaker off (Close) — is the
// audio since the last pause, not the whole utterance: the time from the
// end of speech to the Final no longer grows with the utterance. The text
// may differ a little from a decode in one pass (each piece starts its
// language model and cepstral mean afresh), which is why pieces are cut
// at pauses only and only in long utterances.
type specStream struct {
	*asr.SegmentedStream
	dec   asr.DecodeFunc
	queue chan job // the pool's queue: speculate only while it is empty

	long, short vad.Config
	piece       int // samples: the least length of a piece, 0: no pieces
	log         *slog.Logger
	ctx         context.Context
	cancel      context.CancelFunc

	mu     sync.RWMutex // guards closed against sends on in
	closed bool
	in     chan []int16
	broken atomic.Bool // audio was dropped: the timelines no longer agree
	wg     sync.WaitGroup

	specMu sync.Mutex
	spec   *speculation // the latest, from the open utterance's base on
	chains []*chain     // the pieces of the last few utterances, oldest first

	hits, misses, pieced atomic.Int64
}

type speculation struct {
	ch   *chain // the utterance's
	from int    // where pcm starts in its utterance (samples)
	pcm  []int16
	done chan struct{}
	res  asr.Result
	err  error
}

// chain is one utterance's pieces, in order and back to back from its
// start; base is where the next piece starts.
type chain struct {
	pieces []*speculation
	base   int
}

// keptChains is how many utterances' pieces are kept: the decoder may
// still be on an earlier utterance when the next has begun.
const keptChains = 3

// newSpecStream starts the stream and its speculator goroutine; Close
// stops both.
func newSpecStream(ctx context.Context, dec asr.DecodeFunc, queue chan job, long vad.Config, short, piece time.Duration, opts asr.SegmentedOptions) *specStream {
	s := &specStream{dec: dec, queue: queue, long: long, short: long, in: make(chan []int16, 250),
		piece: int(piece.Milliseconds()) * asr.SampleRate / 1000, log: opts.Logger}
	if s.log != nil && opts.Label != "" {
		s.log = s.log.With("stream", opts.Label)
	}
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
	if s.log != nil {
		s.log.Debug("sphinx: stream closed", "speculation_hits", s.hits.Load(), "misses", s.misses.Load(),
			"pieced_finals", s.pieced.Load())
	}
	return err
}

// Speculations reports how many Finals came from a speculative decode
// (hits) and how many utterances were decoded after they ended although a
// speculation had been made (misses).
func (s *specStream) Speculations() (hits, misses int64) { return s.hits.Load(), s.misses.Load() }

// Pieced reports how many Finals were joined from pieces.
func (s *specStream) Pieced() int64 { return s.pieced.Load() }

// decode is the stream's DecodeFunc: the pieces decoded while the
// utterance went on, joined with the speculation's result when it was
// made on the very audio after them, else with a decode of that audio
// now.
func (s *specStream) decode(ctx context.Context, pcm []int16) (asr.Result, error) {
	s.specMu.Lock()
	sp := s.spec
	pieces := s.piecesOf(pcm)
	s.specMu.Unlock()
	base := 0
	if n := len(pieces); n > 0 {
		base = pieces[n-1].from + len(pieces[n-1].pcm)
	}
	rest := pcm[base:]
	if sp != nil && s.piece > 0 && sp.from == base && len(sp.pcm) >= s.piece && len(sp.pcm) < len(rest) &&
		slices.Equal(sp.pcm, rest[:len(sp.pcm)]) {
		// The speaker went on after the last pause and was cut off (or
		// stopped) before the next: what was speculated at that pause is
		// one more piece.
		pieces = append(pieces, sp)
		base += len(sp.pcm)
		rest, sp = pcm[base:], nil
	}
	var last asr.Result
	if sp != nil && sp.from == base && slices.Equal(sp.pcm, rest) {
		if err := wait(ctx, sp); err != nil {
			return asr.Result{}, err
		}
		if sp.err == nil {
			s.hits.Add(1)
			last = sp.res
			last.Words = slices.Clone(last.Words) // the stream shifts their times
			if len(pieces) == 0 {
				return last, nil
			}
			return s.join(ctx, pcm, pieces, last)
		}
	} else if sp != nil {
		s.misses.Add(1)
	}
	if len(pieces) == 0 {
		return s.dec(ctx, pcm)
	}
	last, err := s.dec(ctx, rest)
	if err != nil {
		return asr.Result{}, err
	}
	return s.join(ctx, pcm, pieces, last)
}

// piecesOf is the longest run of a kept chain's pieces that pcm starts
// with (identical audio); nil when none. specMu is held.
func (s *specStream) piecesOf(pcm []int16) []*speculation {
	for i := len(s.chains) - 1; i >= 0; i-- {
		ps := s.chains[i].pieces
		n := 0
		for n < len(ps) {
			p := ps[n]
			if p.from+len(p.pcm) > len(pcm) || !slices.Equal(pcm[p.from:p.from+len(p.pcm)], p.pcm) {
				break
			}
			n++
		}
		if n > 0 {
			return slices.Clone(ps[:n])
		}
	}
	return nil
}

// join waits for the pieces and joins their results and last (the audio
// after them) into the utterance's; if a piece failed, the utterance is
// decoded whole.
func (s *specStream) join(ctx context.Context, pcm []int16, pieces []*speculation, last asr.Result) (asr.Result, error) {
	const perMS = asr.SampleRate / 1000
	var texts []string
	out := asr.Result{Kind: asr.Final, EndMS: int64(len(pcm)) / perMS}
	var conf, dur float64
	add := func(r asr.Result, from int, n int) {
		if r.Text != "" {
			texts = append(texts, r.Text)
			conf += r.Confidence * float64(n)
			dur += float64(n)
		}
		off := int64(from / perMS)
		for _, w := range r.Words {
			w.StartMS += off
			w.EndMS += off
			out.Words = append(out.Words, w)
		}
	}
	for _, p := range pieces {
		if err := wait(ctx, p); err != nil {
			return asr.Result{}, err
		}
		if p.err != nil {
			return s.dec(ctx, pcm)
		}
		add(p.res, p.from, len(p.pcm))
	}
	tail := pieces[len(pieces)-1]
	base := tail.from + len(tail.pcm)
	add(last, base, len(pcm)-base)
	out.Text = strings.Join(texts, " ")
	if dur > 0 {
		out.Confidence = conf / dur
	}
	if len(out.Words) > 0 {
		out.StartMS = out.Words[0].StartMS
	}
	s.pieced.Add(1)
	return out, nil
}

// wait waits for sp's decode to end, or for ctx.
func wait(ctx context.Context, sp *speculation) error {
	select {
	case <-sp.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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
			if ev.Kind == vad.SpeechStart {
				open, uttStart = true, max(0, ev.StartMS*perMS-preroll)
				s.newChain()
			} else {
				open = false
			}
		}
		for _, ev := range evS {
			end := ev.EndMS * perMS
			if ev.Kind != vad.Utterance || !open || uttStart < bufStart || end <= uttStart || end > bufStart+int64(len(buf)) {
				continue
			}
			s.speculate(buf[uttStart-bufStart:end-bufStart], int(end-uttStart))
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

// newChain starts the pieces of an utterance.
func (s *specStream) newChain() {
	s.specMu.Lock()
	defer s.specMu.Unlock()
	s.chains = append(s.chains, &chain{})
	if len(s.chains) > keptChains {
		s.chains = slices.Delete(s.chains, 0, len(s.chains)-keptChains)
	}
}

// speculate decodes the open utterance (utt, its audio up to a pause) in
// the background, from the end of its last piece on, when no speculation
// of this stream is running and the pool has no queue. The speculation
// made at the pause before becomes a piece when it is at least piece long
// (and no shorter than what follows it is likely to be: the speaker went
// on talking).
func (s *specStream) speculate(utt []int16, end int) {
	s.specMu.Lock()
	defer s.specMu.Unlock()
	var ch *chain
	if n := len(s.chains); n > 0 {
		ch = s.chains[n-1]
	}
	if sp := s.spec; ch != nil && sp != nil && s.piece > 0 && sp.ch == ch && sp.from == ch.base && len(sp.pcm) >= s.piece &&
		sp.from+len(sp.pcm) < end {
		ch.pieces = append(ch.pieces, sp)
		ch.base = sp.from + len(sp.pcm)
		s.spec = nil
	}
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
	from := 0
	if ch != nil {
		from = ch.base
	}
	if from >= end || end > len(utt) {
		return
	}
	sp := &speculation{ch: ch, from: from, pcm: slices.Clone(utt[from:end]), done: make(chan struct{})}
	s.spec = sp
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(sp.done)
		sp.res, sp.err = s.dec(s.ctx, sp.pcm)
	}()
}
