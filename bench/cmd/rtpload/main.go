// Command rtpload measures a media relay carrying bridged G.711 calls: it
// plays both ends of every call (caller and agent), sends 20 ms PCMU
// packets both ways and measures what comes out of the relay: CPU and
// memory of the relay process, packets relayed per second, loss (sequence
// gaps at the receiver) and the added latency of audio (tone bursts
// timestamped at the sender and found again at the far end, which works
// through a relay that decodes and re-encodes).
//
// Relays (-relay):
//
//	contactd   calls go through a contactd server: the tool registers
//	           agents' SIP phones (digest auth), sets the agents available
//	           through the admin API, calls in over SIP and answers the
//	           agent INVITEs; contactd bridges and records each call.
//	rtpengine  the same streams through rtpengine, set up with its ng
//	           control protocol (offer/answer/delete).
//	direct     no relay: each end sends straight to the other (the
//	           latency baseline of the tool and the loopback itself).
//
// It ramps through -steps (concurrent calls), measuring each for -window
// after -warmup, and prints one "result key=value ..." line per step
// (bench/relay.sh turns them into a table). Everything is on 127.0.0.1.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/contactd/contactd/bench/internal/procstat"
)

type options struct {
	relay      string
	steps      []int
	warmup     time.Duration
	window     time.Duration
	rate       int
	shards     int
	pid        string
	maxLoss    float64
	settle     time.Duration
	sipAddr    string
	httpURL    string
	adminPass  string
	agents     int
	agentFmt   string
	agentPass  string
	did        string
	ngAddr     string
	record     bool
	setupLimit time.Duration
	profileDir string
}

func main() {
	var o options
	var steps string
	flag.StringVar(&o.relay, "relay", "contactd", "contactd, rtpengine or direct")
	flag.StringVar(&steps, "steps", "100,250,500,1000", "concurrent calls of each step, ascending")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "time after the last call is up before measuring")
	flag.DurationVar(&o.window, "window", 15*time.Second, "measurement window of each step")
	flag.IntVar(&o.rate, "rate", 100, "calls set up per second")
	flag.IntVar(&o.shards, "shards", 2, "socket pairs (and sender goroutines) the calls are spread over")
	flag.StringVar(&o.pid, "pid", "", "the relay's process id (CPU and memory are read from /proc)")
	flag.Float64Var(&o.maxLoss, "stop-loss", 0.05, "stop the ramp after a step losing more than this fraction")
	flag.DurationVar(&o.settle, "settle", 30*time.Second, "longest wait for the relay to go idle between steps")
	flag.StringVar(&o.sipAddr, "sip", "127.0.0.1:5060", "contactd: its SIP address")
	flag.StringVar(&o.httpURL, "http", "http://127.0.0.1:8080", "contactd: its HTTP base URL")
	flag.StringVar(&o.adminPass, "admin-pass", "", "contactd: the admin user's password")
	flag.IntVar(&o.agents, "agents", 0, "contactd: agents to register (default: the largest step)")
	flag.StringVar(&o.agentFmt, "agent-fmt", "bench%04d", "contactd: agent user names (printf of 1..agents)")
	flag.StringVar(&o.agentPass, "agent-pass", "bench-pass", "contactd: the agents' password")
	flag.StringVar(&o.did, "did", "+15550100", "contactd: the number called")
	flag.StringVar(&o.ngAddr, "ng", "127.0.0.1:2223", "rtpengine: its ng control address")
	flag.BoolVar(&o.record, "record", true, "rtpengine: ask it to record every call (record call=yes)")
	flag.DurationVar(&o.setupLimit, "setup-timeout", 60*time.Second, "longest wait for a step's calls to be bridged")
	flag.StringVar(&o.profileDir, "profile-dir", "", "contactd: write a CPU profile of each step's window and a heap profile at its end here (cpu-N.pprof, heap-N.pprof)")
	makeConfig := flag.String("make-config", "", "write contactd's bench config (from this demo config) into -config-dir and exit")
	configDir := flag.String("config-dir", "", "with -make-config: where config.yaml and bench-flow.yaml go")
	flag.Parse()
	if *makeConfig != "" {
		if err := makeConfigFiles(*makeConfig, *configDir, steps); err != nil {
			fatalf("%v", err)
		}
		return
	}
	for _, s := range strings.Split(steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fatalf("bad -steps %q", steps)
		}
		o.steps = append(o.steps, n)
	}
	if !sort.IntsAreSorted(o.steps) {
		fatalf("-steps must ascend")
	}
	if o.agents == 0 {
		o.agents = o.steps[len(o.steps)-1]
	}
	if o.shards < 1 || o.rate < 1 {
		fatalf("-shards and -rate must be positive")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, log); err != nil {
		fatalf("%v", err)
	}
}

