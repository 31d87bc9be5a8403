package call

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactd/contactd/outbox"
	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/sqlite"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

var errDown = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

// flakyStore is a store whose writes (and the reads post-call work
// does) fail while it is down, as Postgres's would during an outage; fail
// narrows the outage to some methods.
type flakyStore struct {
	store.Store
	mu   sync.Mutex
	down bool
	fail map[string]bool // nil: every method below fails while down
	// gate, when set, holds AddSegments until it is closed; inflight and
	// peak count the AddSegments running at once.
	gate           chan struct{}
	inflight, peak atomic.Int32
}

func (f *flakyStore) set(down bool, methods ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down, f.fail = down, nil
	if len(methods) > 0 {
		f.fail = map[string]bool{}
		for _, m := range methods {
			f.fail[m] = true
		}
	}
}

func (f *flakyStore) err(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down && (f.fail == nil || f.fail[method]) {
		return errDown
	}
	return nil
}

func (f *flakyStore) CreateCall(ctx context.Context, c store.Call) error {
	if err := f.err("CreateCall"); err != nil {
		return err
	}
	return f.Store.CreateCall(ctx, c)
}

func (f *flakyStore) UpdateCall(ctx context.Context, c store.Call) error {
	if err := f.err("UpdateCall"); err != nil {
		return err
	}
	return f.Store.UpdateCall(ctx, c)
}

func (f *flakyStore) AddSegments(ctx context.Context, id string, s []transcript.Segment) error {
	if err := f.err("AddSegments"); err != nil {
		return err
	}
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for p := f.peak.Load(); n > p && !f.peak.CompareAndSwap(p, n); p = f.peak.Load() {
	}
	if f.gate != nil {
		<-f.gate
	}
	return f.Store.AddSegments(ctx, id, s)
}

func (f *flakyStore) AddIVRVisits(ctx context.Context, vs []store.IVRVisit) error {
	if err := f.err("AddIVRVisits"); err != nil {
		return err
	}
	return f.Store.AddIVRVisits(ctx, vs)
}

func (f *flakyStore) OpenTicket(ctx context.Context, cust, cat string, since time.Time) (tickets.Ticket, error) {
	if err := f.err("OpenTicket"); err != nil {
		return tickets.Ticket{}, err
	}
	return f.Store.OpenTicket(ctx, cust, cat, since)
}

func (f *flakyStore) CreateTicket(ctx context.Context, t tickets.Ticket) error {
	if err := f.err("CreateTicket"); err != nil {
		return err
	}
	return f.Store.CreateTicket(ctx, t)
}

func (f *flakyStore) CreateEvaluation(ctx context.Context, e qa.Evaluation) error {
	if err := f.err("CreateEvaluation"); err != nil {
		return err
	}
	return f.Store.CreateEvaluation(ctx, e)
}

type postFixture struct {
	st    *flakyStore
	box   *outbox.Box
	dir   string
	m     *Manager
	inner store.Store
}

func newPostFixture(t *testing.T, dir string) *postFixture {
	t.Helper()
	inner, err := sqlite.Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inner.Close() })
	st := &flakyStore{Store: inner}
	box, err := outbox.Open(filepath.Join(dir, "outbox"), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(Options{Store: st, Outbox: box, Post: &PostCall{Store: st, Scorecard: qa.DefaultScorecard(), RepeatWindow: -1}})
	return &postFixture{st: st, box: box, dir: dir, m: m, inner: inner}
}

func endedJob(id string) *PostJob {
	now := time.Now()
	return &PostJob{
		Call: store.Call{ID: id, From: "+15550100", To: "support", StartedAt: now.Add(-time.Minute), EndedAt: now,
			Intent: "order_status", Disposition: "caller hung up"},
		Visits: []store.IVRVisit{{CallID: id, Flow: "main", Node: "greet", Kind: "prompt", EnteredAt: now.Add(-time.Minute), LeftAt: now}},
		Transcript: transcript.Transcript{CallID: id, CallerNumber: "+15550100", Intent: "order_status", Segments: segs(
			"c: where is my order five eight two one three", "a: it will be delivered tomorrow", "c: thanks")},
	}
}

// stored checks that the call's work is in the store exactly once.
func (f *postFixture) stored(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	c, err := f.inner.Call(ctx, id)
	if err != nil || c.EndedAt.IsZero() || c.Disposition != "caller hung up" {
		t.Fatalf("call %s: %+v %v", id, c, err)
	}
	sg, _ := f.inner.Segments(ctx, id)
	ts, _ := f.inner.TicketsByCall(ctx, id)
	es, _ := f.inner.EvaluationsByCall(ctx, id)
	if len(sg) != 3 || len(ts) != 1 || len(es) != 1 {
		t.Fatalf("call %s: %d segments, %d tickets, %d evaluations; want 3, 1, 1", id, len(sg), len(ts), len(es))
	}
}

