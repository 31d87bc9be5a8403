package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/sip"
	"github.com/contactd/contactd/web/webtest"
)

// Each party speaks its own tone: the agents' and the supervisor's fake
// microphones, and the SIP caller. None is near the music on hold's notes
// and harmonics (262-1047 Hz) or a DTMF tone.
const (
	toneBob    = 900.0  // agent A, billing
	toneAlice  = 1300.0 // agent B
	toneSue    = 1700.0 // the supervisor
	toneCaller = 2100.0
	// heardAt and silentBelow are tone amplitudes (fraction of full
	// scale): what counts as heard, and what as not heard. Heard tones
	// measure 0.04-0.5; a tone not routed to a party leaks in at up to
	// 0.0025 (the browsers' audio processing), 0.001 mostly.
	heardAt     = 0.02
	silentBelow = 0.006
)

// TestDesktop is issue 6's live call control driven as people use it: a
// SIP caller reaches bob by skill; bob holds (the caller hears music, not
// bob), resumes, sends a key the caller's line receives, consults alice
// (the caller hears music while bob and alice talk) and completes the
// transfer (the caller hears alice). Supervisor sue then listens (hears
// caller and alice, nobody hears her), whispers (alice hears her, the
// caller does not) and barges (both do). Last, bob calls a number from
// the browser (click-to-call through the trunk). Who hears whom is measured by
// tone: in the caller's received audio, and in the browsers' played audio
// through WebAudio.
func TestDesktop(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	started := time.Now()
	bin := buildBinary(t)
	t.Logf("build: %v", time.Since(started).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	carrier := startCarrier(ctx, t) // answers click-to-call with a 1 kHz tone
	dir := t.TempDir()
	// The browsers start while the server does.
	browsers := startBrowsers(ctx, t, burstWAV(t, dir, toneBob), burstWAV(t, dir, toneAlice), burstWAV(t, dir, toneSue))
	s := startServerWith(t, bin, func(y string) string {
		const at = `      blocked_prefixes: ["+1900"`
		if !strings.Contains(y, at) {
			t.Fatalf("the demo config lacks %q", at)
		}
		return strings.Replace(y, at, fmt.Sprintf(`      outbound: {uri: "sip:%s", from: "+15550100"}
      allowed_prefixes: ["+1555"]
`, carrier.addr)+at, 1)
	})
	t.Logf("server up: %v", time.Since(started).Round(time.Millisecond))
	if st := s.api(t, s.adminTok, "POST", "/api/v1/users", map[string]string{"username": "sue", "password": "sue-super-pass", "role": "supervisor"}, nil); st != 201 {
		t.Fatalf("create supervisor: %d", st)
	}
	bs := browsers()
	bob, alice, sue := bs[0], bs[1], bs[2]

	must(t, sue.Navigate(s.httpURL+"/supervisor"))
	must(t, sue.SetValue("#username", "sue"))
	must(t, sue.SetValue("#password", "sue-super-pass"))
	must(t, sue.Click("#login"))
	for _, a := range []struct {
		b          *webtest.Browser
		user, pass string
	}{{bob, "bob", "bob-demo"}, {alice, "alice", "alice-demo"}} {
		signIn(ctx, t, a.b, s.httpURL, a.user, a.pass)
		goAvailable(ctx, t, a.b)
	}
	must(t, sue.WaitJS(ctx, "window.contactdSupervisor.wsConnected && window.contactdSupervisor.polls > 0", 15*time.Second))
	t.Logf("setup: %v", time.Since(started).Round(time.Millisecond))

	// The caller keys 3 (billing): bob has the skill, alice has not.
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: "+15550166", Codecs: []string{"opus"}})
	must(t, err)
	defer c.Hangup(context.Background())
	e := &ear{}
	go e.run(c.Leg())
	waitUntil(t, "the greeting", 20*time.Second, func() bool { return e.quietFor(800 * time.Millisecond) })
	must(t, c.SendDTMF('3'))
	must(t, bob.WaitJS(ctx, "!!(window.contactd.offer && window.contactd.offer.call_id)", 20*time.Second))
	var callID string
	must(t, bob.Eval("window.contactd.offer.call_id", &callID))
	var aliceOffered bool
	must(t, alice.Eval("!!window.contactd.offer", &aliceOffered))
	if aliceOffered {
		t.Fatal("alice (no billing skill) was offered the billing call")
	}
	must(t, bob.Click("#answer"))
	must(t, bob.WaitJS(ctx, "window.contactd.inCall && window.contactd.pcState === 'connected'", 20*time.Second))
	speaking := &atomic.Bool{}
	speaking.Store(true)
	go speak(ctx, c.Leg(), toneCaller, speaking)
	step := func(name string) { t.Logf("%-28s at %v", name, time.Since(started).Round(time.Millisecond)) }
	step("bob answered")

	callerHears := func(what string, hz float64) {
		t.Helper()
		waitUntil(t, "the caller to hear "+what, 10*time.Second, func() bool { return e.level(hz, 600*time.Millisecond) >= heardAt })
	}
	callerDoesNotHear := func(what string, hz float64) {
		t.Helper()
		time.Sleep(800 * time.Millisecond)
		l := e.level(hz, 600*time.Millisecond)
		t.Logf("the caller hears %s? %.4f", what, l)
		if l >= silentBelow {
			t.Errorf("the caller hears %s: level %.4f at %.0f Hz", what, l, hz)
		}
	}
	callerHears("bob", toneBob)
	heard(ctx, t, bob, "#remote-audio", "bob hears the caller", toneCaller)

	// Hold: music for the caller, nothing of the caller for bob.
	must(t, bob.Click("#hold"))
	must(t, bob.WaitJS(ctx, "window.contactd.held && document.querySelector('#call-status').textContent.includes('On hold')", 5*time.Second))
	waitUntil(t, "music on hold", 10*time.Second, func() bool {
		last := e.last(600 * time.Millisecond)
		return media.RMS(last) > 300 && level(last, toneBob) < silentBelow
	})
	notHeard(t, bob, "#remote-audio", "bob hears the held caller", toneCaller)
	must(t, sue.WaitJS(ctx, fmt.Sprintf("window.contactdSupervisor.live[%q] && window.contactdSupervisor.live[%q].held", callID, callID), 5*time.Second))
	must(t, sue.WaitJS(ctx, `document.querySelector("#agents tr[data-agent=bob] .live-state").textContent.includes("on hold")`, 5*time.Second))
	step("held")
	must(t, bob.Click("#hold"))
	must(t, bob.WaitJS(ctx, "!window.contactd.held", 5*time.Second))
	callerHears("bob after resume", toneBob)
	step("resumed")

	// A key from the keypad reaches the caller's line (RFC 4733 here).
	must(t, bob.Click("#keypad-toggle"))
	must(t, bob.Click(`#keypad button[data-key="5"]`))
	select {
	case d := <-c.Leg().DTMF():
		if d != '5' {
			t.Fatalf("the caller's line got key %q, want 5", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the caller's line got no key")
	}
	must(t, bob.WaitJS(ctx, "window.contactd.keysSent === '5'", 5*time.Second))
	step("key sent")

	// Consult alice: the caller is on hold while bob and alice talk.
	must(t, bob.SetValue("#xfer-kind", "agent"))
	must(t, bob.SetValue("#xfer-target", "alice"))
	must(t, bob.Click("#xfer-consult"))
	must(t, alice.WaitJS(ctx, fmt.Sprintf("window.contactd.consultOffer && window.contactd.consultOffer.call_id === %q", callID), 10*time.Second))
	must(t, alice.Click("#consult-answer"))
	must(t, alice.WaitJS(ctx, "window.contactd.consulting && window.contactd.pcState === 'connected'", 20*time.Second))
	must(t, bob.WaitJS(ctx, "window.contactd.consult && window.contactd.consult.state === 'talking'", 10*time.Second))
	step("consulting")
	heard(ctx, t, bob, "#remote-audio", "bob hears alice", toneAlice)
	heard(ctx, t, alice, "#remote-audio", "alice hears bob", toneBob)
	notHeard(t, alice, "#remote-audio", "alice hears the held caller", toneCaller)
	last := e.last(600 * time.Millisecond)
	if media.RMS(last) < 300 || level(last, toneBob) >= silentBelow || level(last, toneAlice) >= silentBelow {
		t.Errorf("during the consultation the caller hears RMS %.0f, bob %.4f, alice %.4f; want music only",
			media.RMS(last), level(last, toneBob), level(last, toneAlice))
	}
	must(t, sue.WaitJS(ctx, fmt.Sprintf("(window.contactdSupervisor.live[%q] || {}).consult === 'alice'", callID), 5*time.Second))

	// Complete: the call is alice's.
	must(t, bob.Click("#consult-complete"))
	must(t, bob.WaitJS(ctx, "!window.contactd.inCall && window.contactd.callId === null", 10*time.Second))
	must(t, alice.WaitJS(ctx, fmt.Sprintf("window.contactd.inCall && window.contactd.callId === %q", callID), 10*time.Second))
	callerHears("alice after the transfer", toneAlice)
	callerDoesNotHear("bob after the transfer", toneBob)
	heard(ctx, t, alice, "#remote-audio", "alice hears the caller", toneCaller)
	step("transferred")

	// The supervisor listens: hears both, heard by nobody.
	must(t, sue.WaitJS(ctx, fmt.Sprintf(`(() => { const b = document.querySelector("#agents tr[data-agent=alice] button.mon[data-mode=listen]");
		return b && b.dataset.call === %q })()`, callID), 10*time.Second))
	must(t, sue.Click("#agents tr[data-agent=alice] button.mon[data-mode=listen]"))
	must(t, sue.WaitJS(ctx, "window.contactdSupervisor.monitor && window.contactdSupervisor.monitor.pcState === 'connected'", 20*time.Second))
	step("listening")
	heard(ctx, t, sue, "#monitor-audio", "sue hears the caller", toneCaller)
	heard(ctx, t, sue, "#monitor-audio", "sue hears alice", toneAlice)
	notHeard(t, alice, "#remote-audio", "alice hears the listening supervisor", toneSue)
	callerDoesNotHear("the listening supervisor", toneSue)
	var told bool
	must(t, alice.Eval("!!window.contactd.monitor", &told))
	if told {
		t.Error("alice's desktop shows a supervisor who only listens")
	}

	// Whisper: alice hears sue, the caller does not.
	must(t, sue.Click("#mon-whisper"))
	must(t, sue.WaitJS(ctx, "window.contactdSupervisor.monitor.mode === 'whisper'", 5*time.Second))
	must(t, alice.WaitJS(ctx, "window.contactd.monitor && window.contactd.monitor.mode === 'whisper'", 5*time.Second))
	heard(ctx, t, alice, "#remote-audio", "alice hears the whisper", toneSue)
	callerDoesNotHear("the whisper", toneSue)
	step("whispering")

	// Barge: both hear sue.
	must(t, sue.Click("#mon-barge"))
	must(t, sue.WaitJS(ctx, "window.contactdSupervisor.monitor.mode === 'barge'", 5*time.Second))
	callerHears("the barging supervisor", toneSue)
	callerHears("alice with the supervisor", toneAlice)
	heard(ctx, t, alice, "#remote-audio", "alice hears the barge", toneSue)
	must(t, sue.WaitJS(ctx, `document.querySelector("#agents tr[data-agent=alice] .live-state").textContent.includes("sue: barge")`, 5*time.Second))
	step("barging")
	screenshot(t, alice, "desktop-barge-agent")
	screenshot(t, sue, "desktop-barge-wallboard")

	// The caller hangs up: everyone's call ends; the holds are on record.
	must(t, c.Hangup(ctx))
	must(t, alice.WaitJS(ctx, "!window.contactd.inCall", 15*time.Second))
	must(t, sue.WaitJS(ctx, "window.contactdSupervisor.monitor === null", 15*time.Second))
	var rec struct {
		Agent      string `json:"agent"`
		Transcript []struct {
			Speaker string `json:"speaker"`
			Text    string `json:"text"`
		} `json:"transcript"`
	}
	waitUntil(t, "the call's record", 20*time.Second, func() bool {
		rec.Transcript = nil
		return s.api(t, s.adminTok, "GET", "/api/v1/calls/"+callID, nil, &rec) == 200 && len(rec.Transcript) > 0 &&
			strings.Contains(fmt.Sprint(rec.Transcript), "on hold")
	})
	var holds int
	for _, seg := range rec.Transcript {
		if seg.Speaker == "system" && strings.Contains(seg.Text, "on hold") {
			holds++
		}
	}
	if rec.Agent != "alice" || holds != 2 {
		t.Errorf("call record: agent %q, %d hold markers (want alice, 2: the hold and the consultation)", rec.Agent, holds)
	}

	// Click-to-call: bob dials from the browser; the audio flows once the
	// number answers.
	must(t, bob.WaitJS(ctx, "window.contactd.state === 'available'", 15*time.Second))
	must(t, bob.SetValue("#dial-number", "+1 555 700 2"))
	must(t, bob.Click("#dial-call"))
	must(t, bob.WaitJS(ctx, "window.contactd.inCall && !window.contactd.dialing", 30*time.Second))
	if got := carrier.lastNumber(); got != "+15557002" {
		t.Fatalf("the carrier was called for %q", got)
	}
	heard(ctx, t, bob, "#remote-audio", "bob hears the called number", 1000)
	waitUntil(t, "bob's voice at the called number", 10*time.Second, func() bool {
		return level(carrier.heard("+15557002"), toneBob) >= heardAt
	})
	carrier.hangup("+15557002")
	must(t, bob.WaitJS(ctx, "!window.contactd.inCall && window.contactd.callId === null", 15*time.Second))
	step("done")
}

// startBrowsers starts one headless Chromium per fake microphone input in
// the background; the function returned waits for them (as startBrowser:
// closed at the end, consoles logged on failure).
func startBrowsers(ctx context.Context, t *testing.T, wavs ...string) func() []*webtest.Browser {
	type result struct {
		b   *webtest.Browser
		err error
	}
	ch := make([]chan result, len(wavs))
	for i, w := range wavs {
		ch[i] = make(chan result, 1)
		go func() {
			b, err := webtest.Start(ctx, webtest.Options{FakeAudioWAV: w})
			ch[i] <- result{b, err}
		}()
	}
	t.Cleanup(func() { // browsers never waited for (the test failed first)
		for _, c := range ch {
			if r := <-c; r.b != nil {
				r.b.Close()
			}
		}
	})
	return func() []*webtest.Browser {
		t.Helper()
		var out []*webtest.Browser
		for _, c := range ch {
			r := <-c
			c <- result{} // taken: nothing left to close above
			if r.err != nil {
				t.Fatalf("chromium: %v", r.err)
			}
			b := r.b
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("browser console:\n%s", strings.Join(b.Console(), "\n"))
				}
				b.Close()
			})
			out = append(out, b)
		}
		return out
	}
}

