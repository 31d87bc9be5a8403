package qa

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Review errors.
var (
	// ErrUnknownItem: the evaluation has no item with that key.
	ErrUnknownItem = errors.New("qa: no such item")
	// ErrBadReview: an override, acknowledgement or calibration is malformed.
	ErrBadReview = errors.New("qa: bad review")
)

// Override is a reviewer's correction of one item, kept as a review row.
type Override struct {
	ID           string    `json:"id"`
	EvaluationID string    `json:"evaluation_id"`
	Reviewer     string    `json:"reviewer"`
	Item         string    `json:"item"`
	OldPassed    bool      `json:"old_passed"`
	NewPassed    bool      `json:"new_passed"`
	OldScore     int       `json:"old_score"`
	NewScore     int       `json:"new_score"`
	Comment      string    `json:"comment"`
	CreatedAt    time.Time `json:"created_at"`
}

// Apply returns e with o applied: the item takes o.NewPassed and
// o.NewScore (a negative NewScore means Max when passed, 0 when not) and is
// marked overridden, and the score is recomputed. The returned Override has
// the old values filled in. e is not changed.
func (e Evaluation) Apply(o Override) (Evaluation, Override, error) {
	if strings.TrimSpace(o.Comment) == "" {
		return e, o, fmt.Errorf("%w: comment: required", ErrBadReview)
	}
	items := append([]Item(nil), e.Items...)
	for i, it := range items {
		if it.Key != o.Item {
			continue
		}
		if o.NewScore < 0 {
			o.NewScore = 0
			if o.NewPassed {
				o.NewScore = it.Max
			}
		}
		if o.NewScore > it.Max {
			return e, o, fmt.Errorf("%w: score: %d is above the item's %d", ErrBadReview, o.NewScore, it.Max)
		}
		o.OldPassed, o.OldScore = it.Passed, it.Score
		if it.Pending {
			o.OldScore = 0
		}
		it.Passed, it.Score, it.Overridden, it.Pending, it.NA = o.NewPassed, o.NewScore, true, false, false
		items[i] = it
		e.Items = items
		e.Recompute()
		return e, o, nil
	}
	return e, o, fmt.Errorf("%w: %q", ErrUnknownItem, o.Item)
}

// Acknowledgement states.
const (
	Acknowledged = "acknowledged"
	Disputed     = "disputed"
)

// Ack is the agent's answer to an evaluation.
type Ack struct {
	Status  string    `json:"status"` // Acknowledged or Disputed
	By      string    `json:"by"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// Validate checks the status, and that a dispute says why.
func (a Ack) Validate() error {
	switch {
	case a.Status != Acknowledged && a.Status != Disputed:
		return fmt.Errorf("%w: status: want acknowledged or disputed, got %q", ErrBadReview, a.Status)
	case a.Status == Disputed && strings.TrimSpace(a.Comment) == "":
		return fmt.Errorf("%w: comment: a dispute needs a reason", ErrBadReview)
	}
	return nil
}

// Calibration is one reviewer's independent judgement of an evaluation's
// items, for comparing reviewers.
type Calibration struct {
	EvaluationID string          `json:"evaluation_id"`
	Reviewer     string          `json:"reviewer"`
	Items        map[string]bool `json:"items"` // item key → passed
	Comment      string          `json:"comment,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
}

// Agreement is how often raters agree on an evaluation's items: for each
// item and overall, the share of rater pairs that gave the same verdict.
type Agreement struct {
	Raters  []string           `json:"raters"`
	Items   map[string]float64 `json:"items"`
	Overall float64            `json:"overall"`
	// Pairs is each pair's share of agreeing items, "a|b" → share.
	Pairs map[string]float64 `json:"pairs"`
}

// Agree computes the agreement between the calibrations, with the
// evaluation's own verdicts as the rater "auto" when auto is not nil.
// Items only some raters judged count among those who did.
func Agree(cals []Calibration, auto *Evaluation) Agreement {
	type rater struct {
		name  string
		items map[string]bool
	}
	var rs []rater
	if auto != nil {
		m := map[string]bool{}
		for _, it := range auto.Items {
			if !it.Pending {
				m[it.Key] = it.Passed
			}
		}
		rs = append(rs, rater{"auto", m})
	}
	for _, c := range cals {
		rs = append(rs, rater{c.Reviewer, c.Items})
	}
	a := Agreement{Items: map[string]float64{}, Pairs: map[string]float64{}}
	keys := map[string]bool{}
	for _, r := range rs {
		a.Raters = append(a.Raters, r.name)
		for k := range r.items {
			keys[k] = true
		}
	}
	var agreeAll, pairsAll int
	for k := range keys {
		agree, pairs := 0, 0
		for i := range rs {
			for j := i + 1; j < len(rs); j++ {
				vi, ok1 := rs[i].items[k]
				vj, ok2 := rs[j].items[k]
				if ok1 && ok2 {
					pairs++
					if vi == vj {
						agree++
					}
				}
			}
		}
		if pairs > 0 {
			a.Items[k] = float64(agree) / float64(pairs)
		}
		agreeAll += agree
		pairsAll += pairs
	}
	if pairsAll > 0 {
		a.Overall = float64(agreeAll) / float64(pairsAll)
	}
	for i := range rs {
		for j := i + 1; j < len(rs); j++ {
			agree, n := 0, 0
			for k, vi := range rs[i].items {
				if vj, ok := rs[j].items[k]; ok {
					n++
					if vi == vj {
						agree++
					}
				}
			}
			if n > 0 {
				a.Pairs[rs[i].name+"|"+rs[j].name] = float64(agree) / float64(n)
			}
		}
	}
	sort.Strings(a.Raters)
	return a
}
