package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/contactd/contactd/internal/baresiptest"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/sip"
)

// TestDeskPhone: an agent takes calls on a SIP desk phone instead of the
// browser. baresip (a real third-party SIP phone, audio from and to files)
// registers as bob with digest auth and answers automatically; a PCMU
// caller picks billing (key 3) from the keypad menu; the call rings bob's
// phone and the two talk.
func TestDeskPhone(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	for _, tool := range []string{"baresip", "espeak-ng"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (make test installs it)", tool)
		}
	}
	s := startServer(t, buildBinary(t))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The phone: a 30 s 700 Hz tone as its microphone, what it hears to a file.
	phone := baresiptest.Start(ctx, t, baresiptest.Options{
		Modules: []string{"g711.so"},
		Mic:     media.Tone(700, 30*time.Second, 8000, 0.3), MicRate: 8000,
		Config:  "answermode auto\n",
		Account: fmt.Sprintf("<sip:bob@%s>;auth_pass=bob-demo;regint=600;answermode=auto", s.sipAddr),
	})
	phone.WaitOutput(t, "200 OK", 15*time.Second) // registered

	bob := s.login(t, "bob", "bob-demo")
	if st := s.api(t, bob, "POST", "/api/v1/agents/bob/state", map[string]string{"state": "available"}, nil); st != 200 {
		t.Fatalf("bob available: %d", st)
	}

	// The DID +15550155 enters the IVR at its keypad menu; 3 is billing.
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:+15550155@" + s.sipAddr, From: "+15550104", Codecs: []string{"PCMU"}})
	must(t, err)
	defer c.Hangup(context.Background())
	e := &ear{}
	go e.run(c.Leg())
	quiet := sendSilence(ctx, c.Leg())
	waitUntil(t, "the keypad menu", 45*time.Second, func() bool {
		b := e.bursts(time.Second)
		return len(b) >= 1 && time.Since(b[0]) > 2*time.Second
	})
	must(t, c.SendDTMF('3'))
	quiet()

	// The phone answers by itself; the caller then hears its 700 Hz tone.
	var answeredAt time.Time
	waitUntil(t, "the desk phone to answer", 30*time.Second, func() bool {
		var v struct{ State string }
		s.api(t, bob, "GET", "/api/v1/agents/bob", nil, &v)
		if v.State == "busy" && answeredAt.IsZero() {
			answeredAt = time.Now()
		}
		return !answeredAt.IsZero()
	})
	tone := media.Tone(440, 5*time.Second, media.SampleRate, 0.3)
	go func() { _ = media.Play(ctx, c.Leg(), tone) }()
	waitUntil(t, "the phone's tone at the caller", 15*time.Second, func() bool {
		pcm := e.since(answeredAt.Add(time.Second))
		return len(pcm) > media.SampleRate && media.Goertzel(pcm, media.SampleRate, 700) > 10*media.Goertzel(pcm, media.SampleRate, 1300)
	})
	time.Sleep(3 * time.Second)
	must(t, c.Hangup(ctx))

	var cl struct {
		Intent       string     `json:"intent"`
		Agent        string     `json:"agent"`
		AnsweredAt   *time.Time `json:"answered_at"`
		EndedAt      *time.Time `json:"ended_at"`
		RecordingURL string     `json:"recording_url"`
	}
	var calls struct {
		Calls []struct{ ID string } `json:"calls"`
	}
	s.api(t, s.adminTok, "GET", "/api/v1/calls?limit=1", nil, &calls)
	if len(calls.Calls) != 1 {
		t.Fatal("no call listed")
	}
	waitUntil(t, "the call to end", 10*time.Second, func() bool {
		return s.api(t, s.adminTok, "GET", "/api/v1/calls/"+calls.Calls[0].ID, nil, &cl) == 200 && cl.EndedAt != nil
	})
	if cl.Intent != "billing" || cl.Agent != "bob" || cl.AnsweredAt == nil {
		t.Fatalf("call = %+v", cl)
	}
	// The phone heard the caller: the recording's agent channel carries the
	// phone's tone and the caller channel the caller's.
	checkRecording(t, s, cl.RecordingURL)
}

func writeWAV(t *testing.T, path string, pcm []int16, rate int) {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	defer f.Close()
	must(t, media.WriteWAV(f, pcm, rate, 1))
}
