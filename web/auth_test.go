package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/contactd/contactd/store"
)

// fakeClock is the server's clock in tests that move time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func withClock(f *apiFixture) *fakeClock {
	clk := &fakeClock{t: time.Now()}
	f.server.now = clk.Now
	return clk
}

func (f *apiFixture) tryLogin(t *testing.T, user, pw string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/auth/login",
		strings.NewReader(`{"username":"`+user+`","password":"`+pw+`"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

func auditOf(t *testing.T, f *apiFixture, query string) []store.AuditEntry {
	t.Helper()
	var out struct{ Entries []store.AuditEntry }
	if st := f.do(t, f.admin, "GET", "/api/v1/audit"+query, nil, &out); st != 200 {
		t.Fatalf("GET /audit%s: %d", query, st)
	}
	return out.Entries
}

func hasAudit(es []store.AuditEntry, actor, action, target string) bool {
	return slices.ContainsFunc(es, func(e store.AuditEntry) bool {
		return e.Actor == actor && e.Action == action && (target == "" || e.Target == target)
	})
}

func TestLoginRateLimit(t *testing.T) {
	f := newAPIWith(t, openSQLite(t), func(o *Options) {
		o.LoginLimit = LoginLimit{PerUser: 3, PerIP: 6, Window: time.Minute}
	})
	clk := withClock(f)
	ctx := context.Background()
	for _, u := range []string{"erin", "sam"} {
		if _, err := CreateUser(ctx, f.store, f.router, "", u, u+"-password", store.RoleAgent); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if st, _ := f.tryLogin(t, "erin", "guess"+strconv.Itoa(i)); st != 401 {
			t.Fatalf("wrong password %d: %d", i, st)
		}
	}
	// The username is locked: the right password too gets 429.
	st, h := f.tryLogin(t, "erin", "erin-password")
	if ra, _ := strconv.Atoi(h.Get("Retry-After")); st != 429 || ra < 55 || ra > 60 {
		t.Fatalf("after 3 failures: %d Retry-After %q, want 429 and about 60 s", st, h.Get("Retry-After"))
	}
	if st, _ := f.tryLogin(t, "ERIN", "erin-password"); st != 429 {
		t.Errorf("the lock is dodged by case: %d", st)
	}
	// Another user from the same address is not locked (3 of 6 failures).
	if st, _ := f.tryLogin(t, "sam", "sam-password"); st != 200 {
		t.Fatalf("sam: %d", st)
	}
	// Guessing at other names uses up the address's allowance.
	for _, u := range []string{"ghost1", "ghost2", "ghost3"} {
		if st, _ := f.tryLogin(t, u, "x"); st != 401 {
			t.Fatalf("%s: %d", u, st)
		}
	}
	if st, h := f.tryLogin(t, "sam", "sam-password"); st != 429 || h.Get("Retry-After") == "" {
		t.Fatalf("after 6 failures from one address: %d %q, want 429", st, h.Get("Retry-After"))
	}
	clk.Add(61 * time.Second)
	if st, _ := f.tryLogin(t, "erin", "erin-password"); st != 200 {
		t.Fatalf("after the window: %d", st)
	}
	// A good login forgets the username's failures.
	for range 2 {
		f.tryLogin(t, "erin", "nope")
	}
	if st, _ := f.tryLogin(t, "erin", "erin-password"); st != 200 {
		t.Fatal("2 failures locked erin")
	}
	for range 2 {
		f.tryLogin(t, "erin", "nope")
	}
	if st, _ := f.tryLogin(t, "erin", "erin-password"); st != 200 {
		t.Fatal("failures before a good login still counted")
	}

	es := auditOf(t, f, "?action=login.failed&limit=1000")
	if n := len(es); n != 10 {
		t.Errorf("%d login.failed entries, want 10", n)
	}
	for _, e := range es {
		if e.IP != "127.0.0.1" {
			t.Errorf("failed login entry %+v lacks the address", e)
		}
	}
	locks := auditOf(t, f, "?action=login.locked")
	if !hasAudit(locks, "erin", AuditLoginLocked, "user:erin") || !hasAudit(locks, "ghost3", AuditLoginLocked, "ip:127.0.0.1") {
		t.Errorf("lock entries %+v", locks)
	}
}

func TestLimiterKeys(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:5000":            "192.0.2.7",
		"[2001:db8:1:2:3::9]:443":   "2001:db8:1:2::/64",
		"[::ffff:192.0.2.8]:80":     "192.0.2.8",
		"not-an-address":            "not-an-address",
		"[2001:db8:1:2:ffff::]:443": "2001:db8:1:2::/64",
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		if got := clientIP(r); got != want {
			t.Errorf("clientIP(%s) = %s, want %s", addr, got, want)
		}
	}
}

func TestSessionExpiry(t *testing.T) {
	f := newAPIWith(t, openSQLite(t), func(o *Options) {
		o.TokenTTL = 2 * time.Hour
		o.SessionIdle = 30 * time.Minute
	})
	clk := withClock(f)
	if _, err := CreateUser(context.Background(), f.store, f.router, "", "erin", "erin-password", store.RoleAgent); err != nil {
		t.Fatal(err)
	}
	me := func(tok string) int { return f.do(t, tok, "GET", "/api/v1/me", nil, nil) }

	// Idle: each use keeps it alive, half an hour without one ends it.
	tok := f.login(t, "erin", "erin-password")
	for i := range 3 {
		clk.Add(20 * time.Minute)
		if st := me(tok); st != 200 {
			t.Fatalf("use %d, 20 min after the last: %d", i, st)
		}
	}
	clk.Add(31 * time.Minute)
	if st := me(tok); st != 401 {
		t.Fatalf("31 min idle: %d, want 401", st)
	}
	clk.Add(-31 * time.Minute)
	if st := me(tok); st != 401 {
		t.Fatalf("an idled-out session came back: %d", st)
	}

	// Absolute: however busy, it ends after TokenTTL.
	tok = f.login(t, "erin", "erin-password")
	for used := 25 * time.Minute; used < 2*time.Hour; used += 25 * time.Minute {
		clk.Add(25 * time.Minute)
		if st := me(tok); st != 200 {
			t.Fatalf("in use at %v: %d", used, st)
		}
	}
	clk.Add(25 * time.Minute)
	if st := me(tok); st != 401 {
		t.Fatalf("past the lifetime: %d, want 401", st)
	}
}

// TestLogoutEndsTheEventsSocket: logout revokes the token at once, and the
// open events WebSocket closes with 1008 at its next check.
func TestLogoutEndsTheEventsSocket(t *testing.T) {
	f := newAPI(t)
	f.server.wsCheck = 50 * time.Millisecond
	if _, err := CreateUser(context.Background(), f.store, f.router, "", "erin", "erin-password", store.RoleAgent); err != nil {
		t.Fatal(err)
	}
	tok := f.login(t, "erin", "erin-password")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"/api/v1/events?token="+tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	for range 2 { // hello, erin's state
		if _, _, err := ws.Read(ctx); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(150 * time.Millisecond) // a few checks pass while the session lives
	if st := f.do(t, tok, "POST", "/api/v1/auth/logout", nil, nil); st != 204 {
		t.Fatalf("logout: %d", st)
	}
	start := time.Now()
	_, _, err = ws.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("socket after logout: %v, want close 1008", err)
	}
	t.Logf("socket closed %v after logout", time.Since(start).Round(time.Millisecond))
	if st := f.do(t, tok, "GET", "/api/v1/me", nil, nil); st != 401 {
		t.Fatalf("token after logout: %d", st)
	}
	if st, _ := f.raw(t, "", "GET", "/api/v1/events?token="+tok, ""); st != 401 {
		t.Fatalf("events with the ended token: %d", st)
	}
	if es := auditOf(t, f, "?actor=erin"); !hasAudit(es, "erin", AuditLogout, "") || !hasAudit(es, "erin", AuditLogin, "user:erin") {
		t.Errorf("audit %+v", es)
	}
}

func TestAPITokens(t *testing.T) {
	f := newAPI(t)
	if _, err := CreateUser(context.Background(), f.store, f.router, "", "erin", "erin-password", store.RoleAgent); err != nil {
		t.Fatal(err)
	}
	erin := f.login(t, "erin", "erin-password")
	var created struct {
		ID, Name, Role, Token string
		TokenHash             string `json:"token_hash"`
	}
	if st := f.do(t, f.admin, "POST", "/api/v1/tokens", map[string]string{"name": "crm", "role": "supervisor"}, &created); st != 201 ||
		!strings.HasPrefix(created.Token, apiTokenPrefix) || len(created.Token) < 40 || created.Role != "supervisor" || created.TokenHash != "" {
		t.Fatalf("create: %d %+v", st, created)
	}
	for _, bad := range []struct {
		body map[string]string
		want int
	}{
		{map[string]string{"name": "crm", "role": "qa"}, 409},
		{map[string]string{"name": "crm tool", "role": "qa"}, 400},
		{map[string]string{"name": "x", "role": "root"}, 400},
	} {
		if st := f.do(t, f.admin, "POST", "/api/v1/tokens", bad.body, nil); st != bad.want {
			t.Errorf("create %v: %d, want %d", bad.body, st, bad.want)
		}
	}
	if st := f.do(t, erin, "POST", "/api/v1/tokens", map[string]string{"name": "mine", "role": "admin"}, nil); st != 403 {
		t.Errorf("agent creating a token: %d", st)
	}
	// The secret is shown once: the list has names and roles only.
	st, body := f.raw(t, f.admin, "GET", "/api/v1/tokens", "")
	if st != 200 || !strings.Contains(body, `"crm"`) || strings.Contains(body, created.Token) || strings.Contains(body, tokenHash(created.Token)) {
		t.Fatalf("list: %d %s", st, body)
	}
	// The token acts with its role.
	var me struct{ Username, Role string }
	if st := f.do(t, created.Token, "GET", "/api/v1/me", nil, &me); st != 200 || me.Username != "token:crm" || me.Role != "supervisor" {
		t.Fatalf("me: %d %+v", st, me)
	}
	if st := f.do(t, created.Token, "GET", "/api/v1/agents", nil, nil); st != 200 {
		t.Errorf("supervisor token lists agents: %d", st)
	}
	if st := f.do(t, created.Token, "POST", "/api/v1/users", map[string]string{"username": "x", "password": "xxxxxxxx", "role": "admin"}, nil); st != 403 {
		t.Errorf("supervisor token creates users: %d", st)
	}
	if st := f.do(t, created.Token, "POST", "/api/v1/auth/logout", nil, nil); st != 204 {
		t.Errorf("logout with a token: %d", st)
	}
	if st := f.do(t, created.Token, "GET", "/api/v1/me", nil, nil); st != 200 {
		t.Errorf("logout revoked an API token: %d", st)
	}
	// Revoked, it stops at once; its name may be used again.
	if st := f.do(t, f.admin, "DELETE", "/api/v1/tokens/"+created.ID, nil, nil); st != 204 {
		t.Fatalf("revoke: %d", st)
	}
	if st := f.do(t, created.Token, "GET", "/api/v1/me", nil, nil); st != 401 {
		t.Errorf("revoked token: %d", st)
	}
	if st := f.do(t, f.admin, "DELETE", "/api/v1/tokens/"+created.ID, nil, nil); st != 404 {
		t.Errorf("revoke twice: %d", st)
	}
	if st := f.do(t, f.admin, "POST", "/api/v1/tokens", map[string]string{"name": "crm", "role": "qa"}, nil); st != 201 {
		t.Errorf("reuse a revoked name: %d", st)
	}
	es := auditOf(t, f, "?actor=admin")
	if !hasAudit(es, "admin", AuditTokenCreate, "token:"+created.ID) || !hasAudit(es, "admin", AuditTokenRevoke, "token:"+created.ID) {
		t.Errorf("audit %+v", es)
	}
}

// TestAuditTrail: the audited actions leave entries that the admin can
// filter and page through.
func TestAuditTrail(t *testing.T) {
	f, tok := scopeFixture(t)
	do := func(who, method, path, body string, want int) http.Header {
		t.Helper()
		req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok[who])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s %s: %d, want %d", who, method, path, resp.StatusCode, want)
		}
		return resp.Header
	}
	do("sue", "GET", "/api/v1/calls/ca/recording", "", 200)
	if h := do("admin", "GET", "/api/v1/calls/cb/recording?download=1", "", 200); !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
		t.Errorf("download: Content-Disposition %q", h.Get("Content-Disposition"))
	}
	do("alice", "PATCH", "/api/v1/tickets/tca", `{"status":"pending"}`, 200)
	do("alice", "PUT", "/api/v1/tickets/tca", `{"subject":"Refund"}`, 200)
	do("alice", "POST", "/api/v1/tickets/tca/notes", `{"body":"called back"}`, 201)
	do("quinn", "POST", "/api/v1/qa/evaluations/eca/overrides", `{"item":"greeting","passed":false,"comment":"no name"}`, 201)
	do("quinn", "POST", "/api/v1/qa/evaluations/eca/calibrations", `{"items":{"greeting":true}}`, 201)
	do("alice", "POST", "/api/v1/qa/evaluations/eca/ack", `{"status":"acknowledged"}`, 200)
	do("admin", "POST", "/api/v1/users", `{"username":"newbie","password":"newbie-password","role":"agent"}`, 201)
	do("admin", "PUT", "/api/v1/agents/newbie", `{"skills":{"billing":3}}`, 200)
	do("admin", "POST", "/api/v1/calls/import", `{"transcript":[{"speaker":"caller","start_ms":0,"end_ms":900,"text":"my bill is wrong"}]}`, 201)
	do("bob", "POST", "/api/v1/auth/logout", "", 204)
	f.tryLogin(t, "alice", "wrong")

	all := auditOf(t, f, "?limit=1000")
	for _, w := range []struct{ actor, action, target string }{
		{"alice", AuditLogin, "user:alice"},
		{"alice", AuditLoginFailed, "user:alice"},
		{"bob", AuditLogout, ""},
		{"sue", AuditRecordingPlay, "call:ca"},
		{"admin", AuditRecordingDown, "call:cb"},
		{"alice", AuditTicketUpdate, "ticket:tca"},
		{"alice", AuditTicketNote, "ticket:tca"},
		{"quinn", AuditEvalOverride, "evaluation:eca"},
		{"quinn", AuditEvalCalibration, "evaluation:eca"},
		{"alice", AuditEvalAck, "evaluation:eca"},
		{"admin", AuditUserCreate, "user:newbie"},
		{"admin", AuditAgentUpdate, "user:newbie"},
		{"admin", AuditCallImport, ""},
	} {
		if !hasAudit(all, w.actor, w.action, w.target) {
			t.Errorf("no audit entry %s %s %s", w.actor, w.action, w.target)
		}
	}
	for _, e := range all {
		if e.At.IsZero() || e.IP == "" {
			t.Errorf("entry without time or address: %+v", e)
		}
	}
	// A player's range requests after the first are the same play.
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/calls/ca/recording", nil)
	req.Header.Set("Authorization", "Bearer "+tok["sue"])
	req.Header.Set("Range", "bytes=3-")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if plays := auditOf(t, f, "?action=recording.play"); resp.StatusCode != 206 || len(plays) != 1 {
		t.Errorf("range request: %d, %d play entries, want 206 and 1", resp.StatusCode, len(plays))
	}

	// Filters and paging.
	for _, e := range auditOf(t, f, "?actor=alice") {
		if e.Actor != "alice" {
			t.Errorf("actor filter let through %+v", e)
		}
	}
	var page struct {
		Entries    []store.AuditEntry
		NextBefore int64 `json:"next_before"`
	}
	var seen []int64
	path := "/api/v1/audit?limit=4"
	for range 100 {
		page.NextBefore = 0
		if st := f.do(t, f.admin, "GET", path, nil, &page); st != 200 {
			t.Fatalf("page: %d", st)
		}
		for _, e := range page.Entries {
			if len(seen) > 0 && e.ID >= seen[len(seen)-1] {
				t.Fatalf("page order: %d after %d", e.ID, seen[len(seen)-1])
			}
			seen = append(seen, e.ID)
		}
		if page.NextBefore == 0 {
			break
		}
		path = "/api/v1/audit?limit=4&before=" + strconv.FormatInt(page.NextBefore, 10)
	}
	if len(seen) != len(auditOf(t, f, "?limit=1000")) {
		t.Errorf("paging saw %d entries", len(seen))
	}
	for _, bad := range []string{"?limit=0", "?before=x", "?from=yesterday"} {
		if st := f.do(t, f.admin, "GET", "/api/v1/audit"+bad, nil, nil); st != 400 {
			t.Errorf("audit%s: %d, want 400", bad, st)
		}
	}
	if st := f.do(t, tok["sue"], "GET", "/api/v1/audit", nil, nil); st != 403 {
		t.Errorf("supervisor reads the audit log: %d", st)
	}
}

// failingAudit is a store whose audit log cannot be written.
type failingAudit struct{ store.Store }

func (failingAudit) AppendAudit(context.Context, store.AuditEntry) error {
	return errors.New("disk full")
}

// TestRecordingNeedsAnAuditEntry: no entry, no recording.
func TestRecordingNeedsAnAuditEntry(t *testing.T) {
	f, tok := scopeFixture(t)
	f.server.opts.Store = failingAudit{f.store}
	if st, body := f.raw(t, tok["sue"], "GET", "/api/v1/calls/ca/recording", ""); st != 500 || strings.Contains(body, "RIFF") {
		t.Fatalf("recording without audit: %d %q, want 500", st, body)
	}
	if st := f.do(t, tok["sue"], "GET", "/api/v1/calls/ca", nil, nil); st != 200 {
		t.Fatalf("other reads go on: %d", st)
	}
}
