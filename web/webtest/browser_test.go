package webtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loopbackPage opens the fake microphone, sends it from one
// RTCPeerConnection to another in the same page and plays what arrives.
const loopbackPage = `<!doctype html>
<html><body>
<audio id="out" autoplay></audio>
<script>
window.loop = {state: "new", error: ""};
async function start() {
  const mic = await navigator.mediaDevices.getUserMedia({audio: true});
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = e => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = e => e.candidate && a.addIceCandidate(e.candidate);
  b.ontrack = e => { document.getElementById("out").srcObject = new MediaStream([e.track]); };
  b.onconnectionstatechange = () => { window.loop.state = b.connectionState; };
  mic.getTracks().forEach(t => a.addTrack(t, mic));
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  window.loop.b = b;
  console.log("loopback started");
}
window.energy = async () => {
  if (!window.loop.b) return 0;
  let e = 0;
  (await window.loop.b.getStats()).forEach(r => {
    if (r.type === "inbound-rtp" && r.kind === "audio") e = r.totalAudioEnergy || 0;
  });
  return e;
};
start().catch(err => { window.loop.error = String(err); console.error("loopback: " + err); });
</script>
</body></html>`

func startBrowser(t *testing.T, wav string) *Browser {
	t.Helper()
	b, err := Start(t.Context(), Options{FakeAudioWAV: wav, Headless: true})
	if errors.Is(err, ErrNoChromium) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("console:\n%s", strings.Join(b.Console(), "\n"))
		}
		b.Close()
	})
	return b
}

// TestFakeMicrophone proves that the WAV file, not Chromium's own beep,
// feeds the fake microphone: a tone gives audio energy over a real
// RTCPeerConnection, silence gives none.
func TestFakeMicrophone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(loopbackPage))
	}))
	defer srv.Close()

	tests := []struct {
		name      string
		amp       float64
		wantSound bool
	}{
		{name: "tone", amp: 0.5, wantSound: true},
		{name: "silence", amp: 0, wantSound: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wav := filepath.Join(t.TempDir(), "mic.wav")
			var buf bytes.Buffer
			if err := WriteWAV(&buf, 48000, Tone(48000, 440, 2*time.Second, tc.amp)); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(wav, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}

			b := startBrowser(t, wav)
			if err := b.Navigate(srv.URL); err != nil {
				t.Fatal(err)
			}
			if err := b.WaitJS(t.Context(), `window.loop.state === "connected" || window.loop.error`, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			var loopErr string
			if err := b.Eval(`window.loop.error`, &loopErr); err != nil {
				t.Fatal(err)
			}
			if loopErr != "" {
				t.Fatalf("page: %s", loopErr)
			}

			// Energy accumulates from the moment the audio plays; one
			// second of a half-scale tone gives about 0.1.
			err := b.WaitJS(t.Context(), `(window.energy().then(e => window.lastEnergy = e), window.lastEnergy > 0.01)`, 3*time.Second)
			var energy float64
			if err := b.Eval(`window.energy()`, &energy); err != nil {
				t.Fatal(err)
			}
			if got := err == nil; got != tc.wantSound {
				t.Fatalf("sound = %v (energy %g), want %v", got, energy, tc.wantSound)
			}
			if !tc.wantSound && energy > 0.001 {
				t.Fatalf("energy of silence = %g", energy)
			}
			if !strings.Contains(strings.Join(b.Console(), "\n"), "loopback started") {
				t.Errorf("console lacks the page's log line: %q", b.Console())
			}
		})
	}
}

func TestHelpers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<!doctype html><input id="name"><button id="btn" onclick="window.clicked = document.getElementById('name').value">go</button>`))
	}))
	defer srv.Close()
	b := startBrowser(t, "")
	if err := b.Navigate(srv.URL); err != nil {
		t.Fatal(err)
	}
	if err := b.SetValue("#name", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := b.Click("#btn"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitJS(t.Context(), `window.clicked === "alice"`, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	t.Run("eval awaits promises", func(t *testing.T) {
		var got struct{ N int }
		if err := b.Eval(`new Promise(r => setTimeout(() => r({n: 42}), 10))`, &got); err != nil {
			t.Fatal(err)
		}
		if got.N != 42 {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("eval reports exceptions", func(t *testing.T) {
		if err := b.Eval(`Promise.reject(new Error("boom"))`, nil); err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("err = %v, want boom", err)
		}
	})
	t.Run("eval of undefined", func(t *testing.T) {
		var v int
		if err := b.Eval(`undefined`, &v); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("wait times out", func(t *testing.T) {
		start := time.Now()
		err := b.WaitJS(t.Context(), `false`, 300*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("took %v", d)
		}
	})
	t.Run("wait honours ctx", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := b.WaitJS(ctx, `false`, time.Minute); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("click on a missing element times out", func(t *testing.T) {
		old := b.timeout
		b.timeout = 300 * time.Millisecond
		defer func() { b.timeout = old }()
		if err := b.Click("#missing"); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestWriteWAV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteWAV(&buf, 48000, []int16{0, 1000, -1000}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if len(b) != 44+6 || string(b[:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Fatalf("bad header % x", b[:44])
	}
	if rate := binary.LittleEndian.Uint32(b[24:]); rate != 48000 {
		t.Fatalf("rate %d", rate)
	}
	if s := int16(binary.LittleEndian.Uint16(b[46:])); s != 1000 {
		t.Fatalf("sample %d", s)
	}
	if err := WriteWAV(&buf, 0, nil); err == nil {
		t.Fatal("rate 0 accepted")
	}
}
