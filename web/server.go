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
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/ivr/kb"
	"github.com/contactd/contactd/recordings"
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

// ACD is what the API needs from the routing engine: the *routing.Router
// on one node, the cluster's shared ACD (package cluster) on several.
type ACD interface {
	Agent(username string) (routing.AgentView, bool)
	Agents() []routing.AgentView
	SetAgent(username string, skills map[string]int, maxCalls int)
	SetState(username string, s routing.State, reason string) error
	Queues() []routing.QueueView
}

// Options are the server's parts.
type Options struct {
	Store    store.Store
	Router   ACD
	Calls    Calls
	Importer Importer
	NLU      Classifier
	Hub      *Hub
	DataDir  string
	Ready    func() bool // healthz answers 200 only when true
	// Health, when set, says why the node must not get new work ("" when
	// it may: e.g. a cluster node that fenced itself); healthz answers 503
	// with it, so a load balancer sends agents elsewhere.
	Health   func() string
	Log      *slog.Logger
	TokenTTL time.Duration // a session's absolute lifetime (DefaultSessionTTL when zero)
	SIPRealm string        // digest realm for agents' SIP phones ("" = no SIP secrets)
	KB       Knowledge
	// Categories are the ticket categories (intent names) the wrap-up may
	// choose; nil takes the NLU's intents when it lists them.
	Categories []string

	// SessionIdle ends a session unused this long (DefaultSessionIdle
	// when zero).
	SessionIdle time.Duration
	// LoginLimit bounds failed logins per source address and username.
	LoginLimit LoginLimit
	// AllowedOrigins are origins besides the server's own host whose pages
	// may open the events WebSocket: host patterns ("desk.example.com",
	// "*.example.com") or with a scheme ("https://desk.example.com").
	AllowedOrigins []string

	// Recordings finds and decrypts recordings; nil: plaintext files in
	// DataDir.
	Recordings *recordings.Files
	// URLKey signs recording URLs (signed.go); nil: a random key, so links
	// end with the process. URLTTL is their lifetime (DefaultURLTTL).
	URLKey []byte
	URLTTL time.Duration
	// Metrics serves GET /metrics (nil: 404). Admins may read it, and so
	// may a scraper sending MetricsToken as its bearer token (when set).
	Metrics      http.Handler
	MetricsToken string

	// Webhooks replays webhook dead letters (nil: no webhooks configured).
	Webhooks Replayer
	// Recognizer transcribes WAV uploads to POST /calls/import (nil: only
	// transcripts are imported; wavimport.go).
	Recognizer asr.Recognizer
}

// Knowledge finds knowledge-base passages (agents' suggestions).
type Knowledge interface {
	Search(query string, k int) []kb.Hit
}

// Server is the HTTP handler.
type Server struct {
	opts   Options
	mux    *chi.Mux
	logins *loginLimiter
	now    func() time.Time // the clock for sessions and login limits; tests move it
	// wsCheck is how often an events WebSocket pings and re-checks its
	// session, closing when the session has ended.
	wsCheck time.Duration
	// wavSlots bounds the WAV imports transcribed at once (wavimport.go).
	wavSlots chan struct{}
}

