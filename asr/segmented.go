package asr

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contactd/contactd/asr/vad"
)

// DecodeFunc transcribes one VAD-cut utterance. Times in the Result it
// returns are relative to the utterance's first sample; the stream shifts
// them.
type DecodeFunc func(ctx context.Context, pcm []int16) (Result, error)

// SegmentedOptions tune a stream made by NewSegmentedStream.
type SegmentedOptions struct {
	// VAD configures the segmenter (zero: vad defaults).
	VAD vad.Config
	// Buffer is how many Write calls may wait for the VAD before audio is
	// dropped (default 250, 5 s of 20 ms frames).
	Buffer int
	// Pending is how many utterances may wait for the decoder before one
	// is dropped (default 4).
	Pending int
	// Logger receives drops and decode errors (default slog.Default()).
	Logger *slog.Logger
	// Label names the stream in logs.
	Label string
	// MaxFailures ends the stream after this many decode failures in a
	// row (0: never; a DecodeFunc error wrapping ErrFatal always ends it).
	// An ended stream closes Results before Close and reports Err.
	MaxFailures int
}

// SegmentedStream is a Stream for recognisers that decode whole utterances:
// one goroutine runs the VAD and reports SpeechStart at once, a second
// decodes finished utterances in order, so a slow decoder never delays the
// barge-in cue. Finals arrive in utterance order.
type SegmentedStream struct {
	ctx     context.Context // the caller's, cancelled by failure too
	cancel  context.CancelCauseFunc
	decode  DecodeFunc
	maxFail int
	log     *slog.Logger
	seg     *vad.Segmenter

	mu      sync.RWMutex // guards closed against sends on in
	closed  bool
	outOnce sync.Once
	in      chan []int16
	utts    chan utterance
	tent    chan tentative // see Tentative; never closed
	out     chan Result
	wg      sync.WaitGroup

	errMu  sync.Mutex
	err    error // first decode failure
	failed atomic.Bool

	endMu sync.Mutex
	ends  []PauseEnd // EndPause requests for the segmenter

	dropped    atomic.Int64 // samples
	droppedUtt atomic.Int64
	samples    atomic.Int64
	segmented  atomic.Int64 // samples whose VAD events have been handled
}

var (
	_ Stream     = (*SegmentedStream)(nil)
	_ PauseEnder = (*SegmentedStream)(nil)
)

// utterance is one the VAD cut, numbered from 0 in the order cut (those
// dropped because the decoder was behind count too).
type utterance struct {
	ev  vad.Event
	seq int64
}

// PauseEnd is an EndPause request (for recognisers that follow a stream
// with segmenters of their own, such as sphinx's speculation).
type PauseEnd struct {
	AtMS    int64
	Silence time.Duration
}

// ApplyPauseEnds hands seg the requests of ends for moments it has
// segmented (doneMS: ms of audio written to it) and returns the rest, in
// ends' storage.
func ApplyPauseEnds(seg *vad.Segmenter, ends []PauseEnd, doneMS int64) []PauseEnd {
	rest := ends[:0]
	for _, e := range ends {
		if e.AtMS <= doneMS {
			seg.EndPause(e.AtMS, e.Silence)
		} else {
			rest = append(rest, e)
		}
	}
	return rest
}

// tentative is a Tentative result for the seq-th utterance.
type tentative struct {
	r   Result
	seq int64
}

// NewSegmentedStream starts a stream whose utterances go to decode. It
// starts two goroutines, which Close stops and waits for. Read Results
// until it is closed; a reader that stops reading must cancel ctx, or
// Close waits for it. An utterance the decoder finds no words in still
// ends with a Final whose Text is empty; a SpeechStart whose sound was too
// short (vad.Config.MinSpeech) is followed by no Final.
func NewSegmentedStream(ctx context.Context, decode DecodeFunc, opts SegmentedOptions) *SegmentedStream {
	if opts.Buffer <= 0 {
		opts.Buffer = 250
	}
	if opts.Pending <= 0 {
		opts.Pending = 4
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.Label != "" {
		log = log.With("stream", opts.Label)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	s := &SegmentedStream{
		ctx:     ctx,
		cancel:  cancel,
		maxFail: opts.MaxFailures,
		decode:  decode,
		log:     log,
		seg:     vad.New(opts.VAD),
		in:      make(chan []int16, opts.Buffer),
		utts:    make(chan utterance, opts.Pending),
		tent:    make(chan tentative, 4),
		out:     make(chan Result, 16),
	}
	s.wg.Add(2)
	go s.segment()
	go s.decodeLoop()
	return s
}

// Write queues audio without blocking; when the stream is behind (or
// closed) the audio is dropped and counted in Dropped.
func (s *SegmentedStream) Write(pcm []int16) {
	if len(pcm) == 0 {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.dropped.Add(int64(len(pcm)))
		return
	}
	select {
	case s.in <- append([]int16(nil), pcm...):
	default:
		if s.dropped.Add(int64(len(pcm))) == int64(len(pcm)) {
			s.log.Warn("asr: stream is behind, dropping audio")
		}
	}
}

// Tentative hands the stream a Tentative result for its seq-th utterance
// (0 for the first one its VAD cuts), with times from the stream's start,
// for recognisers that decode the audio so far when the speaker pauses
// (sphinx). It never blocks. The stream emits it in order: after the
// Finals of the utterances before that one and before its own Final; one
// whose Final has already gone is dropped, as are all once the stream has
// dropped audio (the caller's VAD and the stream's may then disagree on
// which utterance is which).
func (s *SegmentedStream) Tentative(seq int64, r Result) {
	r.Kind = Tentative
	select {
	case s.tent <- tentative{r: r, seq: seq}:
	default:
	}
}

// EndPause ends the open utterance after silence if nothing was said
// after atMS (see PauseEnder and vad.Segmenter.EndPause). It never blocks;
// the VAD applies it before the next audio it segments.
func (s *SegmentedStream) EndPause(atMS int64, silence time.Duration) {
	s.endMu.Lock()
	s.ends = append(s.ends, PauseEnd{AtMS: atMS, Silence: silence})
	s.endMu.Unlock()
}

// applyEnds hands the segmenter the EndPause requests for audio it has
// segmented (the request names a moment of the audio; the VAD may not
// have reached it yet).
func (s *SegmentedStream) applyEnds() {
	s.endMu.Lock()
	s.ends = ApplyPauseEnds(s.seg, s.ends, s.segmented.Load()*1000/SampleRate)
	s.endMu.Unlock()
}

// Results delivers SpeechStart and Final events; it is closed once Close
// has flushed the last utterance.
func (s *SegmentedStream) Results() <-chan Result { return s.out }

// Close ends the audio, waits for the last utterance to be decoded and
// closes Results. Safe to call twice.
func (s *SegmentedStream) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.in)
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.outOnce.Do(func() { close(s.out) })
	s.cancel(nil)
	return nil
}

