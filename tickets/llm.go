package tickets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	chatapi "github.com/contactd/contactd/internal/chat"
	"github.com/contactd/contactd/transcript"
)

// LLM writes subjects and summaries with an OpenAI-compatible chat
// endpoint (Ollama, vLLM, llama.cpp server, OpenAI). It only ever sees the
// redacted transcript.
type LLM struct {
	// URL is the API base, e.g. "http://127.0.0.1:11434/v1" (chat.Endpoint:
	// the server root and the full chat-completions URL work too).
	URL    string
	Model  string
	APIKey string // sent as a bearer token when set; never logged
	// Timeout bounds one request; 0 means 1.5 s, so that the ticket is
	// stored within two seconds of hang-up even when the model is slow.
	Timeout time.Duration
	Client  *http.Client // nil: http.DefaultClient
}

// ErrLLM wraps every failure of the chat endpoint.
var ErrLLM = errors.New("tickets: llm")

const llmPrompt = `You write support tickets from call transcripts. Reply with one JSON object and nothing else: {"subject": "<at most 80 characters>", "summary": "<2-4 sentences: the caller's problem, what the agent did, the outcome and next steps>"}. Use only facts from the transcript.`

// Write asks the model for a subject and a summary of tr.
func (l *LLM) Write(ctx context.Context, tr transcript.Transcript, category string) (subject, summary string, err error) {
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = 1500 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var conv strings.Builder
	fmt.Fprintf(&conv, "Category: %s\n", category)
	for _, s := range RedactTranscript(tr).Segments {
		if s.Speaker == transcript.System || strings.TrimSpace(s.Text) == "" {
			continue
		}
		fmt.Fprintf(&conv, "%s: %s\n", s.Speaker, s.Text)
	}
	ep, err := chatapi.Endpoint(l.URL)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrLLM, err)
	}
	c := chatapi.Client{Endpoint: ep, Model: l.Model, APIKey: l.APIKey, HTTP: l.Client}
	content, err := c.Complete(ctx, []chatapi.Message{{Role: "system", Content: llmPrompt}, {Role: "user", Content: conv.String()}}, nil)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrLLM, err)
	}
	content = chatapi.JSONObject(content)
	var ans struct {
		Subject string `json:"subject"`
		Summary string `json:"summary"`
	}
	if err := json.Unmarshal([]byte(content), &ans); err != nil {
		return "", "", fmt.Errorf("%w: content is not the JSON asked for: %w", ErrLLM, err)
	}
	ans.Subject, ans.Summary = strings.TrimSpace(ans.Subject), strings.TrimSpace(ans.Summary)
	if ans.Subject == "" || ans.Summary == "" {
		return "", "", fmt.Errorf("%w: empty subject or summary", ErrLLM)
	}
	if len([]rune(ans.Subject)) > 120 {
		ans.Subject = string([]rune(ans.Subject)[:120])
	}
	// Redact again: a model may echo what it should not.
	return Redact(ans.Subject), Redact(ans.Summary), nil
}

// Writer drafts tickets: the embedded rules always, and the subject and
// summary from an LLM when one is set and answers in time.
type Writer struct {
	Options DraftOptions
	LLM     *LLM // nil: embedded only
	Log     *slog.Logger
}

// Write drafts the ticket for tr with opts (Writer.Options are the
// defaults for fields opts leaves zero: rules, labels, limits).
func (w *Writer) Write(ctx context.Context, tr transcript.Transcript, opts DraftOptions) Ticket {
	if opts.Rules == nil {
		opts.Rules = w.Options.Rules
	}
	if opts.Labels == nil {
		opts.Labels = w.Options.Labels
	}
	if opts.HighPriority == nil {
		opts.HighPriority = w.Options.HighPriority
	}
	if opts.MaxSummary == 0 {
		opts.MaxSummary = w.Options.MaxSummary
	}
	t := Draft(tr, opts)
	if w.LLM != nil && len(spoken(tr, transcript.Caller)) > 0 {
		subj, sum, err := w.LLM.Write(ctx, tr, t.Category)
		if err != nil {
			if w.Log != nil {
				w.Log.Warn("ticket llm failed; embedded summary kept", "call_id", tr.CallID, "err", err)
			}
		} else {
			t.Subject, t.Summary = subj, sum
			t.Tags = append(t.Tags, "llm_summary")
		}
	}
	return t
}
