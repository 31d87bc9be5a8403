package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
)

// testTicketFields round-trips every field a drafted ticket has.
func testTicketFields(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	tk := tickets.Ticket{
		ID: "tf1", CallID: "c9", Category: "tech_support", SubCategory: "outage", Priority: tickets.PriorityUrgent,
		Subject: "Broadband down", Summary: "No internet since Monday.", Entities: map[string]string{"account_number": "441297"},
		Sentiment: tickets.SentimentNegative, SentimentStart: tickets.SentimentNegative, SentimentEnd: tickets.SentimentNeutral,
		Tags: []string{"tech_support", "outage"}, Status: tickets.StatusNew,
		Customer:  tickets.Customer{Phone: "+15550100", ID: "acct:441297", AccountNumber: "441297"},
		Outcome:   tickets.OutcomeFollowUp,
		FollowUps: []tickets.FollowUp{{Action: "Engineer visit.", Due: ms(base.AddDate(0, 0, 2))}, {Action: "Call back."}},
		Assignee:  "alice", Team: "tier2", CreatedAt: base, UpdatedAt: base,
		FirstResponseDue: base.Add(time.Hour), ResolutionDue: base.Add(8 * time.Hour), FirstResponseAt: base,
	}
	must(t, s.CreateTicket(c, tk), "CreateTicket")
	got, err := s.Ticket(c, tk.ID)
	must(t, err, "Ticket")
	want := tk
	want.CreatedAt, want.UpdatedAt, want.FirstResponseDue, want.ResolutionDue, want.FirstResponseAt =
		ms(tk.CreatedAt), ms(tk.UpdatedAt), ms(tk.FirstResponseDue), ms(tk.ResolutionDue), ms(tk.FirstResponseAt)
	want.Breached = true // base+8h is long past and nothing solved it
	equal(t, got, want, "Ticket with every field")
}

