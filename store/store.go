// Package store persists contactd's data. One interface, two implementations:
// the embedded SQLite default (pure Go, modernc.org/sqlite) and Postgres via
// pgx's pool. Both pass the same conformance suite (storetest).
package store

import (
	"context"
	"errors"
	"time"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// Errors every implementation returns (wrapped or bare; test with errors.Is).
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: already exists")
)

// Roles of users.
const (
	RoleAdmin      = "admin"
	RoleSupervisor = "supervisor"
	RoleQA         = "qa"
	RoleAgent      = "agent"
)

// User is someone who logs in. PasswordHash is a bcrypt hash. The SIP
// fields are digest secrets H(username:realm:password) for the user's SIP
// phone (empty: the user can't register a phone).
type User struct {
	ID           string
	Username     string
	PasswordHash string
	Role         string
	CreatedAt    time.Time
	SIPHA1MD5    string
	SIPHA1SHA256 string
}

// Session is a bearer token's server side; only the token's SHA-256 is kept.
type Session struct {
	TokenHash string
	UserID    string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Agent is a user who takes calls. Skills map skill name → proficiency 1..10.
type Agent struct {
	Username   string
	Skills     map[string]int
	MaxCalls   int
	State      string
	StateSince time.Time
}

// AgentStateChange is one entry of the agent state log.
type AgentStateChange struct {
	Username string
	State    string
	Reason   string
	At       time.Time
}

// Queue is where calls wait for an agent with Skill.
type Queue struct {
	Name  string
	Skill string
}

// Call is one contact. Zero times mean "not yet".
type Call struct {
	ID            string
	From          string
	To            string
	StartedAt     time.Time
	AnsweredAt    time.Time // when an agent answered
	EndedAt       time.Time
	Intent        string
	Queue         string
	Agent         string
	RecordingPath string // relative to the data dir
	Disposition   string // why it ended
	// Quality is each leg's measured audio quality, by leg ("caller",
	// "agent"); nil when not measured.
	Quality map[string]MediaQuality
	// IVROutcome is how the call left the IVR: contained, transferred,
	// ended or abandoned ("" when it never got that far).
	IVROutcome string
}

// IVR outcomes.
const (
	IVRContained   = "contained"   // self-service answered it; no agent needed
	IVRTransferred = "transferred" // sent to a queue
	IVREnded       = "ended"       // the flow hung up without containing it
	IVRAbandoned   = "abandoned"   // the caller hung up in the IVR
)

// IVRVisit is one caller's visit of one flow node.
type IVRVisit struct {
	CallID    string
	Flow      string
	Node      string
	Kind      string
	EnteredAt time.Time
	LeftAt    time.Time
	ExitTo    string // next node, or "(transfer)", "(hangup)", "(caller hung up)"
}

// IVRNodeStat is how many callers reached and left one node, and where to.
type IVRNodeStat struct {
	Flow    string         `json:"flow"`
	Node    string         `json:"node"`
	Kind    string         `json:"kind"`
	Reached int            `json:"reached"`
	Left    int            `json:"left"`
	Exits   map[string]int `json:"exits"`
}

// IVRStats is the IVR's analytics over a period.
type IVRStats struct {
	Nodes     []IVRNodeStat  `json:"nodes"`
	Calls     int            `json:"calls"`
	Outcomes  map[string]int `json:"outcomes"`
	Misroutes int            `json:"misroutes"` // tickets whose category an agent corrected
}

// MediaQuality is one leg's audio quality over a call.
type MediaQuality struct {
	Codec       string  `json:"codec,omitempty"`
	PacketsIn   uint64  `json:"packets_in"`
	PacketsLost uint64  `json:"packets_lost"`
	LossPct     float64 `json:"loss_pct"`
	JitterMS    float64 `json:"jitter_ms"`
	RTTMS       float64 `json:"rtt_ms"`
	MOS         float64 `json:"mos"`
}

// Store is everything contactd persists. Implementations are safe for
// concurrent use.
type Store interface {
	CreateUser(ctx context.Context, u User) error // ErrConflict on a taken username
	UserByName(ctx context.Context, username string) (User, error)
	UserByID(ctx context.Context, id string) (User, error)
	ListUsers(ctx context.Context) ([]User, error)
	CountUsers(ctx context.Context) (int, error)

	CreateSession(ctx context.Context, s Session) error
	SessionByTokenHash(ctx context.Context, tokenHash string) (Session, error) // ErrNotFound when absent or expired
	DeleteSession(ctx context.Context, tokenHash string) error

	UpsertAgent(ctx context.Context, a Agent) error
	Agent(ctx context.Context, username string) (Agent, error)
	ListAgents(ctx context.Context) ([]Agent, error)
	LogAgentState(ctx context.Context, c AgentStateChange) error
	AgentStateLog(ctx context.Context, username string, limit int) ([]AgentStateChange, error) // newest first

	UpsertQueue(ctx context.Context, q Queue) error
	ListQueues(ctx context.Context) ([]Queue, error)

	CreateCall(ctx context.Context, c Call) error
	UpdateCall(ctx context.Context, c Call) error // ErrNotFound when absent
	Call(ctx context.Context, id string) (Call, error)
	ListCalls(ctx context.Context, limit int) ([]Call, error) // newest StartedAt first
	// CallsByCaller is the caller's history (sticky agent, caller card), newest first.
	CallsByCaller(ctx context.Context, from string, limit int) ([]Call, error)

	AddIVRVisits(ctx context.Context, vs []IVRVisit) error
	IVRStats(ctx context.Context, since time.Time) (IVRStats, error)

	AddSegments(ctx context.Context, callID string, segs []transcript.Segment) error
	Segments(ctx context.Context, callID string) ([]transcript.Segment, error) // in StartMS order

	// CreateTicket stores t, indexes it for search and starts its audit
	// trail ("created" by tickets.ActorFrom(ctx)).
	CreateTicket(ctx context.Context, t tickets.Ticket) error
	// UpdateTicket replaces t; in one transaction it applies
	// tickets.Lifecycle (first response, solved time) for
	// tickets.ActorFrom(ctx), records each changed field in the audit trail
	// and reindexes the ticket. ErrNotFound when absent.
	UpdateTicket(ctx context.Context, t tickets.Ticket) error
	Ticket(ctx context.Context, id string) (tickets.Ticket, error)
	TicketsByCall(ctx context.Context, callID string) ([]tickets.Ticket, error)
	// TicketsByCaller is the tickets of the caller's calls, newest call first.
	TicketsByCaller(ctx context.Context, from string, limit int) ([]tickets.Ticket, error)
	// ListTickets is the helpdesk list: filters and full-text search,
	// newest first.
	ListTickets(ctx context.Context, f tickets.Filter) ([]tickets.Ticket, error)
	// OpenTicket is the customer's newest ticket in category created at
	// or after since and not solved or closed; ErrNotFound when none.
	OpenTicket(ctx context.Context, customerID, category string, since time.Time) (tickets.Ticket, error)
	// AddTicketNote appends a note and a "note" audit event; ErrNotFound
	// for an unknown ticket. It returns the note's ID.
	AddTicketNote(ctx context.Context, n tickets.Note) (int64, error)
	TicketNotes(ctx context.Context, ticketID string) ([]tickets.Note, error) // oldest first
	// AddTicketEvents appends to audit trails (changes made outside
	// UpdateTicket, e.g. an SLA breach).
	AddTicketEvents(ctx context.Context, evs []tickets.Event) error
	TicketEvents(ctx context.Context, ticketID string) ([]tickets.Event, error) // oldest first

	CreateEvaluation(ctx context.Context, e qa.Evaluation) error
	Evaluation(ctx context.Context, id string) (qa.Evaluation, error)
	EvaluationsByCall(ctx context.Context, callID string) ([]qa.Evaluation, error)
	// ListEvaluations is the QA review queue, newest first.
	ListEvaluations(ctx context.Context, f EvaluationFilter) ([]EvaluationSummary, error)
	// OverrideItem applies o to the evaluation (qa.Evaluation.Apply) and
	// keeps o as a review row, atomically; it returns the new evaluation and
	// the stored row. ErrNotFound for an absent evaluation.
	OverrideItem(ctx context.Context, evaluationID string, o qa.Override) (qa.Evaluation, qa.Override, error)
	Reviews(ctx context.Context, evaluationID string) ([]qa.Override, error) // oldest first
	AckEvaluation(ctx context.Context, evaluationID string, a qa.Ack) error
	// SaveCalibration stores one reviewer's calibration, replacing theirs.
	SaveCalibration(ctx context.Context, c qa.Calibration) error
	Calibrations(ctx context.Context, evaluationID string) ([]qa.Calibration, error) // by reviewer
	// QAReport computes the quality and service figures for calls and
	// evaluations in [from, to); slSeconds is the service-level threshold.
	QAReport(ctx context.Context, from, to time.Time, slSeconds int) (QAReport, error)

	Close() error
}
