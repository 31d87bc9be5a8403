package cluster

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/sip"
)

// tcpProxy passes TCP connections to target until cut: then it closes
// every connection it carries and refuses new ones, as a broken link to
// the database would. freeze is a partition instead: the connections stay
// open but what is sent is lost, both ways, and new ones get nowhere.
// restore listens again on the same address.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	frozen atomic.Bool

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if p.frozen.Load() { // the SYN got through, nothing else will
				p.mu.Lock()
				p.conns[c] = true
				p.mu.Unlock()
				go func() { _, _ = io.Copy(io.Discard, c) }()
				continue
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			if p.ln != ln { // cut meanwhile
				p.mu.Unlock()
				c.Close()
				up.Close()
				return
			}
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go p.pipe(up, c)
			go p.pipe(c, up)
		}
	}()
}

// pipe copies src to dst, dropping what it reads while frozen.
func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// freeze starts a partition: nothing passes, nothing is closed.
func (p *tcpProxy) freeze() { p.frozen.Store(true) }

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *tcpProxy) restore() {
	p.t.Helper()
	p.cut() // the connections a partition broke are gone
	p.frozen.Store(false)
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// via returns db with its host replaced by the proxy's address.
func (p *tcpProxy) via(db string) string {
	u, _ := url.Parse(db)
	u.Host = p.addr
	return u.String()
}

// startNodeCfg joins node id to the cluster on db with cfg (its timing),
// runs its ACD with an agent simulator, the agents present on it, and
// stops it cleanly at the test's end.
func startNodeCfg(t *testing.T, db, id string, cfg Config, agents ...string) *tnode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg.NodeID, cfg.URL, cfg.Log = id, "http://127.0.0.1:1", quiet
	n, err := Join(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	acd, err := NewACD(n, ACDOptions{Engine: engine, OfferTimeout: 2 * time.Second, Tick: 100 * time.Millisecond, Resync: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sim := &agentSim{t: t, node: id, here: map[string]bool{}, acd: acd, talk: 30 * time.Millisecond,
		offers: map[string][]string{}, accepted: map[string][]string{}, live: map[string]string{}}
	for _, a := range agents {
		sim.here[a] = true
	}
	acd.SetNotifier(sim, nil)
	rctx, rcancel := context.WithCancel(context.Background())
	tn := &tnode{node: n, acd: acd, sim: sim, cancel: rcancel, done: make(chan struct{})}
	go func() { defer close(tn.done); acd.Run(rctx) }()
	t.Cleanup(tn.stop)
	return tn
}

// sipProbe sends OPTIONS to addr over UDP and returns the status code.
func sipProbe(t *testing.T, cli *sipgo.Client, addr string) int {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	pn, _ := strconv.Atoi(port)
	req := sipmsg.NewRequest(sipmsg.OPTIONS, sipmsg.Uri{Scheme: "sip", Host: host, Port: pn})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := cli.Do(ctx, req)
	if err != nil {
		t.Fatalf("OPTIONS: %v", err)
	}
	return res.StatusCode
}

type silence struct{}

func (silence) ServeCall(ctx context.Context, c *sip.InboundCall) { <-ctx.Done() }

// TestCutOffNodeFencesItself: node a, the dispatcher, reaches Postgres
// through a TCP proxy; its SIP server asks a.Fence before each call and
// OPTIONS, as serve wires it. The proxy is cut (a's database is gone, a
// is not dead): within its lease a fences itself (OPTIONS 503, a new
// INVITE 503) and stops dispatching; b takes over. The link comes back
// before the others declare a dead: a serves again and b stays the
// dispatcher. Cut again for longer than dead-after: b declares a dead,
// and a stays fenced after the link returns.
func TestCutOffNodeFencesItself(t *testing.T) {
	db := freshDB(t)
	u, _ := url.Parse(db)
	proxy := startProxy(t, u.Host)
	timing := Config{Heartbeat: 100 * time.Millisecond, DeadAfter: 4 * time.Second, Lease: time.Second}
	a := startNodeCfg(t, proxy.via(db), "a", timing)
	waitFor(t, "a dispatches", 5*time.Second, a.acd.Dispatching)
	b := startNodeCfg(t, db, "b", timing)

	srv, err := sip.NewServer(sip.Config{Addr: "127.0.0.1:0", Logger: quiet, Unavailable: a.node.Fence}, silence{})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stopSIP := context.WithCancel(context.Background())
	sipDone := make(chan error, 1)
	go func() { sipDone <- srv.Run(sctx) }()
	defer func() { stopSIP(); <-sipDone }()
	<-srv.Ready()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("front-probe"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	cli, err := sipgo.NewClient(ua)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a holds its lease", 5*time.Second, func() bool { return a.node.Fence() == "" })
	if code := sipProbe(t, cli, srv.Addr()); code != 200 {
		t.Fatalf("OPTIONS to a healthy node: %d", code)
	}

	cut := time.Now()
	proxy.cut()
	waitFor(t, "a fences itself", 5*time.Second, func() bool { return a.node.Fence() != "" })
	fencedAfter := time.Since(cut)
	if !strings.Contains(a.node.Fence(), "lease") {
		t.Errorf("fence reason %q", a.node.Fence())
	}
	waitFor(t, "a stops dispatching", 3*time.Second, func() bool { return !a.acd.Dispatching() })
	waitFor(t, "b takes over", 5*time.Second, b.acd.Dispatching)
	if code := sipProbe(t, cli, srv.Addr()); code != 503 {
		t.Errorf("OPTIONS to a fenced node: %d, want 503", code)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	c, err := sip.Dial(dctx, sip.DialConfig{Target: "sip:support@" + srv.Addr(), Transport: "udp", From: "100", Logger: quiet})
	dcancel()
	if err == nil {
		c.Hangup(context.Background())
		t.Fatal("a fenced node took a call")
	}
	var rej *sip.StatusError
	if !errors.As(err, &rej) || rej.Code != 503 {
		t.Errorf("INVITE to a fenced node: %v, want 503", err)
	}
	t.Logf("fenced %s after the cut (lease %s); b dispatches", fencedAfter.Round(10*time.Millisecond), timing.Lease)

	// The link is back before dead-after: a serves again, not as the
	// dispatcher (b holds the lock), and is still up for the others.
	proxy.restore()
	waitFor(t, "a's lease renewed", 5*time.Second, func() bool { return a.node.Fence() == "" })
	if code := sipProbe(t, cli, srv.Addr()); code != 200 {
		t.Errorf("OPTIONS after the lease came back: %d, want 200", code)
	}
	if a.acd.Dispatching() || !b.acd.Dispatching() {
		t.Errorf("after recovery: a dispatching %v, b dispatching %v; want b only", a.acd.Dispatching(), b.acd.Dispatching())
	}
	if s := nodeStatus(t, db, "a"); s != "up" {
		t.Fatalf("a is %q after a short cut, want up", s)
	}

	// Cut for longer than dead-after: b declares a dead; a stays fenced.
	proxy.cut()
	waitFor(t, "b declares a dead", 10*time.Second, func() bool { return nodeStatus(t, db, "a") == "dead" })
	proxy.restore()
	waitFor(t, "a learns it was declared dead", 5*time.Second, func() bool { return strings.Contains(a.node.Fence(), "declared") })
	time.Sleep(300 * time.Millisecond) // several heartbeats get through
	if why := a.node.Fence(); why == "" || a.acd.Dispatching() {
		t.Errorf("a declared dead: fence %q, dispatching %v; want fenced, not dispatching", why, a.acd.Dispatching())
	}
	if code := sipProbe(t, cli, srv.Addr()); code != 503 {
		t.Errorf("OPTIONS to a node declared dead: %d, want 503", code)
	}
}

func nodeStatus(t *testing.T, db, id string) string {
	t.Helper()
	s, ok := dbValue[string](t, db, `SELECT status FROM nodes WHERE id = $1`, id)
	if !ok {
		t.Fatalf("no node %s", id)
	}
	return s
}

// TestPartitionedDispatcherReplaced: the dispatcher's link to Postgres is
// partitioned (packets lost, no connection closed), so Postgres keeps its
// session, and with it the dispatcher's lock. The node fences itself
// within its lease; once its heartbeat is older than dead-after, another
// node ends that stale session, becomes the dispatcher and declares the
// partitioned node dead. A call queued on the survivor is then answered.
func TestPartitionedDispatcherReplaced(t *testing.T) {
	db := freshDB(t)
	u, _ := url.Parse(db)
	proxy := startProxy(t, u.Host)
	timing := Config{Heartbeat: 100 * time.Millisecond, DeadAfter: 3 * time.Second, Lease: time.Second}
	a := startNodeCfg(t, proxy.via(db), "a", timing)
	waitFor(t, "a dispatches", 5*time.Second, a.acd.Dispatching)
	b := startNodeCfg(t, db, "b", timing)
	t.Cleanup(proxy.restore) // before the nodes stop: a leaves without waiting on lost packets
	b.sim.here["ann"] = true
	b.acd.SetAgent("ann", map[string]int{"support": 5}, 1)

	part := time.Now()
	proxy.freeze()
	waitFor(t, "a fences itself", 5*time.Second, func() bool { return a.node.Fence() != "" })
	waitFor(t, "a stops dispatching", 5*time.Second, func() bool { return !a.acd.Dispatching() })
	waitFor(t, "b becomes the dispatcher", 15*time.Second, b.acd.Dispatching)
	took := time.Since(part)
	if took < timing.DeadAfter {
		t.Errorf("b dispatched %s after the partition, before a's heartbeat was %s old", took, timing.DeadAfter)
	}
	waitFor(t, "b declares a dead", 5*time.Second, func() bool { return nodeStatus(t, db, "a") == "dead" })
	t.Logf("partition: b dispatches after %s (dead-after %s)", took.Round(10*time.Millisecond), timing.DeadAfter)
	if err := b.acd.Enqueue(routing.Contact{CallID: "after-partition", Queue: "support"}); err != nil {
		t.Fatal(err)
	}
	if err := b.acd.SetState("ann", routing.Available, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the call answered", 10*time.Second, func() bool {
		b.sim.mu.Lock()
		defer b.sim.mu.Unlock()
		return len(b.sim.accepted["after-partition"]) == 1
	})
}

func nodeStarted(t *testing.T, db, id string) time.Time {
	t.Helper()
	at, ok := dbValue[time.Time](t, db, `SELECT started_at FROM nodes WHERE id = $1`, id)
	if !ok {
		t.Fatalf("no node %s", id)
	}
	return at
}

// TestDeclaredDeadNodeRejoinsWhenIdle: node a is cut off for longer than
// dead-after, and b declares it dead. When the link is back a stays
// fenced while it still has calls in progress (their records were ended
// as node lost, their agents released); once it has none it rejoins under
// a new epoch without a restart, serves and keeps its heartbeat. Cut off
// and declared dead again, then restarted elsewhere under the same id
// (a new process joins as "a"): the old process never takes the row back,
// even idle, and stays fenced.
func TestDeclaredDeadNodeRejoinsWhenIdle(t *testing.T) {
	db := freshDB(t)
	u, _ := url.Parse(db)
	proxy := startProxy(t, u.Host)
	timing := Config{Heartbeat: 100 * time.Millisecond, DeadAfter: 1500 * time.Millisecond, Lease: 700 * time.Millisecond}
	a := startNodeCfg(t, proxy.via(db), "a", timing)
	b := startNodeCfg(t, db, "b", timing)
	var idle atomic.Bool // a has a call in progress
	a.node.RejoinWhenIdle(idle.Load)
	first := nodeStarted(t, db, "a")

	proxy.cut()
	waitFor(t, "b declares a dead", 10*time.Second, func() bool { return nodeStatus(t, db, "a") == "dead" })
	proxy.restore()
	waitFor(t, "a learns it was declared dead", 5*time.Second, func() bool { return strings.Contains(a.node.Fence(), "declared") })
	time.Sleep(500 * time.Millisecond) // heartbeats get through; a is busy
	if why := a.node.Fence(); why == "" || nodeStatus(t, db, "a") != "dead" {
		t.Fatalf("a declared dead, with a call in progress: fence %q, status %q; want fenced and dead", why, nodeStatus(t, db, "a"))
	}

	idle.Store(true) // its last call ended
	waitFor(t, "a rejoins", 5*time.Second, func() bool { return a.node.Fence() == "" })
	if s := nodeStatus(t, db, "a"); s != "up" {
		t.Fatalf("a rejoined as %q, want up", s)
	}
	second := nodeStarted(t, db, "a")
	if !second.After(first) {
		t.Errorf("a rejoined with epoch %v, want one after %v", second, first)
	}
	time.Sleep(2 * timing.DeadAfter) // its heartbeats renew the new epoch's row
	if s, why := nodeStatus(t, db, "a"), a.node.Fence(); s != "up" || why != "" {
		t.Fatalf("after rejoining: status %q, fence %q; want up and serving", s, why)
	}
	waitFor(t, "someone dispatches", 5*time.Second, func() bool { return a.acd.Dispatching() || b.acd.Dispatching() })

	// Declared dead again, and a new process joins as "a" meanwhile.
	proxy.cut()
	waitFor(t, "b declares a dead again", 10*time.Second, func() bool { return nodeStatus(t, db, "a") == "dead" })
	a2 := startNodeCfg(t, db, "a", timing)
	third := nodeStarted(t, db, "a")
	proxy.restore()
	waitFor(t, "the old a sees it was replaced", 5*time.Second, func() bool { return strings.Contains(a.node.Fence(), "another process") })
	time.Sleep(500 * time.Millisecond)
	if got := nodeStarted(t, db, "a"); !got.Equal(third) || nodeStatus(t, db, "a") != "up" || a2.node.Fence() != "" {
		t.Errorf("after the old process came back idle: row started %v (new process %v), status %q, new process fence %q",
			got, third, nodeStatus(t, db, "a"), a2.node.Fence())
	}
	if a.node.Fence() == "" {
		t.Error("the replaced process serves")
	}
}
