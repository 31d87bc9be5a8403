package e2e

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactd/contactd/sip"
)

// TestEraseCallback: a caller waiting for sales presses 1 to be called
// back; before any agent is free, an admin erases the caller's data
// through the API. The pending callback is gone — from the queue, from the
// database (so no restart re-arms it) — and when a sales agent becomes
// available nobody is offered it and the trunk is never asked to call the
// number.
func TestEraseCallback(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	carrier := startCarrier(ctx, t)
	s := startServerWith(t, buildBinary(t), func(y string) string {
		for old, repl := range map[string]string{
			`      blocked_prefixes: ["+1900"`: fmt.Sprintf(`      outbound: {uri: "sip:%s", from: "+15550100"}
      allowed_prefixes: ["+1555"]
      blocked_prefixes: ["+1900"`, carrier.addr),
			"announce_every: 45s, callback: true": "announce_every: 10s, callback: true",
		} {
			if !strings.Contains(y, old) {
				t.Fatalf("the demo config lacks %q", old)
			}
			y = strings.Replace(y, old, repl, 1)
		}
		return y
	})
	const number = "+15550179"

	// The caller keys 7 (sales; nobody is logged in), then 1 once the
	// callback is offered: contactd confirms and hangs up.
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: number, Codecs: []string{"PCMU"}})
	must(t, err)
	defer c.Hangup(context.Background())
	e := &ear{}
	go e.run(c.Leg())
	waitUntil(t, "the greeting", 20*time.Second, func() bool { return e.quietFor(800 * time.Millisecond) })
	must(t, c.SendDTMF('7'))
	quiet := sendSilence(ctx, c.Leg())
	defer quiet()
	waitUntil(t, "the callback to be accepted (contactd hangs up)", 60*time.Second, func() bool {
		select {
		case <-c.Done():
			return true
		default:
		}
		_ = c.SendDTMF('1')
		time.Sleep(2 * time.Second)
		return false
	})
	salesWaiting := func() []string {
		var qs struct {
			Queues []struct {
				Name    string   `json:"name"`
				Waiting []string `json:"waiting"`
			} `json:"queues"`
		}
		if st := s.api(t, s.adminTok, "GET", "/api/v1/queues", nil, &qs); st != 200 {
			t.Fatalf("queues: %d", st)
		}
		for _, q := range qs.Queues {
			if q.Name == "sales" {
				return q.Waiting
			}
		}
		t.Fatal("no sales queue")
		return nil
	}
	var callbackID string
	waitUntil(t, "the callback waiting in sales", 10*time.Second, func() bool {
		w := salesWaiting()
		if len(w) == 1 {
			callbackID = w[0]
		}
		return len(w) == 1
	})
	stored := func() []string {
		if s.dbURL == "" {
			return nil // SQLite: the API's answer and the queue say enough
		}
		conn, err := pgx.Connect(ctx, s.dbURL)
		must(t, err)
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, `SELECT id FROM callbacks WHERE number = $1`, number)
		must(t, err)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		must(t, err)
		return ids
	}
	if s.dbURL != "" && !slices.Equal(stored(), []string{callbackID}) {
		t.Fatalf("stored callbacks %v, want [%s]", stored(), callbackID)
	}

	// The admin erases the number.
	var erased struct {
		Calls     []string `json:"call_ids"`
		Callbacks []string `json:"callbacks"`
	}
	if st := s.api(t, s.adminTok, "POST", "/api/v1/customers/"+url.PathEscape(number)+"/erase", nil, &erased); st != 200 {
		t.Fatalf("erase: %d", st)
	}
	if len(erased.Calls) != 1 || !slices.Equal(erased.Callbacks, []string{callbackID}) {
		t.Fatalf("erasure %+v, want the call and the callback %s", erased, callbackID)
	}
	if w := salesWaiting(); len(w) != 0 {
		t.Errorf("sales still waiting after the erasure: %v", w)
	}
	if ids := stored(); len(ids) != 0 {
		t.Errorf("callbacks stored after the erasure: %v", ids)
	}
	var audit struct {
		Entries []struct {
			Action string `json:"action"`
			Detail string `json:"detail"`
		} `json:"entries"`
	}
	s.api(t, s.adminTok, "GET", "/api/v1/audit?action=customer.erase", nil, &audit)
	if len(audit.Entries) != 1 || !strings.Contains(audit.Entries[0].Detail, "callbacks=1") || strings.Contains(audit.Entries[0].Detail, "15550179") {
		t.Errorf("audit entries %+v, want one customer.erase with callbacks=1 and no number", audit.Entries)
	}

	// dave (sales) becomes available: nothing is offered, nobody is called.
	dave := s.login(t, "dave", "dave-demo")
	if st := s.api(t, dave, "POST", "/api/v1/agents/dave/state", map[string]string{"state": "available"}, nil); st != 200 {
		t.Fatalf("dave available: %d", st)
	}
	var v struct {
		State    string `json:"state"`
		Offering string `json:"offering"`
	}
	s.api(t, dave, "GET", "/api/v1/agents/dave", nil, &v)
	if v.State != "available" || v.Offering != "" {
		t.Errorf("dave after the erasure: %+v, want available with no offer", v)
	}
	if n := carrier.lastNumber(); n != "" {
		t.Errorf("the trunk was asked to call %q", n)
	}
	if strings.Contains(s.logs.String(), "calling out") {
		t.Error("contactd called out after the erasure")
	}
}
