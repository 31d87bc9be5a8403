package routing

import (
	"fmt"
	"time"
)

// DefaultHandleTime is the handle time the wait estimate assumes before a
// queue has handled a call.
const DefaultHandleTime = 3 * time.Minute

// Position is where a waiting contact stands, for the caller's
// announcements.
type Position struct {
	Queue string
	// Ahead is how many contacts of the same queue will be served first.
	Ahead int
	// Agents is how many agents with the queue's skill are logged in
	// (not offline, not on a break).
	Agents int
	// EstimatedWait is (Ahead+1) × the queue's average handle time ÷
	// Agents (at least one), rounded up to whole seconds; 0 once offered.
	EstimatedWait time.Duration
}

// Position tells a waiting contact its place in line and the wait to
// expect. It costs O(log n) in the queue's waiting contacts (an
// order-statistic tree in the queue's order) and O(1) in the agents (a
// count per skill kept as they log in and out), so it may be asked as
// often as wanted.
func (r *Router) Position(callID string) (Position, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[callID]
	if !ok {
		return Position{}, fmt.Errorf("%w: %s", ErrUnknownCall, callID)
	}
	r.begin()
	q := r.queues[e.Queue]
	p := Position{Queue: q.Name}
	p.Ahead = q.order.rank(e)
	p.Agents = r.present[q.Skill]
	if e.offeredTo != "" {
		return p, nil
	}
	aht := DefaultHandleTime
	if q.handled > 0 {
		aht = q.talk / time.Duration(q.handled)
	}
	wait := time.Duration(p.Ahead+1) * aht / time.Duration(max(p.Agents, 1))
	p.EstimatedWait = wait.Round(time.Second)
	if p.EstimatedWait < wait {
		p.EstimatedWait += time.Second
	}
	return p, nil
}

// Handoff gives a waiting contact a new call ID, keeping its place in
// line (its enqueue time, score and step): a caller who asked to be
// called back leaves the line, and the callback waits in their place. An
// offer in progress is withdrawn. It returns the contact as it now waits
// (Since: when it began to), to persist and re-enqueue after a restart.
func (r *Router) Handoff(oldID, newID string) (Contact, error) {
	var out outbox
	r.mu.Lock()
	defer func() { r.mu.Unlock(); out.deliver(r) }()
	e, ok := r.entries[oldID]
	if !ok {
		return Contact{}, fmt.Errorf("%w: %s", ErrUnknownCall, oldID)
	}
	if _, dup := r.entries[newID]; dup {
		return Contact{}, fmt.Errorf("routing: call %s is already queued", newID)
	}
	r.begin()
	if a := r.agents[e.offeredTo]; a != nil && a.offering == oldID {
		r.revoke(a, &out)
		r.setState(a, Available, "caller chose a callback", &out)
	}
	delete(r.entries, oldID)
	e.CallID = newID
	r.entries[newID] = e
	r.finish(&out)
	return e.Contact, nil
}

// HasQueue reports whether a queue of that name is configured.
func (r *Router) HasQueue(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.queues[name]
	return ok
}