// NewServer builds the routes.
func NewServer(opts Options) *Server {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultSessionTTL
	}
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = DefaultSessionIdle
	}
	if opts.Ready == nil {
		opts.Ready = func() bool { return true }
	}
	if len(opts.URLKey) == 0 {
		opts.URLKey = newURLKey()
	}
	if opts.URLTTL <= 0 {
		opts.URLTTL = DefaultURLTTL
	}
	if opts.Recordings == nil {
		opts.Recordings, _ = recordings.New(opts.DataDir, nil, false, opts.Log) // cannot fail without a key
	}
	s := &Server{opts: opts, mux: chi.NewRouter(), logins: newLoginLimiter(opts.LoginLimit), now: time.Now,
		wsCheck: 25 * time.Second, wavSlots: make(chan struct{}, maxWAVImports)}
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) routes() {
	r := s.mux
	r.Use(middleware.Recoverer)
	r.Use(securityHeaders)
	r.Use(s.guard) // who may call what: the Access matrix
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if !s.opts.Ready() {
			writeError(w, http.StatusServiceUnavailable, "starting")
			return
		}
		if s.opts.Health != nil {
			if why := s.opts.Health(); why != "" {
				writeError(w, http.StatusServiceUnavailable, why)
				return
			}
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
	r.Get("/metrics", s.metrics)
	r.Get("/debug/pprof/*", s.profile)
	r.Post("/debug/pprof/symbol", s.profile)

	r.Route("/api/v1", func(r chi.Router) {
		r.Use(middleware.NoCache)
		r.Post("/auth/login", s.login)
		r.Get("/events", s.events) // token in the query: browsers can't set WS headers
		r.Post("/auth/logout", s.logout)
		r.Get("/me", s.me)
		r.Post("/users", s.createUser)
		r.Get("/users", s.listUsers)
		r.Put("/users/{username}/team", s.setUserTeam)
		r.Get("/teams", s.listTeams)
		r.Get("/webhooks/dead-letters", s.listDeadLetters)
		r.Post("/webhooks/dead-letters/{id}/replay", s.replayDeadLetter)
		r.Post("/tokens", s.createToken)
		r.Get("/tokens", s.listTokens)
		r.Delete("/tokens/{id}", s.revokeToken)
		r.Get("/audit", s.listAudit)
		r.Get("/agents", s.listAgents)
		r.Put("/agents/{username}", s.putAgent)
		r.Get("/agents/{username}", s.getAgent)
		r.Post("/agents/{username}/state", s.setAgentState)
		r.Get("/queues", s.listQueues)
		r.Get("/calls", s.listCalls)
		r.Post("/calls/import", s.importCall)
		r.Get("/calls/{id}", s.getCall)
		r.Get("/calls/{id}/recording", s.getRecording) // a bearer token or a signed URL
		r.Get("/calls/{id}/recording/url", s.recordingURL)
		r.Post("/calls/{id}/answer", s.answerCall)
		r.Post("/calls/{id}/reject", s.rejectCall)
		r.Post("/calls/{id}/hangup", s.hangupCall)
		r.Post("/calls/{id}/transfer", s.transferCall)
		r.Post("/calls/outbound", s.dialOut)
		r.Post("/calls/{id}/reconnect", s.reconnectCall)
		s.liveCallRoutes(r) // hold, keys, consultation, monitoring (livecall.go)
		r.Get("/callers/{number}/history", s.callerHistory)
		r.Post("/customers/{number}/erase", s.eraseCustomer)
		r.Get("/kb/search", s.searchKB)
		r.Get("/ivr/stats", s.ivrStats)
		r.Get("/ivr/misroutes.tsv", s.misroutesTSV)
		r.Get("/tickets", s.searchTickets) // call_id=… or the helpdesk's filters and q=
		r.Get("/tickets/export.csv", s.exportTickets)
		r.Get("/tickets/helpdesk-fields", s.helpdeskFields)
		r.Patch("/tickets/{id}", s.patchTicket)
		r.Get("/tickets/{id}/events", s.ticketEvents)
		r.Get("/tickets/{id}/notes", s.ticketNotes)
		r.Post("/tickets/{id}/notes", s.addTicketNote)
		r.Get("/tickets/fields", s.ticketFields)
		r.Get("/tickets/{id}", s.getTicket)
		r.Put("/tickets/{id}", s.updateTicket)
		r.Get("/qa/evaluations", s.qaListEvaluations)
		r.Get("/qa/evaluations/{id}", s.getEvaluation)
		r.Get("/qa/evaluations/{id}/reviews", s.qaReviews)
		r.Post("/qa/evaluations/{id}/overrides", s.qaOverride)
		r.Post("/qa/evaluations/{id}/ack", s.qaAck)
		r.Post("/qa/evaluations/{id}/calibrations", s.qaCalibrate)
		r.Get("/qa/reports", s.qaReport)
		r.Post("/nlu/classify", s.classify)
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
		args := []any{"path", r.URL.Path, "err", err}
		if id := chi.URLParam(r, "id"); id != "" && strings.HasPrefix(r.URL.Path, "/api/v1/calls/") {
			args = append(args, "call_id", id)
		}
		s.opts.Log.Error("api", args...)
		writeError(w, st, "internal error")
		return
	}
	writeError(w, st, err.Error())
}

// files is where recordings are read and deleted.
func (s *Server) files() *recordings.Files { return s.opts.Recordings }
