package sip

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
)

func testLogger() *slog.Logger {
	if os.Getenv("CONTACTD_SIP_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// toneHandler plays a 1 kHz tone to every caller and reports what happens.
type toneHandler struct {
	calls       chan *InboundCall
	causes      chan error
	digits      chan rune
	hangupAfter time.Duration // 0: until the caller hangs up
}

func newToneHandler() *toneHandler {
	return &toneHandler{calls: make(chan *InboundCall, 8), causes: make(chan error, 8), digits: make(chan rune, 8)}
}

const toneHz = 1000

func (h *toneHandler) ServeCall(ctx context.Context, c *InboundCall) {
	h.calls <- c
	// 20 ms of 1 kHz is a whole number of cycles, so frames repeat cleanly.
	frame := media.Tone(toneHz, media.FrameDuration, media.SampleRate, 0.5)
	var deadline <-chan time.Time
	if h.hangupAfter > 0 {
		t := time.NewTimer(h.hangupAfter)
		defer t.Stop()
		deadline = t.C
	}
	for {
		select {
		case <-ctx.Done():
			h.causes <- context.Cause(ctx)
			return
		case <-deadline:
			h.causes <- nil
			return
		case d := <-c.Leg.DTMF():
			h.digits <- d
		default:
		}
		if err := c.Leg.WriteFrame(frame); err != nil {
			h.causes <- err
			return
		}
	}
}

// startServer runs a Server on a free loopback port until the test ends.
func startServer(t *testing.T, cfg Config, h Handler) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	cfg.Logger = testLogger()
	s, err := NewServer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready")
	}
	return s
}

func dialCfg(s *Server, transport string, codecs ...string) DialConfig {
	return DialConfig{
		Target:    "sip:support@" + s.Addr(),
		Transport: transport,
		From:      "15551234567",
		Codecs:    codecs,
		Logger:    testLogger(),
	}
}

// hearsTone reads the caller's frames until several carry the 1 kHz tone.
func hearsTone(t *testing.T, leg media.Leg) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	good := 0
	for good < 10 {
		select {
		case f, ok := <-leg.Frames():
			if !ok {
				t.Fatal("leg closed before the tone was heard")
			}
			rms := media.RMS(f)
			if rms < 1000 {
				continue
			}
			// A pure sine puts half its mean power in Goertzel's bin.
			ratio := media.Goertzel(f, media.SampleRate, toneHz) / (rms * rms / (32768 * 32768))
			if ratio > 0.3 {
				good++
			}
		case <-timeout:
			t.Fatalf("heard %d tone frames in 5s, want 10", good)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func recv[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// TestCallerHangsUp: our Dial against our Server for each codec and
// transport; the caller hears the tone, sends a DTMF digit the handler
// receives, and hangs up; the handler's context ends with ErrRemoteHangup.
func TestCallerHangsUp(t *testing.T) {
	h := newToneHandler()
	s := startServer(t, Config{}, h)
	tests := []struct {
		transport string
		codecs    []string
		want      string
	}{
		{"udp", []string{"opus"}, "opus"},
		{"udp", []string{"PCMU"}, "PCMU"},
		{"tcp", []string{"PCMA"}, "PCMA"},
		{"tcp", []string{"pcmu", "opus"}, "opus"}, // server preference wins
	}
	for _, tc := range tests {
		t.Run(tc.transport+"/"+tc.want, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			call, err := Dial(ctx, dialCfg(s, tc.transport, tc.codecs...))
			if err != nil {
				t.Fatal(err)
			}
			defer call.Hangup(context.Background())
			in := recv(t, "inbound call", h.calls)
			if in.Codec.Name != tc.want || call.Codec().Name != tc.want {
				t.Fatalf("codec: server %s, caller %s, want %s", in.Codec.Name, call.Codec().Name, tc.want)
			}
			if in.From != "15551234567" || in.To != "support" || in.SIPCallID != call.SIPCallID() || in.ID == "" || !in.DTMF {
				t.Errorf("inbound call = %+v", in)
			}
			hearsTone(t, call.Leg())
			if err := call.SendDTMF('5'); err != nil {
				t.Fatal(err)
			}
			if d := recv(t, "dtmf digit", h.digits); d != '5' {
				t.Errorf("handler got digit %q, want '5'", d)
			}
			if err := call.Hangup(ctx); err != nil {
				t.Fatal(err)
			}
			if cause := recv(t, "handler end", h.causes); !errors.Is(cause, ErrRemoteHangup) {
				t.Errorf("handler cause = %v, want ErrRemoteHangup", cause)
			}
			waitFor(t, "no active calls", func() bool { return s.ActiveCalls() == 0 })
		})
	}
}

// TestServerHangsUp: when ServeCall returns the server sends BYE and the
// caller's Done closes.
func TestServerHangsUp(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			h := newToneHandler()
			h.hangupAfter = 300 * time.Millisecond
			s := startServer(t, Config{}, h)
			call, err := Dial(context.Background(), dialCfg(s, transport, "PCMU"))
			if err != nil {
				t.Fatal(err)
			}
			defer call.Hangup(context.Background())
			recv(t, "caller's Done", call.Done())
			if cause := recv(t, "handler end", h.causes); cause != nil {
				t.Errorf("handler ended with %v", cause)
			}
			if err := call.Hangup(context.Background()); err != nil {
				t.Errorf("Hangup after remote BYE: %v", err)
			}
			waitFor(t, "no active calls", func() bool { return s.ActiveCalls() == 0 })
		})
	}
}

