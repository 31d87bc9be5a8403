package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/routing"
)

// event is a dispatcher decision or an agent's call event, for every node.
type event struct {
	Ev    string         `json:"ev"` // offer, revoke, state, publish
	Node  string         `json:"node,omitempty"`
	Agent string         `json:"agent,omitempty"`
	Call  string         `json:"call,omitempty"`
	State string         `json:"state,omitempty"`
	Offer *routing.Offer `json:"offer,omitempty"`
	Event *call.Event    `json:"event,omitempty"`
}

// Run keeps the node's listening connection: it delivers the dispatcher's
// decisions to this node's notifiers, tries every Tick to become the
// dispatcher, and while it is one applies the nodes' changes, looks for
// dead nodes and resyncs. It returns when ctx ends.
//
// A fenced node (Node.Fence: its lease ran out) closes its listening
// connection, which gives up the dispatcher's lock, and waits for its
// lease to be renewed before it listens, and competes for the lock, again.
func (a *ACD) Run(ctx context.Context) {
	for ctx.Err() == nil {
		err := errFenced
		if a.node.Fence() == "" {
			err = a.session(ctx)
		}
		a.stopDispatching()
		if ctx.Err() != nil {
			return
		}
		if !errors.Is(err, errFenced) {
			a.log.Warn("cluster: listening connection lost; reconnecting", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(a.opts.Tick):
		}
	}
}

var errFenced = errors.New("cluster: this node is fenced")

func (a *ACD) session(ctx context.Context) error {
	url := a.opts.LockURL
	if url == "" {
		url = a.pool.Config().ConnConfig.ConnString()
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return errors.New("cluster: invalid database URL")
	}
	// The lock holder's node is found by this name (breakStaleLock).
	cfg.RuntimeParams["application_name"] = lockAppPrefix + a.node.ID()
	// pgx's default context handling for a conn is a read deadline (no
	// cancel request to the server): waiting for a notification with a
	// deadline leaves the connection usable.
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+chanEvents); err != nil {
		return err
	}
	lastResync := time.Now()
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if a.node.Fence() != "" {
			return errFenced // closing conn gives up the lock
		}
		if !a.dispatch.Load() {
			var got bool
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.QueryRow(qctx, `SELECT pg_try_advisory_lock($1)`, int64(dispatcherLockKey)).Scan(&got)
			cancel()
			if err != nil {
				return err
			}
			if !got {
				a.breakStaleLock(ctx)
			}
			if got || a.splitBrain.Load() {
				if _, err := conn.Exec(ctx, "LISTEN "+chanOps); err != nil {
					return err
				}
				tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := a.takeOver(tctx)
				cancel()
				if err != nil {
					return fmt.Errorf("cluster: take over dispatching: %w", err)
				}
				lastResync = time.Now()
			}
		} else {
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := a.reap(wctx); err != nil {
				a.log.Warn("cluster: dead-node check", "err", err)
			}
			cancel()
			wctx, cancel = context.WithTimeout(ctx, 5*time.Second)
			if err := a.adoptCallbacks(wctx); err != nil {
				a.log.Warn("cluster: adopt callbacks", "err", err)
			}
			cancel()
			if time.Since(lastResync) >= a.opts.Resync {
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				if err := a.resync(wctx); err != nil {
					a.log.Warn("cluster: resync", "err", err)
				}
				cancel()
				lastResync = time.Now()
			}
		}
		deadline := time.Now().Add(a.opts.Tick)
		for {
			wctx, cancel := context.WithDeadline(ctx, deadline)
			n, err := conn.WaitForNotification(wctx)
			timedOut := wctx.Err() != nil
			cancel()
			if err != nil {
				if timedOut && ctx.Err() == nil {
					break
				}
				return err
			}
			hctx, hcancel := context.WithTimeout(ctx, 5*time.Second)
			a.handle(hctx, n)
			hcancel()
		}
	}
}

