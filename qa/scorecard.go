package qa

import (
	"errors"
	"fmt"

	"github.com/contactd/contactd/transcript"
)

// Kind says how a criterion is judged.
type Kind string

// Kinds of criteria.
const (
	// KindPhrase passes when the speaker said one of the phrases, within
	// their first FirstN or last LastN lines when those are set.
	KindPhrase Kind = "phrase"
	// KindNoPhrase passes when the speaker said none of the phrases.
	KindNoPhrase Kind = "no_phrase"
	// KindMaxGap passes when, once the agent has joined, no silence between
	// consecutive lines is longer than MaxGapMS.
	KindMaxGap Kind = "max_gap"
)

// Criterion is one line of a scorecard, as data so configuration can
// change it.
type Criterion struct {
	Key   string `yaml:"key" json:"key"`
	Label string `yaml:"label" json:"label"`
	Max   int    `yaml:"max" json:"max"`
	Kind  Kind   `yaml:"kind" json:"kind"`
	// Speaker whose lines are searched; empty means the agent.
	Speaker transcript.Speaker `yaml:"speaker,omitempty" json:"speaker,omitempty"`
	// Phrases are matched as whole words, ignoring case and punctuation
	// ("i've" matches "ive" and "I've.").
	Phrases []string `yaml:"phrases,omitempty" json:"phrases,omitempty"`
	FirstN  int      `yaml:"first_n,omitempty" json:"first_n,omitempty"`
	LastN   int      `yaml:"last_n,omitempty" json:"last_n,omitempty"`
	// MaxGapMS is the longest silence KindMaxGap allows.
	MaxGapMS int64 `yaml:"max_gap_ms,omitempty" json:"max_gap_ms,omitempty"`
}

// Scorecard is a named list of criteria.
type Scorecard struct {
	Name  string      `yaml:"name" json:"name"`
	Items []Criterion `yaml:"items" json:"items"`
}

// ErrBadScorecard is wrapped by every scorecard validation error.
var ErrBadScorecard = errors.New("qa: bad scorecard")

// Validate names the first bad field of the scorecard.
func (s Scorecard) Validate() error {
	if s.Name == "" {
		return fmt.Errorf("%w: name: empty", ErrBadScorecard)
	}
	if len(s.Items) == 0 {
		return fmt.Errorf("%w: items: none", ErrBadScorecard)
	}
	seen := map[string]bool{}
	for i, c := range s.Items {
		at := fmt.Sprintf("items[%d]", i)
		switch {
		case c.Key == "":
			return fmt.Errorf("%w: %s.key: empty", ErrBadScorecard, at)
		case seen[c.Key]:
			return fmt.Errorf("%w: %s.key: %q appears twice", ErrBadScorecard, at, c.Key)
		case c.Max < 0:
			return fmt.Errorf("%w: %s (%s).max: %d is negative", ErrBadScorecard, at, c.Key, c.Max)
		case c.Speaker != "" && !c.Speaker.Valid():
			return fmt.Errorf("%w: %s (%s).speaker: %q is not caller, agent or system", ErrBadScorecard, at, c.Key, c.Speaker)
		case c.FirstN < 0 || c.LastN < 0:
			return fmt.Errorf("%w: %s (%s): first_n and last_n must not be negative", ErrBadScorecard, at, c.Key)
		}
		seen[c.Key] = true
		switch c.Kind {
		case KindPhrase, KindNoPhrase:
			if len(c.Phrases) == 0 {
				return fmt.Errorf("%w: %s (%s).phrases: none", ErrBadScorecard, at, c.Key)
			}
			for j, p := range c.Phrases {
				if len(words(p)) == 0 {
					return fmt.Errorf("%w: %s (%s).phrases[%d]: no words in %q", ErrBadScorecard, at, c.Key, j, p)
				}
			}
		case KindMaxGap:
			if c.MaxGapMS <= 0 {
				return fmt.Errorf("%w: %s (%s).max_gap_ms: must be positive", ErrBadScorecard, at, c.Key)
			}
		default:
			return fmt.Errorf("%w: %s (%s).kind: %q is not phrase, no_phrase or max_gap", ErrBadScorecard, at, c.Key, c.Kind)
		}
	}
	return nil
}

