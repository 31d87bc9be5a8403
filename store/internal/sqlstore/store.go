package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// Dialect holds the few SQL fragments that differ between databases.
type Dialect struct {
	// Name is for logs and errors ("sqlite", "postgres").
	Name string
	// NullsLast follows DESC on a nullable time so unset times sort after set
	// ones. SQLite already sorts NULLs last when descending, so it is empty
	// there, which also lets SQLite use a plain index for the ordering.
	NullsLast string
	// MigrationLock runs first in the migration transaction; empty for none.
	MigrationLock string
	// MigrationsTable creates schema_migrations if it does not exist.
	MigrationsTable string
	// ForUpdate follows a SELECT that reads a row about to be changed in
	// the same transaction (" FOR UPDATE"; empty where the writer already
	// holds the database lock).
	ForUpdate string
	// FTSMatch is a WHERE condition matching tickets against a search
	// query; %s is the query's parameter.
	FTSMatch string
	// FTSQuery turns a user's search words into the parameter FTSMatch
	// takes; nil passes them as they are. "" means nothing searchable.
	FTSQuery func(string) string
	// IndexTicket stores a ticket's searchable text inside tx.
	IndexTicket func(ctx context.Context, tx DB, id, doc string) error
	// TextCast follows a JSON column to read it as text ("::text" for
	// jsonb; empty where JSON is stored as TEXT).
	TextCast string
}

// DefaultLimit is used by the listing methods when the caller passes a limit
// of zero or less, so a careless caller cannot read millions of rows.
const DefaultLimit = 100

// segmentBatch is how many transcript segments go into one INSERT.
const segmentBatch = 500

// Store implements store.Store over a DB.
type Store struct {
	db      DB
	d       Dialect
	closeFn func() error

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// New returns a Store using db; closeFn releases db and is called once by Close.
func New(db DB, d Dialect, closeFn func() error) *Store {
	return &Store{db: db, d: d, closeFn: closeFn}
}

// Close releases the database; calling it again returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.closeFn != nil {
			s.closeErr = s.closeFn()
		}
	})
	return s.closeErr
}

// newID returns a random 128-bit hex ID for callers that left one empty.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24).
	return hex.EncodeToString(b[:])
}

// wrap adds context to err and maps adapter errors to the store's sentinels.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, ErrNoRows):
		return fmt.Errorf("%s: %w", msg, store.ErrNotFound)
	case errors.Is(err, ErrUnique):
		return fmt.Errorf("%s: %w (%v)", msg, store.ErrConflict, err)
	case errors.Is(err, ErrForeignKey):
		return fmt.Errorf("%s: %w (%v)", msg, store.ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", msg, err)
}

func notFound(affected int64, err error, format string, args ...any) error {
	if err != nil {
		return wrap(err, format, args...)
	}
	if affected == 0 {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), store.ErrNotFound)
	}
	return nil
}

func limitOr(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return n
}

func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// jsonCol scans a JSON column (TEXT or jsonb) and decodes it into V.
type jsonCol struct{ v any }

func (j jsonCol) Scan(src any) error {
	var b []byte
	switch x := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		// pgx hands decoded jsonb to sql.Scanner as whatever json.Unmarshal
		// produced; re-encode it so the typed decode below applies.
		var err error
		if b, err = json.Marshal(x); err != nil {
			return fmt.Errorf("scan json: %w", err)
		}
	}
	if err := json.Unmarshal(b, j.v); err != nil {
		return fmt.Errorf("scan json: %w", err)
	}
	return nil
}

// ---- users ----

const userCols = `id, username, password_hash, role, created_at, sip_ha1_md5, sip_ha1_sha256, team`

func scanUser(r Row) (store.User, error) {
	var u store.User
	err := r.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Role, NullTime{&u.CreatedAt}, &u.SIPHA1MD5, &u.SIPHA1SHA256, &u.Team)
	return u, err
}

// CreateUser inserts u, generating an ID when u.ID is empty. A taken
// username or ID is store.ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	if strings.TrimSpace(u.Username) == "" {
		return errors.New("store: create user: empty username")
	}
	if u.ID == "" {
		u.ID = newID()
	}
	_, err := s.db.Exec(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		u.ID, u.Username, u.PasswordHash, u.Role, Time(u.CreatedAt), u.SIPHA1MD5, u.SIPHA1SHA256, u.Team)
	return wrap(err, "store: create user %q", u.Username)
}

// SetUserTeam puts the user in team ("" for none); store.ErrNotFound for
// an unknown username.
func (s *Store) SetUserTeam(ctx context.Context, username, team string) error {
	n, err := s.db.Exec(ctx, `UPDATE users SET team = $2 WHERE username = $1`, username, team)
	return notFound(n, err, "store: set team of %q", username)
}

// UserByName returns the user called username.
func (s *Store) UserByName(ctx context.Context, username string) (store.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, qUserByName, username))
	return u, wrap(err, "store: user %q", username)
}

// UserByID returns the user with the given ID.
func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, qUserByID, id))
	return u, wrap(err, "store: user id %q", id)
}

// ListUsers returns all users by username.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.db.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY username`)
	if err != nil {
		return nil, wrap(err, "store: list users")
	}
	users, err := collect(rows, scanUser)
	return users, wrap(err, "store: list users")
}

// CountUsers returns how many users exist.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, wrap(err, "store: count users")
}

