package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/contactd/contactd/internal/testcert"
)

// TestTLSAndWebSocket places calls over SIP over TLS and SIP over
// WebSocket: the caller hears the tone, sends a digit and hangs up.
func TestTLSAndWebSocket(t *testing.T) {
	certFile, keyFile, pool := testcert.Write(t)
	h := newToneHandler()
	s := startServer(t, Config{TLSAddr: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile, WSAddr: "127.0.0.1:0"}, h)
	if s.TLSAddr() == "" || s.WSAddr() == "" {
		t.Fatalf("TLSAddr %q WSAddr %q", s.TLSAddr(), s.WSAddr())
	}
	tests := []struct {
		transport, addr string
		tls             *tls.Config
	}{
		{"tls", s.TLSAddr(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}},
		{"ws", s.WSAddr(), nil},
	}
	for _, tc := range tests {
		t.Run(tc.transport, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cfg := dialCfg(s, tc.transport, "PCMU")
			cfg.Target = "sip:support@" + tc.addr
			cfg.TLSConfig = tc.tls
			call, err := Dial(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer call.Hangup(context.Background())
			in := recv(t, "inbound call", h.calls)
			if in.SIPCallID != call.SIPCallID() {
				t.Errorf("call id %q vs %q", in.SIPCallID, call.SIPCallID())
			}
			hearsTone(t, call.Leg())
			if err := call.SendDTMF('7'); err != nil {
				t.Fatal(err)
			}
			if d := recv(t, "digit", h.digits); d != '7' {
				t.Errorf("digit %q", d)
			}
			if err := call.Hangup(ctx); err != nil {
				t.Fatal(err)
			}
			if cause := recv(t, "handler end", h.causes); !errors.Is(cause, ErrRemoteHangup) {
				t.Errorf("cause %v", cause)
			}
		})
	}
	t.Run("server hangs up over tls", func(t *testing.T) {
		h.hangupAfter = 300 * time.Millisecond
		defer func() { h.hangupAfter = 0 }()
		cfg := dialCfg(s, "tls", "PCMU")
		cfg.Target = "sip:support@" + s.TLSAddr()
		cfg.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
		call, err := Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer call.Hangup(context.Background())
		recv(t, "inbound call", h.calls)
		recv(t, "caller's Done", call.Done())
		recv(t, "handler end", h.causes)
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		cfg := dialCfg(s, "tls", "PCMU")
		cfg.Target = "sip:support@" + s.TLSAddr()
		cfg.TLSConfig = &tls.Config{ServerName: "127.0.0.1"}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := Dial(ctx, cfg); err == nil {
			t.Fatal("Dial trusted a self-signed certificate")
		}
	})
}

func TestTransportConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"tls without cert", Config{Addr: ":5060", TLSAddr: ":5061"}},
		{"bad tls addr", Config{Addr: ":5060", TLSAddr: "nope", TLSCert: "c", TLSKey: "k"}},
		{"bad ws addr", Config{Addr: ":5060", WSAddr: "nope"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewServer(tc.cfg, newToneHandler()); !errors.Is(err, ErrBadConfig) {
				t.Fatalf("err = %v, want ErrBadConfig", err)
			}
		})
	}
	t.Run("missing cert files", func(t *testing.T) {
		s, err := NewServer(Config{Addr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0", TLSCert: "/nonexistent.pem", TLSKey: "/nonexistent.key", Logger: testLogger()}, newToneHandler())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Run(ctx); err == nil {
			t.Fatal("Run with missing cert files succeeded")
		}
	})
}
