package e2e

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestDBHarden: the DBA runs `contactd db-harden` on a running
// installation; contactd keeps auditing (logins) across a restart, and
// its own database role can no longer delete or rewrite the audit log.
func TestDBHarden(t *testing.T) {
	if os.Getenv("CONTACTD_SKIP_POSTGRES") == "1" {
		t.Skip("db-harden is for Postgres")
	}
	bin := buildBinary(t)
	s := startServerWith(t, bin, func(y string) string { // no speech needed: a quicker start
		return strings.Replace(y, "asr:\n  provider: sphinx\n", "asr:\n  provider: none\n", 1)
	})
	admin := os.Getenv("CONTACTD_TEST_ADMIN_DATABASE_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	a, err := url.Parse(admin)
	must(t, err)
	d, _ := url.Parse(s.dbURL)
	a.Path = d.Path

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "db-harden", "--admin-url", a.String())
	cmd.Env = append(os.Environ(), "CONTACTD_DATABASE_URL="+s.dbURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if os.Getenv("CONTACTD_TEST_ADMIN_DATABASE_URL") == "" {
			t.Skipf("no superuser URL (make test sets CONTACTD_TEST_ADMIN_DATABASE_URL): %v\n%s", err, out)
		}
		t.Fatalf("db-harden: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "hardened") {
		t.Fatalf("db-harden printed %q", out)
	}

	// Restart: the migrations run again on the hardened database.
	must(t, s.cmd.Process.Signal(syscall.SIGTERM))
	<-s.exited
	s.launch(t, bin, s.cmd.Env)
	s.login(t, "admin", "admin-e2e-pass")
	var audit struct {
		Entries []struct{ Action, Actor string } `json:"entries"`
	}
	if st := s.api(t, s.adminTok, "GET", "/api/v1/audit?action=login&limit=50", nil, &audit); st != 200 {
		t.Fatalf("audit list: %d", st)
	}
	if len(audit.Entries) < 2 {
		t.Fatalf("logins audited before and after hardening: %+v", audit.Entries)
	}

	conn, err := pgx.Connect(ctx, s.dbURL)
	must(t, err)
	defer conn.Close(ctx)
	for _, q := range []string{"DELETE FROM audit.audit_log", "UPDATE audit.audit_log SET actor = 'x'", "TRUNCATE audit.audit_log",
		"ALTER TABLE audit.audit_log DISABLE TRIGGER ALL", "DROP TABLE audit.audit_log"} {
		if _, err := conn.Exec(ctx, q); err == nil {
			t.Errorf("contactd's role could run %q after db-harden", q)
		}
	}
	var n int
	must(t, conn.QueryRow(ctx, "SELECT count(*) FROM audit.audit_log WHERE action = 'login'").Scan(&n))
	if n != len(audit.Entries) {
		t.Fatalf("audit_log has %d logins, the API showed %d", n, len(audit.Entries))
	}
}
