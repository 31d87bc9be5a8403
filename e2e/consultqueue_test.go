package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/sip"
	"github.com/contactd/contactd/web/webtest"
)

// TestConsultQueue is a consultative transfer to a queue, driven in two
// agents' pages: a SIP caller reaches bob (billing); bob picks "Queue",
// types "orders" and clicks "Consult first". The caller hears music; the
// router offers the consultation to the orders queue's agent, alice, whose
// page shows the request; she clicks Talk, and bob and alice hear each
// other while the caller hears neither. "Back to caller" returns bob to
// the caller and lets alice go; a second consultation of the queue is
// completed: the caller hears alice, not bob, and the call is alice's, in
// the orders queue.
func TestConsultQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	started := time.Now()
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	browsers := startBrowsers(ctx, t, burstWAV(t, dir, toneBob), burstWAV(t, dir, toneAlice))
	s := startServer(t, bin)
	bs := browsers()
	bob, alice := bs[0], bs[1]
	for _, a := range []struct {
		b          *webtest.Browser
		user, pass string
	}{{bob, "bob", "bob-demo"}, {alice, "alice", "alice-demo"}} {
		signIn(ctx, t, a.b, s.httpURL, a.user, a.pass)
		goAvailable(ctx, t, a.b)
	}
	step := func(name string) { t.Logf("%-28s at %v", name, time.Since(started).Round(time.Millisecond)) }
	step("setup")

	// The caller keys 3 (billing): bob's.
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: "+15550167", Codecs: []string{"opus"}})
	must(t, err)
	defer c.Hangup(context.Background())
	e := &ear{}
	go e.run(c.Leg())
	waitUntil(t, "the greeting", 20*time.Second, func() bool { return e.quietFor(800 * time.Millisecond) })
	must(t, c.SendDTMF('3'))
	must(t, bob.WaitJS(ctx, "!!(window.contactd.offer && window.contactd.offer.call_id)", 20*time.Second))
	var callID string
	must(t, bob.Eval("window.contactd.offer.call_id", &callID))
	must(t, bob.Click("#answer"))
	must(t, bob.WaitJS(ctx, "window.contactd.inCall && window.contactd.pcState === 'connected'", 20*time.Second))
	speaking := &atomic.Bool{}
	speaking.Store(true)
	go speak(ctx, c.Leg(), toneCaller, speaking)
	callerHears := func(what string, hz float64) {
		t.Helper()
		waitUntil(t, "the caller to hear "+what, 10*time.Second, func() bool { return e.level(hz, 600*time.Millisecond) >= heardAt })
	}
	callerHearsMusicOnly := func(when string) {
		t.Helper()
		waitUntil(t, "music on hold "+when, 10*time.Second, func() bool {
			last := e.last(600 * time.Millisecond)
			return media.RMS(last) > 300 && level(last, toneBob) < silentBelow && level(last, toneAlice) < silentBelow
		})
	}
	callerHears("bob", toneBob)
	step("bob answered")

	// consultOrders: bob consults the orders queue; alice's page gets the
	// request through the queue and she talks.
	consultOrders := func() {
		t.Helper()
		must(t, bob.SetValue("#xfer-kind", "queue"))
		must(t, bob.SetValue("#xfer-target", "orders"))
		must(t, bob.Click("#xfer-consult"))
		must(t, bob.WaitJS(ctx, "window.contactd.consult && window.contactd.consult.queue === 'orders' && window.contactd.held", 5*time.Second))
		callerHearsMusicOnly("while the queue is asked")
		must(t, alice.WaitJS(ctx, fmt.Sprintf(`window.contactd.consultOffer && window.contactd.consultOffer.call_id === %q &&
			window.contactd.consultOffer.peer === "bob" && window.contactd.consultOffer.queue === "orders" &&
			!document.querySelector("#consult-offer-panel").hidden`, callID), 15*time.Second))
		var text string
		must(t, alice.Eval(`document.querySelector("#consult-offer-panel").textContent`, &text))
		if !strings.Contains(text, "orders queue") || !strings.Contains(text, "+15550167") {
			t.Errorf("alice's consultation request reads %q", strings.Join(strings.Fields(text), " "))
		}
		must(t, alice.Click("#consult-answer"))
		must(t, alice.WaitJS(ctx, "window.contactd.consulting && window.contactd.pcState === 'connected'", 20*time.Second))
		must(t, bob.WaitJS(ctx, "window.contactd.consult && window.contactd.consult.state === 'talking' && window.contactd.consult.target === 'alice'", 10*time.Second))
		heard(ctx, t, bob, "#remote-audio", "bob hears alice", toneAlice)
		heard(ctx, t, alice, "#remote-audio", "alice hears bob", toneBob)
		notHeard(t, alice, "#remote-audio", "alice hears the held caller", toneCaller)
		callerHearsMusicOnly("during the consultation")
	}

	// 1. Consult the queue, then go back to the caller.
	consultOrders()
	step("consulting orders")
	must(t, bob.Click("#consult-cancel"))
	must(t, bob.WaitJS(ctx, "!window.contactd.consult && !window.contactd.held && window.contactd.inCall", 10*time.Second))
	must(t, alice.WaitJS(ctx, "!window.contactd.consulting && !window.contactd.inCall", 10*time.Second))
	callerHears("bob back from the consultation", toneBob)
	heard(ctx, t, bob, "#remote-audio", "bob hears the caller again", toneCaller)
	must(t, alice.WaitJS(ctx, "window.contactd.state === 'available'", 15*time.Second)) // after the 1 s wrap-up
	step("back to the caller")

	// 2. Consult the queue again and complete: the call is alice's.
	consultOrders()
	must(t, bob.Click("#consult-complete"))
	must(t, bob.WaitJS(ctx, "!window.contactd.inCall && window.contactd.callId === null", 10*time.Second))
	must(t, alice.WaitJS(ctx, fmt.Sprintf("window.contactd.inCall && window.contactd.callId === %q", callID), 10*time.Second))
	callerHears("alice after the transfer", toneAlice)
	time.Sleep(800 * time.Millisecond)
	if l := e.level(toneBob, 600*time.Millisecond); l >= silentBelow {
		t.Errorf("the caller still hears bob after the transfer: %.4f", l)
	}
	heard(ctx, t, alice, "#remote-audio", "alice hears the caller", toneCaller)
	step("transferred")
	screenshot(t, alice, "consult-queue-alice")

	var live struct {
		Calls []struct {
			CallID string `json:"call_id"`
			Agent  string `json:"agent"`
			Queue  string `json:"queue"`
		} `json:"calls"`
	}
	if st := s.api(t, s.adminTok, "GET", "/api/v1/calls/live", nil, &live); st != 200 {
		t.Fatalf("live calls: %d", st)
	}
	found := false
	for _, l := range live.Calls {
		if l.CallID == callID {
			found = true
			if l.Agent != "alice" || l.Queue != "orders" {
				t.Errorf("live call after the transfer: agent %q queue %q, want alice in orders", l.Agent, l.Queue)
			}
		}
	}
	if !found {
		t.Errorf("the call is not live after the transfer: %+v", live.Calls)
	}
	var queues struct {
		Queues []struct {
			Name      string `json:"name"`
			Answered  int    `json:"answered"`
			Abandoned int    `json:"abandoned"`
		} `json:"queues"`
	}
	if st := s.api(t, s.adminTok, "GET", "/api/v1/queues", nil, &queues); st != 200 {
		t.Fatalf("queues: %d", st)
	}
	for _, q := range queues.Queues {
		if q.Name == "orders" && (q.Answered != 0 || q.Abandoned != 0) {
			t.Errorf("orders counts the consultations as calls: answered %d, abandoned %d", q.Answered, q.Abandoned)
		}
	}

	// The caller hangs up; the call is on record as alice's in orders.
	must(t, c.Hangup(ctx))
	must(t, alice.WaitJS(ctx, "!window.contactd.inCall", 15*time.Second))
	var rec struct {
		Agent string `json:"agent"`
		Queue string `json:"queue"`
	}
	waitUntil(t, "the call's record", 20*time.Second, func() bool {
		return s.api(t, s.adminTok, "GET", "/api/v1/calls/"+callID, nil, &rec) == 200 && rec.Agent == "alice"
	})
	if rec.Queue != "orders" {
		t.Errorf("call record: queue %q, want orders", rec.Queue)
	}
	step("done")
}
