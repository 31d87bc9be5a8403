package config

import (
	"fmt"
	"time"

	"github.com/contactd/contactd/qa"
)

// QA configures call scoring.
type QA struct {
	// Scorecard names the card every call is scored with: "default" (the
	// built-in 7 items), "extended" (plus hold, interruptions, talk ratio
	// and sentiment) or one of Scorecards. Empty means "default".
	Scorecard string `yaml:"scorecard"`
	// Company names count as a name in the greeting.
	Company []string `yaml:"company"`
	// Scorecards are extra cards; one named like a built-in replaces it.
	Scorecards []qa.Scorecard `yaml:"scorecards"`
	// LLM judges calls with an OpenAI-compatible chat endpoint: provider
	// "rules" (default) or "openai" with options url, model, api_key,
	// timeout. The rules answer whenever the model fails.
	LLM Provider `yaml:"llm"`
}

// Cards returns every scorecard by name: the built-ins, then the
// configured ones (which may replace them), each with the company names.
func (q QA) Cards() map[string]qa.Scorecard {
	out := map[string]qa.Scorecard{
		qa.DefaultScorecardName:  qa.DefaultScorecard(),
		qa.ExtendedScorecardName: qa.ExtendedScorecard(),
	}
	for _, c := range q.Scorecards {
		out[c.Name] = c
	}
	for k, c := range out {
		if len(c.Company) == 0 {
			c.Company = q.Company
		}
		out[k] = c
	}
	return out
}

// ActiveScorecard is the card calls are scored with.
func (q QA) ActiveScorecard() qa.Scorecard {
	name := q.Scorecard
	if name == "" {
		name = qa.DefaultScorecardName
	}
	return q.Cards()[name]
}

// LLMOptions returns the LLM judge's options, ok false when the rules
// alone score calls.
func (q QA) LLMOptions() (o qa.LLMOptions, ok bool) {
	if q.LLM.Provider != "openai" {
		return o, false
	}
	o = qa.LLMOptions{URL: q.LLM.Options["url"], Model: q.LLM.Options["model"], APIKey: q.LLM.Options["api_key"]}
	if t := q.LLM.Options["timeout"]; t != "" {
		o.Timeout, _ = time.ParseDuration(t) // checked by Validate
	}
	return o, true
}

func (c *Config) validateQA(bad func(field, why string, args ...any)) {
	seen := map[string]bool{}
	for i, card := range c.QA.Scorecards {
		if err := card.Validate(); err != nil {
			bad(fmt.Sprintf("qa.scorecards[%d]", i), "%v", err)
		}
		if seen[card.Name] {
			bad(fmt.Sprintf("qa.scorecards[%d].name", i), "%q appears twice", card.Name)
		}
		seen[card.Name] = true
	}
	if n := c.QA.Scorecard; n != "" {
		if _, ok := c.QA.Cards()[n]; !ok {
			bad("qa.scorecard", "%q is not default, extended or one of qa.scorecards", n)
		}
	}
	switch c.QA.LLM.Provider {
	case "", "rules":
	case "openai":
		o := c.QA.LLM.Options
		if o["url"] == "" || o["model"] == "" {
			bad("qa.llm.options", "openai needs url and model")
		}
		if t := o["timeout"]; t != "" {
			if d, err := time.ParseDuration(t); err != nil || d <= 0 {
				bad("qa.llm.options.timeout", "want a duration like 30s, got %q", t)
			}
		}
		for k := range o {
			switch k {
			case "url", "model", "api_key", "timeout":
			default:
				bad("qa.llm.options", "unknown option %q (have url, model, api_key, timeout)", k)
			}
		}
	default:
		bad("qa.llm.provider", "want rules or openai, got %q", c.QA.LLM.Provider)
	}
}
