package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/contactd/contactd/metrics"
	"github.com/contactd/contactd/privacy"
	"github.com/contactd/contactd/recordings"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
)

// encryptedFixture serves calls ca (alice's) and cb (bob's) whose
// recordings are encrypted at rest.
func encryptedFixture(t *testing.T) (*apiFixture, map[string]string, []byte, string) {
	t.Helper()
	return encryptedFixtureOn(t, openSQLite(t))
}

func encryptedFixtureOn(t *testing.T, st store.Store) (*apiFixture, map[string]string, []byte, string) {
	t.Helper()
	dataDir := t.TempDir()
	key := make([]byte, recordings.KeySize)
	_, _ = rand.Read(key)
	files, err := recordings.New(dataDir, key, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := newAPIWith(t, st, func(o *Options) { o.DataDir, o.Recordings = dataDir, files })
	ctx := context.Background()
	toks := map[string]string{"admin": f.admin}
	for _, u := range []struct{ name, role string }{{"alice", "agent"}, {"bob", "agent"}, {"quinn", "qa"}} {
		if _, err := CreateUser(ctx, f.store, f.router, "", u.name, u.name+"-password", u.role); err != nil {
			t.Fatal(err)
		}
		toks[u.name] = f.login(t, u.name, u.name+"-password")
	}
	// 200 kB: several encryption chunks.
	wav := append([]byte("RIFF....WAVEfmt "), bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 25000)...)
	now := time.Now()
	for _, x := range []struct{ id, agent string }{{"ca", "alice"}, {"cb", "bob"}} {
		rel := filepath.Join(recordings.Dir, x.id+".wav")
		if err := os.MkdirAll(filepath.Join(dataDir, recordings.Dir), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dataDir, rel), wav, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := files.Seal(rel); err != nil {
			t.Fatal(err)
		}
		if err := f.store.CreateCall(ctx, store.Call{ID: x.id, From: "+1555" + x.id, Agent: x.agent, StartedAt: now,
			EndedAt: now.Add(time.Minute), RecordingPath: rel}); err != nil {
			t.Fatal(err)
		}
	}
	return f, toks, wav, dataDir
}