// burstWAV writes a fake microphone input: hz in 300 ms bursts every
// 500 ms. Bursts, not a steady tone: the browser's noise suppression
// learns a steady tone as noise and removes it within seconds.
func burstWAV(t *testing.T, dir string, hz float64) string {
	t.Helper()
	const rate = 48000
	pcm := make([]int16, 10*rate)
	for i := range pcm {
		s := float64(i) / rate
		ph := math.Mod(s, 0.5)
		env := 0.0
		if ph < 0.3 {
			env = math.Min(1, math.Min(ph, 0.3-ph)/0.01)
		}
		pcm[i] = int16(16000 * env * math.Sin(2*math.Pi*hz*s))
	}
	p := filepath.Join(dir, fmt.Sprintf("burst-%.0f.wav", hz))
	f, err := os.Create(p)
	must(t, err)
	defer f.Close()
	must(t, webtest.WriteWAV(f, rate, pcm))
	return p
}

// speak plays a steady tone into leg while on is set (silence otherwise),
// until ctx ends or the leg closes.
func speak(ctx context.Context, leg media.Leg, hz float64, on *atomic.Bool) {
	tone := media.Tone(hz, time.Second, media.SampleRate, 0.3)
	silence := make([]int16, media.FrameSamples)
	for i := 0; ctx.Err() == nil; i = (i + media.FrameSamples) % len(tone) {
		f := silence
		if on.Load() {
			f = tone[i : i+media.FrameSamples]
		}
		if err := leg.WriteFrame(f); err != nil {
			return
		}
	}
}

