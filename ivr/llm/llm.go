package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	chatapi "github.com/contactd/contactd/internal/chat"
	"github.com/contactd/contactd/ivr"
)

// Options configure a Client. URL, Model and Intents are required.
type Options struct {
	// URL is the server's base, e.g. http://127.0.0.1:11434 (the client
	// appends /v1/chat/completions unless URL already ends in it).
	URL    string
	Model  string
	APIKey string // sent as a bearer token when set; never logged
	// Timeout bounds one request (default 2s: a caller is waiting).
	Timeout time.Duration
	// Intents are the configured intent names the model must choose from
	// (Unknown is added); Descriptions optionally explain them.
	Intents      []string
	Descriptions map[string]string
	// Fallback answers when the model cannot; required.
	Fallback ivr.Understander
	HTTP     *http.Client
	Log      *slog.Logger
}

// Client is an ivr.Understander backed by a chat-completions endpoint.
type Client struct {
	o    Options
	chat chatapi.Client
}

var (
	_           ivr.Understander     = (*Client)(nil)
	_           ivr.IntentClassifier = (*Client)(nil)
	errBadReply                      = errors.New("llm: reply does not match the schema")
)

// New checks the options; it makes no request.
func New(o Options) (*Client, error) {
	switch {
	case o.URL == "":
		return nil, errors.New("llm: url is required")
	case o.Model == "":
		return nil, errors.New("llm: model is required")
	case len(o.Intents) == 0:
		return nil, errors.New("llm: no intents")
	case o.Fallback == nil:
		return nil, errors.New("llm: a fallback understander is required")
	}
	ep, err := chatapi.Endpoint(o.URL)
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Client{o: o, chat: chatapi.Client{Endpoint: ep, Model: o.Model, APIKey: o.APIKey, HTTP: o.HTTP}}, nil
}

// FromOptions builds Options from the config's string map (url, model,
// api_key, timeout).
func FromOptions(m map[string]string, intents []string, fallback ivr.Understander, log *slog.Logger) (*Client, error) {
	o := Options{URL: m["url"], Model: m["model"], APIKey: m["api_key"], Intents: intents, Fallback: fallback, Log: log}
	if t := m["timeout"]; t != "" {
		d, err := time.ParseDuration(t)
		if err != nil {
			return nil, fmt.Errorf("llm: timeout %q: want a duration like 2s", t)
		}
		o.Timeout = d
	}
	for k := range m {
		switch k {
		case "url", "model", "api_key", "timeout":
		default:
			return nil, fmt.Errorf("llm: unknown option %q (have url, model, api_key, timeout)", k)
		}
	}
	return New(o)
}

type reply struct {
	Intent     string            `json:"intent"`
	Confidence *float64          `json:"confidence"`
	Slots      map[string]string `json:"slots"`
}

func (c *Client) schema() map[string]any {
	enum := append(append([]string(nil), c.o.Intents...), ivr.Unknown)
	slot := map[string]any{"type": "string"}
	return chatapi.SchemaFormat("caller_intent", map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"intent", "confidence", "slots"},
		"properties": map[string]any{
			"intent":     map[string]any{"type": "string", "enum": enum},
			"confidence": map[string]any{"type": "number", "minimum": 0, "maximum": 1},
			"slots": map[string]any{
				"type": "object", "additionalProperties": false,
				"properties": map[string]any{
					ivr.SlotOrderNumber: slot, ivr.SlotAccountNumber: slot, ivr.SlotDate: slot, ivr.SlotAmount: slot,
				},
			},
		},
	})
}

func (c *Client) prompt(lang string) string {
	var b strings.Builder
	b.WriteString("You route phone calls for a customer service line. Classify what the caller wants into exactly one intent, ")
	b.WriteString("or \"unknown\" when none fits. Give your confidence from 0 to 1. Extract slots only when the caller said them: ")
	b.WriteString("order_number and account_number as digits only, date as YYYY-MM-DD, amount as a decimal like 49.99. ")
	b.WriteString("The text comes from speech recognition: lower case, no punctuation, numbers may be spelled out. ")
	fmt.Fprintf(&b, "The caller speaks language %q. Intents:\n", lang)
	for _, in := range c.o.Intents {
		fmt.Fprintf(&b, "- %s", in)
		if d := c.o.Descriptions[in]; d != "" {
			b.WriteString(": " + d)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Understand asks the model; on any failure it answers with the fallback.
func (c *Client) Understand(ctx context.Context, text, lang string) (ivr.Understanding, error) {
	u, err := c.ask(ctx, text, lang)
	if err == nil {
		return u, nil
	}
	if ctx.Err() != nil {
		return ivr.Understanding{}, ctx.Err()
	}
	c.o.Log.Warn("llm: falling back to the embedded classifier", "err", err)
	u, ferr := c.o.Fallback.Understand(ctx, text, lang)
	if ferr != nil {
		return u, fmt.Errorf("llm: %w; fallback: %w", err, ferr)
	}
	u.Source = "fallback"
	return u, nil
}

// Embedded is the fallback (ivr.Embedder): the flow judges a caller's
// words at each pause with it rather than asking the model each time.
func (c *Client) Embedded() ivr.Understander { return c.o.Fallback }

var _ ivr.Embedder = (*Client)(nil)

// Classify is Understand in the default language, for IntentClassifier
// consumers.
func (c *Client) Classify(text string) (string, float64) {
	u, _ := c.Understand(context.Background(), text, "")
	return u.Intent, u.Confidence
}

func (c *Client) ask(ctx context.Context, text, lang string) (ivr.Understanding, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	content, err := c.chat.Complete(ctx, []chatapi.Message{{Role: "system", Content: c.prompt(lang)}, {Role: "user", Content: text}}, c.schema())
	if errors.Is(err, chatapi.ErrReply) {
		return ivr.Understanding{}, fmt.Errorf("%w: no choices", errBadReply)
	}
	if err != nil {
		return ivr.Understanding{}, fmt.Errorf("llm: %w", err)
	}
	var out reply
	if err := json.Unmarshal([]byte(content), &out); err != nil {
		return ivr.Understanding{}, fmt.Errorf("%w: %q", errBadReply, content[:min(len(content), 200)])
	}
	if out.Confidence == nil || *out.Confidence < 0 || *out.Confidence > 1 {
		return ivr.Understanding{}, fmt.Errorf("%w: confidence missing or outside 0-1", errBadReply)
	}
	if out.Intent != ivr.Unknown && !contains(c.o.Intents, out.Intent) {
		return ivr.Understanding{}, fmt.Errorf("%w: intent %q is not configured", errBadReply, out.Intent)
	}
	u := ivr.Understanding{Intent: out.Intent, Confidence: *out.Confidence, Source: "llm"}
	if out.Intent != ivr.Unknown {
		u.Candidate = out.Intent
	}
	for k, v := range out.Slots {
		if v = cleanSlot(k, v); v != "" {
			if u.Slots == nil {
				u.Slots = map[string]string{}
			}
			u.Slots[k] = v
		}
	}
	return u, nil
}

// cleanSlot keeps only well-formed slot values: models invent.
func cleanSlot(k, v string) string {
	v = strings.TrimSpace(v)
	switch k {
	case ivr.SlotOrderNumber, ivr.SlotAccountNumber:
		if _, err := strconv.ParseUint(v, 10, 64); err != nil || len(v) < 4 || len(v) > 12 {
			return ""
		}
	case ivr.SlotDate:
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return ""
		}
	case ivr.SlotAmount:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return ""
		}
	default:
		return ""
	}
	return v
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}
