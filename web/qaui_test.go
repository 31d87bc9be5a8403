package web

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/media/g711"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/web/webtest"
)

// TestQADeskHighlightsWords drives the review desk in headless Chromium:
// the words each item was judged on are marked in the transcript (all of
// them, and one item's alone when it is clicked), and the word being
// played is highlighted, at the recogniser's word times where the
// transcript has them and spread over the line where it has not. The
// recording is a G.711 call's, as contactd writes it.
func TestQADeskHighlightsWords(t *testing.T) {
	if testing.Short() {
		t.Skip("drives Chromium")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b, err := webtest.Start(ctx, webtest.Options{})
	if errors.Is(err, webtest.ErrNoChromium) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	defer func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", strings.Join(b.Console(), "\n"))
		}
	}()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	dataDir := t.TempDir()
	f := newAPIWith(t, openSQLite(t), func(o *Options) { o.DataDir = dataDir })
	if _, err := CreateUser(ctx, f.store, f.router, "", "quinn", "quinn-password", store.RoleQA); err != nil {
		t.Fatal(err)
	}
	// The agent's greeting has the recogniser's word times, deliberately
	// uneven ("anna" is long); the other lines have none.
	greeting := []map[string]any{}
	for _, w := range []struct {
		text     string
		from, to int
	}{{"hello", 1000, 1300}, {"my", 1300, 1450}, {"name", 1450, 1700}, {"is", 1700, 1800}, {"anna", 1800, 4800},
		{"how", 4800, 5000}, {"can", 5000, 5200}, {"i", 5200, 5300}, {"help", 5300, 5800}} {
		greeting = append(greeting, map[string]any{"text": w.text, "start_ms": w.from, "end_ms": w.to})
	}
	var res struct {
		CallID       string `json:"call_id"`
		EvaluationID string `json:"evaluation_id"`
	}
	if st := f.do(t, f.admin, "POST", "/api/v1/calls/import", map[string]any{"caller_number": "+15550177", "transcript": []map[string]any{
		{"speaker": "agent", "start_ms": 1000, "end_ms": 5800, "text": "hello my name is anna how can i help", "words": greeting},
		{"speaker": "caller", "start_ms": 6000, "end_ms": 10000, "text": "my order hasn't arrived and i'm really annoyed"},
		{"speaker": "agent", "start_ms": 10500, "end_ms": 14000, "text": "i'm so sorry to hear that let me check"},
		{"speaker": "agent", "start_ms": 14500, "end_ms": 17000, "text": "it will be delivered tomorrow"},
	}}, &res); st != 201 {
		t.Fatalf("import: %d", st)
	}
	rec := filepath.Join("recordings", res.CallID+".wav")
	must(os.MkdirAll(filepath.Join(dataDir, "recordings"), 0o750))
	// The recording as contactd writes a G.711 call's: µ-law, 8 kHz,
	// stereo (media.Recorder), which the browser must play and seek.
	r, err := media.NewRecorderG711(filepath.Join(dataDir, rec), false)
	must(err)
	tone := g711.EncodeUlaw(nil, media.Tone(440, 20*time.Second, media.NarrowRate, 0.3))
	for i := 0; i+media.NarrowFrameSamples <= len(tone); i += media.NarrowFrameSamples {
		r.WriteG711(media.CallerChannel, tone[i:i+media.NarrowFrameSamples], false)
		r.WriteG711(media.AgentChannel, tone[i:i+media.NarrowFrameSamples], false)
	}
	must(r.Close())
	c, err := f.store.Call(ctx, res.CallID)
	must(err)
	c.RecordingPath = rec
	must(f.store.UpdateCall(ctx, c))

	wait := func(cond string) {
		t.Helper()
		if err := b.WaitJS(ctx, cond, 15*time.Second); err != nil {
			t.Fatalf("%s: %v", cond, err)
		}
	}
	eval := func(js string, out any) {
		t.Helper()
		must(b.Eval(js, out))
	}
	must(b.Navigate(f.srv.URL + "/qa"))
	must(b.SetValue("#username", "quinn"))
	must(b.SetValue("#password", "quinn-password"))
	must(b.Click("#login-btn"))
	wait(`document.querySelectorAll("#queue tr.ev").length === 1`)
	must(b.Click(`#queue tr.ev`))
	wait(`document.querySelectorAll("#transcript li").length === 4 && document.getElementById("audio").dataset.ready === "1"`)

	// Evidence words are marked, in the transcript and in the items.
	var marked []string
	eval(`[...document.querySelectorAll("#transcript .w.hl")].map((w) => w.textContent)`, &marked)
	for _, w := range []string{"my", "name", "is", "anna", "annoyed", "sorry"} {
		if !contains(marked, w) {
			t.Errorf("evidence words %q lack %q", marked, w)
		}
	}
	var itemMarks []string
	eval(`[...document.querySelectorAll('#items li[data-key="greeting"] .ev mark')].map((m) => m.textContent)`, &itemMarks)
	if strings.Join(itemMarks, " ") != "my name is anna" {
		t.Errorf("greeting item marks %q", itemMarks)
	}
	// Clicking the greeting's evidence seeks to its first judged word,
	// "my" at 1.3 s, not to the line's start at 1.0 s.
	must(b.Click(`#items li[data-key="greeting"] .ev`))
	var at float64
	eval(`(() => { const a = document.getElementById("audio"); a.pause(); return a.currentTime; })()`, &at)
	if at < 1.29 || at > 1.6 {
		t.Errorf("the greeting's evidence seeks to %.2f s, want its first judged word at 1.3 s", at)
	}
	// Clicking an item marks its words alone.
	must(b.Click(`#items li[data-key="empathy"] .lbl`))
	var focus []string
	eval(`[...document.querySelectorAll("#transcript .w.focus")].map((w) => w.textContent)`, &focus)
	if !contains(focus, "annoyed") || !contains(focus, "sorry") || contains(focus, "anna") {
		t.Errorf("empathy's words %q", focus)
	}

	// Word times: the recogniser's where given, spread over the line where not.
	var times [][2]float64
	eval(`[...document.querySelectorAll("#transcript li:nth-child(1) .w")].map((w) => [+w.dataset.s, +w.dataset.e])`, &times)
	if len(times) != 9 || times[4] != [2]float64{1800, 4800} {
		t.Errorf("greeting word times %v", times)
	}
	eval(`[...document.querySelectorAll("#transcript li:nth-child(4) .w")].map((w) => [+w.dataset.s, +w.dataset.e])`, &times)
	if len(times) != 5 || times[0][0] != 14500 || times[4][1] != 17000 || !(times[1][0] > times[0][0] && times[2][0] > times[1][0]) {
		t.Errorf("spread word times %v", times)
	}

	// Click "anna": the audio seeks to 1.8 s and plays; pause inside the
	// word and it is the one highlighted.
	must(b.Click(`#transcript li:nth-child(1) .w:nth-of-type(5)`))
	wait(`(() => { const a = document.getElementById("audio"); return a.currentTime >= 1.8 && a.currentTime < 4.5; })()`)
	var now string
	eval(`(() => { const a = document.getElementById("audio"); a.pause(); a.currentTime = 3.0; return true; })()`, nil)
	wait(`document.getElementById("audio").currentTime >= 2.99 && document.querySelector("#transcript .w.now") !== null`)
	eval(`document.querySelector("#transcript .w.now").textContent`, &now)
	if now != "anna" {
		t.Errorf("at 3.0 s the highlighted word is %q, want anna (the recogniser's times)", now)
	}
	// Playing on, the highlight follows the words: "how" (4.8-5.0 s) and
	// "help" (5.3-5.8 s) come up while the audio runs.
	eval(`(() => { window.seen = new Set(); const a = document.getElementById("audio");
		const tick = () => { const w = document.querySelector("#transcript .w.now"); if (w) window.seen.add(w.textContent);
			if (!a.paused) requestAnimationFrame(tick); };
		a.currentTime = 4.7; a.play().then(() => requestAnimationFrame(tick)); return true; })()`, nil)
	wait(`window.seen.has("how") && window.seen.has("help")`)
	eval(`(() => { const a = document.getElementById("audio"); a.pause(); a.currentTime = 16.9; return true; })()`, nil)
	wait(`document.getElementById("audio").currentTime >= 16.89 && document.querySelector("#transcript .w.now") !== null`)
	eval(`document.querySelector("#transcript .w.now").textContent`, &now)
	if now != "tomorrow" {
		t.Errorf("at 16.9 s the highlighted word is %q, want tomorrow (the line's last)", now)
	}
	var lines int
	eval(`document.querySelectorAll("#transcript li.current").length`, &lines)
	if lines != 1 {
		t.Errorf("%d current lines", lines)
	}
	if v := cspViolations(b); len(v) > 0 {
		t.Errorf("the CSP blocked:\n%s", strings.Join(v, "\n"))
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
