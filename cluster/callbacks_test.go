package cluster

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactd/contactd/asr/none"
	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/postgres"
)

// trunkLog is a node's outside line: it records the numbers dialled and
// reports them unanswered.
type trunkLog struct {
	mu     sync.Mutex
	called []string
}

func (d *trunkLog) Check(string, string) error { return nil }
func (d *trunkLog) CallOut(_ context.Context, _, number string) (media.Leg, error) {
	d.mu.Lock()
	d.called = append(d.called, number)
	d.mu.Unlock()
	return nil, errors.New("no answer")
}
func (d *trunkLog) numbers() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.called...)
}

// callNode is a cluster node with its call manager, as serve wires them.
type callNode struct {
	*tnode
	st    store.Store
	m     *call.Manager
	trunk *trunkLog
}

func startCallNode(t *testing.T, db, id string) *callNode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	u, err := DatabaseURL(db, id)
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tn := startNode(t, u, id, nil)
	trunk := &trunkLog{}
	m := call.NewManager(call.Options{Store: st, Router: tn.acd, ASR: none.Recognizer{}, Dialer: trunk, DataDir: t.TempDir(), Log: quiet,
		Queues: map[string]call.QueuePolicy{"support": {Callback: true}},
		NewLeg: func(context.Context, string) (media.Leg, string, error) {
			leg, err := media.NewRTPLeg(media.RTPConfig{IP: net.IPv4(127, 0, 0, 1)})
			return leg, "v=0", err
		}})
	t.Cleanup(func() {
		m.Drain()
		wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = m.Wait(wctx)
	})
	tn.acd.SetCallbacks(m)
	return &callNode{tnode: tn, st: st, m: m, trunk: trunk}
}

