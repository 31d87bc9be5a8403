package call

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/contactd/contactd/routing"
)

// Live call control: hold, DTMF, consultation and supervisors' monitor
// legs (hold.go, dtmf.go, consult.go, supervise.go). Each request becomes a
// control op that the owner runs in its bridge loop, so the call's state
// still has one writer; a request while the call has no agent (IVR, queue)
// is refused with ErrNotBridged. Goroutines the ops start (music on hold,
// in-band tones, watchers of the extra legs) report back the same way.

// Errors of call control.
var (
	ErrOnHold = errors.New("call: the caller is on hold")
	ErrBusy   = errors.New("call: another request is in progress")
	ErrBadArg = errors.New("call: bad request")
)

// controlWait bounds how long a request waits for the owner to take it
// (the bridge may be ending just then).
const controlWait = 5 * time.Second

// ctlOp is a function for the owner to run during the bridge.
type ctlOp struct {
	fn    func(ctx context.Context) error
	reply chan error // nil: nobody waits
}

// control runs fn on callID's owner during its bridge and returns fn's error.
func (m *Manager) control(ctx context.Context, callID string, fn func(ctx context.Context, c *Call) error) error {
	c, err := m.call(callID)
	if err != nil {
		return err
	}
	if !c.bridged.Load() {
		return fmt.Errorf("%w: %s", ErrNotBridged, callID)
	}
	op := ctlOp{fn: func(ctx context.Context) error { return fn(ctx, c) }, reply: make(chan error, 1)}
	t := time.NewTimer(controlWait)
	defer t.Stop()
	select {
	case c.ctlCh <- op:
	case <-c.done:
		return fmt.Errorf("%w: %s has ended", ErrNoSuchCall, callID)
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("%w: %s", ErrNotBridged, callID)
	}
	select {
	case err := <-op.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// post hands fn to the owner from one of the call's own goroutines; it
// gives up when stop is closed or the call is over.
func (c *Call) post(stop <-chan struct{}, fn func(ctx context.Context) error) {
	select {
	case c.ctlCh <- ctlOp{fn: fn}:
	case <-stop:
	case <-c.done:
	}
}

// runControl runs op on the owner goroutine. When the op handed the call
// over to another agent (a completed consultation), it returns the
// contact the bridge ends with and the new agent, whom the owner's next
// wait for an agent takes at once.
func (c *Call) runControl(ctx context.Context, op ctlOp) (*routing.Contact, string) {
	err := op.fn(ctx)
	if op.reply != nil {
		op.reply <- err
	}
	h := c.handover
	if h == nil {
		return nil, ""
	}
	c.handover = nil
	queue := c.rec.Queue
	if h.queue != "" {
		queue = h.queue
	}
	go func() {
		select {
		case c.joinCh <- *h:
		case <-c.ctx().Done(): // the caller hung up meanwhile
			h.leg.Close()
			c.m.opts.Router.ReleaseCall(h.agent, c.in.ID)
		}
	}()
	return &routing.Contact{CallID: c.in.ID, Queue: queue}, "agent:" + h.agent
}

// bridgeOpened marks the call as taking control requests; the returned
// function ends what the bridge started (hold, consultation, tones) and
// stops taking them. Monitors stay: they watch the call, not the agent.
func (c *Call) bridgeOpened() func() {
	c.bridged.Store(true)
	return func() {
		c.bridged.Store(false)
		c.stopDTMF()
		if c.consult != nil {
			c.endConsult("the call ended or moved on")
		}
		c.holdOff()
		c.resumeRecording("") // a pause is the bridge's agent's
		c.view.set(func(v *LiveCall) { v.Agent = "" })
	}
}

// mine checks that agent is the call's agent.
func (c *Call) mine(agent string) error {
	if agent == "" || agent != c.agent {
		return fmt.Errorf("%w: %s is not on this call", ErrNotYours, agent)
	}
	return nil
}

// publishAgent sends ev to the call's agent (and supervisors).
func (c *Call) publishAgent(ev Event) {
	if c.agent == "" {
		return
	}
	ev.CallID = c.in.ID
	c.m.opts.Events.Publish(c.agent, ev)
}