func (a *ACD) handle(ctx context.Context, n *pgconn.Notification) {
	switch n.Channel {
	case chanEvents:
		var ev event
		if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil {
			a.log.Warn("cluster: bad event", "err", err)
			return
		}
		a.deliver(ev)
	case chanOps:
		var o op
		if err := json.Unmarshal([]byte(n.Payload), &o); err != nil {
			a.log.Warn("cluster: bad op", "err", err)
			return
		}
		a.apply(ctx, o)
	}
}

// deliver passes a dispatcher decision to this node's notifiers.
func (a *ACD) deliver(ev event) {
	a.nmu.Lock()
	all, owner, evs := a.all, a.owner, a.events
	a.nmu.Unlock()
	me := a.node.ID()
	for _, n := range []routing.Notifier{all, owner} {
		if n == nil {
			continue
		}
		switch ev.Ev {
		case "offer":
			if ev.Offer != nil && (n == all || ev.Node == me) {
				n.Offer(*ev.Offer)
			}
		case "revoke":
			n.OfferRevoked(ev.Agent, ev.Call)
		case "state":
			n.AgentState(ev.Agent, routing.State(ev.State))
		}
	}
	if ev.Ev == "publish" && ev.Node != me && evs != nil && ev.Event != nil {
		evs.Publish(ev.Agent, *ev.Event)
	}
}

// apply runs a node's change on the dispatcher's router.
func (a *ACD) apply(ctx context.Context, o op) {
	r := a.current()
	if r == nil {
		return
	}
	switch o.Op {
	case "enqueue":
		c, ok, err := a.loadContact(ctx, o.Call)
		if err != nil {
			a.log.Warn("cluster: load queued call", "call_id", o.Call, "err", err)
			return
		}
		if ok {
			a.enqueue(r, c)
		}
	case "cancel":
		r.Cancel(o.Call)
	case "accept":
		if err := r.Accept(o.Agent, o.Call); err != nil {
			// The database took the answer (the row left the list only
			// because it was offered to this agent): follow it.
			r.Cancel(o.Call)
			_ = r.Claim(o.Agent)
		}
	case "reject":
		_ = r.Reject(o.Agent, o.Call)
	case "claim":
		_ = r.Claim(o.Agent)
	case "release":
		r.Release(o.Agent)
	case "state":
		if err := r.SetState(o.Agent, routing.State(o.State), o.Reason); err != nil && !errors.Is(err, routing.ErrInCall) {
			a.log.Info("cluster: agent state", "agent", o.Agent, "err", err)
		}
	case "agent":
		v, ok, err := a.agent(ctx, o.Agent)
		if err == nil && ok {
			r.SetAgent(v.Username, v.Skills, v.MaxCalls)
		}
	case "sentiment":
		_ = r.SetSentiment(o.Call, o.Sentiment)
	case "handoff":
		_, _ = r.Handoff(o.Call, o.New)
	}
}

func (a *ACD) current() *routing.Router {
	a.engineMu.Lock()
	defer a.engineMu.Unlock()
	return a.engine
}

// enqueue puts c on r; a direct transfer whose agent left waits for
// anyone instead.
func (a *ACD) enqueue(r *routing.Router, c routing.Contact) {
	err := r.Enqueue(c)
	if err != nil && c.Direct {
		c.Direct = false
		err = r.Enqueue(c)
	}
	if err != nil && !isDup(err) {
		a.log.Warn("cluster: enqueue on dispatcher", "call_id", c.CallID, "err", err)
	}
}

func isDup(err error) bool {
	return err != nil && strings.Contains(err.Error(), "already queued")
}

func (a *ACD) loadContact(ctx context.Context, id string) (routing.Contact, bool, error) {
	var raw []byte
	var waited float64
	err := a.pool.QueryRow(ctx, `SELECT contact, extract(epoch FROM now() - enqueued_at)::float8 FROM acd_queue WHERE call_id = $1`, id).Scan(&raw, &waited)
	if errors.Is(err, pgx.ErrNoRows) {
		return routing.Contact{}, false, nil
	}
	if err != nil {
		return routing.Contact{}, false, err
	}
	var c routing.Contact
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, false, err
	}
	c.CallID = id
	c.Since = since(waited)
	return c, true, nil
}

