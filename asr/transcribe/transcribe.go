// Package transcribe turns a recorded call into a speaker-labelled
// transcript with any asr.Recognizer: each channel is one speaker (a
// stereo call recording has the caller left and the agent right). The
// audio is fed to a voice activity detector in 20 ms frames at its own
// rate; each utterance it cuts is resampled to 16 kHz (media.Resample) and
// recognised whole, with the recogniser's word timings when it gives them.
//
// It does not use the recogniser's streams: a Stream drops audio that is
// written faster than it decodes (it is built for the real-time media
// path), while a recording is there all at once, and Recognize takes one
// utterance at the decoder's own pace. Resampling only the utterances
// also spares the silence half of each channel, which matters because
// media.Resample is meant for short clips.
package transcribe

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/vad"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/transcript"
)

// FrameMS is how much audio goes to the voice activity detector at once.
const FrameMS = 20

// Channel is one speaker's audio: mono 16-bit PCM at the call's rate.
type Channel struct {
	Speaker transcript.Speaker
	PCM     []int16
}

// Result is a transcribed recording.
type Result struct {
	// Segments are the recognised utterances of every channel, in start
	// order; utterances in which nothing was recognised are left out.
	Segments []transcript.Segment
	// Utterances is how many the detector found; Failed how many of them
	// the recogniser failed on (their words are missing: the transcript
	// is incomplete).
	Utterances, Failed int
}

// optionsRecognizer is a recogniser that can be told about the audio, as
// asr/sphinx can: narrowband (8 kHz) recordings get its telephone model.
type optionsRecognizer interface {
	RecognizeOptions(ctx context.Context, pcm []int16, opts asr.StreamOptions) (asr.Result, error)
}

// Call transcribes the channels of one recording at rate Hz, the channels
// in parallel. A recogniser error that wraps asr.ErrFatal (or ctx ending)
// stops it with that error; other failures leave their utterance out and
// are counted in Result.Failed. cfg tunes the detector (its SampleRate is
// set to rate).
func Call(ctx context.Context, rec asr.Recognizer, rate int, chans []Channel, cfg vad.Config) (Result, error) {
	if rate < 8000 || rate > 192000 {
		return Result{}, fmt.Errorf("transcribe: sample rate %d Hz, want 8000-192000", rate)
	}
	cfg.SampleRate = rate
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	parts := make([]Result, len(chans))
	var wg sync.WaitGroup
	for i, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := channel(ctx, rec, rate, ch, cfg)
			if err != nil {
				cancel(err)
			}
			parts[i] = r
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return Result{}, err
	}
	var out Result
	for _, p := range parts {
		out.Segments = append(out.Segments, p.Segments...)
		out.Utterances += p.Utterances
		out.Failed += p.Failed
	}
	sort.SliceStable(out.Segments, func(i, j int) bool { return out.Segments[i].StartMS < out.Segments[j].StartMS })
	return out, nil
}

// channel cuts one channel into utterances and recognises each.
func channel(ctx context.Context, rec asr.Recognizer, rate int, ch Channel, cfg vad.Config) (Result, error) {
	seg := vad.New(cfg)
	frame := rate * FrameMS / 1000
	var evs []vad.Event
	for off := 0; off < len(ch.PCM); off += frame {
		evs = seg.Write(ch.PCM[off:min(off+frame, len(ch.PCM))], evs)
	}
	evs = seg.Flush(evs)
	var out Result
	narrow := rate <= 8000
	for _, ev := range evs {
		if ev.Kind != vad.Utterance {
			continue
		}
		out.Utterances++
		pcm := ev.PCM
		if rate != asr.SampleRate {
			pcm = media.Resample(pcm, rate, asr.SampleRate)
		}
		var res asr.Result
		var err error
		if o, ok := rec.(optionsRecognizer); ok {
			res, err = o.RecognizeOptions(ctx, pcm, asr.StreamOptions{Label: string(ch.Speaker), Narrowband: narrow})
		} else {
			res, err = rec.Recognize(ctx, pcm)
		}
		switch {
		case ctx.Err() != nil:
			return out, context.Cause(ctx)
		case errors.Is(err, asr.ErrFatal):
			return out, fmt.Errorf("transcribe: %s channel: %w", ch.Speaker, err)
		case err != nil:
			out.Failed++
			continue
		}
		text := strings.TrimSpace(res.Text)
		if text == "" {
			continue
		}
		s := transcript.Segment{Speaker: ch.Speaker, StartMS: ev.StartMS, EndMS: ev.EndMS, Text: text, Confidence: res.Confidence}
		for _, w := range res.Words {
			s.Words = append(s.Words, transcript.Word{Text: w.Text, StartMS: ev.StartMS + w.StartMS, EndMS: ev.StartMS + w.EndMS})
		}
		out.Segments = append(out.Segments, s)
	}
	return out, nil
}

// Split de-interleaves a recording of n channels into the speakers given,
// one per channel in order.
func Split(pcm []int16, speakers ...transcript.Speaker) []Channel {
	n := len(speakers)
	if n == 0 {
		return nil
	}
	out := make([]Channel, n)
	for c := range out {
		out[c] = Channel{Speaker: speakers[c], PCM: make([]int16, 0, len(pcm)/n)}
	}
	for i := 0; i+n <= len(pcm); i += n {
		for c := range n {
			out[c].PCM = append(out[c].PCM, pcm[i+c])
		}
	}
	return out
}
