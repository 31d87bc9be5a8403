package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	dir := t.TempDir()
	toneWAV := filepath.Join(dir, "phone-mic.wav")
	writeWAV(t, toneWAV, media.Tone(700, 30*time.Second, 8000, 0.3), 8000)
	heard := filepath.Join(dir, "phone-heard.wav")
	phonePort := freePort(t, "udp")
	conf := fmt.Sprintf(`sip_listen 127.0.0.1:%d
audio_source aufile,%s
audio_player aufile,%s
module_path /usr/lib/baresip/modules
module stdio.so
module aufile.so
module g711.so
module_app menu.so
module_app account.so
answermode auto
`, phonePort, toneWAV, heard)
	must(t, os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o600))
	account := fmt.Sprintf("<sip:bob@%s>;auth_pass=bob-demo;regint=600;answermode=auto\n", s.sipAddr)
	must(t, os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o600))
	phone := exec.CommandContext(ctx, "baresip", "-f", dir)
	phoneLog := &lockedBuffer{}
	phone.Stdout, phone.Stderr = phoneLog, phoneLog
	phone.Stdin = strings.NewReader("")
	must(t, phone.Start())
	defer func() {
		_ = phone.Process.Kill()
		_ = phone.Wait()
		if t.Failed() {
			t.Logf("baresip:\n%s", tail(phoneLog.String(), 60))
		}
	}()
	waitUntil(t, "bob's phone to register", 15*time.Second, func() bool {
		return strings.Contains(s.logs.String(), "registered") && strings.Contains(s.logs.String(), "bob") ||
			strings.Contains(phoneLog.String(), "200 OK")
	})

	bob := s.login(t, "bob", "bob-demo")
	if st := s.api(t, bob, "POST", "/api/v1/agents/bob/state", map[string]string{"state": "available"}, nil); st != 200 {
		t.Fatalf("bob available: %d", st)
	}

	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: "+15550104", Codecs: []string{"PCMU"}})
	must(t, err)
	defer c.Hangup(context.Background())
	e := &ear{}
	go e.run(c.Leg())
	waitUntil(t, "the keypad menu", 45*time.Second, func() bool { return len(e.bursts(2*time.Second)) >= 3 })
	time.Sleep(time.Second)
	must(t, c.SendDTMF('3'))

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
