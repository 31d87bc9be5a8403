package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/sip"
	"github.com/contactd/contactd/web/webtest"
)

// TestRoutingRelaxAndSticky is issue 6's skill relaxation and sticky
// agent end to end: two agents in their own Chromium pages, real SIP
// callers keying the returns menu (queue returns: proficiency ≥ 5 at
// first, ≥ 1 after 8 s here, sticky 15 s, most skilled first). alice is
// the expert (returns 6), erin a beginner (returns 2).
//
//  1. Relaxation: alice is on a break; a caller waits — not offered to erin
//     while the queue wants ≥ 5 — and once the wait reaches 8 s erin's page
//     is offered the call; she answers and talks to the caller.
//  2. Sticky: both are free; the same caller calls again and is offered to
//     erin, who handled them last, although alice is the better match.
//  3. Control: a new caller, with both free, goes to alice (most skilled):
//     what erin got in 2 was the stickiness, not a tie.
//
// The routing unit tests (routing/rules_test.go) cover the rules as
// tables; this drives them through real pages answering real calls.
func TestRoutingRelaxAndSticky(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	browsers := startBrowsers(ctx, t, burstWAV(t, dir, toneAlice), burstWAV(t, dir, toneBob))
	s := startServerWith(t, bin, func(y string) string {
		const old = `  - name: returns
    skill: returns
    strategy: most_skilled
    steps: [{after: 0s, min_proficiency: 5}, {after: 30s, min_proficiency: 1}, {after: 90s, overflow: general}]
    sla_target: 30s
    wrap_up: 10s
`
		if !strings.Contains(y, old) {
			t.Fatalf("the demo config's returns queue is not\n%s", old)
		}
		return strings.Replace(y, old, strings.NewReplacer("after: 30s", "after: 8s", "wrap_up: 10s", "wrap_up: 1s").Replace(old), 1)
	})
	if st := s.api(t, s.adminTok, "POST", "/api/v1/users", map[string]string{"username": "erin", "password": "erin-agent-pass", "role": "agent"}, nil); st != 201 {
		t.Fatalf("create erin: %d", st)
	}
	if st := s.api(t, s.adminTok, "PUT", "/api/v1/agents/erin", map[string]any{"skills": map[string]int{"returns": 2, "general": 3}}, nil); st != 200 {
		t.Fatalf("erin's skills: %d", st)
	}
	bs := browsers()
	alice, erin := bs[0], bs[1]
	for _, a := range []struct {
		b          *webtest.Browser
		user, pass string
	}{{alice, "alice", "alice-demo"}, {erin, "erin", "erin-agent-pass"}} {
		signIn(ctx, t, a.b, s.httpURL, a.user, a.pass)
	}
	must(t, alice.Click("#go-break"))
	must(t, alice.WaitJS(ctx, "window.contactd.state === 'break'", 10*time.Second))
	goAvailable(ctx, t, erin)

	const returning = "+15550191"
	// call dials in from number, keys 2 (returns) and returns the call, its
	// ear and when the call joined the queue (seen in the queue API).
	call := func(from string) (*sip.OutboundCall, *ear, time.Time) {
		t.Helper()
		c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: from, Codecs: []string{"opus"}})
		must(t, err)
		t.Cleanup(func() { c.Hangup(context.Background()) })
		e := &ear{}
		go e.run(c.Leg())
		waitUntil(t, "the greeting", 20*time.Second, func() bool { return e.quietFor(800 * time.Millisecond) })
		must(t, c.SendDTMF('2'))
		var queued time.Time
		waitUntil(t, "the call in the returns queue", 20*time.Second, func() bool {
			var qs struct {
				Queues []struct {
					Name    string   `json:"name"`
					Waiting []string `json:"waiting"`
				} `json:"queues"`
			}
			s.api(t, s.adminTok, "GET", "/api/v1/queues", nil, &qs)
			for _, q := range qs.Queues {
				if q.Name == "returns" && len(q.Waiting) > 0 {
					queued = time.Now()
					return true
				}
			}
			return false
		})
		return c, e, queued
	}
	offered := func(b *webtest.Browser) string {
		var id string
		must(t, b.Eval("(window.contactd.offer && window.contactd.offer.call_id) || ''", &id))
		return id
	}
	answer := func(b *webtest.Browser, who string) string {
		t.Helper()
		id := offered(b)
		must(t, b.Click("#answer"))
		must(t, b.WaitJS(ctx, "window.contactd.inCall && window.contactd.pcState === 'connected'", 20*time.Second))
		t.Logf("%s answered %s", who, id)
		return id
	}
	agentOf := func(id string) string {
		var cl struct {
			Agent string `json:"agent"`
		}
		s.api(t, s.adminTok, "GET", "/api/v1/calls/"+id, nil, &cl)
		return cl.Agent
	}
	hangUp := func(c *sip.OutboundCall, b *webtest.Browser) {
		t.Helper()
		must(t, c.Hangup(ctx))
		must(t, b.WaitJS(ctx, "!window.contactd.inCall", 15*time.Second))
		must(t, b.WaitJS(ctx, "window.contactd.state === 'available'", 15*time.Second)) // after the 1 s wrap-up
	}

	// 1. Relaxation.
	c1, e1, queued := call(returning)
	time.Sleep(time.Until(queued.Add(5 * time.Second)))
	if id := offered(erin); id != "" {
		t.Fatalf("erin (returns 2) was offered %s %v after it queued, before the 8 s relaxation", id, time.Since(queued).Round(time.Millisecond))
	}
	must(t, erin.WaitJS(ctx, "!!(window.contactd.offer && window.contactd.offer.call_id)", 20*time.Second))
	after := time.Since(queued)
	t.Logf("erin offered %v after the call queued (relaxation at 8 s)", after.Round(time.Millisecond))
	if after < 7*time.Second {
		t.Fatalf("erin was offered the call %v after it queued, before the relaxation", after)
	}
	id1 := answer(erin, "erin")
	waitUntil(t, "the caller to hear erin", 10*time.Second, func() bool { return e1.level(toneBob, 600*time.Millisecond) >= heardAt })
	hangUp(c1, erin)
	if a := agentOf(id1); a != "erin" {
		t.Fatalf("call 1's agent %q, want erin", a)
	}

	// 2. Sticky: both free; the returning caller goes to erin first.
	goAvailable(ctx, t, alice)
	c2, _, queued2 := call(returning)
	must(t, erin.WaitJS(ctx, "!!(window.contactd.offer && window.contactd.offer.call_id)", 10*time.Second))
	t.Logf("the returning caller offered to erin %v after queueing", time.Since(queued2).Round(time.Millisecond))
	if id := offered(alice); id != "" {
		t.Fatalf("alice was offered the returning caller's call %s", id)
	}
	id2 := answer(erin, "erin")
	hangUp(c2, erin)
	if a := agentOf(id2); a != "erin" {
		t.Fatalf("call 2's agent %q, want erin (sticky)", a)
	}

	// 3. Control: a new caller goes to the expert.
	c3, _, _ := call("+15550192")
	must(t, alice.WaitJS(ctx, "!!(window.contactd.offer && window.contactd.offer.call_id)", 10*time.Second))
	if id := offered(erin); id != "" {
		t.Fatalf("erin was offered the new caller's call %s", id)
	}
	id3 := answer(alice, "alice")
	hangUp(c3, alice)
	if a := agentOf(id3); a != "alice" {
		t.Fatalf("call 3's agent %q, want alice", a)
	}
}
