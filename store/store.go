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
	// Team groups agents with their supervisors ("" for none): QA reports
	// and filters by it, and a supervisor with a team reviews that team.
	Team string
}

// Session is a bearer token's server side; only the token's SHA-256 is kept.
// ExpiresAt is the absolute end; LastSeenAt (zero: CreatedAt) is when the
// token was last used, for idle expiry.
type Session struct {
	TokenHash  string
	UserID     string
	ExpiresAt  time.Time
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// APIToken is a named bearer token for an integration, acting with Role.
// Only the token's SHA-256 is kept. RevokedAt is set once it is revoked.
type APIToken struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	TokenHash  string    `json:"-"`
	Role       string    `json:"role"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	RevokedAt  time.Time `json:"revoked_at"`
}

// AuditEntry is one line of the append-only audit log. The store assigns
// ID, increasing with every entry.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`            // a username, "token:<name>", or the name a failed login tried
	Action string    `json:"action"`           // what happened, e.g. "login", "ticket.update"
	Target string    `json:"target,omitempty"` // what it happened to, e.g. "ticket:tkt_1"
	Detail string    `json:"detail,omitempty"`
	IP     string    `json:"ip,omitempty"`
}

// AuditFilter selects audit entries, newest first. Zero fields don't
// filter; Before pages back (entries with ID < Before).
type AuditFilter struct {
	Actor    string
	Action   string
	Target   string
	From, To time.Time // At in [From, To)
	Before   int64
	Limit    int // DefaultLimit-like cap when ≤ 0
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
	// RecordingPauses are the spans the recording was paused for (card
	// details read out): silent in the recording, absent from the
	// transcript.
	RecordingPauses []RecordingPause
}