func pending(t *testing.T, b *outbox.Box) []string {
	t.Helper()
	ids, err := b.Pending()
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func waitUntil(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOutboxDatabaseOutage: calls that end while the database is down
// (even one that began while it was down, so its record was never
// created) keep their work in the outbox; it is done once the database
// is back, without duplicates.
func TestOutboxDatabaseOutage(t *testing.T) {
	f := newPostFixture(t, t.TempDir())
	ctx := context.Background()

	// The happy path leaves nothing behind.
	if _, err := f.m.postCallWork(ctx, endedJob("ok"), f.m.opts.Log); err != nil {
		t.Fatal(err)
	}
	f.stored(t, "ok")
	if p := pending(t, f.box); len(p) != 0 {
		t.Fatalf("pending after success: %v", p)
	}

	f.st.set(true)
	if _, err := f.m.postCallWork(ctx, endedJob("down1"), f.m.opts.Log); !errors.Is(err, errDown) {
		t.Fatalf("post-call work while down: %v", err)
	}
	if _, err := f.m.postCallWork(ctx, endedJob("down2"), f.m.opts.Log); err == nil {
		t.Fatal("post-call work while down succeeded")
	}
	if p := pending(t, f.box); len(p) != 2 {
		t.Fatalf("pending: %v, want the two calls", p)
	}
	// A partial outage: the call and transcript went in, the ticket did not.
	f.st.set(true, "CreateTicket")
	if _, err := f.m.postCallWork(ctx, endedJob("half"), f.m.opts.Log); err == nil {
		t.Fatal("half-failed post-call work succeeded")
	}
	var job PostJob
	if err := f.box.Load("half", &job); err != nil || len(job.Done) != 3 {
		t.Fatalf("half job: done %v, %v", job.Done, err)
	}
	f.st.set(true)

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.m.RunOutbox(runCtx) }()
	defer func() { stop(); <-done }()
	time.Sleep(200 * time.Millisecond) // the first pass fails: still down
	if p := pending(t, f.box); len(p) != 3 {
		t.Fatalf("pending while down: %v", p)
	}
	f.st.set(false)
	waitUntil(t, "the outbox to drain", 10*time.Second, func() bool { return len(pending(t, f.box)) == 0 })
	for _, id := range []string{"down1", "down2", "half"} {
		f.stored(t, id)
	}
}

// TestOutboxReplayedAtStart: work a crashed (or stopped) process left in
// the outbox is done by the next one, and a retry after a crash that
// hit between writing the ticket and recording it adds no second ticket.
func TestOutboxReplayedAtStart(t *testing.T) {
	dir := t.TempDir()
	first := newPostFixture(t, dir)
	first.st.set(true)
	if _, err := first.m.postCallWork(context.Background(), endedJob("left"), first.m.opts.Log); err == nil {
		t.Fatal("no failure while down")
	}
	// A job whose ticket is already stored though the job does not say so
	// (the process died after CreateTicket): the retry must not add one.
	first.st.set(false)
	crashed := endedJob("crashed")
	if _, err := first.m.runPostJob(context.Background(), crashed, false); err != nil {
		t.Fatal(err)
	}
	crashed.Done = nil
	if err := first.box.Put("crashed", crashed); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(first.box.Dir(), "garbage.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}

	second := newPostFixture(t, dir) // the next start, same data dir
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); second.m.RunOutbox(ctx) }()
	defer func() { stop(); <-done }()
	waitUntil(t, "the replay", 10*time.Second, func() bool { return len(pending(t, second.box)) == 0 })
	second.stored(t, "left")
	second.stored(t, "crashed")
	if _, err := os.Stat(filepath.Join(second.box.Dir(), "unreadable", "garbage.json")); err != nil {
		t.Errorf("unreadable job not set aside: %v", err)
	}
}

// segmentGate holds AddSegments until release is closed; started is
// closed when the first one begins.
type segmentGate struct {
	store.Store
	started, release chan struct{}
}

func (g *segmentGate) AddSegments(ctx context.Context, id string, s []transcript.Segment) error {
	close(g.started)
	<-g.release
	return g.Store.AddSegments(ctx, id, s)
}