// get fetches path (a signed URL: no token) with an optional Range.
func get(t *testing.T, f *apiFixture, path, rng string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

type signedURL struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// TestSignedRecordingURLs: an <audio> element plays an encrypted
// recording from a signed URL without a token, until it expires; plays
// and downloads are audited as the user who asked; a URL cannot be
// altered or used for another call; agents get URLs for their own calls.
func TestSignedRecordingURLs(t *testing.T) {
	f, tok, wav, dataDir := encryptedFixture(t)
	clk := withClock(f)

	var su signedURL
	if st := f.do(t, tok["alice"], "GET", "/api/v1/calls/ca/recording/url", nil, &su); st != 200 || !strings.Contains(su.URL, "sig=") {
		t.Fatalf("alice's URL: %d %+v", st, su)
	}
	if d := time.Until(su.ExpiresAt); d < 4*time.Minute || d > 5*time.Minute+time.Second {
		t.Errorf("expires in %v, want about 5 minutes", d)
	}
	if st := f.do(t, tok["bob"], "GET", "/api/v1/calls/ca/recording/url", nil, nil); st != 404 {
		t.Errorf("bob's URL for alice's call: %d, want 404", st)
	}
	if st := f.do(t, "", "GET", "/api/v1/calls/ca/recording/url", nil, nil); st != 401 {
		t.Errorf("URL without a token: %d", st)
	}

	resp, body := get(t, f, su.URL, "")
	if resp.StatusCode != 200 || !bytes.Equal(body, wav) || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("signed play: %d %s, %d bytes (want %d, decrypted)", resp.StatusCode, resp.Header.Get("Content-Type"), len(body), len(wav))
	}
	raw, _ := os.ReadFile(filepath.Join(dataDir, recordings.Dir, "ca.wav"+recordings.EncSuffix))
	if bytes.Contains(raw, []byte("WAVEfmt")) {
		t.Fatal("the recording on disk is not encrypted")
	}
	// A seek: a range from the middle, across chunks; not a new play.
	resp, body = get(t, f, su.URL, "bytes=70000-140009")
	if resp.StatusCode != 206 || !bytes.Equal(body, wav[70000:140010]) {
		t.Fatalf("range: %d, %d bytes", resp.StatusCode, len(body))
	}
	if plays := auditOf(t, f, "?action=recording.play"); len(plays) != 1 || plays[0].Actor != "alice" || plays[0].Target != "call:ca" {
		t.Errorf("plays audited: %+v", plays)
	}

	// Downloads are signed separately and audited as downloads.
	var dl signedURL
	f.do(t, tok["quinn"], "GET", "/api/v1/calls/cb/recording/url?download=1", nil, &dl)
	resp, _ = get(t, f, dl.URL, "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	if es := auditOf(t, f, "?action=recording.download"); !hasAudit(es, "quinn", AuditRecordingDown, "call:cb") {
		t.Errorf("download not audited: %+v", es)
	}

	// Altered URLs are refused.
	u, _ := url.Parse(su.URL)
	alter := func(what string, edit func(p *url.URL, q url.Values)) {
		t.Helper()
		p := *u
		q := p.Query()
		edit(&p, q)
		p.RawQuery = q.Encode()
		if resp, body := get(t, f, p.String(), ""); resp.StatusCode != 403 || bytes.Contains(body, []byte("RIFF")) {
			t.Errorf("%s: %d %q, want 403", what, resp.StatusCode, body)
		}
	}
	alter("another call", func(p *url.URL, _ url.Values) { p.Path = strings.Replace(p.Path, "/ca/", "/cb/", 1) })
	alter("another user", func(_ *url.URL, q url.Values) { q.Set("sub", "bob") })
	alter("another role", func(_ *url.URL, q url.Values) { q.Set("role", "admin") })
	alter("a later expiry", func(_ *url.URL, q url.Values) { q.Set("exp", "99999999999") })
	alter("made a download", func(_ *url.URL, q url.Values) { q.Set("download", "1") })
	alter("no signature", func(_ *url.URL, q url.Values) { q.Set("sig", "") })
	alter("garbage signature", func(_ *url.URL, q url.Values) { q.Set("sig", "!!!") })
	// A signature does not open other routes.
	if st, _ := f.raw(t, "", "GET", "/api/v1/calls/ca?"+u.RawQuery, ""); st != 401 {
		t.Errorf("signature on another route: %d, want 401", st)
	}

	// The bearer route still works (the e2e tests and integrations use it).
	if st, body := f.raw(t, tok["admin"], "GET", "/api/v1/calls/ca/recording", ""); st != 200 || body != string(wav) {
		t.Errorf("bearer play: %d, %d bytes", st, len(body))
	}

	// Five minutes on, the URL has expired.
	clk.Add(5*time.Minute + time.Second)
	if resp, body := get(t, f, su.URL, ""); resp.StatusCode != 403 || !strings.Contains(string(body), "expired") {
		t.Errorf("expired URL: %d %q", resp.StatusCode, body)
	}

	// Without the key an encrypted recording is refused with a reason,
	// never served as ciphertext.
	plain, _ := recordings.New(dataDir, nil, false, nil)
	f.server.opts.Recordings = plain
	if st, body := f.raw(t, tok["admin"], "GET", "/api/v1/calls/ca/recording", ""); st != 500 || !strings.Contains(body, "encrypted") {
		t.Errorf("no key: %d %q", st, body)
	}
}

// TestEraseCustomerAPI: the admin erases one caller; their recordings,
// transcripts and ticket PII go, the ticket rows stay, the audit log says
// so; other roles may not.
func TestEraseCustomerAPISQLite(t *testing.T) { testEraseCustomerAPI(t, openSQLite(t)) }

func TestEraseCustomerAPIPostgres(t *testing.T) { testEraseCustomerAPI(t, openPostgres(t)) }

