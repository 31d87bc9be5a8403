package sip

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// dialOnce places one call and hangs it up, returning the call the
// server's handler saw (nil when the INVITE failed).
func dialOnce(t *testing.T, h *toneHandler, cfg DialConfig) (*InboundCall, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	in := recv(t, "inbound call", h.calls)
	if err := call.Hangup(ctx); err != nil {
		t.Errorf("hangup: %v", err)
	}
	recv(t, "call end", h.causes)
	return in, nil
}

// TestTrunkInbound: INVITEs are admitted by a trunk's allow-list or its
// digest credentials (401 challenge, 403 for wrong ones), refused 403 from
// nowhere known when inbound is restricted, and the dialled number is
// mapped through the trunk's DID table.
func TestTrunkInbound(t *testing.T) {
	hAllow := newToneHandler()
	allowSrv := startServer(t, Config{RestrictInbound: true, Trunks: []Trunk{{
		Name: "carrier", Allow: []string{"127.0.0.0/8"},
		DIDs: map[string]string{"+1 555 0100": "support", "*": "main"},
	}}}, hAllow)
	hAuth := newToneHandler()
	authSrv := startServer(t, Config{RestrictInbound: true, Trunks: []Trunk{
		{Name: "lan", Allow: []string{"192.0.2.0/24"}},
		{Name: "pbx", Username: "pbx1", Password: "s3cret", DIDs: map[string]string{"15550100": "sales"}},
	}}, hAuth)
	hClosed := newToneHandler()
	closedSrv := startServer(t, Config{RestrictInbound: true}, hClosed)
	hOpen := newToneHandler()
	openSrv := startServer(t, Config{Trunks: []Trunk{{Name: "x", Username: "u", Password: "p",
		DIDs: map[string]string{"+15550100": "support"}}}}, hOpen)

	target := func(s *Server, user string) DialConfig {
		c := dialCfg(s, "udp", "PCMU")
		c.Target = "sip:" + user + "@" + s.Addr()
		return c
	}
	withAuth := func(c DialConfig, u, p string) DialConfig { c.Username, c.Password = u, p; return c }
	tests := []struct {
		name        string
		h           *toneHandler
		cfg         DialConfig
		code        int // expected rejection; 0: admitted
		trunk, entr string
	}{
		{name: "allow-listed source, DID", h: hAllow, cfg: target(allowSrv, "+15550100"), trunk: "carrier", entr: "support"},
		{name: "allow-listed source, other number hits *", h: hAllow, cfg: target(allowSrv, "15559999"), trunk: "carrier", entr: "main"},
		{name: "no credentials: challenged", h: hAuth, cfg: target(authSrv, "15550100"), code: 401},
		{name: "wrong password: forbidden", h: hAuth, cfg: withAuth(target(authSrv, "15550100"), "pbx1", "nope"), code: 403},
		{name: "unknown user: forbidden", h: hAuth, cfg: withAuth(target(authSrv, "15550100"), "ghost", "s3cret"), code: 403},
		{name: "trunk credentials", h: hAuth, cfg: withAuth(target(authSrv, "+1-555-0100"), "pbx1", "s3cret"), trunk: "pbx", entr: "sales"},
		{name: "nobody known", h: hClosed, cfg: target(closedSrv, "support"), code: 403},
		{name: "open inbound searches DIDs", h: hOpen, cfg: target(openSrv, "+15550100"), entr: "support"},
		{name: "open inbound, unknown number", h: hOpen, cfg: target(openSrv, "support")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := dialOnce(t, tc.h, tc.cfg)
			if tc.code != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != tc.code {
					t.Fatalf("err = %v, want %d", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if in.Trunk != tc.trunk || in.Entry != tc.entr {
				t.Errorf("trunk %q entry %q, want %q %q", in.Trunk, in.Entry, tc.trunk, tc.entr)
			}
		})
	}
}

// TestCallOut: outbound calls through a trunk to another contactd that
// demands digest auth; refused without a permitted requester or to a
// number outside the trunk's prefixes.
func TestCallOut(t *testing.T) {
	far := newToneHandler()
	farSrv := startServer(t, Config{RestrictInbound: true, Trunks: []Trunk{{
		Name: "pbx", Username: "acct", Password: "pw", DIDs: map[string]string{"+15550100": "support"},
	}}}, far)
	s := startServer(t, Config{Trunks: []Trunk{
		{Name: "carrier", Outbound: TrunkOutbound{URI: "sip:" + farSrv.Addr(), Username: "acct", Password: "pw",
			From: "+15551230000", Requesters: []string{"alice", "bob"}},
			AllowedPrefixes: []string{"+1"}, BlockedPrefixes: []string{"+1900", "+1 976"}},
		{Name: "badpw", Outbound: TrunkOutbound{URI: "sip:" + farSrv.Addr(), Username: "acct", Password: "wrong"}},
		{Name: "inbound-only"},
	}}, newToneHandler())

	refusals := []struct {
		name, trunk, number, requester string
		want                           error
	}{
		{"no requester", "carrier", "+15550100", "", ErrNotPermitted},
		{"requester not allowed", "carrier", "+15550100", "mallory", ErrNotPermitted},
		{"premium range", "carrier", "+1 900 555 0100", "alice", ErrNotPermitted},
		{"blocked with spaces in prefix", "carrier", "+19765550100", "alice", ErrNotPermitted},
		{"international", "carrier", "+442079460000", "alice", ErrNotPermitted},
		{"not a number", "carrier", "+1555@evil.example", "alice", ErrNotPermitted},
		{"unknown trunk", "nope", "+15550100", "alice", ErrUnknownTrunk},
		{"trunk without outbound", "inbound-only", "+15550100", "alice", ErrNotPermitted},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CallOut(context.Background(), tc.trunk, tc.number, DialConfig{Requester: tc.requester})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}

	t.Run("wrong trunk password", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := s.CallOut(ctx, "badpw", "+15550100", DialConfig{Requester: "alice"})
		var se *StatusError
		if !errors.As(err, &se) || se.Code != 403 {
			t.Fatalf("err = %v, want 403", err)
		}
	})

	t.Run("permitted call", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		oc, err := s.CallOut(ctx, "carrier", "+1 (555) 0100", DialConfig{Requester: "alice", Codecs: []string{"PCMA"}})
		if err != nil {
			t.Fatal(err)
		}
		in := recv(t, "far call", far.calls)
		if in.Trunk != "pbx" || in.Entry != "support" || in.From != "+15551230000" || in.To != "+15550100" || in.Codec.Name != "PCMA" {
			t.Errorf("far end saw trunk %q entry %q from %q to %q codec %s", in.Trunk, in.Entry, in.From, in.To, in.Codec.Name)
		}
		hearsTone(t, oc.Leg())
		if err := oc.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
		if cause := recv(t, "far end", far.causes); !errors.Is(cause, ErrRemoteHangup) {
			t.Errorf("far end cause %v", cause)
		}
	})
}

