package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
	sipmsg "github.com/emiago/sipgo/sip"
)

// eventHandler records each call's events and ends when the call ends.
type eventHandler struct {
	calls  chan *InboundCall
	events chan CallEvent
	causes chan error
	serve  func(ctx context.Context, c *InboundCall) // optional extra work
}

func newEventHandler() *eventHandler {
	return &eventHandler{calls: make(chan *InboundCall, 4), events: make(chan CallEvent, 32), causes: make(chan error, 4)}
}

func (h *eventHandler) ServeCall(ctx context.Context, c *InboundCall) {
	h.calls <- c
	if h.serve != nil {
		go h.serve(ctx, c)
	}
	for {
		select {
		case <-ctx.Done():
			h.causes <- context.Cause(ctx)
			return
		case ev := <-c.Events():
			h.events <- ev
		}
	}
}

// inDialogRequest sends one request in the caller's dialog and returns the
// final response; a 2xx to an INVITE is ACKed.
func inDialogRequest(t *testing.T, call *OutboundCall, method sipmsg.RequestMethod, contentType, body string, hdrs ...sipmsg.Header) *sipmsg.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := sipmsg.NewRequest(method, call.dlg.InviteResponse.Contact().Address)
	if contentType != "" {
		req.AppendHeader(sipmsg.NewHeader("Content-Type", contentType))
	}
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	if body != "" {
		req.SetBody([]byte(body))
	}
	res, err := call.dlg.Do(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if method == sipmsg.INVITE && res.IsSuccess() {
		ack := sipmsg.NewRequest(sipmsg.ACK, req.Recipient)
		ack.AppendHeader(&sipmsg.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sipmsg.ACK})
		if err := call.dlg.WriteRequest(ack); err != nil {
			t.Fatalf("ack: %v", err)
		}
	}
	return res
}

// offerSDP is a PCMU offer from addr with a direction.
func offerSDP(addr *net.UDPAddr, dir string) string {
	return fmt.Sprintf("v=0\r\no=- 1 2 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\n"+
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n", addr.IP, addr.IP, addr.Port, dir)
}

func expectEvent(t *testing.T, h *eventHandler, want CallEvent) {
	t.Helper()
	if got := recv(t, "call event "+want.Kind.String(), h.events); got != want {
		t.Fatalf("event %+v, want %+v", got, want)
	}
}

// TestReinvite: the caller holds (sendonly, inactive, c=0.0.0.0), resumes,
// moves its stream, re-offers without a body and with a dropped codec; we
// answer each with the right direction and tell the handler.
func TestReinvite(t *testing.T) {
	h := newEventHandler()
	s := startServer(t, Config{}, h)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			call, err := Dial(context.Background(), dialCfg(s, transport, "PCMU"))
			if err != nil {
				t.Fatal(err)
			}
			defer call.Hangup(context.Background())
			in := recv(t, "inbound call", h.calls)
			local := call.Leg().LocalAddr()
			zero := &net.UDPAddr{IP: net.IPv4zero, Port: local.Port}

			steps := []struct {
				name    string
				body    string
				wantDir string
				event   CallEventKind
			}{
				{"sendonly holds", offerSDP(local, "sendonly"), "recvonly", EventHold},
				{"sendrecv resumes", offerSDP(local, "sendrecv"), "sendrecv", EventResume},
				{"inactive holds", offerSDP(local, "inactive"), "inactive", EventHold},
				{"still inactive: no event", offerSDP(local, "inactive"), "inactive", 0},
				{"resume", offerSDP(local, "sendrecv"), "sendrecv", EventResume},
				{"c=0.0.0.0 holds", offerSDP(zero, "sendrecv"), "recvonly", EventHold},
				{"resume again", offerSDP(local, "sendrecv"), "sendrecv", EventResume},
			}
			var lastVersion string
			for _, st := range steps {
				res := inDialogRequest(t, call, sipmsg.INVITE, "application/sdp", st.body)
				if res.StatusCode != 200 {
					t.Fatalf("%s: %d %s", st.name, res.StatusCode, res.Reason)
				}
				m, err := parseSDP(res.Body())
				if err != nil || m.Direction != st.wantDir || len(m.Formats) == 0 || m.Formats[0].Name != "PCMU" {
					t.Fatalf("%s: answer %+v (%v), want %s PCMU", st.name, m, err, st.wantDir)
				}
				o := strings.Fields(strings.SplitN(strings.SplitN(string(res.Body()), "o=", 2)[1], "\r\n", 2)[0])
				if o[2] == lastVersion {
					t.Errorf("%s: o= version %s not bumped", st.name, o[2])
				}
				lastVersion = o[2]
				if st.event != 0 {
					expectEvent(t, h, CallEvent{Kind: st.event})
				}
				byCaller, _ := in.OnHold()
				if want := st.event == EventHold || (st.event == 0 && byCaller); byCaller != want {
					t.Errorf("%s: OnHold = %v", st.name, byCaller)
				}
			}
			select {
			case ev := <-h.events:
				t.Fatalf("unexpected event %+v", ev)
			default:
			}

			// The stream moves: RTP goes to the new port.
			moved, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer moved.Close()
			if res := inDialogRequest(t, call, sipmsg.INVITE, "application/sdp", offerSDP(moved.LocalAddr().(*net.UDPAddr), "sendrecv")); res.StatusCode != 200 {
				t.Fatalf("move: %d", res.StatusCode)
			}
			go func() {
				frame := make([]int16, media.FrameSamples)
				for i := 0; i < 10; i++ {
					if in.Leg.WriteFrame(frame) != nil {
						return
					}
				}
			}()
			moved.SetReadDeadline(time.Now().Add(3 * time.Second))
			buf := make([]byte, 1500)
			if n, _, err := moved.ReadFromUDP(buf); err != nil || n < 12 {
				t.Fatalf("no RTP at the moved address: %v", err)
			}

			// A re-offer without our codec is refused and changes nothing.
			g722 := "v=0\r\no=- 1 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\na=sendonly\r\n"
			if res := inDialogRequest(t, call, sipmsg.INVITE, "application/sdp", g722); res.StatusCode != 488 {
				t.Errorf("codec change: %d, want 488", res.StatusCode)
			}
			if byCaller, _ := in.OnHold(); byCaller {
				t.Error("refused offer changed the hold state")
			}
			if res := inDialogRequest(t, call, sipmsg.INVITE, "application/sdp", "garbage"); res.StatusCode != 400 {
				t.Errorf("garbage sdp: %d, want 400", res.StatusCode)
			}
			// Delayed offer: we offer in the 200.
			res := inDialogRequest(t, call, sipmsg.INVITE, "", "")
			if m, err := parseSDP(res.Body()); res.StatusCode != 200 || err != nil || m.Direction != "sendrecv" {
				t.Errorf("re-INVITE without body: %d %v %+v", res.StatusCode, err, m)
			}
			if err := call.Hangup(context.Background()); err != nil {
				t.Fatal(err)
			}
			if cause := recv(t, "handler end", h.causes); !errors.Is(cause, ErrRemoteHangup) {
				t.Errorf("cause %v", cause)
			}
		})
	}
}

