package tickets

import (
	"math"
	"testing"

	"github.com/contactd/contactd/transcript"
)

func TestNaiveBayes(t *testing.T) {
	call := func(cat string, lines ...string) TrainingCall {
		c := TrainingCall{Category: cat}
		for _, l := range lines {
			c.Lines = append(c.Lines, transcript.Segment{Speaker: transcript.Caller, Text: l})
		}
		return c
	}
	calls := []TrainingCall{
		call("billing", "you charged me twice this month"),
		call("billing", "my bill is too high"),
		call("tech_support", "my internet keeps dropping out"),
		call("tech_support", "the router lights are red and the internet is down"),
	}
	l := train(calls)
	p := l.topicPosterior(call("", "why is my bill so high").Lines, nil)
	var sum float64
	for _, v := range p {
		sum += v
	}
	if math.Abs(sum-1) > 1e-9 || p["billing"] <= p["tech_support"] {
		t.Errorf("posterior %v: want billing first, summing to 1", p)
	}
	if p := l.topicPosterior(call("", "why is my bill so high").Lines, map[string]bool{"tech_support": true}); len(p) != 1 || p["tech_support"] >= 0.5 {
		t.Errorf("posterior for the configuration's categories only = %v, want tech_support's share alone", p)
	}
	for _, c := range calls {
		l.add(c, -1)
	}
	if len(l.topic.vocab) != 0 || l.topic.posterior(topicFeatures(calls[0].Lines), []string{"billing"}, 1) != nil {
		t.Errorf("taking every call out leaves %d features", len(l.topic.vocab))
	}
}

func TestCurtFeatures(t *testing.T) {
	for _, tc := range []struct {
		text, agent string
		curt, echo  float64
	}{
		{"Monday. Right. Fine.", "it'll go out Monday", 3, 1},
		{"An investigation.", "let me open an investigation with the courier", 1, 1},
		{"thanks, bye", "anything else", 0, 0},
		{"yes please", "shall I send it", 0, 0},
		{"four four zero one eight", "what's the order number", 0, 0},
		{"my internet keeps dropping out every evening", "", 0, 0},
		{"finally", "an engineer will come tomorrow", 1, 0},
	} {
		f := map[string]float64{}
		curtFeatures(f, tc.text, tc.agent)
		if f["<curt>"] != tc.curt*curtWeight || f["<echo>"] != tc.echo*curtWeight {
			t.Errorf("curtFeatures(%q after %q) = curt %v echo %v, want %v and %v (times the weight)", tc.text, tc.agent, f["<curt>"], f["<echo>"], tc.curt, tc.echo)
		}
	}
}
