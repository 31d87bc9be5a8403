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
	ErrUnknownCall  = errors.New("routing: no such waiting call")
	ErrNoOffer      = errors.New("routing: no such offer for this agent")
	ErrBadState     = errors.New("routing: agents can only set available, break or offline")
	ErrInCall       = errors.New("routing: agent is on a call")
	ErrAgentAway    = errors.New("routing: agent is not taking calls")
	ErrBadStrategy  = errors.New("routing: unknown strategy")
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

// Contact is a call waiting for an agent. See the score weights (PriorityWeight
// and the others) for how Priority, VIP, Value and Sentiment order contacts.
type Contact struct {
	CallID   string
	Queue    string
	Priority Priority
	From     string
	Intent   string
	// VIP customers get VIPBonus.
	VIP bool
	// Value is the customer's value, 0–100 (clamped), added to the score.
	Value int
	// Sentiment is the caller's mood, −1 (angry) … 1 (happy); negative
	// sentiment raises the score. Update it while waiting with SetSentiment.
	Sentiment float64
	// PreferredAgent (sticky agent) gets the first offer exclusively for the
	// queue's Sticky time, if that agent has the queue's skill and is logged
	// in (not offline or on break).
	PreferredAgent string
	// Direct offers the contact to PreferredAgent alone, with no time
	// limit and whether or not they have the queue's skill: a transfer to
	// a named agent. If that agent declines, misses the offer or leaves,
	// the contact waits for anyone in the queue.
	Direct bool
	// Since, when set and past, is when the contact began to wait: a
	// callback re-armed after a restart, or a router rebuilt on another
	// node, keeps its place in line (aging, relaxation step, SLA risk).
	// Zero: now.
	Since time.Time `json:",omitzero"`
	// ConsultBy, when set, makes this an agent's consultation of the
	// queue, not a caller: ConsultBy is that agent, CallID the call they
	// consult about. It is offered like a call (the next agent the
	// queue's rules pick), but does not count in the queue's answered
	// and abandoned figures.
	ConsultBy string `json:",omitempty"`
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
	WrapUp       time.Duration // after-call work before available again; queues may override
	// MaxMissedOffers in a row put the agent on break (default 2).
	MaxMissedOffers int
	// OnStateChange receives every transition (for the store); may be nil.
	OnStateChange func(StateChange)
	Log           *slog.Logger
	// Now is the clock (default time.Now). Tests inject a manual clock and
	// call Tick after moving it.
	Now func() time.Time
}

// indexes kept per (skill, proficiency) of available agents, one per order.
const (
	heapIdle = iota
	heapOccupied
	heapRoundRobin
	numHeaps
)

// bucket holds the available agents with one proficiency in one skill, in
// every order a strategy needs.
type bucket [numHeaps]*iheap[*agent]

type agent struct {
	username  string
	skills    map[string]int
	maxCalls  int
	state     State
	reason    string
	since     time.Time
	idleSince time.Time // when it last became available
	calls     int
	offering  string // call ID being offered
	missed    int
	wrapUntil time.Time
	indexed   bool   // in r.avail
	lastOffer uint64 // r.offerSeq when last offered (round robin)
	talkStart time.Time
	lastQueue string

	handledToday int
	talkToday    time.Duration
	missedToday  int
}

type entry struct {
	Contact
	enqueued      time.Time
	seq           uint64
	key           float64 // score minus aging; see the score weights
	step          int
	heap          int // index of the step heap holding it, -1 if none
	sticky        bool
	stickyUntil   time.Time
	atRisk        bool
	offeredTo     string
	offerDeadline time.Time
	declined      map[string]bool
	wake          time.Time // next time something changes for it; zero = never
}

