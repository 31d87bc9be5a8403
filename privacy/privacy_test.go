package privacy

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/recordings"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/sqlite"
	"github.com/contactd/contactd/transcript"
)

type fixture struct {
	st    store.Store
	files *recordings.Files
	dir   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, recordings.KeySize)
	_, _ = rand.Read(key)
	files, err := recordings.New(dir, key, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, files: files, dir: dir}
}

// call stores a call with an encrypted recording and a transcript.
func (f *fixture) call(t *testing.T, id, from, queue string, started time.Time) {
	t.Helper()
	ctx := context.Background()
	rel := filepath.Join(recordings.Dir, id+".wav")
	if err := os.MkdirAll(filepath.Join(f.dir, recordings.Dir), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, rel), []byte("RIFF fake wav "+id), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.files.Seal(rel); err != nil {
		t.Fatal(err)
	}
	if err := f.st.CreateCall(ctx, store.Call{ID: id, From: from, Queue: queue, StartedAt: started, EndedAt: started.Add(time.Minute),
		RecordingPath: rel}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.AddSegments(ctx, id, []transcript.Segment{{Speaker: transcript.Caller, EndMS: 500, Text: "hello " + id}}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) hasRecording(t *testing.T, id string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(f.dir, recordings.Dir, id+".wav"+recordings.EncSuffix))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	c, cerr := f.st.Call(context.Background(), id)
	if cerr != nil {
		t.Fatal(cerr)
	}
	if (err == nil) != (c.RecordingPath != "") {
		t.Fatalf("%s: file present %t but recording path %q", id, err == nil, c.RecordingPath)
	}
	return err == nil
}

func (f *fixture) hasTranscript(t *testing.T, id string) bool {
	t.Helper()
	segs, err := f.st.Segments(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return len(segs) > 0
}

func TestSweepPerQueueAndDefault(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	f.call(t, "billing-40d", "+1", "billing", now.Add(-40*day))
	f.call(t, "billing-10d", "+1", "billing", now.Add(-10*day))
	f.call(t, "orders-40d", "+1", "orders", now.Add(-40*day))
	f.call(t, "orders-100d", "+1", "orders", now.Add(-100*day))
	f.call(t, "vip-400d", "+1", "vip", now.Add(-400*day))
	f.call(t, "ivr-40d", "+1", "", now.Add(-40*day))
	s := &Sweeper{Store: f.st, Files: f.files, Now: func() time.Time { return now }, Batch: 1,
		Retention: Retention{
			Default: Policy{RecordingDays: 30, TranscriptDays: 90},
			Queues: map[string]Policy{
				"billing": {RecordingDays: 7, TranscriptDays: 30},
				"vip":     {}, // kept for ever
			},
		}}
	res, err := s.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]bool{ // recording kept, transcript kept
		"billing-40d": {false, false},
		"billing-10d": {false, true},
		"orders-40d":  {false, true},
		"orders-100d": {false, false},
		"vip-400d":    {true, true},
		"ivr-40d":     {false, true},
	}
	for id, w := range want {
		if got := [2]bool{f.hasRecording(t, id), f.hasTranscript(t, id)}; got != w {
			t.Errorf("%s: recording/transcript kept %v, want %v", id, got, w)
		}
	}
	if res != (SweepResult{Recordings: 5, Transcripts: 2, Segments: 2}) {
		t.Errorf("sweep result %+v", res)
	}
	es, err := f.st.ListAudit(context.Background(), store.AuditFilter{Action: AuditSweep})
	if err != nil || len(es) != 1 || es[0].Actor != Actor || es[0].Detail != "recordings=5 transcripts=2 segments=2 failed=0" {
		t.Fatalf("audit %+v %v", es, err)
	}
	// Nothing is left to do, and the sweep says so in the log too.
	res, err = s.Sweep(context.Background())
	if err != nil || res != (SweepResult{}) {
		t.Fatalf("second sweep %+v %v", res, err)
	}
	if es, _ := f.st.ListAudit(context.Background(), store.AuditFilter{Action: AuditSweep}); len(es) != 2 {
		t.Fatalf("%d sweep entries, want one per sweep", len(es))
	}
	if (Retention{Queues: map[string]Policy{"x": {}}}).Empty() != true || (Retention{Default: Policy{RecordingDays: 1}}).Empty() {
		t.Error("Empty")
	}
}

func TestEraseCustomer(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.call(t, "c1", "+15550100", "billing", now.Add(-time.Hour))
	f.call(t, "c2", "+15550100", "orders", now.Add(-time.Minute))
	f.call(t, "other", "+15550199", "orders", now.Add(-time.Minute))
	ctx := context.Background()
	e, err := EraseCustomer(ctx, f.st, f.files, nil, "+15550100", "admin", "192.0.2.7", now)
	if err != nil {
		t.Fatal(err)
	}
	if e.RecordingFiles != 2 || len(e.Calls) != 2 || e.Segments != 2 {
		t.Errorf("erasure %+v", e)
	}
	for id, kept := range map[string]bool{"c1": false, "c2": false, "other": true} {
		if f.hasRecording(t, id) != kept || f.hasTranscript(t, id) != kept {
			t.Errorf("%s: recording %t transcript %t, want kept=%t", id, f.hasRecording(t, id), f.hasTranscript(t, id), kept)
		}
	}
	es, err := f.st.ListAudit(ctx, store.AuditFilter{Action: AuditErase})
	if err != nil || len(es) != 1 || es[0].Actor != "admin" || es[0].IP != "192.0.2.7" ||
		!strings.Contains(es[0].Detail, "calls=2 recordings=2 segments=2") || strings.Contains(es[0].Detail+es[0].Target, "15550100") {
		t.Fatalf("audit %+v %v", es, err)
	}
	if _, err := EraseCustomer(ctx, f.st, f.files, nil, "", "admin", "", now); err == nil {
		t.Error("empty number erased")
	}
}

// TestEraseStopsWhenARecordingCannotGo: a recording that cannot be
// deleted stops the erasure before the store is touched.
func TestEraseStopsWhenARecordingCannotGo(t *testing.T) {
	f := newFixture(t)
	f.call(t, "c1", "+15550100", "billing", time.Now())
	// A non-empty directory where the plaintext would be: no one, root
	// included, can remove it as a file.
	blocker := filepath.Join(f.dir, recordings.Dir, "c1.wav")
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := EraseCustomer(context.Background(), f.st, f.files, nil, "+15550100", "admin", "", time.Now()); err == nil ||
		!strings.Contains(err.Error(), "c1") {
		t.Fatalf("err = %v, want one naming call c1", err)
	}
	if c, _ := f.st.Call(context.Background(), "c1"); c.From != "+15550100" || !f.hasTranscript(t, "c1") {
		t.Errorf("store touched: %+v", c)
	}
	if es, _ := f.st.ListAudit(context.Background(), store.AuditFilter{Action: AuditErase}); len(es) != 0 {
		t.Errorf("audited an erasure that did not happen: %+v", es)
	}
}

// TestSweepKeepsGoingPastAFailure: a recording that cannot be deleted is
// counted, kept in the store (tried again next sweep) and does not stop
// the others or loop for ever.
func TestSweepKeepsGoingPastAFailure(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	for _, id := range []string{"a", "b", "c"} {
		f.call(t, id, "+1", "orders", now.Add(-40*24*time.Hour))
	}
	if err := os.MkdirAll(filepath.Join(f.dir, recordings.Dir, "a.wav", "x"), 0o750); err != nil {
		t.Fatal(err)
	}
	s := &Sweeper{Store: f.st, Files: f.files, Batch: 1, Retention: Retention{Default: Policy{RecordingDays: 30}}}
	res, err := s.Sweep(context.Background())
	if err != nil || res.Failed != 1 {
		t.Fatalf("sweep %+v %v", res, err)
	}
	if c, _ := f.st.Call(context.Background(), "a"); c.RecordingPath == "" {
		t.Error("the failed recording was forgotten")
	}
	if res.Recordings != 2 || f.hasRecording(t, "b") || f.hasRecording(t, "c") {
		t.Errorf("the recordings after the failed one: %d deleted", res.Recordings)
	}
}
