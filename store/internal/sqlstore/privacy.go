package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
)

// idBatch is how many IDs go into one IN list.
const idBatch = 500

// args collects query parameters and hands out their placeholders.
type args struct{ v []any }

func (a *args) add(v any) string {
	a.v = append(a.v, v)
	return fmt.Sprintf("$%d", len(a.v))
}

func (a *args) list(vs []string) string {
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = a.add(v)
	}
	return strings.Join(ps, ", ")
}

// scopeWhere is the WHERE condition selecting s's calls; ok is false when
// s selects none.
func scopeWhere(s store.RetentionScope, a *args) (string, bool) {
	if s.Before.IsZero() || (len(s.Queues) == 0 && !s.Except) {
		return "", false
	}
	w := "started_at < " + a.add(Time(s.Before))
	if len(s.Queues) > 0 {
		op := " IN ("
		if s.Except {
			op = " NOT IN ("
		}
		w += " AND queue" + op + a.list(s.Queues) + ")"
	}
	return w, true
}

// ExpiredRecordings returns up to s.Limit calls in s that still have a
// recording, oldest first.
func (s *Store) ExpiredRecordings(ctx context.Context, sc store.RetentionScope) ([]store.Call, error) {
	var a args
	w, ok := scopeWhere(sc, &a)
	if !ok {
		return []store.Call{}, nil
	}
	q := `SELECT ` + callCols + ` FROM calls WHERE recording_path <> '' AND ` + w +
		` ORDER BY started_at, id LIMIT ` + a.add(limitOr(sc.Limit))
	rows, err := s.db.Query(ctx, q, a.v...)
	if err != nil {
		return nil, wrap(err, "store: expired recordings")
	}
	cs, err := collect(rows, scanCall)
	if cs == nil && err == nil {
		cs = []store.Call{}
	}
	return cs, wrap(err, "store: expired recordings")
}

// ClearRecording forgets the call's recording path.
func (s *Store) ClearRecording(ctx context.Context, callID string) error {
	n, err := s.db.Exec(ctx, `UPDATE calls SET recording_path = '' WHERE id = $1`, callID)
	return notFound(n, err, "store: clear recording of call %q", callID)
}

// PurgeTranscripts deletes the transcripts of up to s.Limit calls in s
// whose transcript is kept, and the evidence quoted from them.
func (s *Store) PurgeTranscripts(ctx context.Context, sc store.RetentionScope) (int, int64, error) {
	var a args
	w, ok := scopeWhere(sc, &a)
	if !ok {
		return 0, 0, nil
	}
	var calls int
	var segs int64
	q := `SELECT id FROM calls WHERE transcript_purged_at IS NULL AND ` + w +
		` ORDER BY started_at, id LIMIT ` + a.add(limitOr(sc.Limit))
	err := s.db.InTx(ctx, func(tx DB) error {
		rows, err := tx.Query(ctx, q, a.v...)
		if err != nil {
			return err
		}
		ids, err := collect(rows, scanString)
		if err != nil {
			return err
		}
		calls = len(ids)
		for batch := range slices.Chunk(ids, idBatch) {
			n, err := purgeCalls(ctx, tx, batch, time.Now(), "")
			if err != nil {
				return err
			}
			segs += n
			if _, err := stripEvidence(ctx, tx, batch); err != nil {
				return err
			}
		}
		return nil
	})
	return calls, segs, wrap(err, "store: purge transcripts")
}

func scanString(r Row) (string, error) {
	var v string
	err := r.Scan(&v)
	return v, err
}

// purgeCalls deletes the calls' transcript segments and marks the
// transcripts purged at at; with erase, it also replaces the caller's
// number and forgets the recording. It returns the segments deleted.
func purgeCalls(ctx context.Context, tx DB, ids []string, at time.Time, erase string) (int64, error) {
	var a args
	in := a.list(ids)
	n, err := tx.Exec(ctx, `DELETE FROM transcript_segments WHERE call_id IN (`+in+`)`, a.v...)
	if err != nil {
		return 0, err
	}
	set := `transcript_purged_at = ` + a.add(Time(at))
	if erase != "" {
		set += `, from_uri = ` + a.add(erase) + `, recording_path = ''`
	}
	if _, err := tx.Exec(ctx, `UPDATE calls SET `+set+` WHERE id IN (`+in+`)`, a.v...); err != nil {
		return 0, err
	}
	return n, nil
}

