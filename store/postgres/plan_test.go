package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactd/contactd/store/internal/sqlstore"
)

// TestQueryPlans checks that every hot query can be answered from an index.
// Sequential scans are disabled for the session, so a plan that still has
// one lacks a suitable index; one that sorts lacks an index in query order.
func TestQueryPlans(t *testing.T) {
	u := testDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// With bitmap scans off too, only a plain index scan can avoid a Sort,
	// which proves the index also yields the query's order.
	if _, err := conn.Exec(ctx, "SET enable_seqscan = off; SET enable_bitmapscan = off"); err != nil {
		t.Fatal(err)
	}
	for _, q := range sqlstore.HotQueries(dialect) {
		t.Run(q.Name, func(t *testing.T) {
			rows, err := conn.Query(ctx, "EXPLAIN "+q.SQL, convArgs(q.Args)...)
			if err != nil {
				t.Fatal(err)
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(lines, "\n")
			if strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Sort") {
				t.Errorf("plan:\n%s", plan)
			}
		})
	}
}
