package webtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/pion/webrtc/v4"

	"github.com/contactd/contactd/web/webtest"
)

const (
	fakeUser  = "alice"
	fakePass  = "secret"
	fakeToken = "tok-alice"
)

// fakeAPI speaks the agent page's protocol (see web/ui/agent.js) so that the
// page can be tested without the real server. Its answerer is a pion peer
// that echoes the browser's RTP back, so the page hears its own fake
// microphone.
type fakeAPI struct {
	t *testing.T

	mu       sync.Mutex
	ws       *websocket.Conn
	wsConns  int
	states   []string
	answered []string
	rejected []string
	hungUp   []string
	pcs      []*webrtc.PeerConnection

	rtpIn atomic.Int64 // RTP packets that the pion peer received
}

func newFakeAPI(t *testing.T) (*httptest.Server, *fakeAPI) {
	f := &fakeAPI{t: t}
	ui := filepath.Join("..", "ui")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /agent", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(ui, "agent.html"))
	})
	mux.Handle("GET /", http.FileServer(http.Dir(ui)))
	mux.HandleFunc("POST /api/v1/auth/login", f.login)
	mux.HandleFunc("POST /api/v1/agents/{username}/state", f.auth(f.state))
	mux.HandleFunc("GET /api/v1/events", f.events)
	mux.HandleFunc("POST /api/v1/calls/{id}/answer", f.auth(f.answer))
	mux.HandleFunc("POST /api/v1/calls/{id}/reject", f.auth(f.reject))
	mux.HandleFunc("POST /api/v1/calls/{id}/hangup", f.auth(f.hangup))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		f.mu.Lock()
		if f.ws != nil {
			f.ws.CloseNow()
		}
		pcs := f.pcs
		f.mu.Unlock()
		for _, pc := range pcs {
			_ = pc.Close()
		}
		srv.Close()
	})
	return srv, f
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) login(w http.ResponseWriter, r *http.Request) {
	var req struct{ Username, Password string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad json"})
		return
	}
	if req.Username != fakeUser || req.Password != fakePass {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid username or password"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token": fakeToken,
		"user":  map[string]string{"username": fakeUser, "role": "agent"},
	})
}

func (f *fakeAPI) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+fakeToken {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "not signed in"})
			return
		}
		h(w, r)
	}
}

func (f *fakeAPI) state(w http.ResponseWriter, r *http.Request) {
	var req struct{ State string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.PathValue("username") != fakeUser {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request"})
		return
	}
	f.mu.Lock()
	f.states = append(f.states, req.State)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"state": req.State})
}

func (f *fakeAPI) events(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("token") != fakeToken {
		http.Error(w, "not signed in", http.StatusUnauthorized)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.ws = c
	f.wsConns++
	f.mu.Unlock()
	// Read until the page or the test closes the socket.
	for {
		if _, _, err := c.Read(r.Context()); err != nil {
			return
		}
	}
}

// send pushes one event to the page.
func (f *fakeAPI) send(v map[string]any) {
	f.t.Helper()
	f.mu.Lock()
	c := f.ws
	f.mu.Unlock()
	if c == nil {
		f.t.Fatal("no events socket")
	}
	ctx, cancel := context.WithTimeout(f.t.Context(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c, v); err != nil {
		f.t.Fatalf("send %v: %v", v["type"], err)
	}
}

// sendAsync pushes an event from an HTTP handler; errors are the page's
// problem, which the test sees as a missing update.
func (f *fakeAPI) sendAsync(v map[string]any) {
	f.mu.Lock()
	c := f.ws
	f.mu.Unlock()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = wsjson.Write(ctx, c, v)
}

func (f *fakeAPI) answer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req struct{ SDP string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.SDP == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "no sdp"})
		return
	}
	sdp, err := f.echoPeer(req.SDP)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	f.mu.Lock()
	f.answered = append(f.answered, id)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"sdp": sdp})
	f.sendAsync(map[string]any{"type": "agent_state", "state": "busy"})
	f.sendAsync(map[string]any{"type": "call_answered", "call_id": id})
}

