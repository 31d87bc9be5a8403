package web

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/contactd/contactd/internal/testcert"
	"github.com/contactd/contactd/store"
)

func TestSecurityHeaders(t *testing.T) {
	f := newAPI(t)
	for _, path := range []string{"/", "/agent", "/helpdesk", "/helpdesk.css", "/agent.js", "/healthz", "/api/v1/me", "/api/v1/nope", "/nope/nope"} {
		resp, err := http.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		for k, want := range map[string]string{
			"Content-Security-Policy": ContentSecurityPolicy,
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("GET %s (%d): %s = %q, want %q", path, resp.StatusCode, k, got, want)
			}
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP lacks frame-ancestors", path)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("GET %s over plain HTTP sent HSTS", path)
		}
	}
	// The pages have no inline script or style for the CSP to block.
	for _, page := range []string{"index.html", "agent.html", "supervisor.html", "helpdesk.html", "qa.html"} {
		b, err := uiFS.ReadFile("ui/" + page)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if strings.Contains(s, "<style") || strings.Contains(s, " style=") || strings.Contains(s, "<script>") ||
			strings.Contains(s, " onclick=") || strings.Contains(s, "javascript:") {
			t.Errorf("%s has inline script or style, which the CSP blocks", page)
		}
	}
}

// TestHTTPS serves the API from certificate files the way contactd serve
// does (TLSConfig on the listener) and checks HSTS, and the events
// WebSocket over wss.
func TestHTTPS(t *testing.T) {
	f := newAPI(t)
	certFile, keyFile, pool := testcert.Write(t)
	tc, err := TLSConfig(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f.server, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(tls.NewListener(ln, tc))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + ln.Addr().String()
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); resp.StatusCode != 200 || !strings.HasPrefix(got, "max-age=") {
		t.Fatalf("over TLS: %d, HSTS %q", resp.StatusCode, got)
	}
	// Plain HTTP to the TLS port is refused (Go answers 400), not served.
	if resp, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("plain HTTP to the TLS listener: %d", resp.StatusCode)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "wss://"+ln.Addr().String()+"/api/v1/events?token="+f.admin,
		&websocket.DialOptions{HTTPClient: client, HTTPHeader: http.Header{"Origin": {base}}})
	if err != nil {
		t.Fatalf("wss: %v", err)
	}
	ws.CloseNow()

	if _, err := TLSConfig(filepath.Join(t.TempDir(), "missing.pem"), keyFile); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("missing cert: %v", err)
	}
	if _, err := TLSConfig(keyFile, certFile); err == nil {
		t.Error("swapped cert and key loaded")
	}
}

// TestEventsOrigin: a page of another origin cannot open the events
// WebSocket, even with a valid token; the server's own origin and
// configured ones can.
func TestEventsOrigin(t *testing.T) {
	f := newAPIWith(t, openSQLite(t), func(o *Options) { o.AllowedOrigins = []string{"desk.example.com"} })
	if _, err := CreateUser(context.Background(), f.store, f.router, "", "erin", "erin-password", store.RoleAgent); err != nil {
		t.Fatal(err)
	}
	tok := f.login(t, "erin", "erin-password")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/api/v1/events?token=" + tok
	for origin, ok := range map[string]bool{
		"":                         true, // not a browser
		f.srv.URL:                  true,
		"https://desk.example.com": true,
		"https://evil.example":     false,
		"null":                     false,
		"http://127.0.0.1:1":       false, // same host, other port: another origin
	} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
		if ok {
			if err != nil {
				t.Errorf("origin %q: %v", origin, err)
				continue
			}
			ws.CloseNow()
			continue
		}
		if err == nil {
			ws.CloseNow()
			t.Errorf("origin %q: WebSocket opened", origin)
		} else if resp == nil || resp.StatusCode != 403 {
			t.Errorf("origin %q: %v, want 403", origin, err)
		}
	}
}
