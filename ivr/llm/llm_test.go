package llm

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/ivr"
)

// fallback is the embedded classifier's stand-in: always billing.
type fallback struct{}

func (fallback) Understand(context.Context, string, string) (ivr.Understanding, error) {
	return ivr.Understanding{Intent: "billing", Confidence: 0.7, Source: "embedded"}, nil
}

func chat(content string) string {
	b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": content}}}})
	return string(b)
}

func TestClient(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		delay      time.Duration
		wantIntent string
		wantSource string
		wantSlot   string
	}{
		{"schema reply", 200, chat(`{"intent":"order_status","confidence":0.93,"slots":{"order_number":"58213","date":"soon"}}`), 0, "order_status", "llm", "58213"},
		{"unknown", 200, chat(`{"intent":"unknown","confidence":0.8,"slots":{}}`), 0, "unknown", "llm", ""},
		{"server error", 500, `{"error":"model not loaded"}`, 0, "billing", "fallback", ""},
		{"not json", 200, chat(`I think it's about orders`), 0, "billing", "fallback", ""},
		{"intent not configured", 200, chat(`{"intent":"weather","confidence":0.9,"slots":{}}`), 0, "billing", "fallback", ""},
		{"no confidence", 200, chat(`{"intent":"order_status","slots":{}}`), 0, "billing", "fallback", ""},
		{"no choices", 200, `{"choices":[]}`, 0, "billing", "fallback", ""},
		{"timeout", 200, chat(`{"intent":"order_status","confidence":0.9,"slots":{}}`), 2 * time.Second, "billing", "fallback", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got struct {
				Model          string `json:"model"`
				ResponseFormat struct {
					Type       string `json:"type"`
					JSONSchema struct {
						Schema struct {
							Properties struct {
								Intent struct {
									Enum []string `json:"enum"`
								} `json:"intent"`
							} `json:"properties"`
						} `json:"schema"`
					} `json:"json_schema"`
				} `json:"response_format"`
				Messages []struct{ Role, Content string } `json:"messages"`
			}
			var auth, path string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				path, auth = r.URL.Path, r.Header.Get("Authorization")
				b, _ := io.ReadAll(r.Body)
				_ = json.Unmarshal(b, &got)
				if tc.delay > 0 {
					select {
					case <-time.After(tc.delay):
					case <-r.Context().Done():
						return
					}
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, err := New(Options{URL: srv.URL, Model: "m1", APIKey: "k", Timeout: 300 * time.Millisecond,
				Intents: []string{"order_status", "billing"}, Fallback: fallback{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			u, err := c.Understand(context.Background(), "where is order five eight two one three", "en")
			if err != nil {
				t.Fatal(err)
			}
			if time.Since(start) > time.Second {
				t.Fatalf("took %v; the timeout is 300ms", time.Since(start))
			}
			if u.Intent != tc.wantIntent || u.Source != tc.wantSource || u.Slots[ivr.SlotOrderNumber] != tc.wantSlot {
				t.Fatalf("understanding = %+v", u)
			}
			if u.Slots[ivr.SlotDate] != "" {
				t.Fatalf("a malformed date was kept: %+v", u.Slots)
			}
			srv.Close() // waits for the handler: its writes happen before the reads below
			if path != "/v1/chat/completions" || auth != "Bearer k" || got.Model != "m1" || got.ResponseFormat.Type != "json_schema" {
				t.Fatalf("request: path %s auth %q model %q format %q", path, auth, got.Model, got.ResponseFormat.Type)
			}
			if e := got.ResponseFormat.JSONSchema.Schema.Properties.Intent.Enum; strings.Join(e, ",") != "order_status,billing,unknown" {
				t.Fatalf("intent enum = %v", e)
			}
			if len(got.Messages) != 2 || got.Messages[1].Content != "where is order five eight two one three" {
				t.Fatalf("messages = %+v", got.Messages)
			}
		})
	}
}

func TestConnectionRefusedFallsBack(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(Options{URL: url + "/v1", Model: "m", Intents: []string{"billing"}, Fallback: fallback{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if in, _ := c.Classify("my bill"); in != "billing" {
		t.Fatalf("intent %q", in)
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]string
		want string
	}{
		{"no url", map[string]string{"model": "m"}, "url is required"},
		{"no model", map[string]string{"url": "http://x"}, "model is required"},
		{"bad scheme", map[string]string{"url": "ftp://x", "model": "m"}, "want http"},
		{"bad timeout", map[string]string{"url": "http://x", "model": "m", "timeout": "soon"}, "timeout"},
		{"unknown option", map[string]string{"url": "http://x", "model": "m", "temp": "1"}, "unknown option"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromOptions(tc.opts, []string{"billing"}, fallback{}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
