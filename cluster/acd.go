package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/routing"
)

// Channels of LISTEN/NOTIFY.
const (
	// chanOps carries nodes' changes to the dispatcher.
	chanOps = "contactd_acd_ops"
	// chanEvents carries the dispatcher's decisions (offers, revocations,
	// agent states) and agents' call events to every node.
	chanEvents = "contactd_acd_events"
)

// dispatcherLockKey is the session advisory lock whose holder dispatches
// ("contactd ACD" as bytes, truncated to 63 bits).
const dispatcherLockKey = 0x636f6e7461637441

// ACDOptions tune the cluster ACD.
type ACDOptions struct {
	// Engine builds a fresh router with the queues configured (the same
	// settings on every node). The dispatcher runs one; the node keeps one
	// it never routes with, for queue settings (HasQueue, Queues).
	Engine func(n routing.Notifier, onState func(routing.StateChange)) *routing.Router
	// OnStateChange receives the dispatcher's agent transitions (the state
	// log); may be nil.
	OnStateChange func(routing.StateChange)
	// OfferTimeout is the routers' offer timeout; stale offers past it
	// (and a grace) that the dispatcher does not know are cleared.
	OfferTimeout time.Duration
	// Resync is how often the dispatcher checks its router against the
	// tables (default 5 s).
	Resync time.Duration
	// Tick is how often a node tries to become the dispatcher and the
	// dispatcher looks for dead nodes (default 1 s).
	Tick time.Duration
	// LockURL is the database URL for the listening connection (default:
	// the node's pool's).
	LockURL string
}

// ACD is the cluster's ACD as seen from one node: the same operations as
// routing.Router, backed by the acd_agents and acd_queue tables. Every
// node writes its changes there and notifies; the dispatcher, elected
// with a session advisory lock, runs a routing.Router fed from the tables
// and commits each offer with a conditional update. See deploy/cluster.md.
type ACD struct {
	node *Node
	pool *pgxpool.Pool
	log  *slog.Logger
	opts ACDOptions
	conf *routing.Router // queue settings only

	nmu       sync.Mutex
	all       routing.Notifier // every node: the agents' sockets here
	owner     routing.Notifier // only the node owning the call (desk phones)
	events    call.Events      // the agents' call events, delivered here
	callbacks CallbackRunner   // dials the callbacks this node adopts
	// adoptFailed: callbacks this node could not arm, until when it
	// leaves them to others (the listening goroutine only).
	adoptFailed map[string]time.Time
	engineMu    sync.Mutex
	engine      *routing.Router // non-nil while this node dispatches
	dispatch    atomic.Bool
	takeovers   atomic.Int64
	// splitBrain makes the node dispatch without the lock: tests use it
	// to show that two dispatchers still cannot double-offer.
	splitBrain atomic.Bool
}

// NewACD returns the node's ACD; Run makes it work.
func NewACD(n *Node, opts ACDOptions) (*ACD, error) {
	if opts.Engine == nil {
		return nil, errors.New("cluster: ACD needs an engine factory")
	}
	if opts.Resync <= 0 {
		opts.Resync = 5 * time.Second
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.OfferTimeout <= 0 {
		opts.OfferTimeout = 20 * time.Second
	}
	a := &ACD{node: n, pool: n.pool, log: n.log, opts: opts, conf: opts.Engine(nil, nil)}
	a.conf.Close() // a template: it never routes
	return a, nil
}

// SetNotifier sets who hears the dispatcher's decisions on this node: all
// on every node (it delivers to the sockets it holds), owner only on the
// node that owns the call (desk phones: their registration is there).
func (a *ACD) SetNotifier(all, owner routing.Notifier) {
	a.nmu.Lock()
	a.all, a.owner = all, owner
	a.nmu.Unlock()
}

// Dispatching reports whether this node is the dispatcher now: never
// while it is fenced (its listening loop may still be waiting for a query
// to time out on a broken link).
func (a *ACD) Dispatching() bool { return a.dispatch.Load() && a.node.Fence() == "" }

// Takeovers counts how often this node became the dispatcher.
func (a *ACD) Takeovers() int64 { return a.takeovers.Load() }

// op is a change sent to the dispatcher.
type op struct {
	Op        string  `json:"op"`
	Call      string  `json:"call,omitempty"`
	New       string  `json:"new,omitempty"`
	Agent     string  `json:"agent,omitempty"`
	State     string  `json:"state,omitempty"`
	Reason    string  `json:"reason,omitempty"`
	Sentiment float64 `json:"sentiment,omitempty"`
}

func (a *ACD) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// notify sends v on channel; inside a transaction it is delivered at
// commit, and not at all on rollback.
func notify(ctx context.Context, q execer, channel string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, string(b))
	return err
}

