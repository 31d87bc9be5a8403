package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/sqlite"
	"github.com/contactd/contactd/tickets"
)

// receiver is a webhook endpoint that fails its first `fail` requests
// (fail < 0: always) and records what it accepted.
type receiver struct {
	mu       sync.Mutex
	fail     int
	calls    int
	accepted []Payload
	badSig   int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if req.Header.Get("X-Contactd-Signature") != Signature(secret, body) {
		r.badSig++
	}
	if r.fail < 0 || r.calls <= r.fail {
		http.Error(w, "not now", http.StatusServiceUnavailable)
		return
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.accepted = append(r.accepted, p)
}

func (r *receiver) state() (calls int, accepted []Payload, badSig int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, append([]Payload(nil), r.accepted...), r.badSig
}

const secret = "0123456789abcdef-secret"

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDispatcher(t *testing.T) {
	flaky := &receiver{fail: 2}
	broken := &receiver{fail: -1}
	onlyCreated := &receiver{}
	srvs := []*httptest.Server{httptest.NewServer(flaky), httptest.NewServer(broken), httptest.NewServer(onlyCreated)}
	for _, s := range srvs {
		defer s.Close()
	}
	var deadMu sync.Mutex
	var dead []Delivery
	d, err := New([]Endpoint{
		{URL: srvs[0].URL, Secret: secret},
		{URL: srvs[1].URL, Secret: secret, Events: []string{TicketCreated, TicketUpdated}},
		{URL: srvs[2].URL, Secret: secret, Events: []string{TicketCreated}},
	}, Options{MaxAttempts: 4, Backoff: 10 * time.Millisecond, DeadLetter: func(dl Delivery) {
		deadMu.Lock()
		dead = append(dead, dl)
		deadMu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()

	d.Publish(TicketUpdated, tickets.Ticket{ID: "tkt_1", Subject: "Broadband down"})

	// The flaky endpoint gets it on the third try; the broken one is
	// dead-lettered after four; the created-only one never hears of it.
	eventually(t, "flaky delivery", func() bool { _, acc, _ := flaky.state(); return len(acc) == 1 })
	eventually(t, "dead letter", func() bool { return len(d.DeadLetters()) == 1 })
	calls, acc, bad := flaky.state()
	if calls != 3 || acc[0].Type != TicketUpdated || acc[0].Ticket.ID != "tkt_1" || acc[0].ID == "" || bad != 0 {
		t.Errorf("flaky: calls %d accepted %+v bad signatures %d", calls, acc, bad)
	}
	calls, acc, bad = broken.state()
	if calls != 4 || len(acc) != 0 || bad != 0 {
		t.Errorf("broken: calls %d accepted %d bad signatures %d", calls, len(acc), bad)
	}
	dl := d.DeadLetters()[0]
	deadMu.Lock()
	if dl.URL != srvs[1].URL || dl.Attempts != 4 || dl.LastErr != "status 503" || len(dead) != 1 {
		t.Errorf("dead letter %+v (hook saw %d)", dl, len(dead))
	}
	deadMu.Unlock()

	d.Publish(TicketCreated, tickets.Ticket{ID: "tkt_2"})
	eventually(t, "created event", func() bool { _, acc, _ := onlyCreated.state(); return len(acc) == 1 })
	if calls, _, _ := onlyCreated.state(); calls != 1 {
		t.Errorf("created-only endpoint got %d calls, want 1", calls)
	}

	d.Close()
	d.Close()
	if err := <-runErr; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestSignature(t *testing.T) {
	// echo -n '{"a":1}' | openssl dgst -sha256 -hmac key
	if got := Signature("key", []byte(`{"a":1}`)); got != "sha256=88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342" {
		t.Errorf("Signature = %q", got)
	}
}

func TestEndpointValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    Endpoint
		ok   bool
	}{
		{"good", Endpoint{URL: "https://example.com/hook", Secret: secret}, true},
		{"bad url", Endpoint{URL: "ftp://x", Secret: secret}, false},
		{"short secret", Endpoint{URL: "https://example.com/hook", Secret: "x"}, false},
		{"bad event", Endpoint{URL: "https://example.com/hook", Secret: secret, Events: []string{"call.ended"}}, false},
		{"breach event", Endpoint{URL: "https://example.com/hook", Secret: secret, Events: []string{TicketSLABreached}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.e.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestCloseWithoutRun(t *testing.T) {
	d, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err := d.Run(context.Background()); err == nil {
		t.Error("Run after Close succeeded")
	}
}

// TestDeadLettersKeptAndReplayed: a delivery given up on is kept in the
// store; once the endpoint works again, Replay sends the same signed
// payload, and an endpoint no longer configured is refused.
func TestDeadLettersKeptAndReplayed(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rcv := &receiver{fail: 3} // down for the first three attempts
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	d, err := New([]Endpoint{{URL: srv.URL, Secret: secret}}, Options{MaxAttempts: 3, Backoff: time.Millisecond, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx)
	defer d.Close()

	d.SLABreach(ctx, tickets.Breach{TicketID: "tkt_9", Target: tickets.TargetResolution, Due: time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)},
		tickets.Ticket{ID: "tkt_9", Priority: tickets.PriorityUrgent})
	var dls []store.DeadLetter
	eventually(t, "the dead letter in the store", func() bool {
		dls, _ = st.ListDeadLetters(ctx, store.DeadLetterFilter{Pending: true})
		return len(dls) == 1
	})
	dl := dls[0]
	if dl.URL != srv.URL || dl.EventType != TicketSLABreached || dl.TicketID != "tkt_9" || dl.Attempts != 3 || dl.LastError != "status 503" || dl.EventID == "" {
		t.Errorf("dead letter %+v", dl)
	}
	if err := d.Replay(dl); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replayed delivery", func() bool { _, acc, _ := rcv.state(); return len(acc) == 1 })
	calls, acc, bad := rcv.state()
	if calls != 4 || bad != 0 || acc[0].ID != dl.EventID || acc[0].Type != TicketSLABreached || acc[0].Breach == nil ||
		acc[0].Breach.Target != tickets.TargetResolution || acc[0].Ticket.ID != "tkt_9" {
		t.Errorf("replayed: calls %d bad signatures %d accepted %+v", calls, bad, acc)
	}
	dl.URL = "https://gone.example/hook"
	if err := d.Replay(dl); !errors.Is(err, ErrUnknownEndpoint) {
		t.Errorf("replay to a removed endpoint: %v", err)
	}
}
