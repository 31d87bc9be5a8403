package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/contactd/contactd/store"

	"github.com/contactd/contactd/store/storetest"
)

const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testDatabase creates a fresh database for this test run, drops it when t
// ends and returns its URL. It fails (does not skip) when Postgres is
// unreachable unless CONTACTD_SKIP_POSTGRES=1.
func testDatabase(t *testing.T) string {
	t.Helper()
	if os.Getenv("CONTACTD_SKIP_POSTGRES") == "1" {
		t.Skip("CONTACTD_SKIP_POSTGRES=1: skipping the Postgres store tests")
	}
	admin := os.Getenv("CONTACTD_TEST_DATABASE_URL")
	if admin == "" {
		admin = defaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("Postgres unreachable at CONTACTD_TEST_DATABASE_URL (default %s): %v\n"+
			"set CONTACTD_SKIP_POSTGRES=1 to skip these tests", defaultURL, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "contactd_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		// A session that has just been ended or closed (a superuser's,
		// which this role may not end itself) can linger a moment while
		// its backend exits: try again until it has gone.
		for {
			_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			var pe *pgconn.PgError
			if err == nil || !errors.As(err, &pe) || (pe.Code != "42501" && pe.Code != "55006") || ctx.Err() != nil {
				if err != nil {
					t.Errorf("drop database %s: %v", name, err)
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse CONTACTD_TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// withSchema returns dbURL with the tables placed in schema, creating it.
func withSchema(t *testing.T, dbURL, schema string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	u, _ := url.Parse(dbURL)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t *testing.T, u string) store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, u, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	dbURL := testDatabase(t)
	var mu sync.Mutex
	urls := map[*testing.T]string{} // same t → same schema
	storetest.Run(t, func(t *testing.T) store.Store {
		mu.Lock()
		u, ok := urls[t]
		if !ok {
			u = withSchema(t, dbURL, fmt.Sprintf("s%d", len(urls)))
			urls[t] = u
		}
		mu.Unlock()
		return open(t, u)
	}, func(t *testing.T, query string) error {
		mu.Lock()
		u := urls[t]
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatalf("raw connect: %v", err)
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, query)
		return err
	})
}

// TestConcurrentMigrate starts several stores on one empty database at once;
// the advisory lock must let exactly one apply each migration.
func TestConcurrentMigrate(t *testing.T) {
	u := testDatabase(t)
	const n = 4
	var wg sync.WaitGroup
	stores := make([]store.Store, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(context.Background(), u, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows, distinct int
	if err := conn.QueryRow(ctx, "SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != distinct {
		t.Errorf("schema_migrations has %d rows for %d versions", rows, distinct)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct{ name, url string }{
		{"malformed", "postgres://%zz"},
		{"nothing listening", "postgres://postgres:secret@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(ctx, tc.url, nil)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

// TestAuditLogRefusesTruncate: beyond the suite's UPDATE and DELETE,
// Postgres has TRUNCATE, which row triggers do not see; a statement
// trigger refuses it, for the table's owner (the application) too.
func TestAuditLogRefusesTruncate(t *testing.T) {
	u := testDatabase(t)
	s := open(t, u)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.AppendAudit(ctx, store.AuditEntry{Actor: "admin", Action: "login"}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "TRUNCATE audit_log"); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("TRUNCATE audit_log: %v, want it refused as append-only", err)
	}
	if es, err := s.ListAudit(ctx, store.AuditFilter{}); err != nil || len(es) != 1 {
		t.Fatalf("after TRUNCATE: %v, %v", es, err)
	}
}

// adminURL is a superuser's URL for the database at dbURL: from
// CONTACTD_TEST_ADMIN_DATABASE_URL (make test sets it), else the local
// postgres role over TCP where it is trusted.
func adminURL(t *testing.T, dbURL string) string {
	t.Helper()
	admin := os.Getenv("CONTACTD_TEST_ADMIN_DATABASE_URL")
	set := admin != ""
	if !set {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	a, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse CONTACTD_TEST_ADMIN_DATABASE_URL: %v", err)
	}
	d, _ := url.Parse(dbURL)
	a.Path = d.Path
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, a.String())
	if err != nil {
		if set {
			t.Fatalf("CONTACTD_TEST_ADMIN_DATABASE_URL: %v", err)
		}
		t.Skipf("no superuser connection (set CONTACTD_TEST_ADMIN_DATABASE_URL; make test does): %v", err)
	}
	conn.Close(ctx)
	return a.String()
}

// endSessions ends every other session on admin's database and waits
// until they are gone: a superuser's backend can outlive its client's
// close by a moment, and then the application role's DROP DATABASE …
// WITH (FORCE) may not end it.
func endSessions(t *testing.T, admin string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Errorf("end sessions: %v", err)
		return
	}
	defer conn.Close(ctx)
	for ctx.Err() == nil {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n)
		if err != nil || n == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHardenedAuditLog: after `contactd db-harden`, the application's own
// role can still add to and read the audit log but can neither change
// nor remove what is there: not by DML, not by disabling the triggers,
// not by dropping or re-owning the table, its schema or its function.
func TestHardenedAuditLog(t *testing.T) {
	u := testDatabase(t)
	admin := adminURL(t, u)
	t.Cleanup(func() { endSessions(t, admin) }) // before the drop: the app role cannot end a superuser's
	s := open(t, u)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.AppendAudit(ctx, store.AuditEntry{Actor: "admin", Action: "login"}); err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	app := pu.User.Username()
	// Before: the triggers alone do not stop the owner (the application).
	pre, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := pre.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "ALTER TABLE audit_log DISABLE TRIGGER ALL"); err != nil {
		t.Fatalf("before hardening the owner could not disable the triggers (%v): the test proves nothing", err)
	}
	_ = tx.Rollback(ctx)
	pre.Close(ctx)
	if err := Harden(ctx, admin, app, nil); err != nil {
		t.Fatalf("harden: %v", err)
	}
	if err := Harden(ctx, admin, app, nil); err != nil {
		t.Fatalf("harden again (idempotent): %v", err)
	}
	// The running store (connections opened before) and a new one both
	// keep writing and reading.
	if err := s.AppendAudit(ctx, store.AuditEntry{Actor: "admin", Action: "config.change", Target: "queues"}); err != nil {
		t.Fatalf("append after harden: %v", err)
	}
	s2 := open(t, u)
	if err := s2.AppendAudit(ctx, store.AuditEntry{Actor: "bob", Action: "recording.play", Target: "call-1"}); err != nil {
		t.Fatalf("append from a new store: %v", err)
	}
	es, err := s2.ListAudit(ctx, store.AuditFilter{})
	if err != nil || len(es) != 3 {
		t.Fatalf("list after harden: %d entries, %v", len(es), err)
	}

	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"UPDATE audit.audit_log SET actor = 'nobody'",
		"DELETE FROM audit.audit_log",
		"TRUNCATE audit.audit_log",
		"ALTER TABLE audit.audit_log DISABLE TRIGGER ALL",
		"ALTER TABLE audit.audit_log DISABLE TRIGGER audit_log_no_change",
		"ALTER TABLE audit.audit_log OWNER TO " + app,
		"ALTER TABLE audit.audit_log SET SCHEMA public",
		"ALTER TABLE audit.audit_log RENAME TO old_audit",
		"DROP TABLE audit.audit_log",
		"DROP SCHEMA audit CASCADE",
		"ALTER SCHEMA audit RENAME TO gone",
		"CREATE OR REPLACE FUNCTION audit.audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN OLD; END$$",
		"DROP FUNCTION audit.audit_log_append_only() CASCADE",
		"CREATE TABLE audit.shadow (id int)",
		"SET ROLE " + AuditOwner,
		"GRANT " + AuditOwner + " TO " + app,
		"REASSIGN OWNED BY " + AuditOwner + " TO " + app,
	} {
		if _, err := conn.Exec(ctx, q); err == nil {
			t.Errorf("the application's role could run %q", q)
		}
	}
	es, err = s2.ListAudit(ctx, store.AuditFilter{})
	if err != nil || len(es) != 3 {
		t.Fatalf("after the attempts: %d entries, %v", len(es), err)
	}
	for _, e := range es {
		if e.Actor == "nobody" {
			t.Fatalf("an entry was changed: %+v", e)
		}
	}
	// A superuser application role is refused: it could undo all of it.
	if err := Harden(ctx, admin, "postgres", nil); err == nil || !strings.Contains(err.Error(), "superuser") {
		t.Fatalf("harden with a superuser app role: %v", err)
	}
	if err := Harden(ctx, admin, "no_such_role_x", nil); err == nil {
		t.Fatal("harden with an unknown role succeeded")
	}
}
