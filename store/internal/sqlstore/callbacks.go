package sqlstore

import (
	"context"
	"errors"

	"github.com/contactd/contactd/store"
)

const callbackCols = `id, call_id, number, queue, intent, priority, vip, value, sentiment, preferred_agent, waiting_since, expires_at, created_at`

const qPendingCallbacks = `SELECT ` + callbackCols + ` FROM callbacks ORDER BY waiting_since, id LIMIT $1`

// AddCallback stores a pending callback.
func (s *Store) AddCallback(ctx context.Context, cb store.Callback) error {
	if cb.ID == "" || cb.Number == "" || cb.Queue == "" {
		return errors.New("store: add callback: id, number and queue are required")
	}
	vip := 0
	if cb.VIP {
		vip = 1
	}
	_, err := s.db.Exec(ctx, `INSERT INTO callbacks (`+callbackCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		cb.ID, cb.CallID, cb.Number, cb.Queue, cb.Intent, cb.Priority, vip, cb.Value, cb.Sentiment, cb.PreferredAgent,
		Time(cb.WaitingSince), Time(cb.ExpiresAt), Time(cb.CreatedAt))
	return wrap(err, "store: add callback %s", cb.ID)
}

// DeleteCallback removes a callback: taken by an agent, or expired.
func (s *Store) DeleteCallback(ctx context.Context, id string) error {
	n, err := s.db.Exec(ctx, `DELETE FROM callbacks WHERE id = $1`, id)
	return notFound(n, err, "store: delete callback %s", id)
}

// PendingCallbacks lists up to limit (DefaultLimit when ≤ 0) callbacks,
// the longest waiting first.
func (s *Store) PendingCallbacks(ctx context.Context, limit int) ([]store.Callback, error) {
	rows, err := s.db.Query(ctx, qPendingCallbacks, limitOr(limit))
	if err != nil {
		return nil, wrap(err, "store: pending callbacks")
	}
	out, err := collect(rows, func(r Row) (store.Callback, error) {
		var cb store.Callback
		var vip int
		err := r.Scan(&cb.ID, &cb.CallID, &cb.Number, &cb.Queue, &cb.Intent, &cb.Priority, &vip, &cb.Value, &cb.Sentiment,
			&cb.PreferredAgent, NullTime{&cb.WaitingSince}, NullTime{&cb.ExpiresAt}, NullTime{&cb.CreatedAt})
		cb.VIP = vip != 0
		return cb, err
	})
	return out, wrap(err, "store: pending callbacks")
}
