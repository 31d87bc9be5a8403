package tickets

import "time"

// Priorities, lowest first.
const (
	PriorityLow    = "low"
	PriorityNormal = "normal"
	PriorityHigh   = "high"
	PriorityUrgent = "urgent"
)

// Priorities lists the priorities, lowest first.
var Priorities = []string{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}

// PriorityRank orders priorities: low 0 … urgent 3, -1 for an unknown one.
func PriorityRank(p string) int {
	for i, q := range Priorities {
		if q == p {
			return i
		}
	}
	return -1
}

// Statuses of a ticket's life. New tickets become open once someone
// works them; pending waits on the customer, on-hold on a third party.
const (
	StatusNew     = "new"
	StatusOpen    = "open"
	StatusPending = "pending"
	StatusOnHold  = "on-hold"
	StatusSolved  = "solved"
	StatusClosed  = "closed"
)

// Statuses lists every status in life order.
var Statuses = []string{StatusNew, StatusOpen, StatusPending, StatusOnHold, StatusSolved, StatusClosed}

// Done reports whether a status ends the ticket's work (solved or closed).
func Done(status string) bool { return status == StatusSolved || status == StatusClosed }

// Outcomes of a call.
const (
	OutcomeResolved = "resolved"  // settled on the call
	OutcomeFollowUp = "follow_up" // someone has to do something after it
)

// Customer is who the ticket is for. ID is the key repeat contacts are
// matched on: "acct:<account number>" when one was said, else
// "tel:<caller number>".
type Customer struct {
	Phone         string `json:"phone"`
	ID            string `json:"id,omitempty"`
	AccountNumber string `json:"account_number,omitempty"`
}

// FollowUp is one thing promised on the call, with its due date when one
// was said.
type FollowUp struct {
	Action string    `json:"action"`
	Due    time.Time `json:"due,omitzero"`
}

// Ticket is one support case written from a call.
type Ticket struct {
	ID          string            `json:"id"`
	CallID      string            `json:"call_id"`
	Category    string            `json:"category"` // the intent name
	SubCategory string            `json:"sub_category,omitempty"`
	Priority    string            `json:"priority"`
	Subject     string            `json:"subject"`
	Summary     string            `json:"summary"`
	Entities    map[string]string `json:"entities"`
	Sentiment   string            `json:"sentiment"` // positive | neutral | negative, over the whole call
	// SentimentStart and SentimentEnd are the caller's mood in the first
	// and the last third of what they said.
	SentimentStart string     `json:"sentiment_start,omitempty"`
	SentimentEnd   string     `json:"sentiment_end,omitempty"`
	Tags           []string   `json:"tags"`
	Status         string     `json:"status"`
	Customer       Customer   `json:"customer"`
	Outcome        string     `json:"outcome,omitempty"` // resolved | follow_up
	FollowUps      []FollowUp `json:"follow_ups,omitempty"`
	Assignee       string     `json:"assignee,omitempty"`
	Team           string     `json:"team,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`

	// SLA: when the first response and the resolution are due (zero: no
	// target) and when they happened.
	FirstResponseDue time.Time `json:"first_response_due,omitzero"`
	ResolutionDue    time.Time `json:"resolution_due,omitzero"`
	FirstResponseAt  time.Time `json:"first_response_at,omitzero"`
	SolvedAt         time.Time `json:"solved_at,omitzero"`
	// Breached is computed when the ticket is read: a target passed
	// without the response or resolution it asked for.
	Breached bool `json:"breached"`
	// When the breach watcher flagged (escalated and announced) each
	// target's breach; zero until it did.
	FirstResponseBreachedAt time.Time `json:"first_response_breached_at,omitzero"`
	ResolutionBreachedAt    time.Time `json:"resolution_breached_at,omitzero"`
}

// Event is one entry of a ticket's audit trail: who changed which field
// from what to what. Field "created" records the ticket's creation and
// "note" an added note.
type Event struct {
	ID       int64     `json:"id"`
	TicketID string    `json:"ticket_id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Field    string    `json:"field"`
	Old      string    `json:"old"`
	New      string    `json:"new"`
}

// Note is a comment on a ticket. Internal notes are for staff only.
type Note struct {
	ID        int64     `json:"id"`
	TicketID  string    `json:"ticket_id"`
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	Internal  bool      `json:"internal"`
	CreatedAt time.Time `json:"created_at"`
}

// Filter selects tickets for the helpdesk list; empty fields match all.
// Query is full-text search over subject, summary, entities, tags,
// customer and notes.
type Filter struct {
	Status   string
	Category string
	Priority string
	Assignee string
	Team     string
	Customer string // customer ID or phone number
	From, To time.Time
	Query    string
	// Breached keeps only tickets whose SLA target has passed unmet by
	// the time BreachedAt (zero: now).
	Breached   bool
	BreachedAt time.Time
	Limit      int // 0: 100
	Offset     int
}
