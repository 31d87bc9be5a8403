package call

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/asr/none"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/privacy"
	"github.com/contactd/contactd/recordings"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/sqlite"
)

// dialLog is a Dialer that records the numbers called and answers with leg.
type dialLog struct {
	mu     sync.Mutex
	called []string
	leg    media.Leg
}

func (d *dialLog) Check(string, string) error { return nil }
func (d *dialLog) CallOut(_ context.Context, _, number string) (media.Leg, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.called = append(d.called, number)
	return d.leg, nil
}
func (d *dialLog) numbers() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.called...)
}

// TestCallbackSurvivesRestart: a caller asks for a callback while nobody
// is free; contactd stops (the manager drains, the store closes) and
// starts again on the same database; the callback is re-armed in the
// caller's place in line — ahead of a call that arrived after the restart
// — and when an agent frees up, the number is called and the stored
// callback goes.
func TestCallbackSurvivesRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	start := func() (store.Store, *routing.Router) {
		st, err := sqlite.Open(ctx, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := routing.New(nil, routing.Options{OfferTimeout: time.Minute, WrapUp: time.Millisecond})
		if err := r.SetQueue(routing.QueueConfig{Name: "sales", Skill: "sales", SLATarget: 20 * time.Second}); err != nil {
			t.Fatal(err)
		}
		r.SetAgent("dave", map[string]int{"sales": 7}, 1) // offline
		return st, r
	}

	// The first run: the caller waits, then presses 1.
	st1, r1 := start()
	m1 := NewManager(Options{Store: st1, Router: r1, ASR: none.Recognizer{}, TTS: silentTTS{}, DataDir: t.TempDir(),
		Dialer: &dialLog{}, Queues: map[string]QueuePolicy{"sales": {Callback: true}}})
	waitingSince := time.Now()
	if err := r1.Enqueue(routing.Contact{CallID: "c1", Queue: "sales", From: "+15550177", Priority: 2, VIP: true}); err != nil {
		t.Fatal(err)
	}
	callerLeg := newToneLeg("caller", 0)
	defer callerLeg.Close()
	caller := m1.newCall(Inbound{ID: "c1", From: "+15550177", To: "sales", Leg: callerLeg})
	caller.rec.Queue, caller.rec.Intent = "sales", "buy"
	time.Sleep(50 * time.Millisecond) // a place in line older than what comes after the restart
	if !caller.startCallback(ctx) {
		t.Fatal("the callback was refused")
	}
	pending, err := st1.PendingCallbacks(ctx, 0)
	if err != nil || len(pending) != 1 {
		t.Fatalf("stored callbacks %+v, %v; want one", pending, err)
	}
	cb := pending[0]
	if cb.Number != "+15550177" || cb.Queue != "sales" || cb.Intent != "buy" || cb.CallID != "c1" || cb.Priority != 2 || !cb.VIP ||
		cb.WaitingSince.Sub(waitingSince).Abs() > 20*time.Millisecond {
		t.Fatalf("stored callback %+v", cb)
	}
	// Stop: the pending callback stops waiting at once and stays stored.
	m1.Drain()
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	if err := m1.Wait(wctx); err != nil {
		t.Fatalf("drain with a pending callback: %v", err)
	}
	wcancel()
	r1.Close()
	st1.Close()

	// The second run on the same database.
	st2, r2 := start()
	defer st2.Close()
	defer r2.Close()
	customer := newToneLeg("customer", 700)
	defer customer.Close()
	dialer := &dialLog{leg: rfcLeg{customer}}
	m2 := NewManager(Options{Store: st2, Router: r2, ASR: none.Recognizer{}, TTS: silentTTS{}, DataDir: t.TempDir(),
		Dialer: dialer, Queues: map[string]QueuePolicy{"sales": {Callback: true}}})
	if err := r2.Enqueue(routing.Contact{CallID: "c2", Queue: "sales", From: "+15550188", Priority: 2, VIP: true}); err != nil { // the same score but for the wait
		t.Fatal(err)
	}
	if n, err := m2.RearmCallbacks(ctx); err != nil || n != 1 {
		t.Fatalf("RearmCallbacks = %d, %v; want 1", n, err)
	}
	if p, err := r2.Position(cb.ID); err != nil || p.Ahead != 0 {
		t.Fatalf("the callback's place after the restart: %+v %v; want first", p, err)
	}
	if err := r2.SetState("dave", routing.Available, ""); err != nil {
		t.Fatal(err)
	}
	if v, _ := r2.Agent("dave"); v.Offering != cb.ID {
		t.Fatalf("dave offered %q, want the callback %s", v.Offering, cb.ID)
	}
	agentLeg := newToneLeg("dave", 1100)
	defer agentLeg.Close()
	if err := m2.join(cb.ID, "dave", agentLeg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the customer called back", func() bool { return len(dialer.numbers()) == 1 })
	if got := dialer.numbers(); got[0] != "+15550177" {
		t.Fatalf("called %v, want the caller's number", got)
	}
	waitFor(t, "the stored callback to go", func() bool {
		p, err := st2.PendingCallbacks(ctx, 0)
		return err == nil && len(p) == 0
	})
	waitFor(t, "the bridge", func() bool { c, err := m2.call(cb.ID); return err == nil && c.bridged.Load() })
	customer.Close()
	wctx, wcancel = context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := m2.Wait(wctx); err != nil {
		t.Fatalf("the called-back call did not end: %v", err)
	}
	c, err := st2.Call(ctx, cb.ID)
	if err != nil || c.Agent != "dave" || c.From != "+15550177" {
		t.Fatalf("the callback's call record: %+v, %v", c, err)
	}
}

// TestCallbackExpiredAtStart: a stored callback past its expiry is
// dropped at start, not dialled.
func TestCallbackExpiredAtStart(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := routing.New(nil, routing.Options{})
	defer r.Close()
	r.AddQueue("sales", "sales")
	now := time.Now()
	for _, cb := range []store.Callback{
		{ID: "cb-old", Number: "+15550101", Queue: "sales", WaitingSince: now.Add(-9 * time.Hour), ExpiresAt: now.Add(-time.Hour)},
		{ID: "cb-gone-queue", Number: "+15550102", Queue: "closed", WaitingSince: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)},
	} {
		if err := st.AddCallback(ctx, cb); err != nil {
			t.Fatal(err)
		}
	}
	m := NewManager(Options{Store: st, Router: r, ASR: none.Recognizer{}, TTS: silentTTS{}, Dialer: &dialLog{}})
	if n, err := m.RearmCallbacks(ctx); err != nil || n != 0 {
		t.Fatalf("RearmCallbacks = %d, %v; want 0", n, err)
	}
	p, err := st.PendingCallbacks(ctx, 0)
	if err != nil || len(p) != 1 || p[0].ID != "cb-gone-queue" {
		t.Fatalf("stored after start: %+v, %v; want the expired one gone, the one of a missing queue kept", p, err)
	}
}

