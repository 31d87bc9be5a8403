package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/sip"
	"github.com/contactd/contactd/web/webtest"
)

const (
	deskCaller      = "+15550177"
	deskReturnLine  = "I would like to return an item, the product arrived damaged. What is your return policy?"
	deskAngryLine   = "This is ridiculous. This is absolutely unacceptable."
	deskAgentScript = "Thank you for calling Northwind, my name is Alice. How can I help you today?"
)

// TestAgentDesk is issue 6's desk and wallboard, driven as people use them:
// an agent in one Chromium takes a real SIP call, sees the caller card and
// knowledge suggestions from the live transcript, mutes, files the drafted
// ticket at wrap-up with a disposition and a corrected category; a
// supervisor in a second Chromium watches the queues and agents and gets an
// alert when the caller turns angry.
func TestAgentDesk(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatal("espeak-ng is needed (make test installs it)")
	}
	bin := buildBinary(t)
	s := startServer(t, bin)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	if st := s.api(t, s.adminTok, "POST", "/api/v1/users", map[string]string{"username": "sue", "password": "sue-super-pass", "role": "supervisor"}, nil); st != 201 {
		t.Fatalf("create supervisor: %d", st)
	}
	// The caller's history: one earlier call with its ticket.
	var imported struct {
		CallID   string `json:"call_id"`
		TicketID string `json:"ticket_id"`
	}
	if st := s.api(t, s.adminTok, "POST", "/api/v1/calls/import", map[string]any{
		"caller_number": deskCaller,
		"transcript": []map[string]any{
			{"speaker": "agent", "start_ms": 0, "end_ms": 2000, "text": "thank you for calling northwind how can i help"},
			{"speaker": "caller", "start_ms": 2500, "end_ms": 6000, "text": "my parcel is late and the tracking is not working"},
			{"speaker": "agent", "start_ms": 6500, "end_ms": 9000, "text": "i am sorry it will arrive tomorrow goodbye"},
		},
	}, &imported); st != 201 || imported.TicketID == "" {
		t.Fatalf("import history: %d %+v", st, imported)
	}

	agentWAV, _ := speechWAV(t, deskAgentScript, 48000, time.Second)
	ab := startBrowser(ctx, t, webtest.Options{FakeAudioWAV: agentWAV})
	sb := startBrowser(ctx, t, webtest.Options{})

	// The supervisor signs in first and sees the board fill.
	must(t, sb.Navigate(s.httpURL+"/supervisor"))
	must(t, sb.SetValue("#username", "sue"))
	must(t, sb.SetValue("#password", "sue-super-pass"))
	must(t, sb.Click("#login"))
	must(t, sb.WaitJS(ctx, "window.contactdSupervisor.wsConnected && window.contactdSupervisor.polls > 0", 15*time.Second))
	must(t, sb.WaitJS(ctx, `document.querySelector("#queues tr[data-queue=general]") && document.querySelector("#agents tr[data-agent=alice]")`, 10*time.Second))

	// The agent signs in and goes available; the wallboard follows.
	signIn(ctx, t, ab, s.httpURL, "alice", "alice-demo")
	goAvailable(ctx, t, ab)
	must(t, sb.WaitJS(ctx, `window.contactdSupervisor.agents.some(a => a.username === "alice" && a.state === "available")`, 10*time.Second))

	// A caller asks for a person with the keypad.
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: deskCaller, Codecs: []string{"opus"}})
	must(t, err)
	defer c.Hangup(context.Background())
	e := &ear{}
	go e.run(c.Leg())
	waitUntil(t, "the greeting", 20*time.Second, func() bool { return e.quietFor(800 * time.Millisecond) })
	must(t, c.SendDTMF('0'))
	must(t, ab.WaitJS(ctx, "!!(window.contactd.offer && window.contactd.offer.call_id)", 20*time.Second))
	var o offer
	must(t, ab.Eval("window.contactd.offer", &o))
	t.Logf("offer: %+v", o)

	// The caller card shows the earlier call and its ticket.
	if err := ab.WaitJS(ctx, "window.contactd.caller && window.contactd.caller.calls.length === 1 && window.contactd.caller.tickets.length === 1", 10*time.Second); err != nil {
		var got any
		_ = ab.Eval(`({caller: window.contactd.caller, shown: document.querySelector("#caller-card").textContent})`, &got)
		var hist any
		s.api(t, s.adminTok, "GET", "/api/v1/callers/"+deskCaller+"/history", nil, &hist)
		t.Fatalf("%v\npage: %+v\nAPI: %+v", err, got, hist)
	}
	var card struct {
		CallID, TicketID string
		Items            int
	}
	must(t, ab.Eval(`({CallID: window.contactd.caller.calls[0].id, TicketID: window.contactd.caller.tickets[0].id,
		Items: document.querySelectorAll("#caller-calls li, #caller-tickets li").length})`, &card))
	if card.CallID != imported.CallID || card.TicketID != imported.TicketID || card.Items != 2 {
		t.Fatalf("caller card = %+v, want call %s and ticket %s", card, imported.CallID, imported.TicketID)
	}

	must(t, ab.Click("#answer"))
	must(t, ab.WaitJS(ctx, "window.contactd.inCall && window.contactd.pcState === 'connected'", 20*time.Second))
	must(t, sb.WaitJS(ctx, `!!window.contactdSupervisor.calls.alice && window.contactdSupervisor.calls.alice.id === "`+o.CallID+`"`, 10*time.Second))

	// Mute silences the microphone track; unmute brings it back.
	var mic struct {
		Muted   bool
		Enabled []bool
		Options int
	}
	must(t, ab.Click("#mute"))
	must(t, ab.Eval(`({Muted: window.contactd.muted, Options: document.querySelectorAll("#mic-select option").length})`, &mic))
	if !mic.Muted || mic.Options < 1 {
		t.Fatalf("after mute: %+v", mic)
	}
	must(t, ab.Click("#mute"))
	must(t, ab.WaitJS(ctx, "!window.contactd.muted", 5*time.Second))

	// The caller explains; suggestions follow the live transcript.
	_, ret := speechWAV(t, deskReturnLine, media.SampleRate, 400*time.Millisecond)
	must(t, media.Play(ctx, c.Leg(), ret))
	if err := ab.WaitJS(ctx, `window.contactd.kbSource === "transcript" &&
		window.contactd.suggestions.some(h => /return/i.test(h.path + " " + h.title))`, 20*time.Second); err != nil {
		var got any
		_ = ab.Eval(`({q: window.contactd.kbQuery, hits: window.contactd.suggestions, tr: window.contactd.transcript})`, &got)
		t.Fatalf("%v\nstate: %+v", err, got)
	}
	var kb struct {
		Query string
		Title string
	}
	must(t, ab.Eval(`({Query: window.contactd.kbQuery, Title: window.contactd.suggestions[0].title})`, &kb))
	t.Logf("knowledge: %q → %q", kb.Query, kb.Title)

	// The caller turns angry: the supervisor gets an alert, the agent sees it.
	_, angry := speechWAV(t, deskAngryLine, media.SampleRate, 400*time.Millisecond)
	must(t, media.Play(ctx, c.Leg(), angry))
	if err := sb.WaitJS(ctx, `window.contactdSupervisor.alerts.some(a => a.agent === "alice" && a.call_id === "`+o.CallID+`")`, 20*time.Second); err != nil {
		var tr any
		_ = ab.Eval("window.contactd.transcript", &tr)
		t.Fatalf("%v\nagent transcript: %+v", err, tr)
	}
	var alert struct {
		Text  string
		Terms []string
		Shown int
	}
	must(t, sb.Eval(`({Text: window.contactdSupervisor.alerts[0].text, Terms: window.contactdSupervisor.alerts[0].terms,
		Shown: document.querySelectorAll("#alerts li").length})`, &alert))
	t.Logf("alert: %+v", alert)
	if alert.Shown < 1 {
		t.Fatal("the alert is not on the wallboard")
	}
	must(t, ab.WaitJS(ctx, `window.contactd.sentiment === "angry" && document.querySelector("#sentiment").textContent === "angry"`, 5*time.Second))
	must(t, sb.WaitJS(ctx, `document.querySelector("#agents tr[data-agent=alice] .mood-angry") !== null`, 5*time.Second))
	screenshot(t, ab, "agent-in-call")
	screenshot(t, sb, "wallboard-alert")

	// The caller hangs up; the drafted ticket opens for wrap-up.
	must(t, c.Hangup(ctx))
	must(t, ab.WaitJS(ctx, "!window.contactd.inCall && window.contactd.wrapup && !!window.contactd.wrapup.ticket", 20*time.Second))
	var drafted struct {
		ID, Category string
	}
	must(t, ab.Eval(`({ID: window.contactd.wrapup.ticket.id, Category: window.contactd.wrapup.ticket.category})`, &drafted))
	newCat := "complaint"
	if drafted.Category == newCat {
		newCat = "returns"
	}
	t.Logf("drafted ticket %s in %q; agent corrects it to %q", drafted.ID, drafted.Category, newCat)
	screenshot(t, ab, "agent-wrap-up")
	must(t, ab.SetValue("#wu-subject", "Damaged item, caller angry"))
	must(t, ab.SetValue("#wu-category", newCat))
	must(t, ab.SetValue("#wu-disposition", "escalated"))
	must(t, ab.SetValue("#wu-status", "pending"))
	must(t, ab.Click("#wu-save"))
	must(t, ab.WaitJS(ctx, "window.contactd.wrapup.saved", 10*time.Second))

	var tk struct {
		Category string   `json:"category"`
		Subject  string   `json:"subject"`
		Status   string   `json:"status"`
		Tags     []string `json:"tags"`
	}
	if st := s.api(t, s.adminTok, "GET", "/api/v1/tickets/"+drafted.ID, nil, &tk); st != 200 {
		t.Fatalf("GET ticket: %d", st)
	}
	t.Logf("saved ticket: %+v", tk)
	if tk.Category != newCat || tk.Subject != "Damaged item, caller angry" || tk.Status != "pending" ||
		!slices.Contains(tk.Tags, "disposition:escalated") || !slices.Contains(tk.Tags, "misroute:"+drafted.Category+"->"+newCat) {
		t.Fatalf("ticket after wrap-up = %+v", tk)
	}

	// Back to work, then lunch: the wallboard shows the handled call and the
	// break reason.
	must(t, ab.WaitJS(ctx, "window.contactd.state === 'available'", 15*time.Second))
	must(t, ab.SetValue("#break-reason", "lunch"))
	must(t, ab.Click("#go-break"))
	must(t, sb.WaitJS(ctx, `window.contactdSupervisor.agents.some(a => a.username === "alice" && a.state === "break" && a.reason === "lunch" && a.handled_today === 1)`, 10*time.Second))
	must(t, sb.WaitJS(ctx, `window.contactdSupervisor.queues.reduce((n, q) => n + q.answered, 0) === 1 && !window.contactdSupervisor.calls.alice`, 10*time.Second))
	var row string
	must(t, sb.Eval(`document.querySelector("#agents tr[data-agent=alice]").textContent`, &row))
	if !strings.Contains(row, "lunch") {
		t.Fatalf("alice's wallboard row = %q", row)
	}
}

// screenshot saves the page as name.png in $CONTACTD_E2E_SHOTS, when set,
// to look at the pages by eye.
func screenshot(t *testing.T, b *webtest.Browser, name string) {
	dir := os.Getenv("CONTACTD_E2E_SHOTS")
	if dir == "" {
		return
	}
	png, err := b.Screenshot()
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

// startBrowser starts a headless Chromium that is closed at the end of the
// test, with its console in the log when the test fails.
func startBrowser(ctx context.Context, t *testing.T, opts webtest.Options) *webtest.Browser {
	t.Helper()
	b, err := webtest.Start(ctx, opts)
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", strings.Join(b.Console(), "\n"))
		}
		b.Close()
	})
	return b
}
