package tickets

import "testing"

func TestAsksForPerson(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"customer service please", true},
		{"let me speak to a real person", true},
		{"transfer me to an operator", true},
		{"i don't want a machine", true},
		{"customer number two six one nine four four", false},
		{"what number are you using", false},
	} {
		if got := asksForPerson(wordsOf(tc.text)); got != tc.want {
			t.Errorf("asksForPerson(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}
