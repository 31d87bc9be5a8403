package tickets

import (
	"github.com/contactd/contactd/transcript"
)

// Learned exposes the learned models to the external tests.
type Learned = learned

// Train trains the models on calls.
func Train(calls []TrainingCall) Learned { return train(calls) }

// Add adds a call to the models (sign 1) or takes it out (−1).
func (l learned) Add(c TrainingCall, sign float64) { l.add(c, sign) }

// CategorizeWith is CategorizeIn with the models l.
func CategorizeWith(segs []transcript.Segment, clf IntentClassifier, categories []string, l Learned) string {
	return categorize(segs, clf, categories, l)
}

// TopicPosterior is the category model's posterior over all its
// categories.
func (l learned) TopicPosterior(segs []transcript.Segment) map[string]float64 {
	return l.topicPosterior(segs, nil)
}

// Angry reports whether the anger model takes the caller for angry.
func (l learned) Angry(segs []transcript.Segment) bool {
	return l.angry(segs)
}