// Err returns the first decode failure (an utterance missing from the
// transcript), or nil. See Failer.
func (s *SegmentedStream) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

func (s *SegmentedStream) setErr(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
}

// Dropped reports how many samples and utterances were dropped because the
// stream was behind.
func (s *SegmentedStream) Dropped() (samples, utterances int64) {
	return s.dropped.Load(), s.droppedUtt.Load()
}

// String describes the stream's stages for logs and tests.
func (s *SegmentedStream) String() string { return "VAD -> Decode" }

func (s *SegmentedStream) emit(r Result) bool {
	select {
	case s.out <- r:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// segment runs the VAD over written audio.
func (s *SegmentedStream) segment() {
	defer s.wg.Done()
	defer close(s.utts)
	var evs []vad.Event
	var seq int64
	handle := func() bool {
		for _, ev := range evs {
			switch ev.Kind {
			case vad.SpeechStart:
				if !s.emit(Result{Kind: SpeechStart, StartMS: ev.StartMS, EndMS: ev.StartMS}) {
					return false
				}
			case vad.Utterance:
				seq++
				select {
				case s.utts <- utterance{ev: ev, seq: seq - 1}:
				case <-s.ctx.Done():
					return false
				default:
					s.droppedUtt.Add(1)
					s.log.Warn("asr: decoder is behind, dropping an utterance",
						"start_ms", ev.StartMS, "end_ms", ev.EndMS)
				}
			}
		}
		evs = evs[:0]
		return true
	}
	for {
		select {
		case pcm, ok := <-s.in:
			if !ok {
				evs = s.seg.Flush(evs)
				handle()
				return
			}
			s.samples.Add(int64(len(pcm)))
			s.applyEnds()
			evs = s.seg.Write(pcm, evs)
			if !handle() {
				return
			}
			s.segmented.Add(int64(len(pcm)))
		case <-s.ctx.Done():
			return
		}
	}
}

// decodeLoop decodes utterances in order, and places Tentatives.
func (s *SegmentedStream) decodeLoop() {
	defer s.wg.Done()
	fails := 0
	var (
		next int64      // seq of the next utterance to decode
		held *tentative // one for a later utterance than next
	)
	// place emits t if its utterance is next, keeps it if later, or if
	// the VAD here has not yet reached its end (so it cannot come before
	// its utterance's SpeechStart); cut says the utterance was cut.
	place := func(t tentative, cut bool) {
		switch {
		case t.seq < next || s.dropped.Load() > 0 || s.ctx.Err() != nil:
		case t.seq == next && (cut || s.segmented.Load() >= t.r.EndMS*(SampleRate/1000)):
			s.emit(t.r)
		default:
			held = &t
		}
	}
	for {
		var u utterance
		var ok bool
		select {
		case u, ok = <-s.utts:
		case t := <-s.tent:
			if h := held; h != nil {
				held = nil
				place(*h, false)
			}
			place(t, false)
			continue
		}
		if !ok {
			break
		}
		if s.ctx.Err() != nil {
			continue // drain so segment never blocks
		}
		// Tentatives for this utterance go before its Final.
		next = u.seq
		if h := held; h != nil {
			held = nil
			place(*h, true)
		}
		for drained := false; !drained; {
			select {
			case t := <-s.tent:
				place(t, true)
			default:
				drained = true
			}
		}
		next = u.seq + 1
		if held != nil && held.seq < next {
			held = nil
		}
		ev := u.ev
		r, err := s.decode(s.ctx, ev.PCM)
		if err != nil {
			if s.ctx.Err() != nil {
				continue
			}
			s.setErr(err)
			s.log.Warn("asr: decode failed", "start_ms", ev.StartMS, "err", err)
			fails++
			if errors.Is(err, ErrFatal) || (s.maxFail > 0 && fails >= s.maxFail) {
				s.log.Warn("asr: recogniser failed, ending the stream", "failures", fails)
				s.failed.Store(true)
				s.cancel(err) // stops segment, which then closes utts
			}
			continue
		}
		fails = 0
		r.Kind = Final
		r.StartMS = ev.StartMS
		r.EndMS = ev.EndMS
		for i := range r.Words {
			r.Words[i].StartMS += ev.StartMS
			r.Words[i].EndMS += ev.StartMS
		}
		s.emit(r)
	}
	// segment has returned (it closes utts last), so nobody else sends
	// on out: a failed stream ends its Results now, before Close.
	if s.failed.Load() {
		s.outOnce.Do(func() { close(s.out) })
	}
}
