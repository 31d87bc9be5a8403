package call

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/sip"
)

// Transfers. An agent moves a bridged call on (blind transfer) from the
// desktop (Manager.Transfer) or with a desk phone's transfer key (a REFER
// on the phone's leg, which sip reports as EventRefer). The target is
//
//   - "queue:NAME": the call waits in that queue like a new one;
//   - "agent:NAME": offered to that agent alone (routing's Direct
//     contact), back to the call's queue if they decline;
//   - a phone number ("+15551234567", "number:…"): the caller's side is
//     asked to call it (REFER towards the caller, e.g. the carrier), when
//     the agent may call that number out (toll fraud);
//   - a bare NAME or a SIP URI whose user part is one: a queue if there
//     is one by that name, else an agent.
//
// The owner does the transfer: it answers the request once the target has
// taken the call (queued, or the outside number answered), then lets the
// agent go.

// ErrBadTarget is a transfer target that names nothing we can reach.
var ErrBadTarget = errors.New("call: bad transfer target")

// ErrNotBridged means the call has no agent to transfer it.
var ErrNotBridged = errors.New("call: not talking to an agent")

// transferPrompt is said to the caller while a transfer finds its target.
const transferPrompt = "Please hold while I transfer your call."

// xfer is a transfer request for the owner.
type xfer struct {
	by     string // the agent asking; "" for a supervisor
	target string
	// report takes the outcome back to a desk phone that sent REFER
	// (NOTIFY sipfrag); nil from the desktop.
	report func(code int, reason string)
	reply  chan error // nil: nobody waits
}

func (x xfer) done(err error) {
	if x.reply != nil {
		x.reply <- err
	}
	if x.report == nil {
		return
	}
	switch {
	case err == nil:
		x.report(200, "OK")
	case errors.Is(err, ErrBadTarget):
		x.report(404, "Not Found")
	case errors.Is(err, ErrNotPermitted):
		x.report(403, "Forbidden")
	default:
		x.report(480, "Temporarily Unavailable")
	}
}

// Transfer moves callID from agent by (empty: a supervisor) to target and
// returns when the target has it, or why not.
func (m *Manager) Transfer(ctx context.Context, callID, by, target string) error {
	c, err := m.call(callID)
	if err != nil {
		return err
	}
	x := xfer{by: by, target: target, reply: make(chan error, 1)}
	select {
	case c.xferCh <- x:
	case <-c.done:
		return fmt.Errorf("%w: %s has ended", ErrNoSuchCall, callID)
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-x.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// target is a parsed transfer target.
type target struct {
	queue, agent, number string
}

func (t target) String() string {
	switch {
	case t.queue != "":
		return "queue " + t.queue
	case t.agent != "":
		return "agent " + t.agent
	}
	return "number " + t.number
}

// parseTarget reads a transfer target (see the package comment above).
// known reports whether a bare name is a queue.
func parseTarget(s string, isQueue func(string) bool) (target, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	if strings.HasPrefix(s, "sip:") || strings.HasPrefix(s, "sips:") {
		u, err := url.Parse(s)
		if err != nil || u.Opaque == "" {
			return target{}, fmt.Errorf("%w: %q", ErrBadTarget, s)
		}
		user, _, ok := strings.Cut(u.Opaque, "@")
		if !ok || user == "" {
			return target{}, fmt.Errorf("%w: %q has no user part", ErrBadTarget, s)
		}
		s, _ = url.PathUnescape(user)
	}
	kind, name, ok := strings.Cut(s, ":")
	if !ok {
		kind, name = "", s
	}
	if name == "" || len(name) > 64 {
		return target{}, fmt.Errorf("%w: %q", ErrBadTarget, s)
	}
	switch kind {
	case "queue":
		return target{queue: name}, nil
	case "agent":
		return target{agent: name}, nil
	case "number":
		return numberTarget(name)
	case "":
		if isNumber(name) {
			return numberTarget(name)
		}
		if isQueue(name) {
			return target{queue: name}, nil
		}
		return target{agent: name}, nil
	}
	return target{}, fmt.Errorf("%w: unknown kind %q (want queue:, agent: or number:)", ErrBadTarget, kind)
}

func isNumber(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')':
		default:
			return false
		}
	}
	return digits >= 3
}

