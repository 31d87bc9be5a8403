package sip

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/internal/baresiptest"
	"github.com/contactd/contactd/media"
)

// TestBaresipOpusDTMFHold: baresip with only Opus calls us, driven over
// its ctrl_tcp socket like a user at the keypad: the call negotiates
// opus, its microphone (700 Hz) reaches us and ours (1 kHz) reaches it,
// the digits it sends arrive as RFC 4733 events, and its hold and resume
// keys (re-INVITE sendonly, then sendrecv) arrive as EventHold and
// EventResume with the call still up.
func TestBaresipOpusDTMFHold(t *testing.T) {
	baresiptest.Need(t, "opus.so", "sndfile.so")
	type result struct {
		codec   string
		tone    int
		digits  string
		events  []string
		endedBy error
	}
	got := make(chan result, 1)
	progress := make(chan string, 16)
	s := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, c *InboundCall) {
		r := result{codec: c.Codec.Name}
		defer func() { got <- r }()
		frame := media.Tone(toneHz, media.FrameDuration, media.SampleRate, 0.3)
		tick := time.NewTicker(media.FrameDuration)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				r.endedBy = context.Cause(ctx)
				return
			case f := <-c.Leg.Frames():
				rms := media.RMS(f)
				if rms > 500 && media.Goertzel(f, media.SampleRate, 700) > 10*media.Goertzel(f, media.SampleRate, 1300) {
					r.tone++
					if r.tone == 25 {
						progress <- "tone"
					}
				}
			case d := <-c.Leg.DTMF():
				r.digits += string(d)
				progress <- "digit"
			case ev := <-c.Events():
				r.events = append(r.events, ev.Kind.String())
				progress <- ev.Kind.String()
			case <-tick.C:
				_ = c.Leg.WriteFrame(frame)
			}
		}
	}))

	// Opus in baresip is 48 kHz stereo, and its file source must match.
	mono := media.Tone(700, 40*time.Second, 48000, 0.3)
	stereo := make([]int16, 2*len(mono))
	for i, v := range mono {
		stereo[2*i], stereo[2*i+1] = v, v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	phone := baresiptest.Start(ctx, t, baresiptest.Options{
		Modules: []string{"opus.so", "sndfile.so"},
		Mic:     stereo, MicRate: 48000, MicChannels: 2,
		Config:  "snd_path {dir}\n",
		Account: "<sip:caller@127.0.0.1>;regint=0",
		Control: true,
	})
	dir := phone.Dir
	want := func(what string) {
		t.Helper()
		for {
			select {
			case p := <-progress:
				if p == what {
					return
				}
			case r := <-got:
				t.Fatalf("call ended waiting for %s: %+v", what, r)
			case <-time.After(20 * time.Second):
				t.Fatalf("no %s from baresip", what)
			}
		}
	}
	_, port, _ := net.SplitHostPort(s.Addr())
	phone.Command(t, "dial", "sip:support@127.0.0.1:"+port)
	want("tone")
	for _, d := range "42#" {
		phone.Command(t, "sndcode", string(d))
		want("digit")
	}
	phone.Command(t, "hold", "")
	want("hold")
	phone.Command(t, "resume", "")
	want("resume")
	phone.Command(t, "hangup", "")
	select {
	case r := <-got:
		if r.codec != "opus" {
			t.Errorf("codec %s, want opus", r.codec)
		}
		if r.digits != "42#" {
			t.Errorf("digits %q, want 42#", r.digits)
		}
		if strings.Join(r.events, ",") != "hold,resume" {
			t.Errorf("events %v, want hold, resume", r.events)
		}
		if r.endedBy != ErrRemoteHangup {
			t.Errorf("ended by %v, want the phone's BYE", r.endedBy)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the call did not end after baresip hung up")
	}
	// What baresip decoded of ours: its sndfile module's dump (48 kHz
	// stereo, as Opus runs in baresip), complete once the call ended.
	waitFor(t, "baresip's call to end", func() bool { return strings.Contains(phone.Output(), "terminated") })
	dumps, _ := filepath.Glob(filepath.Join(dir, "dump-*-dec.wav"))
	if len(dumps) != 1 {
		t.Fatalf("baresip's decode dumps: %v", dumps)
	}
	b, err := os.ReadFile(dumps[0])
	if err != nil || len(b) < 44 {
		t.Fatalf("read %s: %v (%d bytes)", dumps[0], err, len(b))
	}
	var left []int16
	for i := 44; i+4 <= len(b); i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(b[i:])))
	}
	tone := 0
	for i := 0; i+960 <= len(left); i += 960 { // 20 ms at 48 kHz
		f := left[i : i+960]
		if media.RMS(f) > 500 && media.Goertzel(f, 48000, toneHz) > 10*media.Goertzel(f, 48000, 1300) {
			tone++
		}
	}
	if tone < 25 {
		t.Errorf("baresip decoded %d frames of our %d Hz tone out of %d, want 25", tone, toneHz, len(left)/960)
	}
}
