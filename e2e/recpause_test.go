package e2e

import (
	"context"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/sip"
	"github.com/contactd/contactd/web/webtest"
)

// mouth is a SIP caller's microphone: it sends what it is given to say,
// and silence in between, on the leg's own 20 ms clock, as a phone does.
type mouth struct {
	mu    sync.Mutex
	queue []int16
}

func (m *mouth) say(pcm []int16) {
	m.mu.Lock()
	m.queue = append(m.queue, pcm...)
	m.mu.Unlock()
}

func (m *mouth) quiet() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.queue) == 0
}

func (m *mouth) run(ctx context.Context, leg media.Leg) {
	for ctx.Err() == nil {
		f := make([]int16, media.FrameSamples)
		m.mu.Lock()
		n := copy(f, m.queue)
		m.queue = m.queue[n:]
		m.mu.Unlock()
		if err := leg.WriteFrame(f); err != nil {
			return
		}
	}
}

// TestRecordingPause: an agent in Chromium takes a real SIP call and
// clicks "Pause recording" while the caller reads out a card number,
// then resumes. The paused span is silent on both channels of the
// recording, nothing the caller said in it is transcribed (live or
// stored), the span is on the call's record, and both clicks are in the
// audit log. What was said before and after is transcribed by
// PocketSphinx with word timings.
func TestRecordingPause(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatal("espeak-ng is needed (make test installs it)")
	}
	s := startServer(t, buildBinary(t))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// The agent's microphone: 1 kHz bursts, so the recording's agent
	// channel has something to lose while paused.
	ab := startBrowser(ctx, t, webtest.Options{FakeAudioWAV: burstWAV(t, t.TempDir(), 1000)})
	signIn(ctx, t, ab, s.httpURL, "alice", "alice-demo")
	goAvailable(ctx, t, ab)

	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: "+15550188", Codecs: []string{"opus"}})
	must(t, err)
	defer c.Hangup(context.Background())
	e := &ear{}
	go e.run(c.Leg())
	m := &mouth{}
	go m.run(ctx, c.Leg())
	waitUntil(t, "the greeting", 20*time.Second, func() bool { return e.quietFor(800 * time.Millisecond) })
	must(t, c.SendDTMF('0'))
	must(t, ab.WaitJS(ctx, "!!(window.contactd.offer && window.contactd.offer.call_id)", 20*time.Second))
	var o offer
	must(t, ab.Eval("window.contactd.offer", &o))
	must(t, ab.Click("#answer"))
	must(t, ab.WaitJS(ctx, "window.contactd.inCall && window.contactd.pcState === 'connected'", 20*time.Second))

	speak := func(text string) {
		t.Helper()
		_, pcm := speechWAV(t, text, media.SampleRate, 300*time.Millisecond)
		m.say(pcm)
		waitUntil(t, "the caller to finish "+text, 30*time.Second, m.quiet)
	}
	callerLines := func() int {
		var n int
		must(t, ab.Eval(`window.contactd.transcript.filter(l => l.speaker === "caller").length`, &n))
		return n
	}
	speak("I would like to return an item, the product arrived damaged.")
	must(t, ab.WaitJS(ctx, `window.contactd.transcript.some(l => l.speaker === "caller")`, 20*time.Second))
	before := callerLines()

	must(t, ab.Click("#rec-pause"))
	must(t, ab.WaitJS(ctx, `window.contactd.recPaused && document.querySelector("#rec-pause").textContent === "Resume recording"`, 10*time.Second))
	screenshot(t, ab, "agent-recording-paused")
	speak("My card number is four one one one, one one one one, one one one one, one one one one. The security code is seven three seven.")
	time.Sleep(2 * time.Second) // what the recogniser would have said by now
	if n := callerLines(); n != before {
		var tr any
		_ = ab.Eval("window.contactd.transcript", &tr)
		t.Fatalf("caller lines on the agent's page went from %d to %d while paused: %+v", before, n, tr)
	}
	must(t, ab.Click("#rec-pause"))
	must(t, ab.WaitJS(ctx, `!window.contactd.recPaused && document.querySelector("#rec-pause").textContent === "Pause recording"`, 10*time.Second))
	speak("Thank you, what is your return policy?")
	must(t, ab.WaitJS(ctx, `window.contactd.transcript.filter(l => l.speaker === "caller").length > `+strconv.Itoa(before), 20*time.Second))
	must(t, c.Hangup(ctx))

	type word struct {
		Text    string `json:"text"`
		StartMS int64  `json:"start_ms"`
		EndMS   int64  `json:"end_ms"`
	}
	var cl struct {
		EndedAt         *time.Time `json:"ended_at"`
		RecordingURL    string     `json:"recording_url"`
		RecordingPauses []struct {
			StartMS   int64  `json:"start_ms"`
			EndMS     int64  `json:"end_ms"`
			By        string `json:"by"`
			ResumedBy string `json:"resumed_by"`
		} `json:"recording_pauses"`
		Transcript []struct {
			Speaker string `json:"speaker"`
			StartMS int64  `json:"start_ms"`
			EndMS   int64  `json:"end_ms"`
			Text    string `json:"text"`
			Words   []word `json:"words"`
		} `json:"transcript"`
	}
	// The call's row ends first; its transcript is stored by the post-call work.
	waitUntil(t, "the call and its transcript to be stored", 20*time.Second, func() bool {
		return s.api(t, s.adminTok, "GET", "/api/v1/calls/"+o.CallID, nil, &cl) == 200 && cl.EndedAt != nil && len(cl.Transcript) > 0
	})
	if len(cl.RecordingPauses) != 1 || cl.RecordingPauses[0].By != "alice" || cl.RecordingPauses[0].ResumedBy != "alice" {
		t.Fatalf("recording_pauses = %+v", cl.RecordingPauses)
	}
	p := cl.RecordingPauses[0]
	t.Logf("paused %d-%d ms", p.StartMS, p.EndMS)
	const edge = 500 // ms: the recording's and recogniser's clocks against the call's
	var before2, after2, marker int
	for _, sg := range cl.Transcript {
		t.Logf("%s %d-%d %q (%d words)", sg.Speaker, sg.StartMS, sg.EndMS, sg.Text, len(sg.Words))
		switch {
		case sg.Speaker == "system" && strings.HasPrefix(sg.Text, "Recording paused for"):
			marker++
		case sg.Speaker != "caller":
		case sg.EndMS > p.StartMS+edge && sg.StartMS < p.EndMS-edge:
			t.Errorf("caller line %q (%d-%d ms) inside the pause", sg.Text, sg.StartMS, sg.EndMS)
		case sg.StartMS < p.StartMS:
			before2++
		default:
			after2++
		}
		if sg.Speaker == "caller" {
			if len(sg.Words) == 0 {
				t.Errorf("caller line %q without word timings", sg.Text)
			}
			for _, w := range sg.Words {
				if w.StartMS < sg.StartMS-100 || w.EndMS > sg.EndMS+100 || w.EndMS < w.StartMS {
					t.Errorf("word %+v outside its line %d-%d", w, sg.StartMS, sg.EndMS)
				}
			}
		}
	}
	if before2 == 0 || after2 == 0 || marker != 1 {
		t.Errorf("caller lines before the pause %d, after %d; pause markers %d", before2, after2, marker)
	}

	// The recording: silent on both channels for the span, the caller's
	// speech around it.
	req, _ := http.NewRequest("GET", s.httpURL+cl.RecordingURL, nil)
	req.Header.Set("Authorization", "Bearer "+s.adminTok)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	pcm, rate, ch, err := media.ReadWAV(resp.Body)
	must(t, err)
	if ch != 2 || rate != media.SampleRate {
		t.Fatalf("recording is %d ch at %d Hz", ch, rate)
	}
	left, right := make([]int16, 0, len(pcm)/2), make([]int16, 0, len(pcm)/2)
	for i := 0; i+1 < len(pcm); i += 2 {
		left, right = append(left, pcm[i]), append(right, pcm[i+1])
	}
	cut := func(x []int16, a, b int64) []int16 {
		i := min(max(0, a*media.SampleRate/1000), int64(len(x)))
		j := min(max(i, b*media.SampleRate/1000), int64(len(x)))
		return x[i:j]
	}
	in := [2][]int16{cut(left, p.StartMS+edge, p.EndMS-edge), cut(right, p.StartMS+edge, p.EndMS-edge)}
	t.Logf("recording %.1f s; in the pause caller RMS %.0f, agent RMS %.0f over %d samples; before it caller RMS %.0f, agent RMS %.0f",
		float64(len(left))/media.SampleRate, media.RMS(in[0]), media.RMS(in[1]), len(in[0]),
		media.RMS(cut(left, p.StartMS-4000, p.StartMS-edge)), media.RMS(cut(right, p.StartMS-4000, p.StartMS-edge)))
	if len(in[0]) < 3*media.SampleRate || media.RMS(in[0]) != 0 || media.RMS(in[1]) != 0 {
		t.Errorf("the paused span of the recording is not silent")
	}
	if media.RMS(cut(left, p.StartMS-4000, p.StartMS-edge)) < 100 || media.RMS(cut(left, p.EndMS+edge, p.EndMS+3000)) < 100 {
		t.Errorf("the caller's speech around the pause is not in the recording")
	}
	if media.RMS(cut(right, p.StartMS-4000, p.StartMS-edge)) < 100 {
		t.Errorf("the agent's audio before the pause is not in the recording")
	}

	var audit struct {
		Entries []struct{ Actor, Action, Target string } `json:"entries"`
	}
	for _, action := range []string{"call.recording_pause", "call.recording_resume"} {
		s.api(t, s.adminTok, "GET", "/api/v1/audit?action="+action, nil, &audit)
		if len(audit.Entries) != 1 || audit.Entries[0].Actor != "alice" || audit.Entries[0].Target != "call:"+o.CallID {
			t.Errorf("audit %s: %+v", action, audit.Entries)
		}
	}
}
