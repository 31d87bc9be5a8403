package media

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hraban/opus"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
)

// browser is a second pion peer standing in for a browser: it offers one
// Opus track carrying a tone and decodes what it receives at 48 kHz.
type browser struct {
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticSample
	mu    sync.Mutex
	heard []int16
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{pc: pc}
	b.track, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "browser")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(b.track); err != nil {
		t.Fatal(err)
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		dec, err := opus.NewDecoder(48000, 1)
		if err != nil {
			t.Error(err)
			return
		}
		pcm := make([]int16, 5760)
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			n, err := dec.Decode(p.Payload, pcm)
			if err != nil {
				t.Errorf("browser decode: %v", err)
				return
			}
			b.mu.Lock()
			b.heard = append(b.heard, pcm[:n]...)
			b.mu.Unlock()
		}
	})
	return b
}

// speak sends a tone at 48 kHz in 20 ms samples until ctx ends.
func (b *browser) speak(ctx context.Context, t *testing.T, freq float64) {
	enc, err := opus.NewEncoder(48000, 1, opus.AppVoIP)
	if err != nil {
		t.Error(err)
		return
	}
	tone := Tone(freq, 10*time.Second, 48000, 0.5)
	buf := make([]byte, 1500)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for off := 0; off+960 <= len(tone); off += 960 {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, err := enc.Encode(tone[off:off+960], buf)
		if err != nil {
			t.Error(err)
			return
		}
		if err := b.track.WriteSample(pmedia.Sample{Data: buf[:n], Duration: 20 * time.Millisecond}); err != nil {
			return
		}
	}
}

func TestWebRTCLeg(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := runtime.NumGoroutine()
	b := newBrowser(t)
	defer b.pc.Close()
	offer, err := b.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered

	leg, answer, err := NewWebRTCLeg(ctx, b.pc.LocalDescription().SDP, WebRTCConfig{IncludeLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close()
	if !strings.Contains(answer, "opus/48000/2") || !strings.Contains(answer, "a=candidate") {
		t.Fatalf("answer lacks opus or candidates:\n%s", answer)
	}
	if err := b.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}

	speakCtx, stopSpeaking := context.WithCancel(ctx)
	defer stopSpeaking()
	go b.speak(speakCtx, t, 440)
	playErr := make(chan error, 1)
	go func() { playErr <- Play(ctx, leg, Tone(660, 2*time.Second, SampleRate, 0.5)) }()

	// Our side hears the browser's 440 Hz.
	got := collect(t, leg.Frames(), 40*FrameSamples, 10*time.Second)
	assertTone(t, got[10*FrameSamples:], SampleRate, 440)

	// The browser hears our 660 Hz.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		n := len(b.heard)
		b.mu.Unlock()
		if n >= 48000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser heard %d samples", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.mu.Lock()
	heard := append([]int16(nil), b.heard[9600:48000]...)
	b.mu.Unlock()
	assertTone(t, heard, 48000, 660)
	if err := <-playErr; err != nil {
		t.Fatal(err)
	}
	if st := leg.Stats(); st.PacketsIn == 0 || st.PacketsOut == 0 || st.DecodeErrors != 0 {
		t.Fatalf("stats %+v", st)
	}

	// The browser hangs up: Done closes.
	stopSpeaking()
	b.pc.Close()
	select {
	case <-leg.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed after the browser closed")
	}
	if err := leg.Close(); err != nil {
		t.Fatal(err)
	}
	if err := leg.WriteFrame(make([]int16, FrameSamples)); err != ErrClosed {
		t.Fatalf("write after close: %v", err)
	}
	b.pc.Close()
	waitGoroutines(t, base)
}

func TestWebRTCLegBadOffer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, sdp := range []string{"", "garbage", "v=0\r\n"} {
		if _, _, err := NewWebRTCLeg(ctx, sdp, WebRTCConfig{IncludeLoopback: true}); err == nil {
			t.Fatalf("offer %q accepted", sdp)
		}
	}
}
