package qa

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeChat is an OpenAI-compatible chat server that answers with reply
// (the assistant message's content) and records the request.
func fakeChat(t *testing.T, status int, reply string) (*httptest.Server, *map[string]any) {
	t.Helper()
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "bad path or key", 401)
			return
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": reply}}}})
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestLLM(t *testing.T) {
	good := `{"items":[
		{"key":"greeting","passed":false,"not_applicable":false,"reason":"no name","evidence":[{"start_ms":45000,"speaker":"agent","text":"hello"}]},
		{"key":"verification","passed":true,"not_applicable":false,"reason":"asked order number","evidence":[{"start_ms":55000,"speaker":"agent","text":"x"},{"start_ms":1,"speaker":"agent","text":"invented"}]},
		{"key":"empathy","passed":true,"not_applicable":false,"reason":"","evidence":[]},
		{"key":"prohibited_language","passed":true,"not_applicable":false,"reason":"","evidence":[]},
		{"key":"resolution","passed":true,"not_applicable":false,"reason":"","evidence":[]},
		{"key":"closing","passed":true,"not_applicable":false,"reason":"","evidence":[]}]}`
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name       string
		status     int
		reply      string
		wantMethod string
		wantScore  int
	}{
		{"judged", 200, good, "llm", 90},
		{"server error falls back", 500, good, "rules", 100},
		{"not json falls back", 200, "I think the agent did well", "rules", 100},
		{"missing item falls back", 200, `{"items":[]}`, "rules", 100},
		{"unknown field falls back", 200, `{"items":[],"mood":"ok"}`, "rules", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, req := fakeChat(t, tt.status, tt.reply)
			l, err := NewLLM(LLMOptions{URL: srv.URL, Model: "m", APIKey: "k", Log: quiet})
			if err != nil {
				t.Fatal(err)
			}
			ev := l.Score(context.Background(), DefaultScorecard(), goodCall, "sam")
			if ev.Method != tt.wantMethod || ev.Score != tt.wantScore || len(ev.Items) != 7 {
				t.Fatalf("method %q score %d items %d, want %q %d", ev.Method, ev.Score, len(ev.Items), tt.wantMethod, tt.wantScore)
			}
			rf, _ := (*req)["response_format"].(map[string]any)
			if rf["type"] != "json_schema" {
				t.Errorf("response_format %v", rf)
			}
			if tt.wantMethod != "llm" {
				return
			}
			if e := item(t, ev, "verification").Evidence; len(e) != 1 || e[0].StartMS != 55000 || !strings.Contains(e[0].Text, "order number") {
				t.Errorf("evidence not snapped to real lines: %+v", e)
			}
			if it := item(t, ev, "dead_air"); !it.Passed || len(it.Evidence) != 2 {
				t.Errorf("dead air should come from the rules: %+v", it)
			}
		})
	}
	if _, err := NewLLM(LLMOptions{URL: "ftp://x", Model: "m"}); err == nil {
		t.Error("ftp URL accepted")
	}
	if _, err := NewLLM(LLMOptions{URL: "http://x"}); err == nil {
		t.Error("no model accepted")
	}
}
