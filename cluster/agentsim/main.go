// Command agentsim plays softphone agents against a contactd cluster, the
// way the browser page does: log in on a node, go available, follow the
// events WebSocket, answer each offer with a WebRTC SDP offer (pion, the
// same stack as Chromium's peer connection API), send audio, count the
// audio received from the node that owns the call, hang up after a talk
// time. When its node goes away it reconnects to the next node. It is the
// agents of deploy/cluster-test.sh; every loop is bounded by -duration.
//
// At the end it prints one JSON object: offers, answers, calls heard,
// calls answered twice, reconnects. (Whether a call was offered to two
// agents at once is read from the database's offer log: sockets on
// different nodes see events in no common order.)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
)

type stats struct {
	mu       sync.Mutex
	ringing  map[string]map[string]bool // call → agents whose offer stands
	answered map[string][]string
	Offers   int      `json:"offers"`
	Answers  int      `json:"answers"`
	Failed   int      `json:"answer_failures"`
	Heard    int      `json:"calls_with_audio_from_owner"`
	Silent   int      `json:"calls_without_audio"`
	Twice    []string `json:"answered_twice"`
	Reconn   int      `json:"reconnects"`
	// AfterReconnect counts answers by agents that had to change node.
	AfterReconnect int `json:"answers_after_reconnect"`
}

func (s *stats) offer(agent, call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Offers++
	r := s.ringing[call]
	if r == nil {
		r = map[string]bool{}
		s.ringing[call] = r
	}
	r[agent] = true
}

func (s *stats) settle(agent, call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ringing[call], agent)
}

func (s *stats) answer(agent, call string, moved bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Answers++
	if moved {
		s.AfterReconnect++
	}
	s.answered[call] = append(s.answered[call], agent)
	if len(s.answered[call]) == 2 {
		s.Twice = append(s.Twice, call)
	}
}

func (s *stats) add(f func()) {
	s.mu.Lock()
	f()
	s.mu.Unlock()
}

type agent struct {
	name, password string
	nodes          []string
	at             int
	token          string
	talk           time.Duration
	st             *stats
	moved          bool
	client         *http.Client
}

func main() {
	nodes := flag.String("nodes", "", "comma-separated node URLs")
	agents := flag.String("agents", "", "comma-separated user:password")
	talk := flag.Duration("talk", 3*time.Second, "talk time per call")
	dur := flag.Duration("duration", 2*time.Minute, "run this long, then go offline and report")
	flag.Parse()
	ns := strings.Split(*nodes, ",")
	if *nodes == "" || *agents == "" {
		log.Fatal("agentsim: -nodes and -agents are required")
	}
	sctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(sctx, *dur)
	defer cancel()
	st := &stats{ringing: map[string]map[string]bool{}, answered: map[string][]string{}}
	var wg sync.WaitGroup
	for i, spec := range strings.Split(*agents, ",") {
		name, pw, ok := strings.Cut(spec, ":")
		if !ok {
			log.Fatalf("agentsim: agent %q: want user:password", spec)
		}
		a := &agent{name: name, password: pw, nodes: ns, at: i % len(ns), talk: *talk, st: st,
			client: &http.Client{Timeout: 10 * time.Second}}
		wg.Add(1)
		go func() { defer wg.Done(); a.run(ctx) }()
	}
	wg.Wait()
	st.mu.Lock()
	defer st.mu.Unlock()
	b, _ := json.Marshal(st)
	fmt.Println(string(b))
}

func (a *agent) node() string { return a.nodes[a.at] }

// run keeps the agent logged in somewhere until ctx ends.
func (a *agent) run(ctx context.Context) {
	for ctx.Err() == nil {
		err := a.session(ctx)
		if ctx.Err() != nil {
			break
		}
		log.Printf("agentsim: %s lost %s (%v); moving to the next node", a.name, a.node(), err)
		a.at = (a.at + 1) % len(a.nodes)
		a.moved = true
		a.st.add(func() { a.st.Reconn++ })
		select {
		case <-ctx.Done():
		case <-time.After(300 * time.Millisecond):
		}
	}
	// Log off on whichever node answers.
	for range a.nodes {
		cctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := a.api(cctx, "POST", "/api/v1/agents/"+a.name+"/state", map[string]string{"state": "offline"}, nil)
		cancel()
		if err == nil {
			return
		}
		a.at = (a.at + 1) % len(a.nodes)
	}
}

