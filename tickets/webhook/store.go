package webhook

import (
	"context"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
)

// Publisher is what Store notifies; *Dispatcher is one.
type Publisher interface {
	Publish(typ string, t tickets.Ticket)
}

// Store is a store.Store that publishes ticket.created after CreateTicket
// and ticket.updated after UpdateTicket and AddTicketNote succeed.
type Store struct {
	store.Store
	Pub Publisher
}

// Wrap returns st publishing ticket events to pub.
func Wrap(st store.Store, pub Publisher) *Store { return &Store{Store: st, Pub: pub} }

// CreateTicket stores t and publishes ticket.created.
func (s *Store) CreateTicket(ctx context.Context, t tickets.Ticket) error {
	if err := s.Store.CreateTicket(ctx, t); err != nil {
		return err
	}
	s.publish(ctx, TicketCreated, t.ID, t)
	return nil
}

// UpdateTicket stores t and publishes ticket.updated.
func (s *Store) UpdateTicket(ctx context.Context, t tickets.Ticket) error {
	if err := s.Store.UpdateTicket(ctx, t); err != nil {
		return err
	}
	s.publish(ctx, TicketUpdated, t.ID, t)
	return nil
}

// AddTicketNote stores n and publishes ticket.updated.
func (s *Store) AddTicketNote(ctx context.Context, n tickets.Note) (int64, error) {
	id, err := s.Store.AddTicketNote(ctx, n)
	if err != nil {
		return id, err
	}
	s.publish(ctx, TicketUpdated, n.TicketID, tickets.Ticket{})
	return id, nil
}

// publish sends the stored ticket (with the store's clocks and breach
// flag), falling back to t when it cannot be read back.
func (s *Store) publish(ctx context.Context, typ, id string, t tickets.Ticket) {
	if got, err := s.Store.Ticket(context.WithoutCancel(ctx), id); err == nil {
		t = got
	} else if t.ID == "" {
		return
	}
	s.Pub.Publish(typ, t)
}

var _ store.Store = (*Store)(nil)