func numberTarget(s string) (target, error) {
	if !isNumber(s) {
		return target{}, fmt.Errorf("%w: %q is not a phone number", ErrBadTarget, s)
	}
	var b strings.Builder
	for _, r := range s {
		if r == '+' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return target{number: b.String()}, nil
}

// referOut is the result of asking the caller's side to call a number.
type referOut struct {
	x   xfer
	t   target
	err error
}

// startTransfer acts on x during the bridge. For a queue or an agent it
// queues the call and returns the contact (the bridge ends); for a
// number it starts the REFER in the background and returns nil: the
// outcome arrives on c.referDone.
func (c *Call) startTransfer(ctx context.Context, x xfer) (*routing.Contact, error) {
	if x.by != "" && x.by != c.agent {
		return nil, fmt.Errorf("%w: %s is not on this call", ErrNotYours, x.by)
	}
	if c.referring {
		return nil, errors.New("call: a transfer is already in progress")
	}
	t, err := parseTarget(x.target, c.m.opts.Router.HasQueue)
	if err != nil {
		return nil, err
	}
	if c.consult != nil {
		// A supervisor's (or a desk phone's) transfer wins over the
		// consultation; a queue's consultation leaves its queue first.
		c.endConsult("the call is being transferred")
	}
	if t.number != "" {
		if c.in.Refer == nil {
			return nil, fmt.Errorf("%w: this call cannot be transferred to an outside number", ErrBadTarget)
		}
		requester := x.by
		if requester == "" {
			requester = c.agent
		}
		c.referring = true
		go func() {
			err := c.in.Refer(c.ctx(), requester, t.number)
			select {
			case c.referDone <- referOut{x: x, t: t, err: err}:
			case <-c.done:
			}
		}()
		c.log.Info("transferring to an outside number", "by", x.by, "number", t.number)
		return nil, nil
	}
	ct := routing.Contact{CallID: c.in.ID, Queue: c.rec.Queue, Priority: routing.PriorityOf(c.decision.Priority),
		From: c.in.From, Intent: c.rec.Intent, Sentiment: c.mood()}
	if t.queue != "" {
		ct.Queue = t.queue
	} else {
		if t.agent == c.agent {
			return nil, fmt.Errorf("%w: %s already has the call", ErrBadTarget, t.agent)
		}
		ct.PreferredAgent, ct.Direct = t.agent, true
	}
	if err := c.m.opts.Router.Enqueue(ct); err != nil {
		if errors.Is(err, routing.ErrUnknownQueue) || errors.Is(err, routing.ErrUnknownAgent) {
			return nil, fmt.Errorf("%w: %w", ErrBadTarget, err)
		}
		return nil, err
	}
	c.log.Info("call transferred", "by", x.by, "from_agent", c.agent, "to", t.String())
	return &ct, nil
}

// agentEvents is the desk phone's in-dialog events (its REFERs), or nil.
func agentEvents(leg any) <-chan sip.CallEvent {
	if e, ok := leg.(interface{ Events() <-chan sip.CallEvent }); ok {
		return e.Events()
	}
	return nil
}

// referXfer turns a desk phone's REFER into a transfer request.
func (c *Call) referXfer(ev sip.CallEvent) (xfer, bool) {
	if ev.Kind != sip.EventRefer || ev.Transfer == nil {
		return xfer{}, false
	}
	t := ev.Transfer
	if t.Replaces != "" {
		// An attended transfer from the phone: we do not join two of our
		// calls; the phone keeps its consultation call.
		_ = t.Report(c.ctx(), 501, "Not Implemented")
		return xfer{}, false
	}
	return xfer{by: c.agent, target: t.Target, report: func(code int, reason string) {
		if err := t.Report(context.WithoutCancel(c.ctx()), code, reason); err != nil {
			c.log.Info("transfer report to the phone failed", "err", err)
		}
	}}, true
}
