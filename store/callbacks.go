package store

import "time"

// Callback is a caller's request to be called back, kept until an agent
// takes it (or it expires) so that a restart does not lose it. It holds
// the caller's place in line: the routing score's inputs and when they
// began to wait.
type Callback struct {
	ID             string
	CallID         string // the call it was asked for on
	Number         string // to call back
	Queue          string
	Intent         string
	Priority       int
	VIP            bool
	Value          int
	Sentiment      float64
	PreferredAgent string
	WaitingSince   time.Time
	ExpiresAt      time.Time
	CreatedAt      time.Time
}
