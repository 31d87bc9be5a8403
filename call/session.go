package call

import (
	"context"
	"strings"
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
	_ ivr.TurnListener = (*Call)(nil)
)

// cutWait is how long ListenTurn waits for more after an utterance whose
// words stop mid-phrase (ivr.TurnCut): on top of the recogniser's
// end-of-speech silence (600 ms), 1 s of silence in all. Most such words
// are a recogniser's error ("this service isn't show the") rather than a
// caller thinking, and one who is thinking can still barge in on the
// reprompt.
const cutWait = 400 * time.Millisecond

// shortSilence is the silence after which an utterance whose words at a
// pause are complete but not acted on at once (ivr.TurnShort: a reprompt,
// a confirmation, a question for the order number) ends, instead of the
// recogniser's end-of-speech silence (600 ms), with a recogniser that can
// (asr.PauseEnder). A caller who goes on within it is not cut.
const shortSilence = 350 * time.Millisecond

// earlyTurn is an utterance whose Tentative ended the caller's turn: the
// Final that follows for it is not new input (nor a barge-in).
type earlyTurn struct {
	startMS int64
	text    string
}

// sameUtterance is the slack between a Tentative's start and its Final's:
// both come from the same VAD on the same audio (10 ms frames).
const sameUtterance = 30

// spent reports whether r is the Final of the utterance a Tentative
// already ended the turn with, and forgets that utterance once its Final
// (or a later one) has come.
func (c *Call) spent(r asr.Result) bool {
	e := c.early
	if e == nil || r.Kind != asr.Final {
		return false
	}
	c.early = nil
	if d := r.StartMS - e.startMS; d < -sameUtterance || d > sameUtterance {
		return false // its Final never came; this is the next utterance
	}
	fin, tent := strings.ToLower(strings.TrimSpace(r.Text)), strings.ToLower(strings.TrimSpace(e.text))
	switch {
	case fin == tent:
		c.log.Debug("ivr: final of an utterance taken at a pause dropped", "final", r.Text)
	case strings.HasPrefix(fin, tent):
		c.log.Info("ivr: the caller went on after the turn ended at a pause", "tentative", e.text, "final", r.Text)
	default:
		c.log.Info("ivr: the final text of an utterance taken at a pause differs", "tentative", e.text, "final", r.Text)
	}
	return true
}

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
			if ok && c.spent(r) {
				break
			}
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
	return c.ListenTurn(ctx, timeout, nil)
}

// ListenTurn is Listen, ending the caller's turn by meaning as well as by
// silence (ivr.TurnListener): a Tentative (the utterance so far, at a
// pause) that judge finds whole is the input at once, and the Final that
// follows for that utterance is dropped; one it finds short asks the
// recogniser (asr.PauseEnder) to end the utterance after shortSilence if
// the caller says nothing more, and its Final is the input; a Final that judge finds cut
// mid-phrase waits up to cutWait for more speech, whose Final is joined
// to it. With a nil judge, or a recogniser without tentatives, it is
// Listen.
func (c *Call) ListenTurn(ctx context.Context, timeout time.Duration, judge func(string) ivr.Turn) (ivr.Input, error) {
	if len(c.pending) > 0 {
		in := c.pending[0]
		c.pending = c.pending[1:]
		return in, nil
	}
	const maxUtterance = 20 * time.Second
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var held *ivr.Input // a Final cut mid-phrase, waiting for the rest
	join := func(r asr.Result) ivr.Input {
		in := ivr.Input{Text: r.Text, Confidence: r.Confidence, Language: r.Language}
		if held != nil && strings.TrimSpace(held.Text) != "" {
			in.Text = strings.TrimSpace(held.Text + " " + r.Text)
			in.Confidence = min(held.Confidence, r.Confidence)
		}
		return in
	}
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
			if c.spent(r) {
				continue
			}
			switch r.Kind {
			case asr.SpeechStart:
				timer.Reset(maxUtterance)
			case asr.Tentative:
				if judge == nil {
					continue
				}
				in := join(r)
				switch judge(in.Text) {
				case ivr.TurnWhole:
				case ivr.TurnShort:
					if pe, ok := c.callerASR.(asr.PauseEnder); ok {
						pe.EndPause(r.EndMS, shortSilence)
						c.log.Debug("ivr: complete words at a pause; ending the utterance after a short silence", "text", in.Text, "pause_ms", r.EndMS)
					}
					continue
				default:
					continue
				}
				c.early = &earlyTurn{startMS: r.StartMS, text: r.Text}
				in.Early = true
				c.log.Debug("ivr: turn ended at a pause", "text", in.Text, "pause_ms", r.EndMS)
				return in, nil
			case asr.Final:
				in := join(r)
				if judge != nil && held == nil && strings.TrimSpace(r.Text) != "" && judge(in.Text) == ivr.TurnCut {
					held = &in
					timer.Reset(cutWait)
					c.log.Debug("ivr: words stop mid-phrase; waiting for more", "text", in.Text)
					continue
				}
				return in, nil
			}
		case <-timer.C:
			if held != nil {
				return *held, nil
			}
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
