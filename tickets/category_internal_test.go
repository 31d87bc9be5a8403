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

// TestOffersChoice: an agent's (or the IVR's) line that lists topics to
// choose from, or gives an example of what to say, names no topic of the
// call.
func TestOffersChoice(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"is this about an order, billing, or technical support?", true},
		{"Sorry, I didn't catch that. You can say things like 'track my order'.", true},
		{"try saying pay my bill", true},
		{"I can see your order was delivered this morning", false},
		{"for example the router or the cable", true},
	} {
		if got := offersChoice(wordsOf(tc.text)); got != tc.want {
			t.Errorf("offersChoice(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"get me your manager now", true},
		{"put me through to a supervisor", true},
		{"i need someone senior", true},
		{"my manager at work uses your broadband", false},
		{"the store manager was rude", false},
	} {
		if got := demandsSenior(wordsOf(tc.text)); got != tc.want {
			t.Errorf("demandsSenior(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"hi is priya there please", true},
		{"is anyone there", true},
		{"is it there yet", false},
		{"is that there on the account", false},
		{"is the signal there", false},
	} {
		if got := asksByName(wordsOf(tc.text)); got != tc.want {
			t.Errorf("asksByName(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}