// since is when a contact that has waited this many seconds (by the
// database's clock, so node clocks do not matter) started waiting.
func since(waited float64) time.Time {
	return time.Now().Add(-time.Duration(max(waited, 0) * float64(time.Second)))
}

// lockAppPrefix names the listening connections (application_name).
const lockAppPrefix = "contactd-acd:"

// breakStaleLock ends the database session that holds the dispatcher's
// lock when it belongs to a node whose heartbeat is older than dead-after.
// A node cut off by a partition (packets lost, not refused) fences itself
// within its lease and stops dispatching, but Postgres may keep its
// half-open connection, and with it the lock, until TCP gives up, which
// takes minutes to hours. Ending that session lets the cluster elect a
// dispatcher again. It needs the nodes to use one database role (or the
// pg_signal_backend role).
func (a *ACD) breakStaleLock(ctx context.Context) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	key := uint64(dispatcherLockKey)
	var pid int32
	var holder string
	err := a.pool.QueryRow(qctx, `SELECT l.pid, s.application_name FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1
		AND s.application_name LIKE 'contactd-acd:%'`, int64(key>>32), int64(key&0xffffffff)).Scan(&pid, &holder)
	if err != nil {
		return // no holder found (it just let go), or no right to see it
	}
	node := strings.TrimPrefix(holder, lockAppPrefix)
	if node == a.node.ID() {
		return
	}
	var stale bool
	err = a.pool.QueryRow(qctx, `SELECT coalesce((SELECT status <> 'up' OR heartbeat_at < now() - make_interval(secs => $2)
		FROM nodes WHERE id = $1), true)`, node, a.node.cfg.DeadAfter.Seconds()).Scan(&stale)
	if err != nil || !stale {
		return
	}
	var ended bool
	if err := a.pool.QueryRow(qctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ended); err != nil || !ended {
		a.log.Warn("cluster: could not end the stale dispatcher's database session", "holder", node, "pid", pid, "err", err)
		return
	}
	a.log.Warn("cluster: ended the database session of a dispatcher whose node stopped renewing its heartbeat", "holder", node, "pid", pid)
}

