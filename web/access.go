package web

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
)

// Policy says who may call a route.
type Policy struct {
	// Public routes need no token: the login, the health check and the
	// static UI (whose data all comes from the API).
	Public bool
	// Roles may call the route, with a session or an API token.
	Roles []string
	// QueryToken also takes the token from ?token=, for the events
	// WebSocket (browsers cannot set headers on one).
	QueryToken bool
	// Signed also takes a signed URL (signed.go) instead of a token: the
	// user and role it was issued to, until it expires. For recordings,
	// which an <audio> element fetches.
	Signed bool
	// Scrape also takes the metrics token (Options.MetricsToken), for a
	// Prometheus scraper.
	Scrape bool
}

var (
	allRoles = []string{store.RoleAdmin, store.RoleSupervisor, store.RoleQA, store.RoleAgent}

	public      = Policy{Public: true}
	anyRole     = Policy{Roles: allRoles}
	adminOnly   = Policy{Roles: []string{store.RoleAdmin}}
	supervisors = Policy{Roles: []string{store.RoleAdmin, store.RoleSupervisor}}
	reviewers   = Policy{Roles: []string{store.RoleAdmin, store.RoleSupervisor, store.RoleQA}}
	// deskStaff work tickets and agents' own records: everyone but QA,
	// who review and do not edit.
	deskStaff = Policy{Roles: []string{store.RoleAdmin, store.RoleSupervisor, store.RoleAgent}}
	// agentsOnly drive the softphone: only agents are offered calls.
	agentsOnly = Policy{Roles: []string{store.RoleAgent}}
)

// Access is the permission matrix: "METHOD /pattern" (chi's route pattern)
// → who may call it. The guard middleware enforces it for every request
// from this table alone; a route missing here is refused with 403 and
// fails TestEveryRouteHasAPolicy. Agents are further narrowed to their own
// calls, tickets, recordings, transcripts and evaluations by the handlers
// (scope.go): someone else's answers 404, as an absent one would.
var Access = map[string]Policy{
	"GET /healthz":    public,
	"GET /":           public,
	"GET /agent":      public,
	"GET /supervisor": public,
	"GET /helpdesk":   public,
	"GET /qa":         public,
	"GET /{file}":     public,

	// Operations: Prometheus metrics (admins, or the scraper's token), the
	// runtime profiles, and the erasure of one customer's personal data.
	"GET /metrics":                          {Roles: []string{store.RoleAdmin}, Scrape: true},
	"GET /debug/pprof/*":                    adminOnly,
	"POST /debug/pprof/symbol":              adminOnly,
	"POST /api/v1/customers/{number}/erase": adminOnly, // audited

	"POST /api/v1/auth/login":  public,
	"POST /api/v1/auth/logout": anyRole,
	"GET /api/v1/events":       {Roles: allRoles, QueryToken: true},
	"GET /api/v1/me":           anyRole,

	"POST /api/v1/users":            adminOnly,
	"GET /api/v1/users":             adminOnly,
	"POST /api/v1/tokens":           adminOnly,
	"GET /api/v1/tokens":            adminOnly,
	"DELETE /api/v1/tokens/{id}":    adminOnly,
	"GET /api/v1/audit":             adminOnly,
	"GET /api/v1/agents":            supervisors,
	"PUT /api/v1/agents/{username}": supervisors,
	// An agent reads and sets their own (the handlers check whose).
	"GET /api/v1/agents/{username}":        deskStaff,
	"POST /api/v1/agents/{username}/state": deskStaff,
	"GET /api/v1/queues":                   anyRole,

	"GET /api/v1/calls":                    anyRole, // agents: their own
	"POST /api/v1/calls/import":            reviewers,
	"GET /api/v1/calls/{id}":               anyRole,                         // agents: their own
	"GET /api/v1/calls/{id}/recording":     {Roles: allRoles, Signed: true}, // agents: their own; audited
	"GET /api/v1/calls/{id}/recording/url": anyRole,                         // a signed URL of the above; agents: their own
	"POST /api/v1/calls/{id}/answer":       agentsOnly,
	"POST /api/v1/calls/{id}/reject":       agentsOnly,
	"POST /api/v1/calls/{id}/hangup":       agentsOnly,
	"POST /api/v1/calls/{id}/transfer":     deskStaff,
	"POST /api/v1/calls/outbound":          agentsOnly,
	"POST /api/v1/calls/{id}/reconnect":    agentsOnly,
	// Live call control (livecall.go): the call's agent; the consulted
	// agent answers, declines or cancels a consultation; supervisors monitor.
	"POST /api/v1/calls/{id}/hold":             agentsOnly,
	"POST /api/v1/calls/{id}/resume":           agentsOnly,
	"POST /api/v1/calls/{id}/dtmf":             agentsOnly,
	"POST /api/v1/calls/{id}/consult":          agentsOnly,
	"POST /api/v1/calls/{id}/consult/answer":   agentsOnly,
	"POST /api/v1/calls/{id}/consult/{action}": agentsOnly,
	"GET /api/v1/calls/live":                   supervisors, // the wallboard's live calls
	"POST /api/v1/calls/{id}/monitor":          supervisors,
	"DELETE /api/v1/calls/{id}/monitor":        supervisors,
	// Recording pause (PCI): the call's agent, or a supervisor; audited.
	"POST /api/v1/calls/{id}/recording/pause":  deskStaff,
	"POST /api/v1/calls/{id}/recording/resume": deskStaff,
	"GET /api/v1/callers/{number}/history":     anyRole, // agents: callers they have or had on the line
	"GET /api/v1/kb/search":                    anyRole,
	"GET /api/v1/ivr/stats":                    reviewers,
	"GET /api/v1/ivr/misroutes.tsv":            reviewers,
	"POST /api/v1/nlu/classify":                anyRole,

	"GET /api/v1/tickets":                 anyRole, // agents: their own
	"GET /api/v1/tickets/export.csv":      anyRole, // agents: their own
	"GET /api/v1/tickets/helpdesk-fields": anyRole,
	"GET /api/v1/tickets/fields":          anyRole,
	"GET /api/v1/tickets/{id}":            anyRole, // agents: their own
	"PUT /api/v1/tickets/{id}":            deskStaff,
	"PATCH /api/v1/tickets/{id}":          deskStaff,
	"GET /api/v1/tickets/{id}/events":     anyRole,
	"GET /api/v1/tickets/{id}/notes":      anyRole,
	"POST /api/v1/tickets/{id}/notes":     deskStaff,

	"GET /api/v1/qa/evaluations":                    anyRole, // agents: their own
	"GET /api/v1/qa/evaluations/{id}":               anyRole,
	"GET /api/v1/qa/evaluations/{id}/reviews":       anyRole,
	"POST /api/v1/qa/evaluations/{id}/overrides":    reviewers,
	"POST /api/v1/qa/evaluations/{id}/ack":          deskStaff, // the call's agent, or a supervisor
	"POST /api/v1/qa/evaluations/{id}/calibrations": reviewers,
	"GET /api/v1/qa/reports":                        reviewers,

	// Teams (teams.go): a supervisor in a team sees theirs.
	"PUT /api/v1/users/{username}/team": adminOnly, // audited
	"GET /api/v1/teams":                 reviewers,
	// Webhook deliveries given up on: listed and replayed by admins (audited).
	"GET /api/v1/webhooks/dead-letters":              adminOnly,
	"POST /api/v1/webhooks/dead-letters/{id}/replay": adminOnly,
}