// endOffer closes the offer log's open row of agent's offer of callID. Run
// it in the transaction that cleared the offer, while the call's acd_queue
// row is locked (or gone), so its sequence number follows the real order.
func endOffer(ctx context.Context, q execer, callID, agent, outcome string) error {
	_, err := q.Exec(ctx, `UPDATE acd_offer_log SET ended_seq = nextval('acd_offer_seq'), ended_at = clock_timestamp(), outcome = $3
		WHERE call_id = $1 AND agent = $2 AND ended_seq IS NULL`, callID, agent, outcome)
	return err
}

// --- node-side operations (call and web use these) ---

// HasQueue reports whether the queue is configured.
func (a *ACD) HasQueue(name string) bool { return a.conf.HasQueue(name) }

// Enqueue puts the contact on the shared waiting list.
func (a *ACD) Enqueue(c routing.Contact) error {
	if !a.conf.HasQueue(c.Queue) {
		return fmt.Errorf("%w: %q", routing.ErrUnknownQueue, c.Queue)
	}
	ctx, cancel := a.ctx()
	defer cancel()
	if c.Direct {
		v, ok, err := a.agent(ctx, c.PreferredAgent)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %q", routing.ErrUnknownAgent, c.PreferredAgent)
		}
		if v.State == routing.Offline || v.State == routing.Break {
			return fmt.Errorf("%w: %s is %s", routing.ErrAgentAway, v.Username, v.State)
		}
	}
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return a.tx(ctx, func(tx pgx.Tx) error {
		t, err := tx.Exec(ctx, `INSERT INTO acd_queue (call_id, node, queue, contact) VALUES ($1, $2, $3, $4)
			ON CONFLICT (call_id) DO NOTHING`, c.CallID, a.node.ID(), c.Queue, body)
		if err != nil {
			return fmt.Errorf("cluster: enqueue: %w", err)
		}
		if t.RowsAffected() == 0 {
			return fmt.Errorf("routing: call %s is already queued", c.CallID)
		}
		return notify(ctx, tx, chanOps, op{Op: "enqueue", Call: c.CallID})
	})
}

// Cancel takes a waiting contact off the list (the caller hung up).
func (a *ACD) Cancel(callID string) {
	ctx, cancel := a.ctx()
	defer cancel()
	err := a.tx(ctx, func(tx pgx.Tx) error {
		var offered *string
		err := tx.QueryRow(ctx, `DELETE FROM acd_queue WHERE call_id = $1 RETURNING offered_to`, callID).Scan(&offered)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if offered != nil {
			if _, err := tx.Exec(ctx, `UPDATE acd_agents SET offering = NULL WHERE username = $1 AND offering = $2`, *offered, callID); err != nil {
				return err
			}
			if err := endOffer(ctx, tx, callID, *offered, "cancelled"); err != nil {
				return err
			}
		}
		return notify(ctx, tx, chanOps, op{Op: "cancel", Call: callID})
	})
	if err != nil {
		a.log.Error("cluster: cancel queued call", "call_id", callID, "err", err)
	}
}

// Accept is the agent taking its offer: the row leaves the waiting list
// only if it is still offered to this agent.
func (a *ACD) Accept(username, callID string) error {
	ctx, cancel := a.ctx()
	defer cancel()
	return a.tx(ctx, func(tx pgx.Tx) error {
		t, err := tx.Exec(ctx, `DELETE FROM acd_queue WHERE call_id = $1 AND offered_to = $2`, callID, username)
		if err != nil {
			return err
		}
		if t.RowsAffected() == 0 {
			return routing.ErrNoOffer
		}
		if err := endOffer(ctx, tx, callID, username, "answered"); err != nil {
			return err
		}
		t, err = tx.Exec(ctx, `UPDATE acd_agents SET offering = NULL, calls = calls + 1, state = 'busy', reason = '', since = now()
			WHERE username = $1`, username)
		if err != nil {
			return err
		}
		if t.RowsAffected() == 0 {
			return fmt.Errorf("%w: %q", routing.ErrUnknownAgent, username)
		}
		return notify(ctx, tx, chanOps, op{Op: "accept", Agent: username, Call: callID})
	})
}

