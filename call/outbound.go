package call

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/contactd/contactd/media"
)

// Click-to-call: an agent calls a customer. The agent's media comes first
// (the browser's WebRTC leg, or the agent's desk phone rung and answered),
// then the customer is called through a trunk; when they answer, the call
// runs like an inbound one that skipped the IVR: bridged, recorded,
// transcribed, and written up into a ticket and an evaluation. The
// customer is the call's "caller" side (channel, ticket's customer).

// Dialer places calls to outside numbers through the configured trunks.
type Dialer interface {
	// Check reports whether requester may call number (toll fraud: the
	// trunks' outbound policies), without calling; the error wraps
	// ErrNotPermitted when not.
	Check(requester, number string) error
	// CallOut calls number for requester and returns the answered leg.
	// The leg's Close hangs up; it reports the far end hanging up through
	// a Done() <-chan struct{} method.
	CallOut(ctx context.Context, requester, number string) (media.Leg, error)
}

// ErrNotPermitted means the trunks' outbound policy does not let the
// agent call the number (toll fraud: a blocked range, outside the
// allowed prefixes, or an agent who may not call out).
var ErrNotPermitted = errors.New("number not permitted")

// ErrNoDialer means no trunk can place outside calls.
var ErrNoDialer = errors.New("call: outside calls are not configured (no trunk with an outbound uri)")

// ringOut bounds how long a click-to-call rings the customer.
const ringOut = 60 * time.Second

// Originate calls number for agent and bridges them when it answers. The
// agent must be available; they are busy from now on. agentLeg is the
// agent's media (nil: ring the agent's desk phone first). It returns the
// call's ID at once; the customer's answer, or the failure, reaches the
// agent as events (call_answered, or call_ended with the reason).
func (m *Manager) Originate(ctx context.Context, agent, number string, agentLeg media.Leg) (string, error) {
	o := m.opts
	if o.Dialer == nil {
		return "", ErrNoDialer
	}
	t, err := numberTarget(number)
	if err != nil {
		return "", err
	}
	if err := o.Dialer.Check(agent, t.number); err != nil {
		return "", err
	}
	if agentLeg == nil && (m.phones == nil || !m.phones.phones.Registered(agent)) {
		return "", fmt.Errorf("%w: %s has neither a browser leg nor a registered phone", ErrBadTarget, agent)
	}
	m.mu.Lock()
	if m.draining {
		m.mu.Unlock()
		return "", ErrDraining
	}
	m.wg.Add(1)
	m.mu.Unlock()
	if err := o.Router.Claim(agent); err != nil {
		m.wg.Done()
		return "", fmt.Errorf("%w: %w", ErrNotYours, err)
	}
	id := NewID("call")
	go func() {
		defer m.wg.Done()
		m.originate(id, agent, t.number, agentLeg)
	}()
	return id, nil
}

// originate rings the agent's phone when needed, then calls the customer.
func (m *Manager) originate(id, agent, number string, agentLeg media.Leg) {
	c := m.newCall(Inbound{ID: id, From: number, To: "outbound:" + agent})
	m.mu.Lock()
	m.calls[id] = c
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.calls, id)
		m.mu.Unlock()
	}()
	if agentLeg == nil {
		ctx, cancel := context.WithTimeout(context.Background(), ringOut)
		leg, err := m.phones.phones.Ring(ctx, agent, number)
		cancel()
		if err != nil {
			m.outboundFailed(c, agentJoin{agent: agent}, "agent's phone did not answer", err)
			return
		}
		agentLeg = leg
	}
	m.callCustomer(c, agentJoin{agent: agent, leg: agentLeg}, number, nil)
}

// callCustomer calls number for the agent of j (click-to-call, callback)
// and runs c as an outbound call once the customer answers. The agent is
// busy already (Claim, or an accepted offer). placed, when set, is called
// once the call was tried (answered or not).
func (m *Manager) callCustomer(c *Call, j agentJoin, number string, placed func()) {
	o := m.opts
	c.log.Info("calling out", "agent", j.agent, "number", number)
	ctx, cancel := context.WithTimeout(context.Background(), ringOut)
	// The agent hanging up while it rings cancels the call (SIP CANCEL).
	var hungUp atomic.Bool
	ringing := make(chan struct{})
	go func() {
		select {
		case who := <-c.hangCh:
			if who == j.agent {
				hungUp.Store(true)
				cancel()
			}
		case <-ringing:
		}
	}()
	customer, err := o.Dialer.CallOut(ctx, j.agent, number)
	close(ringing)
	cancel()
	if placed != nil {
		placed()
	}
	if err == nil && hungUp.Load() { // answered just as the agent hung up
		customer.Close()
		err = errors.New("answered after the hang-up")
	}
	if hungUp.Load() {
		m.outboundFailed(c, j, "you hung up before the answer", err)
		return
	}
	if err != nil {
		m.outboundFailed(c, j, "the number did not answer", err)
		return
	}
	// The call ends when the customer hangs up: its leg's Done.
	callCtx, end := context.WithCancelCause(context.Background())
	defer end(nil)
	if d, ok := customer.(interface{ Done() <-chan struct{} }); ok {
		go func() {
			select {
			case <-d.Done():
				end(errors.New("customer hung up"))
			case <-callCtx.Done():
			}
		}()
	}
	defer customer.Close()
	c.in.Leg = customer
	c.outbound = &j
	c.run(callCtx)
}

// outboundFailed ends an outbound call or callback that never connected:
// the agent is let go and told why.
func (m *Manager) outboundFailed(c *Call, j agentJoin, why string, err error) {
	o := m.opts
	c.log.Info("outbound call failed", "why", why, "agent", j.agent, "err", err)
	if j.leg != nil {
		j.leg.Close()
	}
	o.Router.ReleaseCall(j.agent, c.in.ID)
	o.Events.Publish(j.agent, Event{Type: "call_ended", CallID: c.in.ID, Text: why + ": " + err.Error()})
}

// OriginateWebRTC is Originate with the agent's browser as their side: it
// builds the WebRTC leg from the browser's SDP offer and returns the call's
// ID and the SDP answer.
func (m *Manager) OriginateWebRTC(ctx context.Context, agent, number, offerSDP string) (string, string, error) {
	if m.opts.Dialer == nil {
		return "", "", ErrNoDialer
	}
	if _, err := numberTarget(number); err != nil {
		return "", "", err
	}
	leg, answer, err := m.opts.NewLeg(context.WithoutCancel(ctx), offerSDP)
	if err != nil {
		return "", "", fmt.Errorf("%w: agent leg: %w", ErrBadTarget, err)
	}
	id, err := m.Originate(ctx, agent, number, leg)
	if err != nil {
		leg.Close()
		return "", "", err
	}
	return id, answer, nil
}