// collect reads every row with scan and closes rows.
func collect[T any](rows Rows, scan func(Row) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ---- sessions ----

// CreateSession stores s and drops the user's expired sessions, so the table
// does not grow without bound. A zero ExpiresAt never expires.
func (s *Store) CreateSession(ctx context.Context, sess store.Session) error {
	if sess.TokenHash == "" || sess.UserID == "" {
		return errors.New("store: create session: empty token hash or user id")
	}
	return wrap(s.db.InTx(ctx, func(tx DB) error {
		if _, err := tx.Exec(ctx, qDeleteExpiredSessions,
			sess.UserID, Time(time.Now())); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5)`,
			sess.TokenHash, sess.UserID, Time(sess.ExpiresAt), Time(sess.CreatedAt), Time(sess.LastSeenAt))
		return err
	}), "store: create session for user %q", sess.UserID)
}

// SessionByTokenHash returns the unexpired session with the token hash.
func (s *Store) SessionByTokenHash(ctx context.Context, tokenHash string) (store.Session, error) {
	var sess store.Session
	err := s.db.QueryRow(ctx, qSession, tokenHash, Time(time.Now())).
		Scan(&sess.TokenHash, &sess.UserID, NullTime{&sess.ExpiresAt}, NullTime{&sess.CreatedAt}, NullTime{&sess.LastSeenAt})
	return sess, wrap(err, "store: session")
}

// DeleteSession removes the session; removing an absent one is not an error,
// so logging out twice is harmless.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
	return wrap(err, "store: delete session")
}

// ---- agents ----

const agentCols = `username, skills, max_calls, state, state_since`

func scanAgent(r Row) (store.Agent, error) {
	var a store.Agent
	err := r.Scan(&a.Username, jsonCol{&a.Skills}, &a.MaxCalls, &a.State, NullTime{&a.StateSince})
	return a, err
}

// UpsertAgent creates or replaces the agent a.Username.
func (s *Store) UpsertAgent(ctx context.Context, a store.Agent) error {
	if a.Username == "" {
		return errors.New("store: upsert agent: empty username")
	}
	skills, err := encodeJSON(a.Skills)
	if err != nil {
		return fmt.Errorf("store: upsert agent %q: %w", a.Username, err)
	}
	_, err = s.db.Exec(ctx, `INSERT INTO agents (`+agentCols+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (username) DO UPDATE SET skills = EXCLUDED.skills, max_calls = EXCLUDED.max_calls,
		state = EXCLUDED.state, state_since = EXCLUDED.state_since`,
		a.Username, skills, a.MaxCalls, a.State, Time(a.StateSince))
	return wrap(err, "store: upsert agent %q", a.Username)
}

// Agent returns the agent called username.
func (s *Store) Agent(ctx context.Context, username string) (store.Agent, error) {
	a, err := scanAgent(s.db.QueryRow(ctx, qAgent, username))
	return a, wrap(err, "store: agent %q", username)
}

// ListAgents returns all agents by username.
func (s *Store) ListAgents(ctx context.Context) ([]store.Agent, error) {
	rows, err := s.db.Query(ctx, `SELECT `+agentCols+` FROM agents ORDER BY username`)
	if err != nil {
		return nil, wrap(err, "store: list agents")
	}
	as, err := collect(rows, scanAgent)
	return as, wrap(err, "store: list agents")
}

// LogAgentState appends c to the agent state log.
func (s *Store) LogAgentState(ctx context.Context, c store.AgentStateChange) error {
	if c.Username == "" {
		return errors.New("store: log agent state: empty username")
	}
	_, err := s.db.Exec(ctx, `INSERT INTO agent_state_log (username, state, reason, at) VALUES ($1, $2, $3, $4)`,
		c.Username, c.State, c.Reason, Time(c.At))
	return wrap(err, "store: log agent state %q", c.Username)
}

// AgentStateLog returns up to limit (DefaultLimit when ≤ 0) entries for
// username, newest first.
func (s *Store) AgentStateLog(ctx context.Context, username string, limit int) ([]store.AgentStateChange, error) {
	rows, err := s.db.Query(ctx, qAgentStateLog(s.d), username, limitOr(limit))
	if err != nil {
		return nil, wrap(err, "store: agent state log %q", username)
	}
	log, err := collect(rows, func(r Row) (store.AgentStateChange, error) {
		var c store.AgentStateChange
		err := r.Scan(&c.Username, &c.State, &c.Reason, NullTime{&c.At})
		return c, err
	})
	return log, wrap(err, "store: agent state log %q", username)
}

// ---- queues ----

// UpsertQueue creates or replaces the queue q.Name.
func (s *Store) UpsertQueue(ctx context.Context, q store.Queue) error {
	if q.Name == "" {
		return errors.New("store: upsert queue: empty name")
	}
	_, err := s.db.Exec(ctx, `INSERT INTO queues (name, skill) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET skill = EXCLUDED.skill`, q.Name, q.Skill)
	return wrap(err, "store: upsert queue %q", q.Name)
}

// ListQueues returns all queues by name.
func (s *Store) ListQueues(ctx context.Context) ([]store.Queue, error) {
	rows, err := s.db.Query(ctx, `SELECT name, skill FROM queues ORDER BY name`)
	if err != nil {
		return nil, wrap(err, "store: list queues")
	}
	qs, err := collect(rows, func(r Row) (store.Queue, error) {
		var q store.Queue
		err := r.Scan(&q.Name, &q.Skill)
		return q, err
	})
	return qs, wrap(err, "store: list queues")
}

// ---- calls ----

const callCols = `id, from_uri, to_uri, started_at, answered_at, ended_at, intent, queue, agent, recording_path, disposition, quality, ivr_outcome, recording_pauses`

func scanCall(r Row) (store.Call, error) {
	var c store.Call
	err := r.Scan(&c.ID, &c.From, &c.To, NullTime{&c.StartedAt}, NullTime{&c.AnsweredAt}, NullTime{&c.EndedAt},
		&c.Intent, &c.Queue, &c.Agent, &c.RecordingPath, &c.Disposition, jsonCol{&c.Quality}, &c.IVROutcome,
		jsonCol{&c.RecordingPauses})
	return c, err
}

// pausesArg is the recording_pauses column's value: NULL when none.
func pausesArg(p []store.RecordingPause) (any, error) {
	if len(p) == 0 {
		return nil, nil
	}
	return encodeJSON(p)
}

// qualityArg is the quality column's value: NULL when unmeasured.
func qualityArg(q map[string]store.MediaQuality) (any, error) {
	if q == nil {
		return nil, nil
	}
	return encodeJSON(q)
}

// CreateCall inserts c, generating an ID when c.ID is empty; a taken ID is
// store.ErrConflict.
func (s *Store) CreateCall(ctx context.Context, c store.Call) error {
	if c.ID == "" {
		c.ID = newID()
	}
	q, err := qualityArg(c.Quality)
	if err != nil {
		return fmt.Errorf("store: create call %q: %w", c.ID, err)
	}
	p, err := pausesArg(c.RecordingPauses)
	if err != nil {
		return fmt.Errorf("store: create call %q: %w", c.ID, err)
	}
	_, err = s.db.Exec(ctx, `INSERT INTO calls (`+callCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.From, c.To, Time(c.StartedAt), Time(c.AnsweredAt), Time(c.EndedAt),
		c.Intent, c.Queue, c.Agent, c.RecordingPath, c.Disposition, q, c.IVROutcome, p)
	return wrap(err, "store: create call %q", c.ID)
}

// UpdateCall replaces every field of the call c.ID.
func (s *Store) UpdateCall(ctx context.Context, c store.Call) error {
	q, err := qualityArg(c.Quality)
	if err != nil {
		return fmt.Errorf("store: update call %q: %w", c.ID, err)
	}
	p, err := pausesArg(c.RecordingPauses)
	if err != nil {
		return fmt.Errorf("store: update call %q: %w", c.ID, err)
	}
	n, err := s.db.Exec(ctx, `UPDATE calls SET from_uri = $2, to_uri = $3, started_at = $4, answered_at = $5,
		ended_at = $6, intent = $7, queue = $8, agent = $9, recording_path = $10, disposition = $11, quality = $12,
		ivr_outcome = $13, recording_pauses = $14 WHERE id = $1`,
		c.ID, c.From, c.To, Time(c.StartedAt), Time(c.AnsweredAt), Time(c.EndedAt),
		c.Intent, c.Queue, c.Agent, c.RecordingPath, c.Disposition, q, c.IVROutcome, p)
	return notFound(n, err, "store: update call %q", c.ID)
}

// Call returns the call with the given ID.
func (s *Store) Call(ctx context.Context, id string) (store.Call, error) {
	c, err := scanCall(s.db.QueryRow(ctx, qCall, id))
	return c, wrap(err, "store: call %q", id)
}

// ListCalls returns up to limit (DefaultLimit when ≤ 0) calls, newest
// StartedAt first; calls without a start time come last.
func (s *Store) ListCalls(ctx context.Context, limit int) ([]store.Call, error) {
	rows, err := s.db.Query(ctx, qListCalls(s.d),
		limitOr(limit))
	if err != nil {
		return nil, wrap(err, "store: list calls")
	}
	cs, err := collect(rows, scanCall)
	return cs, wrap(err, "store: list calls")
}

// CallsByCaller returns up to limit calls from the number from, newest first.
func (s *Store) CallsByCaller(ctx context.Context, from string, limit int) ([]store.Call, error) {
	rows, err := s.db.Query(ctx, qCallsByCaller(s.d), from, limitOr(limit))
	if err != nil {
		return nil, wrap(err, "store: calls of %q", from)
	}
	cs, err := collect(rows, scanCall)
	return cs, wrap(err, "store: calls of %q", from)
}

// TicketsByCaller returns up to limit tickets of calls from the number
// from, newest call first.
func (s *Store) TicketsByCaller(ctx context.Context, from string, limit int) ([]tickets.Ticket, error) {
	rows, err := s.db.Query(ctx, qTicketsByCaller(s.d), from, limitOr(limit))
	if err != nil {
		return nil, wrap(err, "store: tickets of %q", from)
	}
	ts, err := collect(rows, scanTicket)
	return ts, wrap(err, "store: tickets of %q", from)
}

// ---- IVR analytics ----

// AddIVRVisits stores node visits in one transaction.
func (s *Store) AddIVRVisits(ctx context.Context, vs []store.IVRVisit) error {
	if len(vs) == 0 {
		return nil
	}
	return wrap(s.db.InTx(ctx, func(tx DB) error {
		for _, v := range vs {
			if _, err := tx.Exec(ctx, `INSERT INTO ivr_visits (call_id, flow, node, kind, entered_at, left_at, exit_to)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, v.CallID, v.Flow, v.Node, v.Kind, Time(v.EnteredAt), Time(v.LeftAt), v.ExitTo); err != nil {
				return err
			}
		}
		return nil
	}), "store: add ivr visits")
}

// IVRStats aggregates node visits and call outcomes since the given time.
// The scans are bounded by time through the entered_at and started_at
// indexes.
func (s *Store) IVRStats(ctx context.Context, since time.Time) (store.IVRStats, error) {
	var st store.IVRStats
	rows, err := s.db.Query(ctx, `SELECT flow, node, kind, exit_to, count(*) FROM ivr_visits
		WHERE entered_at >= $1 GROUP BY flow, node, kind, exit_to ORDER BY flow, node, exit_to`, Time(since))
	if err != nil {
		return st, wrap(err, "store: ivr stats")
	}
	byNode := map[[2]string]int{}
	for rows.Next() {
		var flow, node, kind, exit string
		var n int
		if err := rows.Scan(&flow, &node, &kind, &exit, &n); err != nil {
			rows.Close()
			return st, wrap(err, "store: ivr stats")
		}
		i, ok := byNode[[2]string{flow, node}]
		if !ok {
			i = len(st.Nodes)
			byNode[[2]string{flow, node}] = i
			st.Nodes = append(st.Nodes, store.IVRNodeStat{Flow: flow, Node: node, Kind: kind, Exits: map[string]int{}})
		}
		st.Nodes[i].Reached += n
		if exit != "" {
			st.Nodes[i].Left += n
			st.Nodes[i].Exits[exit] += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, wrap(err, "store: ivr stats")
	}
	st.Outcomes = map[string]int{}
	rows, err = s.db.Query(ctx, `SELECT ivr_outcome, count(*) FROM calls WHERE started_at >= $1 GROUP BY ivr_outcome`, Time(since))
	if err != nil {
		return st, wrap(err, "store: ivr outcomes")
	}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			rows.Close()
			return st, wrap(err, "store: ivr outcomes")
		}
		st.Calls += n
		if o != "" {
			st.Outcomes[o] = n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, wrap(err, "store: ivr outcomes")
	}
	err = s.db.QueryRow(ctx, `SELECT count(*) FROM calls c JOIN tickets t ON t.call_id = c.id
		WHERE c.started_at >= $1 AND t.tags`+s.d.TextCast+` LIKE '%"misroute:%'`, Time(since)).Scan(&st.Misroutes)
	return st, wrap(err, "store: misroutes")
}

// Misroutes lists the calls started since then whose ticket carries a
// misroute tag ("misroute:<from>-><to>", web's wrap-up), oldest first,
// with what each caller said before an agent spoke: two queries however
// many calls.
func (s *Store) Misroutes(ctx context.Context, since time.Time, limit int) ([]store.Misroute, error) {
	const misrouted = `FROM tickets t JOIN calls c ON c.id = t.call_id
		WHERE c.started_at >= $1 AND t.tags`
	like := s.d.TextCast + ` LIKE '%"misroute:%'`
	rows, err := s.db.Query(ctx, `SELECT t.id, t.call_id, t.tags, c.started_at `+misrouted+like+
		` ORDER BY c.started_at, t.id LIMIT $2`, Time(since), limit)
	if err != nil {
		return nil, wrap(err, "store: misroutes")
	}
	all, err := collect(rows, func(r Row) (store.Misroute, error) {
		var m store.Misroute
		var tags []string
		if err := r.Scan(&m.TicketID, &m.CallID, jsonCol{&tags}, NullTime{&m.StartedAt}); err != nil {
			return m, err
		}
		for _, tag := range tags {
			if rest, ok := strings.CutPrefix(tag, "misroute:"); ok {
				m.From, m.To, _ = strings.Cut(rest, "->")
			}
		}
		return m, nil
	})
	if err != nil || len(all) == 0 {
		return all, wrap(err, "store: misroutes")
	}
	rows, err = s.db.Query(ctx, `SELECT call_id, speaker, text FROM transcript_segments WHERE call_id IN
		(SELECT t.call_id `+misrouted+like+` ORDER BY c.started_at, t.id LIMIT $2)
		ORDER BY call_id, start_ms, id`, Time(since), limit)
	if err != nil {
		return nil, wrap(err, "store: misroutes' segments")
	}
	said := map[string][]string{}
	agentSpoke := map[string]bool{}
	for rows.Next() {
		var id, speaker, text string
		if err := rows.Scan(&id, &speaker, &text); err != nil {
			rows.Close()
			return nil, wrap(err, "store: misroutes' segments")
		}
		switch {
		case agentSpoke[id]:
		case transcript.Speaker(speaker) == transcript.Agent:
			agentSpoke[id] = true
		case transcript.Speaker(speaker) == transcript.Caller:
			said[id] = append(said[id], strings.Fields(text)...)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "store: misroutes' segments")
	}
	for i := range all {
		all[i].Said = strings.Join(said[all[i].CallID], " ")
	}
	return all, nil
}

// ---- transcript segments ----

// AddSegments appends segs to the call's transcript in one transaction. An
// unknown call is store.ErrNotFound.
func (s *Store) AddSegments(ctx context.Context, callID string, segs []transcript.Segment) error {
	if len(segs) == 0 {
		return nil
	}
	return wrap(s.db.InTx(ctx, func(tx DB) error {
		for start := 0; start < len(segs); start += segmentBatch {
			batch := segs[start:min(start+segmentBatch, len(segs))]
			var q strings.Builder
			q.WriteString(`INSERT INTO transcript_segments (call_id, speaker, start_ms, end_ms, text, confidence, words) VALUES `)
			args := make([]any, 0, 1+6*len(batch))
			args = append(args, callID)
			for i, sg := range batch {
				if i > 0 {
					q.WriteString(", ")
				}
				words, err := encodeJSON(sg.Words)
				if err != nil {
					return err
				}
				n := len(args)
				fmt.Fprintf(&q, "($1, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6)
				args = append(args, string(sg.Speaker), sg.StartMS, sg.EndMS, sg.Text, sg.Confidence, words)
			}
			if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	}), "store: add segments to call %q", callID)
}

// Segments returns the call's transcript in StartMS order (insertion order
// among equal starts).
func (s *Store) Segments(ctx context.Context, callID string) ([]transcript.Segment, error) {
	rows, err := s.db.Query(ctx, qSegments, callID)
	if err != nil {
		return nil, wrap(err, "store: segments of call %q", callID)
	}
	segs, err := collect(rows, func(r Row) (transcript.Segment, error) {
		var sg transcript.Segment
		var speaker string
		err := r.Scan(&speaker, &sg.StartMS, &sg.EndMS, &sg.Text, &sg.Confidence, jsonCol{&sg.Words})
		sg.Speaker = transcript.Speaker(speaker)
		return sg, err
	})
	return segs, wrap(err, "store: segments of call %q", callID)
}

// ---- tickets ----

const ticketCols = `id, call_id, category, priority, subject, summary, entities, sentiment, tags, status, customer, created_at, updated_at, ` +
	`sub_category, sentiment_start, sentiment_end, outcome, follow_ups, assignee, team, customer_id, customer_phone, ` +
	`first_response_due, resolution_due, first_response_at, solved_at, first_response_breached_at, resolution_breached_at`

func scanTicket(r Row) (tickets.Ticket, error) {
	var t tickets.Ticket
	var custID, custPhone string
	err := r.Scan(&t.ID, &t.CallID, &t.Category, &t.Priority, &t.Subject, &t.Summary, jsonCol{&t.Entities},
		&t.Sentiment, jsonCol{&t.Tags}, &t.Status, jsonCol{&t.Customer}, NullTime{&t.CreatedAt}, NullTime{&t.UpdatedAt},
		&t.SubCategory, &t.SentimentStart, &t.SentimentEnd, &t.Outcome, jsonCol{&t.FollowUps}, &t.Assignee, &t.Team,
		&custID, &custPhone, NullTime{&t.FirstResponseDue}, NullTime{&t.ResolutionDue}, NullTime{&t.FirstResponseAt},
		NullTime{&t.SolvedAt}, NullTime{&t.FirstResponseBreachedAt}, NullTime{&t.ResolutionBreachedAt})
	for i := range t.FollowUps {
		if !t.FollowUps[i].Due.IsZero() {
			t.FollowUps[i].Due = t.FollowUps[i].Due.UTC()
		}
	}
	t.Breached = t.SLABreached(time.Now())
	return t, err
}

func ticketArgs(t tickets.Ticket) ([]any, error) {
	ents, err := encodeJSON(t.Entities)
	if err != nil {
		return nil, err
	}
	tags, err := encodeJSON(t.Tags)
	if err != nil {
		return nil, err
	}
	cust, err := encodeJSON(t.Customer)
	if err != nil {
		return nil, err
	}
	fu, err := encodeJSON(t.FollowUps)
	if err != nil {
		return nil, err
	}
	return []any{t.ID, t.CallID, t.Category, t.Priority, t.Subject, t.Summary, ents, t.Sentiment, tags,
		t.Status, cust, Time(t.CreatedAt), Time(t.UpdatedAt),
		t.SubCategory, t.SentimentStart, t.SentimentEnd, t.Outcome, fu, t.Assignee, t.Team,
		t.Customer.ID, t.Customer.Phone, Time(t.FirstResponseDue), Time(t.ResolutionDue), Time(t.FirstResponseAt),
		Time(t.SolvedAt), Time(t.FirstResponseBreachedAt), Time(t.ResolutionBreachedAt)}, nil
}

// placeholders returns "$from, …, $to".
func placeholders(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		if i > from {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", i)
	}
	return b.String()
}

// ticketDoc is the searchable text of a ticket and its notes.
func ticketDoc(t tickets.Ticket, notes []string) string {
	parts := []string{t.Subject, t.Summary, t.Category, t.SubCategory, t.Customer.Phone, t.Customer.AccountNumber,
		t.Assignee, t.Team, strings.Join(t.Tags, " ")}
	for _, k := range sortedKeys(t.Entities) {
		parts = append(parts, t.Entities[k])
	}
	for _, f := range t.FollowUps {
		parts = append(parts, f.Action)
	}
	parts = append(parts, notes...)
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// reindex rewrites the ticket's search document inside tx.
func (s *Store) reindex(ctx context.Context, tx DB, t tickets.Ticket) error {
	if s.d.IndexTicket == nil {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT body FROM ticket_notes WHERE ticket_id = $1 ORDER BY id`, t.ID)
	if err != nil {
		return err
	}
	notes, err := collect(rows, func(r Row) (string, error) {
		var b string
		err := r.Scan(&b)
		return b, err
	})
	if err != nil {
		return err
	}
	return s.d.IndexTicket(ctx, tx, t.ID, ticketDoc(t, notes))
}

func insertEvents(ctx context.Context, tx DB, evs []tickets.Event) error {
	for _, e := range evs {
		if _, err := tx.Exec(ctx, `INSERT INTO ticket_events (ticket_id, at, actor, field, old_value, new_value)
			VALUES ($1, $2, $3, $4, $5, $6)`, e.TicketID, Time(e.At), e.Actor, e.Field, e.Old, e.New); err != nil {
			return err
		}
	}
	return nil
}

// eventTime is when a change to t happened: its UpdatedAt, else now.
func eventTime(t tickets.Ticket) time.Time {
	if !t.UpdatedAt.IsZero() {
		return t.UpdatedAt
	}
	if !t.CreatedAt.IsZero() {
		return t.CreatedAt
	}
	return time.Now()
}

// CreateTicket inserts t, generating an ID when t.ID is empty; a taken ID
// is store.ErrConflict. It indexes the ticket for search and starts its
// audit trail with a "created" event by tickets.ActorFrom(ctx).
func (s *Store) CreateTicket(ctx context.Context, t tickets.Ticket) error {
	if t.ID == "" {
		t.ID = newID()
	}
	args, err := ticketArgs(t)
	if err != nil {
		return fmt.Errorf("store: create ticket %q: %w", t.ID, err)
	}
	return wrap(s.db.InTx(ctx, func(tx DB) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tickets (`+ticketCols+`) VALUES (`+placeholders(1, len(args))+`)`, args...); err != nil {
			return err
		}
		ev := tickets.Event{TicketID: t.ID, At: eventTime(t), Actor: tickets.ActorFrom(ctx), Field: "created", New: t.Status}
		if err := insertEvents(ctx, tx, []tickets.Event{ev}); err != nil {
			return err
		}
		return s.reindex(ctx, tx, t)
	}), "store: create ticket %q", t.ID)
}

// UpdateTicket replaces every field of the ticket t.ID; an absent ticket is
// store.ErrNotFound. In the same transaction it runs tickets.Lifecycle
// (first response, solved time) for tickets.ActorFrom(ctx), records every
// changed field in the audit trail and reindexes the ticket for search.
func (s *Store) UpdateTicket(ctx context.Context, t tickets.Ticket) error {
	return wrap(s.db.InTx(ctx, func(tx DB) error {
		old, err := scanTicket(tx.QueryRow(ctx, qTicket+s.d.ForUpdate, t.ID))
		if err != nil {
			return err
		}
		actor, at := tickets.ActorFrom(ctx), eventTime(t)
		tickets.Lifecycle(old, &t, actor, at)
		args, err := ticketArgs(t)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tickets SET (`+ticketCols+`) = (`+placeholders(1, len(args))+`) WHERE id = $1`, args...); err != nil {
			return err
		}
		if err := insertEvents(ctx, tx, tickets.Diff(old, t, actor, at)); err != nil {
			return err
		}
		return s.reindex(ctx, tx, t)
	}), "store: update ticket %q", t.ID)
}

// Ticket returns the ticket with the given ID.
func (s *Store) Ticket(ctx context.Context, id string) (tickets.Ticket, error) {
	t, err := scanTicket(s.db.QueryRow(ctx, qTicket, id))
	return t, wrap(err, "store: ticket %q", id)
}

// TicketsByCall returns the call's tickets, oldest first: those written
// from it and those it was linked to as a repeat contact.
func (s *Store) TicketsByCall(ctx context.Context, callID string) ([]tickets.Ticket, error) {
	rows, err := s.db.Query(ctx, qTicketsByCall, callID)
	if err != nil {
		return nil, wrap(err, "store: tickets of call %q", callID)
	}
	ts, err := collect(rows, scanTicket)
	if err != nil {
		return nil, wrap(err, "store: tickets of call %q", callID)
	}
	rows, err = s.db.Query(ctx, qLinkedTickets, callID, tickets.FieldLinkedCall)
	if err != nil {
		return nil, wrap(err, "store: tickets linked to call %q", callID)
	}
	linked, err := collect(rows, scanTicket)
	if err != nil {
		return nil, wrap(err, "store: tickets linked to call %q", callID)
	}
	for _, l := range linked {
		if !slices.ContainsFunc(ts, func(t tickets.Ticket) bool { return t.ID == l.ID }) {
			ts = append(ts, l)
		}
	}
	sort.SliceStable(ts, func(i, j int) bool {
		if !ts[i].CreatedAt.Equal(ts[j].CreatedAt) {
			return ts[i].CreatedAt.Before(ts[j].CreatedAt)
		}
		return ts[i].ID < ts[j].ID
	})
	return ts, nil
}

// ListTickets returns the tickets f selects, newest first.
func (s *Store) ListTickets(ctx context.Context, f tickets.Filter) ([]tickets.Ticket, error) {
	return s.listTickets(ctx, "", f)
}

// ListTicketsOf returns owner's tickets among those f selects, newest
// first: assigned to owner, written from a call owner answered, or linked
// to such a call as a repeat contact.
func (s *Store) ListTicketsOf(ctx context.Context, owner string, f tickets.Filter) ([]tickets.Ticket, error) {
	if owner == "" {
		return []tickets.Ticket{}, nil
	}
	return s.listTickets(ctx, owner, f)
}

func (s *Store) listTickets(ctx context.Context, owner string, f tickets.Filter) ([]tickets.Ticket, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if owner != "" {
		o := arg(owner)
		where = append(where, "(assignee = "+o+" OR call_id IN (SELECT id FROM calls WHERE agent = "+o+
			") OR id IN (SELECT e.ticket_id FROM ticket_events e JOIN calls c ON c.id = e.new_value WHERE e.field = "+
			arg(tickets.FieldLinkedCall)+" AND c.agent = "+o+"))")
	}
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = "+arg(v))
		}
	}
	eq("status", f.Status)
	eq("category", f.Category)
	eq("priority", f.Priority)
	eq("assignee", f.Assignee)
	eq("team", f.Team)
	if f.Customer != "" {
		p := arg(f.Customer)
		where = append(where, "(customer_id = "+p+" OR customer_phone = "+p+")")
	}
	if !f.From.IsZero() {
		where = append(where, "created_at >= "+arg(Time(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, "created_at < "+arg(Time(f.To)))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		mq := q
		if s.d.FTSQuery != nil {
			mq = s.d.FTSQuery(q)
		}
		if mq == "" {
			return []tickets.Ticket{}, nil
		}
		where = append(where, fmt.Sprintf(s.d.FTSMatch, arg(mq)))
	}
	if f.Breached {
		at := f.BreachedAt
		if at.IsZero() {
			at = time.Now()
		}
		p := arg(Time(at))
		where = append(where, "((first_response_due < "+p+" AND first_response_at IS NULL) OR (resolution_due < "+p+
			" AND solved_at IS NULL) OR first_response_at > first_response_due OR solved_at > resolution_due)")
	}
	q := `SELECT ` + ticketCols + ` FROM tickets`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at DESC` + s.d.NullsLast + `, id DESC LIMIT ` + arg(limitOr(f.Limit)) + ` OFFSET ` + arg(max(f.Offset, 0))
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap(err, "store: list tickets")
	}
	ts, err := collect(rows, scanTicket)
	if ts == nil && err == nil {
		ts = []tickets.Ticket{}
	}
	return ts, wrap(err, "store: list tickets")
}

// OpenTicket returns the customer's newest ticket in category created at
// or after since that is not solved or closed; store.ErrNotFound when
// there is none. Repeat contacts are linked to it.
func (s *Store) OpenTicket(ctx context.Context, customerID, category string, since time.Time) (tickets.Ticket, error) {
	if customerID == "" {
		return tickets.Ticket{}, fmt.Errorf("store: open ticket: empty customer: %w", store.ErrNotFound)
	}
	t, err := scanTicket(s.db.QueryRow(ctx, qOpenTicket(s.d), customerID, category, Time(since),
		tickets.StatusSolved, tickets.StatusClosed))
	return t, wrap(err, "store: open %s ticket of %q", category, customerID)
}

// AddTicketNote appends a note (ID and CreatedAt set when zero), records
// a "note" event by its author and reindexes the ticket. An unknown ticket
// is store.ErrNotFound. It returns the note's ID.
func (s *Store) AddTicketNote(ctx context.Context, n tickets.Note) (int64, error) {
	if strings.TrimSpace(n.Body) == "" {
		return 0, errors.New("store: add ticket note: empty body")
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = time.Now()
	}
	var id int64
	err := s.db.InTx(ctx, func(tx DB) error {
		t, err := scanTicket(tx.QueryRow(ctx, qTicket+s.d.ForUpdate, n.TicketID))
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO ticket_notes (ticket_id, author, body, internal, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, n.TicketID, n.Author, n.Body, n.Internal, Time(n.CreatedAt)).Scan(&id); err != nil {
			return err
		}
		kind := "public"
		if n.Internal {
			kind = "internal"
		}
		ev := tickets.Event{TicketID: n.TicketID, At: n.CreatedAt, Actor: n.Author, Field: "note", New: kind}
		if err := insertEvents(ctx, tx, []tickets.Event{ev}); err != nil {
			return err
		}
		return s.reindex(ctx, tx, t)
	})
	return id, wrap(err, "store: add note to ticket %q", n.TicketID)
}

// TicketNotes returns the ticket's notes, oldest first.
func (s *Store) TicketNotes(ctx context.Context, ticketID string) ([]tickets.Note, error) {
	rows, err := s.db.Query(ctx, `SELECT id, ticket_id, author, body, internal, created_at FROM ticket_notes
		WHERE ticket_id = $1 ORDER BY id`, ticketID)
	if err != nil {
		return nil, wrap(err, "store: notes of ticket %q", ticketID)
	}
	ns, err := collect(rows, func(r Row) (tickets.Note, error) {
		var n tickets.Note
		err := r.Scan(&n.ID, &n.TicketID, &n.Author, &n.Body, &n.Internal, NullTime{&n.CreatedAt})
		return n, err
	})
	return ns, wrap(err, "store: notes of ticket %q", ticketID)
}

// AddTicketEvents appends events to tickets' audit trails (for changes
// made outside UpdateTicket, such as an SLA breach).
func (s *Store) AddTicketEvents(ctx context.Context, evs []tickets.Event) error {
	if len(evs) == 0 {
		return nil
	}
	return wrap(s.db.InTx(ctx, func(tx DB) error { return insertEvents(ctx, tx, evs) }), "store: add ticket events")
}

// TicketEvents returns the ticket's audit trail, oldest first.
func (s *Store) TicketEvents(ctx context.Context, ticketID string) ([]tickets.Event, error) {
	rows, err := s.db.Query(ctx, qTicketEvents, ticketID)
	if err != nil {
		return nil, wrap(err, "store: events of ticket %q", ticketID)
	}
	es, err := collect(rows, func(r Row) (tickets.Event, error) {
		var e tickets.Event
		err := r.Scan(&e.ID, &e.TicketID, NullTime{&e.At}, &e.Actor, &e.Field, &e.Old, &e.New)
		return e, err
	})
	return es, wrap(err, "store: events of ticket %q", ticketID)
}

func qOpenTicket(d Dialect) string {
	return `SELECT ` + ticketCols + ` FROM tickets WHERE customer_id = $1 AND category = $2 AND created_at >= $3
		AND status <> $4 AND status <> $5 ORDER BY created_at DESC` + d.NullsLast + ` LIMIT 1`
}

// ---- QA evaluations ----

const evalCols = `id, call_id, scorecard, score, max_score, items, created_at, auto_failed, method, ack_status, ack_by, ack_comment, ack_at`

func scanEval(r Row) (qa.Evaluation, error) {
	var e qa.Evaluation
	var autoFailed int
	var ack qa.Ack
	err := r.Scan(&e.ID, &e.CallID, &e.Scorecard, &e.Score, &e.MaxScore, jsonCol{&e.Items}, NullTime{&e.CreatedAt},
		&autoFailed, &e.Method, &ack.Status, &ack.By, &ack.Comment, NullTime{&ack.At})
	e.AutoFailed = autoFailed != 0
	if ack.Status != "" {
		e.Ack = &ack
	}
	return e, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateEvaluation inserts e, generating an ID when e.ID is empty; a taken
// ID is store.ErrConflict.
func (s *Store) CreateEvaluation(ctx context.Context, e qa.Evaluation) error {
	if e.ID == "" {
		e.ID = newID()
	}
	items, err := encodeJSON(e.Items)
	if err != nil {
		return fmt.Errorf("store: create evaluation %q: %w", e.ID, err)
	}
	var ack qa.Ack
	if e.Ack != nil {
		ack = *e.Ack
	}
	_, err = s.db.Exec(ctx, `INSERT INTO qa_evaluations (`+evalCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		e.ID, e.CallID, e.Scorecard, e.Score, e.MaxScore, items, Time(e.CreatedAt), boolInt(e.AutoFailed), e.Method,
		ack.Status, ack.By, ack.Comment, Time(ack.At))
	return wrap(err, "store: create evaluation %q", e.ID)
}

// Evaluation returns the evaluation with the given ID.
func (s *Store) Evaluation(ctx context.Context, id string) (qa.Evaluation, error) {
	e, err := scanEval(s.db.QueryRow(ctx, qEvaluation, id))
	return e, wrap(err, "store: evaluation %q", id)
}

// EvaluationsByCall returns the call's evaluations, oldest first.
func (s *Store) EvaluationsByCall(ctx context.Context, callID string) ([]qa.Evaluation, error) {
	rows, err := s.db.Query(ctx, qEvaluationsByCall, callID)
	if err != nil {
		return nil, wrap(err, "store: evaluations of call %q", callID)
	}
	es, err := collect(rows, scanEval)
	return es, wrap(err, "store: evaluations of call %q", callID)
}

// Queries on hot paths, named so tests can check their plans.
const (
	qUserByName            = `SELECT ` + userCols + ` FROM users WHERE username = $1`
	qUserByID              = `SELECT ` + userCols + ` FROM users WHERE id = $1`
	qDeleteExpiredSessions = `DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2`
	qSession               = `SELECT token_hash, user_id, expires_at, created_at, last_seen_at FROM sessions WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2)`
	qAgent                 = `SELECT ` + agentCols + ` FROM agents WHERE username = $1`
	qCall                  = `SELECT ` + callCols + ` FROM calls WHERE id = $1`
	qSegments              = `SELECT speaker, start_ms, end_ms, text, confidence, words FROM transcript_segments WHERE call_id = $1 ORDER BY start_ms, id`
	qTicket                = `SELECT ` + ticketCols + ` FROM tickets WHERE id = $1`
	qTicketsByCall         = `SELECT ` + ticketCols + ` FROM tickets WHERE call_id = $1 ORDER BY created_at, id`
	qLinkedTickets         = `SELECT ` + ticketCols + ` FROM tickets WHERE id IN (SELECT ticket_id FROM ticket_events WHERE field = $2 AND new_value = $1)`
	qTicketEvents          = `SELECT id, ticket_id, at, actor, field, old_value, new_value FROM ticket_events WHERE ticket_id = $1 ORDER BY id`
	qEvaluation            = `SELECT ` + evalCols + ` FROM qa_evaluations WHERE id = $1`
	qEvaluationsByCall     = `SELECT ` + evalCols + ` FROM qa_evaluations WHERE call_id = $1 ORDER BY created_at, id`
)

func qAgentStateLog(d Dialect) string {
	return `SELECT username, state, reason, at FROM agent_state_log WHERE username = $1 ORDER BY at DESC` +
		d.NullsLast + `, id DESC LIMIT $2`
}

func qCallsByCaller(d Dialect) string {
	return `SELECT ` + callCols + ` FROM calls WHERE from_uri = $1 ORDER BY started_at DESC` + d.NullsLast + `, id DESC LIMIT $2`
}

// qTicketsByCaller walks the caller's calls newest first (calls_from) and
// their tickets (tickets_call), so no table is scanned or sorted.
func qTicketsByCaller(d Dialect) string {
	return `SELECT ` + prefixed("t.", ticketCols) + ` FROM calls c JOIN tickets t ON t.call_id = c.id
		WHERE c.from_uri = $1 ORDER BY c.started_at DESC` + d.NullsLast + `, c.id DESC LIMIT $2`
}

// prefixed qualifies every column of a column list with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

func qListCalls(d Dialect) string {
	return `SELECT ` + callCols + ` FROM calls ORDER BY started_at DESC` + d.NullsLast + `, id DESC LIMIT $1`
}

// HotQuery is a query the store runs on a hot path, with sample arguments.
type HotQuery struct {
	Name string
	SQL  string
	Args []any
}

// HotQueries lists the queries that must use an index (no full table scan,
// no sort of the whole table) so that implementations can check their plans.
func HotQueries(d Dialect) []HotQuery {
	now := Time(time.Now())
	return []HotQuery{
		{"UserByName", qUserByName, []any{"alice"}},
		{"APITokenByHash", qAPITokenByHash, []any{"hash"}},
		{"ListCallsOf", qListCallsOf(d), []any{"zoe", 50}},
		{"UserByID", qUserByID, []any{"u1"}},
		{"Session", qSession, []any{"hash", now}},
		{"DeleteExpiredSessions", qDeleteExpiredSessions, []any{"u1", now}},
		{"Agent", qAgent, []any{"zoe"}},
		{"AgentStateLog", qAgentStateLog(d), []any{"zoe", 10}},
		{"Call", qCall, []any{"c1"}},
		{"ListCalls", qListCalls(d), []any{50}},
		{"CallsByCaller", qCallsByCaller(d), []any{"+15550100", 10}},
		{"TicketsByCaller", qTicketsByCaller(d), []any{"+15550100", 10}},
		{"Segments", qSegments, []any{"c1"}},
		{"Ticket", qTicket, []any{"t1"}},
		{"TicketsByCall", qTicketsByCall, []any{"c1"}},
		{"TicketEvents", qTicketEvents, []any{"t1"}},
		{"LinkedTickets", qLinkedTickets, []any{"c1", tickets.FieldLinkedCall}},
		{"OpenTicket", qOpenTicket(d), []any{"tel:+15550100", "billing", now, "solved", "closed"}},
		{"Evaluation", qEvaluation, []any{"e1"}},
		{"EvaluationsByCall", qEvaluationsByCall, []any{"c1"}},
		{"FirstResponseDue", qFirstResponseDue, []any{now, tickets.StatusSolved, tickets.StatusClosed, 100}},
		{"ResolutionDue", qResolutionDue, []any{now, tickets.StatusSolved, tickets.StatusClosed, 100}},
		{"PendingCallbacks", qPendingCallbacks, []any{1000}},
	}
}
