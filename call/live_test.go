package call

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/contactd/contactd/outbox"
	"github.com/contactd/contactd/store"
)

// TestRecoverInterrupted: the markers a crashed process left are calls
// it never finished. At the next start each is closed as interrupted —
// keeping what its record got during the call, even when the database is
// down at that start — and its recording goes to repair; a call whose
// post-call work already waits in the outbox is left to it.
func TestRecoverInterrupted(t *testing.T) {
	dir := t.TempDir()
	f := newPostFixture(t, dir)
	live, err := outbox.Open(filepath.Join(dir, "live"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.m.opts.Live, f.m.opts.DataDir = live, dir
	ctx := context.Background()
	start := time.Now().Add(-time.Minute).Truncate(time.Millisecond)

	// "queued": in a queue when the process died; its record has the
	// intent and queue, the marker only the start.
	began := store.Call{ID: "queued", From: "+15550111", To: "support", StartedAt: start, RecordingPath: "recordings/queued.wav"}
	f.m.markLive(began, f.m.opts.Log)
	mid := began
	mid.Intent, mid.Queue = "order_status", "orders"
	if err := f.inner.CreateCall(ctx, mid); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, began.RecordingPath)
	if err := os.MkdirAll(filepath.Dir(rec), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rec, []byte("audio"), 0o640); err != nil {
		t.Fatal(err)
	}
	lastWrite := start.Add(40 * time.Second)
	if err := os.Chtimes(rec, lastWrite, lastWrite); err != nil {
		t.Fatal(err)
	}
	// "unstored": the database was down all call long.
	f.m.markLive(store.Call{ID: "unstored", From: "+15550112", StartedAt: start}, f.m.opts.Log)
	// "ended": hung up; its post-call work was queued (the outbox put
	// removes the marker, so put it back as a crash in between would).
	if err := f.box.Put("ended", endedJob("ended")); err != nil {
		t.Fatal(err)
	}
	f.m.markLive(store.Call{ID: "ended", StartedAt: start}, f.m.opts.Log)
	// "torn": a marker that does not decode (damaged on disk, or from a
	// version that wrote something else).
	if err := live.Put("torn", json.RawMessage(`{"call":5}`)); err != nil {
		t.Fatal(err)
	}

	var repaired []string
	repair := func(rel string) (bool, error) { repaired = append(repaired, rel); return true, nil }
	f.st.set(true) // the database is down at the restart
	n, err := f.m.RecoverInterrupted(ctx, repair)
	if n != 2 || err != nil {
		t.Fatalf("RecoverInterrupted = %d, %v; want 2 calls closed", n, err)
	}
	if !slices.Equal(repaired, []string{"recordings/queued.wav"}) {
		t.Errorf("repaired %v", repaired)
	}
	if left := pending(t, live); len(left) != 0 {
		t.Errorf("markers left: %v", left)
	}
	if _, err := os.Stat(filepath.Join(live.Dir(), "unreadable", "torn.json")); err != nil {
		t.Errorf("torn marker not set aside: %v", err)
	}
	if p := pending(t, f.box); len(p) != 3 {
		t.Fatalf("outbox %v, want ended, queued and unstored", p)
	}
	var job PostJob
	if err := f.box.Load("ended", &job); err != nil || job.Interrupted {
		t.Fatalf("the ended call's job was replaced: %+v %v", job, err)
	}

	f.st.set(false) // back: the outbox does the rest
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.m.RunOutbox(runCtx) }()
	defer func() { stop(); <-done }()
	waitUntil(t, "the outbox to drain", 10*time.Second, func() bool { return len(pending(t, f.box)) == 0 })

	q, err := f.inner.Call(ctx, "queued")
	if err != nil || q.Disposition != DispositionInterrupted || !q.EndedAt.Equal(lastWrite) ||
		q.Intent != "order_status" || q.Queue != "orders" || q.RecordingPath != began.RecordingPath {
		t.Errorf("queued: %+v %v", q, err)
	}
	u, err := f.inner.Call(ctx, "unstored")
	if err != nil || u.Disposition != DispositionInterrupted || u.EndedAt.IsZero() || u.From != "+15550112" {
		t.Errorf("unstored: %+v %v", u, err)
	}
	for _, id := range []string{"queued", "unstored"} {
		if ts, _ := f.inner.TicketsByCall(ctx, id); len(ts) != 0 {
			t.Errorf("%s: a ticket from a lost transcript: %+v", id, ts)
		}
	}
	f.stored(t, "ended")

	// A second start finds nothing to do.
	if n, err := f.m.RecoverInterrupted(ctx, repair); n != 0 || err != nil {
		t.Fatalf("second RecoverInterrupted = %d, %v", n, err)
	}
}

// TestLiveMarkerLifetime: a call's marker exists from its start until
// its post-call work is in the outbox, and not after.
func TestLiveMarkerLifetime(t *testing.T) {
	dir := t.TempDir()
	f := newPostFixture(t, dir)
	live, _ := outbox.Open(filepath.Join(dir, "live"), nil)
	f.m.opts.Live = live
	job := endedJob("c1")
	f.m.markLive(job.Call, f.m.opts.Log)
	if p := pending(t, live); !slices.Equal(p, []string{"c1"}) {
		t.Fatalf("markers %v", p)
	}
	f.st.set(true) // the post-call work fails: it stays in the outbox
	if _, err := f.m.postCallWork(context.Background(), job, f.m.opts.Log); err == nil {
		t.Fatal("post-call work succeeded while the database was down")
	}
	if p := pending(t, live); len(p) != 0 {
		t.Fatalf("marker kept after the work was queued: %v", p)
	}
	if p := pending(t, f.box); !slices.Equal(p, []string{"c1"}) {
		t.Fatalf("outbox %v", p)
	}
}