// takeOver makes this node the dispatcher: a fresh router rebuilt from
// the tables. Offers made by the previous dispatcher are withdrawn (it may
// have died between deciding and telling): they are made again.
func (a *ACD) takeOver(ctx context.Context) error {
	en := &engineNotifier{a: a}
	r := a.opts.Engine(en, en.stateChange)
	en.r = r
	a.engineMu.Lock()
	a.engine = r
	a.engineMu.Unlock()
	a.dispatch.Store(true)
	a.takeovers.Add(1)
	// Withdraw outstanding offers.
	type pair struct{ agent, call string }
	var revoked []pair
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		revoked = revoked[:0]
		rows, err := tx.Query(ctx, `UPDATE acd_queue SET offered_to = NULL, offered_at = NULL WHERE offered_to IS NOT NULL RETURNING offered_to, call_id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var p pair
			if err := rows.Scan(&p.agent, &p.call); err != nil {
				rows.Close()
				return err
			}
			revoked = append(revoked, p)
		}
		rows.Close()
		if _, err := tx.Exec(ctx, `UPDATE acd_agents SET offering = NULL WHERE offering IS NOT NULL`); err != nil {
			return err
		}
		for _, p := range revoked {
			if err := endOffer(ctx, tx, p.call, p.agent, "withdrawn"); err != nil {
				return err
			}
			if err := notify(ctx, tx, chanEvents, event{Ev: "revoke", Agent: p.agent, Call: p.call}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Agents first (busy ones claimed), then the waiting calls.
	agents, err := a.listAgents(ctx)
	if err != nil {
		return err
	}
	for _, v := range agents {
		r.SetAgent(v.Username, v.Skills, v.MaxCalls)
		switch v.State {
		case routing.Offline:
		case routing.Break:
			_ = r.SetState(v.Username, routing.Break, v.Reason)
		default: // available, ringing, busy, wrapup
			_ = r.SetState(v.Username, routing.Available, "dispatcher takeover")
			for i := 0; i < v.Calls; i++ {
				_ = r.Claim(v.Username)
			}
		}
	}
	contacts, err := a.listContacts(ctx)
	if err != nil {
		return err
	}
	for _, c := range contacts {
		a.enqueue(r, c)
	}
	a.log.Warn("cluster: this node is now the ACD dispatcher", "agents", len(agents), "waiting", len(contacts),
		"offers_withdrawn", len(revoked))
	return nil
}

func (a *ACD) stopDispatching() {
	a.engineMu.Lock()
	r := a.engine
	a.engine = nil
	a.engineMu.Unlock()
	if r != nil {
		a.dispatch.Store(false)
		r.Close()
		a.log.Warn("cluster: no longer the ACD dispatcher")
	}
}

func (a *ACD) listAgents(ctx context.Context) ([]routing.AgentView, error) {
	rows, err := a.pool.Query(ctx, `SELECT `+agentCols+` FROM acd_agents ORDER BY username`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []routing.AgentView
	for rows.Next() {
		v, err := scanAgent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

type queued struct {
	routing.Contact
	offeredTo string
	offeredAt time.Time
}

func (a *ACD) listContacts(ctx context.Context) ([]routing.Contact, error) {
	qs, err := a.listQueued(ctx)
	out := make([]routing.Contact, 0, len(qs))
	for _, q := range qs {
		out = append(out, q.Contact)
	}
	return out, err
}

func (a *ACD) listQueued(ctx context.Context) ([]queued, error) {
	rows, err := a.pool.Query(ctx, `SELECT call_id, contact, coalesce(offered_to, ''), coalesce(offered_at, now()),
		extract(epoch FROM now() - enqueued_at)::float8 FROM acd_queue ORDER BY enqueued_at, call_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []queued
	for rows.Next() {
		var q queued
		var id string
		var raw []byte
		var waited float64
		if err := rows.Scan(&id, &raw, &q.offeredTo, &q.offeredAt, &waited); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &q.Contact); err != nil {
			a.log.Warn("cluster: unreadable queued contact skipped", "call_id", id, "err", err)
			continue
		}
		q.CallID = id
		q.Since = since(waited)
		out = append(out, q)
	}
	return out, rows.Err()
}

// resync repairs what a lost notification (a dropped connection) could
// have left out of step between the tables and the router.
func (a *ACD) resync(ctx context.Context) error {
	r := a.current()
	if r == nil {
		return nil
	}
	qs, err := a.listQueued(ctx)
	if err != nil {
		return err
	}
	inDB := make(map[string]queued, len(qs))
	for _, q := range qs {
		inDB[q.CallID] = q
	}
	inRouter := map[string]bool{}
	for _, q := range r.Queues() {
		for _, id := range q.Waiting {
			inRouter[id] = true
			if _, ok := inDB[id]; !ok {
				r.Cancel(id)
			}
		}
	}
	for _, q := range qs {
		if !inRouter[q.CallID] {
			a.enqueue(r, q.Contact)
		}
	}
	// Offers the router does not know (a dispatcher that lost its lock
	// while deciding), once past their time.
	stale := time.Now().Add(-a.opts.OfferTimeout - 5*time.Second)
	for _, q := range qs {
		if q.offeredTo == "" || q.offeredAt.After(stale) {
			continue
		}
		if v, ok := r.Agent(q.offeredTo); !ok || v.Offering != q.CallID {
			a.commitRevoke(ctx, q.offeredTo, q.CallID)
		}
	}
	if _, err := a.pool.Exec(ctx, `DELETE FROM acd_offer_log WHERE offered_at < now() - interval '1 day' AND ended_seq IS NOT NULL`); err != nil {
		return err
	}
	agents, err := a.listAgents(ctx)
	if err != nil {
		return err
	}
	for _, v := range agents {
		rv, ok := r.Agent(v.Username)
		if !ok {
			r.SetAgent(v.Username, v.Skills, v.MaxCalls)
			rv, _ = r.Agent(v.Username)
		}
		switch {
		case v.Calls == 0 && rv.Calls > 0:
			for i := 0; i < rv.Calls; i++ {
				r.Release(v.Username)
			}
		case v.Calls > 0 && rv.Calls == 0 && rv.State == routing.Available && rv.Offering == "":
			_ = r.Claim(v.Username)
		case selfSet(v.State) && selfSet(rv.State) && v.State != rv.State:
			_ = r.SetState(v.Username, v.State, v.Reason)
		}
	}
	return nil
}

