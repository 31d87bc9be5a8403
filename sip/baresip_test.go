package sip

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
)

// syncBuffer is a bytes.Buffer safe for a process writing and a test
// reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBaresipG722: baresip with only its G.722 codec calls us; the call
// must negotiate G722 (static payload type 9) and its microphone (a
// 700 Hz tone from a file) must reach the handler as audio.
func TestBaresipG722(t *testing.T) {
	if _, err := exec.LookPath("baresip"); err != nil {
		t.Skip("baresip not installed (Debian package baresip-core)")
	}
	if _, err := os.Stat("/usr/lib/baresip/modules/g722.so"); err != nil {
		t.Skip("baresip has no g722 module")
	}
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

	dir := t.TempDir()
	mic := filepath.Join(dir, "mic.wav")
	var wav bytes.Buffer
	if err := media.WriteWAV(&wav, media.Tone(700, 20*time.Second, 16000, 0.3), 16000, 1); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mic, wav.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`sip_listen 127.0.0.1:%d
audio_source aufile,%s
audio_player aufile,%s
module_path /usr/lib/baresip/modules
module stdio.so
module aufile.so
module g722.so
module_app menu.so
module_app account.so
`, freeUDPPort(t), mic, filepath.Join(dir, "heard.wav"))
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte("<sip:caller@127.0.0.1>;regint=0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, port, _ := net.SplitHostPort(s.Addr())
	cmd := exec.CommandContext(ctx, "baresip", "-f", dir, "-e", "/dial sip:support@127.0.0.1:"+port, "-t", "20")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Stdin = bytes.NewReader(nil)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("baresip:\n%s", tail([]byte(out.String()), 3000))
		}
	}()
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
