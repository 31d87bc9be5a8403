package sip

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// probeOptions sends one OPTIONS with a sipgo client over transport and
// returns the response.
func probeOptions(t *testing.T, cli *sipgo.Client, addr, transport string) *sipmsg.Response {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	pn, _ := strconv.Atoi(port)
	req := sipmsg.NewRequest(sipmsg.OPTIONS, sipmsg.Uri{Scheme: "sip", Host: host, Port: pn})
	req.SetTransport(strings.ToUpper(transport))
	req.AppendHeader(&sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: "sip", Host: host, Port: pn}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := cli.Do(ctx, req)
	if err != nil {
		t.Fatalf("OPTIONS over %s: %v", transport, err)
	}
	return res
}

// TestOptionsHealth: OPTIONS is the SIP front's health probe. A sipgo
// client asks over UDP and TCP: 200 with Allow and Accept while a call
// would be taken; 503 with Retry-After and the reason while the node is
// full (max_calls reached by a real call), fenced (Unavailable), or
// draining; 200 again once the call ends and the fence lifts.
func TestOptionsHealth(t *testing.T) {
	var fence atomic.Pointer[string]
	h := newToneHandler()
	s := startServer(t, Config{MaxCalls: 1, Unavailable: func() string {
		if p := fence.Load(); p != nil {
			return *p
		}
		return ""
	}}, h)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("options-probe"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	cli, err := sipgo.NewClient(ua)
	if err != nil {
		t.Fatal(err)
	}
	healthy := func(transport string) {
		t.Helper()
		res := probeOptions(t, cli, s.Addr(), transport)
		if res.StatusCode != 200 {
			t.Fatalf("%s: OPTIONS %d %s, want 200", transport, res.StatusCode, res.Reason)
		}
		allow := res.GetHeader("Allow")
		accept := res.GetHeader("Accept")
		if allow == nil || !strings.Contains(allow.Value(), "INVITE") || !strings.Contains(allow.Value(), "OPTIONS") {
			t.Errorf("%s: Allow %v", transport, allow)
		}
		if accept == nil || accept.Value() != "application/sdp" {
			t.Errorf("%s: Accept %v", transport, accept)
		}
	}
	refused := func(transport, why string) {
		t.Helper()
		res := probeOptions(t, cli, s.Addr(), transport)
		if res.StatusCode != 503 {
			t.Fatalf("%s while %s: OPTIONS %d %s, want 503", transport, why, res.StatusCode, res.Reason)
		}
		if res.GetHeader("Retry-After") == nil {
			t.Errorf("%s while %s: 503 without Retry-After", transport, why)
		}
		if w := res.GetHeader("Warning"); w == nil || !strings.Contains(w.Value(), why) {
			t.Errorf("%s: Warning %v, want it to say %q", transport, w, why)
		}
	}
	for _, tr := range []string{"udp", "tcp"} {
		healthy(tr)
	}

	// Full: one call in progress with max_calls 1.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := Dial(ctx, dialCfg(s, "udp", "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	recv(t, "inbound call", h.calls)
	for _, tr := range []string{"udp", "tcp"} {
		refused(tr, "Too Many Calls")
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	recv(t, "hang-up", h.causes)
	waitFor(t, "the call slot freed", func() bool { return s.ActiveCalls() == 0 })
	for _, tr := range []string{"udp", "tcp"} {
		healthy(tr)
	}

	// Fenced: OPTIONS and a new INVITE are refused; lifted, both work.
	why := "fenced: cluster lease lost"
	fence.Store(&why)
	for _, tr := range []string{"udp", "tcp"} {
		refused(tr, why)
	}
	if c, err := Dial(ctx, dialCfg(s, "tcp", "PCMU")); err == nil {
		c.Hangup(ctx)
		t.Fatal("a fenced server took a call")
	} else if !strings.Contains(err.Error(), "503") {
		t.Fatalf("INVITE while fenced: %v, want 503", err)
	}
	fence.Store(nil)
	for _, tr := range []string{"udp", "tcp"} {
		healthy(tr)
	}

	// Draining: refused for good.
	s.Drain()
	for _, tr := range []string{"udp", "tcp"} {
		refused(tr, "Draining")
	}
}