// last is the audio heard in the last d.
func (e *ear) last(d time.Duration) []int16 { return e.since(time.Now().Add(-d)) }

// level is the amplitude of hz heard in the last d.
func (e *ear) level(hz float64, d time.Duration) float64 { return level(e.last(d), hz) }

// level is the amplitude of hz in pcm, as a fraction of full scale.
func level(pcm []int16, hz float64) float64 {
	return 2 * math.Sqrt(media.Goertzel(pcm, media.SampleRate, hz))
}

// toneJS measures tones in what a page plays: a WebAudio analyser on the
// audio element's stream, Goertzel over its last ~370 ms, the best of three
// looks 150 ms apart (the microphones speak in bursts).
const toneJS = `window.__tones = window.__tones || (() => {
  const ctx = new AudioContext();
  const taps = new Map();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const level = (buf, rate, f) => {
    const c = 2 * Math.cos(2 * Math.PI * f / rate);
    let s1 = 0, s2 = 0;
    for (const x of buf) { const s = x + c * s1 - s2; s2 = s1; s1 = s; }
    return 2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - c * s1 * s2)) / buf.length;
  };
  return async (sel, freqs) => {
    const el = document.querySelector(sel);
    if (!el || !el.srcObject) return null;
    if (ctx.state !== "running") await ctx.resume();
    let tap = taps.get(sel);
    if (!tap || tap.stream !== el.srcObject) {
      const an = ctx.createAnalyser();
      an.fftSize = 16384;
      ctx.createMediaStreamSource(el.srcObject).connect(an);
      tap = { stream: el.srcObject, an };
      taps.set(sel, tap);
      await sleep(450);
    }
    const best = freqs.map(() => 0);
    const buf = new Float32Array(tap.an.fftSize);
    for (let i = 0; i < 3; i++) {
      if (i) await sleep(150);
      tap.an.getFloatTimeDomainData(buf);
      freqs.forEach((f, j) => { best[j] = Math.max(best[j], level(buf, ctx.sampleRate, f)); });
    }
    return best;
  };
})();`

