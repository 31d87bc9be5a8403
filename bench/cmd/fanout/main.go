// Command fanout measures event fan-out: -clients WebSocket clients with
// the supervisor role (who get every agent's events) connect to one
// contactd, and a burst of -events agent state changes (POST
// /api/v1/agents/{name}/state, four agents in parallel) goes out to all
// of them. Beside it, in the same run, the same clients and the same burst
// against a peer: a minimal hub written here on coder/websocket (one
// buffered channel and one writer goroutine per connection, a lock and a
// loop to publish: contactd's hub without sequence numbers, replay rings
// or sessions), in its own process so that its CPU and memory are its own.
//
// The changes go as fast as the server takes them, or at -rate per second
// (a steady load: latency without the queueing of a burst that the clients,
// on the same machine, cannot read as fast as it is sent).
//
// For each it prints: delivery latency p50/p99/max from the state change's
// request to each client's receipt (contactd's includes the request: the
// router and the state log write; the peer's publish is a bare POST), the
// fan-out spread (each receipt after the first client's receipt of the same
// event), messages delivered, server CPU per 1,000 messages during the
// burst, and RSS before the clients, with them, and its peak. The last
// column is contactd ÷ peer. Everything is on 127.0.0.1.
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
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/contactd/contactd/bench/internal/procstat"
)