// TestCallEndsAfterTranscript: the post-call work marks the call record
// ended only once its transcript is stored, so that whoever reads the
// record (the API's GET /calls/{id}) never sees an ended call without
// its transcript.
func TestCallEndsAfterTranscript(t *testing.T) {
	ctx := context.Background()
	inner, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	g := &segmentGate{Store: inner, started: make(chan struct{}), release: make(chan struct{})}
	m := NewManager(Options{Store: g, Post: &PostCall{Store: g, Scorecard: qa.DefaultScorecard(), RepeatWindow: -1}})
	job := endedJob("live")
	open := job.Call
	open.EndedAt, open.Disposition = time.Time{}, ""
	if err := inner.CreateCall(ctx, open); err != nil { // as at the call's start
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := m.postCallWork(ctx, job, m.opts.Log); done <- err }()
	<-g.started
	if c, err := inner.Call(ctx, "live"); err != nil || !c.EndedAt.IsZero() {
		t.Fatalf("while the transcript is stored the call is %+v (%v), want it not yet ended", c, err)
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c, err := inner.Call(ctx, "live")
	sg, _ := inner.Segments(ctx, "live")
	if err != nil || c.EndedAt.IsZero() || len(sg) != 3 {
		t.Fatalf("after the post-call work: %+v (%v), %d segments", c, err, len(sg))
	}
}

// TestPostWorkersBounded: ended calls hand their post-call work over at
// once (kept in the outbox), however slow the database; a bounded number
// of workers does it, each job once, and Wait covers them.
func TestPostWorkersBounded(t *testing.T) {
	f := newPostFixture(t, t.TempDir())
	f.m.opts.PostWorkers = 2
	f.st.gate = make(chan struct{})
	var mu sync.Mutex
	ended := map[string]error{}
	const calls = 7
	for i := range calls {
		id := fmt.Sprintf("w%d", i)
		start := time.Now()
		f.m.postLater(endedJob(id), f.m.opts.Log, func(_ Result, err error) {
			mu.Lock()
			ended[id] = err
			mu.Unlock()
		})
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("handing over %s took %v while the database was stuck", id, d)
		}
	}
	if p, _ := f.box.Pending(); len(p) != calls {
		t.Fatalf("outbox holds %d jobs, want %d", len(p), calls)
	}
	waitFor(t, "two workers in the database", func() bool { return f.st.inflight.Load() == 2 })
	time.Sleep(50 * time.Millisecond) // a third would have started by now
	close(f.st.gate)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.m.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if p := f.st.peak.Load(); p != 2 {
		t.Errorf("%d post-call jobs ran at once, want 2", p)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range calls {
		id := fmt.Sprintf("w%d", i)
		if err, ok := ended[id]; !ok || err != nil {
			t.Errorf("%s: told %v (told: %v)", id, err, ok)
		}
		f.stored(t, id)
	}
	if p, _ := f.box.Pending(); len(p) != 0 {
		t.Errorf("outbox not empty: %v", p)
	}
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.m.postWorkers != 0 || len(f.m.postQ) != 0 {
		t.Errorf("%d workers, %d queued after the work", f.m.postWorkers, len(f.m.postQ))
	}
}

// TestOutboxRetryAfterFirstAttempt: a call's first attempt, in a
// post-call worker, fails (the database is down) while RunOutbox waits for
// work; the attempt's releasing the job wakes RunOutbox, and once the
// database is back the job is done within RunOutbox's first backoffs.
// (The worker used to Kick RunOutbox before releasing the job: a pass in
// between skipped it as claimed and nothing woke RunOutbox again, the
// TestDatabaseOutageMidCall flake; see outbox's
// TestRunTakesAJobReleasedAfterItsPass.)
func TestOutboxRetryAfterFirstAttempt(t *testing.T) {
	f := newPostFixture(t, t.TempDir())
	f.st.set(true)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.m.RunOutbox(ctx) }()
	defer func() { stop(); <-done }()
	time.Sleep(100 * time.Millisecond) // RunOutbox's first pass (nothing to do) is over

	told := make(chan error, 1)
	f.m.postLater(endedJob("c1"), f.m.opts.Log, func(_ Result, err error) { told <- err })
	var retried *retriedError
	if err := <-told; !errors.As(err, &retried) {
		t.Fatalf("first attempt while down: %v, want it kept for a retry", err)
	}
	f.st.set(false)
	waitUntil(t, "the retry once the database is back", 5*time.Second, func() bool { return len(pending(t, f.box)) == 0 })
	f.stored(t, "c1")
}
