package e2e

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store/open"
	"github.com/contactd/contactd/web/webtest"
)

// TestQAReviewDesk drives the QA review desk in headless Chromium: a QA
// user opens an imported call's evaluation, seeks the recording from the
// transcript and overrides an item with a comment; the API then shows the
// override and the new score.
func TestQAReviewDesk(t *testing.T) {
	bin := buildBinary(t)
	s := startServer(t, bin)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if st := s.api(t, s.adminTok, "POST", "/api/v1/users", map[string]string{"username": "quinn", "password": "quinn-e2e-pass", "role": "qa"}, nil); st != 201 {
		t.Fatalf("create qa user: %d", st)
	}
	qaTok := s.login(t, "quinn", "quinn-e2e-pass")
	var imp struct {
		CallID       string `json:"call_id"`
		EvaluationID string `json:"evaluation_id"`
	}
	body := map[string]any{"caller_number": "+441632960001", "transcript": []map[string]any{
		{"speaker": "agent", "start_ms": 0, "end_ms": 2000, "text": "hello how can i help"},
		{"speaker": "caller", "start_ms": 2500, "end_ms": 5000, "text": "my order hasn't arrived"},
		{"speaker": "agent", "start_ms": 9500, "end_ms": 12000, "text": "can i take your order number please"},
		{"speaker": "caller", "start_ms": 12500, "end_ms": 14000, "text": "five eight two one three"},
		{"speaker": "agent", "start_ms": 14500, "end_ms": 17000, "text": "it will be delivered tomorrow"},
	}}
	if st := s.api(t, qaTok, "POST", "/api/v1/calls/import", body, &imp); st != 201 || imp.EvaluationID == "" {
		t.Fatalf("import: %d %+v", st, imp)
	}
	var before qa.Evaluation
	s.api(t, qaTok, "GET", "/api/v1/qa/evaluations/"+imp.EvaluationID, nil, &before)
	if g := findItem(before, "greeting"); g.Passed {
		t.Fatalf("greeting without a name passed: %+v", g)
	}

	// The import API takes transcripts only, so give the call a recording
	// the way the recorder would: a WAV in the data dir and its path.
	rel := filepath.Join("recordings", imp.CallID+".wav")
	writeTone(t, filepath.Join(s.dataDir, rel), 20*time.Second)
	st, err := open.Open(ctx, s.dbURL, s.dataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.Call(ctx, imp.CallID)
	if err == nil {
		c.RecordingPath, c.Agent = rel, "alice"
		err = st.UpdateCall(ctx, c)
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	b, err := webtest.Start(ctx, webtest.Options{})
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	defer b.Close()
	defer func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", strings.Join(b.Console(), "\n"))
		}
	}()
	must(t, b.Navigate(s.httpURL+"/qa"))
	must(t, b.SetValue("#username", "quinn"))
	must(t, b.SetValue("#password", "quinn-e2e-pass"))
	must(t, b.Click("#login-btn"))
	must(t, b.WaitJS(ctx, `document.querySelectorAll("#queue tr.ev").length === 1`, 15*time.Second))
	must(t, b.Click(`#queue tr.ev`))
	must(t, b.WaitJS(ctx, `document.querySelectorAll("#transcript li").length === 5 && document.getElementById("audio").dataset.ready === "1"`, 20*time.Second))

	// Click the third line (9.5 s): the audio seeks there and the line is current.
	must(t, b.Click(`#transcript li:nth-child(3)`))
	must(t, b.WaitJS(ctx, `(() => { const a = document.getElementById("audio"); return a.currentTime >= 9.4 &&
		document.querySelector("#transcript li.current") === document.querySelector("#transcript li:nth-child(3)"); })()`, 10*time.Second))

	// Override the greeting with a comment.
	must(t, b.SetValue(`#items li[data-key="greeting"] .ov-passed`, "true"))
	must(t, b.SetValue(`#items li[data-key="greeting"] .ov-comment`, "Greeted by name on the recording at 0:01"))
	must(t, b.Click(`#items li[data-key="greeting"] .ov-save`))
	must(t, b.WaitJS(ctx, `document.querySelectorAll("#reviews li").length === 1`, 10*time.Second))

	var after qa.Evaluation
	s.api(t, qaTok, "GET", "/api/v1/qa/evaluations/"+imp.EvaluationID, nil, &after)
	g := findItem(after, "greeting")
	if !g.Passed || !g.Overridden || after.Score != before.Score+g.Max {
		t.Errorf("after override: greeting %+v, score %d (was %d)", g, after.Score, before.Score)
	}
	var revs struct {
		Reviews []qa.Override `json:"reviews"`
	}
	s.api(t, qaTok, "GET", "/api/v1/qa/evaluations/"+imp.EvaluationID+"/reviews", nil, &revs)
	if len(revs.Reviews) != 1 || revs.Reviews[0].Reviewer != "quinn" || revs.Reviews[0].Item != "greeting" ||
		revs.Reviews[0].Comment != "Greeted by name on the recording at 0:01" || revs.Reviews[0].OldPassed || !revs.Reviews[0].NewPassed {
		t.Errorf("reviews %+v", revs.Reviews)
	}
}

func findItem(e qa.Evaluation, key string) qa.Item {
	for _, it := range e.Items {
		if it.Key == key {
			return it
		}
	}
	return qa.Item{}
}

// writeTone writes d of a quiet 440 Hz tone as an 8 kHz stereo WAV.
func writeTone(t *testing.T, path string, d time.Duration) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	n := int(d.Seconds() * 8000)
	pcm := make([]int16, 2*n)
	for i := 0; i < n; i++ {
		v := int16(2000 * math.Sin(2*math.Pi*440*float64(i)/8000))
		pcm[2*i], pcm[2*i+1] = v, v
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := media.WriteWAV(f, pcm, 8000, 2); err != nil {
		t.Fatal(err)
	}
}
