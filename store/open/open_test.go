package open

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	t.Run("empty URL is SQLite in the data dir", func(t *testing.T) {
		dir := t.TempDir()
		s, err := Open(ctx, "", dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := os.Stat(filepath.Join(dir, "contactd.db")); err != nil {
			t.Errorf("database file: %v", err)
		}
		if _, err := s.CountUsers(ctx); err != nil {
			t.Error(err)
		}
	})
	for _, tc := range []struct{ name, url string }{
		{"unknown scheme", "mysql://root@localhost/x"},
		{"no scheme", "contactd.db"},
		// The scheme picks Postgres (case-insensitively); nothing listens on port 1.
		{"postgres unreachable", "POSTGRESQL://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(ctx, tc.url, t.TempDir(), nil)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			t.Log(err)
		})
	}
}
