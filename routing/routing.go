package routing

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// State is an agent's presence.
type State string

// Agent states.
const (
	Offline   State = "offline"
	Available State = "available"
	Ringing   State = "ringing"
	Busy      State = "busy"
	WrapUp    State = "wrapup"
	Break     State = "break"
)

// Errors.
var (
	ErrUnknownAgent = errors.New("routing: unknown agent")
	ErrUnknownQueue = errors.New("routing: unknown queue")
	ErrNoOffer      = errors.New("routing: no such offer for this agent")
	ErrBadState     = errors.New("routing: agents can only set available, break or offline")
	ErrInCall       = errors.New("routing: agent is on a call")
)

// Priority of a waiting contact; higher is served first.
type Priority int

// PriorityOf maps a ticket-style priority name to a Priority.
func PriorityOf(name string) Priority {
	switch name {
	case "low":
		return 0
	case "high":
		return 2
	case "urgent":
		return 3
	}
	return 1
}

// Contact is a call waiting for an agent.
type Contact struct {
	CallID   string
	Queue    string
	Priority Priority
	From     string
	Intent   string
}

// Offer is a contact offered to one agent.
type Offer struct {
	Contact
	Agent   string
	Timeout time.Duration
}

// Notifier tells agents what the router decided. Calls happen outside the
// router's lock, possibly from timer goroutines.
type Notifier interface {
	AgentState(username string, s State)
	Offer(o Offer)
	OfferRevoked(username, callID string)
}

// StateChange is one agent state transition, for the state log.
type StateChange struct {
	Username string
	State    State
	Reason   string
	At       time.Time
}

// Options tune the router.
type Options struct {
	OfferTimeout time.Duration // unanswered offers move on after this
	WrapUp       time.Duration // after-call work before available again
	// MaxMissedOffers in a row put the agent on break (default 2).
	MaxMissedOffers int
	// OnStateChange receives every transition (for the store); may be nil.
	OnStateChange func(StateChange)
	Log           *slog.Logger
	Now           func() time.Time
}

type agent struct {
	username  string
	skills    map[string]int
	maxCalls  int
	state     State
	since     time.Time
	idleSince time.Time // when it last became available
	calls     int
	offering  string // call ID being offered
	missed    int
	wrapTimer *time.Timer
}

type entry struct {
	Contact
	enqueued  time.Time
	seq       uint64
	offeredTo string
	timer     *time.Timer
	declined  map[string]bool
}

type queue struct {
	name    string
	skill   string
	waiting []*entry // kept sorted by priority desc, then arrival
}

// Router is the ACD.
type Router struct {
	opts     Options
	notifier Notifier

	mu      sync.Mutex
	agents  map[string]*agent
	bySkill map[string]map[*agent]struct{}
	queues  map[string]*queue
	entries map[string]*entry // by call ID
	seq     uint64
	closed  bool
}

// New returns a router. n may be nil.
func New(n Notifier, opts Options) *Router {
	if opts.OfferTimeout <= 0 {
		opts.OfferTimeout = 20 * time.Second
	}
	if opts.MaxMissedOffers <= 0 {
		opts.MaxMissedOffers = 2
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if n == nil {
		n = nopNotifier{}
	}
	return &Router{
		opts: opts, notifier: n,
		agents: map[string]*agent{}, bySkill: map[string]map[*agent]struct{}{},
		queues: map[string]*queue{}, entries: map[string]*entry{},
	}
}

// SetNotifier replaces the notifier (wiring order: the web hub is built after
// the router).
func (r *Router) SetNotifier(n Notifier) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n == nil {
		n = nopNotifier{}
	}
	r.notifier = n
}

// AddQueue declares a queue served by agents with skill.
func (r *Router) AddQueue(name, skill string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if q, ok := r.queues[name]; ok {
		q.skill = skill
		return
	}
	r.queues[name] = &queue{name: name, skill: skill}
}

// SetAgent adds or updates an agent's skills and capacity. New agents start offline.
func (r *Router) SetAgent(username string, skills map[string]int, maxCalls int) {
	if maxCalls < 1 {
		maxCalls = 1
	}
	var out outbox
	r.mu.Lock()
	a, ok := r.agents[username]
	if !ok {
		now := r.opts.Now()
		a = &agent{username: username, state: Offline, since: now, idleSince: now}
		r.agents[username] = a
	}
	for s := range a.skills {
		delete(r.bySkill[s], a)
	}
	a.skills = make(map[string]int, len(skills))
	for s, p := range skills {
		a.skills[s] = p
		if r.bySkill[s] == nil {
			r.bySkill[s] = map[*agent]struct{}{}
		}
		r.bySkill[s][a] = struct{}{}
	}
	a.maxCalls = maxCalls
	r.dispatch(&out)
	r.mu.Unlock()
	out.deliver(r)
}