// Reject is the agent declining its offer.
func (a *ACD) Reject(username, callID string) error {
	ctx, cancel := a.ctx()
	defer cancel()
	return a.tx(ctx, func(tx pgx.Tx) error {
		t, err := tx.Exec(ctx, `UPDATE acd_queue SET offered_to = NULL, offered_at = NULL WHERE call_id = $1 AND offered_to = $2`, callID, username)
		if err != nil {
			return err
		}
		if t.RowsAffected() == 0 {
			return routing.ErrNoOffer
		}
		if err := endOffer(ctx, tx, callID, username, "rejected"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE acd_agents SET offering = NULL WHERE username = $1 AND offering = $2`, username, callID); err != nil {
			return err
		}
		return notify(ctx, tx, chanOps, op{Op: "reject", Agent: username, Call: callID})
	})
}

// Claim makes an available agent busy with a call not routed by the ACD
// (an outbound call).
func (a *ACD) Claim(username string) error {
	ctx, cancel := a.ctx()
	defer cancel()
	return a.tx(ctx, func(tx pgx.Tx) error {
		t, err := tx.Exec(ctx, `UPDATE acd_agents SET calls = calls + 1, state = 'busy', reason = 'outbound call', since = now()
			WHERE username = $1 AND state = 'available' AND offering IS NULL AND calls < max_calls`, username)
		if err != nil {
			return err
		}
		if t.RowsAffected() == 0 {
			v, ok, err := a.agentTx(ctx, tx, username)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: %q", routing.ErrUnknownAgent, username)
			}
			return fmt.Errorf("%w: %s is %s", routing.ErrAgentAway, username, v.State)
		}
		return notify(ctx, tx, chanOps, op{Op: "claim", Agent: username})
	})
}

// Release ends the agent's part in a call not known by its ID.
func (a *ACD) Release(username string) { a.ReleaseCall(username, "") }

// ReleaseCall ends the agent's part in call callID. When the survivors
// have already ended that call as node lost and freed its agent (the node
// holding it was cut off long enough to be declared dead, then came back
// and ended the call itself), the agent is not freed a second time: that
// would take a count off another call the agent has taken since.
func (a *ACD) ReleaseCall(username, callID string) {
	ctx, cancel := a.ctx()
	defer cancel()
	err := a.tx(ctx, func(tx pgx.Tx) error {
		t, err := tx.Exec(ctx, `UPDATE acd_agents SET calls = greatest(calls - 1, 0) WHERE username = $1
			AND NOT EXISTS (SELECT 1 FROM calls WHERE id = $2 AND agent = $1 AND disposition = $3)`,
			username, callID, DispositionNodeLost)
		if err != nil || t.RowsAffected() == 0 {
			return err
		}
		return notify(ctx, tx, chanOps, op{Op: "release", Agent: username})
	})
	if err != nil {
		a.log.Error("cluster: release agent", "agent", username, "call", callID, "err", err)
	}
}

// SetState is the agent's own presence change.
func (a *ACD) SetState(username string, s routing.State, reason string) error {
	if s != routing.Available && s != routing.Break && s != routing.Offline {
		return routing.ErrBadState
	}
	ctx, cancel := a.ctx()
	defer cancel()
	return a.tx(ctx, func(tx pgx.Tx) error {
		var state string
		var calls int
		err := tx.QueryRow(ctx, `SELECT state, calls FROM acd_agents WHERE username = $1 FOR UPDATE`, username).Scan(&state, &calls)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %q", routing.ErrUnknownAgent, username)
		}
		if err != nil {
			return err
		}
		if calls > 0 && s != routing.Available && routing.State(state) == routing.Busy {
			return routing.ErrInCall
		}
		if calls > 0 && routing.State(state) == routing.Busy {
			// Available while busy: the router keeps it busy until released.
			return notify(ctx, tx, chanOps, op{Op: "state", Agent: username, State: string(s), Reason: reason})
		}
		if _, err := tx.Exec(ctx, `UPDATE acd_agents SET state = $2, reason = $3, since = now(), node = $4 WHERE username = $1`,
			username, string(s), reason, a.node.ID()); err != nil {
			return err
		}
		return notify(ctx, tx, chanOps, op{Op: "state", Agent: username, State: string(s), Reason: reason})
	})
}

// SetAgent adds or updates an agent's skills and capacity; new agents
// start offline, existing ones keep their state (another node may be
// restarting, not the agent).
func (a *ACD) SetAgent(username string, skills map[string]int, maxCalls int) {
	if maxCalls < 1 {
		maxCalls = 1
	}
	if skills == nil {
		skills = map[string]int{}
	}
	body, _ := json.Marshal(skills)
	ctx, cancel := a.ctx()
	defer cancel()
	err := a.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO acd_agents (username, skills, max_calls) VALUES ($1, $2, $3)
			ON CONFLICT (username) DO UPDATE SET skills = $2, max_calls = $3`, username, body, maxCalls); err != nil {
			return err
		}
		return notify(ctx, tx, chanOps, op{Op: "agent", Agent: username})
	})
	if err != nil {
		a.log.Error("cluster: set agent", "agent", username, "err", err)
	}
}

