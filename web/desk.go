package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
)

// Dispositions are the wrap-up codes an agent files a call under. They are
// stored as the ticket tag "disposition:<code>" (one per ticket), so they
// need no schema of their own.
var Dispositions = []string{"resolved", "follow-up", "escalated", "callback", "no-answer", "wrong-number", "information"}

// Tag prefixes the desk writes on tickets.
const (
	dispositionTag = "disposition:"
	// misrouteTag marks a ticket whose category an agent corrected at
	// wrap-up: "misroute:<routed category>-><corrected category>". The IVR
	// analytics count these.
	misrouteTag = "misroute:"
)

var (
	ticketPriorities = []string{tickets.PriorityLow, tickets.PriorityNormal, tickets.PriorityHigh, tickets.PriorityUrgent}
	ticketStatuses   = []string{tickets.StatusOpen, tickets.StatusPending, tickets.StatusSolved, tickets.StatusClosed}
	categoryRE       = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
)

const (
	maxSubject = 200
	maxSummary = 10000
)

// categories are the ticket categories (intent names) a ticket may take:
// Options.Categories, else the NLU's intents when it lists them, else nil
// (any well-formed name).
func (s *Server) categories() []string {
	if len(s.opts.Categories) > 0 {
		return s.opts.Categories
	}
	if l, ok := s.opts.NLU.(interface{ Intents() []string }); ok {
		return l.Intents()
	}
	return nil
}

// ticketFields tells the wrap-up form what it may choose from.
func (s *Server) ticketFields(w http.ResponseWriter, r *http.Request) {
	cats := s.categories()
	if cats == nil {
		cats = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"categories": cats, "priorities": ticketPriorities,
		"statuses": ticketStatuses, "dispositions": Dispositions})
}

// ticketEdit is the body of PUT /tickets/{id}; absent fields keep their
// value.
type ticketEdit struct {
	Subject     *string `json:"subject"`
	Summary     *string `json:"summary"`
	Category    *string `json:"category"`
	Priority    *string `json:"priority"`
	Status      *string `json:"status"`
	Disposition *string `json:"disposition"`
}

// fields names the fields the edit sets, for the audit log (free text
// only by name).
func (e ticketEdit) fields() string {
	var fs []string
	for _, f := range []struct {
		name string
		v    *string
		show bool
	}{{"subject", e.Subject, false}, {"summary", e.Summary, false}, {"category", e.Category, true},
		{"priority", e.Priority, true}, {"status", e.Status, true}, {"disposition", e.Disposition, true}} {
		switch {
		case f.v == nil:
		case f.show:
			fs = append(fs, f.name+"="+*f.v)
		default:
			fs = append(fs, f.name)
		}
	}
	return strings.Join(fs, " ")
}

// validate names the first bad field and why.
func (e ticketEdit) validate(categories []string) error {
	switch {
	case e.Subject == nil && e.Summary == nil && e.Category == nil && e.Priority == nil && e.Status == nil && e.Disposition == nil:
		return errors.New("nothing to change: send subject, summary, category, priority, status or disposition")
	case e.Subject != nil && strings.TrimSpace(*e.Subject) == "":
		return errors.New("subject: must not be empty")
	case e.Subject != nil && len(*e.Subject) > maxSubject:
		return fmt.Errorf("subject: at most %d characters", maxSubject)
	case e.Summary != nil && len(*e.Summary) > maxSummary:
		return fmt.Errorf("summary: at most %d characters", maxSummary)
	case e.Priority != nil && !slices.Contains(ticketPriorities, *e.Priority):
		return fmt.Errorf("priority: want one of %s, got %q", strings.Join(ticketPriorities, ", "), *e.Priority)
	case e.Status != nil && !slices.Contains(ticketStatuses, *e.Status):
		return fmt.Errorf("status: want one of %s, got %q", strings.Join(ticketStatuses, ", "), *e.Status)
	case e.Disposition != nil && *e.Disposition != "" && !slices.Contains(Dispositions, *e.Disposition):
		return fmt.Errorf("disposition: want one of %s, got %q", strings.Join(Dispositions, ", "), *e.Disposition)
	case e.Category != nil && !categoryRE.MatchString(*e.Category):
		return fmt.Errorf("category: want a lower-case name (letters, digits, '_', '-', '.'), got %q", *e.Category)
	case e.Category != nil && len(categories) > 0 && !slices.Contains(categories, *e.Category):
		return fmt.Errorf("category: %q is not one of %s", *e.Category, strings.Join(categories, ", "))
	}
	return nil
}

