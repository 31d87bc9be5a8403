package outbox

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
		time.Sleep(5 * time.Millisecond) // distinct modification times: oldest first
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