func testEraseCustomerAPI(t *testing.T, st store.Store) {
	f, tok, _, dataDir := encryptedFixtureOn(t, st)
	ctx := context.Background()
	// Two imported calls of the same caller (transcripts, tickets, evaluations).
	var ids []string
	for _, text := range []string{"hi my name is jane roe i was charged twice my account number is four four one two nine nine",
		"jane roe again about the double charge"} {
		var res struct {
			CallID string `json:"call_id"`
		}
		body := map[string]any{"caller_number": "+15550100", "transcript": []map[string]any{
			{"speaker": "caller", "start_ms": 0, "end_ms": 3000, "text": text},
			{"speaker": "agent", "start_ms": 3500, "end_ms": 5000, "text": "i have refunded it"}}}
		if st := f.do(t, tok["admin"], "POST", "/api/v1/calls/import", body, &res); st != 201 {
			t.Fatalf("import: %d", st)
		}
		ids = append(ids, res.CallID)
	}
	// The first call has a recording too.
	c, _ := f.store.Call(ctx, ids[0])
	c.RecordingPath = filepath.Join(recordings.Dir, "cx.wav")
	if err := os.WriteFile(filepath.Join(dataDir, c.RecordingPath), []byte("RIFF jane"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.store.UpdateCall(ctx, c); err != nil {
		t.Fatal(err)
	}

	for _, who := range []string{"alice", "quinn"} {
		if st := f.do(t, tok[who], "POST", "/api/v1/customers/%2B15550100/erase", nil, nil); st != 403 {
			t.Errorf("%s erasing: %d, want 403", who, st)
		}
	}
	var e privacy.Erasure
	if st := f.do(t, tok["admin"], "POST", "/api/v1/customers/%2B15550100/erase", nil, &e); st != 200 {
		t.Fatalf("erase: %d", st)
	}
	if len(e.Calls) != 2 || e.RecordingFiles != 1 || e.Segments != 4 || e.Tickets < 1 || e.Evaluations != 2 {
		t.Errorf("erasure %+v", e)
	}
	if _, err := os.Stat(filepath.Join(dataDir, c.RecordingPath)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("recording file kept: %v", err)
	}
	var hist struct {
		Calls   []json.RawMessage `json:"calls"`
		Tickets []json.RawMessage `json:"tickets"`
	}
	if st := f.do(t, tok["admin"], "GET", "/api/v1/callers/%2B15550100/history", nil, &hist); st != 200 || len(hist.Calls)+len(hist.Tickets) != 0 {
		t.Errorf("history after erasure: %d %d calls %d tickets", st, len(hist.Calls), len(hist.Tickets))
	}
	ts, _ := f.store.TicketsByCall(ctx, ids[0])
	if len(ts) != 1 || ts[0].Summary != store.Erased || ts[0].Customer != (tickets.Customer{}) || ts[0].Category == "" {
		t.Errorf("ticket after erasure: %+v", ts)
	}
	var call struct {
		From       string            `json:"from"`
		Transcript []json.RawMessage `json:"transcript"`
	}
	f.do(t, tok["admin"], "GET", "/api/v1/calls/"+ids[1], nil, &call)
	if call.From != store.Erased || len(call.Transcript) != 0 {
		t.Errorf("call after erasure: %+v", call)
	}
	es := auditOf(t, f, "?action="+privacy.AuditErase)
	if len(es) != 1 || es[0].Actor != "admin" || !strings.Contains(es[0].Detail, ids[0]) || strings.Contains(es[0].Detail, "15550100") {
		t.Errorf("audit %+v", es)
	}
	if st := f.do(t, tok["admin"], "POST", "/api/v1/customers/%20/erase", nil, nil); st != 400 {
		t.Errorf("blank number: %d", st)
	}
}

// TestMetricsAndProfiles: /metrics answers admins and a scraper with the
// configured token, in the Prometheus text format; the profiles answer
// admins only.
func TestMetricsAndProfiles(t *testing.T) {
	m := metrics.New()
	m.GaugeFunc("contactd_calls_active", "Calls in progress.", func() float64 { return 2 })
	f := newAPIWith(t, openSQLite(t), func(o *Options) { o.Metrics, o.MetricsToken = m.Handler(), "scrape-secret" })
	ctx := context.Background()
	if _, err := CreateUser(ctx, f.store, f.router, "", "sue", "sue-password", store.RoleSupervisor); err != nil {
		t.Fatal(err)
	}
	sue := f.login(t, "sue", "sue-password")
	for _, c := range []struct {
		who, token string
		want       int
	}{{"nobody", "", 401}, {"a wrong token", "nope", 401}, {"a supervisor", sue, 403}, {"the scraper", "scrape-secret", 200}, {"an admin", f.admin, 200}} {
		st, body := f.raw(t, c.token, "GET", "/metrics", "")
		if st != c.want {
			t.Errorf("/metrics as %s: %d, want %d", c.who, st, c.want)
			continue
		}
		if st != 200 {
			continue
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			t.Fatalf("parse /metrics: %v", err)
		}
		if g := fams["contactd_calls_active"]; g == nil || g.GetMetric()[0].GetGauge().GetValue() != 2 {
			t.Errorf("contactd_calls_active: %v", g)
		}
	}
	// The scraper's token opens /metrics only.
	if st := f.do(t, "scrape-secret", "GET", "/api/v1/calls", nil, nil); st != 401 {
		t.Errorf("metrics token on the API: %d", st)
	}
	if st, body := f.raw(t, f.admin, "GET", "/debug/pprof/", ""); st != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("pprof index: %d", st)
	}
	if st, body := f.raw(t, f.admin, "GET", "/debug/pprof/goroutine?debug=1", ""); st != 200 || !strings.Contains(body, "goroutine profile") {
		t.Errorf("goroutine profile: %d %.80q", st, body)
	}
	if st, _ := f.raw(t, f.admin, "GET", "/debug/pprof/profile?seconds=1", ""); st != 200 {
		t.Errorf("cpu profile: %d", st)
	}
	if st, _ := f.raw(t, sue, "GET", "/debug/pprof/heap", ""); st != 403 {
		t.Errorf("pprof as a supervisor: %d", st)
	}
	if st, _ := f.raw(t, "", "GET", "/debug/pprof/heap", ""); st != 401 {
		t.Errorf("pprof without a token: %d", st)
	}
}
