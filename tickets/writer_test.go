package tickets

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPriorityRules(t *testing.T) {
	outage := call("tech_support", "c: is there an outage my internet is down", "a: yes engineers are on it")
	sales := call("sales", "c: how much is fibre", "a: thirty pounds")
	angry := call("sales", "c: this is ridiculous and unacceptable", "a: sorry")
	rules := []PriorityRule{
		{If: Condition{Keywords: []string{"lawyer", "outage"}}, Set: PriorityUrgent},
		{If: Condition{Categories: []string{"sales"}}, Set: PriorityLow},
		{If: Condition{Sentiment: SentimentNegative}, Set: PriorityHigh},
	}
	for _, tc := range []struct {
		name string
		tk   Ticket
		want string
	}{
		{"keyword", Draft(outage, DraftOptions{Rules: rules}), PriorityUrgent},
		{"category lowers", Draft(sales, DraftOptions{Rules: rules}), PriorityLow},
		{"highest rule wins", Draft(angry, DraftOptions{Rules: rules}), PriorityHigh},
		{"angry never below high even if rules say low", Draft(angry, DraftOptions{Rules: rules[1:2]}), PriorityHigh},
		{"base priority when nothing holds", Draft(sales, DraftOptions{Rules: rules[:1], BasePriority: PriorityHigh}), PriorityHigh},
		{"default rules: outage urgent", Draft(outage, DraftOptions{}), PriorityUrgent},
		{"vip rule", Draft(sales, DraftOptions{VIP: true}), PriorityUrgent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.tk.Priority != tc.want {
				t.Errorf("priority %s, want %s", tc.tk.Priority, tc.want)
			}
		})
	}
	if err := ValidateRules(rules); err != nil {
		t.Error(err)
	}
	for _, bad := range [][]PriorityRule{{{Set: "high"}}, {{If: Condition{Sentiment: "meh"}, Set: "high"}}, {{If: Condition{VIP: ptr(true)}, Set: "asap"}}} {
		if ValidateRules(bad) == nil {
			t.Errorf("ValidateRules(%+v) accepted", bad)
		}
	}
}

func TestOutcomeAndFollowUps(t *testing.T) {
	now := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC) // a Friday
	tr := call("tech_support",
		"c: my broadband keeps dropping and my mobile is seven seven zero zero nine eight eight one two three",
		"c: it started on the fifth of march",
		"a: i've booked an engineer visit for tuesday",
		"a: and i'll call you back within two working days to check",
	)
	tk := Draft(tr, DraftOptions{Now: now})
	if tk.Outcome != OutcomeFollowUp || len(tk.FollowUps) != 2 {
		t.Fatalf("outcome %s follow-ups %+v", tk.Outcome, tk.FollowUps)
	}
	tue := time.Date(2025, 3, 18, 0, 0, 0, 0, time.UTC)
	if !tk.FollowUps[0].Due.Equal(tue) || !tk.FollowUps[1].Due.Equal(time.Date(2025, 3, 18, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("due dates %v %v, want Tue 18 Mar both (two working days from Friday)", tk.FollowUps[0].Due, tk.FollowUps[1].Due)
	}
	if !strings.Contains(tk.Summary, "Next steps:") || !strings.Contains(tk.Summary, "engineer visit") {
		t.Errorf("summary %q", tk.Summary)
	}
	if tk.Entities[EntityPhone] != "7700988123" || tk.Entities[EntityDate] != "2025-03-05" {
		t.Errorf("entities %v", tk.Entities)
	}
	if tk.SubCategory != "intermittent" {
		t.Errorf("sub-category %q", tk.SubCategory)
	}
	done := Draft(orderCall, DraftOptions{Now: now})
	if done.Outcome != OutcomeResolved || len(done.FollowUps) != 0 || !strings.Contains(done.Summary, "resolved on the call") {
		t.Errorf("resolved call: %s %+v %q", done.Outcome, done.FollowUps, done.Summary)
	}
	for _, tc := range []struct {
		line string
		want time.Time
	}{
		{"i'll call you back tomorrow", time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)},
		{"we will send it within 3 days", time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC)},
		{"someone will be in touch in 48 hours", now.Add(48 * time.Hour)},
		{"i'll escalate it by friday", time.Date(2025, 3, 21, 0, 0, 0, 0, time.UTC)},
		{"i'll arrange it next week", time.Date(2025, 3, 21, 0, 0, 0, 0, time.UTC)},
	} {
		if got, ok := dueDate(wordsOf(tc.line), now); !ok || !got.Equal(tc.want) {
			t.Errorf("dueDate(%q) = %v %v, want %v", tc.line, got, ok, tc.want)
		}
	}
}

func TestSentimentArc(t *testing.T) {
	tr := call("billing", "c: this is ridiculous i'm furious", "c: the bill is wrong", "c: ok", "c: fine", "c: brilliant thank you so much that's perfect")
	start, end := SentimentArc(tr)
	if start != SentimentNegative || end != SentimentPositive {
		t.Errorf("arc %s → %s", start, end)
	}
	tk := Draft(tr, DraftOptions{})
	if tk.Priority != PriorityHigh {
		t.Errorf("caller angry at the start: priority %s, want high", tk.Priority)
	}
}

