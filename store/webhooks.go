package store

import "time"

// DeadLetter is a webhook delivery given up on after its retries. It is
// kept until an admin replays it (tickets/webhook, the admin API).
type DeadLetter struct {
	ID        int64  `json:"id"`
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	URL       string `json:"url"`
	TicketID  string `json:"ticket_id,omitempty"`
	// Body is the payload exactly as it was signed and sent.
	Body       string    `json:"body"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"last_error"`
	CreatedAt  time.Time `json:"created_at"`
	ReplayedAt time.Time `json:"replayed_at,omitzero"`
	ReplayedBy string    `json:"replayed_by,omitempty"`
}

// DeadLetterFilter selects dead letters, newest first.
type DeadLetterFilter struct {
	// Pending keeps those not replayed yet.
	Pending bool
	// Before pages back: IDs below it (0: from the newest).
	Before int64
	Limit  int // DefaultLimit-like cap when ≤ 0
}