// updateTicket is the wrap-up save: the call's agent (or a supervisor or
// admin) edits the drafted ticket. A changed category is recorded as a
// misroute tag, the disposition as a disposition tag.
func (s *Server) updateTicket(w http.ResponseWriter, r *http.Request) {
	var e ticketEdit
	if !decode(w, r, &e) {
		return
	}
	if err := e.validate(s.categories()); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	t, ok := s.ticketOr404(w, r)
	if !ok {
		return
	}
	u := userOf(r)
	if u.Role != store.RoleAdmin && u.Role != store.RoleSupervisor {
		c, err := s.opts.Store.Call(r.Context(), t.CallID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
		if err != nil || c.Agent == "" || c.Agent != u.Username {
			writeError(w, http.StatusForbidden, "only the call's agent, a supervisor or an admin may edit this ticket")
			return
		}
	}
	if e.Subject != nil {
		t.Subject = strings.TrimSpace(*e.Subject)
	}
	if e.Summary != nil {
		t.Summary = *e.Summary
	}
	if e.Priority != nil {
		t.Priority = *e.Priority
	}
	if e.Status != nil {
		t.Status = *e.Status
	}
	if e.Category != nil && *e.Category != t.Category {
		t.Tags = misroute(t.Tags, t.Category, *e.Category)
		s.opts.Log.Info("ticket misrouted", "ticket", t.ID, "call_id", t.CallID, "from", t.Category,
			"to", *e.Category, "by", u.Username)
		t.Category = *e.Category
	}
	if e.Disposition != nil {
		t.Tags = slices.DeleteFunc(t.Tags, func(tag string) bool { return strings.HasPrefix(tag, dispositionTag) })
		if *e.Disposition != "" {
			t.Tags = append(t.Tags, dispositionTag+*e.Disposition)
		}
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	t.UpdatedAt = time.Now()
	if err := s.opts.Store.UpdateTicket(r.Context(), t); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, AuditTicketUpdate, "ticket:"+t.ID, e.fields())
	writeJSON(w, http.StatusOK, t)
}

// misroute records a category change from → to in tags. The first routed
// category is kept across several corrections, and correcting back to it
// removes the mark.
func misroute(tags []string, from, to string) []string {
	orig := from
	out := make([]string, 0, len(tags)+1)
	for _, tag := range tags {
		if rest, ok := strings.CutPrefix(tag, misrouteTag); ok {
			if f, _, ok := strings.Cut(rest, "->"); ok {
				orig = f
			}
			continue
		}
		out = append(out, tag)
	}
	if orig != to && orig != "" {
		out = append(out, misrouteTag+orig+"->"+to)
	}
	return out
}

// Reconnector is an optional ability of Calls: a reloaded agent page gives
// the call it was on a new WebRTC leg without dropping the caller.
type Reconnector interface {
	ReconnectWebRTC(ctx context.Context, callID, agent, offerSDP string) (string, error)
}

// reconnectCall is POST /calls/{id}/reconnect {"sdp"}: 501 until the call
// manager implements Reconnector.
func (s *Server) reconnectCall(w http.ResponseWriter, r *http.Request) {
	rc, ok := callAbility[Reconnector](s, w, "reconnect a call's audio yet; the call goes on without it")
	if !ok {
		return
	}
	var req sdpJSON
	if !decode(w, r, &req) {
		return
	}
	if !sdpOffer(w, req.SDP) {
		return
	}
	answer, err := rc.ReconnectWebRTC(r.Context(), chi.URLParam(r, "id"), userOf(r).Username, req.SDP)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sdpJSON{SDP: answer})
}
