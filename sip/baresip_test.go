package sip

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/contactd/contactd/internal/baresiptest"
	"github.com/contactd/contactd/media"
)

// TestBaresipG722: baresip with only its G.722 codec calls us; the call
// must negotiate G722 (static payload type 9) and its microphone (a
// 700 Hz tone from a file) must reach the handler as audio.
func TestBaresipG722(t *testing.T) {
	baresiptest.Need(t, "g722.so")
	type heard struct {
		codec string
		tone  int // frames with the 700 Hz tone
	}
	got := make(chan heard, 1)
	s := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, c *InboundCall) {
		h := heard{codec: c.Codec.Name}
		defer func() { got <- h }()
		frame := media.Tone(toneHz, media.FrameDuration, media.SampleRate, 0.3)
		for h.tone < 25 {
			select {
			case <-ctx.Done():
				return
			case f := <-c.Leg.Frames():
				rms := media.RMS(f)
				if rms > 500 && media.Goertzel(f, media.SampleRate, 700)/(rms*rms/(32768*32768)) > 0.3 {
					h.tone++
				}
			}
			_ = c.Leg.WriteFrame(frame)
		}
	}))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, port, _ := net.SplitHostPort(s.Addr())
	baresiptest.Start(ctx, t, baresiptest.Options{
		Modules: []string{"g722.so"},
		Mic:     media.Tone(700, 20*time.Second, 16000, 0.3), MicRate: 16000,
		Account: "<sip:caller@127.0.0.1>;regint=0",
		Args:    []string{"-e", "/dial sip:support@127.0.0.1:" + port, "-t", "20"},
	})
	select {
	case h := <-got:
		if h.codec != "G722" {
			t.Errorf("codec %s, want G722", h.codec)
		}
		if h.tone < 25 {
			t.Errorf("heard %d tone frames from baresip, want 25", h.tone)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("no call from baresip")
	}
}