func main() {
	var (
		bin       = flag.String("contactd", "bin/contactd", "the contactd binary")
		cfg       = flag.String("config", "config/demo.yaml", "contactd's config (copied; ports and data dir are set here)")
		clients   = flag.Int("clients", 1000, "WebSocket clients (supervisor role)")
		events    = flag.Int("events", 200, "state changes in the burst")
		rate      = flag.Float64("rate", 0, "state changes per second (0: as fast as the server takes them)")
		rounds    = flag.Int("rounds", 2, "runs per server, alternating which goes first")
		timeout   = flag.Duration("timeout", 120*time.Second, "give up on a burst after this long")
		peerServe = flag.String("peer-serve", "", "internal: run the peer hub on this address")
	)
	flag.Parse()
	if *peerServe != "" {
		servePeer(*peerServe)
		return
	}
	log.SetFlags(0)
	log.SetPrefix("fanout: ")
	if *clients < 1 || *clients > 20000 || *events < 4 || *events > 100000 || *rounds < 1 || *rounds > 10 {
		log.Fatal("-clients must be 1-20000, -events 4-100000 and -rounds 1-10")
	}
	work, err := os.MkdirTemp("", "contactd-fanout-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)

	peer, err := startPeer(work)
	if err != nil {
		log.Fatal(err)
	}
	defer peer.stop()
	cd, err := startContactd(*bin, *cfg, work)
	if err != nil {
		log.Fatal(err)
	}
	defer cd.stop()

	// Rounds in the order peer, contactd, contactd, peer, ... so that
	// neither gains from going first or last on a machine whose load
	// drifts; each one's samples are pooled.
	total := map[string]*result{}
	order := []target{peer, cd}
	for round := range *rounds {
		for i := range order {
			t := order[i]
			if round%2 == 1 {
				t = order[len(order)-1-i]
			}
			log.Printf("round %d, %s: %d clients, %d events", round+1, t.name(), *clients, *events)
			r, err := run(t, *clients, *events, *rate, *timeout)
			if err != nil {
				log.Fatalf("%s: %v", t.name(), err)
			}
			if acc := total[t.name()]; acc == nil {
				total[t.name()] = &r
			} else {
				acc.add(r)
			}
		}
	}
	c, p := total[cd.name()], total[peer.name()]
	print(*c, *p, *clients, *events, *rate, *rounds)
	if c.delivered != c.want || p.delivered != p.want {
		os.Exit(1)
	}
}

// target is a server under test.
type target interface {
	name() string
	pid() int
	wsURL() string                                 // the events WebSocket
	change(agent string, k int) (time.Time, error) // one event; returns when it was asked
	agents() []string
	// match says which (agent, k) a received message is, or ok false.
	match(b []byte, counts map[string]int) (agent string, k int, ok bool)
	ready(b []byte) bool // the first message says the client is registered
}

type result struct {
	name                  string
	lat, spread           []time.Duration
	delivered, want       int
	cpu                   float64 // server CPU seconds during the bursts
	rssIdle, rssConn, hwm int64   // kB: before the first round's clients, with them, peak of all
	burst                 time.Duration
}

// add pools another round's figures into r.
func (r *result) add(o result) {
	r.lat = append(r.lat, o.lat...)
	r.spread = append(r.spread, o.spread...)
	r.delivered += o.delivered
	r.want += o.want
	r.cpu += o.cpu
	r.hwm = max(r.hwm, o.hwm)
	r.burst += o.burst
}

// cpuPerK is CPU ms per 1,000 messages delivered.
func (r result) cpuPerK() float64 {
	if r.delivered == 0 {
		return 0
	}
	return r.cpu * 1000 / float64(r.delivered) * 1000
}

func run(t target, nClients, nEvents int, rate float64, timeout time.Duration) (result, error) {
	res := result{name: t.name(), want: nClients * nEvents}
	pid := strconv.Itoa(t.pid())
	res.rssIdle, _ = procstat.Status(pid, "VmRSS")
	agents := t.agents()
	perAgent := nEvents / len(agents)
	res.want = nClients * perAgent * len(agents)
	type recv struct {
		agent string
		k     int
		at    time.Time
	}
	got := make([][]recv, nClients)
	conns := make([]*websocket.Conn, nClients)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Connect, 50 at a time, each reading until it has every event.
	var wg sync.WaitGroup
	ready := make(chan error, nClients)
	sem := make(chan struct{}, 50)
	for i := range nClients {
		sem <- struct{}{}
		c, _, err := websocket.Dial(ctx, t.wsURL(), nil)
		<-sem
		if err != nil {
			return res, fmt.Errorf("client %d: %w", i, err)
		}
		c.SetReadLimit(1 << 20)
		conns[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts := map[string]int{}
			first := true
			for len(got[i]) < perAgent*len(agents) {
				_, b, err := c.Read(ctx)
				if err != nil {
					if first {
						ready <- err
					}
					return
				}
				at := time.Now()
				if first {
					first = false
					if !t.ready(b) {
						ready <- fmt.Errorf("first message %s", b)
						return
					}
					ready <- nil
					continue
				}
				if a, k, ok := t.match(b, counts); ok {
					got[i] = append(got[i], recv{a, k, at})
				}
			}
		}()
	}
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.CloseNow()
			}
		}
	}()
	for range nClients {
		if err := <-ready; err != nil {
			return res, fmt.Errorf("a client: %w", err)
		}
	}
	time.Sleep(500 * time.Millisecond) // settle
	res.rssConn, _ = procstat.Status(pid, "VmRSS")
	cpu0, _ := procstat.CPU(pid)

	// The burst: each agent's changes in order, the agents in parallel.
	sent := map[string][]time.Time{}
	var mu sync.Mutex
	var errs []error
	start := time.Now()
	var sw sync.WaitGroup
	for ai, a := range agents {
		sw.Add(1)
		go func() {
			defer sw.Done()
			for k := range perAgent {
				if rate > 0 { // event k*len(agents)+ai is due at its slot
					due := start.Add(time.Duration(float64(k*len(agents)+ai) / rate * float64(time.Second)))
					time.Sleep(time.Until(due))
				}
				at, err := t.change(a, k)
				mu.Lock()
				sent[a] = append(sent[a], at)
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	sw.Wait()
	if len(errs) > 0 {
		return res, errs[0]
	}
	wg.Wait()
	res.burst = time.Since(start)
	cpu1, _ := procstat.CPU(pid)
	res.hwm, _ = procstat.Status(pid, "VmHWM")

	firstAt := map[[2]any]time.Time{}
	for _, rs := range got {
		res.delivered += len(rs)
		for _, r := range rs {
			key := [2]any{r.agent, r.k}
			if f, ok := firstAt[key]; !ok || r.at.Before(f) {
				firstAt[key] = r.at
			}
		}
	}
	for _, rs := range got {
		for _, r := range rs {
			if r.k < len(sent[r.agent]) {
				res.lat = append(res.lat, r.at.Sub(sent[r.agent][r.k]))
			}
			res.spread = append(res.spread, r.at.Sub(firstAt[[2]any{r.agent, r.k}]))
		}
	}
	res.cpu = cpu1 - cpu0
	if res.delivered != res.want {
		log.Printf("%s: delivered %d of %d messages (timeout %v)", t.name(), res.delivered, res.want, timeout)
	}
	return res, nil
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func print(c, p result, clients, events int, rate float64, rounds int) {
	pace := "as fast as the server takes them"
	if rate > 0 {
		pace = fmt.Sprintf("%.0f per second", rate)
	}
	fmt.Printf("\nEvent fan-out: %d supervisor WebSockets, %d agent state changes (4 agents in parallel, %s), %d rounds each\n\n",
		clients, events, pace, rounds)
	fmt.Printf("%-34s %14s %14s %10s\n", "", "contactd", "peer hub", "ratio")
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	row := func(name string, a, b float64, unit string) {
		r := "-"
		if b > 0 {
			r = fmt.Sprintf("%.2f", a/b)
		}
		fmt.Printf("%-34s %11.2f %-2s %11.2f %-2s %10s\n", name, a, unit, b, unit, r)
	}
	row("latency p50 (request → receipt)", ms(pct(c.lat, 0.5)), ms(pct(p.lat, 0.5)), "ms")
	row("latency p99", ms(pct(c.lat, 0.99)), ms(pct(p.lat, 0.99)), "ms")
	row("latency max", ms(pct(c.lat, 1)), ms(pct(p.lat, 1)), "ms")
	row("fan-out spread p50 (after 1st)", ms(pct(c.spread, 0.5)), ms(pct(p.spread, 0.5)), "ms")
	row("fan-out spread p99", ms(pct(c.spread, 0.99)), ms(pct(p.spread, 0.99)), "ms")
	row("burst wall time (mean)", ms(c.burst)/float64(rounds), ms(p.burst)/float64(rounds), "ms")
	row("server CPU per 1,000 messages", c.cpuPerK(), p.cpuPerK(), "ms")
	row("RSS before clients", float64(c.rssIdle)/1024, float64(p.rssIdle)/1024, "MB")
	row("RSS with clients (1st round)", float64(c.rssConn)/1024, float64(p.rssConn)/1024, "MB")
	row("RSS per client", float64(c.rssConn-c.rssIdle)/float64(clients), float64(p.rssConn-p.rssIdle)/float64(clients), "kB")
	row("RSS peak (VmHWM)", float64(c.hwm)/1024, float64(p.hwm)/1024, "MB")
	fmt.Printf("%-34s %14d %14d\n", "messages delivered (all rounds)", c.delivered, p.delivered)
	fmt.Printf("%-34s %14d %14d\n", "messages expected", c.want, p.want)
}

// ---- contactd -----------------------------------------------------------

type contactd struct {
	cmd    *exec.Cmd
	base   string
	token  string
	admin  string
	client *http.Client
	mu     sync.Mutex
	onBrk  map[string]bool // agent → on break (last state set)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startContactd(bin, cfg, work string) (*contactd, error) {
	b, err := os.ReadFile(cfg)
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(work, "contactd.yaml")
	if err := os.WriteFile(conf, b, 0o600); err != nil {
		return nil, err
	}
	hp, err := freePort()
	if err != nil {
		return nil, err
	}
	sp, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(work, "contactd.log"))
	if err != nil {
		return nil, err
	}
	c := &contactd{base: fmt.Sprintf("http://127.0.0.1:%d", hp), onBrk: map[string]bool{}, client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	c.cmd = exec.Command(bin, "serve")
	c.cmd.Env = append(os.Environ(), "CONTACTD_CONFIG="+conf, fmt.Sprintf("CONTACTD_HTTP_ADDR=127.0.0.1:%d", hp),
		fmt.Sprintf("CONTACTD_SIP_ADDR=127.0.0.1:%d", sp), "CONTACTD_DATA_DIR="+filepath.Join(work, "data"),
		"CONTACTD_ADMIN_PASSWORD=fanout-admin-pass", "CONTACTD_LOG_LEVEL=warn")
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	deadline := time.Now().Add(120 * time.Second)
	for {
		resp, err := http.Get(c.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			c.stop()
			tail, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("contactd not healthy in 120 s:\n%s", tail)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var login struct {
		Token string `json:"token"`
	}
	if err := c.post("", "/api/v1/auth/login", map[string]string{"username": "admin", "password": "fanout-admin-pass"}, &login); err != nil {
		c.stop()
		return nil, err
	}
	c.admin = login.Token
	var tok struct {
		Token string `json:"token"`
	}
	if err := c.post(c.admin, "/api/v1/tokens", map[string]string{"name": "fanout", "role": "supervisor"}, &tok); err != nil {
		c.stop()
		return nil, err
	}
	c.token = tok.Token
	return c, nil
}

func (c *contactd) post(tok, path string, body, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (c *contactd) stop() {
	if c.cmd.Process != nil {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = c.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			<-done
		}
	}
}

func (c *contactd) name() string     { return "contactd" }
func (c *contactd) pid() int         { return c.cmd.Process.Pid }
func (c *contactd) agents() []string { return []string{"alice", "bob", "carol", "dave"} }
func (c *contactd) wsURL() string {
	return "ws" + strings.TrimPrefix(c.base, "http") + "/api/v1/events?token=" + c.token
}

// change flips the agent between available and break (each change is an
// event; setting the state an agent has is none).
func (c *contactd) change(agent string, _ int) (time.Time, error) {
	c.mu.Lock()
	brk := !c.onBrk[agent]
	c.onBrk[agent] = brk
	c.mu.Unlock()
	st := "available"
	if brk {
		st = "break"
	}
	at := time.Now()
	return at, c.post(c.admin, "/api/v1/agents/"+agent+"/state", map[string]string{"state": st}, nil)
}

func (c *contactd) ready(b []byte) bool { return bytes.Contains(b, []byte(`"type":"hello"`)) }

func (c *contactd) match(b []byte, counts map[string]int) (string, int, bool) {
	var m struct {
		Type, Agent string
	}
	if json.Unmarshal(b, &m) != nil || m.Type != "agent_state" || m.Agent == "" {
		return "", 0, false
	}
	k := counts[m.Agent]
	counts[m.Agent]++
	return m.Agent, k, true
}

// ---- the peer hub --------------------------------------------------------

type peerHub struct {
	cmd  *exec.Cmd
	addr string
	c    *http.Client
}

func startPeer(work string) (*peerHub, error) {
	p, err := freePort()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	h := &peerHub{addr: fmt.Sprintf("127.0.0.1:%d", p), c: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	h.cmd = exec.Command(self, "-peer-serve", h.addr)
	h.cmd.Stdout, h.cmd.Stderr = os.Stderr, os.Stderr
	if err := h.cmd.Start(); err != nil {
		return nil, err
	}
	for range 100 {
		if resp, err := http.Get("http://" + h.addr + "/healthz"); err == nil {
			resp.Body.Close()
			return h, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.stop()
	return nil, errors.New("the peer hub did not start")
}

func (h *peerHub) stop() {
	_ = h.cmd.Process.Kill()
	_ = h.cmd.Wait()
}

func (h *peerHub) name() string     { return "peer" }
func (h *peerHub) pid() int         { return h.cmd.Process.Pid }
func (h *peerHub) agents() []string { return []string{"alice", "bob", "carol", "dave"} }
func (h *peerHub) wsURL() string    { return "ws://" + h.addr + "/events" }
func (h *peerHub) ready(b []byte) bool {
	return bytes.Contains(b, []byte(`"type":"hello"`))
}

func (h *peerHub) change(agent string, k int) (time.Time, error) {
	at := time.Now()
	resp, err := h.c.Post(fmt.Sprintf("http://%s/publish?agent=%s&k=%d", h.addr, agent, k), "text/plain", nil)
	if err != nil {
		return at, err
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		return at, fmt.Errorf("publish: %d", resp.StatusCode)
	}
	return at, nil
}

func (h *peerHub) match(b []byte, _ map[string]int) (string, int, bool) {
	var m struct {
		Type, Agent string
		K           int
	}
	if json.Unmarshal(b, &m) != nil || m.Type != "agent_state" {
		return "", 0, false
	}
	return m.Agent, m.K, true
}

// servePeer is the peer hub: /events registers a WebSocket; /publish
// marshals one event and queues it on every connection.
func servePeer(addr string) {
	type conn struct{ send chan []byte }
	var mu sync.Mutex
	conns := map[*conn]struct{}{}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/events", func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		c := &conn{send: make(chan []byte, 2048)}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		defer func() { mu.Lock(); delete(conns, c); mu.Unlock() }()
		ctx := ws.CloseRead(r.Context())
		if ws.Write(ctx, websocket.MessageText, []byte(`{"type":"hello"}`)) != nil {
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case b := <-c.send:
				wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := ws.Write(wctx, websocket.MessageText, b)
				cancel()
				if err != nil {
					return
				}
			}
		}
	})
	mux.HandleFunc("/publish", func(w http.ResponseWriter, r *http.Request) {
		k, _ := strconv.Atoi(r.URL.Query().Get("k"))
		state := "available"
		if k%2 == 1 {
			state = "break"
		}
		b, _ := json.Marshal(map[string]any{"type": "agent_state", "agent": r.URL.Query().Get("agent"), "state": state, "k": k})
		mu.Lock()
		for c := range conns {
			select {
			case c.send <- b:
			default:
			}
		}
		mu.Unlock()
		w.WriteHeader(204)
	})
	log.Fatal(http.ListenAndServe(addr, mux))
}
