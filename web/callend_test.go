package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/sqlite"
	"github.com/contactd/contactd/transcript"
)

// heldSegments is a store whose AddSegments waits until release is
// closed, so that a test can look at the API while a call's transcript
// is being stored; started is closed when the first AddSegments begins.
type heldSegments struct {
	store.Store
	started, release chan struct{}
}

func (h *heldSegments) AddSegments(ctx context.Context, id string, segs []transcript.Segment) error {
	select {
	case <-h.started:
	default:
		close(h.started)
	}
	select {
	case <-h.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return h.Store.AddSegments(ctx, id, segs)
}

// TestEndedCallHasTranscript: an API client that sees a call as ended
// also sees its transcript. While an imported call's transcript is being
// stored the call is listed, but not yet ended; once it shows ended_at,
// GET /calls/{id} has the transcript.
func TestEndedCallHasTranscript(t *testing.T) {
	inner, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inner.Close() })
	held := &heldSegments{Store: inner, started: make(chan struct{}), release: make(chan struct{})}
	f := newAPIWith(t, held, nil)
	released := false
	release := func() {
		if !released {
			released = true
			close(held.release)
		}
	}
	t.Cleanup(release) // runs before the server's Close, which waits for the import

	body, _ := json.Marshal(map[string]any{"caller_number": "+15550199", "transcript": []map[string]any{
		{"speaker": "caller", "start_ms": 0, "end_ms": 2000, "text": "my internet keeps dropping out"},
		{"speaker": "agent", "start_ms": 2500, "end_ms": 4000, "text": "i've reset your line from here"}}})
	imported := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/calls/import", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+f.admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			imported <- 0
			return
		}
		resp.Body.Close()
		imported <- resp.StatusCode
	}()
	select {
	case <-held.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the import never began storing the transcript")
	}

	type callView struct {
		ID         string               `json:"id"`
		EndedAt    *time.Time           `json:"ended_at"`
		Transcript []transcript.Segment `json:"transcript"`
	}
	var list struct {
		Calls []callView `json:"calls"`
	}
	if st := f.do(t, f.admin, "GET", "/api/v1/calls", nil, &list); st != 200 || len(list.Calls) != 1 {
		t.Fatalf("calls while the transcript is stored: %d %+v", st, list)
	}
	id := list.Calls[0].ID
	var c callView
	if st := f.do(t, f.admin, "GET", "/api/v1/calls/"+id, nil, &c); st != 200 {
		t.Fatalf("GET call: %d", st)
	}
	if c.EndedAt != nil || list.Calls[0].EndedAt != nil {
		t.Fatalf("the call shows as ended (%v) before its transcript is stored (%d lines)", c.EndedAt, len(c.Transcript))
	}

	release()
	select {
	case st := <-imported:
		if st != 201 {
			t.Fatalf("import: %d", st)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the import did not finish")
	}
	c = callView{}
	if st := f.do(t, f.admin, "GET", "/api/v1/calls/"+id, nil, &c); st != 200 || c.EndedAt == nil || len(c.Transcript) != 2 {
		t.Fatalf("after the import: %d ended %v, %d transcript lines", st, c.EndedAt, len(c.Transcript))
	}
}