// echoPeer answers the page's offer with a pion peer that sends every RTP
// packet it receives back to the page.
func (f *fakeAPI) echoPeer(offer string) (string, error) {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	f.pcs = append(f.pcs, pc)
	f.mu.Unlock()
	out, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "fake")
	if err != nil {
		return "", err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("remote offer: %w", err)
	}
	if _, err := pc.AddTrack(out); err != nil {
		return "", err
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			f.rtpIn.Add(1)
			if err := out.WriteRTP(pkt); err != nil {
				return
			}
		}
	})
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", err
	}
	<-gathered
	return pc.LocalDescription().SDP, nil
}

func (f *fakeAPI) reject(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.rejected = append(f.rejected, r.PathValue("id"))
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	f.sendAsync(map[string]any{"type": "agent_state", "state": "available"})
}

func (f *fakeAPI) hangup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f.mu.Lock()
	f.hungUp = append(f.hungUp, id)
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	f.sendAsync(map[string]any{"type": "call_ended", "call_id": id, "ticket_id": "T-" + id})
	f.sendAsync(map[string]any{"type": "agent_state", "state": "wrapup"})
}

// snapshot is window.contactd without its function.
type snapshot struct {
	LoggedIn    bool    `json:"loggedIn"`
	State       string  `json:"state"`
	Offer       *offer  `json:"offer"`
	CallID      *string `json:"callId"`
	InCall      bool    `json:"inCall"`
	PCState     string  `json:"pcState"`
	Transcript  []struct{ Speaker, Text string }
	LastError   string `json:"lastError"`
	WSConnected bool   `json:"wsConnected"`
	TicketID    string `json:"ticketId"`
}

type offer struct {
	CallID string `json:"call_id"`
	From   string `json:"from"`
	Intent string `json:"intent"`
	Queue  string `json:"queue"`
}

type stats struct {
	InboundAudioEnergy float64 `json:"inboundAudioEnergy"`
	InboundPackets     int     `json:"inboundPackets"`
	OutboundPackets    int     `json:"outboundPackets"`
}

