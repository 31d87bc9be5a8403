package qa

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

// Scorer scores one call against a card. Rules and *LLM implement it.
type Scorer interface {
	Score(ctx context.Context, card Scorecard, tr transcript.Transcript, agent string) Evaluation
}

// Rules is the Scorer of the rule detectors (ScoreCall).
type Rules struct{}

// Score implements Scorer.
func (Rules) Score(_ context.Context, card Scorecard, tr transcript.Transcript, agent string) Evaluation {
	return ScoreCall(card, tr, agent)
}

// LLMOptions configure an LLM judge. URL and Model are required.
type LLMOptions struct {
	// URL is the server's base, e.g. http://127.0.0.1:11434 (/v1/chat/completions
	// is appended unless URL already ends in it).
	URL    string
	Model  string
	APIKey string // bearer token when set; never logged
	// Timeout bounds one request (default 60 s: nobody waits on post-call).
	Timeout time.Duration
	HTTP    *http.Client
	Log     *slog.Logger
}

// LLM judges the language items of a scorecard with an OpenAI-compatible
// chat endpoint, asking for the item schema as a JSON-schema response
// format. Timing items (dead air, holds, interruptions, talk ratio) are
// measured by the rules, which also answer whenever the model fails.
type LLM struct {
	o    LLMOptions
	chat chatapi.Client
}

var (
	_ Scorer = Rules{}
	_ Scorer = (*LLM)(nil)

	errBadReply = errors.New("qa: llm reply does not match the schema")
)

