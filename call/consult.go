package call

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/routing"
)

// Consultative transfer. The call's agent (A) asks to consult another
// agent (B), who must be available:
//
//  1. Consult: the caller goes on hold (music) and B's desktop gets a
//     consult_offer event. B is not reserved yet; the offer lapses after
//     consultRing.
//  2. AnswerConsult: B's browser sends an SDP offer; B is claimed busy in
//     routing and B's WebRTC leg joins the call's mixer as the consult
//     party: A and B hear each other, the caller hears music and nothing
//     of either. The consultation is not recorded or transcribed.
//  3. CompleteConsult (A): A leaves as in a blind transfer
//     (call_transferred), the hold ends, and B's consult leg becomes the
//     call's agent leg: B's desktop gets call_answered for the call and
//     the transcript so far, and the caller hears B. Nothing is
//     renegotiated: B's browser keeps its peer connection.
//     CancelConsult (A or B), DeclineConsult (B before answering), B's
//     connection dropping, or the call moving on end it instead: B's leg
//     closes, B is released (wrap-up), and the caller comes off hold if
//     the consultation put them on it.

// ErrNoConsult means there is no consultation to act on.
var ErrNoConsult = errors.New("call: no consultation in progress")

// consultRing bounds how long a consultation waits for the target.
const consultRing = 30 * time.Second

type consultState struct {
	target  string
	leg     media.Leg // nil until the target answers
	claimed bool      // the target is busy in routing
	held    bool      // the consultation put the caller on hold
	stop    chan struct{}
}

// Consult starts a consultation of callID's agent with target
// ("agent:NAME" or a bare agent name).
func (m *Manager) Consult(ctx context.Context, callID, agent, target string) error {
	return m.control(ctx, callID, func(ctx context.Context, c *Call) error {
		if err := c.mine(agent); err != nil {
			return err
		}
		if c.consult != nil {
			return fmt.Errorf("%w: already consulting %s", ErrBusy, c.consult.target)
		}
		t, err := parseTarget(target, c.m.opts.Router.HasQueue)
		if err != nil {
			return err
		}
		if t.agent == "" {
			return fmt.Errorf("%w: a consultation needs an agent, not a %s (use a blind transfer)", ErrBadTarget, t)
		}
		if t.agent == c.agent {
			return fmt.Errorf("%w: you cannot consult yourself", ErrBadTarget)
		}
		v, ok := c.m.opts.Router.Agent(t.agent)
		if !ok {
			return fmt.Errorf("%w: no agent %q", ErrBadTarget, t.agent)
		}
		if v.State != routing.Available || v.Offering != "" {
			return fmt.Errorf("%w: %s is %s", routing.ErrAgentAway, t.agent, v.State)
		}
		cs := &consultState{target: t.agent, held: c.hold == nil, stop: make(chan struct{})}
		c.holdOn()
		c.consult = cs
		c.view.set(func(v *LiveCall) { v.Consult, v.ConsultState = t.agent, "ringing" })
		go func() {
			select {
			case <-time.After(consultRing):
				c.post(cs.stop, func(context.Context) error {
					if c.consult == cs && cs.leg == nil {
						c.endConsult(cs.target + " did not answer")
					}
					return nil
				})
			case <-cs.stop:
			}
		}()
		c.log.Info("consultation offered", "agent", c.agent, "target", t.agent)
		c.m.opts.Events.Publish(t.agent, Event{Type: "consult_offer", CallID: c.in.ID, Peer: c.agent, From: c.in.From})
		c.publishAgent(Event{Type: "consult_ringing", Peer: t.agent})
		return nil
	})
}