// SetState is an agent's own presence change: available, break or offline.
func (r *Router) SetState(username string, s State, reason string) error {
	if s != Available && s != Break && s != Offline {
		return ErrBadState
	}
	var out outbox
	r.mu.Lock()
	a, ok := r.agents[username]
	if !ok {
		r.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrUnknownAgent, username)
	}
	if a.calls > 0 && s != Available && a.state == Busy {
		r.mu.Unlock()
		return ErrInCall
	}
	if a.offering != "" {
		r.revoke(a, &out, false)
	}
	if a.wrapTimer != nil {
		a.wrapTimer.Stop()
		a.wrapTimer = nil
	}
	if s == Available {
		a.missed = 0
	}
	r.setState(a, s, reason, &out)
	r.dispatch(&out)
	r.mu.Unlock()
	out.deliver(r)
	return nil
}

// Enqueue puts a contact on its queue's waiting list and offers it when an
// agent is free.
func (r *Router) Enqueue(c Contact) error {
	var out outbox
	r.mu.Lock()
	q, ok := r.queues[c.Queue]
	if !ok {
		r.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrUnknownQueue, c.Queue)
	}
	if _, dup := r.entries[c.CallID]; dup {
		r.mu.Unlock()
		return fmt.Errorf("routing: call %s is already queued", c.CallID)
	}
	r.seq++
	e := &entry{Contact: c, enqueued: r.opts.Now(), seq: r.seq, declined: map[string]bool{}}
	r.entries[c.CallID] = e
	i := sort.Search(len(q.waiting), func(i int) bool { return q.waiting[i].Priority < c.Priority })
	q.waiting = append(q.waiting, nil)
	copy(q.waiting[i+1:], q.waiting[i:])
	q.waiting[i] = e
	r.dispatch(&out)
	r.mu.Unlock()
	out.deliver(r)
	return nil
}

// Cancel removes a waiting contact (the caller hung up) and revokes its offer.
func (r *Router) Cancel(callID string) {
	var out outbox
	r.mu.Lock()
	if e, ok := r.entries[callID]; ok {
		if e.offeredTo != "" {
			if a := r.agents[e.offeredTo]; a != nil {
				r.revoke(a, &out, false)
				r.setState(a, Available, "caller abandoned", &out)
			}
		}
		r.remove(e)
	}
	r.dispatch(&out)
	r.mu.Unlock()
	out.deliver(r)
}

// Accept is the agent answering the offer: the contact leaves the queue and
// the agent is busy.
func (r *Router) Accept(username, callID string) error {
	var out outbox
	r.mu.Lock()
	defer func() { r.mu.Unlock(); out.deliver(r) }()
	a, ok := r.agents[username]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownAgent, username)
	}
	e, ok := r.entries[callID]
	if !ok || e.offeredTo != username || a.offering != callID {
		return ErrNoOffer
	}
	if e.timer != nil {
		e.timer.Stop()
	}
	r.remove(e)
	a.offering = ""
	a.missed = 0
	a.calls++
	r.setState(a, Busy, "", &out)
	return nil
}

// Reject is the agent declining the offer: it goes to the next agent.
func (r *Router) Reject(username, callID string) error {
	var out outbox
	r.mu.Lock()
	defer func() { r.mu.Unlock(); out.deliver(r) }()
	a, ok := r.agents[username]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownAgent, username)
	}
	e, ok := r.entries[callID]
	if !ok || e.offeredTo != username {
		return ErrNoOffer
	}
	r.revoke(a, &out, false)
	e.declined[username] = true
	r.setState(a, Available, "rejected offer", &out)
	r.dispatch(&out)
	return nil
}

// Release ends the agent's part in a call: wrap-up, then available.
func (r *Router) Release(username string) {
	var out outbox
	r.mu.Lock()
	a, ok := r.agents[username]
	if !ok {
		r.mu.Unlock()
		return
	}
	if a.calls > 0 {
		a.calls--
	}
	if a.state == Busy && a.calls == 0 {
		if r.opts.WrapUp > 0 && !r.closed {
			r.setState(a, WrapUp, "", &out)
			a.wrapTimer = time.AfterFunc(r.opts.WrapUp, func() { r.endWrapUp(a) })
		} else {
			r.setState(a, Available, "", &out)
		}
	}
	r.dispatch(&out)
	r.mu.Unlock()
	out.deliver(r)
}

func (r *Router) endWrapUp(a *agent) {
	var out outbox
	r.mu.Lock()
	if a.state == WrapUp {
		a.wrapTimer = nil
		r.setState(a, Available, "wrap-up done", &out)
		r.dispatch(&out)
	}
	r.mu.Unlock()
	out.deliver(r)
}

