package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/internal/syncbuf"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/web/webtest"
)

// server is a running contactd process.
type server struct {
	cmd      *exec.Cmd
	httpURL  string
	sipAddr  string
	dbURL    string
	dataDir  string
	logs     *syncbuf.Buffer
	exited   chan struct{}
	exitErr  error
	adminTok string
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	switch network {
	case "udp": // SIP: the same port free for TCP too
		for range 50 {
			c, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port := c.LocalAddr().(*net.UDPAddr).Port
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			c.Close()
			if err == nil {
				l.Close()
				return port
			}
		}
		t.Fatal("no port free for both UDP and TCP")
		return 0
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
}

// buildBinary compiles contactd once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "contactd-e2e-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		built.bin = filepath.Join(dir, "contactd")
		cmd := exec.Command("go", "build", "-race", "-o", built.bin, "github.com/contactd/contactd/cmd/contactd")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatalf("build contactd: %v", built.err)
	}
	return built.bin
}

// built is the contactd binary, built once for all the tests of a run.
var built struct {
	once     sync.Once
	dir, bin string
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// freshDatabase creates a Postgres database for this run and drops it after.
func freshDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CONTACTD_TEST_DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	if os.Getenv("CONTACTD_SKIP_POSTGRES") == "1" {
		return "" // embedded SQLite
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("postgres at %s: %v (set CONTACTD_SKIP_POSTGRES=1 to run on SQLite)", base, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "contactd_e2e_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}

// testConfig is the demo config with shorter waits so the tests are quick.
func testConfig(t *testing.T, dir string) string {
	t.Helper()
	y := string(config.Demo())
	for old, repl := range map[string]string{
		"no_input_timeout: 8s": "no_input_timeout: 4s",
		"wrap_up: 5s":          "wrap_up: 1s",
		"shutdown_grace: 10s":  "shutdown_grace: 3s",
		// The domain model alone: these tests are not about recognition
		// accuracy, and it starts in 0.6 s instead of 2 with 0.5 GB less
		// (bench/ivr-spoken.sh measures the demo as shipped).
		"  options:\n    general_words: \"20000\"\n": "",
	} {
		if !strings.Contains(y, old) {
			t.Fatalf("demo config lacks %q", old)
		}
		y = strings.Replace(y, old, repl, 1)
	}
	p := filepath.Join(dir, "contactd.yaml")
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func startServer(t *testing.T, bin string) *server {
	t.Helper()
	return startServerWith(t, bin, nil)
}

// startServerWith starts contactd on the test config after edit (when
// set) has changed its YAML.
func startServerWith(t *testing.T, bin string, edit func(yaml string) string) *server {
	t.Helper()
	return startServerOn(t, bin, freshDatabase(t), edit)
}

// startServerOn is startServerWith on the database at dbURL.
func startServerOn(t *testing.T, bin, dbURL string, edit func(yaml string) string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{
		httpURL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t, "tcp")),
		sipAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t, "udp")),
		dbURL:   dbURL,
		dataDir: filepath.Join(dir, "data"),
		logs:    &syncbuf.Buffer{},
	}
	rtp := 30000 + 2*(os.Getpid()%5000)
	cfg := testConfig(t, dir)
	// RTP ports: a per-process window so parallel test binaries don't collide.
	b, _ := os.ReadFile(cfg)
	b = bytes.Replace(b, []byte("rtp_port_min: 20000"), []byte(fmt.Sprintf("rtp_port_min: %d", rtp)), 1)
	b = bytes.Replace(b, []byte("rtp_port_max: 29999"), []byte(fmt.Sprintf("rtp_port_max: %d", rtp+400)), 1)
	if edit != nil {
		b = []byte(edit(string(b)))
	}
	_ = os.WriteFile(cfg, b, 0o600)

	t.Cleanup(func() { // after the process is stopped (cleanups run last first)
		if t.Failed() || os.Getenv("CONTACTD_E2E_VERBOSE") != "" {
			t.Logf("contactd log:\n%s", tail(s.logs.String(), 300))
		}
	})
	s.launch(t, bin, append(os.Environ(),
		"CONTACTD_HTTP_ADDR="+strings.TrimPrefix(s.httpURL, "http://"),
		"CONTACTD_SIP_ADDR="+s.sipAddr,
		"CONTACTD_DATA_DIR="+s.dataDir,
		"CONTACTD_DATABASE_URL="+s.dbURL,
		"CONTACTD_CONFIG="+cfg,
		// One classifier cache for the run's servers: each start with the
		// same examples loads the model the first trained.
		"CONTACTD_MODEL_CACHE="+filepath.Join(filepath.Dir(bin), "models"),
		"CONTACTD_ADMIN_PASSWORD=admin-e2e-pass",
		"CONTACTD_LOG_LEVEL=debug",
	))
	return s
}

// launch starts `bin serve` with env, waits until it is healthy and logs
// the admin in. Called again after the process ended, it starts it anew
// on the same addresses, data dir and database (a restart).
func (s *server) launch(t *testing.T, bin string, env []string) {
	t.Helper()
	first := s.cmd == nil
	for attempt := 1; ; attempt++ {
		err := s.launchOnce(t, bin, env)
		if err == nil {
			break
		}
		// A port picked free was taken meanwhile (another test's
		// listener, or an outgoing connection's local port): a first
		// start moves to new ports; a restart keeps its addresses and
		// waits for them.
		if attempt == 5 || !strings.Contains(s.logs.String(), "address already in use") {
			t.Fatalf("%v\n%s", err, s.logs.String())
		}
		t.Logf("contactd could not bind its ports (attempt %d); trying again", attempt)
		if first {
			s.httpURL = fmt.Sprintf("http://127.0.0.1:%d", freePort(t, "tcp"))
			s.sipAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t, "udp"))
			env = setEnv(env, "CONTACTD_HTTP_ADDR", strings.TrimPrefix(s.httpURL, "http://"))
			env = setEnv(env, "CONTACTD_SIP_ADDR", s.sipAddr)
		} else {
			time.Sleep(time.Duration(attempt) * 500 * time.Millisecond)
		}
	}
	s.adminTok = s.login(t, "admin", "admin-e2e-pass")
}

