// Package transcript holds the plain types of a call's transcript. It imports
// nothing of ours so that tickets, qa, store and call can all share it.
package transcript

// Speaker says which channel of a call a segment came from.
type Speaker string

// Speakers. The caller is the left channel of a recording, the agent the right.
const (
	Caller Speaker = "caller"
	Agent  Speaker = "agent"
	System Speaker = "system" // prompts played by the IVR
)

// Segment is one recognised utterance of one speaker. Times are milliseconds
// from the start of the call.
type Segment struct {
	Speaker    Speaker `json:"speaker"`
	StartMS    int64   `json:"start_ms"`
	EndMS      int64   `json:"end_ms"`
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence,omitempty"`
	// Words are the segment's words with their times, when the
	// recogniser gives them (the review desk highlights the word being
	// played); nil otherwise.
	Words []Word `json:"words,omitempty"`
}

// Word is one recognised word of a segment. Times are milliseconds from the
// start of the call, like the segment's.
type Word struct {
	Text    string `json:"text"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
}

// Transcript is a call's segments in start order plus what is known about the call.
type Transcript struct {
	CallID       string    `json:"call_id"`
	CallerNumber string    `json:"caller_number"`
	Agent        string    `json:"agent,omitempty"` // the agent's username, when one took part
	Intent       string    `json:"intent,omitempty"`
	Segments     []Segment `json:"segments"`
	// Incomplete is set when a recogniser failed during the call.
	Incomplete bool `json:"incomplete,omitempty"`
	// Slots are the values the IVR collected (order_number,
	// account_number, date, amount), said or keyed: a number keyed on the
	// phone's keypad is in no segment.
	Slots map[string]string `json:"slots,omitempty"`
}

// Valid reports whether s is a speaker we know.
func (s Speaker) Valid() bool { return s == Caller || s == Agent || s == System }
