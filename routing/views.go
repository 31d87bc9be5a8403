package routing

import (
	"sort"
	"time"
)

// AgentView is a snapshot of one agent for APIs and wallboards. Daily
// counters restart at midnight (the clock's location).
type AgentView struct {
	Username string         `json:"username"`
	State    State          `json:"state"`
	Reason   string         `json:"reason,omitempty"` // break reason, or why the state changed
	Since    time.Time      `json:"since"`
	Skills   map[string]int `json:"skills"`
	MaxCalls int            `json:"max_calls"`
	Calls    int            `json:"calls"`
	Offering string         `json:"offering,omitempty"`

	TimeInStateMS   int64 `json:"time_in_state_ms"`
	HandledToday    int   `json:"handled_today"`
	TalkTimeTodayMS int64 `json:"talk_time_today_ms"` // includes the call in progress
	MissedToday     int   `json:"missed_today"`
}

// QueueView is a snapshot of one queue. Counters are since the start of the
// day (the clock's location).
type QueueView struct {
	Name     string   `json:"name"`
	Skill    string   `json:"skill"`
	Strategy Strategy `json:"strategy"`
	Waiting  []string `json:"waiting"` // call IDs in service order (offered ones included)

	WaitingCount  int   `json:"waiting_count"`
	LongestWaitMS int64 `json:"longest_wait_ms"`
	SLATargetMS   int64 `json:"sla_target_ms"`
	Answered      int   `json:"answered"`
	AnsweredInSLA int   `json:"answered_in_sla"`
	Abandoned     int   `json:"abandoned"`
	// ServiceLevel is AnsweredInSLA/Answered; nil without an SLA target or
	// before the first answer.
	ServiceLevel *float64 `json:"service_level"`
}

// Agent returns one agent's snapshot.
func (r *Router) Agent(username string) (AgentView, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.agents[username]
	if !ok {
		return AgentView{}, false
	}
	r.begin()
	return r.agentView(a), true
}

// Agents returns every agent's snapshot, by username.
func (r *Router) Agents() []AgentView {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.begin()
	out := make([]AgentView, 0, len(r.agents))
	for _, a := range r.agents {
		out = append(out, r.agentView(a))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out
}

// Queues returns every queue's snapshot, by name.
func (r *Router) Queues() []QueueView {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.begin()
	out := make([]QueueView, 0, len(r.queues))
	for _, q := range r.queues {
		out = append(out, r.queueView(q))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Score is a waiting contact's current score (see the score weights).
func (r *Router) Score(callID string) (float64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[callID]
	if !ok {
		return 0, false
	}
	r.begin()
	return r.score(e), true
}

func (r *Router) queueView(q *queue) QueueView {
	v := QueueView{Name: q.Name, Skill: q.Skill, Strategy: q.Strategy, Waiting: []string{},
		WaitingCount: len(q.all), SLATargetMS: q.SLATarget.Milliseconds(),
		Answered: q.answered, AnsweredInSLA: q.answeredInSLA, Abandoned: q.abandoned}
	es := make([]*entry, 0, len(q.all))
	for e := range q.all {
		es = append(es, e)
		if w := r.now.Sub(e.enqueued).Milliseconds(); w > v.LongestWaitMS {
			v.LongestWaitMS = w
		}
	}
	sort.Slice(es, func(i, j int) bool { return entryBefore(es[i], es[j]) })
	for _, e := range es {
		v.Waiting = append(v.Waiting, e.CallID)
	}
	if q.SLATarget > 0 && q.answered > 0 {
		sl := float64(q.answeredInSLA) / float64(q.answered)
		v.ServiceLevel = &sl
	}
	return v
}

func (r *Router) agentView(a *agent) AgentView {
	sk := make(map[string]int, len(a.skills))
	for k, v := range a.skills {
		sk[k] = v
	}
	talk := a.talkToday
	if !a.talkStart.IsZero() {
		talk += r.now.Sub(a.talkStart)
	}
	return AgentView{Username: a.username, State: a.state, Reason: a.reason, Since: a.since, Skills: sk,
		MaxCalls: a.maxCalls, Calls: a.calls, Offering: a.offering,
		TimeInStateMS: r.now.Sub(a.since).Milliseconds(), HandledToday: a.handledToday,
		TalkTimeTodayMS: talk.Milliseconds(), MissedToday: a.missedToday}
}
