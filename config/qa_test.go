package config

import (
	"strings"
	"testing"
)

func TestQAConfig(t *testing.T) {
	c, err := Parse("demo", Demo())
	if err != nil {
		t.Fatal(err)
	}
	card := c.QA.ActiveScorecard()
	if card.Name != "default" || len(card.Items) != 7 || len(card.Company) != 1 || card.Company[0] != "Northwind" {
		t.Errorf("active card %+v", card)
	}
	if comp := c.QA.Cards()["compliance"]; len(comp.Items) != 6 || comp.Items[0].Points() != 10 {
		t.Errorf("compliance card %+v", comp)
	}
	if _, ok := c.QA.LLMOptions(); ok {
		t.Error("demo uses an LLM")
	}
	for _, tt := range []struct{ old, repl, want string }{
		{"\n  scorecard: default", "\n  scorecard: nope", "qa.scorecard"},
		{"llm: {provider: rules}", "llm: {provider: magic}", "qa.llm.provider"},
		{"llm: {provider: rules}", "llm: {provider: openai, options: {url: http://x}}", "qa.llm.options"},
		{"weight: 25, kind: verification", "weight: 25, kind: vibes", "qa.scorecards[0]"},
		{"{key: hold, label", "{key: greeting, label", "appears twice"},
	} {
		y := strings.Replace(string(Demo()), tt.old, tt.repl, 1)
		if _, err := Parse("t", []byte(y)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.repl, err, tt.want)
		}
	}
}
