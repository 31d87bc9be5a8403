package call

import (
	"maps"
	"sort"
	"sync"
	"time"
)

// LiveCall is a call in progress as a wallboard shows it: who has it and
// what is going on — hold, a consultation, supervisors on it. The owner
// keeps it up to date as it changes these (under the view's own lock), so
// a supervisor opening the wallboard mid-call sees what the events
// already told the others.
type LiveCall struct {
	CallID     string    `json:"call_id"`
	Agent      string    `json:"agent"` // "" while waiting, or between agents
	From       string    `json:"from"`
	Queue      string    `json:"queue,omitempty"`
	Intent     string    `json:"intent,omitempty"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	Held       bool      `json:"held"`
	HeldSince  time.Time `json:"held_since,omitzero"`
	// Consult is the agent being consulted; ConsultState "ringing" or
	// "talking".
	Consult      string `json:"consult,omitempty"`
	ConsultState string `json:"consult_state,omitempty"`
	// Monitors: supervisor → listen, whisper or barge.
	Monitors map[string]string `json:"monitors"`
}

// liveView is a Call's LiveCall; the owner writes it, LiveCalls reads it.
type liveView struct {
	mu sync.Mutex
	v  LiveCall
}

func (l *liveView) set(fn func(v *LiveCall)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fn(&l.v)
}

func (l *liveView) get() LiveCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := l.v
	v.Monitors = maps.Clone(l.v.Monitors)
	if v.Monitors == nil {
		v.Monitors = map[string]string{}
	}
	return v
}

// LiveCalls returns the calls in progress that an agent or a supervisor
// is on, oldest answer first.
func (m *Manager) LiveCalls() []LiveCall {
	m.mu.Lock()
	calls := make([]*Call, 0, len(m.calls))
	for _, c := range m.calls {
		calls = append(calls, c)
	}
	m.mu.Unlock()
	out := make([]LiveCall, 0, len(calls))
	for _, c := range calls {
		v := c.view.get()
		if v.Agent == "" && len(v.Monitors) == 0 {
			continue
		}
		v.CallID = c.in.ID
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].AnsweredAt.Equal(out[j].AnsweredAt) {
			return out[i].AnsweredAt.Before(out[j].AnsweredAt)
		}
		return out[i].CallID < out[j].CallID
	})
	return out
}
