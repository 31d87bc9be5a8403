package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactd/contactd/media"
)

// TestDatabaseOutageMidCall runs contactd on a PostgreSQL instance of its
// own and stops that instance (immediate shutdown, as a crash or a lost
// network would) while a call is up. The call goes on: the caller still
// hears the IVR answer a key and talks on, and the recording keeps the
// caller's audio to the end. The hang-up's post-call work waits in the
// outbox on disk; once the database is back the call record, ticket and
// evaluation appear within a bounded time.
func TestDatabaseOutageMidCall(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg := startPostgres(ctx, t)
	s := startServerOn(t, buildBinary(t), pg.createDB(ctx, t, "contactd_outage"), func(y string) string { return dtmfOnly(t, y) })

	caller := dialCaller(ctx, t, s, "+15550171")
	caller.waitGreeting(t)
	id := s.callOf(t, "+15550171").ID
	waitUntil(t, "the greeting to end", 20*time.Second, func() bool { return caller.ear.quietFor(500 * time.Millisecond) })

	pg.stop(t)
	down := time.Now()
	must(t, caller.c.SendDTMF('0')) // a person, please
	waitUntil(t, "the IVR to answer the key during the outage", 15*time.Second, func() bool {
		return media.RMS(caller.ear.since(down)) >= 300 // the greeting had ended: this is the answer
	})
	time.Sleep(2 * time.Second) // waiting in the queue, talking
	select {
	case <-caller.c.Done():
		t.Fatal("the call ended during the database outage")
	default:
	}
	hungUp := time.Now()
	caller.hangup(t)
	box := filepath.Join(s.dataDir, "outbox")
	waitUntil(t, "the post-call work in the outbox", 15*time.Second, func() bool { return inBox(t, box, id) })
	time.Sleep(2 * time.Second) // a retry or two fail meanwhile

	pg.start(t)
	back := time.Now()
	waitUntil(t, "the ticket and evaluation after the outage", 45*time.Second, func() bool {
		return s.count(t, "tickets", id) == 1 && s.count(t, "qa/evaluations", id) == 1
	})
	t.Logf("outage %.1f s; ticket and evaluation %.1f s after the database came back",
		back.Sub(down).Seconds(), time.Since(back).Seconds())
	cl := s.call(t, id)
	if cl.EndedAt == nil || cl.Queue == "" || !strings.Contains(cl.Disposition, "hung up") {
		t.Errorf("call after the outage: %+v (want it ended, with the queue it reached during the outage)", cl)
	}
	// The caller's audio is recorded to the hang-up (s.recording checks
	// that the last half second is the caller's tone).
	if secs, talked := s.recording(t, id), hungUp.Sub(caller.answered).Seconds(); secs < talked-1 {
		t.Errorf("recording of %.1f s for a call of %.1f s: audio lost during the outage", secs, talked)
	}
	waitUntil(t, "the outbox to be empty", 10*time.Second, func() bool { return !inBox(t, box, id) })
	if n := s.count(t, "tickets", id); n != 1 {
		t.Errorf("%d tickets after the retries, want 1", n)
	}
}

// privatePostgres is a PostgreSQL instance for one test: its own data
// dir, a free loopback port, trust authentication. It never touches the
// machine's own server.
type privatePostgres struct {
	bin, dir, port string
	owner          *user.User // nil: run as ourselves
}

// startPostgres runs initdb and starts the instance; it is stopped and
// removed when the test ends.
func startPostgres(ctx context.Context, t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Fatal("PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) are missing: make test installs postgresql")
	}
	sort.Strings(bins)
	dir, err := os.MkdirTemp("", "contactd-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg := &privatePostgres{bin: filepath.Dir(bins[len(bins)-1]), dir: dir, port: strconv.Itoa(freePort(t, "tcp"))}
	t.Cleanup(func() {
		_ = pg.ctl("stop", "-m", "immediate").Run()
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 { // initdb and postgres refuse to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root and there is no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		pg.owner = u
	}
	if out, err := pg.cmd("initdb", "-D", pg.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg.start(t)
	return pg
}

func (pg *privatePostgres) data() string { return filepath.Join(pg.dir, "data") }

// cmd runs one of PostgreSQL's programs, as the postgres user when we are
// root.
func (pg *privatePostgres) cmd(prog string, args ...string) *exec.Cmd {
	path := filepath.Join(pg.bin, prog)
	if pg.owner != nil {
		return exec.Command("runuser", append([]string{"-u", pg.owner.Username, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (pg *privatePostgres) ctl(args ...string) *exec.Cmd {
	return pg.cmd("pg_ctl", append([]string{"-D", pg.data()}, args...)...)
}

func (pg *privatePostgres) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%s -c unix_socket_directories=%s -c fsync=off", pg.port, pg.dir)
	if out, err := pg.ctl("start", "-w", "-t", "60", "-l", filepath.Join(pg.dir, "log"), "-o", opts).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// stop shuts the instance down at once: clients' connections are cut.
func (pg *privatePostgres) stop(t *testing.T) {
	t.Helper()
	if out, err := pg.ctl("stop", "-m", "immediate", "-w").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

func (pg *privatePostgres) url(db string) string {
	return "postgres://postgres@127.0.0.1:" + pg.port + "/" + db + "?sslmode=disable"
}

// createDB creates the database name and returns its URL.
func (pg *privatePostgres) createDB(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	conn, err := pgx.Connect(ctx, pg.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	return pg.url(name)
}
