package web

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
)

// Agents see only their own calls, tickets, recordings, transcripts and
// evaluations; supervisors, QA and admins see all. Someone else's is
// answered exactly like an absent one (404, same message), so an agent
// cannot probe which IDs exist.

// scoped says whether u sees only their own.
func scoped(u store.User) bool { return u.Role == store.RoleAgent }

// ownsCall: the call's agent, or the agent it is being offered to.
func (s *Server) ownsCall(u store.User, c store.Call) bool {
	if !scoped(u) {
		return true
	}
	if c.Agent != "" && c.Agent == u.Username {
		return true
	}
	a, ok := s.opts.Router.Agent(u.Username)
	return ok && a.Offering != "" && a.Offering == c.ID
}

// callOr404 loads the call id for the request's user.
func (s *Server) callOr404(w http.ResponseWriter, r *http.Request, id string) (store.Call, bool) {
	c, err := s.opts.Store.Call(r.Context(), id)
	if err != nil && !isNotFound(err) {
		s.fail(w, r, err)
		return c, false
	}
	if err != nil || !s.ownsCall(userOf(r), c) {
		writeError(w, http.StatusNotFound, "no such call")
		return store.Call{}, false
	}
	return c, true
}

// ownsTicket: assigned to u, written from u's call, or linked to one of
// u's calls as a repeat contact.
func (s *Server) ownsTicket(ctx context.Context, u store.User, t tickets.Ticket) (bool, error) {
	if !scoped(u) || (t.Assignee != "" && t.Assignee == u.Username) {
		return true, nil
	}
	ownCall := func(id string) (bool, error) {
		c, err := s.opts.Store.Call(ctx, id)
		if isNotFound(err) {
			return false, nil
		}
		return err == nil && c.Agent != "" && c.Agent == u.Username, err
	}
	if t.CallID != "" {
		if ok, err := ownCall(t.CallID); ok || err != nil {
			return ok, err
		}
	}
	evs, err := s.opts.Store.TicketEvents(ctx, t.ID)
	if err != nil {
		return false, err
	}
	for _, e := range evs {
		if e.Field == tickets.FieldLinkedCall && e.New != "" {
			if ok, err := ownCall(e.New); ok || err != nil {
				return ok, err
			}
		}
	}
	return false, nil
}

// ticketOr404 loads the ticket {id} for the request's user.
func (s *Server) ticketOr404(w http.ResponseWriter, r *http.Request) (tickets.Ticket, bool) {
	t, err := s.opts.Store.Ticket(r.Context(), chi.URLParam(r, "id"))
	if err != nil && !isNotFound(err) {
		s.fail(w, r, err)
		return t, false
	}
	ok := err == nil
	if ok {
		if ok, err = s.ownsTicket(r.Context(), userOf(r), t); err != nil {
			s.fail(w, r, err)
			return t, false
		}
	}
	if !ok {
		writeError(w, http.StatusNotFound, "no such ticket")
		return tickets.Ticket{}, false
	}
	return t, true
}

// evaluationOr404 loads the evaluation {id} for the request's user: an
// agent's are those of their calls, a supervisor in a team's those of
// calls its agents took (teams.go).
func (s *Server) evaluationOr404(w http.ResponseWriter, r *http.Request) (qa.Evaluation, bool) {
	e, err := s.opts.Store.Evaluation(r.Context(), chi.URLParam(r, "id"))
	if err != nil && !isNotFound(err) {
		s.fail(w, r, err)
		return e, false
	}
	ok := err == nil
	if u := userOf(r); ok && (scoped(u) || teamOf(u) != "") {
		c, err := s.opts.Store.Call(r.Context(), e.CallID)
		if err != nil && !isNotFound(err) {
			s.fail(w, r, err)
			return e, false
		}
		ok = err == nil && s.ownsCall(u, c)
		if ok {
			if ok, err = s.inTeam(r.Context(), teamOf(u), c); err != nil {
				s.fail(w, r, err)
				return e, false
			}
		}
	}
	if !ok {
		writeError(w, http.StatusNotFound, "no such evaluation")
		return qa.Evaluation{}, false
	}
	return e, true
}

// mayReadCaller: an agent may read the history of a number they have on
// the line (offered or answered) or have answered before.
func (s *Server) mayReadCaller(ctx context.Context, u store.User, number string, calls []store.Call) (bool, error) {
	if !scoped(u) {
		return true, nil
	}
	for _, c := range calls {
		if c.Agent != "" && c.Agent == u.Username {
			return true, nil
		}
	}
	a, ok := s.opts.Router.Agent(u.Username)
	if !ok || a.Offering == "" {
		return false, nil
	}
	c, err := s.opts.Store.Call(ctx, a.Offering)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil && c.From == number, err
}
