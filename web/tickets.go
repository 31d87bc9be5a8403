package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
)

// The helpdesk: ticket list with filters and full-text search, CSV
// export, a lifecycle edit (status, assignee, team, priority), internal
// notes and the audit trail. Every change goes through the store, which
// records who made it (ticketActor puts the user on the context).

// maxTicketPage bounds one page of the list; exports may read more.
const (
	maxTicketPage = 500
	maxExport     = 10000
)

// ticketFilter reads the list's query parameters.
func ticketFilter(r *http.Request, maxLimit int) (tickets.Filter, error) {
	q := r.URL.Query()
	f := tickets.Filter{Status: q.Get("status"), Category: q.Get("category"), Priority: q.Get("priority"),
		Assignee: q.Get("assignee"), Team: q.Get("team"), Customer: q.Get("customer"), Query: q.Get("q")}
	if f.Status != "" && !tickets.ValidStatus(f.Status) {
		return f, fmt.Errorf("status: want one of %s, got %q", strings.Join(tickets.Statuses, ", "), f.Status)
	}
	if f.Priority != "" && tickets.PriorityRank(f.Priority) < 0 {
		return f, fmt.Errorf("priority: want one of %s, got %q", strings.Join(tickets.Priorities, ", "), f.Priority)
	}
	if len(f.Query) > 200 {
		return f, errors.New("q: at most 200 characters")
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			d, err2 := time.Parse("2006-01-02", v)
			if err2 != nil {
				return f, fmt.Errorf("%s: want a date (2025-03-14) or RFC 3339 time, got %q", p.name, v)
			}
			t = d
		}
		*p.dst = t
	}
	if v := q.Get("breached"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, fmt.Errorf("breached: want true or false, got %q", v)
		}
		f.Breached = b
	}
	f.Limit = 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return f, fmt.Errorf("limit: want a number 1-%d", maxLimit)
		}
		f.Limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, errors.New("offset: want a number ≥ 0")
		}
		f.Offset = n
	}
	return f, nil
}