// Router is the ACD.
type Router struct {
	opts     Options
	notifier Notifier

	mu      sync.Mutex
	agents  map[string]*agent
	avail   map[string]*[11]*bucket // skill → proficiency → available agents
	queues  map[string]*queue
	entries map[string]*entry              // by call ID
	sticky  map[string]map[*entry]struct{} // by preferred agent: contacts held for them
	present map[string]int                 // skill → agents logged in (not offline, not on break) with it
	wakes   *iheap[*entry]                 // by wake
	wraps   *iheap[*agent]                 // agents in wrap-up, by wrapUntil
	dirtyE  []*entry                       // contacts to try to offer
	dirtyA  []*agent                       // agents to try to offer to
	seq     uint64
	offSeq  uint64
	epoch   time.Time
	now     time.Time // of the operation in progress
	day     string
	timer   *time.Timer
	timerAt time.Time
	closed  bool
}

// New returns a router. n may be nil. It starts no goroutine: time-driven
// changes (relaxation, offer timeouts, wrap-up, sticky windows) run from one
// time.AfterFunc timer armed for the earliest of them, and from Tick.
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
	now := opts.Now()
	return &Router{
		opts: opts, notifier: n,
		agents: map[string]*agent{}, avail: map[string]*[11]*bucket{},
		queues: map[string]*queue{}, entries: map[string]*entry{}, sticky: map[string]map[*entry]struct{}{},
		present: map[string]int{},
		wakes: newHeap(func(a, b *entry) bool {
			if !a.wake.Equal(b.wake) {
				return a.wake.Before(b.wake)
			}
			return a.seq < b.seq
		}),
		wraps: newHeap(func(a, b *agent) bool {
			if !a.wrapUntil.Equal(b.wrapUntil) {
				return a.wrapUntil.Before(b.wrapUntil)
			}
			return a.username < b.username
		}),
		epoch: now, now: now, day: dayOf(now),
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

// AddQueue declares a queue served by agents with skill, or changes the skill
// of an existing one (keeping its other settings). Use SetQueue for the rest.
func (r *Router) AddQueue(name, skill string) {
	r.mu.Lock()
	qc := QueueConfig{Name: name, Skill: skill}
	if q, ok := r.queues[name]; ok {
		qc = q.QueueConfig
		qc.Skill = skill
	}
	r.mu.Unlock()
	if err := r.SetQueue(qc); err != nil {
		r.opts.Log.Warn("routing: add queue", "queue", name, "err", err)
	}
}

// SetQueue declares or replaces a queue's settings. Contacts already waiting
// keep their place and move to the step their wait has reached. An Overflow
// may name a queue declared later.
func (r *Router) SetQueue(qc QueueConfig) error {
	var out outbox
	r.mu.Lock()
	q, err := r.compileQueue(qc)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	r.begin()
	old := r.queues[qc.Name]
	var moved []*entry
	if old != nil {
		q.answered, q.answeredInSLA, q.abandoned = old.answered, old.answeredInSLA, old.abandoned
		for e := range old.all {
			r.unpark(e)
			moved = append(moved, e)
		}
	}
	r.queues[qc.Name] = q
	for _, e := range moved {
		q.all[e] = struct{}{}
		q.order.insert(e)
		e.step = q.stepAt(r.now.Sub(e.enqueued))
		if e.sticky && q.Sticky == 0 {
			e.sticky = false
		}
		r.updateRisk(e, q)
		if e.offeredTo == "" {
			r.park(e)
		}
		r.rewake(e)
	}
	r.finish(&out)
	r.mu.Unlock()
	out.deliver(r)
	return nil
}

// SetAgent adds or updates an agent's skills (proficiency 1–10; below 1 is
// ignored, above 10 counts as 10) and capacity. New agents start offline.
func (r *Router) SetAgent(username string, skills map[string]int, maxCalls int) {
	if maxCalls < 1 {
		maxCalls = 1
	}
	var out outbox
	r.mu.Lock()
	r.begin()
	a, ok := r.agents[username]
	if !ok {
		a = &agent{username: username, state: Offline, since: r.now, idleSince: r.now}
		r.agents[username] = a
	}
	r.unindex(a)
	r.count(a, -1)
	a.skills = make(map[string]int, len(skills))
	for s, p := range skills {
		a.skills[s] = p
	}
	r.count(a, 1)
	a.maxCalls = maxCalls
	r.index(a)
	r.finish(&out)
	r.mu.Unlock()
	out.deliver(r)
}

// SetState is an agent's own presence change: available, break (reason =
// the break reason) or offline.
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
	r.begin()
	if a.offering != "" {
		r.revoke(a, &out)
	}
	r.wraps.remove(a)
	if s == Available {
		a.missed = 0
	}
	r.setState(a, s, reason, &out)
	r.finish(&out)
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
	if c.Direct {
		a := r.agents[c.PreferredAgent]
		if a == nil {
			r.mu.Unlock()
			return fmt.Errorf("%w: %q", ErrUnknownAgent, c.PreferredAgent)
		}
		if a.state == Offline || a.state == Break {
			r.mu.Unlock()
			return fmt.Errorf("%w: %s is %s", ErrAgentAway, a.username, a.state)
		}
	}
	r.begin()
	r.seq++
	e := &entry{Contact: c, enqueued: r.now, seq: r.seq, heap: -1, declined: map[string]bool{}}
	if !c.Since.IsZero() && c.Since.Before(r.now) {
		e.enqueued = c.Since
	}
	e.Since = e.enqueued
	r.rekey(e)
	r.entries[c.CallID] = e
	q.all[e] = struct{}{}
	q.order.insert(e)
	e.step = q.stepAt(r.now.Sub(e.enqueued))
	if c.Direct {
		e.sticky = true
	} else if q.Sticky > 0 && c.PreferredAgent != "" {
		if a := r.agents[c.PreferredAgent]; a != nil && a.skills[q.Skill] >= 1 && a.state != Offline && a.state != Break {
			e.sticky, e.stickyUntil = true, r.now.Add(q.Sticky)
		}
	}
	r.updateRisk(e, q)
	r.park(e)
	r.rewake(e)
	r.finish(&out)
	r.mu.Unlock()
	out.deliver(r)
	return nil
}