func (r *Router) offerTimedOut(callID, username string) {
	var out outbox
	r.mu.Lock()
	e, ok := r.entries[callID]
	a := r.agents[username]
	if ok && a != nil && e.offeredTo == username && a.offering == callID {
		r.revoke(a, &out, true)
		e.declined[username] = true
		a.missed++
		if a.missed >= r.opts.MaxMissedOffers {
			r.setState(a, Break, "missed offers", &out)
		} else {
			r.setState(a, Available, "missed offer", &out)
		}
		r.dispatch(&out)
	}
	r.mu.Unlock()
	out.deliver(r)
}

// Close stops timers. The router must not be used afterwards.
func (r *Router) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, e := range r.entries {
		if e.timer != nil {
			e.timer.Stop()
		}
	}
	for _, a := range r.agents {
		if a.wrapTimer != nil {
			a.wrapTimer.Stop()
		}
	}
}

// --- internals; all called with r.mu held ---

func (r *Router) setState(a *agent, s State, reason string, out *outbox) {
	if a.state == s {
		return
	}
	now := r.opts.Now()
	a.state, a.since = s, now
	if s == Available {
		a.idleSince = now
	}
	out.states = append(out.states, StateChange{Username: a.username, State: s, Reason: reason, At: now})
}

// revoke withdraws the agent's current offer; the entry stays queued.
func (r *Router) revoke(a *agent, out *outbox, timedOut bool) {
	callID := a.offering
	a.offering = ""
	if e, ok := r.entries[callID]; ok && e.offeredTo == a.username {
		e.offeredTo = ""
		if e.timer != nil && !timedOut {
			e.timer.Stop()
		}
		e.timer = nil
	}
	out.revoked = append(out.revoked, [2]string{a.username, callID})
}

func (r *Router) remove(e *entry) {
	delete(r.entries, e.CallID)
	if e.timer != nil {
		e.timer.Stop()
	}
	q := r.queues[e.Queue]
	for i, w := range q.waiting {
		if w == e {
			q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
			break
		}
	}
}

// dispatch offers every waiting, unoffered contact to the best free agent.
func (r *Router) dispatch(out *outbox) {
	if r.closed {
		return
	}
	// Queues in a stable order so that tests and operators see the same thing.
	names := make([]string, 0, len(r.queues))
	for n, q := range r.queues {
		if len(q.waiting) > 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return
	}
	// Serve the globally oldest/highest contacts first across queues.
	var pending []*entry
	for _, n := range names {
		for _, e := range r.queues[n].waiting {
			if e.offeredTo == "" {
				pending = append(pending, e)
			}
		}
	}
	sort.SliceStable(pending, func(i, j int) bool {
		if pending[i].Priority != pending[j].Priority {
			return pending[i].Priority > pending[j].Priority
		}
		return pending[i].seq < pending[j].seq
	})
	for _, e := range pending {
		a := r.best(e)
		if a == nil {
			continue
		}
		e.offeredTo = a.username
		a.offering = e.CallID
		r.setState(a, Ringing, "", out)
		callID, user := e.CallID, a.username
		e.timer = time.AfterFunc(r.opts.OfferTimeout, func() { r.offerTimedOut(callID, user) })
		out.offers = append(out.offers, Offer{Contact: e.Contact, Agent: a.username, Timeout: r.opts.OfferTimeout})
	}
}

// best is the longest-idle available agent with the queue's skill.
func (r *Router) best(e *entry) *agent {
	q := r.queues[e.Queue]
	var best *agent
	for a := range r.bySkill[q.skill] {
		if a.state != Available || a.calls >= a.maxCalls || a.skills[q.skill] < 1 || e.declined[a.username] {
			continue
		}
		if best == nil || a.idleSince.Before(best.idleSince) ||
			(a.idleSince.Equal(best.idleSince) && a.username < best.username) {
			best = a
		}
	}
	return best
}

// outbox collects what to tell the world once the lock is released.
type outbox struct {
	states  []StateChange
	offers  []Offer
	revoked [][2]string
}

func (o *outbox) deliver(r *Router) {
	r.mu.Lock()
	n, onState := r.notifier, r.opts.OnStateChange
	r.mu.Unlock()
	for _, s := range o.states {
		n.AgentState(s.Username, s.State)
		if onState != nil {
			onState(s)
		}
	}
	for _, rv := range o.revoked {
		n.OfferRevoked(rv[0], rv[1])
	}
	for _, of := range o.offers {
		n.Offer(of)
	}
}

type nopNotifier struct{}

func (nopNotifier) AgentState(string, State)    {}
func (nopNotifier) Offer(Offer)                 {}
func (nopNotifier) OfferRevoked(string, string) {}