// askCallback does what a waiting caller pressing 1 does on node n
// (call.Call.startCallback): the call's place goes to the callback, which
// is stored and waits on n.
func (n *callNode) askCallback(t *testing.T, callID, cbID, number string) store.Callback {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.acd.Enqueue(routing.Contact{CallID: callID, Queue: "support", From: number}); err != nil {
		t.Fatal(err)
	}
	ct, err := n.acd.Handoff(callID, cbID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rec := store.Callback{ID: cbID, CallID: callID, Number: number, Queue: "support", WaitingSince: ct.Since,
		ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	if err := n.st.AddCallback(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := n.m.AdoptCallback(rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func dbValue[T any](t *testing.T, db, sql string, args ...any) (T, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v T
	err = c.QueryRow(ctx, sql, args...).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return v, true
}

// TestCallbackOfDeadNodeCalledBack: a caller on node a asks for a
// callback; a waits for an agent to dial it. Node a dies. The dispatcher
// (b) adopts the callback: it waits on b now, in its caller's place (ahead
// of a callback asked later on b), and an agent answering it makes b's
// trunk dial the caller. Then b's own callback is dialled by b. Node a's
// trunk dials nothing, and the answered callbacks leave the store.
func TestCallbackOfDeadNodeCalledBack(t *testing.T) {
	db := freshDB(t)
	a := startCallNode(t, db, "a")
	waitFor(t, "a dispatches", 5*time.Second, a.acd.Dispatching)
	b := startCallNode(t, db, "b")
	b.acd.SetAgent("ann", map[string]int{"support": 5}, 1)

	rec := a.askCallback(t, "call-on-a", "cb-a", "+15550177")
	time.Sleep(50 * time.Millisecond) // the next caller asked later
	b.askCallback(t, "call-on-b", "cb-b", "+15550188")
	if node, _ := dbValue[string](t, db, `SELECT node FROM callbacks WHERE id = 'cb-a'`); node != "a" {
		t.Fatalf("the callback asked on a is stored as node %q's", node)
	}
	// An agent's answer to the callback goes to the node that waits for it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if owner, _, _, err := b.node.ownerOf(ctx, "cb-a"); err != nil || owner != "a" {
		t.Fatalf("owner of the waiting callback: %q, %v; want a", owner, err)
	}

	a.crash()
	waitFor(t, "b dispatches", 5*time.Second, b.acd.Dispatching)
	waitFor(t, "b adopts a's callback", 10*time.Second, func() bool {
		node, _ := dbValue[string](t, db, `SELECT node FROM callbacks WHERE id = 'cb-a'`)
		qnode, _ := dbValue[string](t, db, `SELECT node FROM acd_queue WHERE call_id = 'cb-a'`)
		return node == "b" && qnode == "b"
	})
	if st, _ := dbValue[string](t, db, `SELECT status FROM nodes WHERE id = 'a'`); st != "dead" {
		t.Fatalf("a is %q", st)
	}
	if p, err := b.acd.Position("cb-a"); err != nil || p.Ahead != 0 {
		t.Errorf("the adopted callback's place: %+v, %v; want first", p, err)
	}
	if p, err := b.acd.Position("cb-b"); err != nil || p.Ahead != 1 {
		t.Errorf("the later callback's place: %+v, %v; want second", p, err)
	}
	if owner, _, _, err := b.node.ownerOf(ctx, "cb-a"); err != nil || owner != "b" {
		t.Fatalf("owner of the adopted callback: %q, %v; want b", owner, err)
	}

	// An agent frees up: offered the adopted callback first; answering
	// it makes b dial the caller.
	answer := func(id string) {
		t.Helper()
		waitFor(t, "ann offered "+id, 10*time.Second, func() bool {
			v, _ := b.acd.Agent("ann")
			return v.Offering == id
		})
		if _, err := b.m.AnswerWebRTC(ctx, id, "ann", "v=0"); err != nil {
			t.Fatalf("answer %s: %v", id, err)
		}
	}
	if err := b.acd.SetState("ann", routing.Available, ""); err != nil {
		t.Fatal(err)
	}
	answer("cb-a")
	waitFor(t, "b dials a's caller", 10*time.Second, func() bool { return len(b.trunk.numbers()) == 1 })
	if got := b.trunk.numbers(); got[0] != rec.Number {
		t.Fatalf("b dialled %v, want %s", got, rec.Number)
	}
	answer("cb-b")
	waitFor(t, "b dials its own caller", 10*time.Second, func() bool { return len(b.trunk.numbers()) == 2 })
	if got := b.trunk.numbers(); got[1] != "+15550188" {
		t.Fatalf("b dialled %v", got)
	}
	if got := a.trunk.numbers(); len(got) != 0 {
		t.Fatalf("the dead node dialled %v", got)
	}
	waitFor(t, "the dialled callbacks leave the store", 10*time.Second, func() bool {
		n, _ := dbValue[int64](t, db, `SELECT count(*) FROM callbacks`)
		return n == 0
	})
	if n, _ := dbValue[int64](t, db, `SELECT count(*) FROM acd_queue`); n != 0 {
		t.Fatalf("%d left waiting", n)
	}
}

// TestRestartedNodeGivesUpItsCallbacks: a node alone (so nobody declares
// it dead) crashes with a callback waiting and a call on the waiting list;
// restarted with the same id, it gives up its previous run's callback at
// Join and drops the stale call, then adopts the callback as the
// dispatcher. Then a second node asks for a callback and leaves cleanly:
// the dispatcher adopts that one too.
func TestRestartedNodeGivesUpItsCallbacks(t *testing.T) {
	db := freshDB(t)
	r := startCallNode(t, db, "r")
	waitFor(t, "r dispatches", 5*time.Second, r.acd.Dispatching)
	r.askCallback(t, "r-call-1", "cb-r", "+15550199")
	if err := r.acd.Enqueue(routing.Contact{CallID: "r-stale", Queue: "support"}); err != nil {
		t.Fatal(err)
	}
	r.crash()
	// A process with the id of a node that is up is refused until its
	// heartbeat is older than dead-after.
	waitFor(t, "r's heartbeat to age", 10*time.Second, func() bool {
		old, _ := dbValue[bool](t, db, `SELECT heartbeat_at < now() - interval '2.2 seconds' FROM nodes WHERE id = 'r'`)
		return old
	})
	if st, _ := dbValue[string](t, db, `SELECT status FROM nodes WHERE id = 'r'`); st != "up" {
		t.Fatalf("r is %q: nobody should have declared it dead", st)
	}
	r = startCallNode(t, db, "r")
	if _, ok := dbValue[string](t, db, `SELECT node FROM acd_queue WHERE call_id = 'r-stale'`); ok {
		t.Error("the previous run's waiting call is still queued")
	}
	waitFor(t, "r adopts its previous run's callback", 10*time.Second, func() bool {
		node, _ := dbValue[string](t, db, `SELECT node FROM callbacks WHERE id = 'cb-r'`)
		qnode, _ := dbValue[string](t, db, `SELECT node FROM acd_queue WHERE call_id = 'cb-r'`)
		return node == "r" && qnode == "r"
	})

	// A clean stop: the node's manager stops waiting, the node leaves, and
	// the dispatcher adopts what it left.
	l := startCallNode(t, db, "l")
	l.askCallback(t, "l-call", "cb-l", "+15550111")
	l.m.Drain()
	l.stop()
	waitFor(t, "r adopts the callback of a node that left", 10*time.Second, func() bool {
		node, _ := dbValue[string](t, db, `SELECT node FROM callbacks WHERE id = 'cb-l'`)
		qnode, _ := dbValue[string](t, db, `SELECT node FROM acd_queue WHERE call_id = 'cb-l'`)
		return node == "r" && qnode == "r"
	})
	// Both wait on r now: an agent takes them, r dials.
	r.acd.SetAgent("ann", map[string]int{"support": 5}, 1)
	if err := r.acd.SetState("ann", routing.Available, ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range []string{"cb-r", "cb-l"} {
		waitFor(t, "ann offered "+id, 10*time.Second, func() bool { v, _ := r.acd.Agent("ann"); return v.Offering == id })
		if _, err := r.m.AnswerWebRTC(ctx, id, "ann", "v=0"); err != nil {
			t.Fatalf("answer %s: %v", id, err)
		}
	}
	waitFor(t, "r dials both", 10*time.Second, func() bool { return len(r.trunk.numbers()) == 2 })
	if got := l.trunk.numbers(); len(got) != 0 {
		t.Fatalf("the node that left dialled %v", got)
	}
}

// countingRunner counts the callbacks a node tried to arm.
type countingRunner struct {
	CallbackRunner
	mu    sync.Mutex
	tried []string
}

func (c *countingRunner) AdoptCallback(rec store.Callback) error {
	c.mu.Lock()
	c.tried = append(c.tried, rec.ID)
	c.mu.Unlock()
	return c.CallbackRunner.AdoptCallback(rec)
}

// TestCallbackNotArmableLeftForOthers: the dispatcher cannot dial (no
// trunk): a stored callback of no node is tried once, given back (no node,
// not queued) and not tried again every tick.
func TestCallbackNotArmableLeftForOthers(t *testing.T) {
	db := freshDB(t)
	d := startNode(t, db, "d", nil)
	waitFor(t, "d dispatches", 5*time.Second, d.acd.Dispatching)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, db, nil) // no node: as a single node stored it
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := call.NewManager(call.Options{Store: st, Router: d.acd, ASR: none.Recognizer{}, Log: quiet}) // no Dialer
	defer m.Drain()
	runner := &countingRunner{CallbackRunner: m}
	d.acd.SetCallbacks(runner)
	if err := st.AddCallback(ctx, store.Callback{ID: "cb-x", Number: "+15550100", Queue: "support",
		WaitingSince: time.Now(), ExpiresAt: time.Now().Add(time.Hour), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the callback tried", 5*time.Second, func() bool {
		runner.mu.Lock()
		defer runner.mu.Unlock()
		return len(runner.tried) == 1
	})
	time.Sleep(time.Second) // ten ticks
	runner.mu.Lock()
	tried := len(runner.tried)
	runner.mu.Unlock()
	if tried != 1 {
		t.Errorf("tried %d times in a second, want once", tried)
	}
	if node, _ := dbValue[string](t, db, `SELECT node FROM callbacks WHERE id = 'cb-x'`); node != "" {
		t.Errorf("callback left with node %q, want none", node)
	}
	if _, ok := dbValue[string](t, db, `SELECT node FROM acd_queue WHERE call_id = 'cb-x'`); ok {
		t.Error("a callback nobody can dial is on the waiting list")
	}
}
