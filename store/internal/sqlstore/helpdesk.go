package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
)

// ---- SLA breach watcher ----

// qFirstResponseDue and qResolutionDue walk the partial indexes of open
// clocks (migration 0010) from the earliest due time.
const (
	qFirstResponseDue = `SELECT id, first_response_due FROM tickets
		WHERE first_response_at IS NULL AND first_response_breached_at IS NULL AND first_response_due IS NOT NULL
		AND first_response_due < $1 AND status <> $2 AND status <> $3 ORDER BY first_response_due LIMIT $4`
	qResolutionDue = `SELECT id, resolution_due FROM tickets
		WHERE solved_at IS NULL AND resolution_breached_at IS NULL AND resolution_due IS NOT NULL
		AND resolution_due < $1 AND status <> $2 AND status <> $3 ORDER BY resolution_due LIMIT $4`
)

// SLABreachesDue lists up to limit targets of open tickets that passed
// unmet by now and are not flagged yet, earliest due first.
func (s *Store) SLABreachesDue(ctx context.Context, now time.Time, limit int) ([]tickets.Breach, error) {
	limit = limitOr(limit)
	var out []tickets.Breach
	for _, q := range []struct{ target, sql string }{
		{tickets.TargetFirstResponse, qFirstResponseDue}, {tickets.TargetResolution, qResolutionDue},
	} {
		rows, err := s.db.Query(ctx, q.sql, Time(now), tickets.StatusSolved, tickets.StatusClosed, limit)
		if err != nil {
			return nil, wrap(err, "store: sla breaches due")
		}
		bs, err := collect(rows, func(r Row) (tickets.Breach, error) {
			b := tickets.Breach{Target: q.target}
			err := r.Scan(&b.TicketID, NullTime{&b.Due})
			return b, err
		})
		if err != nil {
			return nil, wrap(err, "store: sla breaches due")
		}
		out = append(out, bs...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Due.Equal(out[j].Due) {
			return out[i].Due.Before(out[j].Due)
		}
		return out[i].TicketID < out[j].TicketID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// breachColumn is the flag column of an SLA target.
func breachColumn(target string) (string, error) {
	switch target {
	case tickets.TargetFirstResponse:
		return "first_response_breached_at", nil
	case tickets.TargetResolution:
		return "resolution_breached_at", nil
	}
	return "", fmt.Errorf("store: flag sla breach: unknown target %q", target)
}

// FlagSLABreach sets the target's flag where it is unset and appends the
// "sla" audit event, in one transaction; false when it was set already.
func (s *Store) FlagSLABreach(ctx context.Context, b tickets.Breach, at time.Time) (bool, error) {
	col, err := breachColumn(b.Target)
	if err != nil {
		return false, err
	}
	flagged := false
	err = s.db.InTx(ctx, func(tx DB) error {
		n, err := tx.Exec(ctx, `UPDATE tickets SET `+col+` = $2 WHERE id = $1 AND `+col+` IS NULL`, b.TicketID, Time(at))
		if err != nil {
			return err
		}
		if n == 0 {
			var id string
			return tx.QueryRow(ctx, `SELECT id FROM tickets WHERE id = $1`, b.TicketID).Scan(&id) // ErrNoRows: absent
		}
		flagged = true
		return insertEvents(ctx, tx, []tickets.Event{{TicketID: b.TicketID, At: at, Actor: tickets.ActorFrom(ctx),
			Field: tickets.FieldSLA, New: b.Target + "_breached"}})
	})
	return flagged, wrap(err, "store: flag sla breach of %q", b.TicketID)
}

// ---- webhook dead letters ----

const deadLetterCols = `id, event_id, event_type, url, ticket_id, body, attempts, last_error, created_at, replayed_at, replayed_by`

func scanDeadLetter(r Row) (store.DeadLetter, error) {
	var d store.DeadLetter
	err := r.Scan(&d.ID, &d.EventID, &d.EventType, &d.URL, &d.TicketID, &d.Body, &d.Attempts, &d.LastError,
		NullTime{&d.CreatedAt}, NullTime{&d.ReplayedAt}, &d.ReplayedBy)
	return d, err
}

// AddDeadLetter keeps d (CreatedAt now when zero) and returns its ID.
func (s *Store) AddDeadLetter(ctx context.Context, d store.DeadLetter) (int64, error) {
	if d.URL == "" {
		return 0, errors.New("store: add dead letter: empty url")
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = time.Now()
	}
	var id int64
	err := s.db.InTx(ctx, func(tx DB) error { // RETURNING writes: not on the read-only pool
		return tx.QueryRow(ctx, `INSERT INTO webhook_dead_letters (event_id, event_type, url, ticket_id, body, attempts, last_error, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, d.EventID, d.EventType, d.URL, d.TicketID, d.Body, d.Attempts,
			d.LastError, Time(d.CreatedAt)).Scan(&id)
	})
	return id, wrap(err, "store: add dead letter for %s", d.URL)
}

// ListDeadLetters returns the dead letters f selects, newest first.
func (s *Store) ListDeadLetters(ctx context.Context, f store.DeadLetterFilter) ([]store.DeadLetter, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Pending {
		where = append(where, "replayed_at IS NULL")
	}
	if f.Before > 0 {
		where = append(where, "id < "+arg(f.Before))
	}
	q := `SELECT ` + deadLetterCols + ` FROM webhook_dead_letters`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + arg(limitOr(f.Limit))
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap(err, "store: list dead letters")
	}
	out, err := collect(rows, scanDeadLetter)
	if out == nil && err == nil {
		out = []store.DeadLetter{}
	}
	return out, wrap(err, "store: list dead letters")
}

// DeadLetter returns one dead letter.
func (s *Store) DeadLetter(ctx context.Context, id int64) (store.DeadLetter, error) {
	d, err := scanDeadLetter(s.db.QueryRow(ctx, `SELECT `+deadLetterCols+` FROM webhook_dead_letters WHERE id = $1`, id))
	return d, wrap(err, "store: dead letter %d", id)
}

// MarkDeadLetterReplayed records the replay once: store.ErrConflict when
// it was replayed already, store.ErrNotFound when absent.
func (s *Store) MarkDeadLetterReplayed(ctx context.Context, id int64, by string, at time.Time) error {
	n, err := s.db.Exec(ctx, `UPDATE webhook_dead_letters SET replayed_at = $2, replayed_by = $3 WHERE id = $1 AND replayed_at IS NULL`,
		id, Time(at), by)
	if err != nil || n > 0 {
		return wrap(err, "store: replay dead letter %d", id)
	}
	if _, err := s.DeadLetter(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("store: dead letter %d was replayed already: %w", id, store.ErrConflict)
}