// AnswerConsult is the consulted agent answering from the browser: it
// returns the SDP answer of their WebRTC leg.
func (m *Manager) AnswerConsult(ctx context.Context, callID, agent, offerSDP string) (string, error) {
	c, err := m.call(callID)
	if err != nil {
		return "", err
	}
	leg, answer, err := m.opts.NewLeg(c.ctx(), offerSDP)
	if err != nil {
		return "", fmt.Errorf("%w: consult leg: %w", ErrBadArg, err)
	}
	err = m.control(ctx, callID, func(ctx context.Context, c *Call) error {
		cs := c.consult
		if cs == nil || cs.target != agent || cs.leg != nil {
			return fmt.Errorf("%w: no consultation offered to %s", ErrNotYours, agent)
		}
		if err := c.m.opts.Router.Claim(agent); err != nil {
			return err
		}
		cs.leg, cs.claimed = leg, true
		c.mix.do(func(ctx context.Context, x *mixExt) { x.setConsult(ctx, leg) })
		if d, ok := leg.(interface{ Done() <-chan struct{} }); ok {
			go func() {
				select {
				case <-d.Done():
					c.post(cs.stop, func(context.Context) error {
						if c.consult == cs {
							c.endConsult(agent + "'s connection was lost")
						}
						return nil
					})
				case <-cs.stop:
				}
			}()
		}
		c.view.set(func(v *LiveCall) { v.Consult, v.ConsultState = agent, "talking" })
		c.log.Info("consultation answered", "agent", c.agent, "target", agent)
		c.m.opts.Events.Publish(agent, Event{Type: "consult_answered", CallID: c.in.ID, Peer: c.agent})
		c.publishAgent(Event{Type: "consult_answered", Peer: agent})
		return nil
	})
	if err != nil {
		leg.Close()
		return "", err
	}
	return answer, nil
}

// DeclineConsult is the consulted agent saying no before answering.
func (m *Manager) DeclineConsult(ctx context.Context, callID, agent string) error {
	return m.control(ctx, callID, func(ctx context.Context, c *Call) error {
		cs := c.consult
		if cs == nil || cs.target != agent || cs.leg != nil {
			return fmt.Errorf("%w: no consultation offered to %s", ErrNotYours, agent)
		}
		c.endConsult(agent + " declined")
		return nil
	})
}

// CancelConsult ends the consultation without a transfer; either agent
// may. The caller comes back to the call's agent.
func (m *Manager) CancelConsult(ctx context.Context, callID, agent string) error {
	return m.control(ctx, callID, func(ctx context.Context, c *Call) error {
		cs := c.consult
		if cs == nil {
			return ErrNoConsult
		}
		if agent != c.agent && agent != cs.target {
			return fmt.Errorf("%w: %s is not in this consultation", ErrNotYours, agent)
		}
		c.endConsult("cancelled by " + agent)
		return nil
	})
}

// CompleteConsult transfers the call to the consulted agent.
func (m *Manager) CompleteConsult(ctx context.Context, callID, agent string) error {
	return m.control(ctx, callID, func(ctx context.Context, c *Call) error {
		if err := c.mine(agent); err != nil {
			return err
		}
		cs := c.consult
		if cs == nil {
			return ErrNoConsult
		}
		if cs.leg == nil {
			return fmt.Errorf("%w: %s has not answered yet", ErrNoConsult, cs.target)
		}
		c.consult = nil
		c.view.set(func(v *LiveCall) { v.Consult, v.ConsultState = "", "" })
		close(cs.stop)
		c.mix.do(func(ctx context.Context, x *mixExt) { x.setConsult(ctx, nil) })
		// The bridge hands the call over (runControl); its end takes the
		// caller off hold once the first agent is detached.
		c.handover = &agentJoin{agent: cs.target, leg: cs.leg}
		c.log.Info("consultation completed", "from", c.agent, "to", cs.target)
		return nil
	})
}

// endConsult ends the consultation without a transfer.
func (c *Call) endConsult(why string) {
	cs := c.consult
	if cs == nil {
		return
	}
	c.consult = nil
	c.view.set(func(v *LiveCall) { v.Consult, v.ConsultState = "", "" })
	close(cs.stop)
	if cs.leg != nil {
		c.mix.do(func(ctx context.Context, x *mixExt) { x.setConsult(ctx, nil) })
		cs.leg.Close()
	}
	if cs.claimed {
		c.m.opts.Router.Release(cs.target)
	}
	c.log.Info("consultation ended", "agent", c.agent, "target", cs.target, "why", why)
	c.m.opts.Events.Publish(cs.target, Event{Type: "consult_ended", CallID: c.in.ID, Peer: c.agent, Text: why})
	c.publishAgent(Event{Type: "consult_ended", Peer: cs.target, Text: why})
	if cs.held {
		c.holdOff()
	}
}
