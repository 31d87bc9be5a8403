// Package tickets turns a call's transcript into a structured support ticket.
package tickets

import "time"

// Priorities, lowest first.
const (
	PriorityLow    = "low"
	PriorityNormal = "normal"
	PriorityHigh   = "high"
	PriorityUrgent = "urgent"
)

// Statuses of a ticket's life.
const (
	StatusOpen    = "open"
	StatusPending = "pending"
	StatusSolved  = "solved"
	StatusClosed  = "closed"
)

// Customer is who the ticket is for.
type Customer struct {
	Phone string `json:"phone"`
}

// Ticket is one support case written from a call.
type Ticket struct {
	ID        string            `json:"id"`
	CallID    string            `json:"call_id"`
	Category  string            `json:"category"` // the intent name
	Priority  string            `json:"priority"`
	Subject   string            `json:"subject"`
	Summary   string            `json:"summary"`
	Entities  map[string]string `json:"entities"`
	Sentiment string            `json:"sentiment"` // positive | neutral | negative
	Tags      []string          `json:"tags"`
	Status    string            `json:"status"`
	Customer  Customer          `json:"customer"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}
