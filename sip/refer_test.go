package sip

import (
	"context"
	"errors"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
	sipmsg "github.com/emiago/sipgo/sip"
)

// TestReferOut: the handler transfers the caller with Refer; our Dial
// client, as the transferee, calls the target and NOTIFYs the outcome.
func TestReferOut(t *testing.T) {
	refused := startServer(t, Config{}, newToneHandler())
	refused.Drain() // every INVITE gets 503

	results := make(chan error, 2)
	h := newToneHandler()
	var self atomic.Value // the server's own address, for the handler
	s := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, c *InboundCall) {
		if c.To == "support" || c.To == "refused" {
			target := "sip:sales@" + self.Load().(string)
			if c.To == "refused" {
				target = "sip:sales@" + refused.Addr()
			}
			results <- c.Refer(ctx, target)
			<-ctx.Done()
			return
		}
		h.ServeCall(ctx, c)
	}))
	self.Store(s.Addr())

	t.Run("target answers", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		oc, err := Dial(ctx, dialCfg(s, "udp", "PCMU"))
		if err != nil {
			t.Fatal(err)
		}
		defer oc.Hangup(ctx)
		if err := recv(t, "refer result", results); err != nil {
			t.Fatalf("Refer: %v", err)
		}
		in := recv(t, "transferred call", h.calls)
		if in.To != "sales" {
			t.Errorf("transferred call to %q", in.To)
		}
		nc := recv(t, "new call", oc.Transferred())
		hearsTone(t, nc.Leg())
		if err := nc.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
		recv(t, "transferred call end", h.causes)
	})
	t.Run("target refuses", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cfg := dialCfg(s, "udp", "PCMU")
		cfg.Target = "sip:refused@" + s.Addr()
		oc, err := Dial(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer oc.Hangup(ctx)
		if err := recv(t, "refer result", results); !errors.Is(err, ErrTransferFailed) {
			t.Fatalf("Refer = %v, want ErrTransferFailed", err)
		}
	})
}

