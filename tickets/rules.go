package tickets

import (
	"fmt"
	"slices"
)

// Condition is the "if" of a priority rule. Every field that is set must
// hold; an empty condition always holds.
type Condition struct {
	// Sentiment is the caller's overall sentiment: positive, neutral or
	// negative.
	Sentiment string `yaml:"sentiment" json:"sentiment,omitempty"`
	// Keywords: any of these words or phrases said by the caller or the
	// agent ("lawyer", "cancel my contract").
	Keywords []string `yaml:"keywords" json:"keywords,omitempty"`
	// Categories: the ticket's category is one of these.
	Categories []string `yaml:"categories" json:"categories,omitempty"`
	// VIP: the caller is (true) or is not (false) a VIP.
	VIP *bool `yaml:"vip" json:"vip,omitempty"`
	// Repeat: the customer called about the same thing recently.
	Repeat *bool `yaml:"repeat" json:"repeat,omitempty"`
}

// PriorityRule sets a ticket's priority when its condition holds. When
// several rules hold the highest priority wins; when none does the
// category's base priority stays.
type PriorityRule struct {
	If  Condition `yaml:"if" json:"if"`
	Set string    `yaml:"set" json:"set"`
}

// DefaultRules are used when no rules are configured: negative callers and
// complaints or cancellations are high, legal threats, outages and VIPs
// urgent.
var DefaultRules = []PriorityRule{
	{If: Condition{Sentiment: SentimentNegative}, Set: PriorityHigh},
	{If: Condition{Categories: []string{"complaint", "cancel"}}, Set: PriorityHigh},
	{If: Condition{Keywords: []string{"lawyer", "solicitor", "sue", "legal action", "ombudsman", "outage"}}, Set: PriorityUrgent},
	{If: Condition{VIP: ptr(true)}, Set: PriorityUrgent},
}

func ptr[T any](v T) *T { return &v }

// ValidateRules names the first bad rule and why.
func ValidateRules(rules []PriorityRule) error {
	for i, r := range rules {
		f := fmt.Sprintf("priority_rules[%d]", i)
		if PriorityRank(r.Set) < 0 {
			return fmt.Errorf("%s.set: want low, normal, high or urgent, got %q", f, r.Set)
		}
		switch r.If.Sentiment {
		case "", SentimentPositive, SentimentNeutral, SentimentNegative:
		default:
			return fmt.Errorf("%s.if.sentiment: want positive, neutral or negative, got %q", f, r.If.Sentiment)
		}
		for j, k := range r.If.Keywords {
			if len(wordsOf(k)) == 0 {
				return fmt.Errorf("%s.if.keywords[%d]: no words in %q", f, j, k)
			}
		}
		c := r.If
		if c.Sentiment == "" && len(c.Keywords) == 0 && len(c.Categories) == 0 && c.VIP == nil && c.Repeat == nil {
			return fmt.Errorf("%s.if: empty condition (it would hold for every ticket)", f)
		}
	}
	return nil
}

// facts are what rules test.
type facts struct {
	category  string
	sentiment string
	words     []string // every caller and agent word, in order
	vip       bool
	repeat    bool
}

func (c Condition) holds(f facts) bool {
	if c.Sentiment != "" && c.Sentiment != f.sentiment {
		return false
	}
	if len(c.Categories) > 0 && !slices.Contains(c.Categories, f.category) {
		return false
	}
	if c.VIP != nil && *c.VIP != f.vip {
		return false
	}
	if c.Repeat != nil && *c.Repeat != f.repeat {
		return false
	}
	if len(c.Keywords) > 0 {
		hit := false
		for _, k := range c.Keywords {
			if keywordSaid(f.words, wordsOf(k)) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// applyRules returns the priority the rules give, base when none holds.
func applyRules(rules []PriorityRule, base string, f facts) string {
	best := -1
	for _, r := range rules {
		if r.If.holds(f) && PriorityRank(r.Set) > best {
			best = PriorityRank(r.Set)
		}
	}
	if best < 0 {
		return base
	}
	return Priorities[best]
}

// atLeast raises p to floor.
func atLeast(p, floor string) string {
	if PriorityRank(p) < PriorityRank(floor) {
		return floor
	}
	return p
}

// keywordSaid reports whether words hold the keyword k, not as someone's
// name: a one-word keyword after "i'm", "it's", "this is", "name is" or
// "name's", or before "speaking" or "here", names the agent or the
// caller ("you're speaking to me, i'm sue", "sue speaking"), and says
// nothing of a lawsuit.
func keywordSaid(words, k []string) bool {
	for i := 0; i+len(k) <= len(words); i++ {
		if !slices.Equal(words[i:i+len(k)], k) {
			continue
		}
		if len(k) == 1 && namedAt(words, i) {
			continue
		}
		return true
	}
	return false
}

// namedAt reports whether words[i] is said as a name.
func namedAt(words []string, i int) bool {
	if i > 0 {
		switch words[i-1] {
		case "im", "its", "names":
			return true
		case "is":
			if i > 1 && (words[i-2] == "this" || words[i-2] == "name") {
				return true
			}
		}
	}
	return i+1 < len(words) && (words[i+1] == "speaking" || words[i+1] == "here")
}
