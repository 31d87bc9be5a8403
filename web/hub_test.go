package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/routing"
)

// eventClient is one events WebSocket of a test.
type eventClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func (f *apiFixture) events(t *testing.T, ctx context.Context, tok, query string) *eventClient {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"/api/v1/events?token="+tok+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &eventClient{t, ws}
}

func (c *eventClient) next(ctx context.Context) map[string]any {
	c.t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, b, err := c.ws.Read(rctx)
	if err != nil {
		c.t.Fatalf("read event: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatal(err)
	}
	return m
}

// seqOf is an event's seq (0 when it has none: a snapshot).
func seqOf(m map[string]any) uint64 {
	n, _ := m["seq"].(float64)
	return uint64(n)
}

// closeAndWait closes c and waits until the hub has let go of it.
func (f *apiFixture) closeAndWait(t *testing.T, c *eventClient, user string) {
	t.Helper()
	h := f.hub()
	h.mu.Lock()
	n := len(h.conns[user])
	h.mu.Unlock()
	c.ws.Close(websocket.StatusNormalClosure, "")
	waitFor(t, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.conns[user]) < n
	})
}

func (f *apiFixture) users(t *testing.T, us ...[2]string) map[string]string {
	t.Helper()
	toks := map[string]string{}
	for _, u := range us {
		if st := f.do(t, f.admin, "POST", "/api/v1/users", map[string]string{"username": u[0], "password": u[0] + "-password", "role": u[1]}, nil); st != 201 {
			t.Fatalf("create %s: %d", u[0], st)
		}
		toks[u[0]] = f.login(t, u[0], u[0]+"-password")
	}
	return toks
}

