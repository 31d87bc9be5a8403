package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/sip"
)

// TestEventsReconnect is issue 6's "a reconnecting client never misses an
// event", with real pages: an agent's and a supervisor's Chromium reach
// contactd through a proxy that the test cuts. While their sockets are
// down a SIP caller is offered to the agent; when the proxy comes back
// both pages resume where they stopped (?since=) and show what happened
// in the gap — the agent the offer, which she answers; the supervisor the
// agent's ringing state, from the replayed events, with no resync. A second
// cut while on the call: the caller hangs up in the gap, and the agent's
// page ends the call after the reconnect. In between, a third page (another
// supervisor) opens the wallboard mid-call and shows the call on hold with
// the first supervisor listening, from the snapshot alone.
func TestEventsReconnect(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	browsers := startBrowsers(ctx, t, burstWAV(t, t.TempDir(), toneAlice), "", "")
	s := startServer(t, bin)
	for _, u := range []string{"sue", "sam"} {
		if st := s.api(t, s.adminTok, "POST", "/api/v1/users", map[string]string{"username": u, "password": u + "-super-pass", "role": "supervisor"}, nil); st != 201 {
			t.Fatalf("create supervisor: %d", st)
		}
	}
	px := startCutProxy(t, s.httpURL)
	bs := browsers()
	alice, sue, sam := bs[0], bs[1], bs[2]

	must(t, sue.Navigate(px.url+"/supervisor"))
	must(t, sue.SetValue("#username", "sue"))
	must(t, sue.SetValue("#password", "sue-super-pass"))
	must(t, sue.Click("#login"))
	must(t, alice.Navigate(px.url+"/agent"))
	must(t, alice.SetValue("#username", "alice"))
	must(t, alice.SetValue("#password", "alice-demo"))
	must(t, alice.Click("#login"))
	must(t, alice.WaitJS(ctx, "window.contactd.loggedIn && window.contactd.wsConnected && window.contactd.epoch !== ''", 15*time.Second))
	must(t, alice.Click("#go-available"))
	must(t, alice.WaitJS(ctx, "window.contactd.state === 'available'", 10*time.Second))
	must(t, sue.WaitJS(ctx, "window.contactdSupervisor.wsConnected && window.contactdSupervisor.polls > 0", 15*time.Second))
	must(t, sue.WaitJS(ctx, `window.contactdSupervisor.agents.some(a => a.username === "alice" && a.state === "available")`, 10*time.Second))

	// The cut: both pages lose their sockets and keep failing to reconnect.
	px.cut()
	must(t, alice.WaitJS(ctx, "!window.contactd.wsConnected", 10*time.Second))
	must(t, sue.WaitJS(ctx, "!window.contactdSupervisor.wsConnected", 10*time.Second))
	var before struct{ Seq, SueSeq float64 }
	must(t, alice.Eval("({Seq: window.contactd.lastSeq})", &before))

	// In the gap, a caller asks for a person: alice is offered the call.
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: "+15550188", Codecs: []string{"opus"}})
	must(t, err)
	defer c.Hangup(context.Background())
	e := &ear{}
	go e.run(c.Leg())
	waitUntil(t, "the greeting", 20*time.Second, func() bool { return e.quietFor(800 * time.Millisecond) })
	must(t, c.SendDTMF('0'))
	var ag struct {
		State    string `json:"state"`
		Offering string `json:"offering"`
	}
	waitUntil(t, "alice to be offered the call (server side)", 20*time.Second, func() bool {
		return s.api(t, s.adminTok, "GET", "/api/v1/agents/alice", nil, &ag) == 200 && ag.State == "ringing"
	})
	var shown bool
	must(t, alice.Eval("!!window.contactd.offer", &shown))
	if shown {
		t.Fatal("the page shows the offer while its socket is cut")
	}

	// Back: the pages resume and get the gap replayed.
	px.restore()
	if err := alice.WaitJS(ctx, "window.contactd.wsConnected && !!(window.contactd.offer && window.contactd.offer.call_id)", 30*time.Second); err != nil {
		var st any
		_ = alice.Eval(`({state: window.contactd.state, offer: window.contactd.offer, seq: window.contactd.lastSeq, resumes: window.contactd.resumes,
			replayed: window.contactd.replayed, err: window.contactd.lastError, notice: document.querySelector("#notice").textContent, seen: window.contactd.seen})`, &st)
		t.Fatalf("%v\npage: %+v", err, st)
	}
	var got struct {
		Resumes, Replayed, Resyncs, Seq float64
		CallID                          string
	}
	must(t, alice.Eval(`({Resumes: window.contactd.resumes, Replayed: window.contactd.replayed, Resyncs: window.contactd.resyncs,
		Seq: window.contactd.lastSeq, CallID: window.contactd.offer.call_id})`, &got))
	t.Logf("alice after the gap: %+v (seq before %v)", got, before.Seq)
	if got.Resumes < 1 || got.Replayed < 2 || got.Resyncs != 0 || got.Seq <= before.Seq {
		t.Fatalf("alice's page did not resume with the missed events: %+v", got)
	}
	must(t, sue.WaitJS(ctx, `window.contactdSupervisor.wsConnected && window.contactdSupervisor.resumes >= 1 &&
		window.contactdSupervisor.seen.some(e => e.agent === "alice" && e.type === "agent_state" && e.state === "ringing")`, 30*time.Second))
	var sv struct{ Resyncs, Replayed float64 }
	must(t, sue.Eval("({Resyncs: window.contactdSupervisor.resyncs, Replayed: window.contactdSupervisor.replayed})", &sv))
	if sv.Resyncs != 0 || sv.Replayed < 1 {
		t.Fatalf("the wallboard did not resume: %+v", sv)
	}

	// She answers the offer she learnt of through the replay.
	must(t, alice.Click("#answer"))
	must(t, alice.WaitJS(ctx, "window.contactd.inCall && window.contactd.pcState === 'connected'", 20*time.Second))

	// Sue listens in and alice holds the caller; then sam opens the
	// wallboard: the hold and sue's listening come from the snapshot
	// (GET /calls/live), as no event about them reaches his page.
	must(t, sue.WaitJS(ctx, fmt.Sprintf(`(() => { const b = document.querySelector("#agents tr[data-agent=alice] button.mon[data-mode=listen]");
		return b && b.dataset.call === %q })()`, got.CallID), 10*time.Second))
	must(t, sue.Click("#agents tr[data-agent=alice] button.mon[data-mode=listen]"))
	must(t, sue.WaitJS(ctx, "window.contactdSupervisor.monitor && window.contactdSupervisor.monitor.pcState === 'connected'", 20*time.Second))
	must(t, alice.Click("#hold"))
	must(t, alice.WaitJS(ctx, "window.contactd.held", 5*time.Second))
	must(t, sam.Navigate(s.httpURL+"/supervisor"))
	must(t, sam.SetValue("#username", "sam"))
	must(t, sam.SetValue("#password", "sam-super-pass"))
	must(t, sam.Click("#login"))
	must(t, sam.WaitJS(ctx, `(() => { const el = document.querySelector("#agents tr[data-agent=alice] .live-state");
		return !!el && el.textContent.includes("on hold") && el.textContent.includes("sue: listen"); })()`, 15*time.Second))
	var told bool
	must(t, sam.Eval(`window.contactdSupervisor.seen.some(e => e.type === "call_held" || e.type === "monitor")`, &told))
	if told {
		t.Fatal("sam's page got the hold or the monitor as an event; the test wants the snapshot alone")
	}
	must(t, sam.Eval(fmt.Sprintf(`window.contactdSupervisor.live[%q].held && window.contactdSupervisor.live[%q].monitors.sue === "listen"`, got.CallID, got.CallID), &told))
	if !told {
		t.Fatal("sam's board state lacks the hold or the monitor")
	}

	// Second cut, on the call: the caller hangs up in the gap.
	px.cut()
	must(t, alice.WaitJS(ctx, "!window.contactd.wsConnected", 10*time.Second))
	must(t, c.Hangup(ctx))
	waitUntil(t, "the call to end (server side)", 20*time.Second, func() bool {
		var cl struct {
			EndedAt *time.Time `json:"ended_at"`
		}
		return s.api(t, s.adminTok, "GET", "/api/v1/calls/"+got.CallID, nil, &cl) == 200 && cl.EndedAt != nil
	})
	var inCall bool
	must(t, alice.Eval("window.contactd.inCall", &inCall))
	t.Logf("in call before the reconnect: %v (the media may have told the page already)", inCall)
	px.restore()
	must(t, alice.WaitJS(ctx, "window.contactd.wsConnected && window.contactd.resumes >= 2 && !window.contactd.inCall && window.contactd.callId === null", 30*time.Second))
	must(t, alice.Eval("({Resyncs: window.contactd.resyncs})", &got))
	if got.Resyncs != 0 {
		t.Fatalf("alice resynced instead of resuming: %+v", got)
	}
}

// cutProxy forwards TCP to a target until cut: then it drops every
// connection and refuses new ones (accepts and closes) until restored.
type cutProxy struct {
	url    string
	target string
	ln     net.Listener
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
}

func startCutProxy(t *testing.T, targetURL string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	p := &cutProxy{url: "http://" + ln.Addr().String(), target: targetURL[len("http://"):], ln: ln, conns: map[net.Conn]struct{}{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done; p.cut() })
	return p
}

func (p *cutProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		dst.Close()
		src.Close()
	}
	go pipe(up, c)
	go pipe(c, up)
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}