// SetSentiment updates a waiting contact's caller sentiment (−1 … 1), which
// changes its score.
func (r *Router) SetSentiment(callID string, sentiment float64) error {
	var out outbox
	r.mu.Lock()
	e, ok := r.entries[callID]
	if !ok {
		r.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUnknownCall, callID)
	}
	r.begin()
	parked := e.offeredTo == ""
	if parked {
		r.unpark(e)
	}
	e.Sentiment = sentiment
	r.rekey(e)
	if parked {
		r.park(e)
	}
	r.finish(&out)
	r.mu.Unlock()
	out.deliver(r)
	return nil
}

// Cancel removes a waiting contact (the caller hung up) and revokes its
// offer. It counts as abandoned in the queue's statistics.
func (r *Router) Cancel(callID string) {
	var out outbox
	r.mu.Lock()
	r.begin()
	if e, ok := r.entries[callID]; ok {
		r.remove(e)
		if q := r.queues[e.Queue]; q != nil && e.ConsultBy == "" {
			q.abandoned++
		}
		if a := r.agents[e.offeredTo]; a != nil && a.offering == callID {
			r.revoke(a, &out)
			r.setState(a, Available, "caller abandoned", &out)
		}
	}
	r.finish(&out)
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
	r.begin()
	r.remove(e)
	if q := r.queues[e.Queue]; q != nil && e.ConsultBy == "" {
		q.answered++
		if q.SLATarget > 0 && r.now.Sub(e.enqueued) <= q.SLATarget {
			q.answeredInSLA++
		}
	}
	a.offering = ""
	a.missed = 0
	a.calls++
	a.handledToday++
	a.lastQueue = e.Queue
	if a.talkStart.IsZero() {
		a.talkStart = r.now
	}
	r.setState(a, Busy, "", &out)
	r.finish(&out)
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
	r.begin()
	e.declined[username] = true
	r.revoke(a, &out)
	r.setState(a, Available, "rejected offer", &out)
	r.finish(&out)
	return nil
}

// Claim makes an available agent busy with a call the router did not
// route (an outbound call the agent placed). Release ends it as usual.
func (r *Router) Claim(username string) error {
	var out outbox
	r.mu.Lock()
	defer func() { r.mu.Unlock(); out.deliver(r) }()
	a, ok := r.agents[username]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownAgent, username)
	}
	if a.state != Available || a.offering != "" || a.calls >= a.maxCalls {
		return fmt.Errorf("%w: %s is %s", ErrAgentAway, username, a.state)
	}
	r.begin()
	a.calls++
	a.handledToday++
	if a.talkStart.IsZero() {
		a.talkStart = r.now
	}
	r.setState(a, Busy, "outbound call", &out)
	r.finish(&out)
	return nil
}

