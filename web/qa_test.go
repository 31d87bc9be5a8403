package web

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
)

func TestQAReviewDeskAPI(t *testing.T) {
	f := newAPI(t)
	ctx := context.Background()
	for _, u := range []struct{ name, role string }{{"quinn", store.RoleQA}, {"rita", store.RoleQA}, {"erin", store.RoleAgent}, {"otto", store.RoleAgent}} {
		if _, err := CreateUser(ctx, f.store, f.router, "contactd", u.name, u.name+"-password", u.role); err != nil {
			t.Fatal(err)
		}
	}
	quinn, rita := f.login(t, "quinn", "quinn-password"), f.login(t, "rita", "rita-password")
	erin, otto := f.login(t, "erin", "erin-password"), f.login(t, "otto", "otto-password")
	var imp struct {
		CallID       string `json:"call_id"`
		EvaluationID string `json:"evaluation_id"`
	}
	body := `{"caller_number":"+4420","transcript":[
		{"speaker":"agent","start_ms":0,"end_ms":2000,"text":"hello how can i help"},
		{"speaker":"caller","start_ms":2500,"end_ms":5000,"text":"my bill is wrong and i'm really annoyed"},
		{"speaker":"agent","start_ms":5500,"end_ms":8000,"text":"whats your account number"},
		{"speaker":"caller","start_ms":8500,"end_ms":9000,"text":"five five five"},
		{"speaker":"agent","start_ms":9500,"end_ms":12000,"text":"ive credited ten pounds to your account"}]}`
	if st := f.do(t, quinn, "POST", "/api/v1/calls/import", body, &imp); st != http.StatusCreated {
		t.Fatalf("import: %d", st)
	}
	// The call was erin's.
	c, err := f.store.Call(ctx, imp.CallID)
	if err != nil {
		t.Fatal(err)
	}
	c.Agent, c.Queue = "erin", "billing"
	if err := f.store.UpdateCall(ctx, c); err != nil {
		t.Fatal(err)
	}

	var queue struct{ Evaluations []store.EvaluationSummary }
	if st := f.do(t, quinn, "GET", "/api/v1/qa/evaluations?below=90&agent=erin&queue=billing&from=2000-01-01&to=2999-01-01", nil, &queue); st != 200 || len(queue.Evaluations) != 1 {
		t.Fatalf("queue: %d %+v", st, queue)
	}
	ev0 := queue.Evaluations[0]
	if ev0.ID != imp.EvaluationID || ev0.Agent != "erin" || ev0.Score >= ev0.MaxScore {
		t.Fatalf("queue row %+v", ev0)
	}
	if st := f.do(t, otto, "GET", "/api/v1/qa/evaluations", nil, &queue); st != 200 || len(queue.Evaluations) != 0 {
		t.Errorf("another agent sees erin's evaluations: %d %+v", st, queue)
	}
	for _, bad := range []string{"below=x", "auto_fail=maybe", "from=yesterday", "limit=0"} {
		if st := f.do(t, quinn, "GET", "/api/v1/qa/evaluations?"+bad, nil, nil); st != 400 {
			t.Errorf("%s: %d, want 400", bad, st)
		}
	}

	path := "/api/v1/qa/evaluations/" + imp.EvaluationID
	var ov struct {
		Evaluation qa.Evaluation
		Review     qa.Override
	}
	if st := f.do(t, erin, "POST", path+"/overrides", map[string]any{"item": "empathy", "passed": true, "comment": "x"}, nil); st != 403 {
		t.Errorf("agent override: %d, want 403", st)
	}
	if st := f.do(t, quinn, "POST", path+"/overrides", map[string]any{"item": "empathy", "passed": true}, nil); st != 400 {
		t.Errorf("override without comment: %d, want 400", st)
	}
	if st := f.do(t, quinn, "POST", path+"/overrides", map[string]any{"item": "vibes", "passed": true, "comment": "x"}, nil); st != 400 {
		t.Errorf("override unknown item: %d, want 400", st)
	}
	if st := f.do(t, quinn, "POST", "/api/v1/qa/evaluations/nope/overrides", map[string]any{"item": "empathy", "passed": true, "comment": "x"}, nil); st != 404 {
		t.Errorf("override absent evaluation: %d, want 404", st)
	}
	before := ev0.Score
	if st := f.do(t, quinn, "POST", path+"/overrides", map[string]any{"item": "greeting", "passed": true, "comment": "said the company name at 0:01"}, &ov); st != 201 {
		t.Fatalf("override: %d", st)
	}
	if ov.Evaluation.Score != before+10 || ov.Review.Reviewer != "quinn" || ov.Review.OldPassed || !ov.Review.NewPassed {
		t.Errorf("override answer %+v", ov)
	}
	var got qa.Evaluation
	f.do(t, erin, "GET", path, nil, &got)
	if got.Score != before+10 {
		t.Errorf("evaluation after override: %d", got.Score)
	}
	var revs struct {
		Reviews   []qa.Override
		Agreement qa.Agreement
	}
	if st := f.do(t, quinn, "GET", path+"/reviews", nil, &revs); st != 200 || len(revs.Reviews) != 1 || revs.Reviews[0].Comment != "said the company name at 0:01" {
		t.Errorf("reviews %d %+v", st, revs)
	}

	if st := f.do(t, otto, "POST", path+"/ack", map[string]string{"status": "acknowledged"}, nil); st != 404 {
		t.Errorf("ack by another agent: %d", st)
	}
	if st := f.do(t, erin, "POST", path+"/ack", map[string]string{"status": "disputed"}, nil); st != 400 {
		t.Errorf("dispute without a reason: %d", st)
	}
	if st := f.do(t, erin, "POST", path+"/ack", map[string]string{"status": "disputed", "comment": "I did say sorry"}, &got); st != 200 || got.Ack == nil || got.Ack.By != "erin" {
		t.Errorf("dispute: %d %+v", st, got.Ack)
	}

	var cal struct{ Agreement qa.Agreement }
	if st := f.do(t, quinn, "POST", path+"/calibrations", map[string]any{"items": map[string]bool{"greeting": true, "empathy": true}}, &cal); st != 201 {
		t.Fatalf("calibrate: %d", st)
	}
	if st := f.do(t, rita, "POST", path+"/calibrations", map[string]any{"items": map[string]bool{"greeting": true, "empathy": false}}, &cal); st != 201 {
		t.Fatalf("calibrate: %d", st)
	}
	if len(cal.Agreement.Raters) != 3 || cal.Agreement.Items["greeting"] != 1 || cal.Agreement.Pairs["quinn|rita"] != 0.5 {
		t.Errorf("agreement %+v", cal.Agreement)
	}
	if st := f.do(t, quinn, "POST", path+"/calibrations", map[string]any{"items": map[string]bool{"nope": true}}, nil); st != 400 {
		t.Errorf("calibrate unknown item: %d", st)
	}

	var rep store.QAReport
	if st := f.do(t, quinn, "GET", "/api/v1/qa/reports", nil, &rep); st != 200 || rep.Evaluations != 1 || rep.Calls != 1 || len(rep.ItemFailures) != 7 {
		t.Errorf("report %d %+v", st, rep)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/qa/reports?format=csv&table=items", nil)
	req.Header.Set("Authorization", "Bearer "+quinn)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "item,label,evaluated,failed,rate\n") || strings.Count(string(b), "\n") != 8 {
		t.Errorf("csv %d %q", resp.StatusCode, b)
	}
	if st := f.do(t, erin, "GET", "/api/v1/qa/reports", nil, nil); st != 403 {
		t.Errorf("agent report: %d", st)
	}
	if st := f.do(t, quinn, "GET", "/api/v1/qa/reports?from=2025-02-01&to=2025-01-01", nil, nil); st != 400 {
		t.Errorf("backwards period: %d", st)
	}
	resp, err = http.Get(f.srv.URL + "/qa")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `<audio id="audio"`) {
		t.Error("/qa is not the review desk")
	}
}
