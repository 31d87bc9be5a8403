package routing

import (
	"fmt"
	"time"
)

// Strategy picks which of several eligible free agents gets a contact.
type Strategy string

// Strategies. The zero value means LongestIdle.
const (
	// LongestIdle offers to the agent available for the longest time.
	LongestIdle Strategy = "longest_idle"
	// LeastOccupied offers to the agent with the least talk time today, then
	// the fewest calls handled today, then the longest idle.
	LeastOccupied Strategy = "least_occupied"
	// MostSkilled offers to the agent with the highest proficiency in the
	// skill that makes them eligible, ties to the longest idle.
	MostSkilled Strategy = "most_skilled"
	// RoundRobin offers to the agent who was offered a call least recently
	// (never offered first, then by username), which rotates through agents.
	RoundRobin Strategy = "round_robin"
)

// ParseStrategy checks a strategy name; "" is LongestIdle.
func ParseStrategy(s string) (Strategy, error) {
	switch Strategy(s) {
	case "":
		return LongestIdle, nil
	case LongestIdle, LeastOccupied, MostSkilled, RoundRobin:
		return Strategy(s), nil
	}
	return "", fmt.Errorf("%w: %q (want longest_idle, least_occupied, most_skilled or round_robin)", ErrBadStrategy, s)
}

// heap is which agent index serves the strategy.
func (s Strategy) heap() int {
	switch s {
	case LeastOccupied:
		return heapOccupied
	case RoundRobin:
		return heapRoundRobin
	}
	return heapIdle // LongestIdle, and MostSkilled within one proficiency
}

// Step is one stage of a queue's requirements. A contact is at the last step
// whose After it has waited. Steps are cumulative: MinProficiency 0 keeps the
// previous step's minimum (1 for the first step), and an Overflow, once
// reached, stays for the rest of the wait.
type Step struct {
	After time.Duration
	// MinProficiency (1–10) the queue's skill needs from now on; 0 keeps
	// the previous step's.
	MinProficiency int
	// Overflow names a queue whose skill (any proficiency) also qualifies an
	// agent from now on.
	Overflow string
}

// NoWrapUp in QueueConfig.WrapUp means no after-call work for that queue.
const NoWrapUp time.Duration = -1

// QueueConfig is everything the router knows about a queue.
type QueueConfig struct {
	Name     string
	Skill    string
	Strategy Strategy // "" = LongestIdle
	// Steps relax the requirements with the wait; nil = any proficiency.
	// A first step with After > 0 gets an implicit {After: 0, MinProficiency: 1}.
	Steps []Step
	// SLATarget is the answer-time target: service level counts answers
	// within it, and contacts at SLARiskFraction of it get SLARiskBonus.
	// 0 = no target.
	SLATarget time.Duration
	// WrapUp overrides Options.WrapUp for calls from this queue: 0 keeps the
	// default, NoWrapUp means none.
	WrapUp time.Duration
	// Sticky is how long a contact's PreferredAgent has it exclusively.
	// 0 = no sticky routing.
	Sticky time.Duration
}

// Score weights. A waiting contact's score at time t is
//
//	PriorityWeight×Priority + VIPBonus (if VIP) + Value (0–100)
//	+ SentimentWeight×max(0, −Sentiment) (Sentiment −1 angry … 1 happy)
//	+ AgingPerSecond×seconds waited
//	+ SLARiskBonus once it has waited SLARiskFraction of the queue's SLA target.
//
// Higher scores are served first; ties go to the earlier arrival. Aging is
// the same for every contact, so the order only changes when a contact
// crosses its SLA-risk point: the router keeps a time-free key
// (score − AgingPerSecond×seconds since the router's epoch at arrival)
// and re-positions a contact once, when the bonus applies.
const (
	PriorityWeight  = 100.0
	VIPBonus        = 150.0
	SentimentWeight = 100.0
	AgingPerSecond  = 1.0
	SLARiskBonus    = 1000.0
	SLARiskFraction = 0.8
)

// qstep is a Step with the inherited values filled in.
type qstep struct {
	after    time.Duration
	minProf  int
	overflow []string // queue names, cumulative
}

type queue struct {
	QueueConfig
	steps []qstep
	heaps []*iheap[*entry] // per step: parked, unoffered contacts by key
	all   map[*entry]struct{}
	// order holds all of them by entryBefore, for places in line
	// (Position) in O(log n).
	order *ostree[*entry]

	// today's counters
	answered, answeredInSLA, abandoned int
	// handled calls and their talk time, for the estimated wait
	handled int
	talk    time.Duration
}

func (r *Router) compileQueue(qc QueueConfig) (*queue, error) {
	if qc.Name == "" || qc.Skill == "" {
		return nil, fmt.Errorf("routing: queue needs a name and a skill, got %q/%q", qc.Name, qc.Skill)
	}
	st, err := ParseStrategy(string(qc.Strategy))
	if err != nil {
		return nil, err
	}
	qc.Strategy = st
	if qc.SLATarget < 0 || qc.Sticky < 0 {
		return nil, fmt.Errorf("routing: queue %s: negative sla target or sticky time", qc.Name)
	}
	steps := append([]Step(nil), qc.Steps...)
	if len(steps) == 0 || steps[0].After > 0 {
		steps = append([]Step{{After: 0, MinProficiency: 1}}, steps...)
	}
	q := &queue{QueueConfig: qc, all: map[*entry]struct{}{}, order: newOSTree(entryBefore)}
	q.Steps = steps
	prev := qstep{minProf: 1}
	for i, s := range steps {
		if s.After < 0 || (i > 0 && s.After < steps[i-1].After) {
			return nil, fmt.Errorf("routing: queue %s: steps[%d].after must not be negative or less than the step before", qc.Name, i)
		}
		if s.MinProficiency < 0 || s.MinProficiency > 10 {
			return nil, fmt.Errorf("routing: queue %s: steps[%d].min_proficiency must be 0-10, got %d", qc.Name, i, s.MinProficiency)
		}
		if s.Overflow == qc.Name {
			return nil, fmt.Errorf("routing: queue %s: steps[%d] overflows to itself", qc.Name, i)
		}
		cur := qstep{after: s.After, minProf: prev.minProf, overflow: prev.overflow}
		if s.MinProficiency > 0 {
			cur.minProf = s.MinProficiency
		}
		if s.Overflow != "" {
			cur.overflow = append(append([]string(nil), prev.overflow...), s.Overflow)
		}
		q.steps = append(q.steps, cur)
		q.heaps = append(q.heaps, newHeap(entryBefore))
		prev = cur
	}
	return q, nil
}

// entryBefore orders contacts: higher key first, then earlier arrival.
func entryBefore(a, b *entry) bool {
	if a.key != b.key {
		return a.key > b.key
	}
	return a.seq < b.seq
}

// baseScore is the time-free part of the score.
func baseScore(c Contact) float64 {
	s := PriorityWeight * float64(c.Priority)
	if c.VIP {
		s += VIPBonus
	}
	s += float64(min(max(c.Value, 0), 100))
	s += SentimentWeight * max(0, -min(max(c.Sentiment, -1), 1))
	return s
}
