package sip

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/internal/baresiptest"
	"github.com/contactd/contactd/internal/testcert"
	"github.com/contactd/contactd/media"
)

// TestBaresipSRTP: baresip calls us over SIP over TLS with mandatory SDES
// SRTP (mediaenc=srtp-mand: RTP/SAVP with a=crypto). The call must come in
// as SRTP, its microphone (a 700 Hz tone from a file) must reach the
// handler decrypted, and the 1 kHz tone we send must be in what baresip
// decoded (its sndfile dump: it decrypted our SRTP).
func TestBaresipSRTP(t *testing.T) {
	baresiptest.Need(t, "srtp.so", "g711.so", "aufile.so")
	type heard struct {
		suite string
		tone  int // frames with the 700 Hz tone
		stats media.Stats
	}
	got := make(chan heard, 1)
	certFile, keyFile, _ := testcert.Write(t)
	s := startServer(t, Config{TLSAddr: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile}, HandlerFunc(func(ctx context.Context, c *InboundCall) {
		h := heard{suite: c.SRTPSuite}
		defer func() {
			if l, ok := c.Leg.(*media.RTPLeg); ok {
				h.stats = l.Stats()
			}
			got <- h
		}()
		frame := media.Tone(toneHz, media.FrameDuration, media.SampleRate, 0.5)
		// Listen for the caller's tone, then talk on for a second so that
		// baresip's recording has ours.
		extra := 0
		for extra < 50 {
			select {
			case <-ctx.Done():
				return
			case f := <-c.Leg.Frames():
				if isTone(f, callerHz) {
					h.tone++
				}
			}
			if h.tone >= 25 {
				extra++
			}
			_ = c.Leg.WriteFrame(frame)
		}
	}))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, port, _ := net.SplitHostPort(s.TLSAddr())
	phone := baresiptest.Start(ctx, t, baresiptest.Options{
		Modules: []string{"g711.so", "srtp.so", "sndfile.so"},
		Mic:     media.Tone(callerHz, 20*time.Second, 8000, 0.3), MicRate: 8000,
		Config:  "sip_cafile " + certFile + "\nsnd_path {dir}\n",
		Account: "<sip:caller@127.0.0.1;transport=tls>;mediaenc=srtp-mand;regint=0",
		Args:    []string{"-e", "/dial sip:support@127.0.0.1:" + port + ";transport=tls", "-t", "20"},
	})
	dir := phone.Dir
	var h heard
	select {
	case h = <-got:
	case <-time.After(25 * time.Second):
		t.Fatal("no call from baresip")
	}
	if h.suite == "" {
		t.Fatal("baresip's call is not SRTP")
	}
	if h.tone < 25 {
		t.Fatalf("heard %d tone frames from baresip, want 25 (SRTP stats %+v)", h.tone, h.stats)
	}
	// libre opens the RTCP path with a plain RTCP APP "PINGPONG" packet;
	// on an SRTP leg that is dropped like any unauthenticated packet.
	if h.stats.SRTPDropped > 1 {
		t.Errorf("%d SRTP packets from baresip dropped, want at most its plain PINGPONG", h.stats.SRTPDropped)
	}
	t.Logf("suite %s, %d tone frames, stats %+v", h.suite, h.tone, h.stats)
	if !strings.Contains(phone.Output(), "SRTP is Enabled") {
		t.Errorf("baresip did not report SRTP")
	}

	// What baresip decrypted and decoded: its sndfile module writes it
	// to dump-*-dec.wav, complete once our BYE ends the call.
	waitFor(t, "baresip's call to end", func() bool { return strings.Contains(phone.Output(), "terminated") })
	dumps, _ := filepath.Glob(filepath.Join(dir, "dump-*-dec.wav"))
	if len(dumps) != 1 {
		t.Fatalf("baresip's decode dumps: %v", dumps)
	}
	b, err := os.ReadFile(dumps[0])
	if err != nil || len(b) < 44 {
		t.Fatalf("read %s: %v (%d bytes)", dumps[0], err, len(b))
	}
	pcm := make([]int16, (len(b)-44)/2)
	_ = binary.Read(bytes.NewReader(b[44:44+2*len(pcm)]), binary.LittleEndian, pcm)
	tone := 0
	for i := 0; i+160 <= len(pcm); i += 160 {
		if isNarrowTone(pcm[i:i+160], toneHz) {
			tone++
		}
	}
	if tone < 25 {
		t.Fatalf("baresip decoded %d frames of our tone out of %d, want 25", tone, len(pcm)/160)
	}
	if strings.Contains(phone.Output(), "failed to decrypt") {
		t.Errorf("baresip failed to decrypt some of our packets")
	}
	t.Logf("baresip decoded %d frames of our %d Hz tone out of %d", tone, toneHz, len(pcm)/160)
}
