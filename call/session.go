package call

import (
	"context"
	"time"

	"github.com/contactd/contactd/sip"
	"github.com/contactd/contactd/tts"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/ivr"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/transcript"
)

// The Call is the IVR's Session; these run on the owner goroutine.
var (
	_ ivr.Session      = (*Call)(nil)
	_ ivr.CallInformer = (*Call)(nil)
)

// CallInfo tells the flow who called which number (VIP, known-customer and
// dialled-number conditions; analytics).
func (c *Call) CallInfo() ivr.CallInfo {
	return ivr.CallInfo{ID: c.in.ID, From: c.in.From, To: c.in.To, Entry: c.in.Entry}
}

// Say speaks text to the caller, stopping at the caller's first speech or key.
func (c *Call) Say(ctx context.Context, text string) (bool, error) {
	pcm, err := c.voice().Synthesize(ctx, text)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		// A prompt that cannot be spoken must not end the call.
		c.log.Warn("tts failed; prompt skipped", "err", err, "text", text)
		return false, nil
	}
	now := time.Since(c.start).Milliseconds()
	c.segs = append(c.segs, transcript.Segment{Speaker: transcript.System, StartMS: now,
		EndMS: now + int64(len(pcm))*1000/media.SampleRate, Text: text})
	leg := c.in.Leg
	for off := 0; off < len(pcm); off += media.FrameSamples {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case r, ok := <-c.callerResults():
			c.onCallerResult(r, ok)
			if ok && (r.Kind == asr.SpeechStart || r.Kind == asr.Final) {
				if r.Kind == asr.Final && r.Text != "" {
					c.pending = append(c.pending, ivr.Input{Text: r.Text, Confidence: r.Confidence, Language: r.Language})
				}
				leg.Flush()
				c.log.Debug("barge-in: prompt stopped", "cue", r.Kind, "speech_start_ms", r.StartMS)
				return true, nil
			}
		case d := <-leg.DTMF():
			c.pending = append(c.pending, ivr.Input{Digit: d})
			leg.Flush()
			return true, nil
		case ev := <-c.in.Events:
			if d := c.onSignal(ev); d != 0 {
				c.pending = append(c.pending, ivr.Input{Digit: d})
				leg.Flush()
				return true, nil
			}
		default:
		}
		frame := make([]int16, media.FrameSamples)
		copy(frame, pcm[off:])
		if err := leg.WriteFrame(frame); err != nil {
			return false, err
		}
	}
	return false, nil
}

// Listen waits for the caller's next utterance or key. Speech that has
// started extends the wait until its final result (bounded).
func (c *Call) Listen(ctx context.Context, timeout time.Duration) (ivr.Input, error) {
	if len(c.pending) > 0 {
		in := c.pending[0]
		c.pending = c.pending[1:]
		return in, nil
	}
	const maxUtterance = 20 * time.Second
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ivr.Input{}, ctx.Err()
		case d := <-c.in.Leg.DTMF():
			return ivr.Input{Digit: d}, nil
		case ev := <-c.in.Events:
			if d := c.onSignal(ev); d != 0 {
				return ivr.Input{Digit: d}, nil
			}
		case r, ok := <-c.callerResults():
			c.onCallerResult(r, ok)
			if !ok {
				// The recogniser failed: keep listening for keys only.
				continue
			}
			switch r.Kind {
			case asr.SpeechStart:
				timer.Reset(maxUtterance)
			case asr.Final:
				return ivr.Input{Text: r.Text, Confidence: r.Confidence, Language: r.Language}, nil
			}
		case <-timer.C:
			return ivr.Input{Timeout: true}, nil
		}
	}
}

// SetLanguage switches the voice prompts are spoken in (ivr.LanguageSetter).
func (c *Call) SetLanguage(lang string) { c.lang = lang }

// voice is the synthesizer for the call's language.
func (c *Call) voice() tts.Synthesizer {
	if s, ok := c.m.opts.Voices[c.lang]; ok {
		return s
	}
	return c.m.opts.TTS
}

// onSignal handles an in-dialog event from the caller's phone and returns
// the digit it carried (SIP INFO), or 0.
func (c *Call) onSignal(ev sip.CallEvent) rune {
	switch ev.Kind {
	case sip.EventDTMF:
		return ev.Digit
	case sip.EventHold:
		c.log.Info("caller put us on hold")
	case sip.EventResume:
		c.log.Info("caller resumed")
	}
	return 0
}
