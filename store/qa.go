package store

import (
	"time"

	"github.com/contactd/contactd/qa"
)

// EvaluationFilter selects evaluations for the QA review queue. Zero
// fields don't filter.
type EvaluationFilter struct {
	BelowPct   int       // effective score under this percentage of the maximum
	AutoFailed bool      // only auto-failed evaluations
	Agent      string    // the call's agent
	Queue      string    // the call's queue
	Team       string    // the team of the call's agent
	From, To   time.Time // evaluation created in [From, To)
	Limit      int       // DefaultLimit-like cap when ≤ 0
}

// EvaluationSummary is one row of the review queue: the evaluation with
// what is known of its call and how many overrides it has had.
type EvaluationSummary struct {
	qa.Evaluation
	Agent         string    `json:"agent"`
	Team          string    `json:"team"` // the agent's team
	Queue         string    `json:"queue"`
	CallerNumber  string    `json:"caller_number"`
	CallStartedAt time.Time `json:"call_started_at"`
	Reviews       int       `json:"reviews"`
}

// ReportFilter selects what a QAReport covers.
type ReportFilter struct {
	From, To time.Time // calls started and evaluations created in [From, To)
	// SLSeconds is the service-level threshold (20 when ≤ 0).
	SLSeconds int
	// Team narrows the report to one team: the evaluations, handle
	// time, first-contact resolution and intent mix of calls its agents
	// answered. Service level, abandonment and IVR containment concern
	// calls no agent took yet, so they stay centre-wide.
	Team string
}

// QAReport is the contact centre's quality and service figures over a
// period. Rates are fractions 0..1.
type QAReport struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Team string    `json:"team,omitempty"` // the team it is narrowed to
	// ScoreByAgentWeek: average effective score (percent of maximum) per
	// agent ("" for calls without one) and ISO week starting Monday.
	ScoreByAgentWeek []AgentWeekScore `json:"score_by_agent_week"`
	// ScoreByTeamWeek is the same per team ("" for agents in none).
	ScoreByTeamWeek []TeamWeekScore `json:"score_by_team_week"`
	ItemFailures    []ItemFailure   `json:"item_failures"`
	Evaluations     int             `json:"evaluations"`
	Calls           int             `json:"calls"`
	Answered        int             `json:"answered"`
	// AvgHandleSeconds is answered→ended over answered calls.
	AvgHandleSeconds float64 `json:"avg_handle_seconds"`
	// FCRRate: answered calls whose number did not call again within 7 days.
	FCRRate float64 `json:"fcr_rate"`
	// ServiceLevel: calls that reached a queue and were answered within
	// SLSeconds of their start, over calls that reached a queue.
	ServiceLevel float64 `json:"service_level"`
	SLSeconds    int     `json:"sl_seconds"`
	// AbandonRate: calls that reached a queue and were never answered.
	Abandoned      int            `json:"abandoned"`
	AbandonRate    float64        `json:"abandon_rate"`
	IntentMix      map[string]int `json:"intent_mix"`
	IVRContainment float64        `json:"ivr_containment"`
}

// AgentWeekScore is one agent's QA score in one week.
type AgentWeekScore struct {
	Agent       string  `json:"agent"`
	Week        string  `json:"week"` // the Monday, YYYY-MM-DD
	Evaluations int     `json:"evaluations"`
	AvgPct      float64 `json:"avg_pct"`
}

// TeamWeekScore is one team's QA score in one week.
type TeamWeekScore struct {
	Team        string  `json:"team"`
	Week        string  `json:"week"` // the Monday, YYYY-MM-DD
	Evaluations int     `json:"evaluations"`
	AvgPct      float64 `json:"avg_pct"`
}

// ItemFailure is how often one scorecard item failed.
type ItemFailure struct {
	Key       string  `json:"key"`
	Label     string  `json:"label"`
	Evaluated int     `json:"evaluated"`
	Failed    int     `json:"failed"`
	Rate      float64 `json:"rate"`
}
