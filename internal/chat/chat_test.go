package chat

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"http://h:11434":                       "http://h:11434/v1/chat/completions",
		"http://h:11434/":                      "http://h:11434/v1/chat/completions",
		"https://h/v1":                         "https://h/v1/chat/completions",
		"http://h/v1/chat/completions":         "http://h/v1/chat/completions",
		"http://h/openai/v1/chat/completions/": "http://h/openai/v1/chat/completions",
	} {
		if got, err := Endpoint(in); err != nil || got != want {
			t.Errorf("Endpoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "h:11434", "ftp://h", "ws://h/v1"} {
		if _, err := Endpoint(bad); err == nil {
			t.Errorf("Endpoint(%q) accepted", bad)
		}
	}
}

func TestComplete(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer k":
			http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
		case r.URL.Query().Get("mode") == "slow":
			time.Sleep(300 * time.Millisecond)
		default:
			_ = json.NewDecoder(r.Body).Decode(&got)
			if r.URL.Query().Get("mode") == "empty" {
				_, _ = w.Write([]byte(`{"choices":[]}`))
				return
			}
			_, _ = w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":" {\"a\":1} "}}]}`))
		}
	}))
	defer srv.Close()
	c := &Client{Endpoint: srv.URL + "/v1/chat/completions", Model: "m", APIKey: "k"}
	ctx := context.Background()
	out, err := c.Complete(ctx, []Message{{"system", "s"}, {"user", "u"}}, SchemaFormat("x", map[string]any{"type": "object"}))
	if err != nil || out != `{"a":1}` {
		t.Fatalf("Complete = %q, %v", out, err)
	}
	if got["model"] != "m" || got["temperature"] != 0.0 || got["response_format"] == nil || len(got["messages"].([]any)) != 2 {
		t.Fatalf("request %v", got)
	}
	bad := *c
	bad.APIKey = "nope"
	if _, err := bad.Complete(ctx, nil, nil); err == nil || !strings.Contains(err.Error(), "status 401") || strings.Contains(err.Error(), "nope") {
		t.Fatalf("wrong key: %v", err)
	}
	empty := *c
	empty.Endpoint += "?mode=empty"
	if _, err := empty.Complete(ctx, nil, nil); !errors.Is(err, ErrReply) {
		t.Fatalf("no choices: %v", err)
	}
	slow := *c
	slow.Endpoint += "?mode=slow"
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := slow.Complete(tctx, nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow: %v", err)
	}
	if JSONObject("Sure! ```json\n{\"s\":\"x\"}\n```") != `{"s":"x"}` {
		t.Fatal("JSONObject")
	}
}