func selfSet(s routing.State) bool {
	return s == routing.Available || s == routing.Break || s == routing.Offline
}

// reap ends the calls of dead nodes and frees what they held.
func (a *ACD) reap(ctx context.Context) error {
	r := a.current()
	dead, lost, err := a.node.reapDead(ctx)
	if err != nil {
		return err
	}
	for _, node := range dead {
		rows, err := a.pool.Query(ctx, `DELETE FROM acd_queue WHERE node = $1 RETURNING call_id, coalesce(offered_to, '')`, node)
		if err != nil {
			return err
		}
		type pair struct{ call, agent string }
		var gone []pair
		for rows.Next() {
			var p pair
			if err := rows.Scan(&p.call, &p.agent); err == nil {
				gone = append(gone, p)
			}
		}
		rows.Close()
		for _, p := range gone {
			if p.agent != "" {
				if _, err := a.pool.Exec(ctx, `UPDATE acd_agents SET offering = NULL WHERE username = $1 AND offering = $2`, p.agent, p.call); err != nil {
					return err
				}
				if err := endOffer(ctx, a.pool, p.call, p.agent, "node lost"); err != nil {
					return err
				}
			}
			if r != nil {
				r.Cancel(p.call)
			}
		}
	}
	for _, l := range lost {
		if l.Agent == "" {
			continue
		}
		var n int
		err := a.pool.QueryRow(ctx, `UPDATE acd_agents SET calls = greatest(calls - 1, 0) WHERE username = $1 AND calls > 0
			RETURNING calls`, l.Agent).Scan(&n)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		if r != nil {
			r.Release(l.Agent)
		}
	}
	return nil
}

// engineNotifier commits the dispatcher router's decisions.
type engineNotifier struct {
	a *ACD
	r *routing.Router
}

// live: the router is the current one and the node holds its lease (a
// fenced node commits no decision).
func (n *engineNotifier) live() bool { return n.a.current() == n.r && n.a.node.Fence() == "" }

// AgentState: the state is committed by stateChange, which has the reason.
func (n *engineNotifier) AgentState(string, routing.State) {}

