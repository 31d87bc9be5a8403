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
// agent (B), named or the next one a queue offers:
//
//  1. Consult: the caller goes on hold (music). A named agent B must be
//     available; B's desktop gets a consult_offer event, and B is not
//     reserved yet. A queue ("queue:billing") gets the consultation as a
//     contact under the call's ID (routing.Contact.ConsultBy, at urgent
//     priority): the router offers it by the queue's rules like a call,
//     the offered agent's desktop gets consult_offer instead of an
//     offer, a declined or missed offer goes to the next agent. Either
//     way the consultation lapses after consultRing.
//  2. AnswerConsult: B's browser sends an SDP offer; B is claimed busy in
//     routing (a queue's offer is accepted) and B's WebRTC leg joins the
//     call's mixer as the consult party: A and B hear each other, the
//     caller hears music and nothing of either. The consultation is not
//     recorded or transcribed.
//  3. CompleteConsult (A): A leaves as in a blind transfer
//     (call_transferred), the hold ends, and B's consult leg becomes the
//     call's agent leg: B's desktop gets call_answered for the call and
//     the transcript so far, and the caller hears B. Nothing is
//     renegotiated: B's browser keeps its peer connection. A consulted
//     queue becomes the call's queue.
//     CancelConsult (A or B), DeclineConsult (a named B before
//     answering), B's connection dropping, or the call moving on end it
//     instead: B's leg closes, B is released (wrap-up), a queue's
//     waiting consultation and its offer are withdrawn, and the caller
//     comes off hold if the consultation put them on it.

// ErrNoConsult means there is no consultation to act on.
var ErrNoConsult = errors.New("call: no consultation in progress")

// consultRing bounds how long a consultation waits for the target.
const consultRing = 30 * time.Second

type consultState struct {
	target  string    // the consulted agent; for a queue "" until one answers
	queue   string    // a consultation of a queue: its name
	leg     media.Leg // nil until the target answers
	claimed bool      // the target is busy in routing
	held    bool      // the consultation put the caller on hold
	stop    chan struct{}
}

