package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/outbox"
	"github.com/contactd/contactd/recordings"
	"github.com/contactd/contactd/sip"
	"github.com/contactd/contactd/store/sqlite"
)

// readyLog captures the server's log and the addresses of its ready line.
type readyLog struct {
	slog.Handler
	mu    sync.Mutex
	buf   *bytes.Buffer
	ready chan map[string]string
}

func newReadyLog() *readyLog {
	buf := &bytes.Buffer{}
	l := &readyLog{buf: buf, ready: make(chan map[string]string, 1)}
	l.Handler = slog.NewTextHandler(lockedWriter{l}, &slog.HandlerOptions{Level: slog.LevelInfo})
	return l
}

type lockedWriter struct{ l *readyLog }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	return w.l.buf.Write(p)
}

func (l *readyLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "contactd ready" {
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		l.ready <- attrs
	}
	return l.Handler.Handle(ctx, r)
}

func (l *readyLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testServer runs contactd in this process (run, as `contactd serve`
// does) on loopback ports with the demo config, DTMF only, recordings
// encrypted with a key from the environment. edits are more replacements
// in the demo config: {old, new}.
type testServer struct {
	httpURL, sipAddr, dataDir string
	key                       []byte
	log                       *readyLog
	stop                      context.CancelFunc
	done                      chan error
	admin                     string
}

func startTestServer(t *testing.T, edits ...[2]string) *testServer {
	t.Helper()
	dir := t.TempDir()
	y := string(config.Demo())
	rtp := 40000 + 2*(os.Getpid()%2000)
	replace := map[string]string{
		"shutdown_grace: 10s":      "shutdown_grace: 4s",
		"rtp_port_min: 20000":      fmt.Sprintf("rtp_port_min: %d", rtp),
		"rtp_port_max: 29999":      fmt.Sprintf("rtp_port_max: %d", rtp+200),
		"asr:\n  provider: sphinx": "asr:\n  provider: none", // DTMF only: a quick start
	}
	for _, e := range edits { // more replacements in the demo config
		replace[e[0]] = e[1]
	}
	for old, repl := range replace {
		if !strings.Contains(y, old) {
			t.Fatalf("demo config lacks %q", old)
		}
		y = strings.Replace(y, old, repl, 1)
	}
	y += "\nrecordings: {encrypt: true, url_ttl: 1m}\nmetrics: {token: scrape-me}\n"
	p := filepath.Join(dir, "contactd.yaml")
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{7}, recordings.KeySize)
	env := map[string]string{
		"CONTACTD_RECORDING_KEY":  fmt.Sprintf("%x", key),
		"CONTACTD_ADMIN_PASSWORD": "admin-test-password",
		"CONTACTD_HTTP_ADDR":      "127.0.0.1:0",
		"CONTACTD_SIP_ADDR":       "127.0.0.1:0",
		"CONTACTD_DATA_DIR":       filepath.Join(dir, "data"),
	}
	cfg, err := config.Load(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{dataDir: cfg.DataDir, key: key, log: newReadyLog(), done: make(chan error, 1)}
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go func() { s.done <- run(ctx, cfg, slog.New(s.log)) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.log)
		}
	})
	select {
	case a := <-s.log.ready:
		s.httpURL, s.sipAddr = a["http"], a["sip"]
	case err := <-s.done:
		t.Fatalf("server stopped: %v\n%s", err, s.log)
	case <-time.After(60 * time.Second):
		t.Fatalf("server not ready\n%s", s.log)
	}
	var out struct{ Token string }
	if st := s.api(t, "", "POST", "/api/v1/auth/login", `{"username":"admin","password":"admin-test-password"}`, &out); st != 200 {
		t.Fatalf("admin login: %d", st)
	}
	s.admin = out.Token
	return s
}

