package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/ivr/kb"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/transcript"
)

//go:embed ui
var uiFS embed.FS

// Calls is what the API needs from the call manager.
type Calls interface {
	AnswerWebRTC(ctx context.Context, callID, agent, offerSDP string) (string, error)
	Reject(callID, agent string) error
	Hangup(callID, agent string) error
}

// Importer runs the post-call pipeline on imported transcripts.
type Importer interface {
	Import(ctx context.Context, tr transcript.Transcript, intent string) (call.Result, error)
}

// Classifier is the NLU as the API sees it.
type Classifier interface {
	Classify(text string) (intent string, confidence float64)
}

// Options are the server's parts.
type Options struct {
	Store    store.Store
	Router   *routing.Router
	Calls    Calls
	Importer Importer
	NLU      Classifier
	Hub      *Hub
	DataDir  string
	Ready    func() bool // healthz answers 200 only when true
	Log      *slog.Logger
	TokenTTL time.Duration
	SIPRealm string // digest realm for agents' SIP phones ("" = no SIP secrets)
	KB       Knowledge
	// Categories are the ticket categories (intent names) the wrap-up may
	// choose; nil takes the NLU's intents when it lists them.
	Categories []string
}

// Knowledge finds knowledge-base passages (agents' suggestions).
type Knowledge interface {
	Search(query string, k int) []kb.Hit
}

// Server is the HTTP handler.
type Server struct {
	opts Options
	mux  *chi.Mux
}

