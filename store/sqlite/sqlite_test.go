package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/sqlite"
	"github.com/contactd/contactd/store/storetest"
)

func TestConformance(t *testing.T) {
	var mu sync.Mutex
	dirs := map[*testing.T]string{} // same t → same database file
	storetest.Run(t, func(t *testing.T) store.Store {
		mu.Lock()
		dir, ok := dirs[t]
		if !ok {
			dir = t.TempDir()
			dirs[t] = dir
		}
		mu.Unlock()
		s, err := sqlite.Open(context.Background(), dir, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		return s
	}, func(t *testing.T, query string) error {
		mu.Lock()
		dir := dirs[t]
		mu.Unlock()
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName)+"?_busy_timeout=10000")
		if err != nil {
			t.Fatalf("raw open: %v", err)
		}
		defer db.Close()
		_, err = db.Exec(query)
		return err
	})
}

// TestConcurrentOpen opens one new file from several stores at once, as two
// processes starting together would; the migration must run exactly once.
func TestConcurrentOpen(t *testing.T) {
	dir := t.TempDir()
	const n = 4
	var wg sync.WaitGroup
	stores := make([]store.Store, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = sqlite.Open(context.Background(), dir, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	// Every store sees the others' writes.
	ctx := context.Background()
	for i, s := range stores {
		if err := s.UpsertQueue(ctx, store.Queue{Name: fmt.Sprint("q", i)}); err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
	}
	qs, err := stores[0].ListQueues(ctx)
	if err != nil || len(qs) != n {
		t.Fatalf("ListQueues = %v, %v; want %d queues", qs, err, n)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	notDB := filepath.Join(t.TempDir(), sqlite.FileName)
	if err := os.WriteFile(notDB, []byte("this is not an SQLite database, just text long enough to have a header"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, dir string }{
		{"empty dir", ""},
		{"dir is a file", file},
		{"not a database", filepath.Dir(notDB)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlite.Open(ctx, tc.dir, nil)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}
