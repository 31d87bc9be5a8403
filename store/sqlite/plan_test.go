package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contactd/contactd/store/internal/sqlstore"
)

// TestQueryPlans checks that every hot query is answered from an index: no
// full table scan and no sort of the whole result.
func TestQueryPlans(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName)+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}

	for _, q := range sqlstore.HotQueries(dialect) {
		t.Run(q.Name, func(t *testing.T) {
			rows, err := db.Query("EXPLAIN QUERY PLAN "+q.SQL, q.Args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			t.Logf("%q", plan)
			for _, step := range plan {
				f := strings.Fields(step)
				if (f[0] == "SCAN" && !strings.Contains(step, "INDEX")) || strings.Contains(step, "TEMP B-TREE") {
					t.Errorf("plan step %q in %q", step, plan)
				}
			}
		})
	}
}
