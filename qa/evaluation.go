package qa

import (
	"time"

	"github.com/contactd/contactd/transcript"
)

// Evidence points at the transcript lines an item was judged on.
type Evidence struct {
	Speaker transcript.Speaker `json:"speaker"`
	StartMS int64              `json:"start_ms"`
	EndMS   int64              `json:"end_ms,omitempty"`
	Text    string             `json:"text"`
	// Highlights are the words of Text the item was judged on (a phrase
	// said, a name given), for the review desk to mark.
	Highlights []Span `json:"highlights,omitempty"`
	// Words are the highlighted words with their times, when the line
	// has word timings (live calls, imported recordings): where to seek
	// to hear what the item was judged on.
	Words []transcript.Word `json:"words,omitempty"`
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
	// Type is automatic (judged by a detector) or manual (left to a
	// reviewer); empty means automatic.
	Type ItemType `json:"type,omitempty"`
	// AutoFail: failing this item zeroes the whole evaluation.
	AutoFail bool `json:"auto_fail,omitempty"`
	// NA: the item did not apply to this call (no negative caller, no
	// hold, …); it counts as passed.
	NA bool `json:"na,omitempty"`
	// Pending: a manual item nobody has judged yet; it counts neither in
	// Score nor in MaxScore.
	Pending bool `json:"pending,omitempty"`
	// Detail is a short reason or measurement ("agent talk ratio 0.62").
	Detail string `json:"detail,omitempty"`
	// Overridden: a reviewer replaced the detector's result.
	Overridden bool `json:"overridden,omitempty"`
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
	// AutoFailed: an auto-fail item failed, so Score is 0.
	AutoFailed bool `json:"auto_failed"`
	// Method is how the items were judged: "rules" or "llm".
	Method string `json:"method,omitempty"`
	// Ack is the agent's acknowledgement or dispute; nil before either.
	Ack *Ack `json:"ack,omitempty"`
}