func (s *testServer) api(t *testing.T, token, method, path, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, s.httpURL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if bs, ok := out.(*[]byte); ok {
			*bs = b
		} else if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// dialAndTalk places a call that sends a tone until ctx ends.
func (s *testServer) dial(t *testing.T, ctx context.Context, from string) *sip.OutboundCall {
	t.Helper()
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: from, Codecs: []string{"PCMU"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	go func() {
		tone := media.Tone(440, 20*time.Millisecond, media.SampleRate, 0.3)
		for {
			if err := c.Leg().WriteFrame(tone); err != nil {
				return
			}
		}
	}()
	return c
}

type callView struct {
	ID           string     `json:"id"`
	StartedAt    time.Time  `json:"started_at"`
	EndedAt      *time.Time `json:"ended_at"`
	RecordingURL string     `json:"recording_url"`
}

// lastCall waits for the newest call from number to have ended.
func (s *testServer) endedCall(t *testing.T, from string) callView {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var hist struct {
			Calls []callView `json:"calls"`
		}
		s.api(t, s.admin, "GET", "/api/v1/callers/"+strings.ReplaceAll(from, "+", "%2B")+"/history", "", &hist)
		if len(hist.Calls) > 0 && hist.Calls[0].EndedAt != nil {
			return hist.Calls[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no ended call from %s", from)
	return callView{}
}

func gauge(t *testing.T, body []byte, name string, labels map[string]string) float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	f := fams[name]
next:
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

// TestServeDataProtectionAndDrain drives the real server: a call's
// recording is encrypted at rest and plays back decrypted from a signed
// URL; /metrics counts the calls; SIGTERM (the context) refuses new calls
// with 503 while the call in progress finishes within the grace period
// and still gets its ticket; nothing is left in the outbox.
func TestServeDataProtectionAndDrain(t *testing.T) {
	if _, err := os.Stat("/usr/bin/espeak-ng"); err != nil {
		t.Skip("espeak-ng is not installed")
	}
	s := startTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// A whole call: two seconds of tone, then the caller hangs up.
	c := s.dial(t, ctx, "+15550141")
	time.Sleep(2 * time.Second)
	_ = c.Hangup(ctx)
	first := s.endedCall(t, "+15550141")
	if first.RecordingURL == "" {
		t.Fatal("no recording")
	}
	wav := filepath.Join(s.dataDir, recordings.Path(first.ID, first.StartedAt))
	if _, err := os.Stat(wav); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("plaintext recording left: %v", err)
	}
	raw, err := os.ReadFile(wav + recordings.EncSuffix)
	if err != nil || !recordings.IsEncrypted(raw) {
		t.Fatalf("encrypted recording: %v", err)
	}
	var su struct{ URL string }
	if st := s.api(t, s.admin, "GET", "/api/v1/calls/"+first.ID+"/recording/url", "", &su); st != 200 {
		t.Fatalf("recording url: %d", st)
	}
	resp, err := http.Get(s.httpURL + su.URL) // no token: the signature
	if err != nil {
		t.Fatal(err)
	}
	pcm, rate, ch, err := media.ReadWAV(resp.Body)
	resp.Body.Close()
	// A G.711 call is recorded at 8 kHz.
	if err != nil || ch != 2 || rate != media.NarrowRate || len(pcm) < 2*media.NarrowRate {
		t.Fatalf("decrypted recording: %d samples, %d Hz, %d ch, %v", len(pcm), rate, ch, err)
	}
	left := make([]int16, 0, len(pcm)/2)
	for i := 0; i < len(pcm); i += 2 {
		left = append(left, pcm[i])
	}
	if media.RMS(left) < 100 {
		t.Errorf("the caller's tone is not in the recording (RMS %.0f)", media.RMS(left))
	}

	// A call in progress when the server is told to stop.
	c2 := s.dial(t, ctx, "+15550142")
	var metrics []byte
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if st := s.api(t, "scrape-me", "GET", "/metrics", "", &metrics); st != 200 {
			t.Fatalf("/metrics with the scrape token: %d", st)
		}
		// The call counts as active as soon as it is accepted; its
		// record is written a moment later by the call's goroutine.
		if gauge(t, metrics, "contactd_calls_active", nil) == 1 &&
			gauge(t, metrics, "contactd_db_operation_seconds", map[string]string{"op": "CreateCall"}) >= 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if g := gauge(t, metrics, "contactd_calls_active", nil); g != 1 {
		t.Errorf("contactd_calls_active = %g, want 1", g)
	}
	if g := gauge(t, metrics, "contactd_sip_invites_total", map[string]string{"code": "200"}); g != 2 {
		t.Errorf("contactd_sip_invites_total{code=200} = %g, want 2", g)
	}
	if g := gauge(t, metrics, "contactd_calls_ended_total", map[string]string{"answered": "false"}); g != 1 {
		t.Errorf("contactd_calls_ended_total = %g, want 1", g)
	}
	if g := gauge(t, metrics, "contactd_db_operation_seconds", map[string]string{"op": "CreateCall"}); g < 2 {
		t.Errorf("db latency samples for CreateCall: %g", g)
	}
	if g := gauge(t, metrics, "contactd_rtp_loss_ratio", map[string]string{"leg": "caller"}); g != 1 {
		t.Errorf("rtp loss samples: %g, want 1", g)
	}

	s.stop() // SIGTERM
	time.Sleep(300 * time.Millisecond)
	if _, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: "+15550143", Codecs: []string{"PCMU"}}); err == nil {
		t.Error("a new call was taken while draining")
	} else if se := (*sip.StatusError)(nil); !errors.As(err, &se) || se.Code != 503 {
		t.Errorf("new call while draining: %v, want 503", err)
	}
	select {
	case err := <-s.done:
		t.Fatalf("server stopped with a call in progress: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	_ = c2.Hangup(ctx) // within the grace period
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		s.done <- nil // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop after the last call")
	}

	// The drained call has its record, ticket and evaluation; the outbox is empty.
	st, err := sqlite.Open(ctx, s.dataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs, err := st.CallsByCaller(ctx, "+15550142", 1)
	if err != nil || len(cs) != 1 || cs[0].EndedAt.IsZero() {
		t.Fatalf("drained call: %+v %v", cs, err)
	}
	ts, _ := st.TicketsByCall(ctx, cs[0].ID)
	es, _ := st.EvaluationsByCall(ctx, cs[0].ID)
	if len(ts) != 1 || len(es) != 1 {
		t.Errorf("drained call: %d tickets, %d evaluations", len(ts), len(es))
	}
	box, err := outbox.Open(filepath.Join(s.dataDir, OutboxDir), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := box.Pending(); len(ids) != 0 {
		t.Errorf("outbox not empty: %v", ids)
	}
	if !strings.Contains(s.log.String(), "msg=stopped") {
		t.Error("no clean stop in the log")
	}
}

// procs: twice the CPUs unless GOMAXPROCS says otherwise.
func TestProcs(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GOMAXPROCS" {
				return v
			}
			return ""
		}
	}
	if n, set := procs(env(""), 2); !set || n != 4 {
		t.Fatalf("no GOMAXPROCS, 2 CPUs: %d, %v; want 4", n, set)
	}
	if n, set := procs(env("3"), 2); set || n != 2 {
		t.Fatalf("GOMAXPROCS=3: %d, %v; want it left alone", n, set)
	}
}

// TestMediaReaders: CONTACTD_MEDIA_READERS is a count from 1 up; anything
// else stops serve with a clear error, and unset leaves the default.
func TestMediaReaders(t *testing.T) {
	for v, want := range map[string]int{"": 0, "1": 1, "4": 4} {
		if n, err := mediaReaders(func(string) string { return v }); err != nil || n != want {
			t.Errorf("%q: %d, %v; want %d", v, n, err, want)
		}
	}
	for _, v := range []string{"0", "-2", "four", "1e3", "100000"} {
		if _, err := mediaReaders(func(string) string { return v }); err == nil || !strings.Contains(err.Error(), "CONTACTD_MEDIA_READERS") {
			t.Errorf("%q: %v, want an error naming the setting", v, err)
		}
	}
}
