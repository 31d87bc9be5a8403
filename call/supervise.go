package call

import (
	"context"
	"fmt"

	"github.com/contactd/contactd/media"
)

// Supervisors on a live call. A supervisor's browser opens a WebRTC leg to
// the call (Monitor with an SDP offer) that joins the call's mixer as a
// monitor party: listen hears the caller and the agent mixed; whisper is
// also heard by the agent (coaching), barge by the agent and the caller.
// Changing the mode is a routing change in the mixer: no renegotiation.
// The mixer sums only while a supervisor is on the call (mixbus.go).
//
// Events: supervisors see every mode ("monitor" events, mode "" when it
// ends). The agent is told only what changes what they hear — whisper and
// barge — so listening stays silent; an event source that can reach
// supervisors alone (Watcher, the web hub) is needed for that.

// Watcher is an optional ability of Events: deliver ev to supervisors
// only, labelled with agent.
type Watcher interface {
	Watch(agent string, ev Event)
}

type monitor struct {
	leg     media.Leg
	mode    string
	told    bool // the agent was told (whisper or barge)
	stop    chan struct{}
	release func() bool // the call's end closing the leg
}

func validMode(mode string) bool {
	return mode == ModeListen || mode == ModeWhisper || mode == ModeBarge
}

// Monitor puts supervisor on callID in mode. With offerSDP it opens the
// supervisor's leg and returns the SDP answer (replacing a leg they had on
// the call); without, it changes the mode of the leg they have.
func (m *Manager) Monitor(ctx context.Context, callID, supervisor, mode, offerSDP string) (string, error) {
	if !validMode(mode) {
		return "", fmt.Errorf("%w: mode: want listen, whisper or barge, got %q", ErrBadArg, mode)
	}
	if offerSDP == "" {
		return "", m.control(ctx, callID, func(ctx context.Context, c *Call) error {
			mon := c.monitors[supervisor]
			if mon == nil {
				return fmt.Errorf("%w: %s is not monitoring this call (send an SDP offer first)", ErrNotYours, supervisor)
			}
			if mon.mode != mode {
				mon.mode = mode
				c.mix.do(func(ctx context.Context, x *mixExt) { x.setMonitor(ctx, supervisor, mon.leg, mode) })
				c.announceMonitor(supervisor, mon)
			}
			return nil
		})
	}
	c, err := m.call(callID)
	if err != nil {
		return "", err
	}
	leg, answer, err := m.opts.NewLeg(c.ctx(), offerSDP)
	if err != nil {
		return "", fmt.Errorf("%w: monitor leg: %w", ErrBadArg, err)
	}
	err = m.control(ctx, callID, func(ctx context.Context, c *Call) error {
		if old := c.monitors[supervisor]; old != nil {
			c.dropMonitor(supervisor)
		}
		if c.monitors == nil {
			c.monitors = map[string]*monitor{}
		}
		mon := &monitor{leg: leg, mode: mode, stop: make(chan struct{})}
		mon.release = context.AfterFunc(c.ctx(), func() { leg.Close() })
		c.monitors[supervisor] = mon
		c.mix.do(func(ctx context.Context, x *mixExt) { x.setMonitor(ctx, supervisor, leg, mode) })
		if d, ok := leg.(interface{ Done() <-chan struct{} }); ok {
			go func() {
				select {
				case <-d.Done():
					c.post(mon.stop, func(context.Context) error {
						if c.monitors[supervisor] == mon {
							c.dropMonitor(supervisor)
						}
						return nil
					})
				case <-mon.stop:
				}
			}()
		}
		c.log.Info("supervisor on the call", "supervisor", supervisor, "mode", mode, "agent", c.agent)
		c.announceMonitor(supervisor, mon)
		return nil
	})
	if err != nil {
		leg.Close()
		return "", err
	}
	return answer, nil
}

// StopMonitor takes supervisor off callID.
func (m *Manager) StopMonitor(ctx context.Context, callID, supervisor string) error {
	return m.control(ctx, callID, func(ctx context.Context, c *Call) error {
		if c.monitors[supervisor] == nil {
			return fmt.Errorf("%w: %s is not monitoring this call", ErrNotYours, supervisor)
		}
		c.dropMonitor(supervisor)
		return nil
	})
}

// dropMonitor closes the supervisor's leg and says so.
func (c *Call) dropMonitor(supervisor string) {
	mon := c.monitors[supervisor]
	if mon == nil {
		return
	}
	delete(c.monitors, supervisor)
	close(mon.stop)
	mon.release()
	c.mix.do(func(_ context.Context, x *mixExt) { x.dropMonitor(supervisor) })
	mon.leg.Close()
	mon.mode = ""
	c.log.Info("supervisor left the call", "supervisor", supervisor)
	c.announceMonitor(supervisor, mon)
}

// announceMonitor publishes the supervisor's mode ("" when gone).
func (c *Call) announceMonitor(supervisor string, mon *monitor) {
	o := c.m.opts
	c.view.set(func(v *LiveCall) {
		if mon.mode == "" {
			delete(v.Monitors, supervisor)
			return
		}
		if v.Monitors == nil {
			v.Monitors = map[string]string{}
		}
		v.Monitors[supervisor] = mon.mode
	})
	ev := Event{Type: "monitor", CallID: c.in.ID, Peer: supervisor, Mode: mon.mode}
	heard := mon.mode == ModeWhisper || mon.mode == ModeBarge
	w, canWatch := o.Events.(Watcher)
	switch {
	case c.agent != "" && heard:
		o.Events.Publish(c.agent, ev) // the agent and supervisors
		mon.told = true
		return
	case c.agent != "" && mon.told:
		told := ev
		told.Mode = "" // not heard any more: the agent's view is "ended"
		o.Events.Publish(c.agent, told)
		mon.told = false
	case !canWatch && c.agent != "":
		return // listening stays silent rather than told to the agent
	}
	if canWatch {
		w.Watch(c.agent, ev)
	}
}