// stripEvidence replaces the transcript text quoted in the calls'
// evaluations with store.Erased; it returns how many evaluations changed.
func stripEvidence(ctx context.Context, tx DB, callIDs []string) (int, error) {
	var a args
	q := `SELECT id, items FROM qa_evaluations WHERE call_id IN (` + a.list(callIDs) + `)`
	rows, err := tx.Query(ctx, q, a.v...)
	if err != nil {
		return 0, err
	}
	type ev struct {
		id    string
		items []qa.Item
	}
	evs, err := collect(rows, func(r Row) (ev, error) {
		var e ev
		err := r.Scan(&e.id, jsonCol{&e.items})
		return e, err
	})
	if err != nil {
		return 0, err
	}
	changed := 0
	for _, e := range evs {
		touched := false
		for i := range e.items {
			for j := range e.items[i].Evidence {
				if e.items[i].Evidence[j].Text != store.Erased {
					e.items[i].Evidence[j].Text, touched = store.Erased, true
				}
			}
		}
		if !touched {
			continue
		}
		items, err := encodeJSON(e.items)
		if err != nil {
			return changed, err
		}
		if _, err := tx.Exec(ctx, `UPDATE qa_evaluations SET items = $2 WHERE id = $1`, e.id, items); err != nil {
			return changed, err
		}
		changed++
	}
	return changed, nil
}

// piiFields are the ticket fields whose audit-trail values may hold
// personal data.
var piiFields = []string{"subject", "summary", "entities", "follow_ups", "customer"}

// EraseCustomer removes the customer's personal data (see store.Store).
func (s *Store) EraseCustomer(ctx context.Context, number string, at time.Time) (store.Erasure, error) {
	number = strings.TrimSpace(number)
	if number == "" || number == store.Erased {
		return store.Erasure{}, errors.New("store: erase customer: empty number")
	}
	if at.IsZero() {
		at = time.Now()
	}
	var e store.Erasure
	err := s.db.InTx(ctx, func(tx DB) error {
		e = store.Erasure{Calls: []string{}}
		rows, err := tx.Query(ctx, `SELECT id, recording_path FROM calls WHERE from_uri = $1 ORDER BY started_at, id`, number)
		if err != nil {
			return err
		}
		type callRec struct{ id, rec string }
		calls, err := collect(rows, func(r Row) (callRec, error) {
			var c callRec
			err := r.Scan(&c.id, &c.rec)
			return c, err
		})
		if err != nil {
			return err
		}
		for _, c := range calls {
			e.Calls = append(e.Calls, c.id)
			if c.rec != "" {
				e.Recordings = append(e.Recordings, c.rec)
			}
		}
		ticketIDs := map[string]bool{}
		addIDs := func(q string, a *args) error {
			rows, err := tx.Query(ctx, q, a.v...)
			if err != nil {
				return err
			}
			ids, err := collect(rows, scanString)
			for _, id := range ids {
				ticketIDs[id] = true
			}
			return err
		}
		for batch := range slices.Chunk(e.Calls, idBatch) {
			n, err := purgeCalls(ctx, tx, batch, at, store.Erased)
			if err != nil {
				return err
			}
			e.Segments += n
			nev, err := stripEvidence(ctx, tx, batch)
			if err != nil {
				return err
			}
			e.Evaluations += nev
			var a args
			q := `SELECT id FROM tickets WHERE call_id IN (` + a.list(batch) + `)`
			if err := addIDs(q, &a); err != nil {
				return err
			}
			var b args
			q = `SELECT ticket_id FROM ticket_events WHERE field = ` + b.add(tickets.FieldLinkedCall) +
				` AND new_value IN (` + b.list(batch) + `)`
			if err := addIDs(q, &b); err != nil {
				return err
			}
		}
		var a args
		q := `SELECT id FROM tickets WHERE customer_phone = ` + a.add(number) + ` OR customer_id = ` +
			a.add(tickets.CustomerID(number, ""))
		if err := addIDs(q, &a); err != nil {
			return err
		}
		// The same customer's other tickets (an account number heard on
		// one of these calls keys tickets from other phones too).
		customers := map[string]bool{}
		for id := range ticketIDs {
			t, err := scanTicket(tx.QueryRow(ctx, qTicket, id))
			if err != nil {
				return err
			}
			if t.Customer.ID != "" {
				customers[t.Customer.ID] = true
			}
		}
		for cid := range customers {
			var a args
			q := `SELECT id FROM tickets WHERE customer_id = ` + a.add(cid)
			if err := addIDs(q, &a); err != nil {
				return err
			}
		}
		ids := make([]string, 0, len(ticketIDs))
		for id := range ticketIDs {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			n, err := s.eraseTicket(ctx, tx, id, at)
			if err != nil {
				return err
			}
			e.Notes += n
		}
		e.Tickets = len(ids)
		// Pending callbacks to the number go (a callback's number is its
		// call's caller): nobody is to call the customer back.
		rows, err = tx.Query(ctx, `SELECT id FROM callbacks WHERE number = $1 ORDER BY id`, number)
		if err != nil {
			return err
		}
		if e.Callbacks, err = collect(rows, scanString); err != nil {
			return err
		}
		for batch := range slices.Chunk(e.Callbacks, idBatch) {
			var a args
			if _, err := tx.Exec(ctx, `DELETE FROM callbacks WHERE id IN (`+a.list(batch)+`)`, a.v...); err != nil {
				return err
			}
		}
		if e.Callbacks == nil {
			e.Callbacks = []string{}
		}
		return nil
	})
	if err != nil {
		return store.Erasure{}, wrap(err, "store: erase customer")
	}
	return e, nil
}