// NewServer builds the routes.
func NewServer(opts Options) *Server {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = 12 * time.Hour
	}
	if opts.Ready == nil {
		opts.Ready = func() bool { return true }
	}
	s := &Server{opts: opts, mux: chi.NewRouter()}
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) routes() {
	r := s.mux
	r.Use(middleware.Recoverer)
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if !s.opts.Ready() {
			writeError(w, http.StatusServiceUnavailable, "starting")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	ui, _ := fs.Sub(uiFS, "ui")
	files := http.FileServer(http.FS(ui))
	r.Get("/", func(w http.ResponseWriter, r *http.Request) { serveFile(w, r, ui, "index.html") })
	r.Get("/agent", func(w http.ResponseWriter, r *http.Request) { serveFile(w, r, ui, "agent.html") })
	r.Get("/supervisor", func(w http.ResponseWriter, r *http.Request) { serveFile(w, r, ui, "supervisor.html") })
	r.Get("/helpdesk", func(w http.ResponseWriter, r *http.Request) { serveFile(w, r, ui, "helpdesk.html") })
	r.Get("/qa", func(w http.ResponseWriter, r *http.Request) { serveFile(w, r, ui, "qa.html") })
	r.Get("/{file}", files.ServeHTTP) // agent.js, agent.css, …

	r.Route("/api/v1", func(r chi.Router) {
		r.Use(middleware.NoCache)
		r.Post("/auth/login", s.login)
		r.Get("/events", s.events) // token in the query: browsers can't set WS headers
		r.Group(func(r chi.Router) {
			r.Use(s.authenticate)
			r.Use(s.ticketActor) // the audit trail's "who"
			r.Post("/auth/logout", s.logout)
			r.Get("/me", s.me)
			r.With(s.require(store.RoleAdmin)).Post("/users", s.createUser)
			r.With(s.require(store.RoleAdmin)).Get("/users", s.listUsers)
			r.With(s.require(store.RoleAdmin, store.RoleSupervisor)).Get("/agents", s.listAgents)
			r.With(s.require(store.RoleAdmin, store.RoleSupervisor)).Put("/agents/{username}", s.putAgent)
			r.Get("/agents/{username}", s.getAgent)
			r.Post("/agents/{username}/state", s.setAgentState)
			r.Get("/queues", s.listQueues)
			r.Get("/calls", s.listCalls)
			r.With(s.require(store.RoleAdmin, store.RoleSupervisor, store.RoleQA)).Post("/calls/import", s.importCall)
			r.Get("/calls/{id}", s.getCall)
			r.Get("/calls/{id}/recording", s.getRecording)
			r.Post("/calls/{id}/answer", s.answerCall)
			r.Post("/calls/{id}/reject", s.rejectCall)
			r.Post("/calls/{id}/hangup", s.hangupCall)
			r.Post("/calls/{id}/reconnect", s.reconnectCall)
			r.Get("/callers/{number}/history", s.callerHistory)
			r.Get("/kb/search", s.searchKB)
			r.With(s.require(store.RoleAdmin, store.RoleSupervisor, store.RoleQA)).Get("/ivr/stats", s.ivrStats)
			r.Get("/tickets", s.searchTickets) // call_id=… or the helpdesk's filters and q=
			r.Get("/tickets/export.csv", s.exportTickets)
			r.Get("/tickets/helpdesk-fields", s.helpdeskFields)
			r.With(s.require(store.RoleAdmin, store.RoleSupervisor, store.RoleAgent)).Patch("/tickets/{id}", s.patchTicket)
			r.Get("/tickets/{id}/events", s.ticketEvents)
			r.Get("/tickets/{id}/notes", s.ticketNotes)
			r.With(s.require(store.RoleAdmin, store.RoleSupervisor, store.RoleAgent)).Post("/tickets/{id}/notes", s.addTicketNote)
			r.Get("/tickets/fields", s.ticketFields)
			r.Get("/tickets/{id}", s.getTicket)
			r.Put("/tickets/{id}", s.updateTicket)
			r.Get("/qa/evaluations", s.qaListEvaluations)
			r.Get("/qa/evaluations/{id}", s.getEvaluation)
			r.Get("/qa/evaluations/{id}/reviews", s.qaReviews)
			r.With(s.require(store.RoleAdmin, store.RoleSupervisor, store.RoleQA)).Post("/qa/evaluations/{id}/overrides", s.qaOverride)
			r.Post("/qa/evaluations/{id}/ack", s.qaAck)
			r.With(s.require(store.RoleAdmin, store.RoleSupervisor, store.RoleQA)).Post("/qa/evaluations/{id}/calibrations", s.qaCalibrate)
			r.With(s.require(store.RoleAdmin, store.RoleSupervisor, store.RoleQA)).Get("/qa/reports", s.qaReport)
			r.Post("/nlu/classify", s.classify)
		})
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "no such API endpoint")
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		})
	})
}

func serveFile(w http.ResponseWriter, r *http.Request, fsys fs.FS, name string) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b)
}

// --- JSON helpers ---

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

const maxBody = 4 << 20

// decode reads one JSON object strictly: unknown fields, trailing data and
// oversize bodies are errors with a message the client can act on.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	// The body must be JSON whatever Content-Type says: `curl -d` labels
	// JSON as a form, and refusing that helps nobody.
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", maxBody))
		case errors.Is(err, io.EOF):
			writeError(w, http.StatusBadRequest, "empty body: want a JSON object")
		default:
			writeError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		}
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad JSON: trailing data after the object")
		return false
	}
	return true
}

// statusOf maps domain errors to HTTP statuses in one place.
func statusOf(err error) int {
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, call.ErrNoSuchCall), errors.Is(err, routing.ErrUnknownAgent):
		return http.StatusNotFound
	case errors.Is(err, store.ErrConflict), errors.Is(err, routing.ErrInCall), errors.Is(err, routing.ErrNoOffer),
		errors.Is(err, call.ErrNotYours):
		return http.StatusConflict
	case errors.Is(err, routing.ErrBadState):
		return http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	st := statusOf(err)
	if st == http.StatusInternalServerError {
		s.opts.Log.Error("api", "path", r.URL.Path, "err", err)
		writeError(w, st, "internal error")
		return
	}
	writeError(w, st, err.Error())
}
