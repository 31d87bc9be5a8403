package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets/webhook"
)

// Replayer sends a webhook dead letter again (*webhook.Dispatcher).
type Replayer interface {
	Replay(dl store.DeadLetter) error
}

// listDeadLetters is GET /webhooks/dead-letters?pending=true&before=&limit=
// (admin): webhook deliveries given up on, newest first; next_before
// pages back.
func (s *Server) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.DeadLetterFilter{Limit: 100}
	switch v := q.Get("pending"); v {
	case "", "false", "0":
	case "true", "1":
		f.Pending = true
	default:
		writeError(w, http.StatusBadRequest, "pending: want true or false")
		return
	}
	var err error
	if f.Before, err = queryBefore(q); err == nil {
		f.Limit, err = queryLimit(q, 100)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ds, err := s.opts.Store.ListDeadLetters(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := map[string]any{"dead_letters": ds}
	if len(ds) == f.Limit {
		out["next_before"] = ds[len(ds)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

// replayDeadLetter is POST /webhooks/dead-letters/{id}/replay (admin): the
// delivery goes out again (202) with a fresh set of retries, to the
// endpoint with its URL as now configured; if that fails too it becomes a
// new dead letter. 404 unknown, 409 replayed already or its endpoint is no
// longer configured, 503 without webhooks or with the queue full.
func (s *Server) replayDeadLetter(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, "id: want a dead letter id")
		return
	}
	dl, err := s.opts.Store.DeadLetter(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !dl.ReplayedAt.IsZero() {
		writeError(w, http.StatusConflict, "replayed already by "+dl.ReplayedBy)
		return
	}
	if s.opts.Webhooks == nil {
		writeError(w, http.StatusServiceUnavailable, "no webhooks are configured")
		return
	}
	if err := s.opts.Webhooks.Replay(dl); err != nil {
		switch {
		case errors.Is(err, webhook.ErrUnknownEndpoint):
			writeError(w, http.StatusConflict, err.Error())
		case errors.Is(err, webhook.ErrQueueFull):
			w.Header().Set("Retry-After", "10")
			writeError(w, http.StatusServiceUnavailable, err.Error())
		default:
			s.fail(w, r, err)
		}
		return
	}
	by := userOf(r).Username
	// Two admins replaying at once may both send it; receivers dedupe on
	// the payload's id, so a lost race here is not an error.
	if err := s.opts.Store.MarkDeadLetterReplayed(r.Context(), id, by, time.Now()); err != nil && !errors.Is(err, store.ErrConflict) {
		s.fail(w, r, err)
		return
	}
	s.audit(r, AuditWebhookReplay, "dead_letter:"+strconv.FormatInt(id, 10), "url="+dl.URL+" event="+dl.EventID)
	if dl, err = s.opts.Store.DeadLetter(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, dl)
}