// ReleaseCall is Release for the agent's part in call callID. On one node
// nothing else can have released it already, so the call is not needed
// (the cluster's ACD checks it: a dead node's calls are released for it).
func (r *Router) ReleaseCall(username, _ string) { r.Release(username) }

// Release ends the agent's part in a call: wrap-up (the queue's, else the
// default), then available.
func (r *Router) Release(username string) {
	var out outbox
	r.mu.Lock()
	a, ok := r.agents[username]
	if !ok {
		r.mu.Unlock()
		return
	}
	r.begin()
	if a.calls > 0 {
		a.calls--
	}
	if a.calls == 0 && !a.talkStart.IsZero() {
		d := r.now.Sub(a.talkStart)
		a.talkToday += d
		a.talkStart = time.Time{}
		if q := r.queues[a.lastQueue]; q != nil {
			q.handled++
			q.talk += d
		}
	}
	if a.state == Busy && a.calls == 0 {
		wrap := r.opts.WrapUp
		if q := r.queues[a.lastQueue]; q != nil && q.WrapUp != 0 {
			wrap = q.WrapUp
		}
		if wrap > 0 && !r.closed {
			r.setState(a, WrapUp, "", &out)
			a.wrapUntil = r.now.Add(wrap)
			r.wraps.push(a)
		} else {
			r.setState(a, Available, "", &out)
		}
	} else {
		r.reindex(a) // capacity freed
	}
	r.finish(&out)
	r.mu.Unlock()
	out.deliver(r)
}

// Tick applies everything due by now: requirement relaxation, SLA-risk
// bonuses, sticky windows ending, offer timeouts and wrap-ups ending. The
// router's own timer calls it; tests call it after moving their clock.
func (r *Router) Tick() {
	var out outbox
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.begin()
	// Collect first, so each contact advances once per Tick whatever its
	// next wake turns out to be.
	var due []*entry
	for {
		e, ok := r.wakes.peek()
		if !ok || e.wake.After(r.now) {
			break
		}
		r.wakes.pop()
		e.wake = time.Time{}
		due = append(due, e)
	}
	for _, e := range due {
		if r.entries[e.CallID] == e {
			r.advance(e, &out)
		}
	}
	for {
		a, ok := r.wraps.peek()
		if !ok || a.wrapUntil.After(r.now) {
			break
		}
		r.wraps.pop()
		if a.state == WrapUp {
			r.setState(a, Available, "wrap-up done", &out)
		}
	}
	r.timerAt = time.Time{} // re-arm whatever happened
	r.finish(&out)
	r.mu.Unlock()
	out.deliver(r)
}

// Close stops the timer. The router must not be used afterwards.
func (r *Router) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
	}
}

// --- internals; all called with r.mu held ---

// begin starts an operation: reads the clock once and rolls the day over.
func (r *Router) begin() {
	r.now = r.opts.Now()
	if d := dayOf(r.now); d != r.day {
		r.day = d
		for _, a := range r.agents {
			a.handledToday, a.talkToday, a.missedToday = 0, 0, 0
		}
		for _, q := range r.queues {
			q.answered, q.answeredInSLA, q.abandoned = 0, 0, 0
		}
		for _, idx := range r.avail {
			for _, b := range idx {
				if b != nil {
					b[heapOccupied].reinit()
				}
			}
		}
	}
}

func dayOf(t time.Time) string { return t.Format("2006-01-02") }

// finish offers what can be offered and re-arms the timer.
func (r *Router) finish(out *outbox) {
	r.settle(out)
	r.arm()
}

// present reports whether an agent in state s counts as logged in (for
// places in line and sticky routing).
func present(s State) bool { return s != Offline && s != Break }