// TestCancelCallbacks: two callers wait for callbacks; the first one's
// data is erased (CancelCallbacks, as privacy.EraseCustomer calls it).
// Their callback leaves the line and its stored record goes; when an
// agent frees up only the other caller is called back.
func TestCancelCallbacks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := routing.New(nil, routing.Options{OfferTimeout: time.Minute, WrapUp: time.Millisecond})
	defer r.Close()
	r.AddQueue("sales", "sales")
	r.SetAgent("dave", map[string]int{"sales": 7}, 1) // offline
	customer := newToneLeg("customer", 700)
	defer customer.Close()
	dialer := &dialLog{leg: rfcLeg{customer}}
	m := NewManager(Options{Store: st, Router: r, ASR: none.Recognizer{}, TTS: silentTTS{}, DataDir: t.TempDir(),
		Dialer: dialer, Queues: map[string]QueuePolicy{"sales": {Callback: true}}})
	ask := func(callID, from string) {
		t.Helper()
		if err := r.Enqueue(routing.Contact{CallID: callID, Queue: "sales", From: from}); err != nil {
			t.Fatal(err)
		}
		leg := newToneLeg(callID, 0)
		t.Cleanup(func() { leg.Close() })
		c := m.newCall(Inbound{ID: callID, From: from, To: "sales", Leg: leg})
		c.rec.Queue = "sales"
		if !c.startCallback(ctx) {
			t.Fatalf("%s: the callback was refused", callID)
		}
	}
	ask("c1", "+15550177")
	ask("c2", "+15550188")
	pending, err := st.PendingCallbacks(ctx, 0)
	if err != nil || len(pending) != 2 {
		t.Fatalf("stored callbacks %+v, %v", pending, err)
	}
	// The two were asked for within the same millisecond, the store's
	// resolution: their order is not the test's business.
	if pending[0].Number != "+15550177" {
		pending[0], pending[1] = pending[1], pending[0]
	}
	if pending[0].Number != "+15550177" || pending[1].Number != "+15550188" {
		t.Fatalf("stored callbacks %+v", pending)
	}
	erased, kept := pending[0].ID, pending[1].ID

	if ids := m.CancelCallbacks("+15550177"); len(ids) != 1 || ids[0] != erased {
		t.Fatalf("CancelCallbacks = %v, want [%s]", ids, erased)
	}
	if ids := m.CancelCallbacks("+15550177"); len(ids) != 0 {
		t.Errorf("CancelCallbacks again = %v, want none", ids)
	}
	waitFor(t, "the cancelled callback to leave the line and the store", func() bool {
		_, err := r.Position(erased)
		p, serr := st.PendingCallbacks(ctx, 0)
		return err != nil && serr == nil && len(p) == 1 && p[0].ID == kept
	})
	if _, err := r.Position(kept); err != nil {
		t.Fatalf("the other callback left the line: %v", err)
	}
	if err := r.SetState("dave", routing.Available, ""); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Agent("dave"); v.Offering != kept {
		t.Fatalf("dave offered %q, want the remaining callback %s", v.Offering, kept)
	}
	agentLeg := newToneLeg("dave", 1100)
	defer agentLeg.Close()
	if err := m.join(kept, "dave", agentLeg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other customer called back", func() bool { return len(dialer.numbers()) == 1 })
	if got := dialer.numbers(); got[0] != "+15550188" {
		t.Fatalf("called %v, want only +15550188", got)
	}
	customer.Close()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := m.Wait(wctx); err != nil {
		t.Fatalf("calls did not end: %v", err)
	}
	if got := dialer.numbers(); len(got) != 1 {
		t.Errorf("called %v, want only +15550188", got)
	}
}

