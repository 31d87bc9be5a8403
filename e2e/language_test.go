package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/sip"
)

// TestLanguageFromRecogniser: with a multilingual recogniser (here a
// Whisper-compatible transcription server) the caller's first utterance
// is in Spanish and the recogniser says so; the IVR switches to Spanish
// (prompts, intents) although "agente" alone would not tell it from the
// words, and queues the call for a person.
func TestLanguageFromRecogniser(t *testing.T) {
	var asked atomic.Int32
	whisper := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/audio/transcriptions") {
			http.NotFound(w, r)
			return
		}
		if f, _, err := r.FormFile("file"); err != nil {
			http.Error(w, `{"error":{"message":"no file"}}`, http.StatusBadRequest)
			return
		} else {
			f.Close()
		}
		asked.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"task": "transcribe", "language": "spanish", "duration": 1.2,
			"text": " Agente.", "segments": []map[string]any{{"start": 0.1, "end": 1.0, "text": " Agente.", "avg_logprob": -0.1}}})
	}))
	defer whisper.Close()

	bin := buildBinary(t)
	s := startServerWith(t, bin, func(y string) string {
		old := "asr:\n  provider: sphinx\n"
		if !strings.Contains(y, old) {
			t.Fatalf("the test config lacks %q", old)
		}
		return strings.Replace(y, old, "asr:\n  provider: openai\n  options: {url: "+whisper.URL+", language: auto}\n", 1)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: "+15550142", Codecs: []string{"PCMU"}})
	must(t, err)
	defer c.Hangup(context.Background())
	e := &ear{}
	go e.run(c.Leg())
	waitUntil(t, "the greeting", 20*time.Second, func() bool { return len(e.bursts(time.Second)) > 0 })
	// Wait for the greeting to end, then speak.
	waitUntil(t, "the greeting to end", 20*time.Second, func() bool { return e.quietFor(700 * time.Millisecond) })
	_, pcm := speechWAV(t, "agente por favor", media.SampleRate, 300*time.Millisecond)
	must(t, media.Play(ctx, c.Leg(), pcm))
	stopQuiet := sendSilence(ctx, c.Leg())
	defer stopQuiet()

	id := s.callOf(t, "+15550142").ID
	var sc storedCall
	waitUntil(t, "the call to be queued", 30*time.Second, func() bool {
		sc = s.call(t, id)
		return sc.Queue != ""
	})
	if asked.Load() == 0 {
		t.Fatal("the transcription server was never asked")
	}
	if sc.Queue != "general" {
		t.Fatalf("queue %q, want general (a person)", sc.Queue)
	}
	// The IVR's confirmation plays as the call is queued: let the caller
	// hear it out (and some of what follows) before hanging up.
	queued := time.Now()
	waitUntil(t, "the confirmation after queueing", 20*time.Second, func() bool {
		loud := 0
		for _, pcm := range e.sinceEach(queued) {
			if media.RMS(pcm) >= 300 {
				loud++
			}
		}
		return loud >= 150 // 3 s
	})
	_ = c.Hangup(context.Background())
	s.endedCallOf(t, "+15550142")
	var full struct {
		Transcript []struct{ Speaker, Text string } `json:"transcript"`
	}
	waitUntil(t, "the transcript to be stored", 20*time.Second, func() bool {
		s.api(t, s.adminTok, "GET", "/api/v1/calls/"+id, nil, &full)
		return len(full.Transcript) > 0
	})
	var said []string
	for _, sg := range full.Transcript {
		if sg.Speaker == "system" {
			said = append(said, sg.Text)
		}
	}
	if !strings.Contains(strings.Join(said, " | "), "Le paso con un agente") {
		t.Fatalf("the IVR did not switch to Spanish; it said %q", said)
	}
}
