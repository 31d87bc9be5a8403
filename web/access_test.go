package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/postgres"
	"github.com/contactd/contactd/store/sqlite"
)

// routes walks the server's registered routes as matrix keys.
func routes(t *testing.T, s *Server) []string {
	t.Helper()
	var keys []string
	err := chi.Walk(s.mux, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		keys = append(keys, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

// TestEveryRouteHasAPolicy walks every route registered on the server
// and fails on any without an entry in Access — a new route must declare
// who may call it. It also fails on entries for routes that no longer
// exist, and checks that the guard finds each route's entry for a real
// request path.
func TestEveryRouteHasAPolicy(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := NewServer(Options{Store: st})
	walked := routes(t, s)
	if len(walked) < 40 {
		t.Fatalf("walked only %d routes: %v", len(walked), walked)
	}
	for _, k := range walked {
		p, ok := Access[k]
		if !ok {
			t.Errorf("route %s has no access policy: declare who may call it in Access (web/access.go)", k)
			continue
		}
		if !p.Public && len(p.Roles) == 0 {
			t.Errorf("route %s: policy is neither public nor open to any role", k)
		}
		for _, role := range p.Roles {
			if !validRole(role) {
				t.Errorf("route %s: unknown role %q", k, role)
			}
		}
		method, pattern, _ := strings.Cut(k, " ")
		r := httptest.NewRequest(method, concrete(pattern, "someone"), nil)
		if got := s.routeKey(r); got != k {
			t.Errorf("guard resolves %s %s to %q, want %q", method, r.URL.Path, got, k)
		}
	}
	for k := range Access {
		if !slices.Contains(walked, k) {
			t.Errorf("Access has %q, which is not a route", k)
		}
	}
}

var paramRE = regexp.MustCompile(`\{[a-z]+\}`)

// concrete fills a route pattern's parameters: {username} with user, a
// caller number, a UI file, and IDs that do not exist.
func concrete(pattern, user string) string {
	return paramRE.ReplaceAllStringFunc(pattern, func(p string) string {
		switch p {
		case "{username}":
			return user
		case "{number}":
			return "%2B15550100"
		case "{file}":
			return "agent.css"
		}
		return "nope"
	})
}

// stubCalls is a call manager with no calls.
type stubCalls struct{}

func (stubCalls) AnswerWebRTC(context.Context, string, string, string) (string, error) {
	return "", call.ErrNoSuchCall
}
func (stubCalls) Reject(string, string) error { return call.ErrNoSuchCall }
func (stubCalls) Hangup(string, string) error { return call.ErrNoSuchCall }

// openPostgres opens the Postgres store on a fresh database when
// CONTACTD_TEST_DATABASE_URL is set, and skips otherwise.
func openPostgres(t *testing.T) store.Store {
	t.Helper()
	admin := os.Getenv("CONTACTD_TEST_DATABASE_URL")
	if admin == "" {
		t.Skip("CONTACTD_TEST_DATABASE_URL is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("Postgres at CONTACTD_TEST_DATABASE_URL: %v", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "contactd_web_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(ctx)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	st, err := postgres.Open(ctx, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestAccessClasses states who may call what, apart from Access, so that
// a loosened (or tightened) entry in the matrix fails here.
func TestAccessClasses(t *testing.T) {
	const (
		admin = store.RoleAdmin
		sup   = store.RoleSupervisor
		qa    = store.RoleQA
		agent = store.RoleAgent
	)
	for _, c := range []struct {
		class  string
		roles  []string // nil: public
		routes []string
	}{
		{"public", nil, []string{"GET /healthz", "GET /", "GET /agent", "GET /supervisor", "GET /helpdesk", "GET /qa",
			"GET /{file}", "POST /api/v1/auth/login"}},
		{"admin only", []string{admin}, []string{"POST /api/v1/users", "GET /api/v1/users", "POST /api/v1/tokens",
			"GET /api/v1/tokens", "DELETE /api/v1/tokens/{id}", "GET /api/v1/audit", "POST /api/v1/customers/{number}/erase",
			"GET /metrics", "GET /debug/pprof/*", "POST /debug/pprof/symbol", "PUT /api/v1/users/{username}/team",
			"GET /api/v1/webhooks/dead-letters", "POST /api/v1/webhooks/dead-letters/{id}/replay"}},
		{"supervisors", []string{admin, sup}, []string{"GET /api/v1/agents", "PUT /api/v1/agents/{username}",
			"POST /api/v1/calls/{id}/monitor", "DELETE /api/v1/calls/{id}/monitor"}},
		{"reviewers", []string{admin, sup, qa}, []string{"POST /api/v1/calls/import", "GET /api/v1/ivr/stats", "GET /api/v1/ivr/misroutes.tsv",
			"POST /api/v1/qa/evaluations/{id}/overrides", "POST /api/v1/qa/evaluations/{id}/calibrations", "GET /api/v1/qa/reports", "GET /api/v1/teams"}},
		{"desk staff", []string{admin, sup, agent}, []string{"PUT /api/v1/tickets/{id}", "PATCH /api/v1/tickets/{id}",
			"POST /api/v1/tickets/{id}/notes", "POST /api/v1/qa/evaluations/{id}/ack", "GET /api/v1/agents/{username}",
			"POST /api/v1/agents/{username}/state", "POST /api/v1/calls/{id}/transfer"}},
		{"softphone", []string{agent}, []string{"POST /api/v1/calls/{id}/answer", "POST /api/v1/calls/{id}/reject",
			"POST /api/v1/calls/{id}/hangup", "POST /api/v1/calls/{id}/reconnect", "POST /api/v1/calls/outbound",
			"POST /api/v1/calls/{id}/hold", "POST /api/v1/calls/{id}/resume", "POST /api/v1/calls/{id}/dtmf",
			"POST /api/v1/calls/{id}/consult", "POST /api/v1/calls/{id}/consult/answer", "POST /api/v1/calls/{id}/consult/{action}"}},
		{"signed in (agents scoped to their own)", []string{admin, sup, qa, agent}, []string{"GET /api/v1/me",
			"POST /api/v1/auth/logout", "GET /api/v1/events", "GET /api/v1/queues", "GET /api/v1/calls", "GET /api/v1/calls/{id}",
			"GET /api/v1/calls/{id}/recording", "GET /api/v1/calls/{id}/recording/url", "GET /api/v1/callers/{number}/history", "GET /api/v1/kb/search",
			"POST /api/v1/nlu/classify", "GET /api/v1/tickets", "GET /api/v1/tickets/export.csv", "GET /api/v1/tickets/{id}",
			"GET /api/v1/tickets/{id}/events", "GET /api/v1/tickets/{id}/notes", "GET /api/v1/tickets/fields",
			"GET /api/v1/tickets/helpdesk-fields", "GET /api/v1/qa/evaluations", "GET /api/v1/qa/evaluations/{id}",
			"GET /api/v1/qa/evaluations/{id}/reviews"}},
	} {
		for _, k := range c.routes {
			p, ok := Access[k]
			if p.Signed != (k == "GET /api/v1/calls/{id}/recording") {
				t.Errorf("%s: signed URLs %t", k, p.Signed)
			}
			if p.Scrape != (k == "GET /metrics") {
				t.Errorf("%s: metrics token %t", k, p.Scrape)
			}
			switch {
			case !ok:
				t.Errorf("%s: %s has no policy", c.class, k)
			case c.roles == nil && !p.Public:
				t.Errorf("%s: %s is not public", c.class, k)
			case c.roles != nil && (p.Public || !sameSet(p.Roles, c.roles)):
				t.Errorf("%s: %s allows %v (public %t), want %v", c.class, k, p.Roles, p.Public, c.roles)
			}
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestRoleMatrixSQLite(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	testRoleMatrix(t, st)
}

func TestRoleMatrixPostgres(t *testing.T) { testRoleMatrix(t, openPostgres(t)) }

// testRoleMatrix signs in as each role, with a session and with an API
// token, and calls every route of the server: a role the matrix leaves
// out gets 403, one it lets in gets past the guard (anything but 401 and
// 403 — bad bodies and absent IDs answer 400 and 404), no token gets 401.
func testRoleMatrix(t *testing.T, st store.Store) {
	f := newAPIWith(t, st, func(o *Options) { o.Calls = stubCalls{} })
	ctx := context.Background()
	type who struct{ name, role, token string }
	var whos []who
	for _, role := range allRoles {
		name := "matrix-" + role
		if _, err := CreateUser(ctx, f.store, f.router, "", name, name+"-password", role); err != nil {
			t.Fatal(err)
		}
		whos = append(whos, who{name, role, f.login(t, name, name+"-password")})
		var tok struct{ Token string }
		if st := f.do(t, f.admin, "POST", "/api/v1/tokens", map[string]string{"name": "matrix-" + role, "role": role}, &tok); st != 201 {
			t.Fatalf("create %s token: %d", role, st)
		}
		whos = append(whos, who{"token:matrix-" + role, role, tok.Token})
	}
	var checked int
	for _, k := range routes(t, f.server) {
		method, pattern, _ := strings.Cut(k, " ")
		p := Access[k]
		if p.Public {
			if st, _ := f.raw(t, "", method, concrete(pattern, "x"), "{}"); st == 401 || st == 403 {
				t.Errorf("public %s: %d without a token", k, st)
			}
			continue
		}
		if st, _ := f.raw(t, "", method, concrete(pattern, "x"), "{}"); st != 401 {
			t.Errorf("%s without a token: %d, want 401", k, st)
		}
		for _, w := range whos {
			tok := w.token
			if k == "POST /api/v1/auth/logout" && !strings.HasPrefix(w.name, "token:") {
				tok = f.login(t, w.name, w.name+"-password") // a session of its own to end
			}
			got, body := f.raw(t, tok, method, concrete(pattern, w.name), "{}")
			allowed := slices.Contains(p.Roles, w.role)
			switch {
			case !allowed && (got != 403 || !strings.Contains(body, "needs role")):
				t.Errorf("%s as %s (%s): %d %q, want 403 from the matrix", k, w.name, w.role, got, body)
			case allowed && (got == 401 || got == 403):
				t.Errorf("%s as %s (%s): %d %q, want it let through", k, w.name, w.role, got, body)
			}
			checked++
		}
	}
	t.Logf("checked %d route × principal pairs", checked)
	// The sessions are still good: nothing above ended one by mistake.
	for _, w := range whos {
		if st := f.do(t, w.token, "GET", "/api/v1/me", nil, nil); st != 200 {
			t.Errorf("%s after the matrix: /me %d", w.name, st)
		}
	}
}

// TestUnlistedRouteIsRefused: a route added without a policy answers 403
// to everyone, admin included, instead of being open.
func TestUnlistedRouteIsRefused(t *testing.T) {
	f := newAPI(t)
	f.server.mux.Get("/api/v2/unlisted", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	var e struct{ Error string }
	if st := f.do(t, f.admin, "GET", "/api/v2/unlisted", nil, &e); st != 403 || !strings.Contains(e.Error, "no access policy") {
		t.Fatalf("unlisted route: %d %q, want 403", st, e.Error)
	}
	if st := f.do(t, f.admin, "GET", "/api/v1/no-such-thing", nil, nil); st != 404 {
		t.Fatalf("unknown API path: %d, want 404", st)
	}
	if st := f.do(t, f.admin, "DELETE", "/api/v1/calls", nil, nil); st != 405 {
		t.Fatalf("wrong method: %d, want 405", st)
	}
}
