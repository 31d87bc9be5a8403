package call

import (
	"context"
	"fmt"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/transcript"
)

// Hold: the caller hears music (media.MusicOnHold, looped by a feeder
// goroutine pacing itself on the caller's leg), the agent hears nothing of
// the caller and the caller nothing of the agent (the mixer's held
// routes). The agent's audio while on hold is neither recorded nor
// transcribed. On resume the hold goes into the transcript as a system
// line ("caller on hold for 42 s"), which QA's hold check reads as a hold
// marker.

type holdState struct {
	since time.Duration // offset from the call's start
	stop  context.CancelFunc
	done  chan struct{}
}

// Hold puts the caller of callID on hold (on) or takes them off it, for
// the call's agent.
func (m *Manager) Hold(ctx context.Context, callID, agent string, on bool) error {
	return m.control(ctx, callID, func(ctx context.Context, c *Call) error {
		if err := c.mine(agent); err != nil {
			return err
		}
		if c.consult != nil {
			return fmt.Errorf("%w: a consultation is in progress (complete or cancel it)", ErrBusy)
		}
		if on {
			c.holdOn()
		} else {
			c.holdOff()
		}
		return nil
	})
}

// holdOn starts music on hold; it does nothing when the caller already
// is on hold.
func (c *Call) holdOn() {
	if c.hold != nil {
		return
	}
	c.stopDTMF() // tones would mix with the music
	c.mix.do(func(_ context.Context, x *mixExt) { x.held = true })
	ctx, stop := context.WithCancel(c.ctx())
	h := &holdState{since: time.Since(c.start), stop: stop, done: make(chan struct{})}
	c.hold = h
	c.view.set(func(v *LiveCall) { v.Held, v.HeldSince = true, time.Now() })
	go func() {
		defer close(h.done)
		feed(ctx, c.in.Leg, media.MusicOnHold(), true)
	}()
	c.log.Info("caller on hold", "agent", c.agent)
	c.publishAgent(Event{Type: "call_held"})
}

// holdOff ends the hold, if any: the music stops, the bridge is restored
// and the hold is noted in the transcript.
func (c *Call) holdOff() {
	h := c.hold
	if h == nil {
		return
	}
	c.hold = nil
	c.view.set(func(v *LiveCall) { v.Held, v.HeldSince = false, time.Time{} })
	h.stop()
	<-h.done
	c.in.Leg.Flush() // the queued music
	c.mix.do(func(_ context.Context, x *mixExt) { x.held = false })
	end := time.Since(c.start)
	secs := int((end - h.since + time.Second/2) / time.Second)
	c.addSegment(transcript.Segment{Speaker: transcript.System, StartMS: h.since.Milliseconds(),
		EndMS: end.Milliseconds(), Text: fmt.Sprintf("Caller on hold for %d s.", secs)})
	c.log.Info("caller off hold", "agent", c.agent, "held", (end - h.since).Round(time.Millisecond))
	c.publishAgent(Event{Type: "call_resumed", HoldMS: (end - h.since).Milliseconds()})
}

// feed writes pcm to leg in real time (the leg's queue paces it), looping
// when loop is set, until ctx ends or a write fails.
func feed(ctx context.Context, leg media.Leg, pcm []int16, loop bool) {
	w, canCancel := leg.(interface {
		WriteFrameContext(context.Context, []int16) error
	})
	for {
		for off := 0; off < len(pcm); off += media.FrameSamples {
			if ctx.Err() != nil {
				return
			}
			frame := pcm[off:min(off+media.FrameSamples, len(pcm))]
			var err error
			if canCancel {
				err = w.WriteFrameContext(ctx, frame)
			} else {
				err = leg.WriteFrame(frame)
			}
			if err != nil {
				return
			}
		}
		if !loop || len(pcm) == 0 {
			return
		}
	}
}