// RecordingPause is one span of a call whose recording was paused. Times
// are ms from the call's start, like the transcript's.
type RecordingPause struct {
	StartMS   int64  `json:"start_ms"`
	EndMS     int64  `json:"end_ms"`
	By        string `json:"by"`                   // who paused it
	ResumedBy string `json:"resumed_by,omitempty"` // who resumed it; "": the call or the agent's part of it ended
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

// Misroute is a call whose ticket's category an agent corrected at
// wrap-up: routed as From, corrected to To.
type Misroute struct {
	CallID    string    `json:"call_id"`
	TicketID  string    `json:"ticket_id"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	StartedAt time.Time `json:"started_at"`
	// Said is what the caller said before an agent first spoke (the IVR's
	// part of the call), on one line.
	Said string `json:"said"`
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
	// SetUserTeam puts the user in team ("" takes them out of theirs);
	// ErrNotFound for an unknown username.
	SetUserTeam(ctx context.Context, username, team string) error

	CreateSession(ctx context.Context, s Session) error
	SessionByTokenHash(ctx context.Context, tokenHash string) (Session, error) // ErrNotFound when absent or expired
	DeleteSession(ctx context.Context, tokenHash string) error
	// TouchSession records that the session was used at at (idle expiry);
	// ErrNotFound when absent.
	TouchSession(ctx context.Context, tokenHash string, at time.Time) error

	// CreateAPIToken stores t; ErrConflict when a token in use has its name.
	CreateAPIToken(ctx context.Context, t APIToken) error
	// APITokenByHash returns the unrevoked token; ErrNotFound otherwise.
	APITokenByHash(ctx context.Context, tokenHash string) (APIToken, error)
	ListAPITokens(ctx context.Context) ([]APIToken, error) // newest first, revoked ones included
	// RevokeAPIToken marks the token revoked at at and returns it;
	// ErrNotFound when absent or already revoked.
	RevokeAPIToken(ctx context.Context, id string, at time.Time) (APIToken, error)
	TouchAPIToken(ctx context.Context, id string, at time.Time) error

	// AppendAudit adds an entry to the audit log, which is append-only:
	// the database itself refuses UPDATE and DELETE on it.
	AppendAudit(ctx context.Context, e AuditEntry) error
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) // newest first

	UpsertAgent(ctx context.Context, a Agent) error
	Agent(ctx context.Context, username string) (Agent, error)
	ListAgents(ctx context.Context) ([]Agent, error)
	LogAgentState(ctx context.Context, c AgentStateChange) error
	AgentStateLog(ctx context.Context, username string, limit int) ([]AgentStateChange, error) // newest first

	UpsertQueue(ctx context.Context, q Queue) error
	ListQueues(ctx context.Context) ([]Queue, error)

	// Callbacks waiting for an agent (callbacks.go). AddCallback returns
	// ErrConflict on a taken ID; DeleteCallback ErrNotFound when absent.
	AddCallback(ctx context.Context, cb Callback) error
	DeleteCallback(ctx context.Context, id string) error
	PendingCallbacks(ctx context.Context, limit int) ([]Callback, error) // oldest WaitingSince first

	CreateCall(ctx context.Context, c Call) error
	UpdateCall(ctx context.Context, c Call) error // ErrNotFound when absent
	Call(ctx context.Context, id string) (Call, error)
	ListCalls(ctx context.Context, limit int) ([]Call, error) // newest StartedAt first
	// ListCallsOf is the calls agent answered, newest StartedAt first.
	ListCallsOf(ctx context.Context, agent string, limit int) ([]Call, error)
	// CallsByCaller is the caller's history (sticky agent, caller card), newest first.
	CallsByCaller(ctx context.Context, from string, limit int) ([]Call, error)

	AddIVRVisits(ctx context.Context, vs []IVRVisit) error
	IVRStats(ctx context.Context, since time.Time) (IVRStats, error)
	// Misroutes lists the calls started since then whose ticket an agent
	// re-categorised, oldest first, at most limit.
	Misroutes(ctx context.Context, since time.Time, limit int) ([]Misroute, error)

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
	// ListTicketsOf is ListTickets narrowed to owner's tickets: assigned
	// to owner, written from a call owner answered, or linked to one as a
	// repeat contact.
	ListTicketsOf(ctx context.Context, owner string, f tickets.Filter) ([]tickets.Ticket, error)
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
	// SLABreachesDue lists up to limit SLA targets of tickets that are not
	// solved or closed, passed unmet by now and not flagged yet, earliest
	// due first (the breach watcher).
	SLABreachesDue(ctx context.Context, now time.Time, limit int) ([]tickets.Breach, error)
	// FlagSLABreach marks b's target breached at at and appends an "sla"
	// event to the ticket's audit trail by tickets.ActorFrom(ctx), once:
	// false when it was flagged already (by another node, say).
	FlagSLABreach(ctx context.Context, b tickets.Breach, at time.Time) (bool, error)

	// Webhook deliveries given up on (webhooks.go).
	//
	// AddDeadLetter keeps d and returns its ID.
	AddDeadLetter(ctx context.Context, d DeadLetter) (int64, error)
	ListDeadLetters(ctx context.Context, f DeadLetterFilter) ([]DeadLetter, error) // newest first
	DeadLetter(ctx context.Context, id int64) (DeadLetter, error)
	// MarkDeadLetterReplayed records that by replayed it at at;
	// ErrNotFound when absent, ErrConflict when it was replayed already.
	MarkDeadLetterReplayed(ctx context.Context, id int64, by string, at time.Time) error

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
	// QAReport computes the quality and service figures for the calls and
	// evaluations f selects.
	QAReport(ctx context.Context, f ReportFilter) (QAReport, error)

	// Retention and erasure (privacy.go).
	//
	// ExpiredRecordings is up to s.Limit calls in s that still have a
	// recording, oldest first.
	ExpiredRecordings(ctx context.Context, s RetentionScope) ([]Call, error)
	// ClearRecording forgets the call's recording (its file is gone);
	// ErrNotFound for an unknown call.
	ClearRecording(ctx context.Context, callID string) error
	// PurgeTranscripts deletes the transcripts of up to s.Limit calls in
	// s whose transcript is still kept, with the transcript excerpts
	// quoted in their evaluations' evidence. It returns how many calls it
	// purged (fewer than the limit: none are left) and how many segments.
	PurgeTranscripts(ctx context.Context, s RetentionScope) (calls int, segments int64, err error)
	// EraseCustomer removes one customer's personal data in one
	// transaction: the transcripts of the calls from number and the
	// evidence quoted from them, the calls' recording paths (returned for
	// the caller to delete) and number, and in the customer's tickets
	// (by call, by number, and the same customer's other tickets) the
	// customer, entities, subject, summary, follow-ups, notes and changed
	// values of the audit trail. Ticket rows, categories, priorities,
	// statuses and times stay, tagged ErasedTag, so statistics survive.
	EraseCustomer(ctx context.Context, number string, at time.Time) (Erasure, error)
	// CallsSince pages through calls oldest first (export).
	CallsSince(ctx context.Context, p CallPage) ([]Call, error)

	Close() error
}
