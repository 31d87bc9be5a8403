package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/web/webtest"
)

// cspViolations are the console lines in which Chromium reports what the
// Content-Security-Policy blocked.
func cspViolations(b *webtest.Browser) []string {
	var out []string
	for _, l := range b.Console() {
		if strings.Contains(l, "Content Security Policy") || strings.Contains(l, "Refused to") {
			out = append(out, l)
		}
	}
	return out
}

// TestPagesWorkUnderTheCSP signs in on every UI page of the real server in
// headless Chromium, with the security headers on, and checks that the
// pages work (styles applied, API calls, the events WebSocket, a recording
// played from a signed URL) and that the policy blocked nothing.
func TestPagesWorkUnderTheCSP(t *testing.T) {
	if testing.Short() {
		t.Skip("drives Chromium")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b, err := webtest.Start(ctx, webtest.Options{})
	if errors.Is(err, webtest.ErrNoChromium) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	defer func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", strings.Join(b.Console(), "\n"))
		}
	}()

	// Control: the console shows what the policy blocks, so silence below
	// means nothing was blocked.
	ctl := httptest.NewServer(securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!doctype html><p style="color:red">x</p><script>window.ran = 1</script>`))
	})))
	defer ctl.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.Navigate(ctl.URL))
	must(b.WaitJS(ctx, `true`, time.Second))
	var ran bool
	must(b.Eval(`window.ran === 1`, &ran))
	if ran || len(cspViolations(b)) == 0 {
		t.Fatalf("control page: inline script ran=%t, console %q; the test cannot see CSP violations", ran, b.Console())
	}
	before := len(cspViolations(b))

	f, _ := scopeFixture(t)
	dataDir := f.server.opts.DataDir
	for _, id := range []string{"ca", "cb"} {
		must(webtest.WriteToneWAV(filepath.Join(dataDir, "recordings", id+".wav"), 440, 500*time.Millisecond))
	}
	wait := func(cond string) {
		t.Helper()
		if err := b.WaitJS(ctx, cond, 15*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	signIn := func(path, userSel, passSel, submitSel, user string) {
		t.Helper()
		must(b.Navigate(f.srv.URL + path))
		must(b.SetValue(userSel, user))
		must(b.SetValue(passSel, user+"-password"))
		must(b.Click(submitSel))
	}

	must(b.Navigate(f.srv.URL + "/"))
	wait(`getComputedStyle(document.querySelector("a.navlink")).display === "inline-block"`)

	signIn("/agent", "#username", "#password", "#login", "alice")
	wait(`document.getElementById("login-panel").hidden && document.getElementById("conn").textContent === "connected"`)

	signIn("/supervisor", "#username", "#password", "#login", "sue")
	wait(`document.getElementById("login-panel").hidden && document.getElementById("conn").textContent === "live"`)

	signIn("/helpdesk", `#login input[name="username"]`, `#login input[name="password"]`, `#login button`, "sue")
	wait(`getComputedStyle(document.querySelector("header")).backgroundColor === "rgb(29, 35, 48)"`)
	wait(`document.querySelectorAll("#rows tr").length === 2`)
	must(b.Click(`#rows tr[data-id="tca"]`))
	wait(`(() => { const a = document.getElementById("rec"); return a && !a.hidden && a.src.includes("/recording?") && a.src.includes("sig=") && a.readyState >= 1 })()`)

	signIn("/qa", "#username", "#password", "#login-btn", "quinn")
	wait(`document.querySelectorAll("#queue tr").length === 2`)
	must(b.Click(`#queue tr[data-id="eca"]`))
	wait(`document.getElementById("audio").dataset.ready === "1"`)

	if v := cspViolations(b)[before:]; len(v) > 0 {
		t.Errorf("the CSP blocked:\n%s", strings.Join(v, "\n"))
	}
}