// TestCallOutSIPp: SIPp's built-in UAS plays the carrier.
func TestCallOutSIPp(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("sipp not installed (Debian package sip-tester)")
	}
	port := freeUDPPort(t)
	s := startServer(t, Config{Trunks: []Trunk{{Name: "sipp",
		Outbound: TrunkOutbound{URI: "sip:127.0.0.1:" + strconv.Itoa(port)}}}}, newToneHandler())
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, "-sn", "uas", "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mp", strconv.Itoa(freeUDPPort(t)), "-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"))
	cmd.Dir = dir
	out := make(chan error, 1)
	var log []byte
	go func() {
		var err error
		log, err = cmd.CombinedOutput()
		out <- err
	}()
	// SIPp needs a moment to bind; retry the INVITE until it answers.
	var oc *OutboundCall
	deadline := time.Now().Add(10 * time.Second)
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		oc, err = s.CallOut(cctx, "sipp", "+15550199", DialConfig{Requester: "alice", Codecs: []string{"PCMU"}})
		ccancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("call out to sipp: %v", err)
	}
	if oc.Codec().Name != "PCMU" {
		t.Errorf("codec %s", oc.Codec().Name)
	}
	if err := oc.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-out; err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		t.Fatalf("sipp uas: %v\n%s\n%s", err, errs, tail(log, 2000))
	}
}