// TestEventsResume: an agent's and a supervisor's sockets drop; events
// happen meanwhile; both reconnect with ?since= and get exactly what they
// missed, in order, before live events, with no snapshot in between.
func TestEventsResume(t *testing.T) {
	f := newAPI(t)
	toks := f.users(t, [2]string{"frank", "agent"}, [2]string{"sue", "supervisor"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h := f.hub()

	frank := f.events(t, ctx, toks["frank"], "")
	hello := frank.next(ctx)
	if hello["type"] != "hello" || hello["resumed"] != false || hello["epoch"] != h.epoch {
		t.Fatalf("first message %v", hello)
	}
	if m := frank.next(ctx); m["type"] != "agent_state" || seqOf(m) != 0 {
		t.Fatalf("snapshot %v, want frank's state without a seq", m)
	}
	sue := f.events(t, ctx, toks["sue"], "")
	if m := sue.next(ctx); m["type"] != "hello" {
		t.Fatalf("sue's first message %v", m)
	}
	h.AgentState("frank", routing.Available)
	m := frank.next(ctx)
	if m["type"] != "agent_state" || m["state"] != "available" || seqOf(m) <= uint64(hello["last"].(float64)) || seqOf(hello) != 0 {
		t.Fatalf("live event %v after hello %v", m, hello)
	}
	frankLast := seqOf(m)
	m = sue.next(ctx)
	if m["agent"] != "frank" || seqOf(m) != frankLast {
		t.Fatalf("sue got %v, want frank's state with the same seq %d", m, frankLast)
	}
	sueLast := seqOf(m)

	f.closeAndWait(t, frank, "frank")
	f.closeAndWait(t, sue, "sue")
	// While they are away.
	h.AgentState("frank", routing.Ringing)
	h.Offer(routing.Offer{Contact: routing.Contact{CallID: "call-1", Queue: "billing", From: "+15550100"}, Agent: "frank", Timeout: 20 * time.Second})
	h.Publish("erin", call.Event{Type: "transcript", CallID: "call-2", Speaker: "caller", Text: "this is ridiculous"})
	h.Watch("erin", call.Event{Type: "monitor", CallID: "call-2", Peer: "sue", Mode: "listen"})
	h.OfferRevoked("frank", "call-1")

	frank = f.events(t, ctx, toks["frank"], fmt.Sprintf("&since=%d&epoch=%s", frankLast, h.epoch))
	hello = frank.next(ctx)
	if hello["type"] != "hello" || hello["resumed"] != true || hello["replayed"] != 3.0 {
		t.Fatalf("resume answer %v, want resumed with 3 replayed", hello)
	}
	var got []string
	prev := frankLast
	for range 3 {
		m := frank.next(ctx)
		if seqOf(m) <= prev {
			t.Fatalf("replayed %v after seq %d: out of order", m, prev)
		}
		prev = seqOf(m)
		got = append(got, fmt.Sprint(m["type"], ":", m["state"], m["call_id"]))
	}
	if want := []string{"agent_state:ringing<nil>", "offer:<nil>call-1", "offer_revoked:<nil>call-1"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("frank's replay %v, want %v", got, want)
	}
	h.AgentState("frank", routing.Available)
	if m := frank.next(ctx); m["state"] != "available" || seqOf(m) <= prev {
		t.Fatalf("live after replay %v", m)
	}

	sue = f.events(t, ctx, toks["sue"], fmt.Sprintf("&since=%d&epoch=%s", sueLast, h.epoch))
	if m := sue.next(ctx); m["resumed"] != true || m["replayed"] != 4.0 {
		t.Fatalf("sue's resume %v", m)
	}
	got = nil
	for range 4 {
		m := sue.next(ctx)
		got = append(got, fmt.Sprint(m["type"], ":", m["agent"], ":", m["state"]))
	}
	// The offers are frank's alone; sue sees his states, erin's transcript
	// and the monitor event.
	if want := []string{"agent_state:frank:ringing", "transcript:erin:<nil>", "monitor:erin:<nil>", "agent_state:frank:available"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sue's replay %v, want %v", got, want)
	}
	h.Publish("erin", call.Event{Type: "call_ended", CallID: "call-2"})
	if m := sue.next(ctx); m["agent"] != "erin" || m["type"] != "call_ended" {
		t.Fatalf("sue live after replay %v", m)
	}
}

// TestEventsResync: when the rings no longer reach back to the client's
// position — evicted, expired, another server process, a garbled
// position — the client is told to resync and gets the snapshot.
func TestEventsResync(t *testing.T) {
	f := newAPI(t)
	toks := f.users(t, [2]string{"frank", "agent"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h := f.hub()
	var clock struct {
		sync.Mutex
		t time.Time
	}
	clock.t = time.Now()
	h.mu.Lock()
	h.userRing = 4
	h.now = func() time.Time { clock.Lock(); defer clock.Unlock(); return clock.t }
	h.mu.Unlock()
	advance := func(d time.Duration) { clock.Lock(); clock.t = clock.t.Add(d); clock.Unlock() }

	fr := f.events(t, ctx, toks["frank"], "")
	last := uint64(fr.next(ctx)["last"].(float64))
	fr.next(ctx) // snapshot
	f.closeAndWait(t, fr, "frank")

	resync := func(what, query, why string) {
		t.Helper()
		c := f.events(t, ctx, toks["frank"], query)
		m := c.next(ctx)
		if m["type"] != "resync" || m["reason"] != why {
			t.Fatalf("%s: %v, want resync (%s)", what, m, why)
		}
		if m := c.next(ctx); m["type"] != "agent_state" || seqOf(m) != 0 {
			t.Fatalf("%s: after resync %v, want the snapshot", what, m)
		}
		last = uint64(m["last"].(float64))
		f.closeAndWait(t, c, "frank")
	}
	resume := func(what string, since uint64, n int) {
		t.Helper()
		c := f.events(t, ctx, toks["frank"], fmt.Sprintf("&since=%d&epoch=%s", since, h.epoch))
		if m := c.next(ctx); m["type"] != "hello" || m["resumed"] != true || m["replayed"] != float64(n) {
			t.Fatalf("%s: %v, want %d replayed", what, m, n)
		}
		for range n {
			c.next(ctx)
		}
		f.closeAndWait(t, c, "frank")
	}

	// Four missed events fit the ring of four; five do not.
	for range 4 {
		h.AgentState("frank", routing.Available)
	}
	resume("four missed", last, 4)
	h.AgentState("frank", routing.Break)
	resync("five missed", fmt.Sprintf("&since=%d&epoch=%s", last, h.epoch), "too far behind")
	// Expired: an event is kept ringKeep at most (frank's other tab keeps
	// his ring).
	tab := f.events(t, ctx, toks["frank"], "")
	if m := tab.next(ctx); m["type"] != "hello" { // registered before the event below
		t.Fatalf("frank's other tab: %v, want hello", m)
	}
	since := h.Seq()
	h.AgentState("frank", routing.Available)
	advance(h.ringKeep + time.Second)
	resync("expired", fmt.Sprintf("&since=%d&epoch=%s", since, h.epoch), "too far behind")
	f.closeAndWait(t, tab, "frank")
	resync("another process", fmt.Sprintf("&since=%d&epoch=0123456789ab", h.Seq()), "the server restarted")
	resync("from the future", fmt.Sprintf("&since=%d&epoch=%s", h.Seq()+5, h.epoch), "unknown position")
	resync("garbled", "&since=abc&epoch="+h.epoch, "the server restarted")
	// A user gone longer than ringKeep loses the ring: events after that
	// are not kept for them.
	since = h.Seq()
	advance(h.ringKeep + sweepEvery + time.Second)
	h.AgentState("frank", routing.Available) // sweeps
	resync("ring swept", fmt.Sprintf("&since=%d&epoch=%s", since, h.epoch), "no events kept for you")
	// Nothing missed: an empty replay.
	resume("nothing missed", h.Seq(), 0)
}

// TestEventsOverflow: a connection that cannot keep up is cut (its client
// resumes from what it saw), never skipped over silently; the others go on.
func TestEventsOverflow(t *testing.T) {
	h := NewHub(nil)
	slow := &conn{send: make(chan []byte, 2), overflow: make(chan struct{})}
	fast := &conn{send: make(chan []byte, 16), overflow: make(chan struct{})}
	h.add("frank", "agent", slow, resume{})
	h.add("frank", "agent", fast, resume{})
	for range 3 {
		h.AgentState("frank", routing.Available)
	}
	select {
	case <-slow.overflow:
	default:
		t.Fatal("the full connection was not cut")
	}
	select {
	case <-fast.overflow:
		t.Fatal("the connection with room was cut")
	default:
	}
	if len(slow.send) != 2 || len(fast.send) != 3 {
		t.Fatalf("queued %d and %d, want 2 and 3", len(slow.send), len(fast.send))
	}
	// The cut client resumes after the last it got.
	var m map[string]any
	<-slow.send
	_ = json.Unmarshal(<-slow.send, &m)
	h.remove("frank", slow)
	j := h.add("frank", "agent", &conn{send: make(chan []byte, 4), overflow: make(chan struct{})},
		resume{ok: true, epoch: h.epoch, since: seqOf(m)})
	if !j.resumed || len(j.replay) != 1 || j.replay[0].seq != h.Seq() {
		t.Fatalf("resume after the cut: %+v", j)
	}
}

func TestWithSeq(t *testing.T) {
	for in, want := range map[string]string{
		`{"type":"x"}`: `{"seq":42,"type":"x"}`,
		`{}`:           `{"seq":42}`,
	} {
		if got := string(withSeq([]byte(in), 42)); got != want {
			t.Errorf("withSeq(%s) = %s, want %s", in, got, want)
		}
	}
}
