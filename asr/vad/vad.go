package vad

import (
	"math"
	"time"
)

// Config tunes a Segmenter. Zero fields take the defaults noted on each.
type Config struct {
	// SampleRate of the PCM written (default 16000).
	SampleRate int
	// SilenceEnd is how long the speaker must be quiet to end an
	// utterance (default 600 ms).
	SilenceEnd time.Duration
	// MinSpeech is the least voiced time an utterance needs; shorter ones
	// (coughs, clicks) end as Discard (default 200 ms).
	MinSpeech time.Duration
	// MaxUtterance cuts an utterance that goes on longer (default 15 s).
	MaxUtterance time.Duration
	// PreRoll is audio kept before the detected onset, so soft word
	// beginnings reach the decoder (default 200 ms).
	PreRoll time.Duration
	// Tail is the trailing silence kept after the last speech frame
	// (default 150 ms).
	Tail time.Duration
	// ThresholdDB is how far above the noise floor a frame must be to
	// count as speech (default 9 dB). Inside an utterance the threshold is
	// 3 dB lower, so soft word endings do not end it.
	ThresholdDB float64
	// MinLevelDB is the least frame level (dB of RMS re one LSB) that can
	// be speech at all, whatever the floor (default 30, about -60 dBFS).
	MinLevelDB float64
}

// Defaults returns c with zero fields set to their defaults.
func (c Config) Defaults() Config {
	if c.SampleRate <= 0 {
		c.SampleRate = 16000
	}
	if c.SilenceEnd <= 0 {
		c.SilenceEnd = 600 * time.Millisecond
	}
	if c.MinSpeech <= 0 {
		c.MinSpeech = 200 * time.Millisecond
	}
	if c.MaxUtterance <= 0 {
		c.MaxUtterance = 15 * time.Second
	}
	if c.PreRoll <= 0 {
		c.PreRoll = 200 * time.Millisecond
	}
	if c.Tail <= 0 {
		c.Tail = 150 * time.Millisecond
	}
	if c.ThresholdDB <= 0 {
		c.ThresholdDB = 9
	}
	if c.MinLevelDB <= 0 {
		c.MinLevelDB = 30
	}
	return c
}

// Kind says what an Event reports.
type Kind int

// Event kinds.
const (
	// SpeechStart: speech was confirmed; StartMS is its onset.
	SpeechStart Kind = iota
	// Utterance: a finished utterance; PCM holds its audio, StartMS and
	// EndMS the span of that audio.
	Utterance
	// Discard: what began with SpeechStart was too short to be speech.
	Discard
)

// String names the kind for logs and tests.
func (k Kind) String() string {
	switch k {
	case SpeechStart:
		return "SpeechStart"
	case Utterance:
		return "Utterance"
	case Discard:
		return "Discard"
	}
	return "Kind(?)"
}

// Event is one segmentation decision. Times are ms from the first sample
// written to the Segmenter.
type Event struct {
	Kind    Kind
	StartMS int64
	EndMS   int64
	PCM     []int16
}

const (
	frameMS      = 10
	onsetWindow  = 8 // frames looked at to confirm an onset
	onsetVoiced  = 5 // of which this many must be speech (50 ms: the barge-in cue)
	hysteresisDB = 3
	floorDown    = 0.3   // per frame, towards a quieter frame
	floorUpQuiet = 0.05  // per frame, towards a louder non-speech frame
	floorUpVoice = 0.001 // per frame, during speech
)

// Segmenter cuts a stream of PCM into utterances. It is not safe for
// concurrent use; each audio stream owns one.
type Segmenter struct {
	cfg       Config
	frameLen  int
	preroll   int64 // samples
	tail      int64 // frames
	silEnd    int64 // frames
	minVoiced int64 // frames
	maxFrames int64

	pending []int16 // samples not yet making a whole frame
	frame   int64   // index of the next frame
	floor   float64
	started bool // floor initialised

	buf      []int16 // audio from absolute sample bufStart on
	bufStart int64
	recent   []bool // last decisions while idle

	inSpeech   bool
	uttFrame   int64 // first speech frame of the utterance
	lastSpeech int64 // last speech frame of the utterance
	voiced     int64

	// EndPause: the open utterance also ends after quickSil frames of
	// silence, if its last speech is before frame quickMark (0: no such
	// request).
	quickMark, quickSil int64
}

// New returns a Segmenter for cfg (zero fields take defaults).
func New(cfg Config) *Segmenter {
	cfg = cfg.Defaults()
	s := &Segmenter{cfg: cfg}
	s.frameLen = cfg.SampleRate * frameMS / 1000
	s.preroll = int64(cfg.PreRoll) * int64(cfg.SampleRate) / int64(time.Second)
	s.tail = int64(cfg.Tail / (frameMS * time.Millisecond))
	s.silEnd = max(1, int64(cfg.SilenceEnd/(frameMS*time.Millisecond)))
	s.minVoiced = int64(cfg.MinSpeech / (frameMS * time.Millisecond))
	s.maxFrames = max(1, int64(cfg.MaxUtterance/(frameMS*time.Millisecond)))
	return s
}

// NoiseFloorDB is the current noise floor estimate (dB of RMS re one LSB).
func (s *Segmenter) NoiseFloorDB() float64 { return s.floor }

// InSpeech reports whether an utterance is open.
func (s *Segmenter) InSpeech() bool { return s.inSpeech }

