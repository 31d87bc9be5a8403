package call

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/transcript"
)

// recording reads the call's WAV: caller (left) and agent (right).
func (f *liveFixture) recording(t *testing.T) (caller, agent []int16) {
	t.Helper()
	found, _ := filepath.Glob(filepath.Join(f.dir, "recordings", "*", "*", f.id+".wav"))
	if len(found) != 1 {
		t.Fatalf("recording of %s: found %v", f.id, found)
	}
	file, err := os.Open(found[0])
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	pcm, rate, ch, err := media.ReadWAV(file)
	if err != nil || rate != media.SampleRate || ch != 2 {
		t.Fatalf("recording: %d Hz, %d ch, %v", rate, ch, err)
	}
	for i := 0; i+1 < len(pcm); i += 2 {
		caller, agent = append(caller, pcm[i]), append(agent, pcm[i+1])
	}
	return caller, agent
}

// span is pcm from ms a to ms b (clipped).
func span(pcm []int16, a, b int64) []int16 {
	i := min(max(0, a*media.SampleRate/1000), int64(len(pcm)))
	j := min(max(i, b*media.SampleRate/1000), int64(len(pcm)))
	return pcm[i:j]
}

// TestRecordingPause: the agent pauses the recording while the customer
// reads out card details and a supervisor resumes it. The two still hear
// each other; the recording is silent on both channels for the span, the
// recogniser is given silence (nothing said then is transcribed), the
// span is on the call's record with who paused and resumed it, and the
// transcript has a system line for it.
func TestRecordingPause(t *testing.T) {
	f := newLiveFixture(t, map[string][]string{
		"caller": {"before the pause", "after the pause"},
		"agent":  {"go ahead"},
	}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, id := f.m, f.id
	time.Sleep(300 * time.Millisecond)
	say(f.customer, 600, 700*time.Millisecond)

	if err := m.PauseRecording(ctx, id, "bob", false, true); !errors.Is(err, ErrNotYours) {
		t.Errorf("pause by bob, not on the call: %v, want ErrNotYours", err)
	}
	if err := m.PauseRecording(ctx, id, "alice", false, false); !errors.Is(err, ErrBusy) {
		t.Errorf("resume while recording: %v, want ErrBusy", err)
	}
	if err := m.PauseRecording(ctx, id, "alice", false, true); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	if err := m.PauseRecording(ctx, id, "alice", false, true); !errors.Is(err, ErrBusy) {
		t.Errorf("pause twice: %v, want ErrBusy", err)
	}
	// The card number: alice hears it, the recording does not.
	say(f.customer, 600, 1500*time.Millisecond)
	say(f.alice, 1000, 400*time.Millisecond)
	if lv := level(f.alice.since(paused), 600); lv < 0.03 {
		t.Errorf("alice did not hear the customer while the recording was paused (level %.3f)", lv)
	}
	if err := m.PauseRecording(ctx, id, "sue", true, false); err != nil { // a supervisor resumes it
		t.Fatal(err)
	}
	say(f.customer, 600, 700*time.Millisecond)
	segs := f.hangup(t)

	c, err := f.st.Call(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.RecordingPauses) != 1 {
		t.Fatalf("recording pauses %+v, want one", c.RecordingPauses)
	}
	p := c.RecordingPauses[0]
	if p.By != "alice" || p.ResumedBy != "sue" || p.EndMS-p.StartMS < 2500 || p.EndMS-p.StartMS > 4000 {
		t.Errorf("pause %+v, want alice to sue over about 2.9 s", p)
	}

	var lines []string
	marker := false
	for _, s := range segs {
		switch s.Speaker {
		case transcript.System:
			if strings.HasPrefix(s.Text, "Recording paused for ") && s.StartMS == p.StartMS && s.EndMS == p.EndMS {
				marker = true
			}
		default:
			lines = append(lines, string(s.Speaker)+": "+s.Text)
			if s.EndMS > p.StartMS+pauseEdge.Milliseconds() && s.StartMS < p.EndMS-pauseEdge.Milliseconds() {
				t.Errorf("line %q (%d-%d ms) inside the pause", s.Text, s.StartMS, s.EndMS)
			}
		}
	}
	if got := strings.Join(lines, "|"); got != "caller: before the pause|caller: after the pause" {
		t.Errorf("transcript lines %q: the paused speech was transcribed or speech was lost", got)
	}
	if !marker {
		t.Errorf("no system line for the pause in %+v", segs)
	}
	// The recogniser got silence for the span: 1.4 s of the customer's
	// tone, not 2.9 s; the agent's tone only in the pause: none.
	if ms := f.asr.streams[0].loudMS(); ms < 1000 || ms > 1900 {
		t.Errorf("the caller's recogniser heard %d ms of tone, want about 1400 (none of the paused 1500)", ms)
	}
	if ms := f.asr.streams[1].loudMS(); ms != 0 {
		t.Errorf("the agent's recogniser heard %d ms of tone said while paused", ms)
	}

	caller, agent := f.recording(t)
	const edge = 300 // ms: the recording's clock against the call's
	if r := media.RMS(span(caller, p.StartMS+edge, p.EndMS-edge)); r != 0 {
		t.Errorf("caller channel during the pause: RMS %.0f, want silence", r)
	}
	if r := media.RMS(span(agent, p.StartMS+edge, p.EndMS-edge)); r != 0 {
		t.Errorf("agent channel during the pause: RMS %.0f, want silence", r)
	}
	if r := media.RMS(span(caller, 0, p.StartMS-edge)); r < 1000 {
		t.Errorf("caller channel before the pause: RMS %.0f, want the tone", r)
	}
	if r := media.RMS(span(caller, p.EndMS+edge, p.EndMS+edge+700)); r < 1000 {
		t.Errorf("caller channel after the pause: RMS %.0f, want the tone", r)
	}
	if len(f.events.ofType("recording_paused")) != 1 || len(f.events.ofType("recording_resumed")) != 1 {
		t.Errorf("pause events: %d paused, %d resumed", len(f.events.ofType("recording_paused")), len(f.events.ofType("recording_resumed")))
	}
}

// TestRecordingPauseEndsWithCall: a pause still on when the customer
// hangs up ends with the call and is on its record.
func TestRecordingPauseEndsWithCall(t *testing.T) {
	f := newLiveFixture(t, nil, nil)
	ctx := context.Background()
	if err := f.m.PauseRecording(ctx, f.id, "alice", false, true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	f.hangup(t)
	c, err := f.st.Call(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.RecordingPauses) != 1 || c.RecordingPauses[0].By != "alice" || c.RecordingPauses[0].ResumedBy != "" ||
		c.RecordingPauses[0].EndMS-c.RecordingPauses[0].StartMS < 900 {
		t.Fatalf("pauses %+v", c.RecordingPauses)
	}
	if err := f.m.PauseRecording(ctx, f.id, "alice", false, false); !errors.Is(err, ErrNoSuchCall) {
		t.Errorf("resume after the call: %v", err)
	}
}

// TestUnpaused: lines the recogniser reports from inside a pause lose the
// words said in it, or go.
func TestUnpaused(t *testing.T) {
	c := &Call{}
	c.rec.RecordingPauses = append(c.rec.RecordingPauses, recPauseSpan(1000, 4000))
	w := func(text string, a, b int64) transcript.Word {
		return transcript.Word{Text: text, StartMS: a, EndMS: b}
	}
	s, ok := c.unpaused(transcript.Segment{Text: "my card is four one", StartMS: 200, EndMS: 2000,
		Words: []transcript.Word{w("my", 200, 400), w("card", 400, 700), w("is", 700, 900), w("four", 1500, 1800), w("one", 1800, 2200)}})
	if !ok || s.Text != "my card is" || s.EndMS != 900 || len(s.Words) != 3 {
		t.Errorf("straddling line: %+v %t", s, ok)
	}
	if _, ok := c.unpaused(transcript.Segment{Text: "four one", StartMS: 1600, EndMS: 2400,
		Words: []transcript.Word{w("four", 1600, 1900), w("one", 1900, 2400)}}); ok {
		t.Error("a line inside the pause kept")
	}
	if _, ok := c.unpaused(transcript.Segment{Text: "four one", StartMS: 1600, EndMS: 2400}); ok {
		t.Error("a line without words inside the pause kept")
	}
	// The recogniser's clock lags the call's: a line said just after
	// the resume may seem to start a little before it.
	if s, ok := c.unpaused(transcript.Segment{Text: "after the pause", StartMS: 3700, EndMS: 4500,
		Words: []transcript.Word{w("after", 3700, 3950), w("the", 3950, 4100), w("pause", 4100, 4500)}}); !ok || s.Text != "after the pause" {
		t.Errorf("a line at the pause's end lost words: %+v", s)
	}
	c.recPause = &recPause{since: 5 * time.Second, by: "alice"}
	if _, ok := c.unpaused(transcript.Segment{Text: "one", StartMS: 6000, EndMS: 6500}); ok {
		t.Error("a line in the pause in progress kept")
	}
	if len(c.rec.RecordingPauses) != 1 {
		t.Errorf("unpaused changed the record: %+v", c.rec.RecordingPauses)
	}
}

func recPauseSpan(a, b int64) store.RecordingPause {
	return store.RecordingPause{StartMS: a, EndMS: b, By: "alice"}
}
