package call

import (
	"context"
	"fmt"
	"time"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/transcript"
)

// Recording pause (PCI): while the caller reads out card details the
// call's agent, or a supervisor, pauses the recording. The parties still
// hear each other; the recording gets silence on both channels and so do
// both recognisers, so nothing said then is transcribed, and a line the
// recogniser still reports from inside the span is dropped. On resume the
// span goes on the call's record (store.Call.RecordingPauses) and into
// the transcript as a system line ("Recording paused for 42 s."), which
// QA's dead-air check takes as accounted for, like a hold. A pause ends
// with the bridge at the latest: when the agent's part ends (hang-up,
// transfer) the recording goes on.

// recPause is a pause in progress (owner-only).
type recPause struct {
	since time.Duration // offset from the call's start
	by    string
}

// PauseRecording pauses (on) or resumes the recording of callID for
// user, who is the call's agent or, with supervisor set, a supervisor.
// Pausing a paused recording, or resuming one that runs, is ErrBusy.
func (m *Manager) PauseRecording(ctx context.Context, callID, user string, supervisor, on bool) error {
	if user == "" {
		return fmt.Errorf("%w: no user", ErrNotYours)
	}
	return m.control(ctx, callID, func(_ context.Context, c *Call) error {
		if !supervisor {
			if err := c.mine(user); err != nil {
				return err
			}
		}
		if on {
			return c.pauseRecording(user)
		}
		if c.recPause == nil {
			return fmt.Errorf("%w: the recording is not paused", ErrBusy)
		}
		c.resumeRecording(user)
		return nil
	})
}

// pauseRecording starts a pause by user.
func (c *Call) pauseRecording(user string) error {
	if c.recPause != nil {
		return fmt.Errorf("%w: the recording is already paused (by %s)", ErrBusy, c.recPause.by)
	}
	c.mix.setRecPaused(true)
	c.recPause = &recPause{since: time.Since(c.start), by: user}
	c.log.Info("recording paused", "by", user)
	c.publishAgent(Event{Type: "recording_paused", Peer: user})
	return nil
}

// resumeRecording ends the pause in progress, if any; user is who
// resumed it, "" when the bridge ended.
func (c *Call) resumeRecording(user string) {
	p := c.recPause
	if p == nil {
		return
	}
	c.recPause = nil
	c.mix.setRecPaused(false)
	end := time.Since(c.start)
	span := store.RecordingPause{StartMS: p.since.Milliseconds(), EndMS: end.Milliseconds(), By: p.by, ResumedBy: user}
	c.rec.RecordingPauses = append(c.rec.RecordingPauses, span)
	secs := int((end - p.since + time.Second/2) / time.Second)
	c.addSegment(transcript.Segment{Speaker: transcript.System, StartMS: span.StartMS, EndMS: span.EndMS,
		Text: fmt.Sprintf("Recording paused for %d s.", secs)})
	c.log.Info("recording resumed", "by", user, "paused_by", p.by, "paused", (end - p.since).Round(time.Millisecond))
	c.publishAgent(Event{Type: "recording_resumed", Peer: user, HoldMS: span.EndMS - span.StartMS})
}

// unpaused drops what a recogniser reports from inside a paused span (it
// was given silence then, but a provider may still make something of
// it): words said well inside a span go, and so does a line none of whose
// words are left, or, without words, that is well inside a span. "Well
// inside": pauseEdge from either end, as the recognisers' clocks (audio
// samples) and the span's (the call's wall clock) drift apart by a few
// hundred ms over a call, and speech just before or after a pause is the
// call's.
func (c *Call) unpaused(s transcript.Segment) (transcript.Segment, bool) {
	spans := c.rec.RecordingPauses
	if c.recPause != nil {
		spans = append(spans[:len(spans):len(spans)], store.RecordingPause{StartMS: c.recPause.since.Milliseconds(), EndMS: 1<<62 - 1})
	}
	if len(spans) == 0 {
		return s, true
	}
	edge := pauseEdge.Milliseconds()
	in := func(from, to int64) bool {
		for _, p := range spans {
			if from >= p.StartMS+edge && to <= p.EndMS-edge {
				return true
			}
		}
		return false
	}
	if len(s.Words) == 0 {
		return s, !in(s.StartMS, s.EndMS)
	}
	kept := make([]transcript.Word, 0, len(s.Words))
	for _, w := range s.Words {
		if !in(w.StartMS, w.EndMS) {
			kept = append(kept, w)
		}
	}
	switch {
	case len(kept) == 0:
		return s, false
	case len(kept) < len(s.Words):
		s.Words = kept
		s.Text = joinWords(kept)
		s.StartMS, s.EndMS = kept[0].StartMS, kept[len(kept)-1].EndMS
	}
	return s, true
}

func joinWords(ws []transcript.Word) string {
	n := 0
	for _, w := range ws {
		n += len(w.Text) + 1
	}
	b := make([]byte, 0, n)
	for i, w := range ws {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, w.Text...)
	}
	return string(b)
}

// pauseEdge is the margin of unpaused.
const pauseEdge = 500 * time.Millisecond

// setRecPaused pauses or resumes what the mixer records and transcribes.
func (m *mixer) setRecPaused(on bool) {
	m.ctl <- func(context.Context) { m.recPaused = on }
}

// kept is what the recording and the recogniser get of frame f: f, or
// silence while the recording is paused.
func (m *mixer) kept(f []int16) []int16 {
	if !m.recPaused {
		return f
	}
	return make([]int16, len(f))
}