// eraseTicket redacts one ticket's personal data inside tx; it returns
// how many notes it blanked.
func (s *Store) eraseTicket(ctx context.Context, tx DB, id string, at time.Time) (int64, error) {
	t, err := scanTicket(tx.QueryRow(ctx, qTicket+s.d.ForUpdate, id))
	if err != nil {
		return 0, err
	}
	t.Subject, t.Summary = store.Erased, store.Erased
	t.Entities, t.FollowUps, t.Customer = nil, nil, tickets.Customer{}
	if !slices.Contains(t.Tags, store.ErasedTag) {
		t.Tags = append(t.Tags, store.ErasedTag)
	}
	ta, err := ticketArgs(t)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `UPDATE tickets SET (`+ticketCols+`) = (`+placeholders(1, len(ta))+`) WHERE id = $1`, ta...); err != nil {
		return 0, err
	}
	notes, err := tx.Exec(ctx, `UPDATE ticket_notes SET body = $2 WHERE ticket_id = $1`, id, store.Erased)
	if err != nil {
		return 0, err
	}
	var a args
	q := `UPDATE ticket_events SET old_value = CASE WHEN old_value = '' THEN '' ELSE ` + a.add(store.Erased) +
		` END, new_value = CASE WHEN new_value = '' THEN '' ELSE $1 END WHERE ticket_id = ` + a.add(id) +
		` AND field IN (` + a.list(piiFields) + `)`
	if _, err := tx.Exec(ctx, q, a.v...); err != nil {
		return 0, err
	}
	if err := insertEvents(ctx, tx, []tickets.Event{{TicketID: id, At: at, Actor: tickets.ActorFrom(ctx), Field: "erased"}}); err != nil {
		return 0, err
	}
	return notes, s.reindex(ctx, tx, t)
}

// CallsSince returns the page p of calls, oldest first.
func (s *Store) CallsSince(ctx context.Context, p store.CallPage) ([]store.Call, error) {
	var a args
	where := []string{"started_at IS NOT NULL"}
	if !p.Since.IsZero() {
		where = append(where, "started_at >= "+a.add(Time(p.Since)))
	}
	if !p.AfterStarted.IsZero() {
		t := a.add(Time(p.AfterStarted))
		where = append(where, "(started_at > "+t+" OR (started_at = "+t+" AND id > "+a.add(p.AfterID)+"))")
	}
	q := `SELECT ` + callCols + ` FROM calls WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY started_at, id LIMIT ` + a.add(limitOr(p.Limit))
	rows, err := s.db.Query(ctx, q, a.v...)
	if err != nil {
		return nil, wrap(err, "store: calls since")
	}
	cs, err := collect(rows, scanCall)
	if cs == nil && err == nil {
		cs = []store.Call{}
	}
	return cs, wrap(err, "store: calls since")
}
