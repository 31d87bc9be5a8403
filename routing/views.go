package routing

import (
	"sort"
	"time"
)

// AgentView is a snapshot of one agent for APIs and wallboards.
type AgentView struct {
	Username string         `json:"username"`
	State    State          `json:"state"`
	Since    time.Time      `json:"since"`
	Skills   map[string]int `json:"skills"`
	MaxCalls int            `json:"max_calls"`
	Calls    int            `json:"calls"`
	Offering string         `json:"offering,omitempty"`
}

// QueueView is a snapshot of one queue.
type QueueView struct {
	Name    string   `json:"name"`
	Skill   string   `json:"skill"`
	Waiting []string `json:"waiting"` // call IDs in service order
}

// Agent returns one agent's snapshot.
func (r *Router) Agent(username string) (AgentView, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.agents[username]
	if !ok {
		return AgentView{}, false
	}
	return a.view(), true
}

// Agents returns every agent's snapshot, by username.
func (r *Router) Agents() []AgentView {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]AgentView, 0, len(r.agents))
	for _, a := range r.agents {
		out = append(out, a.view())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out
}

// Queues returns every queue's snapshot, by name.
func (r *Router) Queues() []QueueView {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]QueueView, 0, len(r.queues))
	for _, q := range r.queues {
		v := QueueView{Name: q.name, Skill: q.skill, Waiting: []string{}}
		for _, e := range q.waiting {
			v.Waiting = append(v.Waiting, e.CallID)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (a *agent) view() AgentView {
	sk := make(map[string]int, len(a.skills))
	for k, v := range a.skills {
		sk[k] = v
	}
	return AgentView{Username: a.username, State: a.state, Since: a.since, Skills: sk,
		MaxCalls: a.maxCalls, Calls: a.calls, Offering: a.offering}
}