// DefaultScorecardName names DefaultScorecard.
const DefaultScorecardName = "default"

// DefaultScorecard is the built-in scorecard: greeting, verification,
// empathy, prohibited_language, resolution, closing and dead_air, 100
// points in all. Phrases are written the way recognisers print speech:
// lower case, no punctuation.
func DefaultScorecard() Scorecard {
	return Scorecard{
		Name: DefaultScorecardName,
		Items: []Criterion{
			{
				Key: "greeting", Label: "Greets the caller and introduces themselves", Max: 10, Kind: KindPhrase, FirstN: 2,
				Phrases: []string{"hello", "hi", "good morning", "good afternoon", "good evening", "welcome",
					"thank you for calling", "thanks for calling", "thank you for holding", "my name is", "this is",
					"you're through to", "you've reached", "speaking", "how can i help", "how may i help", "how can i assist"},
			},
			{
				Key: "verification", Label: "Verifies the caller or the order/account", Max: 20, Kind: KindPhrase,
				Phrases: []string{"verify", "confirm your", "can i have your", "could i have your", "can i take your",
					"could i take your", "may i have your", "can i get your", "could i get your", "what is your",
					"whats your", "order number", "account number", "date of birth", "postcode", "post code",
					"zip code", "first line of your address", "security question", "last four digits",
					"email address on the account", "name on the account", "full name", "can you confirm", "could you confirm"},
			},
			{
				Key: "empathy", Label: "Shows empathy", Max: 15, Kind: KindPhrase,
				Phrases: []string{"sorry", "apologise", "apologize", "apologies", "i understand", "i can understand",
					"i completely understand", "i can imagine", "that must be", "that sounds", "i appreciate",
					"frustrating", "i hear you", "i know how", "thank you for your patience"},
			},
			{
				Key: "prohibited_language", Label: "Uses no prohibited language", Max: 20, Kind: KindNoPhrase,
				Phrases: []string{"shut up", "stupid", "idiot", "dumb", "damn", "hell", "crap", "shit", "fuck",
					"bloody", "calm down", "not my problem", "not my job", "you people", "whatever",
					"i cant help you", "deal with it", "thats your problem", "no idea"},
			},
			{
				Key: "resolution", Label: "States the outcome or next step", Max: 20, Kind: KindPhrase,
				Phrases: []string{"i have processed", "ive processed", "i have issued", "ive issued", "i have sent",
					"ive sent", "ive reset", "i have reset", "ive updated", "i have updated", "ive cancelled",
					"i have cancelled", "ive arranged", "i have arranged", "ive booked", "i have booked", "ive refunded",
					"i have refunded", "ive escalated", "i have escalated", "ive credited", "ive applied", "ive raised",
					"ive gone ahead", "i will send", "ill send", "ill arrange", "ill escalate", "ill process",
					"you will receive", "youll receive", "you should receive", "you will get", "youll get",
					"you should see", "youll see", "will be delivered", "will arrive", "should arrive", "will be refunded",
					"has been refunded", "has been resolved", "has been fixed", "is now fixed", "is now working",
					"next step", "next steps", "reference number", "case number", "working days", "within"},
			},
			{
				Key: "closing", Label: "Closes the call properly", Max: 10, Kind: KindPhrase, LastN: 3,
				Phrases: []string{"anything else", "thank you for calling", "thanks for calling", "goodbye", "good bye",
					"bye", "have a great day", "have a good day", "have a nice day", "have a lovely day",
					"take care", "thank you for your call"},
			},
			{
				Key: "dead_air", Label: "No dead air over 10 seconds", Max: 5, Kind: KindMaxGap, MaxGapMS: 10_000,
			},
		},
	}
}