// setEnv replaces (or adds) key in env.
func setEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

// launchOnce starts the process and waits until it is healthy; an error
// says it exited first (or never became healthy).
func (s *server) launchOnce(t *testing.T, bin string, env []string) error {
	t.Helper()
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd, exited := s.cmd, make(chan struct{})
	s.exited = exited
	go func() { s.exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(s.httpURL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("contactd exited: %v", s.exitErr)
		default:
		}
		if time.Now().After(deadline) {
			return errors.New("contactd not healthy in 90s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (s *server) login(t *testing.T, user, pass string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	st := s.api(t, "", "POST", "/api/v1/auth/login", map[string]string{"username": user, "password": pass}, &out)
	if st != 200 || out.Token == "" {
		t.Fatalf("login %s: status %d", user, st)
	}
	return out.Token
}

// api does one JSON request and decodes the answer into out (may be nil).
func (s *server) api(t *testing.T, token, method, path string, body, out any) int {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, s.httpURL+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: status %d, bad JSON %q: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// speechWAV renders text with espeak-ng, resampled to rate, as a mono WAV file.
func speechWAV(t *testing.T, text string, rate int, pad time.Duration) (string, []int16) {
	t.Helper()
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw.wav")
	if out, err := exec.Command("espeak-ng", "-v", "en-us", "-s", "150", "-w", raw, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v %s", err, out)
	}
	f, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, r, _, err := media.ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	pcm = media.Resample(pcm, r, rate)
	silence := make([]int16, int(pad.Seconds()*float64(rate)))
	pcm = append(append(append([]int16{}, silence...), pcm...), silence...)
	out := filepath.Join(dir, fmt.Sprintf("speech-%d.wav", rate))
	w, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := media.WriteWAV(w, pcm, rate, 1); err != nil {
		t.Fatal(err)
	}
	return out, pcm
}

// ear records what a caller hears, with arrival times.
type ear struct {
	mu     sync.Mutex
	frames []heardFrame
}

type heardFrame struct {
	at  time.Time
	pcm []int16
}

func (e *ear) run(leg media.Leg) {
	for f := range leg.Frames() {
		e.mu.Lock()
		e.frames = append(e.frames, heardFrame{at: time.Now(), pcm: f})
		e.mu.Unlock()
	}
}

// since returns the audio heard after t.
func (e *ear) since(t time.Time) []int16 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []int16
	for _, f := range e.frames {
		if f.at.After(t) {
			out = append(out, f.pcm...)
		}
	}
	return out
}

// bursts splits what was heard into loud stretches separated by at least gap
// of quiet (or of nothing at all), and returns their start times.
func (e *ear) bursts(gap time.Duration) []time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	var starts []time.Time
	var lastLoud time.Time
	for _, f := range e.frames {
		if media.RMS(f.pcm) < 300 {
			continue
		}
		if lastLoud.IsZero() || f.at.Sub(lastLoud) > gap {
			starts = append(starts, f.at)
		}
		lastLoud = f.at
	}
	return starts
}

// sinceEach is the frames heard since t, one slice per frame.
func (e *ear) sinceEach(t time.Time) [][]int16 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out [][]int16
	for _, f := range e.frames {
		if !f.at.Before(t) {
			out = append(out, f.pcm)
		}
	}
	return out
}

// quietSince reports whether nothing loud was heard for d, after something was.
func (e *ear) quietFor(d time.Duration) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	var lastLoud time.Time
	for _, f := range e.frames {
		if media.RMS(f.pcm) >= 300 {
			lastLoud = f.at
		}
	}
	return !lastLoud.IsZero() && time.Since(lastLoud) > d
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sendSilence makes a SIP caller's phone send silent RTP, as a real phone
// does while its user says nothing (contactd hangs up on a caller that
// sends no media for 30 s). stop ends it before the caller plays audio.
func sendSilence(ctx context.Context, leg media.Leg) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = media.Play(ctx, leg, make([]int16, 3*60*media.SampleRate))
	}()
	return func() { cancel(); <-done }
}

// signIn opens base+"/agent" in b and signs user in; it returns once the
// page is signed in and its event socket is connected.
func signIn(ctx context.Context, t *testing.T, b *webtest.Browser, base, user, pass string) {
	t.Helper()
	must(t, b.Navigate(base+"/agent"))
	must(t, b.SetValue("#username", user))
	must(t, b.SetValue("#password", pass))
	must(t, b.Click("#login"))
	must(t, b.WaitJS(ctx, "window.contactd.loggedIn && window.contactd.wsConnected", 15*time.Second))
}

// goAvailable clicks Available on a signed-in agent page and waits for
// the state.
func goAvailable(ctx context.Context, t *testing.T, b *webtest.Browser) {
	t.Helper()
	must(t, b.Click("#go-available"))
	must(t, b.WaitJS(ctx, "window.contactd.state === 'available'", 10*time.Second))
}

// logLine is the first line of contactd's log with message msg that
// mentions id; "" when none.
func logLine(logs, msg, id string) string {
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `msg="`+msg+`"`) && strings.Contains(line, id) {
			return line
		}
	}
	return ""
}