// routeKey is the matrix key of the route r will be routed to, "" when
// none matches (the 404 and 405 handlers answer those).
func (s *Server) routeKey(r *http.Request) string {
	path := r.URL.RawPath // chi routes on the raw path when there is one
	if path == "" {
		path = r.URL.Path
	}
	pattern := s.mux.Find(chi.NewRouteContext(), r.Method, path)
	if pattern == "" {
		return ""
	}
	return r.Method + " " + pattern
}

// guard applies Access to every request: public routes pass, the others
// need a valid token of an allowed role. The user goes on the context
// (userOf) and is the actor of ticket changes.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := s.routeKey(r)
		if key == "" {
			next.ServeHTTP(w, r)
			return
		}
		p, ok := Access[key]
		if !ok {
			s.opts.Log.Error("route has no access policy; refusing it", "route", key)
			writeError(w, http.StatusForbidden, "this route has no access policy")
			return
		}
		if p.Public || (p.Scrape && s.scraper(r)) {
			next.ServeHTTP(w, r)
			return
		}
		tok, ok := bearer(r)
		if !ok && p.Signed && signed(r) {
			u, err := s.verifySigned(r)
			if err != nil {
				writeError(w, http.StatusForbidden, err.Error())
				return
			}
			if !slices.Contains(p.Roles, u.Role) {
				writeError(w, http.StatusForbidden, "this needs role "+strings.Join(p.Roles, " or "))
				return
			}
			ctx := context.WithValue(r.Context(), userKey, u)
			next.ServeHTTP(w, r.WithContext(tickets.WithActor(ctx, u.Username)))
			return
		}
		if !ok && p.QueryToken {
			tok = r.URL.Query().Get("token")
			ok = tok != ""
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="contactd"`)
			writeError(w, http.StatusUnauthorized, "missing bearer token: log in at POST /api/v1/auth/login")
			return
		}
		u, err := s.principal(r.Context(), tok, true)
		if err != nil {
			if isNotFound(err) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="contactd", error="invalid_token"`)
				writeError(w, http.StatusUnauthorized, "invalid or expired token")
				return
			}
			s.fail(w, r, err)
			return
		}
		if !slices.Contains(p.Roles, u.Role) {
			writeError(w, http.StatusForbidden, "this needs role "+strings.Join(p.Roles, " or "))
			return
		}
		ctx := context.WithValue(r.Context(), userKey, u)
		ctx = context.WithValue(ctx, tokenKey, tok)
		ctx = tickets.WithActor(ctx, u.Username) // the ticket audit trail's "who"
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