// TestAgentPage drives the softphone through a whole shift against the
// fake API: a bad and a good sign-in, going available, an answered call with
// live transcript and two-way audio, a rejected offer, a withdrawn offer, a
// call that the caller ends, a dropped events socket and a reload.
func TestAgentPage(t *testing.T) {
	wav := filepath.Join(t.TempDir(), "mic.wav")
	if err := webtest.WriteToneWAV(wav, 440, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	srv, f := newFakeAPI(t)
	b, err := webtest.Start(t.Context(), webtest.Options{FakeAudioWAV: wav})
	if errors.Is(err, webtest.ErrNoChromium) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", strings.Join(b.Console(), "\n"))
		}
		b.Close()
	})

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	wait := func(cond string) {
		t.Helper()
		if err := b.WaitJS(t.Context(), cond, 10*time.Second); err != nil {
			var s snapshot
			_ = b.Eval(`window.contactd`, &s)
			t.Fatalf("%v\nwindow.contactd = %+v", err, s)
		}
	}
	text := func(id string) string {
		t.Helper()
		var s string
		must(b.Eval(`document.getElementById("`+id+`").textContent`, &s))
		return s
	}
	visible := func(id string) bool {
		t.Helper()
		var v bool
		must(b.Eval(`!document.getElementById("`+id+`").closest("[hidden]")`, &v))
		return v
	}

	must(b.Navigate(srv.URL + "/agent"))

	t.Run("bad password shows an error", func(t *testing.T) {
		must(b.SetValue("#username", fakeUser))
		must(b.SetValue("#password", "wrong"))
		must(b.Click("#login"))
		wait(`window.contactd.lastError !== ""`)
		if got := text("error"); !strings.Contains(got, "invalid username or password") {
			t.Fatalf("error line = %q", got)
		}
		if visible("desk") {
			t.Fatal("desk shown after a failed sign-in")
		}
	})

	t.Run("sign in and go available", func(t *testing.T) {
		must(b.SetValue("#password", fakePass))
		must(b.Click("#login"))
		wait(`window.contactd.loggedIn && window.contactd.wsConnected`)
		var tok string
		must(b.Eval(`sessionStorage.getItem("contactd.token")`, &tok))
		if tok != fakeToken {
			t.Fatalf("stored token %q", tok)
		}
		must(b.Click("#go-available"))
		wait(`window.contactd.state === "available"`)
		if got := text("state"); got != "available" {
			t.Fatalf("state label %q", got)
		}
		f.mu.Lock()
		states := strings.Join(f.states, ",")
		f.mu.Unlock()
		if states != "available" {
			t.Fatalf("server saw states %q", states)
		}
	})

	t.Run("answer a call", func(t *testing.T) {
		f.send(map[string]any{"type": "agent_state", "state": "ringing"})
		f.send(map[string]any{"type": "offer", "call_id": "c1", "from": "+15551234567", "intent": "order_status", "queue": "support", "timeout_ms": 20000})
		wait(`window.contactd.offer && window.contactd.offer.call_id === "c1" && window.contactd.state === "ringing"`)
		if got := text("offer-from"); got != "+15551234567" {
			t.Fatalf("offer-from %q", got)
		}
		if got := text("offer-intent"); got != "order status" {
			t.Fatalf("offer-intent %q", got)
		}
		if !visible("offer-panel") || visible("call-panel") {
			t.Fatal("offer panel not shown alone")
		}
		must(b.Click("#answer"))
		wait(`window.contactd.inCall && window.contactd.pcState === "connected" && window.contactd.state === "busy"`)
		if !visible("call-panel") || visible("offer-panel") {
			t.Fatal("call panel not shown alone")
		}

		f.send(map[string]any{"type": "transcript", "call_id": "c1", "speaker": "caller", "text": "where is my order", "start_ms": 1200, "end_ms": 2400})
		f.send(map[string]any{"type": "transcript", "call_id": "c1", "speaker": "agent", "text": "let me check", "start_ms": 2600, "end_ms": 3400})
		f.send(map[string]any{"type": "transcript", "call_id": "other", "speaker": "caller", "text": "not mine", "start_ms": 0, "end_ms": 1})
		wait(`window.contactd.transcript.length === 2`)
		if got := text("transcript"); !strings.Contains(got, "where is my order") || !strings.Contains(got, "let me check") || strings.Contains(got, "not mine") {
			t.Fatalf("transcript list %q", got)
		}

		// The page hears its own tone, echoed by the fake's pion peer.
		wait(`(window.contactd.stats().then(s => window.lastStats = s), window.lastStats && window.lastStats.inboundAudioEnergy > 0.01)`)
		var st stats
		must(b.Eval(`window.contactd.stats()`, &st))
		if st.InboundPackets == 0 || st.OutboundPackets == 0 || f.rtpIn.Load() == 0 {
			t.Fatalf("stats %+v, server got %d packets", st, f.rtpIn.Load())
		}

		t.Logf("in call: %+v, server got %d packets", st, f.rtpIn.Load())
		if dir := os.Getenv("WEBTEST_SHOTS"); dir != "" {
			png, err := b.Screenshot()
			must(err)
			must(os.WriteFile(filepath.Join(dir, "agent-in-call.png"), png, 0o644))
		}
		must(b.Click("#hangup"))
		wait(`!window.contactd.inCall && window.contactd.callId === null && window.contactd.state === "wrapup" && window.contactd.ticketId === "T-c1"`)
		f.mu.Lock()
		hung := strings.Join(f.hungUp, ",")
		f.mu.Unlock()
		if hung != "c1" {
			t.Fatalf("server hang-ups %q", hung)
		}
		if visible("call-panel") {
			t.Fatal("call panel still shown")
		}
		var s snapshot
		must(b.Eval(`window.contactd`, &s))
		if s.PCState != "closed" || len(s.Transcript) != 2 {
			t.Fatalf("after hang-up: %+v", s)
		}
	})

	t.Run("reject an offer", func(t *testing.T) {
		must(b.Click("#go-available"))
		wait(`window.contactd.state === "available"`)
		f.send(map[string]any{"type": "offer", "call_id": "c2", "from": "+15550000002", "intent": "", "queue": "sales", "timeout_ms": 20000})
		wait(`window.contactd.offer && window.contactd.offer.call_id === "c2"`)
		if got := text("offer-intent"); got != "not recognised" {
			t.Fatalf("offer-intent %q", got)
		}
		must(b.Click("#reject"))
		wait(`window.contactd.offer === null`)
		deadline := time.Now().Add(5 * time.Second)
		for {
			f.mu.Lock()
			rej := strings.Join(f.rejected, ",")
			f.mu.Unlock()
			if rej == "c2" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("server rejects %q", rej)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("withdrawn offer", func(t *testing.T) {
		f.send(map[string]any{"type": "offer", "call_id": "c3", "from": "+15550000003", "intent": "billing", "queue": "billing", "timeout_ms": 20000})
		wait(`window.contactd.offer && window.contactd.offer.call_id === "c3"`)
		f.send(map[string]any{"type": "offer_revoked", "call_id": "other"})
		f.send(map[string]any{"type": "offer_revoked", "call_id": "c3"})
		wait(`window.contactd.offer === null`)
		if visible("offer-panel") {
			t.Fatal("offer panel still shown")
		}
	})

	t.Run("caller hangs up", func(t *testing.T) {
		f.send(map[string]any{"type": "offer", "call_id": "c4", "from": "+15550000004", "intent": "billing", "queue": "billing", "timeout_ms": 20000})
		wait(`window.contactd.offer && window.contactd.offer.call_id === "c4"`)
		must(b.Click("#answer"))
		wait(`window.contactd.inCall && window.contactd.callId === "c4"`)
		var n int
		must(b.Eval(`window.contactd.transcript.length`, &n))
		if n != 0 {
			t.Fatalf("transcript of the last call kept: %d lines", n)
		}
		f.send(map[string]any{"type": "call_ended", "call_id": "c4", "ticket_id": "T-9"})
		wait(`!window.contactd.inCall && window.contactd.ticketId === "T-9" && window.contactd.pcState === "closed"`)
		if got := text("notice"); !strings.Contains(got, "T-9") {
			t.Fatalf("notice %q", got)
		}
	})

	t.Run("events socket reconnects", func(t *testing.T) {
		f.mu.Lock()
		before, ws := f.wsConns, f.ws
		f.mu.Unlock()
		_ = ws.Close(websocket.StatusGoingAway, "restart")
		wait(`!window.contactd.wsConnected`)
		wait(`window.contactd.wsConnected`)
		f.mu.Lock()
		after := f.wsConns
		f.mu.Unlock()
		if after != before+1 {
			t.Fatalf("connections %d -> %d", before, after)
		}
		f.send(map[string]any{"type": "agent_state", "state": "break"})
		wait(`window.contactd.state === "break"`)
	})

	t.Run("reload keeps the session", func(t *testing.T) {
		must(b.Navigate(srv.URL + "/agent"))
		wait(`window.contactd.loggedIn && window.contactd.wsConnected`)
		if visible("login-panel") {
			t.Fatal("login form shown after reload")
		}
	})

	t.Run("no exceptions", func(t *testing.T) {
		for _, line := range b.Console() {
			if strings.HasPrefix(line, "exception") {
				t.Errorf("console: %s", line)
			}
		}
	})
}

// TestLandingPage checks that the landing page links to the softphone.
func TestLandingPage(t *testing.T) {
	srv, _ := newFakeAPI(t)
	b, err := webtest.Start(t.Context(), webtest.Options{})
	if errors.Is(err, webtest.ErrNoChromium) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Navigate(srv.URL + "/"); err != nil {
		t.Fatal(err)
	}
	if err := b.Click(`a[href="/agent"]`); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitJS(t.Context(), `location.pathname === "/agent" && !!document.getElementById("login")`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}
