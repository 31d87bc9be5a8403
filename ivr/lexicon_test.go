package ivr

import (
	"slices"
	"testing"
)

func TestConceptsOf(t *testing.T) {
	tests := []struct {
		text      string
		want, not []string
	}{
		{"the courier hasn't turned up", []string{"parcel", "arrive"}, nil},
		{"there's a mistake on my invoice", []string{"bill", "wrong"}, nil},
		// The longest phrase wins: "stopped working" is broken, not a stop.
		{"the kettle stopped working", []string{"broken", "product"}, []string{"cancel"}},
		{"she put the phone down on me", []string{"mistreat"}, []string{"outage"}},
		{"Cancelled, CANCELLING, cancel", []string{"cancel"}, nil},
		{"purple elephants", nil, nil},
	}
	for _, tt := range tests {
		got := conceptsOf(tokenize(tt.text))
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("conceptsOf(%q) = %v, lacks %s", tt.text, got, w)
			}
		}
		for _, w := range tt.not {
			if slices.Contains(got, w) {
				t.Errorf("conceptsOf(%q) = %v, has %s", tt.text, got, w)
			}
		}
		if tt.want == nil && len(got) > 0 {
			t.Errorf("conceptsOf(%q) = %v, want none", tt.text, got)
		}
	}
}

// Words the examples never used still count through their concept.
func TestConceptsGeneralise(t *testing.T) {
	c, err := TrainClassifier(map[string][]string{
		"track": {"where is my parcel", "has my parcel arrived", "parcel tracking please", "my delivery is late"},
		"pay":   {"i want to pay my bill", "my bill is too high", "pay by card", "question about my bill"},
		"fix":   {"my internet is broken", "the wifi is not working", "no internet at all", "the router is faulty"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"the courier lost my shipment":     "track",
		"there's a mistake on my invoice":  "pay",
		"my broadband has stopped working": "fix",
	} {
		if got := c.Classify(text); got.Intent != want {
			t.Errorf("Classify(%q) = %+v, want %s", text, got, want)
		}
	}
}

// An everyday topic no example mentions makes an unsure answer Unknown:
// these intents say nothing about food. (The demo's training data has
// out-of-scope lines about food, so its out-of-scope class answers first.)
func TestOffTopic(t *testing.T) {
	c, err := TrainClassifier(map[string][]string{
		"track": {"where is my parcel", "has my order arrived", "parcel tracking please", "my delivery is late"},
		"pay":   {"i want to pay my bill", "my bill is too high", "pay by card", "question about my bill"},
		"buy":   {"i want a new phone", "do you sell routers", "how much is broadband", "i want to buy a tablet"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Classify("can i order a kebab")
	if got.Intent != Unknown || got.Reason != "off_topic" {
		t.Errorf("got %+v, want unknown (off_topic)", got)
	}
	if got.Confidence >= offTopicConf {
		t.Errorf("confidence %.2f, want below %.2f", got.Confidence, offTopicConf)
	}
	if got := c.Classify("can i buy a new router"); got.Intent != "buy" {
		t.Errorf("in scope: %+v, want buy", got)
	}
	if got := demoClassifier(t).Classify("can i order a kebab"); got.Intent != Unknown {
		t.Errorf("demo: %+v, want unknown", got)
	}
}
