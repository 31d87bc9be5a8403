package qa

import (
	"errors"
	"fmt"

	"github.com/contactd/contactd/transcript"
)

// Kind says how a criterion is judged.
type Kind string

// Kinds of criteria. The first three are generic; the rest are detectors
// with built-in lexicons that Phrases extend.
const (
	// KindPhrase passes when the speaker said one of the phrases, within
	// their first FirstN or last LastN lines when those are set.
	KindPhrase Kind = "phrase"
	// KindNoPhrase passes when the speaker said none of the phrases.
	KindNoPhrase Kind = "no_phrase"
	// KindMaxGap passes when, once the agent has joined, no silence between
	// consecutive lines is longer than MaxGapMS (announced holds excepted).
	KindMaxGap Kind = "max_gap"

	// KindGreeting passes when, within WithinMS of the agent's first line,
	// the agent greets with a name: an introduction ("my name is sam",
	// "thanks for calling northwind") or one of the card's Company names,
	// Names or the agent's username.
	KindGreeting Kind = "greeting"
	// KindVerification passes when the agent asks a verification question
	// before discussing account details; not applicable when no account
	// details come up.
	KindVerification Kind = "verification"
	// KindEmpathy passes when the agent shows empathy after the caller is
	// first negative; not applicable when the caller never is.
	KindEmpathy Kind = "empathy"
	// KindProhibited passes when the agent used none of Phrases nor the
	// built-in lexicon of rude and dismissive phrases.
	KindProhibited Kind = "prohibited"
	// KindResolution passes when the agent states an outcome or next step.
	KindResolution Kind = "resolution"
	// KindClosing passes when, in the agent's last LastN lines (4 when
	// unset), an offer of further help is followed by thanks.
	KindClosing Kind = "closing"
	// KindHold passes when every hold (an announced wait followed by
	// silence, or a "hold" marker line of the system speaker) was asked
	// permission for and ended within MaxHoldMS; not applicable without one.
	KindHold Kind = "hold"
	// KindInterruptions passes when the agent started talking over the
	// caller at most MaxCount times.
	KindInterruptions Kind = "interruptions"
	// KindTalkRatio passes when the agent's share of talk time is within
	// MinRatio..MaxRatio.
	KindTalkRatio Kind = "talk_ratio"
	// KindSentiment passes when the caller ends the call no worse than they
	// started it, or positive.
	KindSentiment Kind = "sentiment"
)

// ItemType says who judges an item.
type ItemType string

// Item types.
const (
	Automatic ItemType = "automatic"
	Manual    ItemType = "manual"
)

// Criterion is one line of a scorecard, as data so configuration can
// change it.
type Criterion struct {
	Key   string `yaml:"key" json:"key"`
	Label string `yaml:"label" json:"label"`
	// Max is the item's points; Weight is the same thing under the name
	// QA staff use. Set one (or both to the same value).
	Max    int `yaml:"max,omitempty" json:"max"`
	Weight int `yaml:"weight,omitempty" json:"weight,omitempty"`
	// Type is automatic (default) or manual; manual items need no Kind and
	// stay pending until a reviewer judges them.
	Type ItemType `yaml:"type,omitempty" json:"type,omitempty"`
	// AutoFail: failing this item zeroes the evaluation.
	AutoFail bool `yaml:"auto_fail,omitempty" json:"auto_fail,omitempty"`
	Kind     Kind `yaml:"kind,omitempty" json:"kind,omitempty"`
	// Speaker whose lines are searched by phrase kinds; empty means the agent.
	Speaker transcript.Speaker `yaml:"speaker,omitempty" json:"speaker,omitempty"`
	// Phrases are matched as whole words, ignoring case and punctuation
	// ("i've" matches "ive" and "I've."). Detectors add them to their lexicon.
	Phrases []string `yaml:"phrases,omitempty" json:"phrases,omitempty"`
	FirstN  int      `yaml:"first_n,omitempty" json:"first_n,omitempty"`
	LastN   int      `yaml:"last_n,omitempty" json:"last_n,omitempty"`
	// MaxGapMS is the longest silence KindMaxGap allows.
	MaxGapMS int64 `yaml:"max_gap_ms,omitempty" json:"max_gap_ms,omitempty"`
	// WithinMS bounds KindGreeting (default 15 s).
	WithinMS int64 `yaml:"within_ms,omitempty" json:"within_ms,omitempty"`
	// Names are extra names KindGreeting accepts.
	Names []string `yaml:"names,omitempty" json:"names,omitempty"`
	// MaxHoldMS is the longest hold KindHold allows (default 60 s).
	MaxHoldMS int64 `yaml:"max_hold_ms,omitempty" json:"max_hold_ms,omitempty"`
	// MaxCount bounds KindInterruptions (default 2).
	MaxCount int `yaml:"max_count,omitempty" json:"max_count,omitempty"`
	// MinRatio and MaxRatio bound KindTalkRatio (defaults 0.25 and 0.75).
	MinRatio float64 `yaml:"min_ratio,omitempty" json:"min_ratio,omitempty"`
	MaxRatio float64 `yaml:"max_ratio,omitempty" json:"max_ratio,omitempty"`
}

// Points is the item's weight: Max, or Weight when Max is unset.
func (c Criterion) Points() int {
	if c.Max != 0 {
		return c.Max
	}
	return c.Weight
}