// makeConfigFiles writes config.yaml and bench-flow.yaml into dir, sized
// for the largest step.
func makeConfigFiles(demo, dir, steps string) error {
	if dir == "" {
		return fmt.Errorf("-make-config needs -config-dir")
	}
	maxCalls := 0
	for _, s := range strings.Split(steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("bad -steps %q", steps)
		}
		maxCalls = max(maxCalls, n)
	}
	f, err := os.Create(dir + "/config.yaml")
	if err != nil {
		return err
	}
	if err := writeBenchConfig(f, demo, "bench-flow.yaml", maxCalls); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.WriteFile(dir+"/bench-flow.yaml", []byte(benchFlow), 0o644)
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "rtpload: "+format+"\n", a...)
	os.Exit(1)
}

// call is one bridged call: two streams each way (the tool's send and the
// relay's output).
type call struct {
	i       int
	sh      *shard
	from    string // the caller's number: names the call in the agent INVITE
	up      *tx    // caller → relay
	down    *tx    // agent → relay
	upRx    *rx    // at the agent: the caller's audio
	downRx  *rx    // at the caller: the agent's audio
	upPort  int    // the relay's port the agent hears from (0: direct)
	dnPort  int    // the relay's port the caller hears from (0: direct)
	bridged chan struct{}
	ended   chan struct{}
	once    sync.Once
	endOnce sync.Once

	// contactd
	dlg      *dialog
	agentCID string
	// rtpengine
	ngCallID, ngFromTag string
}

func newCall(i int, sh *shard, from string) *call {
	c := &call{i: i, sh: sh, from: from, up: newTx(nil, 0), down: newTx(nil, 1),
		bridged: make(chan struct{}), ended: make(chan struct{})}
	c.upRx, c.downRx = newRx(c.up), newRx(c.down)
	return c
}

// relay is how calls are set up and torn down on one kind of relay.
type relay interface {
	setup(ctx context.Context, c *call) error
	teardown(ctx context.Context, c *call)
	close()
}

type runner struct {
	o      options
	log    *slog.Logger
	win    *window
	shards []*shard
	relay  relay
	seq    atomic.Int64 // calls placed so far (numbers callers)
}

func run(ctx context.Context, o options, log *slog.Logger) error {
	r := &runner{o: o, log: log, win: &window{}}
	r.win.start.Store(math.MaxInt64)
	r.win.end.Store(math.MaxInt64)
	for range o.shards {
		sh, err := newShard(r.win)
		if err != nil {
			return err
		}
		defer sh.close()
		r.shards = append(r.shards, sh)
		for _, s := range sh.socks {
			go s.receive()
		}
	}
	sendCtx, stopSend := context.WithCancel(context.Background())
	var sendWG sync.WaitGroup
	for _, sh := range r.shards {
		sendWG.Add(1)
		go func() { defer sendWG.Done(); sh.send(sendCtx) }()
	}
	defer func() { stopSend(); sendWG.Wait() }()

	var err error
	switch o.relay {
	case "contactd":
		r.relay, err = newContactd(ctx, o, log)
	case "rtpengine":
		r.relay, err = newRTPEngine(o)
	case "direct":
		r.relay = direct{}
	default:
		err = fmt.Errorf("unknown -relay %q", o.relay)
	}
	if err != nil {
		return err
	}
	defer r.relay.close()

	base := int64(0)
	if o.pid != "" {
		if base, err = procstat.Status(o.pid, "VmRSS"); err != nil {
			return fmt.Errorf("relay process: %w", err)
		}
	}
	fmt.Printf("base relay=%s base_rss_kib=%d\n", o.relay, base)
	for _, n := range o.steps {
		res, err := r.step(ctx, n, base)
		if err != nil {
			return err
		}
		fmt.Println(res.line())
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if res.lossSeq > o.maxLoss || res.ok < n*95/100 {
			log.Warn("stopping the ramp: too much loss or too few calls", "calls", n, "ok", res.ok, "loss", res.lossSeq)
			break
		}
	}
	return nil
}