// TestInfoDTMF: SIP INFO digits reach Events(); other bodies are refused.
func TestInfoDTMF(t *testing.T) {
	h := newEventHandler()
	s := startServer(t, Config{}, h)
	call, err := Dial(context.Background(), dialCfg(s, "udp", "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	defer call.Hangup(context.Background())
	recv(t, "inbound call", h.calls)
	tests := []struct {
		name, ct, body string
		code           int
		digit          rune
	}{
		{"dtmf-relay", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", 200, '5'},
		{"dtmf-relay star", "application/dtmf-relay", "Signal= *\r\nDuration=160\r\n", 200, '*'},
		{"dtmf-relay event 11", "application/dtmf-relay", "Signal=11\r\n", 200, '#'},
		{"dtmf", "application/dtmf", "9", 200, '9'},
		{"dtmf lower a", "application/dtmf", "a", 200, 'A'},
		{"empty keep-alive", "", "", 200, 0},
		{"bad signal", "application/dtmf-relay", "Signal=X\r\n", 400, 0},
		{"no signal", "application/dtmf-relay", "Duration=160\r\n", 400, 0},
		{"other body", "application/media_control+xml", "<media_control/>", 415, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := inDialogRequest(t, call, sipmsg.INFO, tc.ct, tc.body)
			if res.StatusCode != tc.code {
				t.Fatalf("INFO: %d %s, want %d", res.StatusCode, res.Reason, tc.code)
			}
			if tc.digit != 0 {
				expectEvent(t, h, CallEvent{Kind: EventDTMF, Digit: tc.digit})
			}
		})
	}
	select {
	case ev := <-h.events:
		t.Fatalf("unexpected event %+v", ev)
	default:
	}
	t.Run("outside a dialog", func(t *testing.T) {
		rc := dialRaw(t, "udp", s.Addr())
		res := rc.do(request("INFO").without("To").with("To: <sip:support@$A>;tag=nope", ""), 3*time.Second)
		if res == nil || res.Code != 481 {
			t.Fatalf("INFO outside a dialog: %+v, want 481", res)
		}
	})
}

// TestServerHold: our side holds and resumes the caller with re-INVITEs.
func TestServerHold(t *testing.T) {
	h := newEventHandler()
	s := startServer(t, Config{}, h)
	call, err := Dial(context.Background(), dialCfg(s, "tcp", "PCMA"))
	if err != nil {
		t.Fatal(err)
	}
	defer call.Hangup(context.Background())
	in := recv(t, "inbound call", h.calls)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := in.Hold(ctx, true); err != nil {
		t.Fatal(err)
	}
	if !call.HeldByRemote() {
		t.Error("caller not held after Hold(true)")
	}
	if _, byUs := in.OnHold(); !byUs {
		t.Error("OnHold does not show our hold")
	}
	if err := in.Hold(ctx, false); err != nil {
		t.Fatal(err)
	}
	if call.HeldByRemote() {
		t.Error("caller still held after Hold(false)")
	}
	// Audio still flows after the re-INVITEs.
	go func() {
		frame := media.Tone(toneHz, media.FrameDuration, media.SampleRate, 0.5)
		for i := 0; i < 100; i++ {
			if in.Leg.WriteFrame(frame) != nil {
				return
			}
		}
	}()
	hearsTone(t, call.Leg())
}

// TestRTPTimeout: a silent caller is hung up with ErrMediaTimeout; one
// that sends audio, or holds us, is not.
func TestRTPTimeout(t *testing.T) {
	const timeout = 600 * time.Millisecond
	h := newEventHandler()
	s := startServer(t, Config{RTPTimeout: timeout}, h)

	t.Run("silent", func(t *testing.T) {
		start := time.Now()
		call, err := Dial(context.Background(), dialCfg(s, "udp", "PCMU"))
		if err != nil {
			t.Fatal(err)
		}
		defer call.Hangup(context.Background())
		recv(t, "inbound call", h.calls)
		if cause := recv(t, "handler end", h.causes); !errors.Is(cause, ErrMediaTimeout) {
			t.Fatalf("cause %v, want ErrMediaTimeout", cause)
		}
		recv(t, "caller's BYE", call.Done())
		if d := time.Since(start); d < timeout || d > timeout+2*time.Second {
			t.Errorf("hung up after %v, timeout %v", d, timeout)
		}
	})
	t.Run("talking and holding", func(t *testing.T) {
		call, err := Dial(context.Background(), dialCfg(s, "udp", "PCMU"))
		if err != nil {
			t.Fatal(err)
		}
		defer call.Hangup(context.Background())
		recv(t, "inbound call", h.calls)
		var stop atomic.Bool
		done := make(chan struct{})
		go func() {
			defer close(done)
			frame := make([]int16, media.FrameSamples)
			for !stop.Load() {
				if call.Leg().WriteFrame(frame) != nil {
					return
				}
			}
		}()
		time.Sleep(2 * timeout) // the call must outlive the timeout: sleeping is the test
		select {
		case cause := <-h.causes:
			t.Fatalf("talking caller hung up: %v", cause)
		default:
		}
		stop.Store(true)
		<-done
		local := call.Leg().LocalAddr()
		if res := inDialogRequest(t, call, sipmsg.INVITE, "application/sdp", offerSDP(local, "sendonly")); res.StatusCode != 200 {
			t.Fatalf("hold: %d", res.StatusCode)
		}
		recv(t, "hold event", h.events)
		time.Sleep(2 * timeout)
		select {
		case cause := <-h.causes:
			t.Fatalf("held caller hung up: %v", cause)
		default:
		}
		// Resumed and silent: the timeout runs again.
		if res := inDialogRequest(t, call, sipmsg.INVITE, "application/sdp", offerSDP(local, "sendrecv")); res.StatusCode != 200 {
			t.Fatalf("resume: %d", res.StatusCode)
		}
		if cause := recv(t, "handler end", h.causes); !errors.Is(cause, ErrMediaTimeout) {
			t.Fatalf("cause %v, want ErrMediaTimeout", cause)
		}
	})
}

// TestSessionTimer: RFC 4028 with a 2 s interval (1 s minimum).
func TestSessionTimer(t *testing.T) {
	h := newEventHandler()
	s := startServer(t, Config{SessionExpires: 2 * time.Second, MinSE: time.Second}, h)
	dial := func(t *testing.T, hdrs ...sipmsg.Header) (*OutboundCall, error) {
		cfg := dialCfg(s, "udp", "PCMU")
		cfg.headers = hdrs
		return Dial(context.Background(), cfg)
	}
	supported := sipmsg.NewHeader("Supported", "timer")

	t.Run("too small", func(t *testing.T) {
		_, err := dial(t, supported, sipmsg.NewHeader("Session-Expires", "0"))
		var se *StatusError
		if !errors.As(err, &se) || se.Code != 400 {
			t.Errorf("Session-Expires 0: %v, want 400", err)
		}
		// 1 s is our minimum; the interval is in whole seconds, so ask
		// below it with a Min-SE-less caller on a stricter server.
		strict := startServer(t, Config{SessionExpires: 10 * time.Second, MinSE: 5 * time.Second}, newEventHandler())
		cfg := dialCfg(strict, "udp", "PCMU")
		cfg.headers = []sipmsg.Header{supported, sipmsg.NewHeader("Session-Expires", "3")}
		_, err = Dial(context.Background(), cfg)
		if !errors.As(err, &se) || se.Code != 422 {
			t.Errorf("Session-Expires 3 < 5: %v, want 422", err)
		}
	})
	t.Run("expires without refresh", func(t *testing.T) {
		start := time.Now()
		call, err := dial(t, supported, sipmsg.NewHeader("Session-Expires", "60;refresher=uac"))
		if err != nil {
			t.Fatal(err)
		}
		defer call.Hangup(context.Background())
		se := call.dlg.InviteResponse.GetHeader("Session-Expires")
		if se == nil || se.Value() != "2;refresher=uac" {
			t.Errorf("Session-Expires in 200: %v", se)
		}
		if r := call.dlg.InviteResponse.GetHeader("Require"); r == nil || r.Value() != "timer" {
			t.Errorf("Require in 200: %v", r)
		}
		recv(t, "inbound call", h.calls)
		if cause := recv(t, "handler end", h.causes); !errors.Is(cause, ErrSessionExpired) {
			t.Fatalf("cause %v", cause)
		}
		recv(t, "caller's BYE", call.Done())
		if d := time.Since(start); d < 1200*time.Millisecond {
			t.Errorf("expired after %v, want about 1.33s", d)
		}
	})
	t.Run("refreshed by UPDATE and re-INVITE", func(t *testing.T) {
		call, err := dial(t, supported, sipmsg.NewHeader("Session-Expires", "2;refresher=uac"))
		if err != nil {
			t.Fatal(err)
		}
		defer call.Hangup(context.Background())
		recv(t, "inbound call", h.calls)
		local := call.Leg().LocalAddr()
		for i := 0; i < 4; i++ {
			time.Sleep(700 * time.Millisecond) // refresh period: the test is the waiting
			var res *sipmsg.Response
			if i%2 == 0 {
				res = inDialogRequest(t, call, sipmsg.UPDATE, "", "", supported, sipmsg.NewHeader("Session-Expires", "2;refresher=uac"))
			} else {
				res = inDialogRequest(t, call, sipmsg.INVITE, "application/sdp", offerSDP(local, "sendrecv"), supported, sipmsg.NewHeader("Session-Expires", "2;refresher=uac"))
			}
			if res.StatusCode != 200 || res.GetHeader("Session-Expires") == nil {
				t.Fatalf("refresh %d: %d %v", i, res.StatusCode, res.GetHeader("Session-Expires"))
			}
		}
		select {
		case cause := <-h.causes:
			t.Fatalf("refreshed call ended: %v", cause)
		default:
		}
		if cause := recv(t, "handler end", h.causes); !errors.Is(cause, ErrSessionExpired) {
			t.Fatalf("cause after refreshes stopped: %v", cause)
		}
	})
	t.Run("we refresh", func(t *testing.T) {
		call, err := dial(t, sipmsg.NewHeader("Session-Expires", "2"))
		if err != nil {
			t.Fatal(err)
		}
		defer call.Hangup(context.Background())
		if se := call.dlg.InviteResponse.GetHeader("Session-Expires"); se == nil || se.Value() != "2;refresher=uas" {
			t.Errorf("Session-Expires in 200: %v", se)
		}
		recv(t, "inbound call", h.calls)
		time.Sleep(3 * time.Second) // past the interval: our re-INVITEs keep it up
		select {
		case cause := <-h.causes:
			t.Fatalf("call ended: %v", cause)
		case <-call.Done():
			t.Fatal("caller got BYE")
		default:
		}
		if n := call.reoffers.Load(); n < 2 {
			t.Errorf("caller got %d refreshing re-INVITEs in 3s, want at least 2", n)
		}
		call.Hangup(context.Background())
		recv(t, "handler end", h.causes)
	})
}
