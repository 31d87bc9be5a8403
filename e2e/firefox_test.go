package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/contactd/contactd/internal/syncbuf"
	"github.com/contactd/contactd/sip"
)

// TestFirefoxSoftphone is issue 6's "works in Firefox" as a smoke test:
// headless Firefox ESR with a fake microphone (a 1,300 Hz tone) signs
// alice in on the agent page, goes available, is offered a real SIP call,
// answers it and the audio flows both ways (the caller hears the tone;
// the page counts the caller's packets); the caller hangs up and the page
// ends the call.
//
// Firefox is driven with WebDriver BiDi over its own WebSocket
// (--remote-debugging-port): geckodriver is not packaged for Debian, and
// Firefox ≥ 119 takes BiDi-only sessions without it. Without Firefox the
// test is skipped, saying so (deploy: apt-get install firefox-esr). Its
// profile keeps it off the network: a dead proxy for everything but
// loopback, and Mozilla's background services off.
func TestFirefoxSoftphone(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ff := startFirefox(ctx, t, 1300)
	s := startServer(t, bin)

	must(t, ff.navigate(ctx, s.httpURL+"/agent"))
	must(t, ff.setValue(ctx, "#username", "alice"))
	must(t, ff.setValue(ctx, "#password", "alice-demo"))
	must(t, ff.click(ctx, "#login"))
	must(t, ff.waitJS(ctx, "window.contactd.loggedIn && window.contactd.wsConnected", 15*time.Second))
	must(t, ff.click(ctx, "#go-available"))
	must(t, ff.waitJS(ctx, "window.contactd.state === 'available'", 10*time.Second))
	ua, err := ff.evalString(ctx, "navigator.userAgent")
	must(t, err)
	t.Logf("browser: %s", ua)

	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: "+15550193", Codecs: []string{"opus"}})
	must(t, err)
	defer c.Hangup(context.Background())
	e := &ear{}
	go e.run(c.Leg())
	waitUntil(t, "the greeting", 20*time.Second, func() bool { return e.quietFor(800 * time.Millisecond) })
	must(t, c.SendDTMF('0')) // a person: alice is the only one logged in
	must(t, ff.waitJS(ctx, "!!(window.contactd.offer && window.contactd.offer.call_id)", 20*time.Second))
	must(t, ff.click(ctx, "#answer"))
	if err := ff.waitJS(ctx, "window.contactd.inCall && window.contactd.pcState === 'connected'", 20*time.Second); err != nil {
		st, _ := ff.evalString(ctx, `JSON.stringify({pc: window.contactd.pcState, err: window.contactd.lastError, inCall: window.contactd.inCall})`)
		t.Fatalf("%v\npage: %s\nfirefox:\n%s", err, st, tail(ff.log.String(), 40))
	}
	stop := sendSilence(ctx, c.Leg()) // the caller's phone sends RTP
	defer stop()
	waitUntil(t, "the caller to hear Firefox's fake microphone", 15*time.Second, func() bool {
		return e.level(1300, 600*time.Millisecond) >= heardAt
	})
	var st struct{ InboundPackets, OutboundPackets int }
	waitUntil(t, "the page to receive the caller's audio", 10*time.Second, func() bool {
		js, err := ff.evalString(ctx, "window.contactd.stats().then((s) => JSON.stringify(s))")
		return err == nil && json.Unmarshal([]byte(js), &st) == nil && st.InboundPackets > 50
	})
	t.Logf("caller hears %.3f at 1300 Hz; page stats %+v", e.level(1300, 600*time.Millisecond), st)
	stop()
	must(t, c.Hangup(ctx))
	must(t, ff.waitJS(ctx, "!window.contactd.inCall && window.contactd.callId === null", 15*time.Second))
}

// firefox is a headless Firefox driven over WebDriver BiDi.
type firefox struct {
	ws     *websocket.Conn
	mu     sync.Mutex // one command at a time
	nextID int
	ctxID  string // the top-level browsing context
	log    *syncbuf.Buffer
}

// firefoxPrefs keep the test browser on loopback and let the page use a
// fake microphone and autoplay.
var firefoxPrefs = map[string]any{
	"media.navigator.streams.fake":                      true,
	"media.navigator.permission.disabled":               true,
	"media.peerconnection.ice.loopback":                 true,
	"media.peerconnection.ice.obfuscate_host_addresses": false,
	"media.autoplay.default":                            0,
	"media.autoplay.blocking_policy":                    0,
	"network.proxy.type":                                1,
	"network.proxy.http":                                "127.0.0.1",
	"network.proxy.http_port":                           9,
	"network.proxy.ssl":                                 "127.0.0.1",
	"network.proxy.ssl_port":                            9,
	"network.proxy.no_proxies_on":                       "127.0.0.1,localhost",
	"network.proxy.allow_hijacking_localhost":           false,
	"network.dns.disablePrefetch":                       true,
	"network.prefetch-next":                             false,
	"network.trr.mode":                                  5,
	"network.captive-portal-service.enabled":            false,
	"network.connectivity-service.enabled":              false,
	"services.settings.server":                          "data:,#remote-settings-off",
	"app.normandy.enabled":                              false,
	"app.update.disabledForTesting":                     true,
	"app.shield.optoutstudies.enabled":                  false,
	"messaging-system.rsexperimentloader.enabled":       false,
	"datareporting.policy.dataSubmissionEnabled":        false,
	"datareporting.healthreport.uploadEnabled":          false,
	"toolkit.telemetry.enabled":                         false,
	"toolkit.telemetry.server":                          "",
	"browser.safebrowsing.malware.enabled":              false,
	"browser.safebrowsing.phishing.enabled":             false,
	"browser.safebrowsing.downloads.enabled":            false,
	"browser.newtabpage.enabled":                        false,
	"browser.startup.homepage_override.mstone":          "ignore",
	"browser.search.update":                             false,
	"extensions.update.enabled":                         false,
	"extensions.blocklist.enabled":                      false,
	"geo.provider.network.url":                          "",
	"browser.region.network.url":                        "",
}

