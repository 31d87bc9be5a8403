package store

import "time"

// Erased replaces personal data that erasure removed: a caller's number
// on their calls, a ticket's subject and summary, a note's body, the
// changed values in a ticket's audit trail. Erased tickets also carry the
// tag ErasedTag.
const (
	Erased    = "[erased]"
	ErasedTag = "erased"
)

// RetentionScope selects calls for the retention sweeper: those started
// before Before that are in one of Queues or, with Except, in none of them
// (calls that never reached a queue included). Limit caps one batch
// (DefaultLimit-like when ≤ 0).
type RetentionScope struct {
	Queues []string
	Except bool
	Before time.Time
	Limit  int
}

// Erasure is what EraseCustomer removed.
type Erasure struct {
	// Calls are the customer's calls (their number is now Erased).
	Calls []string `json:"call_ids"`
	// Recordings are the recording paths (relative to the data dir) the
	// calls had; the caller deletes the files.
	Recordings  []string `json:"-"`
	Segments    int64    `json:"segments"`
	Tickets     int      `json:"tickets"`
	Notes       int64    `json:"notes"`
	Evaluations int      `json:"evaluations"`
	// Callbacks are the customer's pending callbacks, deleted (by ID:
	// the caller stops any that are armed in memory).
	Callbacks []string `json:"callbacks"`
}

// CallPage pages through calls oldest first (the export): calls started
// at or after Since (zero: all), after the call (AfterStarted, AfterID)
// that ended the previous page.
type CallPage struct {
	Since        time.Time
	AfterStarted time.Time
	AfterID      string
	Limit        int // DefaultLimit-like when ≤ 0
}