func TestRedactPII(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"my social security number is 123-45-6789", "my social security number is [national id]"},
		{"ssn one two three four five six seven eight nine", "ssn [national id]"},
		{"the security code is 737", "the security code is [cvv]"},
		{"the three digit code on the back is four two one", "the three digit code on the back is [cvv]"},
		{"national insurance AB123456C thanks", "national insurance [national id] thanks"},
		{"national insurance AB 123456 C", "national insurance [national id]"},
		{"order 123456789 arrived", "order 123456789 arrived"},
		{"code 737", "code 737"},
		{"my account is 441297", "my account is 441297"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	tr := call("billing", "c: card 4111 1111 1111 1111 cvv 123", "a: thanks")
	red := RedactTranscript(tr)
	if red.Segments[0].Text != "card [card ending 1111] cvv [cvv]" || tr.Segments[0].Text == red.Segments[0].Text {
		t.Errorf("RedactTranscript: %q (original %q)", red.Segments[0].Text, tr.Segments[0].Text)
	}
	tk := RedactTicket(Ticket{Subject: "ssn 123-45-6789", Entities: map[string]string{"x": "4111111111111111"}, FollowUps: []FollowUp{{Action: "cvv 999"}}})
	if strings.ContainsAny(tk.Subject+tk.Entities["x"]+tk.FollowUps[0].Action, "0123456789") && !strings.Contains(tk.Entities["x"], "ending") {
		t.Errorf("RedactTicket left %+v", tk)
	}
}

// fakeChat is an OpenAI-compatible /chat/completions endpoint.
func fakeChat(t *testing.T, reply string, status int, delay time.Duration, seen *string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "bad path or key", http.StatusUnauthorized)
			return
		}
		var req struct {
			Model    string `json:"model"`
			Messages []struct{ Role, Content string }
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "m" || len(req.Messages) != 2 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if seen != nil {
			*seen = req.Messages[1].Content
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]string{"role": "assistant", "content": reply}}}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestWriterLLM(t *testing.T) {
	tr := call("billing", "c: i was charged twice on card 4111 1111 1111 1111", "a: i've refunded the duplicate")
	var seen string
	good := fakeChat(t, "```json\n{\"subject\": \"Duplicate charge refunded\", \"summary\": \"Caller was charged twice; agent refunded it.\"}\n```", 200, 0, &seen)
	w := &Writer{LLM: &LLM{URL: good.URL + "/v1", Model: "m", APIKey: "k"}}
	tk := w.Write(context.Background(), tr, DraftOptions{})
	if tk.Subject != "Duplicate charge refunded" || tk.Summary != "Caller was charged twice; agent refunded it." || !contains(tk.Tags, "llm_summary") {
		t.Errorf("LLM ticket %q %q %v", tk.Subject, tk.Summary, tk.Tags)
	}
	if strings.Contains(seen, "4111") || !strings.Contains(seen, "[card ending 1111]") {
		t.Errorf("the model saw %q", seen)
	}
	embedded := Draft(tr, DraftOptions{})
	for _, tc := range []struct {
		name string
		llm  *LLM
	}{
		{"server error", &LLM{URL: fakeChat(t, "", 500, 0, nil).URL + "/v1", Model: "m", APIKey: "k"}},
		{"not json", &LLM{URL: fakeChat(t, "Sure! Here is a summary.", 200, 0, nil).URL + "/v1", Model: "m", APIKey: "k"}},
		{"empty fields", &LLM{URL: fakeChat(t, `{"subject": ""}`, 200, 0, nil).URL + "/v1", Model: "m", APIKey: "k"}},
		{"too slow", &LLM{URL: fakeChat(t, `{"subject":"s","summary":"x"}`, 200, 2*time.Second, nil).URL + "/v1", Model: "m", APIKey: "k", Timeout: 100 * time.Millisecond}},
		{"wrong key", &LLM{URL: good.URL + "/v1", Model: "m", APIKey: "nope"}},
		{"nothing listening", &LLM{URL: "http://127.0.0.1:1/v1", Model: "m"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			tk := (&Writer{LLM: tc.llm}).Write(context.Background(), tr, DraftOptions{})
			if tk.Subject != embedded.Subject || tk.Summary != embedded.Summary {
				t.Errorf("fallback: %q %q, want the embedded %q", tk.Subject, tk.Summary, embedded.Subject)
			}
			if time.Since(start) > time.Second {
				t.Errorf("fallback took %v", time.Since(start))
			}
		})
	}
}