// Scorecard is a named list of criteria.
type Scorecard struct {
	Name string `yaml:"name" json:"name"`
	// Company names count as a name in the greeting.
	Company []string    `yaml:"company,omitempty" json:"company,omitempty"`
	Items   []Criterion `yaml:"items" json:"items"`
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
		case c.Max < 0 || c.Weight < 0:
			return fmt.Errorf("%w: %s (%s).max: %d is negative", ErrBadScorecard, at, c.Key, min(c.Max, c.Weight))
		case c.Max != 0 && c.Weight != 0 && c.Max != c.Weight:
			return fmt.Errorf("%w: %s (%s): max %d and weight %d disagree; set one", ErrBadScorecard, at, c.Key, c.Max, c.Weight)
		case c.Speaker != "" && !c.Speaker.Valid():
			return fmt.Errorf("%w: %s (%s).speaker: %q is not caller, agent or system", ErrBadScorecard, at, c.Key, c.Speaker)
		case c.FirstN < 0 || c.LastN < 0:
			return fmt.Errorf("%w: %s (%s): first_n and last_n must not be negative", ErrBadScorecard, at, c.Key)
		case c.Type != "" && c.Type != Automatic && c.Type != Manual:
			return fmt.Errorf("%w: %s (%s).type: %q is not automatic or manual", ErrBadScorecard, at, c.Key, c.Type)
		case c.WithinMS < 0 || c.MaxHoldMS < 0 || c.MaxCount < 0 || c.MinRatio < 0 || c.MaxRatio < 0 || c.MaxRatio > 1 || c.MinRatio > 1:
			return fmt.Errorf("%w: %s (%s): within_ms, max_hold_ms, max_count must not be negative and ratios must be 0..1", ErrBadScorecard, at, c.Key)
		case c.MaxRatio != 0 && c.MinRatio > c.MaxRatio:
			return fmt.Errorf("%w: %s (%s): min_ratio is above max_ratio", ErrBadScorecard, at, c.Key)
		}
		seen[c.Key] = true
		for j, p := range c.Phrases {
			if len(words(p)) == 0 {
				return fmt.Errorf("%w: %s (%s).phrases[%d]: no words in %q", ErrBadScorecard, at, c.Key, j, p)
			}
		}
		if c.Type == Manual && c.Kind == "" {
			continue
		}
		switch c.Kind {
		case KindPhrase, KindNoPhrase:
			if len(c.Phrases) == 0 {
				return fmt.Errorf("%w: %s (%s).phrases: none", ErrBadScorecard, at, c.Key)
			}
		case KindMaxGap:
			if c.MaxGapMS <= 0 {
				return fmt.Errorf("%w: %s (%s).max_gap_ms: must be positive", ErrBadScorecard, at, c.Key)
			}
		case KindGreeting, KindVerification, KindEmpathy, KindProhibited, KindResolution, KindClosing,
			KindHold, KindInterruptions, KindTalkRatio, KindSentiment:
		default:
			return fmt.Errorf("%w: %s (%s).kind: %q is not one of phrase, no_phrase, max_gap, greeting, verification, empathy, prohibited, resolution, closing, hold, interruptions, talk_ratio, sentiment",
				ErrBadScorecard, at, c.Key, c.Kind)
		}
	}
	return nil
}

// Names of the built-in scorecards.
const (
	DefaultScorecardName  = "default"
	ExtendedScorecardName = "extended"
)

// DefaultScorecard is the built-in scorecard: greeting, verification,
// empathy, prohibited_language, resolution, closing and dead_air, 100
// points in all; prohibited_language is auto-fail.
func DefaultScorecard() Scorecard {
	return Scorecard{
		Name: DefaultScorecardName,
		Items: []Criterion{
			{Key: "greeting", Label: "Greets the caller with their name or the company's", Max: 10, Kind: KindGreeting},
			{Key: "verification", Label: "Verifies the caller before discussing the account", Max: 20, Kind: KindVerification},
			{Key: "empathy", Label: "Shows empathy when the caller is upset", Max: 15, Kind: KindEmpathy},
			{Key: "prohibited_language", Label: "Uses no prohibited or dismissive language", Max: 20, Kind: KindProhibited, AutoFail: true},
			{Key: "resolution", Label: "States the outcome or next step", Max: 20, Kind: KindResolution},
			{Key: "closing", Label: "Offers further help, then thanks the caller", Max: 10, Kind: KindClosing},
			{Key: "dead_air", Label: "No dead air over 10 seconds", Max: 5, Kind: KindMaxGap, MaxGapMS: 10_000},
		},
	}
}

// ExtendedScorecard is DefaultScorecard plus hold etiquette, interruptions,
// talk ratio and the caller's sentiment.
func ExtendedScorecard() Scorecard {
	c := DefaultScorecard()
	c.Name = ExtendedScorecardName
	c.Items = append(c.Items,
		Criterion{Key: "hold", Label: "Asks before a hold and returns within 60 seconds", Max: 10, Kind: KindHold},
		Criterion{Key: "interruptions", Label: "Interrupts the caller at most twice", Max: 5, Kind: KindInterruptions},
		Criterion{Key: "talk_ratio", Label: "Agent talks 25-75% of the time", Max: 5, Kind: KindTalkRatio},
		Criterion{Key: "sentiment", Label: "Caller ends no less happy than they started", Max: 10, Kind: KindSentiment},
	)
	return c
}
