package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestClickToCall is an agent calling a customer from the page: bob types
// a number into "Call a number" and presses Enter. A number outside the
// trunk's policy is refused on the page and nobody is called. An allowed
// one goes out through the trunk to a SIP peer (the carrier answers with a
// 1 kHz tone): bob hears it, the carrier hears bob's microphone. Bob clicks
// "Hang up": the carrier gets a BYE, the page goes to wrap-up, and the
// call is on record as bob's outbound call.
func TestClickToCall(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	started := time.Now()
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const ring = 5 * time.Second
	carrier := startCarrierRinging(ctx, t, ring)
	browsers := startBrowsers(ctx, t, burstWAV(t, t.TempDir(), toneBob))
	s := startServerWith(t, bin, func(y string) string {
		const at = `      blocked_prefixes: ["+1900"`
		if !strings.Contains(y, at) {
			t.Fatalf("the demo config lacks %q", at)
		}
		return strings.Replace(y, at, fmt.Sprintf(`      outbound: {uri: "sip:%s", from: "+15550100"}
      allowed_prefixes: ["+1555"]
`, carrier.addr)+at, 1)
	})
	bob := browsers()[0]
	signIn(ctx, t, bob, s.httpURL, "bob", "bob-demo")
	goAvailable(ctx, t, bob)
	step := func(name string) { t.Logf("%-28s at %v", name, time.Since(started).Round(time.Millisecond)) }
	step("setup")

	// A premium-rate number: refused, shown, nothing dialled.
	must(t, bob.Type("#dial-number", "+1 900 555 0101\r"))
	must(t, bob.WaitJS(ctx, "window.contactd.lastError.startsWith('Could not place the call')", 15*time.Second))
	var st struct {
		InCall bool   `json:"inCall"`
		State  string `json:"state"`
		Err    string `json:"err"`
	}
	must(t, bob.Eval("({inCall: window.contactd.inCall, state: window.contactd.state, err: window.contactd.lastError})", &st))
	if st.InCall || st.State != "available" {
		t.Errorf("after a refused number: %+v, want available and not in a call", st)
	}
	if !strings.Contains(st.Err, "number not permitted: ") {
		t.Errorf("refusal shown as %q, want it to say the number is not permitted", st.Err)
	}
	if n := carrier.lastNumber(); n != "" {
		t.Fatalf("the trunk was asked to call %q", n)
	}
	t.Logf("refused: %s", st.Err)
	step("refused")

	// An allowed number, typed as people write it.
	must(t, bob.Eval(`document.querySelector("#dial-number").value = ""`, nil))
	must(t, bob.Type("#dial-number", "+1 (555) 700-4\r"))
	must(t, bob.WaitJS(ctx, "window.contactd.inCall && !window.contactd.dialing && window.contactd.pcState === 'connected'", 30*time.Second))
	if got := carrier.lastNumber(); got != "+15557004" {
		t.Fatalf("the carrier was called for %q, want +15557004", got)
	}
	var callID string
	must(t, bob.Eval("window.contactd.callId", &callID))
	step("answered")
	heard(ctx, t, bob, "#remote-audio", "bob hears the called number", 1000)
	waitUntil(t, "bob's voice at the called number", 10*time.Second, func() bool {
		return level(carrier.heard("+15557004"), toneBob) >= heardAt
	})
	must(t, bob.WaitJS(ctx, `document.querySelector("#call-panel") && !document.querySelector("#call-panel").hidden &&
		document.querySelector("#call-panel").textContent.includes("+1 (555) 700-4")`, 5*time.Second))

	// Bob hangs up from the page.
	must(t, bob.Click("#hangup"))
	must(t, bob.WaitJS(ctx, "!window.contactd.inCall && window.contactd.callId === null", 10*time.Second))
	waitUntil(t, "the carrier to get contactd's BYE", 10*time.Second, func() bool { return carrier.hungUp("+15557004") })
	must(t, bob.WaitJS(ctx, fmt.Sprintf("window.contactd.wrapup && window.contactd.wrapup.callId === %q", callID), 10*time.Second))
	step("hung up")
	var rec struct {
		Agent       string     `json:"agent"`
		From        string     `json:"from"`
		To          string     `json:"to"`
		Disposition string     `json:"disposition"`
		AnsweredAt  *time.Time `json:"answered_at"`
		EndedAt     *time.Time `json:"ended_at"`
	}
	waitUntil(t, "the call's record", 20*time.Second, func() bool {
		return s.api(t, s.adminTok, "GET", "/api/v1/calls/"+callID, nil, &rec) == 200 && rec.EndedAt != nil
	})
	if rec.Agent != "bob" || rec.From != "+15557004" || rec.To != "outbound:bob" || rec.AnsweredAt == nil ||
		!strings.Contains(rec.Disposition, "bob hung up") {
		t.Errorf("call record %+v, want bob's outbound call to +15557004 that bob hung up", rec)
	}
	must(t, bob.WaitJS(ctx, "window.contactd.state === 'available'", 15*time.Second))
	step("on record")

	// Bob calls another number and hangs up while it rings: contactd
	// cancels the INVITE, so the number never answers.
	must(t, bob.Click("#wu-skip"))
	must(t, bob.Eval(`document.querySelector("#dial-number").value = ""`, nil))
	must(t, bob.Type("#dial-number", "+15557005\r"))
	must(t, bob.WaitJS(ctx, "!!window.contactd.dialing && window.contactd.callId !== null", 15*time.Second))
	asked := time.Now()
	time.Sleep(time.Second) // the INVITE is on its way; the carrier rings for 5 s
	must(t, bob.Click("#hangup"))
	must(t, bob.WaitJS(ctx, "!window.contactd.inCall && window.contactd.callId === null", 10*time.Second))
	waitUntil(t, "contactd to give up the ringing call", 10*time.Second, func() bool {
		return strings.Contains(s.logs.String(), "you hung up before the answer")
	})
	if time.Since(asked) > ring {
		t.Logf("the hang-up took %v, longer than the ring: the check below proves nothing", time.Since(asked))
	}
	must(t, bob.WaitJS(ctx, "window.contactd.state === 'available'", 15*time.Second))
	// Past the carrier's ring time: a call that was not cancelled would be answered by now.
	time.Sleep(time.Until(asked.Add(ring + 2*time.Second)))
	if got := carrier.lastNumber(); got == "+15557005" {
		t.Error("the carrier answered the number bob hung up on while it rang")
	}
	step("cancelled while ringing")
}
