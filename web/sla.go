package web

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
)

// The SLA breach watcher (tickets.Watcher) announces each breach on the
// events WebSocket (Hub.SLABreach) and in the audit log (BreachAudit).

var _ tickets.BreachNotifier = (*Hub)(nil)

// SLABreach implements tickets.BreachNotifier: an "sla_breach" event to
// every supervisor and admin and to the ticket's assignee.
func (h *Hub) SLABreach(_ context.Context, b tickets.Breach, t tickets.Ticket) {
	ev := map[string]any{"type": "sla_breach", "ticket_id": b.TicketID, "target": b.Target, "due": b.Due,
		"priority": t.Priority, "subject": t.Subject, "category": t.Category, "assignee": t.Assignee, "team": t.Team}
	var own any
	if t.Assignee != "" {
		own = ev
	}
	h.emit(t.Assignee, own, ev) // supervisors and admins, but not the assignee twice
}

// BreachAudit returns a tickets.BreachNotifier that writes each breach to
// the audit log as the system.
func BreachAudit(st store.Store, log *slog.Logger) tickets.BreachNotifier {
	return breachAudit{st, log}
}

type breachAudit struct {
	st  store.Store
	log *slog.Logger
}

func (a breachAudit) SLABreach(ctx context.Context, b tickets.Breach, t tickets.Ticket) {
	err := a.st.AppendAudit(ctx, store.AuditEntry{At: time.Now(), Actor: tickets.ActorSystem, Action: AuditSLABreach,
		Target: "ticket:" + b.TicketID, Detail: fmt.Sprintf("target=%s due=%s priority=%s", b.Target, b.Due.UTC().Format(time.RFC3339), t.Priority)})
	if err != nil && a.log != nil {
		a.log.Error("audit log write failed", "action", AuditSLABreach, "ticket", b.TicketID, "err", err)
	}
}
