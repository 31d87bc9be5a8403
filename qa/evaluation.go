// Package qa scores calls against a scorecard from their transcripts.
package qa

import (
	"time"

	"github.com/contactd/contactd/transcript"
)

// Evidence points at the transcript lines an item was judged on.
type Evidence struct {
	Speaker transcript.Speaker `json:"speaker"`
	StartMS int64              `json:"start_ms"`
	Text    string             `json:"text"`
}

// Item is one scorecard line's result. Passed true means the agent did the
// right thing.
type Item struct {
	Key      string     `json:"key"`
	Label    string     `json:"label"`
	Passed   bool       `json:"passed"`
	Score    int        `json:"score"`
	Max      int        `json:"max"`
	Evidence []Evidence `json:"evidence"`
}

// Evaluation is a scored call.
type Evaluation struct {
	ID        string    `json:"id"`
	CallID    string    `json:"call_id"`
	Scorecard string    `json:"scorecard"`
	Score     int       `json:"score"`
	MaxScore  int       `json:"max_score"`
	Items     []Item    `json:"items"`
	CreatedAt time.Time `json:"created_at"`
}