// testHelpdesk covers the list filters, full-text search, repeat-contact
// lookup and notes.
func testHelpdesk(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	mk := func(id, cat, prio, status, assignee, cust, subject, summary string, at time.Time) tickets.Ticket {
		return tickets.Ticket{ID: id, CallID: "call-" + id, Category: cat, Priority: prio, Status: status, Assignee: assignee,
			Customer: tickets.Customer{Phone: "+1555" + cust, ID: "tel:+1555" + cust}, Subject: subject, Summary: summary,
			Entities: map[string]string{}, Tags: []string{cat}, CreatedAt: at, UpdatedAt: at}
	}
	all := []tickets.Ticket{
		mk("h1", "billing", "high", "open", "alice", "01", "Charged twice", "Caller was charged twice for order 58213; refunded.", base),
		mk("h2", "billing", "normal", "solved", "bob", "02", "Invoice copy", "Caller wanted an invoice copy by e-mail.", base.Add(time.Hour)),
		mk("h3", "tech_support", "urgent", "open", "alice", "01", "Broadband outage", "No internet since Monday; engineer booked.", base.Add(2*time.Hour)),
		mk("h4", "returns", "low", "pending", "", "03", "Return label", "Needs a return label for a jacket.", base.Add(3*time.Hour)),
	}
	for _, x := range all {
		must(t, s.CreateTicket(c, x), "CreateTicket "+x.ID)
	}
	ids := func(ts []tickets.Ticket) []string {
		out := []string{}
		for _, x := range ts {
			out = append(out, x.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    tickets.Filter
		want []string
	}{
		{"all newest first", tickets.Filter{}, []string{"h4", "h3", "h2", "h1"}},
		{"status", tickets.Filter{Status: "open"}, []string{"h3", "h1"}},
		{"category", tickets.Filter{Category: "billing"}, []string{"h2", "h1"}},
		{"priority", tickets.Filter{Priority: "urgent"}, []string{"h3"}},
		{"assignee", tickets.Filter{Assignee: "alice"}, []string{"h3", "h1"}},
		{"customer by id", tickets.Filter{Customer: "tel:+155501"}, []string{"h3", "h1"}},
		{"customer by phone", tickets.Filter{Customer: "+155503"}, []string{"h4"}},
		{"date range", tickets.Filter{From: base.Add(time.Hour), To: base.Add(3 * time.Hour)}, []string{"h3", "h2"}},
		{"limit offset", tickets.Filter{Limit: 2, Offset: 1}, []string{"h3", "h2"}},
		{"search word", tickets.Filter{Query: "invoice"}, []string{"h2"}},
		{"search stem", tickets.Filter{Query: "refund"}, []string{"h1"}},
		{"search two words", tickets.Filter{Query: "engineer internet"}, []string{"h3"}},
		{"search number", tickets.Filter{Query: "58213"}, []string{"h1"}},
		{"search and filter", tickets.Filter{Query: "caller", Status: "solved"}, []string{"h2"}},
		{"search nothing", tickets.Filter{Query: "zebra"}, []string{}},
		{"search syntax is text", tickets.Filter{Query: `"AND OR * ( NEAR`}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListTickets(c, tc.f)
			must(t, err, "ListTickets")
			equal(t, ids(got), tc.want, "ListTickets")
		})
	}

	// Notes are searchable and audited.
	id, err := s.AddTicketNote(c, tickets.Note{TicketID: "h4", Author: "bob", Body: "Customer prefers courier pickup", Internal: true, CreatedAt: base.Add(4 * time.Hour)})
	must(t, err, "AddTicketNote")
	if id == 0 {
		t.Error("AddTicketNote returned ID 0")
	}
	_, err = s.AddTicketNote(c, tickets.Note{TicketID: "h4", Author: "alice", Body: "Label sent", CreatedAt: base.Add(5 * time.Hour)})
	must(t, err, "AddTicketNote 2")
	notes, err := s.TicketNotes(c, "h4")
	must(t, err, "TicketNotes")
	if len(notes) != 2 || notes[0].Body != "Customer prefers courier pickup" || !notes[0].Internal || notes[1].Internal ||
		notes[0].Author != "bob" || !notes[0].CreatedAt.Equal(ms(base.Add(4*time.Hour))) {
		t.Errorf("TicketNotes = %+v", notes)
	}
	got, err := s.ListTickets(c, tickets.Filter{Query: "courier"})
	must(t, err, "ListTickets by note")
	equal(t, ids(got), []string{"h4"}, "search finds a note's words")
	_, err = s.AddTicketNote(c, tickets.Note{TicketID: "nope", Body: "x"})
	wantErr(t, err, store.ErrNotFound, "AddTicketNote to an unknown ticket")

	// Repeat contacts: the customer's open ticket of that category.
	open1, err := s.OpenTicket(c, "tel:+155501", "billing", base.Add(-time.Hour))
	must(t, err, "OpenTicket")
	equal(t, open1.ID, "h1", "OpenTicket")
	_, err = s.OpenTicket(c, "tel:+155501", "billing", base.Add(time.Minute))
	wantErr(t, err, store.ErrNotFound, "OpenTicket older than since")
	_, err = s.OpenTicket(c, "tel:+155502", "billing", base.Add(-time.Hour))
	wantErr(t, err, store.ErrNotFound, "OpenTicket of a solved ticket")
	_, err = s.OpenTicket(c, "", "billing", base.Add(-time.Hour))
	wantErr(t, err, store.ErrNotFound, "OpenTicket without a customer")

	// Search follows updates.
	h2 := all[1]
	h2.Summary = "Caller asked about a zebra print."
	must(t, s.UpdateTicket(c, h2), "UpdateTicket")
	got, err = s.ListTickets(c, tickets.Filter{Query: "zebra"})
	must(t, err, "ListTickets after update")
	equal(t, ids(got), []string{"h2"}, "search after update")
	got, err = s.ListTickets(c, tickets.Filter{Query: "invoice copy"})
	must(t, err, "ListTickets old words")
	equal(t, ids(got), []string{"h2"}, "subject words still found") // subject unchanged
	got, err = s.ListTickets(c, tickets.Filter{Query: "wanted"})
	must(t, err, "ListTickets a word of the old summary")
	equal(t, ids(got), []string{}, "the old summary's words are gone from the index")
}

// testTicketAudit checks the audit trail and the SLA clocks UpdateTicket
// keeps.
func testTicketAudit(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	tk := tickets.Ticket{ID: "a1", Category: "billing", Priority: "normal", Status: tickets.StatusNew, Tags: []string{"billing"},
		CreatedAt: base, UpdatedAt: base, FirstResponseDue: base.Add(time.Hour), ResolutionDue: base.Add(24 * time.Hour)}
	must(t, s.CreateTicket(c, tk), "CreateTicket")

	// A system change is not a first response.
	tk.Tags, tk.UpdatedAt = append(tk.Tags, "repeat_contact"), base.Add(time.Minute)
	must(t, s.UpdateTicket(c, tk), "UpdateTicket by system")
	got, err := s.Ticket(c, "a1")
	must(t, err, "Ticket")
	if !got.FirstResponseAt.IsZero() {
		t.Errorf("system change set FirstResponseAt %v", got.FirstResponseAt)
	}

	ac := tickets.WithActor(c, "alice")
	tk = got
	tk.Status, tk.Assignee, tk.Priority, tk.UpdatedAt = tickets.StatusOpen, "alice", "high", base.Add(30*time.Minute)
	must(t, s.UpdateTicket(ac, tk), "UpdateTicket by alice")
	tk.Status, tk.UpdatedAt = tickets.StatusSolved, base.Add(2*time.Hour)
	must(t, s.UpdateTicket(ac, tk), "solve")
	got, err = s.Ticket(c, "a1")
	must(t, err, "Ticket")
	equal(t, got.FirstResponseAt, ms(base.Add(30*time.Minute)), "FirstResponseAt")
	equal(t, got.SolvedAt, ms(base.Add(2*time.Hour)), "SolvedAt")
	equal(t, got.Breached, false, "Breached (answered and solved in time)")

	tk = got
	tk.Status, tk.UpdatedAt = tickets.StatusOpen, base.Add(3*time.Hour)
	must(t, s.UpdateTicket(tickets.WithActor(c, "bob"), tk), "reopen")
	got, _ = s.Ticket(c, "a1")
	equal(t, got.SolvedAt, time.Time{}, "SolvedAt after reopening")
	equal(t, got.Breached, true, "Breached (reopened, resolution due long ago)")
	brk, err := s.ListTickets(c, tickets.Filter{Breached: true})
	must(t, err, "ListTickets breached")
	if len(brk) != 1 || brk[0].ID != "a1" {
		t.Errorf("breached list = %v", brk)
	}

	must(t, s.AddTicketEvents(c, []tickets.Event{{TicketID: "a1", At: base.Add(25 * time.Hour), Actor: "system", Field: "sla", New: "breached"}}), "AddTicketEvents")
	evs, err := s.TicketEvents(c, "a1")
	must(t, err, "TicketEvents")
	type ev struct{ actor, field, old, new string }
	var gotEv []ev
	for _, e := range evs {
		gotEv = append(gotEv, ev{e.Actor, e.Field, e.Old, e.New})
		if e.ID == 0 || e.TicketID != "a1" || e.At.IsZero() {
			t.Errorf("event %+v lacks id, ticket or time", e)
		}
	}
	equal(t, gotEv, []ev{
		{"system", "created", "", "new"},
		{"system", "tags", `["billing"]`, `["billing","repeat_contact"]`},
		{"alice", "priority", "normal", "high"},
		{"alice", "status", "new", "open"},
		{"alice", "assignee", "", "alice"},
		{"alice", "status", "open", "solved"},
		{"bob", "status", "solved", "open"},
		{"system", "sla", "", "breached"},
	}, "audit trail")
	if !slices.IsSortedFunc(evs, func(a, b tickets.Event) int { return int(a.ID - b.ID) }) {
		t.Error("events not in order")
	}
}