type result struct {
	relay                           string
	calls, ok, failed               int
	windowS                         float64
	cpuS, toolCPUS                  float64
	machineBusy, steal              float64
	rssKiB, rssMaxKiB, baseKiB      int64
	threads                         int64
	sent, expected, received, stray int64
	rtcp, markersSent, markersSeen  int64
	lossSeq                         float64
	latUp, latDown                  []float64
	sendErrs                        int64
	lateP50, lateP99                float64
}

// histPct is the p-quantile of a 0.1 ms histogram, in ms.
func histPct(h []int64, p float64) float64 {
	var n int64
	for _, v := range h {
		n += v
	}
	if n == 0 {
		return math.NaN()
	}
	rank := int64(math.Ceil(p * float64(n)))
	for i, v := range h {
		if rank -= v; rank <= 0 {
			return float64(i) / 10
		}
	}
	return float64(len(h)-1) / 10
}

func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1 // nearest rank
	return sorted[max(0, min(i, len(sorted)-1))]
}

func (r result) line() string {
	all := append(append([]float64(nil), r.latUp...), r.latDown...)
	sort.Float64s(all)
	sort.Float64s(r.latUp)
	sort.Float64s(r.latDown)
	cores := r.cpuS / r.windowS
	pps := float64(r.received) / r.windowS
	kv := []any{
		"relay", r.relay, "calls", r.calls, "ok", r.ok, "failed", r.failed,
		"window_s", f2(r.windowS),
		"cpu_cores", f3(cores),
		"cpu_pct_per_call", f4(100 * cores / float64(max(r.ok, 1))),
		"rss_mib", f1(float64(r.rssKiB) / 1024), "rss_max_mib", f1(float64(r.rssMaxKiB) / 1024),
		"base_rss_mib", f1(float64(r.baseKiB) / 1024),
		"rss_kib_per_call", f1(float64(r.rssKiB-r.baseKiB) / float64(max(r.ok, 1))),
		"threads", r.threads,
		"relayed_pps", f1(pps),
		"pps_per_core", f1(safeDiv(pps, cores)),
		"sent", r.sent, "received", r.received, "expected", r.expected,
		"loss_seq", f5(r.lossSeq),
		"delivered", f5(safeDiv(float64(r.received), float64(r.sent))),
		"marker_loss", f5(1 - safeDiv(float64(r.markersSeen), float64(r.markersSent))),
		"markers", r.markersSeen,
		"lat_p50_ms", f2(pct(all, 0.5)), "lat_p99_ms", f2(pct(all, 0.99)), "lat_max_ms", f2(pct(all, 1)),
		"lat_up_p50_ms", f2(pct(r.latUp, 0.5)), "lat_up_p99_ms", f2(pct(r.latUp, 0.99)),
		"lat_down_p50_ms", f2(pct(r.latDown, 0.5)), "lat_down_p99_ms", f2(pct(r.latDown, 0.99)),
		"tool_cpu_cores", f3(r.toolCPUS / r.windowS),
		"send_late_p50_ms", f1(r.lateP50), "send_late_p99_ms", f1(r.lateP99),
		"machine_busy_pct", f1(r.machineBusy), "steal_pct", f1(r.steal),
		"stray", r.stray, "rtcp", r.rtcp, "send_errs", r.sendErrs,
	}
	var b strings.Builder
	b.WriteString("result")
	for i := 0; i < len(kv); i += 2 {
		fmt.Fprintf(&b, " %s=%v", kv[i], kv[i+1])
	}
	return b.String()
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
func f3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
func f4(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
func f5(v float64) string { return strconv.FormatFloat(v, 'f', 5, 64) }

// step sets up n calls, measures them and tears them down.
func (r *runner) step(ctx context.Context, n int, baseRSS int64) (result, error) {
	o := r.o
	res := result{relay: o.relay, calls: n, baseKiB: baseRSS}
	r.log.Info("step: setting up calls", "relay", o.relay, "calls", n)
	calls := make([]*call, n)
	var failed atomic.Int64
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(o.rate))
	setupCtx, cancelSetup := context.WithTimeout(ctx, o.setupLimit)
	defer cancelSetup()
	for i := range n {
		select {
		case <-setupCtx.Done():
		case <-tick.C:
		}
		k := int(r.seq.Add(1))
		c := newCall(k, r.shards[i%len(r.shards)], fmt.Sprintf("+1999%07d", k))
		calls[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.relay.setup(setupCtx, c); err != nil {
				failed.Add(1)
				if failed.Load() <= 5 {
					r.log.Warn("call setup failed", "call", c.from, "err", err)
				}
				return
			}
			select {
			case <-c.bridged:
			case <-setupCtx.Done():
				failed.Add(1)
				if failed.Load() <= 5 {
					r.log.Warn("call not bridged in time", "call", c.from)
				}
			}
		}()
	}
	tick.Stop()
	wg.Wait()
	res.failed = int(failed.Load())
	res.ok = n - res.failed
	r.log.Info("step: calls up; warming up", "ok", res.ok, "failed", res.failed)
	sleep(ctx, o.warmup)

	// The window.
	for _, sh := range r.shards {
		sh.sentWin.Store(0)
		sh.markersWin.Store(0)
		sh.sendErrs.Store(0)
		sh.resetLate()
		for _, s := range sh.socks {
			s.agg.reset()
		}
	}
	cpu0, _ := r.cpu()
	self0, _ := procstat.CPU("self")
	busy0, steal0, total0 := procstat.Machine()
	t0 := time.Now()
	r.win.end.Store(math.MaxInt64)
	r.win.start.Store(t0.UnixNano())
	profDone := make(chan struct{})
	if p, ok := r.relay.(profiler); ok && o.profileDir != "" {
		go func() { defer close(profDone); p.profile(ctx, o.profileDir, n, o.window) }()
	} else {
		close(profDone)
	}
	var rssSum, rssN int64
	for deadline := t0.Add(o.window); time.Now().Before(deadline) && ctx.Err() == nil; {
		sleep(ctx, min(time.Second, time.Until(deadline)))
		if o.pid != "" {
			if v, err := procstat.Status(o.pid, "VmRSS"); err == nil {
				rssSum += v
				rssN++
				res.rssMaxKiB = max(res.rssMaxKiB, v)
			}
		}
	}
	t1 := time.Now()
	r.win.end.Store(t1.UnixNano())
	cpu1, _ := r.cpu()
	self1, _ := procstat.CPU("self")
	busy1, steal1, total1 := procstat.Machine()
	if o.pid != "" {
		res.threads, _ = procstat.Status(o.pid, "Threads")
	}
	res.windowS = t1.Sub(t0).Seconds()
	res.cpuS, res.toolCPUS = cpu1-cpu0, self1-self0
	res.machineBusy = 100 * safeDiv(busy1-busy0, total1-total0)
	res.steal = 100 * safeDiv(steal1-steal0, total1-total0)
	if rssN > 0 {
		res.rssKiB = rssSum / rssN
	}
	<-profDone
	// Bursts sent at the window's end are still on their way.
	sleep(ctx, time.Second)
	var late [lateBins]int64
	for _, sh := range r.shards {
		sh.lateMu.Lock()
		for i, v := range sh.late {
			late[i] += v
		}
		sh.lateMu.Unlock()
		res.sent += sh.sentWin.Load()
		res.markersSent += sh.markersWin.Load()
		res.sendErrs += sh.sendErrs.Load()
		for side, s := range sh.socks {
			a := &s.agg
			a.mu.Lock()
			res.expected += a.expected
			res.received += a.received
			res.stray += a.stray
			res.rtcp += a.rtcp
			res.markersSeen += a.markers
			if side == 1 { // the agent side hears the caller: upstream
				res.latUp = append(res.latUp, a.latencies...)
			} else {
				res.latDown = append(res.latDown, a.latencies...)
			}
			a.mu.Unlock()
		}
	}
	res.lossSeq = safeDiv(float64(res.expected-res.received), float64(res.expected))
	res.lateP50, res.lateP99 = histPct(late[:], 0.5), histPct(late[:], 0.99)
	r.win.start.Store(math.MaxInt64)

	r.log.Info("step: hanging up", "calls", n)
	tdCtx, cancelTD := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancelTD()
	sem := make(chan struct{}, 100)
	for _, c := range calls {
		if c == nil {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.relay.teardown(tdCtx, c)
			c.stopAll()
		}()
	}
	wg.Wait()
	r.settle(ctx)
	return res, nil
}

func (r *runner) cpu() (float64, error) {
	if r.o.pid == "" {
		return 0, nil
	}
	return procstat.CPU(r.o.pid)
}

// settle waits until the relay uses under 5 % of a core for a second
// (post-call work done), at most o.settle.
func (r *runner) settle(ctx context.Context) {
	if r.o.pid == "" {
		return
	}
	deadline := time.Now().Add(r.o.settle)
	prev, _ := r.cpu()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		sleep(ctx, time.Second)
		cur, err := r.cpu()
		if err != nil || cur-prev < 0.05 {
			return
		}
		prev = cur
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// startUp starts the caller's stream to the relay at dst; the relay's
// output comes from port (0: identified by SSRC).
func (c *call) startUp(dst *net.UDPAddr, port int) {
	c.up.dst, c.dnPort = dst, port
	c.sh.socks[0].listen(port, c.downRx)
	c.sh.add(c.up)
}

// startDown is startUp for the agent's side.
func (c *call) startDown(dst *net.UDPAddr, port int) {
	c.down.dst, c.upPort = dst, port
	c.sh.socks[1].listen(port, c.upRx)
	c.sh.add(c.down)
	c.once.Do(func() { close(c.bridged) })
}

func (c *call) stopUp() {
	c.sh.remove(c.up)
	c.sh.socks[0].unlisten(c.dnPort, c.downRx)
}

func (c *call) stopDown() {
	c.sh.remove(c.down)
	c.sh.socks[1].unlisten(c.upPort, c.upRx)
	c.endOnce.Do(func() { close(c.ended) })
}

func (c *call) stopAll() {
	c.stopUp()
	if c.down.dst != nil {
		c.stopDown()
	}
}

// direct: each end sends straight to the other.
type direct struct{}

func (direct) setup(_ context.Context, c *call) error {
	c.startUp(c.sh.socks[1].addr, 0)
	c.startDown(c.sh.socks[0].addr, 0)
	return nil
}
func (direct) teardown(context.Context, *call) {}
func (direct) close()                          {}

// rtpEngine sets calls up through rtpengine's ng protocol.
type rtpEngine struct {
	ng     *ngClient
	record bool
}

func newRTPEngine(o options) (*rtpEngine, error) {
	ng, err := dialNG(o.ngAddr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := ng.call(ctx, map[string]any{"command": "ping"}); err != nil && !strings.Contains(err.Error(), "pong") {
		ng.close()
		return nil, fmt.Errorf("rtpengine ping: %w", err)
	}
	return &rtpEngine{ng: ng, record: o.record}, nil
}

func (e *rtpEngine) setup(ctx context.Context, c *call) error {
	c.ngCallID, c.ngFromTag = newTag()+"@rtpload", newTag()
	toTag := newTag()
	offer := map[string]any{"command": "offer", "call-id": c.ngCallID, "from-tag": c.ngFromTag,
		"sdp": localSDP(c.sh.socks[0].addr.Port, 101, false), "replace": []string{"origin", "session-connection"}}
	if e.record {
		offer["record call"] = "yes"
	}
	d, err := e.ng.call(ctx, offer)
	if err != nil {
		return err
	}
	calleeSDP, _ := d["sdp"].(string)
	toAgent, err := parseSDP([]byte(calleeSDP))
	if err != nil {
		return fmt.Errorf("offer: %w", err)
	}
	d, err = e.ng.call(ctx, map[string]any{"command": "answer", "call-id": c.ngCallID, "from-tag": c.ngFromTag,
		"to-tag": toTag, "sdp": localSDP(c.sh.socks[1].addr.Port, 101, false), "replace": []string{"origin", "session-connection"}})
	if err != nil {
		return err
	}
	callerSDP, _ := d["sdp"].(string)
	toCaller, err := parseSDP([]byte(callerSDP))
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	c.startUp(&net.UDPAddr{IP: toCaller.ip, Port: toCaller.port}, toCaller.port)
	c.startDown(&net.UDPAddr{IP: toAgent.ip, Port: toAgent.port}, toAgent.port)
	return nil
}

func (e *rtpEngine) teardown(ctx context.Context, c *call) {
	if c.ngCallID == "" {
		return
	}
	c.stopAll()
	_, _ = e.ng.call(ctx, map[string]any{"command": "delete", "call-id": c.ngCallID, "from-tag": c.ngFromTag})
}

func (e *rtpEngine) close() { e.ng.close() }

// contactd places calls to a contactd server and answers its calls to the
// agents' phones.
type contactd struct {
	o       options
	log     *slog.Logger
	server  *net.UDPAddr
	callers *ua
	agents  *ua

	mu       sync.Mutex
	byFrom   map[string]*call   // caller number → call, until the agent answers
	byCID    map[string]*call   // caller-leg Call-ID → call
	answered map[string]*answer // agent-leg Call-ID → our 200
	stray    atomic.Int64
}

type answer struct {
	c     *call
	res   []byte
	src   *net.UDPAddr
	acked atomic.Bool
}

func newContactd(ctx context.Context, o options, log *slog.Logger) (*contactd, error) {
	server, err := net.ResolveUDPAddr("udp4", o.sipAddr)
	if err != nil {
		return nil, err
	}
	cd := &contactd{o: o, log: log, server: server, byFrom: map[string]*call{}, byCID: map[string]*call{}, answered: map[string]*answer{}}
	if cd.callers, err = newUA(log); err != nil {
		return nil, err
	}
	if cd.agents, err = newUA(log); err != nil {
		cd.callers.close()
		return nil, err
	}
	cd.callers.serve(cd.onCallerRequest)
	cd.agents.serve(cd.onAgentRequest)
	if err := cd.prepareAgents(ctx); err != nil {
		cd.close()
		return nil, err
	}
	return cd, nil
}

func (cd *contactd) close() {
	cd.callers.close()
	cd.agents.close()
}

// prepareAgents creates the agents through the admin API (skill
// "general"; an existing user is kept), registers every agent's phone and
// makes the agents available.
func (cd *contactd) prepareAgents(ctx context.Context) error {
	o := cd.o
	tok, err := cd.login(ctx)
	if err != nil {
		return err
	}
	// forAll runs f for every agent, conc at a time, and fails on the
	// first error.
	forAll := func(what string, conc int, f func(user string) error) error {
		t0 := time.Now()
		var wg sync.WaitGroup
		var failed atomic.Int64
		var firstErr atomic.Value
		sem := make(chan struct{}, conc)
		for i := 1; i <= o.agents && ctx.Err() == nil; i++ {
			user := fmt.Sprintf(o.agentFmt, i)
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := f(user); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}()
		}
		wg.Wait()
		if n := failed.Load(); n > 0 {
			return fmt.Errorf("%s: %d of %d agents failed: %v", what, n, o.agents, firstErr.Load())
		}
		cd.log.Info(what, "agents", o.agents, "took", time.Since(t0).Round(time.Millisecond))
		return ctx.Err()
	}
	// Creating a user hashes its password (bcrypt): the slow part.
	if err := forAll("agents created", 4, func(user string) error {
		err := cd.api(ctx, tok, "POST", "/api/v1/users", map[string]string{"username": user, "password": o.agentPass, "role": "agent"}, nil)
		if err != nil && !strings.Contains(err.Error(), "409") {
			return err
		}
		return cd.api(ctx, tok, "PUT", "/api/v1/agents/"+user, map[string]any{"skills": map[string]int{"general": 5}, "max_calls": 1}, nil)
	}); err != nil {
		return err
	}
	if err := forAll("agents' phones registered", 50, func(user string) error {
		return cd.agents.register(ctx, cd.server, user, o.agentPass)
	}); err != nil {
		return err
	}
	return forAll("agents available", 16, func(user string) error {
		return cd.api(ctx, tok, "POST", "/api/v1/agents/"+user+"/state", map[string]string{"state": "available"}, nil)
	})
}

var httpClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// profiler is a relay that can profile itself over a step's window.
type profiler interface {
	profile(ctx context.Context, dir string, calls int, window time.Duration)
}

// profile saves contactd's CPU profile over the window (its pprof
// endpoint, as admin) and, at the end, its heap after a collection. A
// failure is logged: the measurement goes on without it.
func (cd *contactd) profile(ctx context.Context, dir string, calls int, window time.Duration) {
	secs := max(1, int(window.Seconds())-1)
	save := func(path, name string) {
		tok, err := cd.login(ctx)
		if err == nil {
			var req *http.Request
			req, err = http.NewRequestWithContext(ctx, "GET", cd.o.httpURL+path, nil)
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+tok)
				c := &http.Client{Timeout: window + 30*time.Second}
				var res *http.Response
				if res, err = c.Do(req); err == nil {
					var b []byte
					b, err = io.ReadAll(io.LimitReader(res.Body, 64<<20))
					res.Body.Close()
					if err == nil && res.StatusCode != 200 {
						err = fmt.Errorf("%s", res.Status)
					}
					if err == nil {
						err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
					}
				}
			}
		}
		if err != nil {
			cd.log.Warn("profile not saved", "profile", name, "err", err)
		}
	}
	save(fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), fmt.Sprintf("cpu-%d.pprof", calls))
	save("/debug/pprof/heap?gc=1", fmt.Sprintf("heap-%d.pprof", calls))
}