// SetSentiment passes a waiting caller's mood to the dispatcher.
func (a *ACD) SetSentiment(callID string, sentiment float64) error {
	ctx, cancel := a.ctx()
	defer cancel()
	return notify(ctx, a.pool, chanOps, op{Op: "sentiment", Call: callID, Sentiment: sentiment})
}

// Handoff gives a waiting contact a new call id (a callback takes the
// caller's place); an offer in progress is withdrawn.
func (a *ACD) Handoff(oldID, newID string) (routing.Contact, error) {
	ctx, cancel := a.ctx()
	defer cancel()
	var c routing.Contact
	err := a.tx(ctx, func(tx pgx.Tx) error {
		var raw []byte
		var offered *string
		var since time.Time
		err := tx.QueryRow(ctx, `SELECT contact, offered_to, enqueued_at FROM acd_queue WHERE call_id = $1 FOR UPDATE`, oldID).Scan(&raw, &offered, &since)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", routing.ErrUnknownCall, oldID)
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		c.CallID = newID
		if c.Since.IsZero() {
			c.Since = since // the caller's place in line goes with the callback
		}
		body, _ := json.Marshal(c)
		if _, err := tx.Exec(ctx, `UPDATE acd_queue SET call_id = $2, contact = $3, offered_to = NULL, offered_at = NULL WHERE call_id = $1`,
			oldID, newID, body); err != nil {
			return err
		}
		if offered != nil {
			if _, err := tx.Exec(ctx, `UPDATE acd_agents SET offering = NULL WHERE username = $1 AND offering = $2`, *offered, oldID); err != nil {
				return err
			}
			if err := endOffer(ctx, tx, oldID, *offered, "handoff"); err != nil {
				return err
			}
		}
		return notify(ctx, tx, chanOps, op{Op: "handoff", Call: oldID, New: newID})
	})
	return c, err
}