// NewLLM checks the options; it makes no request.
func NewLLM(o LLMOptions) (*LLM, error) {
	switch {
	case o.URL == "":
		return nil, errors.New("qa: llm: url is required")
	case o.Model == "":
		return nil, errors.New("qa: llm: model is required")
	}
	ep, err := chatapi.Endpoint(o.URL)
	if err != nil {
		return nil, fmt.Errorf("qa: llm: %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &LLM{o: o, chat: chatapi.Client{Endpoint: ep, Model: o.Model, APIKey: o.APIKey, HTTP: o.HTTP, MaxReply: 4 << 20}}, nil
}

// Score implements Scorer: Evaluate, or the rules when it fails.
func (l *LLM) Score(ctx context.Context, card Scorecard, tr transcript.Transcript, agent string) Evaluation {
	ev, err := l.Evaluate(ctx, card, tr, agent)
	if err != nil {
		l.o.Log.Warn("qa: llm judge failed; using the rules", "call_id", tr.CallID, "err", err)
		return ScoreCall(card, tr, agent)
	}
	return ev
}

// timed kinds are measured, not read.
func timed(k Kind) bool {
	return k == KindMaxGap || k == KindHold || k == KindInterruptions || k == KindTalkRatio
}

type llmEvidence struct {
	StartMS int64  `json:"start_ms"`
	Speaker string `json:"speaker"`
	Text    string `json:"text"`
}

type llmItem struct {
	Key      string        `json:"key"`
	Passed   bool          `json:"passed"`
	NA       bool          `json:"not_applicable"`
	Reason   string        `json:"reason"`
	Evidence []llmEvidence `json:"evidence"`
}

// Evaluate asks the model; any transport, status or schema problem is an
// error (the caller decides about falling back).
func (l *LLM) Evaluate(ctx context.Context, card Scorecard, tr transcript.Transcript, agent string) (Evaluation, error) {
	rules := ScoreCall(card, tr, agent)
	var keys []string
	var brief strings.Builder
	for _, c := range card.Items {
		if c.Type == Manual || timed(c.Kind) {
			continue
		}
		keys = append(keys, c.Key)
		fmt.Fprintf(&brief, "- %s: %s\n", c.Key, c.Label)
	}
	if len(keys) == 0 {
		return rules, nil
	}
	var lines strings.Builder
	for _, s := range tr.Segments {
		fmt.Fprintf(&lines, "[%d] %s: %s\n", s.StartMS, s.Speaker, s.Text)
	}
	sys := "You are a contact-centre quality analyst. Judge the agent on each scorecard item from the transcript. " +
		"passed=true means the agent did the right thing (for prohibited language: none was used). " +
		"Set not_applicable=true (and passed=true) when an item did not arise, e.g. empathy when the caller was never upset. " +
		"Quote evidence lines exactly, with their start_ms from the brackets.\nItems:\n" + brief.String()
	if len(card.Company) > 0 || agent != "" {
		sys += fmt.Sprintf("Company: %s. Agent: %s.\n", strings.Join(card.Company, ", "), agent)
	}
	schema := map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"items"},
		"properties": map[string]any{"items": map[string]any{
			"type": "array",
			"items": map[string]any{
				"type": "object", "additionalProperties": false,
				"required": []string{"key", "passed", "not_applicable", "reason", "evidence"},
				"properties": map[string]any{
					"key":            map[string]any{"type": "string", "enum": keys},
					"passed":         map[string]any{"type": "boolean"},
					"not_applicable": map[string]any{"type": "boolean"},
					"reason":         map[string]any{"type": "string"},
					"evidence": map[string]any{"type": "array", "items": map[string]any{
						"type": "object", "additionalProperties": false, "required": []string{"start_ms", "speaker", "text"},
						"properties": map[string]any{
							"start_ms": map[string]any{"type": "integer"},
							"speaker":  map[string]any{"type": "string", "enum": []string{"caller", "agent", "system"}},
							"text":     map[string]any{"type": "string"},
						}}},
				}},
		}},
	}
	ctx, cancel := context.WithTimeout(ctx, l.o.Timeout)
	defer cancel()
	content, err := l.chat.Complete(ctx, []chatapi.Message{{Role: "system", Content: sys}, {Role: "user", Content: lines.String()}},
		chatapi.SchemaFormat("qa_evaluation", schema))
	if errors.Is(err, chatapi.ErrReply) {
		return rules, fmt.Errorf("%w: %w", errBadReply, err)
	}
	if err != nil {
		return rules, fmt.Errorf("qa: llm: %w", err)
	}
	var out struct {
		Items []llmItem `json:"items"`
	}
	dec := json.NewDecoder(strings.NewReader(content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return rules, fmt.Errorf("%w: %v", errBadReply, err)
	}
	got := map[string]llmItem{}
	for _, it := range out.Items {
		got[it.Key] = it
	}
	ev := rules
	ev.Method = "llm"
	ev.Items = append([]Item(nil), rules.Items...)
	for i, it := range ev.Items {
		c := card.Items[i]
		if c.Type == Manual || timed(c.Kind) {
			continue
		}
		li, ok := got[it.Key]
		if !ok {
			return rules, fmt.Errorf("%w: item %q missing", errBadReply, it.Key)
		}
		it.Passed, it.NA, it.Detail = li.Passed || li.NA, li.NA, li.Reason
		it.Score = 0
		if it.Passed {
			it.Score = it.Max
		}
		it.Evidence = []Evidence{}
		seen := map[string]bool{}
		for _, e := range li.Evidence {
			// Only lines that exist: a model may paraphrase or invent. The
			// quote's words are marked, as the rules mark theirs.
			s, sp, ok := quoted(tr.Segments, transcript.Speaker(e.Speaker), e.StartMS, e.Text)
			if !ok {
				continue
			}
			k := fmt.Sprint(s.Speaker, s.StartMS)
			if seen[k] {
				for j := range it.Evidence { // a second quote from the same line
					if d := &it.Evidence[j]; d.Speaker == s.Speaker && d.StartMS == s.StartMS {
						d.Highlights = merge(append(d.Highlights, sp...))
					}
				}
				continue
			}
			seen[k] = true
			x := evidence(s)
			x.Highlights = sp
			it.Evidence = append(it.Evidence, x)
		}
		timeWords(&it, tr.Segments)
		ev.Items[i] = it
	}
	ev.Recompute()
	return ev, nil
}