// count adds d to the logged-in counts of a's skills, when a is logged in.
func (r *Router) count(a *agent, d int) {
	if !present(a.state) {
		return
	}
	for s, p := range a.skills {
		if p >= 1 {
			r.present[s] += d
			if r.present[s] == 0 {
				delete(r.present, s)
			}
		}
	}
}

func (r *Router) setState(a *agent, s State, reason string, out *outbox) {
	if a.state == s {
		return
	}
	if present(a.state) != present(s) {
		r.count(a, -1)
		defer r.count(a, 1) // with the new state
	}
	a.state, a.since, a.reason = s, r.now, reason
	if s == Available {
		a.idleSince = r.now
	}
	if s != WrapUp {
		r.wraps.remove(a)
	}
	r.reindex(a)
	if s == Offline || s == Break {
		r.releaseSticky(a)
	}
	out.states = append(out.states, StateChange{Username: a.username, State: s, Reason: reason, At: r.now})
}

// revoke withdraws the agent's current offer; the contact, if still queued,
// waits again (and loses its sticky hold if a was the preferred agent).
func (r *Router) revoke(a *agent, out *outbox) {
	callID := a.offering
	a.offering = ""
	if e, ok := r.entries[callID]; ok && e.offeredTo == a.username {
		e.offeredTo = ""
		e.offerDeadline = time.Time{}
		if e.sticky && e.PreferredAgent == a.username {
			e.sticky = false
		}
		r.park(e)
		r.rewake(e)
	}
	out.revoked = append(out.revoked, [2]string{a.username, callID})
}

// releaseSticky hands the contacts held for a to everyone.
func (r *Router) releaseSticky(a *agent) {
	for e := range r.sticky[a.username] {
		r.unpark(e)
		e.sticky = false
		r.park(e)
		r.rewake(e)
	}
}

// advance applies what is due for e at r.now.
func (r *Router) advance(e *entry, out *outbox) {
	q := r.queues[e.Queue]
	if e.offeredTo != "" && !r.now.Before(e.offerDeadline) {
		a := r.agents[e.offeredTo]
		e.declined[a.username] = true
		r.revoke(a, out)
		a.missed++
		a.missedToday++
		if a.missed >= r.opts.MaxMissedOffers {
			r.setState(a, Break, "missed offers", out)
		} else {
			r.setState(a, Available, "missed offer", out)
		}
	}
	parked := e.offeredTo == ""
	if parked {
		r.unpark(e)
	}
	if e.sticky && !e.Direct && !r.now.Before(e.stickyUntil) {
		e.sticky = false
	}
	e.step = q.stepAt(r.now.Sub(e.enqueued))
	r.updateRisk(e, q)
	if parked {
		r.park(e)
	}
	r.rewake(e)
}

func (q *queue) stepAt(wait time.Duration) int {
	k := 0
	for i, s := range q.steps {
		if s.after <= wait {
			k = i
		}
	}
	return k
}

func (q *queue) riskAfter() time.Duration {
	return time.Duration(float64(q.SLATarget) * SLARiskFraction)
}

// updateRisk gives e the SLA-risk bonus once it is due. e must not be in a
// step heap.
func (r *Router) updateRisk(e *entry, q *queue) {
	if !e.atRisk && q.SLATarget > 0 && r.now.Sub(e.enqueued) >= q.riskAfter() {
		e.atRisk = true
		r.rekey(e)
	}
}

func (r *Router) rekey(e *entry) {
	q := r.queues[e.Queue]
	ordered := q != nil && q.order.delete(e) // its place changes with its key
	e.key = baseScore(e.Contact) - AgingPerSecond*e.enqueued.Sub(r.epoch).Seconds()
	if e.atRisk {
		e.key += SLARiskBonus
	}
	if ordered {
		q.order.insert(e)
	}
}

// score is e's score at r.now.
func (r *Router) score(e *entry) float64 {
	return e.key + AgingPerSecond*r.now.Sub(r.epoch).Seconds()
}

