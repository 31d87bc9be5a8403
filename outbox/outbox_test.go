package outbox

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type job struct {
	N int `json:"n"`
}

func TestPutLoadDone(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if err := b.Put(id, job{N: len(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Put("a", job{N: 7}); err != nil { // replaced
		t.Fatal(err)
	}
	var j job
	if err := b.Load("a", &j); err != nil || j.N != 7 {
		t.Fatalf("load a: %+v %v", j, err)
	}
	for _, bad := range []string{"", "../x", "a/b", ".hidden"} {
		if err := b.Put(bad, j); err == nil {
			t.Errorf("Put(%q) accepted", bad)
		}
	}
	// A crash mid-write leaves a temporary file; the next Open drops it.
	if err := os.WriteFile(filepath.Join(dir, "c.json.tmp"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, nil); err != nil {
		t.Fatal(err)
	}
	ids, _ := b.Pending()
	if !slices.Equal(ids, []string{"b", "a"}) && !slices.Equal(ids, []string{"a", "b"}) {
		t.Fatalf("pending %v", ids)
	}
	if err := b.Done("a"); err != nil {
		t.Fatal(err)
	}
	if err := b.Done("a"); err != nil {
		t.Fatalf("done twice: %v", err)
	}
	if ids, _ := b.Pending(); !slices.Equal(ids, []string{"b"}) {
		t.Fatalf("pending after done: %v", ids)
	}
	if !b.Claim("b") || b.Claim("b") {
		t.Fatal("claim")
	}
	b.Release("b")
	if !b.Claim("b") {
		t.Fatal("claim after release")
	}
}

// TestRunRetriesAndSkipsAPoisonJob: a job that always fails is retried
// without holding up the others; a job added later runs after Kick.
func TestRunRetriesAndSkipsAPoisonJob(t *testing.T) {
	b, _ := Open(t.TempDir(), nil)
	for _, id := range []string{"1-poison", "2-ok", "3-flaky"} {
		if err := b.Put(id, job{}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	runs := map[string]int{}
	h := func(ctx context.Context, id string) error {
		mu.Lock()
		defer mu.Unlock()
		runs[id]++
		switch {
		case id == "1-poison":
			return errors.New("always fails")
		case id == "3-flaky" && runs[id] < 3:
			return errors.New("fails twice")
		}
		return nil
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(ctx, h, RunOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond})
	}()
	defer func() { stop(); <-done }()
	waitUntil(t, func() bool {
		ids, _ := b.Pending()
		return slices.Equal(ids, []string{"1-poison"})
	})
	if err := b.Put("4-late", job{}); err != nil {
		t.Fatal(err)
	}
	b.Kick()
	waitUntil(t, func() bool {
		ids, _ := b.Pending()
		return slices.Equal(ids, []string{"1-poison"})
	})
	mu.Lock()
	defer mu.Unlock()
	if runs["2-ok"] != 1 || runs["3-flaky"] != 3 || runs["4-late"] != 1 || runs["1-poison"] < 3 {
		t.Fatalf("runs %v", runs)
	}
}

// TestRunTakesAJobReleasedAfterItsPass: a pass that finds a job claimed
// (its first attempt, in a post-call worker, still running) skips it;
// when that attempt fails and releases the job, Run must take it up
// without waiting for another Kick. The worker used to Kick before its
// Release, so a pass that ran in between was the last: with no other call
// ending, the job stayed pending after the database came back
// (TestDatabaseOutageMidCall's flake).
func TestRunTakesAJobReleasedAfterItsPass(t *testing.T) {
	b, _ := Open(t.TempDir(), nil)
	for _, id := range []string{"held", "other"} {
		if err := b.Put(id, job{}); err != nil {
			t.Fatal(err)
		}
	}
	if !b.Claim("held") { // the first attempt is running
		t.Fatal("claim")
	}
	ran := make(chan string, 4)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(ctx, func(_ context.Context, id string) error { ran <- id; return nil },
			RunOptions{MinBackoff: time.Hour, MaxBackoff: time.Hour})
	}()
	defer func() { stop(); <-done }()
	// The first pass skips "held" and runs "other" (pending order: held
	// first), so when "other" has run the pass is past "held".
	if id := <-ran; id != "other" {
		t.Fatalf("ran %q first, want other (held is claimed)", id)
	}
	// The attempt failed: the job is updated and released, no Kick.
	if err := b.Put("held", job{N: 1}); err != nil {
		t.Fatal(err)
	}
	b.Release("held")
	select {
	case id := <-ran:
		if id != "held" {
			t.Fatalf("ran %q, want held", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the released job was not run within 5 s (Run waits for a Kick that never comes)")
	}
	waitUntil(t, func() bool { ids, _ := b.Pending(); return len(ids) == 0 })
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A NoSync box's job survives the process being killed right after Put:
// the child process below puts a job and SIGKILLs itself.
func TestNoSyncSurvivesProcessKill(t *testing.T) {
	if dir := os.Getenv("OUTBOX_TEST_KILL_DIR"); dir != "" {
		b, err := Open(dir, nil)
		if err != nil {
			os.Exit(2)
		}
		if err := b.NoSync().Put("call-1", map[string]string{"id": "call-1"}); err != nil {
			os.Exit(3)
		}
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoSyncSurvivesProcessKill$")
	cmd.Env = append(os.Environ(), "OUTBOX_TEST_KILL_DIR="+dir)
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 {
		t.Fatalf("child: %v (want killed by a signal)", err)
	}
	b, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := b.Load("call-1", &got); err != nil || got["id"] != "call-1" {
		t.Fatalf("after the kill: %v %v", got, err)
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, "*"+tmpExt)); len(tmps) != 0 {
		t.Fatalf("temporary files left: %v", tmps)
	}
}

// The journal keeps the latest version of each pending job across a
// reopen, in the order they were last put; done jobs stay done.
func TestJournalReopen(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"a", "b", "c"} {
		if err := b.Put(id, job{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	must(t, b.Done("b"))
	must(t, b.Put("a", job{N: 9}))
	must(t, b.Close())
	b, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := b.Pending(); !slices.Equal(ids, []string{"c", "a"}) {
		t.Fatalf("pending after reopen %v", ids)
	}
	var j job
	if err := b.Load("a", &j); err != nil || j.N != 9 {
		t.Fatalf("load a: %+v %v", j, err)
	}
	if err := b.Load("b", &j); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("load of a done job: %v", err)
	}
	if ids, _ := PendingIn(dir); !slices.Equal(ids, []string{"c", "a"}) {
		t.Fatalf("PendingIn %v", ids)
	}
}

// A line torn by a crash mid-write is cut off at the next Open; a damaged
// line in the middle is skipped, the jobs around it kept.
func TestJournalTornAndDamaged(t *testing.T) {
	dir := t.TempDir()
	b, _ := Open(dir, nil)
	must(t, b.Put("a", job{N: 1}))
	must(t, b.Close())
	j := filepath.Join(dir, journalName)
	appendFile(t, j, "{\"id\":\"zz\",\"job\":{\"n\"\n")      // damaged, whole line
	appendFile(t, j, `{"id":"b","job":{"n":2}}`+"\n")        // fine
	appendFile(t, j, `{"id":"c","job":{"n":3}}`+"\n"+`{"id`) // torn tail
	b, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := b.Pending(); !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Fatalf("pending %v", ids)
	}
	must(t, b.Put("d", job{N: 4})) // written after the cut, readable
	must(t, b.Close())
	b, _ = Open(dir, nil)
	var got job
	if err := b.Load("d", &got); err != nil || got.N != 4 {
		t.Fatalf("d after the torn line: %+v %v", got, err)
	}
}

// An older contactd's job files (<id>.json) are taken into the journal,
// oldest first, and removed; one that is not JSON is set aside.
func TestJournalImportsJobFiles(t *testing.T) {
	dir := t.TempDir()
	for i, f := range []struct{ name, body string }{{"old1.json", "{\n \"n\": 5\n}"}, {"old2.json", `{"n":6}`}, {"bad.json", `{"n":`}} {
		p := filepath.Join(dir, f.name)
		must(t, os.WriteFile(p, []byte(f.body), 0o600))
		at := time.Now().Add(time.Duration(i-10) * time.Second)
		must(t, os.Chtimes(p, at, at))
	}
	b, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := b.Pending(); !slices.Equal(ids, []string{"old1", "old2"}) {
		t.Fatalf("pending %v", ids)
	}
	var j job
	if err := b.Load("old1", &j); err != nil || j.N != 5 {
		t.Fatalf("old1: %+v %v", j, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(left) != 0 {
		t.Fatalf("job files left: %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, badDir, "bad.json")); err != nil {
		t.Fatalf("the bad file was not set aside: %v", err)
	}
}

// Once the journal is mostly done jobs it is rewritten with the pending
// ones only, which stay readable (now and after a reopen).
func TestJournalCompacts(t *testing.T) {
	dir := t.TempDir()
	b, _ := Open(dir, nil)
	b.NoSync()
	pad := strings.Repeat("x", 4000)
	type big struct {
		N   int    `json:"n"`
		Pad string `json:"pad"`
	}
	must(t, b.Put("keep", big{N: 1, Pad: pad}))
	for i := range 1500 { // ~6 MB written, one job pending
		id := fmt.Sprintf("j%d", i)
		must(t, b.Put(id, big{N: i, Pad: pad}))
		must(t, b.Done(id))
	}
	st, err := os.Stat(filepath.Join(dir, journalName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() >= compactMin {
		t.Fatalf("journal of %d bytes not compacted", st.Size())
	}
	for _, reopen := range []bool{false, true} {
		if reopen {
			must(t, b.Close())
			b, _ = Open(dir, nil)
		}
		var got big
		if err := b.Load("keep", &got); err != nil || got.N != 1 || got.Pad != pad {
			t.Fatalf("the pending job after compaction (reopen %v): %v", reopen, err)
		}
		if ids, _ := b.Pending(); !slices.Equal(ids, []string{"keep"}) {
			t.Fatalf("pending %v", ids)
		}
	}
}

// Concurrent durable Puts share fsyncs and all survive.
func TestJournalConcurrentPuts(t *testing.T) {
	dir := t.TempDir()
	b, _ := Open(dir, nil)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			id := fmt.Sprintf("c%02d", i)
			if err := b.Put(id, job{N: i}); err != nil {
				t.Error(err)
			}
			if i%2 == 0 {
				if err := b.Done(id); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	must(t, b.Close())
	ids, err := PendingIn(dir)
	if err != nil || len(ids) != 20 {
		t.Fatalf("pending %v %v", ids, err)
	}
	b, _ = Open(dir, nil)
	for _, id := range ids {
		var j job
		if err := b.Load(id, &j); err != nil || fmt.Sprintf("c%02d", j.N) != id {
			t.Fatalf("%s: %+v %v", id, j, err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, name, s string) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}
