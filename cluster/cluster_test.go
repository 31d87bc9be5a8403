package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/postgres"
)

// freshDB makes a database of its own on CONTACTD_TEST_DATABASE_URL's
// server, migrated; skipped without one.
func freshDB(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CONTACTD_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("CONTACTD_TEST_DATABASE_URL not set (deploy/test-postgres.sh prints one)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "contactd_cluster_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	st, err := postgres.Open(ctx, u.String(), nil) // migrates
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	return u.String()
}

var quiet = testLog()

func testLog() *slog.Logger {
	if os.Getenv("CONTACTD_CLUSTER_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// agentSim plays the agents whose socket is on one node: offered a call,
// it answers after a moment, talks briefly and hangs up.
type agentSim struct {
	t      *testing.T
	node   string
	here   map[string]bool
	acd    *ACD
	talk   time.Duration
	ignore bool // never answer (a browser that is gone)

	mu       sync.Mutex
	offers   map[string][]string // call → agents offered (seen by this node)
	accepted map[string][]string // call → agents whose Accept succeeded
	live     map[string]string   // agent → call it rings for (this node's view)
	overlap  []string
}

func (s *agentSim) AgentState(string, routing.State) {}

func (s *agentSim) Offer(o routing.Offer) {
	s.mu.Lock()
	s.offers[o.CallID] = append(s.offers[o.CallID], o.Agent)
	for ag, c := range s.live {
		if c == o.CallID && ag != o.Agent {
			s.overlap = append(s.overlap, fmt.Sprintf("%s offered to %s while ringing for %s", c, o.Agent, ag))
		}
	}
	s.live[o.Agent] = o.CallID
	s.mu.Unlock()
	if !s.here[o.Agent] || s.ignore {
		return
	}
	go func() {
		time.Sleep(5 * time.Millisecond)
		if err := s.acd.Accept(o.Agent, o.CallID); err != nil {
			return
		}
		s.mu.Lock()
		s.accepted[o.CallID] = append(s.accepted[o.CallID], o.Agent)
		s.mu.Unlock()
		time.Sleep(s.talk)
		s.acd.Release(o.Agent)
	}()
}

func (s *agentSim) OfferRevoked(agent, callID string) {
	s.mu.Lock()
	if s.live[agent] == callID {
		delete(s.live, agent)
	}
	s.mu.Unlock()
}

type tnode struct {
	node   *Node
	acd    *ACD
	sim    *agentSim
	cancel context.CancelFunc
	done   chan struct{}
}

func engine(n routing.Notifier, onState func(routing.StateChange)) *routing.Router {
	r := routing.New(n, routing.Options{OfferTimeout: 2 * time.Second, OnStateChange: onState, Log: quiet})
	_ = r.SetQueue(routing.QueueConfig{Name: "support", Skill: "support"})
	return r
}

// startNode is startNodeCfg with a 200 ms heartbeat and dead after 2 s.
func startNode(t *testing.T, db, id string, agents []string) *tnode {
	t.Helper()
	return startNodeCfg(t, db, id, Config{Heartbeat: 200 * time.Millisecond, DeadAfter: 2 * time.Second}, agents...)
}

// stop is a clean stop.
func (tn *tnode) stop() {
	tn.cancel()
	<-tn.done
	tn.node.Leave()
}

// crash is the process dying: its connections drop, no goodbye.
func (tn *tnode) crash() {
	tn.cancel()
	<-tn.done
	tn.node.once.Do(func() {
		close(tn.node.stop)
		<-tn.node.done
		tn.node.pool.Close()
	})
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dispatchers(ns ...*tnode) int {
	k := 0
	for _, n := range ns {
		if n.acd.Dispatching() {
			k++
		}
	}
	return k
}

func queuedRows(t *testing.T, db string) int {
	t.Helper()
	n, _ := dbValue[int](t, db, `SELECT count(*) FROM acd_queue`)
	return n
}

// overlaps counts, from the offer log, pairs of offers of one call (or to
// one agent) that stood at the same time; and the offers logged.
func overlaps(t *testing.T, db string) (byCall, byAgent, offers int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	const q = `SELECT count(*) FROM acd_offer_log a JOIN acd_offer_log b ON a.%[1]s = b.%[1]s AND a.id < b.id
		WHERE a.offered_seq < coalesce(b.ended_seq, 9223372036854775807) AND b.offered_seq < coalesce(a.ended_seq, 9223372036854775807)`
	if err := c.QueryRow(ctx, fmt.Sprintf(q, "call_id")).Scan(&byCall); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, fmt.Sprintf(q, "agent")).Scan(&byAgent); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, `SELECT count(*) FROM acd_offer_log`).Scan(&offers); err != nil {
		t.Fatal(err)
	}
	return byCall, byAgent, offers
}

func checkOfferLog(t *testing.T, db string, calls int) {
	t.Helper()
	byCall, byAgent, offers := overlaps(t, db)
	if byCall != 0 || byAgent != 0 {
		t.Errorf("offer log: %d pairs of offers of one call at once, %d of one agent at once", byCall, byAgent)
	}
	if offers < calls {
		t.Errorf("offer log has %d offers for %d answered calls", offers, calls)
	}
	t.Logf("offer log: %d offers, no overlap", offers)
}

// Three nodes enqueue calls at once while agents on all three answer: every
// call is answered exactly once, and no call is offered to a second agent
// while the first still rings.
func TestNoDoubleOfferUnderConcurrentEnqueues(t *testing.T) {
	db := freshDB(t)
	var agents [3][]string
	for i := 0; i < 12; i++ {
		agents[i%3] = append(agents[i%3], fmt.Sprintf("agent%02d", i))
	}
	ns := []*tnode{startNode(t, db, "n1", agents[0]), startNode(t, db, "n2", agents[1]), startNode(t, db, "n3", agents[2])}
	waitFor(t, "one dispatcher", 5*time.Second, func() bool { return dispatchers(ns...) == 1 })
	setAvailable(t, ns, agents[:])
	const perNode = 40
	var wg sync.WaitGroup
	for i, n := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < perNode; k++ {
				id := fmt.Sprintf("call-%d-%03d", i, k)
				if err := n.acd.Enqueue(routing.Contact{CallID: id, Queue: "support", From: "100"}); err != nil {
					t.Errorf("enqueue %s: %v", id, err)
				}
				time.Sleep(time.Duration(k%3) * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	total := 3 * perNode
	waitFor(t, "every call answered", 60*time.Second, func() bool { return acceptedCalls(ns) == total })
	if q := queuedRows(t, db); q != 0 {
		t.Fatalf("%d calls still queued", q)
	}
	answered := map[string][]string{}
	for _, x := range ns {
		x.sim.mu.Lock()
		for c, as := range x.sim.accepted {
			answered[c] = append(answered[c], as...)
		}
		if len(x.sim.overlap) > 0 {
			t.Errorf("node %s saw overlapping offers: %v", x.node.ID(), x.sim.overlap)
		}
		x.sim.mu.Unlock()
	}
	for c, as := range answered {
		if len(as) != 1 {
			t.Errorf("call %s answered by %v", c, as)
		}
	}
	checkOfferLog(t, db, total)
	// Every node heard every offer, once per agent tried.
	ns[0].sim.mu.Lock()
	offers := 0
	for _, as := range ns[0].sim.offers {
		offers += len(as)
	}
	ns[0].sim.mu.Unlock()
	t.Logf("%d calls, %d offers, all answered once", total, offers)
}

// Two dispatchers at once (a split brain the lock normally prevents) race
// for the same calls and agents: the database's conditional commits still
// let each call be offered to one agent at a time and answered once.
func TestTwoDispatchersCannotDoubleOffer(t *testing.T) {
	db := freshDB(t)
	var agents [2][]string
	for i := 0; i < 10; i++ {
		agents[i%2] = append(agents[i%2], fmt.Sprintf("agent%02d", i))
	}
	ns := []*tnode{startNode(t, db, "n1", agents[0]), startNode(t, db, "n2", agents[1])}
	waitFor(t, "one dispatcher", 5*time.Second, func() bool { return dispatchers(ns...) == 1 })
	for _, n := range ns {
		n.acd.splitBrain.Store(true)
	}
	waitFor(t, "two dispatchers", 5*time.Second, func() bool { return dispatchers(ns...) == 2 })
	setAvailable(t, ns, agents[:])
	const perNode = 30
	var wg sync.WaitGroup
	for i, n := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < perNode; k++ {
				id := fmt.Sprintf("call-%d-%03d", i, k)
				if err := n.acd.Enqueue(routing.Contact{CallID: id, Queue: "support"}); err != nil {
					t.Errorf("enqueue %s: %v", id, err)
				}
			}
		}()
	}
	wg.Wait()
	waitFor(t, "every call answered", 60*time.Second, func() bool { return acceptedCalls(ns) == 2*perNode })
	for _, x := range ns {
		x.sim.mu.Lock()
		if len(x.sim.overlap) > 0 {
			t.Errorf("node %s saw overlapping offers: %v", x.node.ID(), x.sim.overlap)
		}
		for c, as := range x.sim.accepted {
			if len(as) != 1 {
				t.Errorf("call %s answered by %v", c, as)
			}
		}
		x.sim.mu.Unlock()
	}
	checkOfferLog(t, db, 2*perNode)
}

// The dispatcher dies with a call waiting and no agent free: another node
// takes over within seconds, and the call is offered once an agent is free.
func TestQueuedCallSurvivesDispatcherDeath(t *testing.T) {
	db := freshDB(t)
	a := startNode(t, db, "a", nil)
	waitFor(t, "a dispatches", 5*time.Second, a.acd.Dispatching)
	b := startNode(t, db, "b", []string{"ann"})
	b.acd.SetAgent("ann", map[string]int{"support": 5}, 1)
	if err := b.acd.Enqueue(routing.Contact{CallID: "kept", Queue: "support"}); err != nil {
		t.Fatal(err)
	}
	enqueued := time.Now()
	if err := a.acd.Enqueue(routing.Contact{CallID: "on-a", Queue: "support"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the call has waited a while when the dispatcher dies
	if b.acd.Dispatching() {
		t.Fatal("two dispatchers")
	}
	killed := time.Now()
	a.crash()
	waitFor(t, "b takes over", 5*time.Second, b.acd.Dispatching)
	t.Logf("takeover %s after the dispatcher died", time.Since(killed).Round(time.Millisecond))
	// a's own queued call went with it once a is declared dead.
	waitFor(t, "dead node's queued call removed", 5*time.Second, func() bool { return queuedRows(t, db) == 1 })
	// The new dispatcher kept the surviving call's wait.
	for _, q := range b.acd.Queues() {
		if q.Name == "support" && time.Duration(q.LongestWaitMS)*time.Millisecond < time.Since(enqueued)-500*time.Millisecond {
			t.Errorf("the new dispatcher restarted the call's wait: %d ms, waited %s", q.LongestWaitMS, time.Since(enqueued))
		}
	}
	if err := b.acd.SetState("ann", routing.Available, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the surviving call answered", 10*time.Second, func() bool {
		b.sim.mu.Lock()
		defer b.sim.mu.Unlock()
		return len(b.sim.accepted["kept"]) == 1
	})
	if q := queuedRows(t, db); q != 0 {
		t.Fatalf("%d calls still queued", q)
	}
}

// A node dies: the survivors end its live calls as node lost and free its
// agents; their own calls, and its ended ones, are untouched. Its calls
// were tagged with the node through the store's connection setting.
func TestDeadNodeCallsMarked(t *testing.T) {
	db := freshDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stores := map[string]store.Store{}
	for _, id := range []string{"n1", "n2"} {
		u, err := DatabaseURL(db, id)
		if err != nil {
			t.Fatal(err)
		}
		st, err := postgres.Open(ctx, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		stores[id] = st
	}
	n1 := startNode(t, db, "n1", nil)
	waitFor(t, "n1 dispatches", 5*time.Second, n1.acd.Dispatching)
	n2 := startNode(t, db, "n2", nil)
	n1.acd.SetAgent("bob", map[string]int{"support": 5}, 1)
	if err := n1.acd.SetState("bob", routing.Available, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob available on the dispatcher", 3*time.Second, func() bool {
		v, ok := n1.acd.current().Agent("bob")
		return ok && v.State == routing.Available
	})
	now := time.Now()
	mk := func(id, node string, ended bool, agent string) {
		c := store.Call{ID: id, From: "100", StartedAt: now, Agent: agent}
		if ended {
			c.EndedAt, c.Disposition = now, "caller hung up"
		}
		if err := stores[node].CreateCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	mk("n1-live", "n1", false, "")
	mk("n2-live", "n2", false, "")
	mk("n2-talk", "n2", false, "bob")
	mk("n2-done", "n2", true, "")
	if err := n2.acd.Claim("bob"); err != nil { // bob talks on n2's call
		t.Fatal(err)
	}
	waitFor(t, "bob busy", 3*time.Second, func() bool { v, _ := n1.acd.Agent("bob"); return v.State == routing.Busy })
	var node string
	c, _ := pgx.Connect(ctx, db)
	defer c.Close(ctx)
	if err := c.QueryRow(ctx, `SELECT node FROM calls WHERE id = 'n2-live'`).Scan(&node); err != nil || node != "n2" {
		t.Fatalf("calls.node = %q, %v; want n2", node, err)
	}
	n2.crash()
	waitFor(t, "n2's live calls ended", 5*time.Second, func() bool {
		got, err := stores["n1"].Call(ctx, "n2-live")
		return err == nil && !got.EndedAt.IsZero()
	})
	for id, want := range map[string]string{"n2-live": DispositionNodeLost, "n2-talk": DispositionNodeLost, "n2-done": "caller hung up", "n1-live": ""} {
		got, err := stores["n1"].Call(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Disposition != want {
			t.Errorf("%s: disposition %q, want %q", id, got.Disposition, want)
		}
	}
	if got, _ := stores["n1"].Call(ctx, "n1-live"); !got.EndedAt.IsZero() {
		t.Error("a live node's call was ended")
	}
	var status string
	if err := c.QueryRow(ctx, `SELECT status FROM nodes WHERE id = 'n2'`).Scan(&status); err != nil || status != "dead" {
		t.Fatalf("n2 status %q, %v", status, err)
	}
	waitFor(t, "bob freed", 5*time.Second, func() bool {
		v, _ := n1.acd.Agent("bob")
		return v.Calls == 0 && v.State == routing.Available
	})

	// n2 was only cut off: it comes back and ends bob's call itself, by
	// which time bob has taken another call. That call keeps him busy.
	if err := n1.acd.Claim("bob"); err != nil {
		t.Fatal(err)
	}
	calls := func() int {
		n, _ := dbValue[int](t, db, `SELECT calls FROM acd_agents WHERE username = 'bob'`)
		return n
	}
	if n := calls(); n != 1 {
		t.Fatalf("bob has %d calls after a claim, want 1", n)
	}
	n1.acd.ReleaseCall("bob", "n2-talk")
	if n := calls(); n != 1 {
		t.Fatalf("the lost call's late release left bob with %d calls, want 1", n)
	}
	n1.acd.ReleaseCall("bob", "n1-out")
	if n := calls(); n != 0 {
		t.Fatalf("bob has %d calls after his call ended, want 0", n)
	}
	waitFor(t, "bob free on the dispatcher", 5*time.Second, func() bool {
		v, _ := n1.acd.Agent("bob")
		return v.Calls == 0
	})
}

// A second process with a node id that is up is refused.
func TestDuplicateNodeIDRefused(t *testing.T) {
	db := freshDB(t)
	startNode(t, db, "twin", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Join(ctx, db, Config{NodeID: "twin", Log: quiet}); err == nil {
		t.Fatal("second node with the same id joined")
	}
	if _, err := Join(ctx, db, Config{NodeID: "bad id!", Log: quiet}); err == nil {
		t.Fatal("bad node id accepted")
	}
}

// TestDispatcherThroughput measures (it asserts only correctness) how fast
// the shared ACD turns calls into answered offers: three nodes, many agents
// answering at once, a burst of calls. Run it with CONTACTD_CLUSTER_MEASURE=1;
// deploy/cluster.md has the figures.
func TestDispatcherThroughput(t *testing.T) {
	if os.Getenv("CONTACTD_CLUSTER_MEASURE") != "1" {
		t.Skip("a measurement: set CONTACTD_CLUSTER_MEASURE=1")
	}
	db := freshDB(t)
	const nAgents, perNode = 300, 400
	var agents [3][]string
	for i := 0; i < nAgents; i++ {
		agents[i%3] = append(agents[i%3], fmt.Sprintf("agent%04d", i))
	}
	ns := []*tnode{startNode(t, db, "n1", agents[0]), startNode(t, db, "n2", agents[1]), startNode(t, db, "n3", agents[2])}
	waitFor(t, "one dispatcher", 5*time.Second, func() bool { return dispatchers(ns...) == 1 })
	for _, n := range ns {
		n.sim.talk = 200 * time.Millisecond
	}
	setAvailable(t, ns, agents[:])
	time.Sleep(time.Second) // the dispatcher has applied the agents
	start := time.Now()
	var wg sync.WaitGroup
	for i, n := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < perNode; k++ {
				if err := n.acd.Enqueue(routing.Contact{CallID: fmt.Sprintf("c%d-%04d", i, k), Queue: "support"}); err != nil {
					t.Errorf("enqueue: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	enq := time.Since(start)
	total := 3 * perNode
	waitFor(t, "every call answered", 120*time.Second, func() bool {
		n := 0
		for _, x := range ns {
			x.sim.mu.Lock()
			n += len(x.sim.accepted)
			x.sim.mu.Unlock()
		}
		return n == total
	})
	took := time.Since(start)
	checkOfferLog(t, db, total)
	t.Logf("%d calls from 3 nodes, %d agents: enqueued in %s (%.0f/s), all offered and answered in %s (%.0f calls/s through the dispatcher)",
		total, nAgents, enq.Round(time.Millisecond), float64(total)/enq.Seconds(), took.Round(time.Millisecond), float64(total)/took.Seconds())
}

// setAvailable gives each node's agents (agents[i] on ns[i]) the support
// skill and makes them available.
func setAvailable(t *testing.T, ns []*tnode, agents [][]string) {
	t.Helper()
	for i, n := range ns {
		for _, a := range agents[i] {
			n.acd.SetAgent(a, map[string]int{"support": 5}, 1)
			if err := n.acd.SetState(a, routing.Available, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// acceptedCalls is how many calls the nodes' agents have accepted.
func acceptedCalls(ns []*tnode) int {
	n := 0
	for _, x := range ns {
		x.sim.mu.Lock()
		n += len(x.sim.accepted)
		x.sim.mu.Unlock()
	}
	return n
}
