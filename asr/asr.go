// Package asr is the speech-recognition boundary: a Recognizer opens one
// Stream per audio channel; providers live in sub-packages and register
// themselves by name, like database/sql drivers.
package asr

import (
	"context"
	"time"

	"github.com/contactd/contactd/registry"
)

// SampleRate is the only rate a Stream accepts: 16 kHz mono signed 16-bit PCM.
const SampleRate = 16000

// Kind says what a Result reports.
type Kind int

// Result kinds.
const (
	// SpeechStart: the VAD heard the start of an utterance (barge-in cue).
	SpeechStart Kind = iota
	// Partial: an interim hypothesis of the current utterance.
	Partial
	// Final: the utterance's final text.
	Final
	// Tentative: the speaker paused inside an utterance that is still
	// open, and Text is the whole utterance so far (StartMS is the
	// utterance's, EndMS the pause's). A Final for the same utterance
	// follows, with the same StartMS and the same or longer text (the
	// speaker may go on, and a longer decode may change words). A consumer
	// may act on a Tentative that is complete enough and then drop that
	// Final (see call.Listen). Not every provider sends them (sphinx does,
	// with speculate_ms); consumers must work without.
	Tentative
)

// Word is one recognised word with its timing.
type Word struct {
	Text    string  `json:"text"`
	StartMS int64   `json:"start_ms"`
	EndMS   int64   `json:"end_ms"`
	Conf    float64 `json:"conf"`
}

// Result is one event of a Stream. Times are ms from the first sample written.
type Result struct {
	Kind       Kind
	Text       string
	StartMS    int64
	EndMS      int64
	Confidence float64
	Words      []Word
	// Language is the ISO 639-1 code of the language the recogniser heard,
	// when it says (multilingual models such as Whisper); "" otherwise.
	Language string
}

// Stream takes one channel's audio and reports what was said.
type Stream interface {
	// Write queues 16 kHz PCM; it never blocks the media path: when the
	// stream is behind, audio is dropped and counted. It copies what it
	// keeps: pcm is the caller's again once Write returns (the media path
	// reuses its frames).
	Write(pcm []int16)
	// Results delivers events; it is closed after Close has flushed.
	Results() <-chan Result
	// Close ends the audio, finishes the last utterance and closes Results.
	Close() error
}

// StreamOptions tune one stream.
type StreamOptions struct {
	// Label names the stream in logs (e.g. "call-123/caller").
	Label string
	// Narrowband says the audio came through an 8 kHz channel (G.711
	// PCMU/PCMA) and was upsampled to SampleRate: it has nothing above
	// 4 kHz. Recognisers with a model adapted to telephone audio use it
	// for such streams (sphinx: the MLLR-adapted decoders); others may
	// ignore it.
	Narrowband bool
	// Turns says the consumer ends the speaker's turns on Tentatives (the
	// IVR listening to a caller): a recogniser may spend more on having
	// them early (sphinx: a live decoder from a bounded set). Others,
	// such as an agent's stream, leave those resources to streams that
	// take turns.
	Turns bool
}

// TurnTaker is a Stream opened with StreamOptions.Turns whose consumer
// can say it no longer takes turns (the IVR is over and the caller talks
// to an agent), so the recogniser stops spending on early Tentatives.
type TurnTaker interface {
	SetTurns(on bool)
}

// PauseEnder is a Stream whose utterances can end sooner than its
// end-of-speech silence: a consumer that finds the words of a Tentative
// complete (the IVR: a request it would reprompt or confirm) need not wait
// the whole silence for their Final.
type PauseEnder interface {
	// EndPause asks that the open utterance end once the speaker has been
	// silent for silence, if they have said nothing since atMS (a
	// Tentative's EndMS, ms from the stream's start). Speech after atMS
	// cancels it (the speaker went on), as does the utterance's end; it
	// never ends an utterance inside speech.
	EndPause(atMS int64, silence time.Duration)
}

// Recognizer opens streams. Implementations are safe for concurrent use.
type Recognizer interface {
	NewStream(ctx context.Context, opts StreamOptions) (Stream, error)
	// Recognize transcribes one whole utterance (used by asr-eval and imports).
	Recognize(ctx context.Context, pcm []int16) (Result, error)
	Close() error
}

// AudioWanter is implemented by a Recognizer that may want no live
// audio at all (provider none: speech recognition turned off). Wrappers
// of a Recognizer (metrics) implement it by asking what they wrap.
type AudioWanter interface {
	// WantsAudio reports whether streams are worth opening: false means
	// they would only discard the audio decoded for them, so callers open
	// none and decode nothing for recognition.
	WantsAudio() bool
}

// WantsAudio reports whether r wants live audio: false for nil and for a
// recogniser whose WantsAudio says so; true for any other.
func WantsAudio(r Recognizer) bool {
	if r == nil {
		return false
	}
	if w, ok := r.(AudioWanter); ok {
		return w.WantsAudio()
	}
	return true
}

// Config is what a provider factory gets.
type Config struct {
	// Phrases the callers are expected to say (IVR examples etc.), for
	// providers that build a domain language model or hint list.
	Phrases []string
	// DataDir is a writable directory the provider may cache files in.
	DataDir string
	// Options are the provider's own settings from the config file.
	Options map[string]string
}

// Factory builds a Recognizer.
type Factory func(ctx context.Context, cfg Config) (Recognizer, error)

var providers = registry.New[Factory]("asr")

// Register makes a provider available by name. It panics on a nil factory
// or a duplicate name, as database/sql.Register does.
func Register(name string, f Factory) { providers.Register(name, f) }

// Providers lists the registered provider names.
func Providers() []string { return providers.Names() }

// New builds the named provider.
func New(ctx context.Context, name string, cfg Config) (Recognizer, error) {
	f, err := providers.Get(name)
	if err != nil {
		return nil, err
	}
	return f(ctx, cfg)
}