// TestEraseWithdrawsCallbackArmedElsewhere: two managers share one
// routing engine and one store, as nodes of a cluster share the ACD and
// the database. A callback armed on node A is erased through node B
// (privacy.EraseCustomer with B's manager): B has nothing armed, but the
// store's erasure names the callback and B withdraws it from the shared
// queue, so when an agent frees up nothing is offered and A dials nobody.
func TestEraseWithdrawsCallbackArmedElsewhere(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	files, err := recordings.New(dir, make([]byte, recordings.KeySize), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := routing.New(nil, routing.Options{OfferTimeout: time.Minute, WrapUp: time.Millisecond})
	defer r.Close()
	r.AddQueue("sales", "sales")
	r.SetAgent("dave", map[string]int{"sales": 7}, 1) // offline
	dialA := &dialLog{}
	opts := func(d Dialer) Options {
		return Options{Store: st, Router: r, ASR: none.Recognizer{}, TTS: silentTTS{}, DataDir: t.TempDir(),
			Dialer: d, Queues: map[string]QueuePolicy{"sales": {Callback: true}}}
	}
	a, b := NewManager(opts(dialA)), NewManager(opts(&dialLog{}))
	defer a.Drain()
	if err := r.Enqueue(routing.Contact{CallID: "c1", Queue: "sales", From: "+15550177"}); err != nil {
		t.Fatal(err)
	}
	leg := newToneLeg("caller", 0)
	defer leg.Close()
	c := a.newCall(Inbound{ID: "c1", From: "+15550177", To: "sales", Leg: leg})
	c.rec.Queue = "sales"
	if !c.startCallback(ctx) {
		t.Fatal("the callback was refused")
	}
	pending, err := st.PendingCallbacks(ctx, 0)
	if err != nil || len(pending) != 1 {
		t.Fatalf("stored callbacks %+v, %v", pending, err)
	}
	id := pending[0].ID

	e, err := privacy.EraseCustomer(ctx, st, files, b, "+15550177", "admin", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Callbacks) != 1 || e.Callbacks[0] != id {
		t.Fatalf("erased callbacks %v, want [%s]", e.Callbacks, id)
	}
	if _, err := r.Position(id); err == nil {
		t.Fatal("the callback still waits in the shared queue")
	}
	if err := r.SetState("dave", routing.Available, ""); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Agent("dave"); v.Offering != "" {
		t.Fatalf("dave offered %q after the erasure", v.Offering)
	}
	if p, _ := st.PendingCallbacks(ctx, 0); len(p) != 0 {
		t.Errorf("stored callbacks after the erasure: %+v", p)
	}
	if got := dialA.numbers(); len(got) != 0 {
		t.Errorf("node A called %v", got)
	}
}