var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://127\.0\.0\.1:\d+)`)

// startFirefox starts a headless Firefox whose fake microphone plays hz
// and opens a BiDi session; it is closed when t ends. Without Firefox, t
// is skipped.
func startFirefox(ctx context.Context, t *testing.T, hz int) *firefox {
	t.Helper()
	exe := ""
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		t.Skip("Firefox is not installed (Debian: apt-get install firefox-esr); the Firefox smoke test needs it")
	}
	prof := t.TempDir()
	var js strings.Builder
	prefs := map[string]any{"media.navigator.audio.fake_frequency": hz}
	for k, v := range firefoxPrefs {
		prefs[k] = v
	}
	for k, v := range prefs {
		b, _ := json.Marshal(v)
		fmt.Fprintf(&js, "user_pref(%q, %s);\n", k, b)
	}
	must(t, os.WriteFile(filepath.Join(prof, "user.js"), []byte(js.String()), 0o600))
	cmd := exec.Command(exe, "--headless", "--no-remote", "--profile", prof, "--remote-debugging-port=0", "about:blank")
	cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1")
	stderr, err := cmd.StderrPipe()
	must(t, err)
	cmd.Stdout = cmd.Stderr
	must(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	f := &firefox{log: &syncbuf.Buffer{}}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			f.log.Write([]byte(line + "\n"))
			if m := bidiListening.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	var url string
	select {
	case url = <-found:
	case <-exited:
		t.Fatalf("firefox exited:\n%s", f.log.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("firefox did not open WebDriver BiDi in 60 s:\n%s", f.log.String())
	}
	ws, _, err := websocket.Dial(ctx, url+"/session", nil)
	if err != nil {
		t.Fatalf("firefox BiDi: %v", err)
	}
	ws.SetReadLimit(16 << 20)
	f.ws = ws
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("firefox output:\n%s", tail(f.log.String(), 60))
		}
		ws.CloseNow()
	})
	var sess json.RawMessage
	must(t, f.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{}}, &sess))
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	must(t, f.call(ctx, "browsingContext.getTree", map[string]any{}, &tree))
	if len(tree.Contexts) == 0 {
		t.Fatal("firefox: no browsing context")
	}
	f.ctxID = tree.Contexts[0].Context
	return f
}

// call sends one BiDi command and decodes its result into out.
func (f *firefox) call(ctx context.Context, method string, params, out any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := f.nextID
	b, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := f.ws.Write(cctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("bidi %s: %w", method, err)
	}
	for {
		_, msg, err := f.ws.Read(cctx)
		if err != nil {
			return fmt.Errorf("bidi %s: %w", method, err)
		}
		var r struct {
			ID      *int            `json:"id"`
			Type    string          `json:"type"`
			Result  json.RawMessage `json:"result"`
			Error   string          `json:"error"`
			Message string          `json:"message"`
		}
		if json.Unmarshal(msg, &r) != nil || r.ID == nil || *r.ID != id {
			continue // an event, or not ours
		}
		if r.Type == "error" {
			return fmt.Errorf("bidi %s: %s: %s", method, r.Error, r.Message)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	}
}

func (f *firefox) navigate(ctx context.Context, url string) error {
	return f.call(ctx, "browsingContext.navigate", map[string]any{"context": f.ctxID, "url": url, "wait": "complete"}, nil)
}

// evalString evaluates expr (awaiting a promise) and returns its value as
// a string (expr should give a string: JSON.stringify what is not).
func (f *firefox) evalString(ctx context.Context, expr string) (string, error) {
	var r struct {
		Type   string `json:"type"`
		Result struct {
			Type  string `json:"type"`
			Value any    `json:"value"`
		} `json:"result"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	err := f.call(ctx, "script.evaluate", map[string]any{"expression": expr, "target": map[string]any{"context": f.ctxID},
		"awaitPromise": true, "resultOwnership": "none"}, &r)
	if err != nil {
		return "", err
	}
	if r.Type == "exception" {
		return "", fmt.Errorf("firefox: %s: %s", short(expr), r.ExceptionDetails.Text)
	}
	return fmt.Sprint(r.Result.Value), nil
}

func short(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

func (f *firefox) waitJS(ctx context.Context, cond string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		v, err := f.evalString(ctx, "String(Boolean("+cond+"))")
		if err == nil && v == "true" {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("firefox: wait for %s: timed out after %v (last error: %v)", short(cond), timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (f *firefox) click(ctx context.Context, sel string) error {
	v, err := f.evalString(ctx, fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return "missing"; el.click(); return "ok"; })()`, sel))
	if err == nil && v != "ok" {
		err = errors.New("firefox: click " + sel + ": no such element")
	}
	return err
}

func (f *firefox) setValue(ctx context.Context, sel, val string) error {
	v, err := f.evalString(ctx, fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return "missing";
		el.value = %q; el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); return "ok"; })()`, sel, val))
	if err == nil && v != "ok" {
		err = errors.New("firefox: set " + sel + ": no such element")
	}
	return err
}
