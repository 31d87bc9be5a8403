//go:build cgo

package sphinx

import (
	"context"
	"log/slog"
	"math"
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
// result, ready or nearly so.
//
// If the speaker goes on, the utterance is decoded in pieces: a
// speculation at least piece long (speculate_piece_ms, 2 s) is kept, and the next
// pause decodes only the audio after it, with overlap (1 s) of the audio
// before it in front so that the piece's cepstral mean and the language
// model's first words have context; the words in that overlap are the
// earlier piece's, except its last word (see join). A piece ends in a
// pause, so no word straddles the cut. The Final is the pieces joined, and only what was
// said after the last speculated pause is left to decode when the
// utterance ends. A shorter speculation is decoded again with what
// follows, as a whole-utterance decode would. Pieces are used only for
// audio identical to what the stream's VAD cut.
//
// Each speculation's result, joined with the pieces before it, is also
// reported as an asr.Tentative (the stream places it before the
// utterance's Final), so a consumer that can tell a complete request from
// a pause inside one need not wait for the end-of-speech silence.
//
// A speculation only starts at the pause, so its Tentative comes a decode
// of the utterance so far after it (RTF × length: 100-300 ms for a
// request of a few seconds). So once the open utterance is head
// (live_head_ms, 1.5 s) long, the stream also takes a live decoder from
// the pool's (bounded) set, when one is free, and feeds it the utterance
// as its audio arrives: at a pause (live_pause_ms, 150 ms: it costs no
// decoding), the live decoder's hypothesis (its first search pass, over
// all of the audio so far) is a Tentative at once, before the
// speculation's. The live decoder's cepstral mean is that
// of the head, not of the whole utterance, and it has no second pass: on
// the dev half of the in-domain phrasings (flite voices) its WER was
// within 0.01 of the whole-utterance decode's with a 1.5 s head (0.04
// worse with 0.5 s). The Final still comes from the whole-utterance
// decodes. Utterances shorter than the head, and those that find no live
// decoder free, get only the speculation's Tentative, as before.
type specStream struct {
	*asr.SegmentedStream
	dec   asr.DecodeFunc
	queue chan job   // the pool's queue: speculate only while it is empty
	lives chan *live // free live decoders (nil: none)
	head  int        // samples an utterance has before it takes a live decoder

	long, short vad.Config
	livePause   vad.Config // the pause at which a live decoder's words are a Tentative
	piece       int        // samples: a speculation this long is kept as a piece (0: never)
	overlap     int        // samples decoded again in front of a later piece
	ctx         context.Context
	cancel      context.CancelFunc

	mu     sync.RWMutex // guards closed against sends on in
	closed bool
	in     chan []int16
	broken atomic.Bool // audio was dropped: the timelines no longer agree
	wg     sync.WaitGroup

	specMu sync.Mutex
	// chains[0] is the open (or last) utterance's speculations, chains[1]
	// the one before: its Final may still be waiting for a decoder.
	chains [2]*chain

	endMu sync.Mutex
	ends  []asr.PauseEnd // EndPause requests for the long segmenter

	hits, misses, reused atomic.Int64
	liveTent, liveBusy   atomic.Int64
	noTurns              atomic.Bool // SetTurns(false): take no more live decoders
	log                  *slog.Logger
}

var (
	_ asr.TurnTaker  = (*specStream)(nil)
	_ asr.PauseEnder = (*specStream)(nil)
)

// chain is one utterance's speculations, in order; each starts where the
// one before ends.
type chain struct {
	seq    int64 // the utterance's number in the stream (asr.SegmentedStream.Tentative)
	start  int64 // stream sample of the utterance's first sample
	pieces []*speculation
}

// speculation is the decode of pcm, utterance samples [off, off+len(pcm)),
// whose own words are those from sample from of pcm on (before it: the
// overlap with the piece before).
type speculation struct {
	off, from int
	pcm       []int16
	done      chan struct{}
	res       asr.Result
	err       error
}

func (sp *speculation) end() int    { return sp.off + len(sp.pcm) }
func (sp *speculation) own() int    { return sp.off + sp.from } // utterance sample where its words start
func (sp *speculation) length() int { return sp.end() - sp.own() }

func (sp *speculation) finished() bool {
	select {
	case <-sp.done:
		return true
	default:
		return false
	}
}

// newSpecStream starts the stream and its speculator goroutine; Close
// stops both. piece and overlap are durations (see specStream); a zero
// piece decodes every utterance whole.
// liveConfig is the live decoding of a specStream: its decoders (nil:
// none), the utterance audio one starts with, and the pause at which its
// words are a Tentative.
type liveConfig struct {
	pool  chan *live
	head  time.Duration
	pause time.Duration
}

func newSpecStream(ctx context.Context, dec asr.DecodeFunc, queue chan job, lc liveConfig, long vad.Config, short, piece, overlap time.Duration, opts asr.SegmentedOptions) *specStream {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.Label != "" {
		log = log.With("stream", opts.Label)
	}
	s := &specStream{dec: dec, queue: queue, lives: lc.pool, head: samples(lc.head), long: long, short: long, livePause: long, in: make(chan []int16, 250),
		piece: samples(piece), overlap: samples(overlap), log: log}
	s.short.SilenceEnd = short
	s.livePause.SilenceEnd = lc.pause
	s.ctx, s.cancel = context.WithCancel(ctx)
	opts.VAD = long
	s.SegmentedStream = asr.NewSegmentedStream(ctx, s.decode, opts)
	s.wg.Add(1)
	go s.run()
	return s
}

func samples(d time.Duration) int { return int(d.Milliseconds()) * (asr.SampleRate / 1000) }

func sampleMS(n int) int64 { return int64(n) * 1000 / asr.SampleRate }

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

// Speculations reports how many Finals came from speculative decodes
// alone (hits) and how many needed a decode after their utterance ended
// although a speculation had been made (misses).
func (s *specStream) Speculations() (hits, misses int64) { return s.hits.Load(), s.misses.Load() }

// SetTurns says whether the stream's consumer still takes turns
// (asr.TurnTaker): without, utterances that start later take no live
// decoder.
func (s *specStream) SetTurns(on bool) { s.noTurns.Store(!on) }

// EndPause ends the open utterance after silence if nothing was said
// after atMS (asr.PauseEnder): the stream's VAD cuts it there, and so does
// the segmenter that follows it here, so that both still agree on where
// utterances start.
func (s *specStream) EndPause(atMS int64, silence time.Duration) {
	s.endMu.Lock()
	s.ends = append(s.ends, asr.PauseEnd{AtMS: atMS, Silence: silence})
	s.endMu.Unlock()
	s.SegmentedStream.EndPause(atMS, silence)
}

// Live reports how many Tentatives came from a live decoder, and how many
// utterances long enough for one found none free.
func (s *specStream) Live() (tentatives, busy int64) { return s.liveTent.Load(), s.liveBusy.Load() }

// Pieces reports how many Finals were joined from more than one decode.
func (s *specStream) Pieces() int64 { return s.reused.Load() }

// decode is the stream's DecodeFunc: the speculations made on this very
// audio, joined, and a decode of whatever they do not cover.
func (s *specStream) decode(ctx context.Context, pcm []int16) (asr.Result, error) {
	s.specMu.Lock()
	var use []*speculation
	made := false
	for _, c := range s.chains {
		if c == nil {
			continue
		}
		made = made || len(c.pieces) > 0
		if m := matching(c.pieces, pcm); len(m) > len(use) {
			use = m
		}
	}
	s.specMu.Unlock()
	// The last one covers the end, or it must be long enough to be kept.
	if n := len(use); n > 0 && use[n-1].end() != len(pcm) && (s.piece == 0 || use[n-1].length() < s.piece) {
		use = use[:n-1]
	}
	if len(use) == 0 {
		if made {
			s.misses.Add(1)
		}
		return s.dec(ctx, pcm)
	}
	for _, sp := range use {
		select {
		case <-sp.done:
		case <-ctx.Done():
			return asr.Result{}, ctx.Err()
		}
		if sp.err != nil {
			s.misses.Add(1)
			return s.dec(ctx, pcm)
		}
	}
	if rest := use[len(use)-1].end(); rest < len(pcm) {
		s.misses.Add(1)
		off := s.overlapStart(use[len(use)-1])
		res, err := s.dec(ctx, pcm[off:])
		if err != nil {
			return asr.Result{}, err
		}
		use = append(use, &speculation{off: off, from: rest - off, pcm: pcm[off:], res: res})
	} else {
		s.hits.Add(1)
	}
	if len(use) == 1 {
		res := use[0].res
		res.Words = slices.Clone(res.Words) // the stream shifts their times
		return res, nil
	}
	s.reused.Add(1)
	return join(use, len(pcm)), nil
}

// overlapStart is where the audio of the piece after prev starts: at
// least overlap before prev's end, at the start of a word prev heard (50 ms
// before it), so that the decoder starts on a word boundary rather than
// inside a word; overlap before the end when prev heard no word there.
func (s *specStream) overlapStart(prev *speculation) int {
	end := prev.end()
	off := max(0, end-s.overlap)
	const lead = 50 * asr.SampleRate / 1000
	for _, w := range slices.Backward(prev.res.Words) {
		if at := prev.off + samples(time.Duration(w.StartMS)*time.Millisecond) - lead; at <= end-s.overlap {
			return max(0, at)
		}
	}
	return off
}

// matching is the longest run of pieces, from the first, whose audio is
// that of pcm at the same place.
func matching(pieces []*speculation, pcm []int16) []*speculation {
	for i, sp := range pieces {
		if sp.end() > len(pcm) || !slices.Equal(pcm[sp.off:sp.end()], sp.pcm) {
			return pieces[:i]
		}
	}
	return pieces
}

// join makes one utterance's result of n samples from its pieces, moved
// to utterance time. Each word is taken from one piece: the words of a
// piece run up to the start of the next one's own audio, except its last
// word, which the next piece decoded too (in its overlap) with the words
// that follow it as context, and which it ends with no right context (the
// sentence end of the language model). The confidence is the product of
// the pieces', as the posterior of a whole hypothesis made of independent
// parts would be.
func join(pieces []*speculation, n int) asr.Result {
	// bounds[i]: utterance ms from which piece i's words are taken.
	bounds := make([]int64, len(pieces)+1)
	bounds[0], bounds[len(pieces)] = math.MinInt64, math.MaxInt64
	for i := 1; i < len(pieces); i++ {
		cut := sampleMS(pieces[i].own())
		bounds[i] = cut
		prev := pieces[i-1]
		shift := sampleMS(prev.off)
		var last *asr.Word
		for k := range prev.res.Words {
			w := &prev.res.Words[k]
			if mid := shift + (w.StartMS+w.EndMS)/2; mid >= bounds[i-1] && mid < cut {
				last = w
			}
		}
		// The next piece's audio must start well before that word.
		if last != nil && shift+last.StartMS >= sampleMS(pieces[i].off)+100 {
			bounds[i] = shift + last.StartMS
		}
	}
	res := asr.Result{Kind: asr.Final, EndMS: sampleMS(n), Confidence: 1}
	var text []string
	for i, sp := range pieces {
		shift := sampleMS(sp.off)
		kept := 0
		for _, w := range sp.res.Words {
			w.StartMS += shift
			w.EndMS += shift
			if mid := (w.StartMS + w.EndMS) / 2; mid < bounds[i] || mid >= bounds[i+1] {
				continue
			}
			res.Words = append(res.Words, w)
			text = append(text, w.Text)
			kept++
		}
		if kept > 0 {
			res.Confidence *= sp.res.Confidence
		}
	}
	res.Text = strings.Join(text, " ")
	if len(res.Words) == 0 {
		res.Confidence = 0
	} else {
		res.StartMS = res.Words[0].StartMS
	}
	if math.IsNaN(res.Confidence) {
		res.Confidence = 0.5
	}
	return res
}

// run follows the stream with two segmenters: one configured as the
// stream's own (to know where its utterance starts) and one with the short
// silence (to know when the speaker pauses).
func (s *specStream) run() {
	defer s.wg.Done()
	const perMS = asr.SampleRate / 1000
	long, short, pause := vad.New(s.long), vad.New(s.short), vad.New(s.livePause)
	preroll := int64(s.long.Defaults().PreRoll.Milliseconds()) * perMS
	var (
		buf      []int16 // audio from bufStart on
		bufStart int64
		open     bool
		uttStart int64 // sample where the stream's open utterance starts
		cut      int64 // utterances the stream's VAD has cut
		evL, evS []vad.Event
		evP      []vad.Event
		lv       *live // the open utterance's live decoder
		tried    bool  // the open utterance has asked for one
	)
	release := func() {
		if lv != nil {
			lv.stop()
			s.lives <- lv // never blocks: the pool's capacity is all of them
			lv = nil
		}
	}
	defer release()
	for pcm := range s.in {
		if s.broken.Load() {
			release()
			continue
		}
		s.endMu.Lock()
		s.ends = asr.ApplyPauseEnds(long, s.ends, sampleMS(int(bufStart)+len(buf)))
		s.endMu.Unlock()
		buf = append(buf, pcm...)
		evL = long.Write(pcm, evL[:0])
		evS = short.Write(pcm, evS[:0])
		evP = pause.Write(pcm, evP[:0])
		for _, ev := range evL {
			switch ev.Kind {
			case vad.SpeechStart:
				release()
				open, uttStart, tried = true, max(0, ev.StartMS*perMS-preroll), false
				s.specMu.Lock()
				s.chains[1], s.chains[0] = s.chains[0], &chain{seq: cut, start: uttStart}
				s.specMu.Unlock()
			case vad.Utterance:
				open = false
				cut++
				release()
			default:
				open = false
				release()
			}
		}
		end := bufStart + int64(len(buf))
		switch {
		case lv != nil:
			if err := lv.feed(pcm); err != nil {
				s.log.Warn("sphinx: live decoding failed", "err", err)
				release()
			}
		case open && !tried && s.lives != nil && !s.noTurns.Load() && uttStart >= bufStart && end-uttStart >= int64(s.head):
			tried = true
			select {
			case lv = <-s.lives:
			default:
				s.liveBusy.Add(1)
			}
			if lv != nil {
				utt := buf[uttStart-bufStart:]
				if err := lv.start(utt); err != nil {
					s.log.Warn("sphinx: live decoder did not start", "err", err)
					release()
				} else if err := lv.feed(utt); err != nil {
					s.log.Warn("sphinx: live decoding failed", "err", err)
					release()
				}
			}
		}
		for _, ev := range evP {
			if end := ev.EndMS * perMS; lv != nil && ev.Kind == vad.Utterance && open && end > uttStart {
				s.liveTentative(lv, uttStart, end)
			}
		}
		for _, ev := range evS {
			end := ev.EndMS * perMS
			if ev.Kind != vad.Utterance || !open || uttStart < bufStart || end <= uttStart || end > bufStart+int64(len(buf)) {
				continue
			}
			s.speculate(buf[uttStart-bufStart:end-bufStart], uttStart)
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

// liveTentative reports the live decoder's words so far as a Tentative of
// the open utterance (which starts at stream sample start), at a pause
// that ends at stream sample end.
func (s *specStream) liveTentative(lv *live, start, end int64) {
	s.specMu.Lock()
	c := s.chains[0]
	s.specMu.Unlock()
	if c == nil || c.start != start || s.broken.Load() {
		return
	}
	r := lv.hyp()
	shift := sampleMS(int(start))
	r.StartMS, r.EndMS = shift, sampleMS(int(end))
	for i := range r.Words {
		r.Words[i].StartMS += shift
		r.Words[i].EndMS += shift
	}
	s.liveTent.Add(1)
	s.log.Debug("sphinx: live tentative", "audio_ms", r.EndMS-r.StartMS, "text", r.Text)
	s.SegmentedStream.Tentative(c.seq, r)
}

// speculate decodes the utterance so far, utt (which starts at stream
// sample start), in the background when no speculation of this stream is
// running and the pool has no queue: all of it, or what follows the
// pieces already kept.
func (s *specStream) speculate(utt []int16, start int64) {
	s.specMu.Lock()
	defer s.specMu.Unlock()
	c := s.chains[0]
	if c == nil || c.start != start || len(s.queue) > 0 || s.ctx.Err() != nil {
		return
	}
	own, off := 0, 0 // where the new speculation's words and audio start
	if n := len(c.pieces); n > 0 {
		last := c.pieces[n-1]
		if !last.finished() {
			return // one at a time per stream
		}
		if s.piece > 0 && last.err == nil && last.length() >= s.piece {
			own = last.end() // keep it, go on after it
			off = s.overlapStart(last)
		} else {
			own, off = last.own(), last.off // decode it again with what followed
			c.pieces = c.pieces[:n-1]
		}
	}
	if own >= len(utt) {
		return
	}
	sp := &speculation{off: off, from: own - off, pcm: slices.Clone(utt[off:]), done: make(chan struct{})}
	c.pieces = append(c.pieces, sp)
	pieces := slices.Clone(c.pieces) // this one and the finished ones before it
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(sp.done)
		began := time.Now()
		sp.res, sp.err = s.dec(s.ctx, sp.pcm)
		s.log.Debug("sphinx: speculative decode", "audio_ms", len(sp.pcm)/(asr.SampleRate/1000),
			"pieces", len(pieces), "took_ms", time.Since(began).Milliseconds(), "text", sp.res.Text, "err", sp.err)
		if sp.err == nil && !s.broken.Load() {
			// Before done closes, so it precedes the Final made from it.
			s.SegmentedStream.Tentative(c.seq, tentative(pieces, c.start))
		}
	}()
}

// tentative is the utterance so far, decoded in pieces (the last one just
// finished; the utterance starts at stream sample start), as a Tentative
// with times from the stream's start: StartMS the utterance's, EndMS the
// pause's.
func tentative(pieces []*speculation, start int64) asr.Result {
	last := pieces[len(pieces)-1]
	var r asr.Result
	if len(pieces) == 1 {
		r = last.res
		r.Words = slices.Clone(r.Words)
	} else {
		r = join(pieces, last.end())
	}
	r.Kind = asr.Tentative
	shift := sampleMS(int(start))
	r.StartMS, r.EndMS = shift, shift+sampleMS(last.end())
	for i := range r.Words {
		r.Words[i].StartMS += shift
		r.Words[i].EndMS += shift
	}
	return r
}
