package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/contactd/contactd/store/sqlite"
)

// TestHealthzReportsFence: /healthz answers 503 with the reason while the
// node says it must not get new work (a cluster node fenced itself), so a
// load balancer sends agents elsewhere; 200 again once it may.
func TestHealthzReportsFence(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var why atomic.Value
	why.Store("")
	f := newAPIWith(t, st, func(o *Options) { o.Health = func() string { return why.Load().(string) } })
	get := func() (int, string) {
		t.Helper()
		resp, err := http.Get(f.srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Error, Status string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Error + body.Status
	}
	if code, body := get(); code != 200 || body != "ok" {
		t.Fatalf("healthy: %d %q", code, body)
	}
	why.Store("fenced: cluster lease lost (no heartbeat renewed for 4.2s)")
	if code, body := get(); code != 503 || !strings.Contains(body, "fenced") {
		t.Fatalf("fenced: %d %q, want 503 saying why", code, body)
	}
	why.Store("")
	if code, _ := get(); code != 200 {
		t.Fatalf("after the fence: %d", code)
	}
}
