package cluster

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Requests about a call go to the node that owns it; our own calls, calls
// of no node and unauthenticated requests stay here; a dead owner is a 503.
func TestProxyToCallOwner(t *testing.T) {
	db := freshDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	owner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-By", "owner")
		w.Header().Set("X-Forwarded-By", r.Header.Get(forwardedHeader))
		_, _ = io.WriteString(w, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
	}))
	defer owner.Close()
	me, err := Join(ctx, db, Config{NodeID: "me", URL: "http://127.0.0.1:1", Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer me.Leave()
	c, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, sql := range []string{
		`INSERT INTO nodes (id, url, status) VALUES ('other', '` + owner.URL + `', 'up'), ('gone', 'http://127.0.0.1:1', 'dead')`,
		`INSERT INTO calls (id, node) VALUES ('c-other', 'other'), ('c-mine', 'me'), ('c-gone', 'gone'), ('c-alone', '')`,
	} {
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	local := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-By", "local")
		w.WriteHeader(http.StatusTeapot)
	})
	front := httptest.NewServer(me.Proxy(local))
	defer front.Close()
	do := func(method, path string, auth bool) (*http.Response, string) {
		req, _ := http.NewRequestWithContext(ctx, method, front.URL+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer tok")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := do("POST", "/api/v1/calls/c-other/answer", true)
	if resp.Header.Get("X-Seen-By") != "owner" || body != "POST /api/v1/calls/c-other/answer Bearer tok" || resp.Header.Get("X-Forwarded-By") != "me" {
		t.Fatalf("not forwarded to the owner: %s %q %v", resp.Status, body, resp.Header)
	}
	for _, tc := range []struct {
		method, path string
		auth         bool
		want         string
	}{
		{"POST", "/api/v1/calls/c-mine/answer", true, "local"},
		{"POST", "/api/v1/calls/c-alone/hangup", true, "local"},
		{"POST", "/api/v1/calls/unknown/hangup", true, "local"},
		{"POST", "/api/v1/calls/c-other/answer", false, "local"}, // no credentials: refused here
		{"GET", "/api/v1/calls/c-other", true, "local"},          // the record is in the database
		{"POST", "/api/v1/calls/import", true, "local"},
		{"POST", "/api/v1/calls/outbound", true, "local"},
	} {
		if resp, _ := do(tc.method, tc.path, tc.auth); resp.Header.Get("X-Seen-By") != tc.want {
			t.Errorf("%s %s (auth %v): handled by %q, want %q", tc.method, tc.path, tc.auth, resp.Header.Get("X-Seen-By"), tc.want)
		}
	}
	if resp, body := do("POST", "/api/v1/calls/c-gone/hangup", true); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dead owner: %s %s", resp.Status, body)
	}
	// A forwarded request is never forwarded again.
	req, _ := http.NewRequestWithContext(ctx, "POST", front.URL+"/api/v1/calls/c-other/answer", nil)
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set(forwardedHeader, "other")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.Header.Get("X-Seen-By") != "local" {
		t.Fatal("a forwarded request was forwarded again")
	}
}