// pageLevel is the level of hz in what the page plays through sel.
func pageLevel(t *testing.T, b *webtest.Browser, sel string, hz float64) float64 {
	t.Helper()
	var got []float64
	must(t, b.Eval(fmt.Sprintf("%s window.__tones(%q, [%g])", toneJS, sel, hz), &got))
	if len(got) != 1 {
		return 0 // no stream yet
	}
	return got[0]
}

// heard waits until the page plays hz.
func heard(ctx context.Context, t *testing.T, b *webtest.Browser, sel, what string, hz float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var l float64
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if l = pageLevel(t, b, sel, hz); l >= heardAt {
			t.Logf("%s: %.4f", what, l)
			return
		}
	}
	t.Errorf("%s: level %.4f at %.0f Hz, want ≥ %g", what, l, hz, heardAt)
}

// notHeard checks, after the change has had time to reach the page, that
// it does not play hz.
func notHeard(t *testing.T, b *webtest.Browser, sel, what string, hz float64) {
	t.Helper()
	time.Sleep(800 * time.Millisecond)
	l := pageLevel(t, b, sel, hz)
	t.Logf("%s? %.4f", what, l)
	if l >= silentBelow {
		t.Errorf("%s: level %.4f at %.0f Hz, want < %g", what, l, hz, silentBelow)
	}
}