// rewake files e under the next time something changes for it.
func (r *Router) rewake(e *entry) {
	q := r.queues[e.Queue]
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if e.offeredTo != "" {
		consider(e.offerDeadline)
	}
	if e.sticky && !e.Direct {
		consider(e.stickyUntil)
	}
	if e.step+1 < len(q.steps) {
		consider(e.enqueued.Add(q.steps[e.step+1].after))
	}
	if !e.atRisk && q.SLATarget > 0 {
		consider(e.enqueued.Add(q.riskAfter()))
	}
	e.wake = next
	if next.IsZero() {
		r.wakes.remove(e)
	} else {
		r.wakes.push(e)
	}
}

// park files an unoffered contact where agents look for work, and marks it
// to be offered.
func (r *Router) park(e *entry) {
	if e.sticky {
		m := r.sticky[e.PreferredAgent]
		if m == nil {
			m = map[*entry]struct{}{}
			r.sticky[e.PreferredAgent] = m
		}
		m[e] = struct{}{}
	} else {
		r.queues[e.Queue].heaps[e.step].push(e)
		e.heap = e.step
	}
	r.dirtyE = append(r.dirtyE, e)
}

func (r *Router) unpark(e *entry) {
	if e.heap >= 0 {
		r.queues[e.Queue].heaps[e.heap].remove(e)
		e.heap = -1
	}
	if m := r.sticky[e.PreferredAgent]; m != nil {
		delete(m, e)
		if len(m) == 0 {
			delete(r.sticky, e.PreferredAgent)
		}
	}
}

func (r *Router) remove(e *entry) {
	r.unpark(e)
	r.wakes.remove(e)
	delete(r.entries, e.CallID)
	if q := r.queues[e.Queue]; q != nil {
		delete(q.all, e)
		q.order.delete(e)
	}
}

// offer rings a for e.
func (r *Router) offer(e *entry, a *agent, out *outbox) {
	r.unpark(e)
	e.offeredTo = a.username
	a.offering = e.CallID
	e.offerDeadline = r.now.Add(r.opts.OfferTimeout)
	r.setState(a, Ringing, "", out)
	r.offSeq++
	a.lastOffer = r.offSeq
	r.rewake(e)
	out.offers = append(out.offers, Offer{Contact: e.Contact, Agent: a.username, Timeout: r.opts.OfferTimeout})
}

// settle offers marked contacts to the best agents, then finds work for
// marked agents. Contacts first and by score, so that when both wait for
// the same agent the better contact wins.
func (r *Router) settle(out *outbox) {
	if r.closed {
		r.dirtyE, r.dirtyA = nil, nil
		return
	}
	for len(r.dirtyE) > 0 || len(r.dirtyA) > 0 {
		es := r.dirtyE
		r.dirtyE = nil
		sort.Slice(es, func(i, j int) bool { return entryBefore(es[i], es[j]) })
		for _, e := range es {
			if r.entries[e.CallID] != e || e.offeredTo != "" {
				continue
			}
			if a := r.bestAgent(e); a != nil {
				r.offer(e, a, out)
			}
		}
		as := r.dirtyA
		r.dirtyA = nil
		for _, a := range as {
			if !a.indexed {
				continue
			}
			if e := r.bestEntry(a); e != nil {
				r.offer(e, a, out)
			}
		}
	}
}

// arm sets the one timer for the earliest due time.
func (r *Router) arm() {
	if r.closed {
		return
	}
	var next time.Time
	if e, ok := r.wakes.peek(); ok {
		next = e.wake
	}
	if a, ok := r.wraps.peek(); ok && (next.IsZero() || a.wrapUntil.Before(next)) {
		next = a.wrapUntil
	}
	if next.IsZero() {
		if r.timer != nil {
			r.timer.Stop()
		}
		r.timerAt = time.Time{}
		return
	}
	if r.timer != nil && next.Equal(r.timerAt) {
		return
	}
	d := max(next.Sub(r.now), 0)
	if r.timer == nil {
		r.timer = time.AfterFunc(d, r.Tick)
	} else {
		r.timer.Reset(d)
	}
	r.timerAt = next
}

// outbox collects what to tell the world once the lock is released.
type outbox struct {
	states  []StateChange
	offers  []Offer
	revoked [][2]string
}

func (o *outbox) deliver(r *Router) {
	if len(o.states)+len(o.offers)+len(o.revoked) == 0 {
		return
	}
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
