package tickets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// BreachStore is what the breach watcher needs from the store.
type BreachStore interface {
	SLABreachesDue(ctx context.Context, now time.Time, limit int) ([]Breach, error)
	FlagSLABreach(ctx context.Context, b Breach, at time.Time) (bool, error)
	Ticket(ctx context.Context, id string) (Ticket, error)
	UpdateTicket(ctx context.Context, t Ticket) error
}

// BreachNotifier is told of each breach once the watcher has flagged and
// escalated it: the events hub, the webhooks, the audit log.
type BreachNotifier interface {
	SLABreach(ctx context.Context, b Breach, t Ticket)
}

// TagSLABreached marks a ticket whose SLA target was breached.
const TagSLABreached = "sla_breached"

// DefaultWatchEvery is how often the watcher looks when Every is zero.
const DefaultWatchEvery = time.Minute

// watchBatch is how many breaches one store query returns.
const watchBatch = 100

// Watcher finds SLA targets that pass while their ticket is open, without
// waiting for anyone to read the ticket: it flags each breach once in the
// store (which adds an "sla" event to the audit trail; with several nodes
// only one wins), escalates the ticket (priority one step up, to urgent at
// most, and the sla_breached tag, as the system) and tells the notifiers.
type Watcher struct {
	Store  BreachStore
	Notify []BreachNotifier
	Every  time.Duration    // DefaultWatchEvery when zero
	Now    func() time.Time // time.Now when nil
	Log    *slog.Logger
}

// Run checks at once and then every Every until ctx ends. Failures are
// logged and the next tick tries again.
func (w *Watcher) Run(ctx context.Context) error {
	every := w.Every
	if every <= 0 {
		every = DefaultWatchEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := w.Check(ctx); err != nil && ctx.Err() == nil {
			w.log().Warn("sla watcher: check failed; trying again later", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Check flags, escalates and announces every breach due now; it returns
// how many it flagged.
func (w *Watcher) Check(ctx context.Context) (int, error) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ctx = WithActor(ctx, ActorSystem)
	flagged := 0
	for {
		at := now()
		due, err := w.Store.SLABreachesDue(ctx, at, watchBatch)
		if err != nil {
			return flagged, fmt.Errorf("tickets: breaches due: %w", err)
		}
		progress := false
		var errs []error
		for _, b := range due {
			ok, err := w.Store.FlagSLABreach(ctx, b, at)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			progress = true
			if !ok {
				continue // another node flagged it
			}
			flagged++
			t, err := w.escalate(ctx, b, at)
			if err != nil {
				errs = append(errs, err) // flagged all the same: announce it
			}
			w.log().Warn("sla breached", "ticket", b.TicketID, "target", b.Target, "due", b.Due, "priority", t.Priority,
				"assignee", t.Assignee, "call_id", t.CallID)
			for _, n := range w.Notify {
				n.SLABreach(ctx, b, t)
			}
		}
		if len(errs) > 0 {
			return flagged, errors.Join(errs...)
		}
		if len(due) < watchBatch || !progress {
			return flagged, nil
		}
	}
}

// escalate raises the breached ticket's priority one step and tags it.
func (w *Watcher) escalate(ctx context.Context, b Breach, at time.Time) (Ticket, error) {
	t, err := w.Store.Ticket(ctx, b.TicketID)
	if err != nil {
		return Ticket{ID: b.TicketID}, fmt.Errorf("tickets: read breached ticket %s: %w", b.TicketID, err)
	}
	changed := false
	if r := PriorityRank(t.Priority); r >= 0 && r < len(Priorities)-1 {
		t.Priority, changed = Priorities[r+1], true
	}
	if !slices.Contains(t.Tags, TagSLABreached) {
		t.Tags, changed = append(t.Tags, TagSLABreached), true
	}
	if !changed {
		return t, nil
	}
	t.UpdatedAt = at
	if err := w.Store.UpdateTicket(ctx, t); err != nil {
		return t, fmt.Errorf("tickets: escalate breached ticket %s: %w", b.TicketID, err)
	}
	if got, err := w.Store.Ticket(ctx, b.TicketID); err == nil {
		t = got
	}
	return t, nil
}

func (w *Watcher) log() *slog.Logger {
	if w.Log == nil {
		return slog.Default()
	}
	return w.Log
}
