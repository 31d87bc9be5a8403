// Package chat is the one client contactd has for OpenAI-compatible
// chat-completions endpoints (Ollama, vLLM, llama.cpp server, OpenAI):
// the IVR's intent model, the ticket writer and the QA judge use it.
package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ErrReply is a reply without a usable choice.
var ErrReply = errors.New("chat: reply has no choices")

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Client posts to one endpoint. The caller bounds each request with its
// context.
type Client struct {
	Endpoint string // from Endpoint
	Model    string
	APIKey   string       // a bearer token when set; never logged
	HTTP     *http.Client // nil: http.DefaultClient
	// MaxReply caps the reply body (default 1 MiB).
	MaxReply int64
}

// Endpoint is the chat-completions URL for a server base: "http://h:11434",
// "http://h:11434/v1" and the full ".../v1/chat/completions" all work.
func Endpoint(base string) (string, error) {
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return "", fmt.Errorf("url %q: want http:// or https://", base)
	}
	ep := strings.TrimRight(base, "/")
	if !strings.HasSuffix(ep, "/chat/completions") {
		if !strings.HasSuffix(ep, "/v1") {
			ep += "/v1"
		}
		ep += "/chat/completions"
	}
	return ep, nil
}

// SchemaFormat is a response_format asking for JSON that matches schema.
func SchemaFormat(name string, schema map[string]any) map[string]any {
	return map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": name, "strict": true, "schema": schema}}
}

// Complete asks for a completion at temperature 0 (with format as the
// response_format when set) and returns the first choice's content.
// Transport errors, non-2xx statuses (with the start of the body) and
// replies without choices are errors.
func (c *Client) Complete(ctx context.Context, msgs []Message, format map[string]any) (string, error) {
	req := map[string]any{"model": c.Model, "temperature": 0, "messages": msgs}
	if format != nil {
		req["response_format"] = format
	}
	body, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("chat: encode request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("chat: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	if c.APIKey != "" {
		hr.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return "", fmt.Errorf("chat: %w", err)
	}
	defer resp.Body.Close()
	max := c.MaxReply
	if max <= 0 {
		max = 1 << 20
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, max))
	if err != nil {
		return "", fmt.Errorf("chat: read reply: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("chat: status %d: %.200s", resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	var out struct {
		Choices []struct {
			Message Message `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Choices) == 0 {
		return "", fmt.Errorf("%w (%v)", ErrReply, err)
	}
	return strings.TrimSpace(out.Choices[0].Message.Content), nil
}

// JSONObject is the outermost {…} of content: models like to wrap JSON in
// a code fence or a sentence.
func JSONObject(content string) string {
	if i, j := strings.Index(content, "{"), strings.LastIndex(content, "}"); i >= 0 && j > i {
		return content[i : j+1]
	}
	return content
}