func (cd *contactd) login(ctx context.Context) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := cd.api(ctx, "", "POST", "/api/v1/auth/login", map[string]string{"username": "admin", "password": cd.o.adminPass}, &out); err != nil {
		return "", fmt.Errorf("admin login: %w", err)
	}
	return out.Token, nil
}

func (cd *contactd) api(ctx context.Context, token, method, path string, in, out any) error {
	body, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, method, cd.o.httpURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, res.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (cd *contactd) setup(ctx context.Context, c *call) error {
	cd.mu.Lock()
	cd.byFrom[c.from] = c
	cd.mu.Unlock()
	defer func() {
		cd.mu.Lock()
		delete(cd.byFrom, c.from)
		cd.mu.Unlock()
	}()
	// The caller's RTP is routed to the call before the INVITE goes out:
	// contactd's answer may overtake our parsing of it.
	d, err := cd.callers.invite(ctx, cd.server, fmt.Sprintf("sip:%s@%s", cd.o.did, cd.server), c.from, c.sh.socks[0].addr.Port)
	if err != nil {
		return err
	}
	c.dlg = d
	cd.mu.Lock()
	cd.byCID[d.callID] = c
	cd.mu.Unlock()
	c.startUp(&net.UDPAddr{IP: d.remote.ip, Port: d.remote.port}, d.remote.port)
	select {
	case <-c.bridged:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("no agent INVITE: %w", ctx.Err())
	}
}

func (cd *contactd) teardown(ctx context.Context, c *call) {
	if c.dlg == nil {
		return
	}
	c.stopUp()
	if err := cd.callers.bye(ctx, c.dlg); err != nil {
		cd.log.Warn("caller bye", "call", c.from, "err", err)
	}
	cd.mu.Lock()
	delete(cd.byCID, c.dlg.callID)
	cd.mu.Unlock()
	// contactd hangs up the agent's phone.
	select {
	case <-c.ended:
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		cd.log.Warn("agent leg not hung up by contactd", "call", c.from)
	}
}

func (cd *contactd) onCallerRequest(req *sipmsg.Request, src *net.UDPAddr) {
	switch req.Method {
	case sipmsg.ACK:
	case sipmsg.INVITE: // a re-INVITE: keep the media as it is
		cd.mu.Lock()
		c := cd.byCID[callID(req)]
		cd.mu.Unlock()
		if c == nil {
			cd.callers.respond(req, src, 481, "Call/Transaction Does Not Exist", "", "")
			return
		}
		cd.callers.respond(req, src, 200, "OK", "", localSDP(c.sh.socks[0].addr.Port, 101, true))
	default: // BYE, OPTIONS, UPDATE, INFO, NOTIFY
		cd.callers.respond(req, src, 200, "OK", "", "")
	}
}

func (cd *contactd) onAgentRequest(req *sipmsg.Request, src *net.UDPAddr) {
	cid := callID(req)
	switch req.Method {
	case sipmsg.INVITE:
		cd.mu.Lock()
		a := cd.answered[cid]
		cd.mu.Unlock()
		if a != nil { // a retransmission or a re-INVITE: the same answer
			cd.agents.send(a.res, src)
			return
		}
		from := ""
		if f := req.From(); f != nil {
			from = f.Address.User
		}
		cd.mu.Lock()
		c := cd.byFrom[from]
		cd.mu.Unlock()
		if c == nil {
			if cd.stray.Add(1) <= 5 {
				cd.log.Warn("agent INVITE for no call of ours", "from", from)
			}
			cd.agents.respond(req, src, 486, "Busy Here", newTag(), "")
			return
		}
		offer, err := parseSDP(req.Body())
		if err != nil {
			cd.agents.respond(req, src, 488, "Not Acceptable Here", newTag(), "")
			return
		}
		dst := &net.UDPAddr{IP: offer.ip, Port: offer.port}
		// Route contactd's audio to the call before answering.
		c.agentCID = cid
		a = &answer{c: c, src: src}
		a.res = cd.agents.respond(req, src, 200, "OK", newTag(), localSDP(c.sh.socks[1].addr.Port, offer.dtmfPT, offer.rtcpMux))
		cd.mu.Lock()
		cd.answered[cid] = a
		cd.mu.Unlock()
		c.startDown(dst, offer.port)
		go cd.retransmit(a)
	case sipmsg.ACK:
		cd.mu.Lock()
		a := cd.answered[cid]
		cd.mu.Unlock()
		if a != nil {
			a.acked.Store(true)
		}
	case sipmsg.BYE, sipmsg.CANCEL:
		cd.agents.respond(req, src, 200, "OK", "", "")
		cd.mu.Lock()
		a := cd.answered[cid]
		delete(cd.answered, cid)
		cd.mu.Unlock()
		if a != nil {
			a.c.stopDown()
		}
	default:
		cd.agents.respond(req, src, 200, "OK", "", "")
	}
}

// retransmit re-sends a 200 to an INVITE until the ACK (RFC 3261 13.3.1.4).
func (cd *contactd) retransmit(a *answer) {
	interval := 500 * time.Millisecond
	for total := time.Duration(0); total < 32*time.Second; total += interval {
		time.Sleep(interval)
		if a.acked.Load() {
			return
		}
		select {
		case <-a.c.ended:
			return
		default:
		}
		cd.agents.send(a.res, a.src)
		interval = min(2*interval, 4*time.Second)
	}
	cd.log.Warn("agent leg: no ACK", "call", a.c.from)
}