// Consult starts a consultation of callID's agent with target
// ("agent:NAME", "queue:NAME", or a bare name: a queue if there is one).
func (m *Manager) Consult(ctx context.Context, callID, agent, target string) error {
	return m.control(ctx, callID, func(ctx context.Context, c *Call) error {
		if err := c.mine(agent); err != nil {
			return err
		}
		if c.consult != nil {
			return fmt.Errorf("%w: already consulting %s", ErrBusy, c.consult.name())
		}
		t, err := parseTarget(target, c.m.opts.Router.HasQueue)
		if err != nil {
			return err
		}
		switch {
		case t.queue != "":
			return c.consultQueue(t.queue)
		case t.agent == "":
			return fmt.Errorf("%w: a consultation needs an agent or a queue, not a %s (use a blind transfer)", ErrBadTarget, t)
		case t.agent == c.agent:
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
		c.startConsult(cs)
		c.m.opts.Events.Publish(t.agent, Event{Type: "consult_offer", CallID: c.in.ID, Peer: c.agent, From: c.in.From})
		c.publishAgent(Event{Type: "consult_ringing", Peer: t.agent})
		return nil
	})
}

// consultQueue starts a consultation of queue: the router offers it to
// the queue's next agent, as a contact under the call's ID (the call
// itself is not queued while an agent has it).
func (c *Call) consultQueue(queue string) error {
	ct := routing.Contact{CallID: c.in.ID, Queue: queue, Priority: routing.PriorityOf("urgent"),
		From: c.in.From, Intent: c.rec.Intent, ConsultBy: c.agent}
	if err := c.m.opts.Router.Enqueue(ct); err != nil {
		if errors.Is(err, routing.ErrUnknownQueue) {
			return fmt.Errorf("%w: %w", ErrBadTarget, err)
		}
		return err
	}
	cs := &consultState{queue: queue, held: c.hold == nil, stop: make(chan struct{})}
	c.startConsult(cs)
	c.publishAgent(Event{Type: "consult_ringing", Peer: cs.name()})
	return nil
}

// startConsult puts the caller on hold for cs and arms its ring timeout.
func (c *Call) startConsult(cs *consultState) {
	c.holdOn()
	c.consult = cs
	c.view.set(func(v *LiveCall) { v.Consult, v.ConsultState = cs.name(), "ringing" })
	go func() {
		select {
		case <-time.After(consultRing):
			c.post(cs.stop, func(context.Context) error {
				if c.consult == cs && cs.leg == nil {
					who := cs.target
					if cs.queue != "" {
						who = "nobody in " + cs.queue
					}
					c.endConsult(who + " did not answer")
				}
				return nil
			})
		case <-cs.stop:
		}
	}()
	c.queueConsult.Store(cs.queue != "")
	c.log.Info("consultation offered", "agent", c.agent, "target", cs.name())
}

// name is who is consulted, as events and the wallboard show it: the
// agent, or "queue:NAME" until one of its agents answers.
func (cs *consultState) name() string {
	if cs.target == "" && cs.queue != "" {
		return "queue:" + cs.queue
	}
	return cs.target
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
		switch {
		case cs == nil || cs.leg != nil:
			return fmt.Errorf("%w: no consultation offered to %s", ErrNotYours, agent)
		case cs.queue != "":
			// Only the agent the queue's offer is with can take it.
			if err := c.m.opts.Router.Accept(agent, c.in.ID); err != nil {
				return fmt.Errorf("%w: no consultation offered to %s: %w", ErrNotYours, agent, err)
			}
			cs.target = agent
			c.queueConsult.Store(false)
		case cs.target != agent:
			return fmt.Errorf("%w: no consultation offered to %s", ErrNotYours, agent)
		default:
			if err := c.m.opts.Router.Claim(agent); err != nil {
				return err
			}
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

// DeclineConsult is the consulted agent saying no before answering. A
// queue's offer goes on to its next agent; a named agent's ends the
// consultation.
func (m *Manager) DeclineConsult(ctx context.Context, callID, agent string) error {
	return m.control(ctx, callID, func(ctx context.Context, c *Call) error {
		cs := c.consult
		if cs != nil && cs.queue != "" && cs.leg == nil {
			if err := c.m.opts.Router.Reject(agent, c.in.ID); err != nil {
				return fmt.Errorf("%w: no consultation offered to %s: %w", ErrNotYours, agent, err)
			}
			c.log.Info("consultation declined; offered on", "agent", agent, "queue", cs.queue)
			c.publishAgent(Event{Type: "consult_ringing", Peer: cs.name(), Text: agent + " declined"})
			return nil
		}
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
		if agent == "" || agent != c.agent && agent != cs.target {
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
			return fmt.Errorf("%w: %s has not answered yet", ErrNoConsult, cs.name())
		}
		c.consult = nil
		c.view.set(func(v *LiveCall) { v.Consult, v.ConsultState = "", "" })
		close(cs.stop)
		c.mix.do(func(ctx context.Context, x *mixExt) { x.setConsult(ctx, nil) })
		// The bridge hands the call over (runControl); its end takes the
		// caller off hold once the first agent is detached.
		c.handover = &agentJoin{agent: cs.target, leg: cs.leg, queue: cs.queue}
		c.log.Info("consultation completed", "from", c.agent, "to", cs.target, "queue", cs.queue)
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
	c.queueConsult.Store(false)
	c.view.set(func(v *LiveCall) { v.Consult, v.ConsultState = "", "" })
	close(cs.stop)
	if cs.leg != nil {
		c.mix.do(func(ctx context.Context, x *mixExt) { x.setConsult(ctx, nil) })
		cs.leg.Close()
	}
	if cs.queue != "" && cs.leg == nil {
		// Still waiting in the queue: withdrawn, with its offer if any
		// (the offered agent's desktop gets offer_revoked).
		c.m.opts.Router.Cancel(c.in.ID)
	}
	if cs.claimed {
		c.m.opts.Router.ReleaseCall(cs.target, c.in.ID)
	}
	c.log.Info("consultation ended", "agent", c.agent, "target", cs.name(), "why", why)
	if cs.target != "" {
		c.m.opts.Events.Publish(cs.target, Event{Type: "consult_ended", CallID: c.in.ID, Peer: c.agent, Text: why})
	}
	c.publishAgent(Event{Type: "consult_ended", Peer: cs.name(), Text: why})
	if cs.held {
		c.holdOff()
	}
}