// TestReferIn: a phone transfers us with REFER (blind and attended); the
// owner gets EventRefer, reports progress, and the phone gets NOTIFYs.
func TestReferIn(t *testing.T) {
	h := newEventHandler()
	s := startServer(t, Config{}, h)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	oc, err := Dial(ctx, dialCfg(s, "udp", "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Hangup(ctx)
	recv(t, "call", h.calls)

	tests := []struct {
		name, referTo, target, replaces string
		code                            int
	}{
		{name: "blind", referTo: "<sip:2001@192.0.2.5>", target: "sip:2001@192.0.2.5", code: 202},
		{name: "attended", referTo: "<sip:2002@192.0.2.5?Replaces=" + url.QueryEscape("abc@h;to-tag=1;from-tag=2") + ">",
			target: "sip:2002@192.0.2.5", replaces: "abc@h;to-tag=1;from-tag=2", code: 202},
		{name: "not a sip uri", referTo: "<mailto:x>", code: 400},
		{name: "no refer-to", code: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdrs []sipmsg.Header
			if tc.referTo != "" {
				hdrs = append(hdrs, sipmsg.NewHeader("Refer-To", tc.referTo))
			}
			res := inDialogRequest(t, oc, sipmsg.REFER, "", "", hdrs...)
			if res.StatusCode != tc.code {
				t.Fatalf("REFER answered %d, want %d", res.StatusCode, tc.code)
			}
			if tc.code != 202 {
				return
			}
			ev := recv(t, "refer event", h.events)
			if ev.Kind != EventRefer || ev.Transfer == nil {
				t.Fatalf("event %+v", ev)
			}
			tr := ev.Transfer
			if tr.Target != tc.target || tr.Replaces != tc.replaces {
				t.Errorf("transfer to %q replaces %q, want %q %q", tr.Target, tr.Replaces, tc.target, tc.replaces)
			}
			if err := tr.Report(ctx, 180, "Ringing"); err != nil {
				t.Errorf("report 180: %v", err)
			}
			if err := tr.Report(ctx, 200, "OK"); err != nil {
				t.Errorf("report 200: %v", err)
			}
			if err := tr.Report(ctx, 486, "Busy Here"); err != nil { // after the final: ignored
				t.Errorf("report after final: %v", err)
			}
		})
	}
}

// TestReplaces: an INVITE with Replaces naming a call in progress names
// it in InboundCall.Replaces; one naming no dialog gets 481.
func TestReplaces(t *testing.T) {
	h := newEventHandler()
	s := startServer(t, Config{}, h)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := Dial(ctx, dialCfg(s, "udp", "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Hangup(ctx)
	firstIn := recv(t, "first call", h.calls)

	ourTag := tagOf(first.dlg.InviteResponse.To().Params)    // the server's tag
	theirTag := tagOf(first.dlg.InviteRequest.From().Params) // the caller's
	cfg := dialCfg(s, "udp", "PCMU")
	cfg.headers = []sipmsg.Header{sipmsg.NewHeader("Replaces", first.SIPCallID()+";to-tag="+ourTag+";from-tag="+theirTag)}
	second, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	secondIn := recv(t, "replacing call", h.calls)
	if secondIn.Replaces != first.SIPCallID() || secondIn.ReplacesCall != firstIn.ID {
		t.Errorf("Replaces %q / %q, want %q / %q", secondIn.Replaces, secondIn.ReplacesCall, first.SIPCallID(), firstIn.ID)
	}
	if err := second.Hangup(ctx); err != nil {
		t.Fatal(err)
	}

	cfg.headers = []sipmsg.Header{sipmsg.NewHeader("Replaces", first.SIPCallID()+";to-tag=wrong;from-tag="+theirTag)}
	_, err = Dial(ctx, cfg)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 481 {
		t.Fatalf("unmatched Replaces: %v, want 481", err)
	}
}

// TestEarlyMedia: with Config.EarlyMedia the caller hears the handler
// before the 200; Answer sends it. A handler that never answers ends the
// INVITE with 480.
func TestEarlyMedia(t *testing.T) {
	answerNow := make(chan struct{})
	answered := make(chan error, 1)
	s := startServer(t, Config{EarlyMedia: true}, HandlerFunc(func(ctx context.Context, c *InboundCall) {
		frame := media.Tone(toneHz, media.FrameDuration, media.SampleRate, 0.5)
		if c.To == "announce" {
			for i := 0; i < 10; i++ {
				_ = c.Leg.WriteFrame(frame)
			}
			return // unanswered: 480
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-answerNow:
				answerNow = nil
				answered <- c.Answer(ctx)
			default:
			}
			if err := c.Leg.WriteFrame(frame); err != nil {
				return
			}
		}
	}))
	early := make(chan media.Leg, 1)
	cfg := dialCfg(s, "udp", "G722")
	cfg.OnEarlyMedia = func(l media.Leg) { early <- l }
	type result struct {
		oc  *OutboundCall
		err error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		oc, err := Dial(ctx, cfg)
		done <- result{oc, err}
	}()
	leg := recv(t, "early media", early)
	hearsTone(t, leg) // before any 200
	select {
	case r := <-done:
		t.Fatalf("Dial returned before Answer: %v", r.err)
	default:
	}
	close(answerNow)
	if err := recv(t, "answer", answered); err != nil {
		t.Fatalf("Answer: %v", err)
	}
	r := recv(t, "dial", done)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.oc.Codec().Name != "G722" {
		t.Errorf("codec %s", r.oc.Codec().Name)
	}
	hearsTone(t, r.oc.Leg())
	_ = r.oc.Hangup(context.Background())

	cfg.Target = "sip:announce@" + s.Addr()
	cfg.OnEarlyMedia = nil
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Dial(ctx, cfg)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 480 {
		t.Fatalf("unanswered early media: %v, want 480", err)
	}
	waitFor(t, "no active calls", func() bool { return s.ActiveCalls() == 0 })
}
