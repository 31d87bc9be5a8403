package tickets

import (
	"strings"
	"testing"
)

// TestPhraseGaps: a "*" in a cue stands for up to gapWords words.
func TestPhraseGaps(t *testing.T) {
	for _, tc := range []struct {
		text, phrase string
		at           int
	}{
		{"can i bring it back", "bring * back", 2},
		{"can i bring back the coat", "bring * back", 2},
		{"i want to bring something i bought online back", "bring * back", 3},
		{"bring the coat my sister bought me in june back", "bring * back", -1}, // seven words between
		{"i want to send them back to you", "send * back * you", 3},
		{"where is my order", "where is my order", 0},
		{"my order", "where is my order", -1},
	} {
		if got := phraseAt(strings.Fields(tc.text), tc.phrase); got != tc.at {
			t.Errorf("phraseAt(%q, %q) = %d, want %d", tc.text, tc.phrase, got, tc.at)
		}
	}
}