// Position is the contact's place in its queue (by arrival; the
// dispatcher's score order is not shared). EstimatedWait uses the default
// handle time.
func (a *ACD) Position(callID string) (routing.Position, error) {
	ctx, cancel := a.ctx()
	defer cancel()
	var p routing.Position
	var offered *string
	err := a.pool.QueryRow(ctx, `SELECT q.queue, q.offered_to,
		(SELECT count(*) FROM acd_queue o WHERE o.queue = q.queue AND o.enqueued_at < q.enqueued_at)
		FROM acd_queue q WHERE q.call_id = $1`, callID).Scan(&p.Queue, &offered, &p.Ahead)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("%w: %s", routing.ErrUnknownCall, callID)
	}
	if err != nil {
		return p, err
	}
	skill := ""
	for _, q := range a.conf.Queues() {
		if q.Name == p.Queue {
			skill = q.Skill
		}
	}
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM acd_agents WHERE state NOT IN ('offline', 'break')
		AND coalesce((skills ->> $1)::int, 0) >= 1`, skill).Scan(&p.Agents); err != nil {
		return p, err
	}
	if offered == nil {
		w := time.Duration(p.Ahead+1) * routing.DefaultHandleTime / time.Duration(max(p.Agents, 1))
		p.EstimatedWait = w.Round(time.Second)
	}
	return p, nil
}

// Agent returns one agent as the tables have it.
func (a *ACD) Agent(username string) (routing.AgentView, bool) {
	ctx, cancel := a.ctx()
	defer cancel()
	v, ok, err := a.agent(ctx, username)
	if err != nil {
		a.log.Warn("cluster: read agent", "agent", username, "err", err)
	}
	return v, ok
}

const agentCols = `username, skills, max_calls, state, reason, since, calls, coalesce(offering, '')`

func scanAgent(row pgx.Row) (routing.AgentView, error) {
	var v routing.AgentView
	var skills []byte
	var state string
	if err := row.Scan(&v.Username, &skills, &v.MaxCalls, &state, &v.Reason, &v.Since, &v.Calls, &v.Offering); err != nil {
		return v, err
	}
	v.State = routing.State(state)
	v.Skills = map[string]int{}
	_ = json.Unmarshal(skills, &v.Skills)
	v.TimeInStateMS = time.Since(v.Since).Milliseconds()
	return v, nil
}

func (a *ACD) agent(ctx context.Context, username string) (routing.AgentView, bool, error) {
	v, err := scanAgent(a.pool.QueryRow(ctx, `SELECT `+agentCols+` FROM acd_agents WHERE username = $1`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return v, false, nil
	}
	return v, err == nil, err
}

func (a *ACD) agentTx(ctx context.Context, tx pgx.Tx, username string) (routing.AgentView, bool, error) {
	v, err := scanAgent(tx.QueryRow(ctx, `SELECT `+agentCols+` FROM acd_agents WHERE username = $1`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return v, false, nil
	}
	return v, err == nil, err
}

// Agents returns every agent, by username. The dispatcher's daily
// counters are added when this node is the dispatcher.
func (a *ACD) Agents() []routing.AgentView {
	ctx, cancel := a.ctx()
	defer cancel()
	rows, err := a.pool.Query(ctx, `SELECT `+agentCols+` FROM acd_agents ORDER BY username`)
	if err != nil {
		a.log.Warn("cluster: list agents", "err", err)
		return nil
	}
	defer rows.Close()
	out := []routing.AgentView{}
	for rows.Next() {
		v, err := scanAgent(rows)
		if err != nil {
			a.log.Warn("cluster: list agents", "err", err)
			return out
		}
		out = append(out, v)
	}
	return out
}

// Queues returns the configured queues with their waiting contacts from
// the shared list; the dispatcher's counters when this node dispatches.
func (a *ACD) Queues() []routing.QueueView {
	a.engineMu.Lock()
	e := a.engine
	a.engineMu.Unlock()
	if e != nil {
		return e.Queues()
	}
	qs := a.conf.Queues()
	ctx, cancel := a.ctx()
	defer cancel()
	rows, err := a.pool.Query(ctx, `SELECT queue, call_id, enqueued_at FROM acd_queue ORDER BY enqueued_at, call_id`)
	if err != nil {
		a.log.Warn("cluster: list queues", "err", err)
		return qs
	}
	defer rows.Close()
	idx := map[string]int{}
	for i, q := range qs {
		idx[q.Name] = i
	}
	now := time.Now()
	for rows.Next() {
		var name, id string
		var at time.Time
		if err := rows.Scan(&name, &id, &at); err != nil {
			break
		}
		if i, ok := idx[name]; ok {
			q := &qs[i]
			q.Waiting = append(q.Waiting, id)
			q.WaitingCount++
			q.LongestWaitMS = max(q.LongestWaitMS, now.Sub(at).Milliseconds())
		}
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i].Name < qs[j].Name })
	return qs
}

// tx runs f in a transaction.
func (a *ACD) tx(ctx context.Context, f func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, a.pool, f)
}