// TestShutdownHangsUp: cancelling Run ends calls with ErrServerClosed and
// BYE, and Run returns.
func TestShutdownHangsUp(t *testing.T) {
	h := newToneHandler()
	cfg := Config{Addr: "127.0.0.1:0", Logger: testLogger()}
	s, err := NewServer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	recv(t, "ready", s.Ready())
	call, err := Dial(context.Background(), dialCfg(s, "udp", "PCMA"))
	if err != nil {
		t.Fatal(err)
	}
	defer call.Hangup(context.Background())
	recv(t, "inbound call", h.calls)
	cancel()
	if cause := recv(t, "handler end", h.causes); !errors.Is(cause, ErrServerClosed) {
		t.Errorf("cause = %v, want ErrServerClosed", cause)
	}
	recv(t, "caller's Done", call.Done())
	if err := recv(t, "Run return", done); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestDialCancelBeforeAnswer: a Dial whose context ends while ringing sends
// CANCEL; the handler never runs and the slot is freed.
func TestDialCancelBeforeAnswer(t *testing.T) {
	h := newToneHandler()
	s := startServer(t, Config{RingDelay: 5 * time.Second}, h)
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Dial(ctx, dialCfg(s, "udp"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Dial took %v to give up", d)
	}
	waitFor(t, "no active calls", func() bool { return s.ActiveCalls() == 0 })
	select {
	case c := <-h.calls:
		t.Fatalf("handler ran for a cancelled call %+v", c)
	default:
	}
}

// TestCallCap: with MaxCalls 1 a second call gets 503 while the first is
// up, and succeeds after it ends.
func TestCallCap(t *testing.T) {
	h := newToneHandler()
	s := startServer(t, Config{MaxCalls: 1}, h)
	first, err := Dial(context.Background(), dialCfg(s, "udp", "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	recv(t, "first call", h.calls)
	_, err = Dial(context.Background(), dialCfg(s, "udp", "PCMU"))
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 503 || !errors.Is(err, ErrRejected) {
		t.Fatalf("second Dial err = %v, want 503", err)
	}
	if err := first.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	recv(t, "first end", h.causes)
	waitFor(t, "no active calls", func() bool { return s.ActiveCalls() == 0 })
	third, err := Dial(context.Background(), dialCfg(s, "tcp", "PCMU"))
	if err != nil {
		t.Fatalf("Dial after the slot freed: %v", err)
	}
	recv(t, "third call", h.calls)
	third.Hangup(context.Background())
	recv(t, "third end", h.causes)
}

func TestDialConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  DialConfig
	}{
		{"bad transport", DialConfig{Target: "sip:a@127.0.0.1:5060", Transport: "sctp"}},
		{"bad target", DialConfig{Target: "::::"}},
		{"unknown codec", DialConfig{Target: "sip:a@127.0.0.1:5060", Codecs: []string{"G729"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Dial(context.Background(), tc.cfg); !errors.Is(err, ErrBadConfig) {
				t.Fatalf("err = %v, want ErrBadConfig", err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no port", Config{Addr: "127.0.0.1"}},
		{"negative cap", Config{Addr: ":5060", MaxCalls: -1}},
		{"bad rtp range", Config{Addr: ":5060", RTPPortMin: 20000, RTPPortMax: 10000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewServer(tc.cfg, newToneHandler()); !errors.Is(err, ErrBadConfig) {
				t.Fatalf("err = %v, want ErrBadConfig", err)
			}
		})
	}
}