// searchTickets is GET /tickets: with call_id the call's tickets (as
// before), otherwise the helpdesk list.
func (s *Server) searchTickets(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("call_id") != "" {
		s.listTickets(w, r)
		return
	}
	f, err := ticketFilter(r, maxTicketPage)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ts, err := s.listTicketsFor(r, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tickets": ts, "limit": f.Limit, "offset": f.Offset})
}

// csvColumns are the export's columns.
var csvColumns = []string{"id", "created_at", "updated_at", "status", "priority", "category", "sub_category", "subject",
	"summary", "customer_phone", "customer_id", "assignee", "team", "sentiment", "outcome", "tags", "order_number",
	"account_number", "call_id", "first_response_due", "resolution_due", "breached"}

// exportTickets is GET /tickets/export.csv with the list's filters.
func (s *Server) exportTickets(w http.ResponseWriter, r *http.Request) {
	f, err := ticketFilter(r, maxExport)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if r.URL.Query().Get("limit") == "" {
		f.Limit = maxExport
	}
	ts, err := s.listTicketsFor(r, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="tickets.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(csvColumns)
	tm := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, t := range ts {
		_ = cw.Write([]string{t.ID, tm(t.CreatedAt), tm(t.UpdatedAt), t.Status, t.Priority, t.Category, t.SubCategory,
			csvSafe(t.Subject), csvSafe(t.Summary), csvSafe(t.Customer.Phone), t.Customer.ID, t.Assignee, t.Team, t.Sentiment,
			t.Outcome, strings.Join(t.Tags, ";"), t.Entities[tickets.EntityOrderNumber], t.Entities[tickets.EntityAccountNumber],
			t.CallID, tm(t.FirstResponseDue), tm(t.ResolutionDue), strconv.FormatBool(t.Breached)})
	}
	cw.Flush()
}

// csvSafe defuses spreadsheet formulas in free text (CSV injection).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ticketPatch is the body of PATCH /tickets/{id}: the helpdesk's
// lifecycle fields; absent fields keep their value.
type ticketPatch struct {
	Status      *string `json:"status"`
	Assignee    *string `json:"assignee"`
	Team        *string `json:"team"`
	Priority    *string `json:"priority"`
	SubCategory *string `json:"sub_category"`
}

var nameRE = categoryRE // lower-case names: teams, sub-categories

// fields names the fields the patch sets, for the audit log.
func (p ticketPatch) fields() string {
	var fs []string
	for _, f := range []struct {
		name string
		v    *string
	}{{"status", p.Status}, {"assignee", p.Assignee}, {"team", p.Team}, {"priority", p.Priority}, {"sub_category", p.SubCategory}} {
		if f.v != nil {
			fs = append(fs, f.name+"="+*f.v)
		}
	}
	return strings.Join(fs, " ")
}

func (p ticketPatch) validate() error {
	switch {
	case p.Status == nil && p.Assignee == nil && p.Team == nil && p.Priority == nil && p.SubCategory == nil:
		return errors.New("nothing to change: send status, assignee, team, priority or sub_category")
	case p.Status != nil && !tickets.ValidStatus(*p.Status):
		return fmt.Errorf("status: want one of %s, got %q", strings.Join(tickets.Statuses, ", "), *p.Status)
	case p.Priority != nil && tickets.PriorityRank(*p.Priority) < 0:
		return fmt.Errorf("priority: want one of %s, got %q", strings.Join(tickets.Priorities, ", "), *p.Priority)
	case p.Team != nil && *p.Team != "" && !nameRE.MatchString(*p.Team):
		return fmt.Errorf("team: want a lower-case name, got %q", *p.Team)
	case p.SubCategory != nil && *p.SubCategory != "" && !nameRE.MatchString(*p.SubCategory):
		return fmt.Errorf("sub_category: want a lower-case name, got %q", *p.SubCategory)
	}
	return nil
}

// patchTicket is PATCH /tickets/{id}. Agents may take unassigned tickets
// and work their own; supervisors and admins any.
func (s *Server) patchTicket(w http.ResponseWriter, r *http.Request) {
	var p ticketPatch
	if !decode(w, r, &p) {
		return
	}
	if err := p.validate(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	t, ok := s.ticketOr404(w, r)
	if !ok {
		return
	}
	u := userOf(r)
	if p.Assignee != nil && *p.Assignee != "" {
		if _, err := s.opts.Store.UserByName(r.Context(), *p.Assignee); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("assignee: no user %q", *p.Assignee))
				return
			}
			s.fail(w, r, err)
			return
		}
	}
	if u.Role == store.RoleAgent {
		mine := t.Assignee == "" || t.Assignee == u.Username
		selfAssign := p.Assignee == nil || *p.Assignee == u.Username || (*p.Assignee == "" && t.Assignee == u.Username)
		if !mine || !selfAssign {
			writeError(w, http.StatusForbidden, "agents may work unassigned tickets and their own; ask a supervisor to reassign")
			return
		}
	}
	if p.Status != nil {
		t.Status = *p.Status
	}
	if p.Assignee != nil {
		t.Assignee = *p.Assignee
	}
	if p.Team != nil {
		t.Team = *p.Team
	}
	if p.Priority != nil {
		t.Priority = *p.Priority
	}
	if p.SubCategory != nil {
		t.SubCategory = *p.SubCategory
	}
	t.UpdatedAt = time.Now()
	if err := s.opts.Store.UpdateTicket(r.Context(), t); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, AuditTicketUpdate, "ticket:"+t.ID, p.fields())
	t, err := s.opts.Store.Ticket(r.Context(), t.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// listTicketsFor is the list f selects as the request's user may see it.
func (s *Server) listTicketsFor(r *http.Request, f tickets.Filter) ([]tickets.Ticket, error) {
	if u := userOf(r); scoped(u) {
		return s.opts.Store.ListTicketsOf(r.Context(), u.Username, f)
	}
	return s.opts.Store.ListTickets(r.Context(), f)
}

// ticketEvents is GET /tickets/{id}/events: the audit trail.
func (s *Server) ticketEvents(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.ticketOr404(w, r); !ok {
		return
	}
	evs, err := s.opts.Store.TicketEvents(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if evs == nil {
		evs = []tickets.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}

// ticketNotes is GET /tickets/{id}/notes.
func (s *Server) ticketNotes(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.ticketOr404(w, r); !ok {
		return
	}
	ns, err := s.opts.Store.TicketNotes(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ns == nil {
		ns = []tickets.Note{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"notes": ns})
}

// addTicketNote is POST /tickets/{id}/notes {"body", "internal"}
// (internal defaults to true). Card data in the body is redacted.
func (s *Server) addTicketNote(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Body     string `json:"body"`
		Internal *bool  `json:"internal"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case strings.TrimSpace(req.Body) == "":
		writeError(w, http.StatusBadRequest, "body: must not be empty")
		return
	case len(req.Body) > maxSummary:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("body: at most %d characters", maxSummary))
		return
	}
	t, ok := s.ticketOr404(w, r)
	if !ok {
		return
	}
	n := tickets.Note{TicketID: t.ID, Author: userOf(r).Username, Body: tickets.Redact(req.Body),
		Internal: req.Internal == nil || *req.Internal, CreatedAt: time.Now()}
	id, err := s.opts.Store.AddTicketNote(r.Context(), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n.ID = id
	s.audit(r, AuditTicketNote, "ticket:"+t.ID, fmt.Sprintf("note=%d internal=%t", id, n.Internal))
	// A person's note is a response: let the store start the SLA clock.
	if t.FirstResponseAt.IsZero() {
		t.UpdatedAt = n.CreatedAt
		if err := s.opts.Store.UpdateTicket(r.Context(), t); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusCreated, n)
}

// helpdeskStatuses is what the helpdesk page offers.
func (s *Server) helpdeskFields(w http.ResponseWriter, r *http.Request) {
	cats := s.categories()
	if cats == nil {
		cats = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"categories": cats, "priorities": tickets.Priorities,
		"statuses": tickets.Statuses, "csv_columns": csvColumns})
}