// EndPause asks that the open utterance end after silence (instead of
// Config.SilenceEnd) if the speaker has said nothing since atMS (ms from
// the first sample written): a consumer that finds the words up to a pause
// complete need not wait the whole end-of-speech silence for them. Speech
// after atMS cancels the request, as does the utterance's end; without an
// open utterance it does nothing. silence is at least Config.Tail (the
// audio an utterance keeps after its last speech) and at most SilenceEnd.
// Two Segmenters with the same Config fed the same audio make the same
// cut from the same request, if both get it before the cut is due.
func (s *Segmenter) EndPause(atMS int64, silence time.Duration) {
	if !s.inSpeech {
		return
	}
	sil := int64(silence / (frameMS * time.Millisecond))
	s.quickMark = max(1, atMS/frameMS)
	s.quickSil = min(max(sil, s.tail+1), s.silEnd)
}

// Write feeds PCM and appends the events it caused to out.
func (s *Segmenter) Write(pcm []int16, out []Event) []Event {
	s.buf = append(s.buf, pcm...)
	s.pending = append(s.pending, pcm...)
	n := 0
	for ; n+s.frameLen <= len(s.pending); n += s.frameLen {
		out = s.step(s.pending[n:n+s.frameLen], out)
	}
	s.pending = append(s.pending[:0], s.pending[n:]...)
	return out
}

// Flush ends the audio: an open utterance is finished (or discarded) as if
// silence had followed. The Segmenter can be used again afterwards.
func (s *Segmenter) Flush(out []Event) []Event {
	if s.inSpeech {
		out = s.finish(s.frame, out)
	}
	s.recent = s.recent[:0]
	return out
}

func (s *Segmenter) ms(sample int64) int64 {
	return sample * 1000 / int64(s.cfg.SampleRate)
}

func levelDB(f []int16) float64 {
	var sum float64
	for _, v := range f {
		x := float64(v)
		sum += x * x
	}
	return 10 * math.Log10(sum/float64(len(f))+1)
}

func (s *Segmenter) step(f []int16, out []Event) []Event {
	cur := s.frame
	s.frame++
	e := levelDB(f)
	if !s.started {
		s.floor, s.started = e, true
	}
	thr := s.cfg.ThresholdDB
	if s.inSpeech {
		thr -= hysteresisDB
	}
	speech := e > s.floor+thr && e > s.cfg.MinLevelDB
	switch {
	case e < s.floor:
		s.floor += (e - s.floor) * floorDown
	case !speech:
		s.floor += (e - s.floor) * floorUpQuiet
	default:
		s.floor += (e - s.floor) * floorUpVoice
	}

	if s.inSpeech {
		if speech {
			s.lastSpeech = cur
			s.voiced++
		}
		switch {
		case cur-s.lastSpeech >= s.silEnd:
			out = s.finish(cur+1, out)
		case s.quickMark > 0 && s.lastSpeech < s.quickMark && cur-s.lastSpeech >= s.quickSil:
			out = s.finish(cur+1, out)
		case cur+1-s.uttFrame >= s.maxFrames:
			out = s.finish(cur+1, out)
			if speech {
				out = s.open(cur+1, out)
			}
		}
		return out
	}

	s.recent = append(s.recent, speech)
	if len(s.recent) > onsetWindow {
		s.recent = s.recent[1:]
	}
	voiced, first := 0, -1
	for i, v := range s.recent {
		if v {
			voiced++
			if first < 0 {
				first = i
			}
		}
	}
	if voiced >= onsetVoiced {
		start := cur - int64(len(s.recent)-1) + int64(first)
		out = s.open(start, out)
		s.voiced = int64(voiced)
		s.lastSpeech = cur
		s.recent = s.recent[:0]
		return out
	}
	// Idle: keep only what a future pre-roll and onset window can need.
	// Trimming in steps of half a second keeps the copying cheap.
	if from := s.frame*int64(s.frameLen) - s.preroll - onsetWindow*int64(s.frameLen); from-s.bufStart > int64(s.cfg.SampleRate/2) {
		s.trim(from)
	}
	return out
}

// open starts an utterance at frame start.
func (s *Segmenter) open(start int64, out []Event) []Event {
	s.inSpeech = true
	s.quickMark = 0
	s.uttFrame = start
	s.lastSpeech = start
	s.voiced = 0
	s.trim(start*int64(s.frameLen) - s.preroll)
	at := s.ms(start * int64(s.frameLen))
	return append(out, Event{Kind: SpeechStart, StartMS: at, EndMS: at})
}

// finish closes the open utterance; end is the frame after the last one
// that belongs to it.
func (s *Segmenter) finish(end int64, out []Event) []Event {
	s.inSpeech = false
	s.quickMark = 0
	startSample := max(s.bufStart, s.uttFrame*int64(s.frameLen)-s.preroll)
	endFrame := min(end, s.lastSpeech+1+s.tail)
	endSample := min(endFrame*int64(s.frameLen), s.bufStart+int64(len(s.buf)))
	if s.voiced < s.minVoiced {
		out = append(out, Event{Kind: Discard, StartMS: s.ms(startSample), EndMS: s.ms(endSample)})
	} else {
		pcm := make([]int16, endSample-startSample)
		copy(pcm, s.buf[startSample-s.bufStart:endSample-s.bufStart])
		out = append(out, Event{Kind: Utterance, StartMS: s.ms(startSample), EndMS: s.ms(endSample), PCM: pcm})
	}
	s.voiced = 0
	s.trim(end*int64(s.frameLen) - s.preroll)
	return out
}

// trim drops buffered audio before absolute sample from.
func (s *Segmenter) trim(from int64) {
	if from <= s.bufStart {
		return
	}
	n := min(from-s.bufStart, int64(len(s.buf)))
	s.buf = append(s.buf[:0], s.buf[n:]...)
	s.bufStart += n
}
