package tickets

import (
	"strings"

	"github.com/contactd/contactd/transcript"
)

// lexicon scores words and phrases of callers' speech. Thanks are worth
// little: nearly every caller says them, angry or not.
var lexicon = map[string]float64{
	// positive
	"great": 1, "perfect": 1.5, "excellent": 1.5, "brilliant": 1.5, "wonderful": 1.5,
	"amazing": 1.5, "awesome": 1.5, "fantastic": 1.5, "lovely": 1, "helpful": 1,
	"happy": 1, "pleased": 1, "glad": 1, "appreciate": 1, "good": 0.5, "fine": 0.25,
	"sorted": 1, "resolved": 1, "fixed": 0.5, "thanks": 0.25, "thank": 0.25,
	"grateful": 1, "satisfied": 1, "superb": 1.5, "nice": 0.5, "cheers": 0.25,
	"thank you so much": 1, "thanks so much": 1, "really helpful": 1, "thats great": 0.5,
	// negative
	"angry": -2, "furious": -2.5, "annoyed": -1.5, "frustrated": -1.5, "frustrating": -1.5,
	"upset": -1.5, "unhappy": -1.5, "disappointed": -1.5, "disappointing": -1.5,
	"ridiculous": -2, "unacceptable": -2, "terrible": -2, "awful": -2, "horrible": -2,
	"useless": -2, "rubbish": -2, "worst": -2.5, "disgusting": -2.5, "disgrace": -2.5,
	"pathetic": -2, "incompetent": -2, "joke": -1, "bad": -1, "poor": -1, "wrong": -0.5,
	"broken": -0.5, "problem": -0.25, "issue": -0.25, "waste": -1.5, "sick": -1,
	"fed up": -2, "sick of": -2, "had enough": -2, "not good enough": -2,
	"complain": -1, "complaint": -1, "never again": -2, "waiting for weeks": -1.5,
	"third time": -1, "again and again": -1.5, "nobody": -0.5, "rude": -2, "hate": -2,
	"damn": -1.5, "stupid": -2, "sue": -2, "lawyer": -1.5,
	// indignation said without an angry word
	"outrageous": -2.5, "this is a joke": -1, "why on earth": -2, "how dare": -2.5, "youd better": -1.5, "you had better": -1.5, "youd better not": -1.5,
}

// negators flip the polarity of a sentiment word within the next three
// words: "not happy" is negative, "not bad" mildly positive.
var negators = map[string]bool{
	"not": true, "no": true, "never": true, "dont": true, "didnt": true, "doesnt": true,
	"isnt": true, "wasnt": true, "arent": true, "werent": true, "cant": true, "cannot": true,
	"wont": true, "hardly": true, "nothing": true, "havent": true, "hasnt": true, "aint": true,
}

const negationWindow = 3

// Score thresholds of the caller's summed sentiment.
const (
	negativeAt = -1.0
	positiveAt = 1.5
)

// Sentiment judges how the caller felt from the caller's lines: positive,
// neutral or negative. It sums a small lexicon (phrases before words),
// flipping a term when a negation stands up to three words before it.
func Sentiment(tr transcript.Transcript) string {
	var score float64
	for _, s := range tr.Segments {
		if s.Speaker == transcript.Caller {
			score += sentimentScore(s.Text)
		}
	}
	switch {
	case score <= negativeAt:
		return SentimentNegative
	case score >= positiveAt:
		return SentimentPositive
	}
	return SentimentNeutral
}

// LineSentiment scores one line: below 0 negative, above 0 positive; one
// strong word is about ±1 (e.g. "furious" −2, "thanks" +1).
func LineSentiment(text string) float64 { return sentimentScore(text) }

// sentimentScore scores one line.
func sentimentScore(text string) float64 {
	toks := tokens(text)
	words := make([]string, len(toks))
	for i, t := range toks {
		words[i] = t.text
	}
	var score float64
	for i := 0; i < len(words); i++ {
		v, n := 0.0, 0
		// Longest phrase first (up to four words).
		for l := 4; l >= 1 && n == 0; l-- {
			if i+l > len(words) {
				continue
			}
			if s, ok := lexicon[strings.Join(words[i:i+l], " ")]; ok {
				v, n = s, l
			}
		}
		if n == 0 {
			continue
		}
		for j := i - 1; j >= 0 && j >= i-negationWindow; j-- {
			if negators[words[j]] {
				if v > 0 {
					v = -v * 1.5 // "not happy" is stronger than "happy"
				} else {
					v = -v * 0.5 // "not bad" is faint praise
				}
				break
			}
		}
		score += v
		i += n - 1
	}
	return score
}

// SentimentArc judges the caller's mood in the first and the last third
// of their lines (at least one line each). A short stretch needs less to
// tip: one strong word does it.
func SentimentArc(tr transcript.Transcript) (start, end string) {
	var scores []float64
	for _, s := range tr.Segments {
		if s.Speaker == transcript.Caller && strings.TrimSpace(s.Text) != "" {
			scores = append(scores, sentimentScore(s.Text))
		}
	}
	if len(scores) == 0 {
		return SentimentNeutral, SentimentNeutral
	}
	n := max(1, (len(scores)+2)/3)
	sum := func(xs []float64) float64 {
		var t float64
		for _, x := range xs {
			t += x
		}
		return t
	}
	judge := func(v float64) string {
		switch {
		case v <= negativeAt:
			return SentimentNegative
		case v >= 1:
			return SentimentPositive
		}
		return SentimentNeutral
	}
	return judge(sum(scores[:n])), judge(sum(scores[len(scores)-n:]))
}
