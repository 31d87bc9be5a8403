package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
)

// Callbacks in the shared ACD.
//
// A caller who chose a callback keeps a place on the shared waiting list
// (acd_queue, under the callback's id) and a stored callback (callbacks,
// migration 0012). The node that took the call waits for an agent and
// dials the number; callbacks.node names it (the connection's
// contactd.node, as for calls). Requests about the callback (an agent
// answering) go to that node (Proxy, by acd_queue.node).
//
// When that node is no longer up (it died, left, or restarted), the
// dispatcher adopts its callbacks: it claims them (callbacks.node = its
// own id), puts them back on the waiting list in their caller's place,
// and has its CallbackRunner wait for an agent and dial. A restarting
// node gives up its old callbacks at Join, so they are adopted like any
// other; a node never re-arms callbacks by itself in a cluster.

// CallbackRunner waits for an agent to take a callback and then dials it
// (call.Manager.AdoptCallback). The callback's place on the waiting list
// is the cluster's: the runner must not enqueue it.
type CallbackRunner interface {
	AdoptCallback(rec store.Callback) error
}

// SetCallbacks sets who dials the callbacks this node adopts; without it
// the node adopts none.
func (a *ACD) SetCallbacks(r CallbackRunner) {
	a.nmu.Lock()
	a.callbacks = r
	a.nmu.Unlock()
}

// maxAdopt bounds the callbacks adopted per tick; a callback this node
// could not arm is not tried here again for adoptRetry.
const (
	maxAdopt   = 200
	adoptRetry = time.Minute
)

// adoptCallbacks claims the callbacks of nodes that are not up, queues
// them here and arms them on this node's runner. The dispatcher runs it
// every tick, after reaping dead nodes.
func (a *ACD) adoptCallbacks(ctx context.Context) error {
	a.nmu.Lock()
	runner := a.callbacks
	a.nmu.Unlock()
	if runner == nil {
		return nil
	}
	me := a.node.ID()
	// Callbacks this node could not arm lately are left to others a while.
	now := time.Now()
	skip := []string{}
	for id, until := range a.adoptFailed {
		if now.After(until) {
			delete(a.adoptFailed, id)
		} else {
			skip = append(skip, id)
		}
	}
	var adopted []store.Callback
	var revoked []queuedOffer
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		adopted, revoked = adopted[:0], revoked[:0]
		rows, err := tx.Query(ctx, `SELECT id, call_id, number, queue, intent, priority, vip, value, sentiment, preferred_agent,
			waiting_since, expires_at, created_at, node FROM callbacks
			WHERE node NOT IN (SELECT id FROM nodes WHERE status = 'up') AND id <> ALL($2)
			ORDER BY waiting_since, id LIMIT $1 FOR UPDATE SKIP LOCKED`, maxAdopt, skip)
		if err != nil {
			return err
		}
		var found []store.Callback
		var from []string
		for rows.Next() {
			var cb store.Callback
			var vip int
			var waiting, expires, created *time.Time
			var node string
			if err := rows.Scan(&cb.ID, &cb.CallID, &cb.Number, &cb.Queue, &cb.Intent, &cb.Priority, &vip, &cb.Value, &cb.Sentiment,
				&cb.PreferredAgent, &waiting, &expires, &created, &node); err != nil {
				rows.Close()
				return err
			}
			cb.VIP = vip != 0
			for dst, v := range map[*time.Time]*time.Time{&cb.WaitingSince: waiting, &cb.ExpiresAt: expires, &cb.CreatedAt: created} {
				if v != nil {
					*dst = *v
				}
			}
			found = append(found, cb)
			from = append(from, node)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i, cb := range found {
			log := a.log.With("callback_id", cb.ID, "from_node", from[i])
			switch {
			case !cb.ExpiresAt.IsZero() && time.Now().After(cb.ExpiresAt):
				if _, err := tx.Exec(ctx, `DELETE FROM callbacks WHERE id = $1`, cb.ID); err != nil {
					return err
				}
				gone, err := dropQueued(ctx, tx, cb.ID, "expired")
				if err != nil {
					return err
				}
				revoked = append(revoked, gone...)
				log.Warn("cluster: callback expired while its node was gone", "number", cb.Number)
				continue
			case !a.conf.HasQueue(cb.Queue):
				continue // kept for a node configured with its queue
			}
			if _, err := tx.Exec(ctx, `UPDATE callbacks SET node = $2 WHERE id = $1`, cb.ID, me); err != nil {
				return err
			}
			gone, err := dropQueued(ctx, tx, cb.ID, "node lost")
			if err != nil {
				return err
			}
			revoked = append(revoked, gone...)
			body, err := json.Marshal(callbackContact(cb))
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO acd_queue (call_id, node, queue, contact, enqueued_at) VALUES ($1, $2, $3, $4, coalesce($5, now()))`,
				cb.ID, me, cb.Queue, body, nullTime(cb.WaitingSince)); err != nil {
				return err
			}
			adopted = append(adopted, cb)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r := a.current()
	for _, o := range revoked {
		if r != nil {
			r.Cancel(o.call)
		}
	}
	for _, cb := range adopted {
		log := a.log.With("callback_id", cb.ID)
		if err := runner.AdoptCallback(cb); err != nil {
			log.Warn("cluster: callback not adopted here; left for another node", "err", err)
			if a.adoptFailed == nil {
				a.adoptFailed = map[string]time.Time{}
			}
			a.adoptFailed[cb.ID] = time.Now().Add(adoptRetry)
			a.releaseCallback(ctx, cb.ID)
			if r != nil {
				r.Cancel(cb.ID)
			}
			continue
		}
		if r != nil {
			r.Cancel(cb.ID) // its old place, if the router still had it
			a.enqueue(r, callbackContact(cb))
		}
		log.Warn("cluster: adopted a callback whose node is gone; this node will dial it", "queue", cb.Queue, "waiting_since", cb.WaitingSince)
	}
	return nil
}

// releaseCallback gives an adopted callback back (no node): another node
// adopts it.
func (a *ACD) releaseCallback(ctx context.Context, id string) {
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE callbacks SET node = '' WHERE id = $1 AND node = $2`, id, a.node.ID()); err != nil {
			return err
		}
		_, err := dropQueued(ctx, tx, id, "node lost")
		return err
	})
	if err != nil {
		a.log.Warn("cluster: release a callback", "callback_id", id, "err", err)
	}
}