func TestCalendarAndSLA(t *testing.T) {
	cal, err := NewCalendar("Europe/London", map[string]string{"mon-fri": "09:00-17:00", "sat,sun": "closed"}, []string{"2025-03-17"})
	if err != nil {
		t.Fatal(err)
	}
	lon, _ := time.LoadLocation("Europe/London")
	fri4pm := time.Date(2025, 3, 14, 16, 0, 0, 0, lon)
	for _, tc := range []struct {
		d    time.Duration
		want time.Time
	}{
		{30 * time.Minute, time.Date(2025, 3, 14, 16, 30, 0, 0, lon)},
		{2 * time.Hour, time.Date(2025, 3, 18, 10, 0, 0, 0, lon)}, // weekend and Monday's holiday skipped
		{9 * time.Hour, time.Date(2025, 3, 18, 17, 0, 0, 0, lon)},
		{9*time.Hour + time.Minute, time.Date(2025, 3, 19, 9, 1, 0, 0, lon)},
	} {
		if got := cal.Add(fri4pm, tc.d); !got.Equal(tc.want) {
			t.Errorf("Add(%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
	sat := time.Date(2025, 3, 15, 12, 0, 0, 0, lon)
	if got := cal.Add(sat, time.Hour); !got.Equal(time.Date(2025, 3, 18, 10, 0, 0, 0, lon)) {
		t.Errorf("from Saturday: %v", got)
	}
	var none *Calendar
	if got := none.Add(sat, time.Hour); !got.Equal(sat.Add(time.Hour)) {
		t.Errorf("nil calendar: %v", got)
	}
	for _, bad := range []map[string]string{{"funday": "09:00-17:00"}, {"mon": "9 to 5"}, {"mon": "17:00-09:00"}} {
		if _, err := NewCalendar("", bad, nil); err == nil {
			t.Errorf("NewCalendar(%v) accepted", bad)
		}
	}

	tk := Ticket{Priority: PriorityUrgent, CreatedAt: fri4pm}
	SLAPolicy{Calendar: cal}.Apply(&tk)
	if !tk.FirstResponseDue.Equal(time.Date(2025, 3, 14, 16, 30, 0, 0, lon)) || !tk.ResolutionDue.Equal(time.Date(2025, 3, 18, 12, 0, 0, 0, lon)) {
		t.Errorf("dues %v %v", tk.FirstResponseDue, tk.ResolutionDue)
	}
	if tk.SLABreached(fri4pm.Add(10*time.Minute)) || !tk.SLABreached(fri4pm.Add(time.Hour)) {
		t.Error("first-response breach not detected")
	}
	tk.FirstResponseAt = fri4pm.Add(5 * time.Minute)
	if tk.SLABreached(fri4pm.Add(time.Hour)) {
		t.Error("answered in time but breached")
	}
	tk.SolvedAt = time.Date(2025, 3, 19, 0, 0, 0, 0, lon)
	if !tk.SLABreached(tk.SolvedAt) {
		t.Error("solved late but not breached")
	}
}

func TestLifecycleAndDiff(t *testing.T) {
	now := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	old := Ticket{ID: "t", Status: StatusNew, Priority: PriorityNormal, Tags: []string{"a"}}
	nt := old
	nt.Status, nt.Assignee = StatusSolved, "alice"
	Lifecycle(old, &nt, "alice", now)
	if !nt.FirstResponseAt.Equal(now) || !nt.SolvedAt.Equal(now) {
		t.Errorf("clocks %v %v", nt.FirstResponseAt, nt.SolvedAt)
	}
	evs := Diff(old, nt, "alice", now)
	if len(evs) != 2 || evs[0].Field != "status" || evs[0].Old != "new" || evs[0].New != "solved" || evs[1].Field != "assignee" {
		t.Errorf("Diff = %+v", evs)
	}
	sys := old
	sys.Tags = nil
	Lifecycle(old, &sys, ActorSystem, now)
	if !sys.FirstResponseAt.IsZero() {
		t.Error("system change counted as a response")
	}
	if d := Diff(Ticket{Tags: nil}, Ticket{Tags: []string{}}, "x", now); len(d) != 0 {
		t.Errorf("nil vs empty tags is a change: %+v", d)
	}
	if ActorFrom(context.Background()) != ActorSystem || ActorFrom(WithActor(context.Background(), "bob")) != "bob" {
		t.Error("actor context")
	}
}

// TestCalmAndSarcasm: a strong word said with a calm mark counts little
// (priority stays normal), the same word without it raises the call, and
// a calm mark turned round by sarcasm raises it too.
func TestCalmAndSarcasm(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		high       bool
	}{
		{"strong word alone", "the new bill layout is a total nightmare to read and the charges are ridiculous", true},
		{"strong word, no rush", "the new bill layout is a total nightmare to read and the charges are ridiculous, but no rush", false},
		{"strong word, laughed off", "the charges on the bill are ridiculous haha, can you explain them", false},
		{"sarcastic calm", "oh no rush, take your time, it's only been five weeks since I rang about the bill", true},
		{"sarcastic don't worry", "Don't worry, it's not like I need the money, you've taken it twice this month", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := call("billing", "c: "+tc.line, "a: let me look at that for you", "c: ok")
			tk := Draft(tr, DraftOptions{})
			if high := PriorityRank(tk.Priority) >= PriorityRank(PriorityHigh); high != tc.high {
				t.Errorf("priority %s (line score %.2f), want high: %v", tk.Priority, LineSentiment(tc.line), tc.high)
			}
		})
	}
}
