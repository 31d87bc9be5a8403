package web

import (
	"context"
	"strings"
	"testing"

	"github.com/contactd/contactd/store"
)

// TestCallAbilitiesMissing: a server whose call manager lacks an ability
// (here: no call manager) answers each call-control route 501 saying what
// it cannot do, before reading the body.
func TestCallAbilitiesMissing(t *testing.T) {
	f := newAPI(t)
	ctx := context.Background()
	if _, err := CreateUser(ctx, f.store, f.router, "contactd", "ann", "ann-password", store.RoleAgent); err != nil {
		t.Fatal(err)
	}
	ann := f.login(t, "ann", "ann-password")
	for _, c := range []struct{ method, path, body, cannot string }{
		{"POST", "/api/v1/calls/c1/transfer", `{"target":"queue:billing"}`, "transfer calls"},
		{"POST", "/api/v1/calls/outbound", `{"number":"+15550100"}`, "place outside calls"},
		{"POST", "/api/v1/calls/c1/hold", ``, "hold calls or send keys"},
		{"POST", "/api/v1/calls/c1/dtmf", `{"digits":"1"}`, "hold calls or send keys"},
		{"POST", "/api/v1/calls/c1/consult", `{"target":"agent:bob"}`, "run consultative transfers"},
		{"POST", "/api/v1/calls/c1/consult/cancel", ``, "run consultative transfers"},
		{"POST", "/api/v1/calls/c1/recording/pause", ``, "pause recordings"},
		{"POST", "/api/v1/calls/c1/reconnect", `not json`, "reconnect a call's audio"},
	} {
		var out struct{ Error string }
		if st := f.do(t, ann, c.method, c.path, c.body, &out); st != 501 || !strings.HasPrefix(out.Error, "this server cannot "+c.cannot) {
			t.Errorf("%s %s: %d %q, want 501 \"this server cannot %s…\"", c.method, c.path, st, out.Error, c.cannot)
		}
	}
	if st := f.do(t, f.admin, "GET", "/api/v1/calls/live", nil, nil); st != 501 {
		t.Errorf("GET /api/v1/calls/live: %d, want 501", st)
	}
}
