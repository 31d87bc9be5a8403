package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/ivr"
	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/sqlite"
)

func init() {
	bcryptCost = bcrypt.MinCost // tests hash many passwords; the cost is not what they test
}

// demoNLU is the demo config's intent classifier and categories, trained
// once for all tests.
var demoNLU = sync.OnceValues(func() (demoIntents, error) {
	cfg, err := config.Parse("demo", config.Demo())
	if err != nil {
		return demoIntents{}, err
	}
	ex, err := cfg.ClassifierExamples()
	if err != nil {
		return demoIntents{}, err
	}
	var cats []string
	for _, in := range cfg.Intents {
		cats = append(cats, in.Name)
	}
	clf, err := ivr.TrainClassifier(ex)
	return demoIntents{clf, cats}, err
})

type demoIntents struct {
	clf  *ivr.Classifier
	cats []string
}

type apiFixture struct {
	srv    *httptest.Server
	server *Server
	store  store.Store
	router *routing.Router
	admin  string
}

func newAPI(t *testing.T) *apiFixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newAPIWith(t, st, nil)
}

// newAPIWith serves the API over st; edit, when set, changes the options.
func newAPIWith(t *testing.T, st store.Store, edit func(*Options)) *apiFixture {
	t.Helper()
	ctx := context.Background()
	nlu, err := demoNLU()
	if err != nil {
		t.Fatal(err)
	}
	clf, cats := nlu.clf, nlu.cats
	rt := routing.New(nil, routing.Options{})
	t.Cleanup(rt.Close)
	rt.AddQueue("billing", "billing")
	if _, err := CreateUser(ctx, st, rt, "contactd", "admin", "admin-password", store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	post := &call.PostCall{Store: st, Scorecard: qa.DefaultScorecard()}
	opts := Options{Store: st, Router: rt, Importer: post, NLU: ivr.Simple{C: clf}, Hub: NewHub(nil), Categories: cats}
	if edit != nil {
		edit(&opts)
	}
	s := NewServer(opts)
	f := &apiFixture{srv: httptest.NewServer(s), server: s, store: st, router: rt}
	t.Cleanup(f.srv.Close)
	f.admin = f.login(t, "admin", "admin-password")
	return f
}

func (f *apiFixture) do(t *testing.T, token, method, path string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if s, ok := body.(string); ok {
		r = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// raw is do for answers that need not be JSON: it returns the body.
func (f *apiFixture) raw(t *testing.T, token, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f *apiFixture) login(t *testing.T, user, pw string) string {
	t.Helper()
	var out struct{ Token string }
	if st := f.do(t, "", "POST", "/api/v1/auth/login", map[string]string{"username": user, "password": pw}, &out); st != 200 {
		t.Fatalf("login %s: %d", user, st)
	}
	return out.Token
}

func TestImportRunsThePostCallPipeline(t *testing.T) {
	f := newAPI(t)
	body := map[string]any{
		"caller_number": "+15550199",
		"transcript": []map[string]any{
			{"speaker": "agent", "start_ms": 0, "end_ms": 2000, "text": "thank you for calling northwind my name is sam how can i help you"},
			{"speaker": "caller", "start_ms": 2500, "end_ms": 6000, "text": "hi i was charged twice on my last bill and i am really annoyed"},
			{"speaker": "agent", "start_ms": 6500, "end_ms": 9000, "text": "i am sorry about that can i have your account number please"},
			{"speaker": "caller", "start_ms": 9500, "end_ms": 11000, "text": "it is four four one two nine nine"},
			{"speaker": "agent", "start_ms": 11500, "end_ms": 15000, "text": "i have refunded the duplicate charge is there anything else i can help you with"},
			{"speaker": "caller", "start_ms": 15500, "end_ms": 16000, "text": "no thanks"},
			{"speaker": "agent", "start_ms": 16500, "end_ms": 18000, "text": "thank you for calling goodbye"},
		},
	}
	var res call.Result
	if st := f.do(t, f.admin, "POST", "/api/v1/calls/import", body, &res); st != 201 {
		t.Fatalf("import: %d", st)
	}
	if res.CallID == "" || res.TicketID == "" || res.EvaluationID == "" {
		t.Fatalf("result = %+v", res)
	}
	var tk struct {
		Category, Priority, Status string
		Entities                   map[string]string
		Customer                   struct{ Phone string }
	}
	if st := f.do(t, f.admin, "GET", "/api/v1/tickets/"+res.TicketID, nil, &tk); st != 200 {
		t.Fatalf("ticket: %d", st)
	}
	if tk.Category != "billing" || tk.Status != "open" || tk.Customer.Phone != "+15550199" || tk.Entities["account_number"] != "441299" {
		t.Fatalf("ticket = %+v", tk)
	}
	var ev struct {
		Score    int `json:"score"`
		MaxScore int `json:"max_score"`
		Items    []struct {
			Key    string
			Passed bool
		}
	}
	if st := f.do(t, f.admin, "GET", "/api/v1/qa/evaluations/"+res.EvaluationID, nil, &ev); st != 200 {
		t.Fatalf("evaluation: %d", st)
	}
	if ev.MaxScore == 0 || ev.Score != ev.MaxScore {
		t.Errorf("model call scored %d/%d", ev.Score, ev.MaxScore)
	}
	passed := map[string]bool{}
	for _, it := range ev.Items {
		passed[it.Key] = it.Passed
	}
	for _, k := range []string{"greeting", "verification", "empathy", "prohibited_language", "resolution", "closing", "dead_air"} {
		if !passed[k] {
			t.Errorf("item %s did not pass for a model call: %+v", k, ev.Items)
		}
	}
	var hist struct {
		Calls   []struct{ ID string }
		Tickets []struct{ ID string }
	}
	if st := f.do(t, f.admin, "GET", "/api/v1/callers/+15550199/history", nil, &hist); st != 200 ||
		len(hist.Calls) != 1 || hist.Calls[0].ID != res.CallID || len(hist.Tickets) != 1 || hist.Tickets[0].ID != res.TicketID {
		t.Fatalf("caller history: %d %+v", st, hist)
	}
	var cl struct {
		ID         string
		Transcript []struct{ Speaker, Text string }
	}
	if st := f.do(t, f.admin, "GET", "/api/v1/calls/"+res.CallID, nil, &cl); st != 200 || len(cl.Transcript) != 7 {
		t.Fatalf("call: %d %+v", st, cl)
	}
}

func TestImportRefusesBadTranscripts(t *testing.T) {
	f := newAPI(t)
	for name, body := range map[string]string{
		"empty":        `{"caller_number":"1","transcript":[]}`,
		"bad speaker":  `{"transcript":[{"speaker":"robot","start_ms":0,"end_ms":1,"text":"x"}]}`,
		"times":        `{"transcript":[{"speaker":"caller","start_ms":5,"end_ms":1,"text":"x"}]}`,
		"empty text":   `{"transcript":[{"speaker":"caller","start_ms":0,"end_ms":1,"text":" "}]}`,
		"not json":     `transcript`,
		"wrong type":   `{"transcript":"hello"}`,
		"extra fields": `{"transcript":[],"x":1}`,
	} {
		t.Run(name, func(t *testing.T) {
			var e struct{ Error string }
			if st := f.do(t, f.admin, "POST", "/api/v1/calls/import", body, &e); st != 400 || e.Error == "" {
				t.Fatalf("status %d error %q", st, e.Error)
			}
		})
	}
	calls, err := f.store.ListCalls(context.Background(), 10)
	if err != nil || len(calls) != 0 {
		t.Fatalf("refused imports stored calls: %v %v", calls, err)
	}
}

func TestUsersAgentsAndRoles(t *testing.T) {
	f := newAPI(t)
	if st := f.do(t, f.admin, "POST", "/api/v1/users", map[string]string{"username": "erin", "password": "erin-password", "role": "agent"}, nil); st != 201 {
		t.Fatalf("create agent: %d", st)
	}
	if st := f.do(t, f.admin, "POST", "/api/v1/users", map[string]string{"username": "erin", "password": "erin-password", "role": "agent"}, nil); st != 409 {
		t.Fatalf("duplicate user: %d, want 409", st)
	}
	var a routing.AgentView
	if st := f.do(t, f.admin, "PUT", "/api/v1/agents/erin", map[string]any{"skills": map[string]int{"billing": 8}, "max_calls": 1}, &a); st != 200 || a.Skills["billing"] != 8 {
		t.Fatalf("put agent: %d %+v", st, a)
	}
	if st := f.do(t, f.admin, "PUT", "/api/v1/agents/erin", map[string]any{"skills": map[string]int{"billing": 12}}, nil); st != 400 {
		t.Fatalf("bad proficiency: %d, want 400", st)
	}
	if st := f.do(t, f.admin, "PUT", "/api/v1/agents/nobody", map[string]any{"skills": map[string]int{}}, nil); st != 404 {
		t.Fatalf("unknown agent: %d, want 404", st)
	}
	erin := f.login(t, "erin", "erin-password")
	if st := f.do(t, erin, "POST", "/api/v1/users", map[string]string{"username": "mallory", "password": "mallory-pass", "role": "admin"}, nil); st != 403 {
		t.Fatalf("agent creating users: %d, want 403", st)
	}
	if st := f.do(t, erin, "POST", "/api/v1/agents/admin/state", map[string]string{"state": "available"}, nil); st != 403 {
		t.Fatalf("agent changing another's state: %d, want 403", st)
	}
	var s struct{ State string }
	if st := f.do(t, erin, "POST", "/api/v1/agents/erin/state", map[string]string{"state": "available"}, &s); st != 200 || s.State != "available" {
		t.Fatalf("go available: %d %+v", st, s)
	}
	if st := f.do(t, erin, "POST", "/api/v1/agents/erin/state", map[string]string{"state": "busy"}, nil); st != 400 {
		t.Fatalf("set busy: %d, want 400", st)
	}
	// Agent state persisted to the store's agent record? The router is
	// the live truth; the store keeps skills.
	ag, err := f.store.Agent(context.Background(), "erin")
	if err != nil || ag.Skills["billing"] != 8 {
		t.Fatalf("stored agent = %+v, %v", ag, err)
	}
	var cls struct {
		Intent     string
		Confidence float64
	}
	if st := f.do(t, erin, "POST", "/api/v1/nlu/classify", map[string]string{"text": "i'd like to order a pizza with extra cheese"}, &cls); st != 200 {
		t.Fatalf("classify: %d", st)
	}
	if cls.Intent != "unknown" && cls.Intent != "sales" {
		t.Logf("out-of-scope text classified %q (%.2f)", cls.Intent, cls.Confidence)
	}
	if st := f.do(t, erin, "POST", "/api/v1/nlu/classify", map[string]string{"text": "there is a mistake on my bill"}, &cls); st != 200 || cls.Intent != "billing" {
		t.Fatalf("classify billing: %d %+v", st, cls)
	}
	if st := f.do(t, erin, "POST", "/api/v1/auth/logout", nil, nil); st != 204 {
		t.Fatalf("logout: %d", st)
	}
	if st := f.do(t, erin, "GET", "/api/v1/me", nil, nil); st != 401 {
		t.Fatalf("token after logout: %d, want 401", st)
	}
}