type queuedOffer struct{ call, agent string }

// dropQueued takes call off the waiting list, withdrawing a standing offer
// (the agent is told).
func dropQueued(ctx context.Context, tx pgx.Tx, call, outcome string) ([]queuedOffer, error) {
	var offered *string
	err := tx.QueryRow(ctx, `DELETE FROM acd_queue WHERE call_id = $1 RETURNING offered_to`, call).Scan(&offered)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	o := queuedOffer{call: call}
	if offered != nil {
		o.agent = *offered
		if _, err := tx.Exec(ctx, `UPDATE acd_agents SET offering = NULL WHERE username = $1 AND offering = $2`, o.agent, call); err != nil {
			return nil, err
		}
		if err := endOffer(ctx, tx, call, o.agent, outcome); err != nil {
			return nil, err
		}
		if err := notify(ctx, tx, chanEvents, event{Ev: "revoke", Agent: o.agent, Call: call}); err != nil {
			return nil, err
		}
	}
	return []queuedOffer{o}, nil
}

// callbackContact is the waiting-list entry of a stored callback: the
// caller's place and score inputs.
func callbackContact(cb store.Callback) routing.Contact {
	return routing.Contact{CallID: cb.ID, Queue: cb.Queue, Priority: routing.Priority(cb.Priority), From: cb.Number,
		Intent: cb.Intent, VIP: cb.VIP, Value: cb.Value, Sentiment: cb.Sentiment, PreferredAgent: cb.PreferredAgent,
		Since: cb.WaitingSince}
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// releaseOwn runs at Join, before the node serves: what its previous run
// left is given up. Its callbacks lose their node (the dispatcher adopts
// them) and its calls still on the waiting list are dropped (they ended
// with that run).
func releaseOwn(ctx context.Context, tx pgx.Tx, node string) (dropped int, err error) {
	if _, err := tx.Exec(ctx, `UPDATE callbacks SET node = '' WHERE node = $1`, node); err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, `SELECT call_id FROM acd_queue WHERE node = $1 FOR UPDATE`, node)
	if err != nil {
		return 0, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := dropQueued(ctx, tx, id, "node restarted"); err != nil {
			return 0, err
		}
		if err := notify(ctx, tx, chanOps, op{Op: "cancel", Call: id}); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}