func (n *engineNotifier) stateChange(c routing.StateChange) {
	if !n.live() {
		return
	}
	a := n.a
	ctx, cancel := a.ctx()
	defer cancel()
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE acd_agents SET state = $2, reason = $3, since = $4 WHERE username = $1`,
			c.Username, string(c.State), c.Reason, c.At); err != nil {
			return err
		}
		return notify(ctx, tx, chanEvents, event{Ev: "state", Agent: c.Username, State: string(c.State)})
	})
	if err != nil {
		a.log.Warn("cluster: commit agent state", "agent", c.Username, "err", err)
	}
	if a.opts.OnStateChange != nil {
		a.opts.OnStateChange(c)
	}
}

var (
	errCallGone   = errors.New("call no longer waiting")
	errCallTaken  = errors.New("call already offered")
	errAgentTaken = errors.New("agent not free in the database")
)

// Offer commits the offer: the call must still be waiting and unoffered,
// the agent free, in one transaction; then every node hears of it.
func (n *engineNotifier) Offer(o routing.Offer) {
	if !n.live() {
		return
	}
	a := n.a
	ctx, cancel := a.ctx()
	defer cancel()
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		var node string
		err := tx.QueryRow(ctx, `UPDATE acd_queue SET offered_to = $2, offered_at = now()
			WHERE call_id = $1 AND offered_to IS NULL RETURNING node`, o.CallID, o.Agent).Scan(&node)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM acd_queue WHERE call_id = $1)`, o.CallID).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return errCallTaken
			}
			return errCallGone
		}
		if err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23505" { // the agent holds another offer
				return errAgentTaken
			}
			return err
		}
		t, err := tx.Exec(ctx, `UPDATE acd_agents SET offering = $1 WHERE username = $2 AND offering IS NULL
			AND calls < max_calls AND state NOT IN ('offline', 'break')`, o.CallID, o.Agent)
		if err != nil {
			return err
		}
		if t.RowsAffected() == 0 {
			return errAgentTaken
		}
		if _, err := tx.Exec(ctx, `INSERT INTO acd_offer_log (call_id, agent, dispatcher, offered_seq)
			VALUES ($1, $2, $3, nextval('acd_offer_seq'))`, o.CallID, o.Agent, a.node.ID()); err != nil {
			return err
		}
		return notify(ctx, tx, chanEvents, event{Ev: "offer", Node: node, Agent: o.Agent, Call: o.CallID, Offer: &o})
	})
	switch {
	case err == nil:
	case errors.Is(err, errCallGone):
		n.r.Cancel(o.CallID)
	case errors.Is(err, errCallTaken), errors.Is(err, errAgentTaken):
		a.log.Info("cluster: offer refused by the database; trying another", "call_id", o.CallID, "agent", o.Agent, "why", err)
		_ = n.r.Reject(o.Agent, o.CallID)
	default:
		// The offer times out in the router and is made again.
		a.log.Error("cluster: commit offer", "call_id", o.CallID, "agent", o.Agent, "err", err)
	}
}

// OfferRevoked clears the offer if it still stands, and tells the nodes.
func (n *engineNotifier) OfferRevoked(agent, callID string) {
	if !n.live() {
		return
	}
	ctx, cancel := n.a.ctx()
	defer cancel()
	n.a.commitRevoke(ctx, agent, callID)
}

func (a *ACD) commitRevoke(ctx context.Context, agent, callID string) {
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		t, err := tx.Exec(ctx, `UPDATE acd_queue SET offered_to = NULL, offered_at = NULL WHERE call_id = $1 AND offered_to = $2`, callID, agent)
		if err != nil {
			return err
		}
		if t.RowsAffected() > 0 {
			if err := endOffer(ctx, tx, callID, agent, "revoked"); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE acd_agents SET offering = NULL WHERE username = $1 AND offering = $2`, agent, callID); err != nil {
			return err
		}
		return notify(ctx, tx, chanEvents, event{Ev: "revoke", Agent: agent, Call: callID})
	})
	if err != nil {
		a.log.Warn("cluster: commit revoke", "agent", agent, "call_id", callID, "err", err)
	}
}

// Events returns the call-event sink for this node's calls: local gets
// them at once, and every other node gets them (to the sockets it holds).
func (a *ACD) Events(local call.Events) call.Events {
	a.nmu.Lock()
	a.events = local
	a.nmu.Unlock()
	return clusterEvents{a: a, local: local}
}

type clusterEvents struct {
	a     *ACD
	local call.Events
}

// maxEventText keeps a NOTIFY payload under Postgres' 8000 bytes.
const maxEventText = 4000

func (e clusterEvents) Publish(agent string, ev call.Event) {
	e.local.Publish(agent, ev)
	if len(ev.Text) > maxEventText {
		ev.Text = strings.ToValidUTF8(ev.Text[:maxEventText], "")
	}
	ctx, cancel := e.a.ctx()
	defer cancel()
	if err := notify(ctx, e.a.pool, chanEvents, event{Ev: "publish", Node: e.a.node.ID(), Agent: agent, Event: &ev}); err != nil {
		e.a.log.Warn("cluster: publish call event", "agent", agent, "err", err)
	}
}