func (a *agent) session(ctx context.Context) error {
	var login struct {
		Token string `json:"token"`
	}
	if err := a.api(ctx, "POST", "/api/v1/auth/login", map[string]string{"username": a.name, "password": a.password}, &login); err != nil {
		return err
	}
	a.token = login.Token
	u, _ := url.Parse(a.node())
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.Path = "/api/v1/events"
	u.RawQuery = "token=" + url.QueryEscape(a.token)
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	ws, _, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {a.node()}}})
	cancel()
	if err != nil {
		return err
	}
	defer ws.CloseNow()
	if err := a.api(ctx, "POST", "/api/v1/agents/"+a.name+"/state", map[string]string{"state": "available"}, nil); err != nil {
		return err
	}
	for {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			return err
		}
		var ev struct {
			Type   string `json:"type"`
			CallID string `json:"call_id"`
			State  string `json:"state"`
		}
		if json.Unmarshal(msg, &ev) != nil {
			continue
		}
		switch ev.Type {
		case "offer":
			a.st.offer(a.name, ev.CallID)
			a.answer(ctx, ev.CallID)
		case "offer_revoked":
			a.st.settle(a.name, ev.CallID)
		case "agent_state":
			if ev.State == "break" { // missed offers: come back
				_ = a.api(ctx, "POST", "/api/v1/agents/"+a.name+"/state", map[string]string{"state": "available"}, nil)
			}
		}
	}
}

// silence is one 20 ms Opus frame of silence.
var silence = []byte{0xf8, 0xff, 0xfe}

// answer takes the call: SDP offer to the node we are on (which passes it
// to the call's node), audio both ways for the talk time, then hang up.
func (a *agent) answer(ctx context.Context, callID string) {
	defer a.st.settle(a.name, callID)
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		log.Printf("agentsim: %v", err)
		return
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		log.Printf("agentsim: %v", err)
		return
	}
	defer pc.Close()
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "agentsim")
	if err != nil {
		return
	}
	if _, err := pc.AddTrack(track); err != nil {
		return
	}
	var got atomic.Int64
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			got.Add(1)
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
	}
	var ans struct {
		SDP string `json:"sdp"`
	}
	if err := a.api(ctx, "POST", "/api/v1/calls/"+callID+"/answer", map[string]string{"sdp": pc.LocalDescription().SDP}, &ans); err != nil {
		log.Printf("agentsim: %s answering %s via %s: %v", a.name, callID, a.node(), err)
		a.st.add(func() { a.st.Failed++ })
		return
	}
	a.st.answer(a.name, callID, a.moved)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
		log.Printf("agentsim: %s: bad SDP answer for %s: %v", a.name, callID, err)
	}
	end := time.Now().Add(a.talk)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(end) && ctx.Err() == nil {
		<-tick.C
		_ = track.WriteSample(pmedia.Sample{Data: silence, Duration: 20 * time.Millisecond})
	}
	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Our node may have died meanwhile: any node passes the hang-up on to
	// the call's node.
	for i := range a.nodes {
		err := a.apiAt(hctx, a.nodes[(a.at+i)%len(a.nodes)], "POST", "/api/v1/calls/"+callID+"/hangup", nil, nil)
		if err == nil {
			break
		}
		log.Printf("agentsim: %s hanging up %s: %v", a.name, callID, err)
	}
	a.st.add(func() {
		if got.Load() >= 10 {
			a.st.Heard++
		} else {
			a.st.Silent++
		}
	})
}

// api calls the current node's API; out may be nil.
func (a *agent) api(ctx context.Context, method, path string, in, out any) error {
	return a.apiAt(ctx, a.node(), method, path, in, out)
}

func (a *agent) apiAt(ctx context.Context, node, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, node+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return errors.New(resp.Status + ": " + strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func init() { log.SetOutput(os.Stderr) }
