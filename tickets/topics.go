package tickets

import (
	"slices"
	"strings"
)

// Topic cues: phrases that name what a call is about, for the categories
// of a contact centre of the demo's kind (orders, returns, billing,
// technical support, account access, cancellations, sales). The IVR's
// classifier is trained on what callers say to a menu, one utterance at a
// time; in a whole conversation its vocabulary misleads it where a word
// belongs to two topics: "refund" (a returned item, or a wrong charge),
// "account" (logging in, or adding a line to it), "internet" (a fault, or
// a faster plan). A cue is a phrase that settles such a case whatever the
// rest of the line says. Cues name a problem or a request, never a thing
// or a person: a router is returned, sold and mended, and a complaint
// about an engineer or a courier names them; words of two topics
// ("refund", "account", "internet", "broken") are no cue either. Cues
// count only for categories the configuration has.
//
// Tense matters for cancellations: "I want to cancel" is the topic, "you
// billed me after I cancelled" is not, so only the present forms are cues;
// and leaving is leaving us ("I want to leave", "leaving you"), not
// leaving a parcel in the porch.
// Words are as tokens() makes them: lower case, apostrophes dropped.
var topicCues = map[string][]string{
	"billing": {
		"charged", "charge", "charges", "overcharged", "overcharging", "payment", "payments", "direct debit",
		"invoice", "invoices", "bill", "bills", "billed", "billing", "statement", "debited", "taken money",
		"took money", "taking money", "money out of my account", "money from my account", "pay my", "price went up",
		"price has gone up", "price increase", "payment card", "card details", "payment details",
	},
	"returns": {
		"send it back", "send them back", "sent it back", "sent them back", "send back", "post it back",
		"posted it back", "post them back", "take it back", "bring it back", "return it", "return them",
		"returns label", "return label", "returning", "exchange", "swap it", "wrong size", "too small", "too big",
		"doesnt fit", "dont fit", "wrong item", "wrong colour", "wrong color", "arrived damaged", "arrived broken",
		"faulty", "collect the", "money back", "damaged", "smashed", "cracked", "shattered", "dented",
	},
	"sales": {
		"upgrade", "upgrading", "how much would it cost", "how much does it cost", "how much would", "add a line",
		"second line", "another line", "extra line", "new line", "something faster", "a faster", "faster plan",
		"faster speed", "new plan", "better deal", "deals", "offers", "quote", "sign up", "buy", "purchase",
		"bundle", "interested in", "add tv", "add sports", "included", "get broadband", "get connected",
		"get you connected", "new connection", "new customer", "switch to you", "join you",
	},
	"cancel": {
		"cancel", "cancelling", "canceling", "cancellation", "want to leave", "going to leave", "decided to leave",
		"leave you", "leaving you", "im leaving", "close my account",
		"close the account", "end my", "end the contract", "get rid of", "give notice", "terminate", "switch provider",
		"switching provider", "stop my subscription", "stop the subscription", "no longer need", "dont want it anymore",
		"want out",
	},
	"tech_support": {
		"not working", "isnt working", "stopped working", "wont connect", "cant connect", "no signal",
		"no internet", "keeps dropping", "dropping out", "cutting out", "keeps cutting", "very slow", "really slow",
		"so slow", "error", "fault", "outage", "line test", "restart", "reboot",
	},
	"account_access": {
		"password", "log in", "login", "log into", "logging in", "sign in", "locked out", "account is locked",
		"username", "reset link", "verification code", "two factor", "get into my account", "access my account",
		"change my address", "update my details", "change my email", "email address on my account",
	},
	"order_status": {
		"where is my order", "wheres my order", "tracking", "track my", "dispatched", "shipped", "hasnt arrived",
		"not arrived", "havent received", "hasnt turned up", "not turned up", "out for delivery",
		"delivery date", "when will it arrive", "still waiting for my order",
	},
}

// cueWeight is the evidence a line naming a topic adds to it, as much as
// a fairly confident classification of the line; twice that when the cue
// is what the caller asks for ("I want my money back", "can you add a
// line"), not what happened ("it stopped working"): the request is what
// the call is about.
const cueWeight = 0.6

// requestWindow is how many words a request ("I want", "can you") may
// come before the cue it asks for.
const requestWindow = 4

// requestWords open a request; requestPairs too, as two words.
var (
	requestWords = map[string]bool{"want": true, "wants": true, "like": true, "need": true, "wanna": true, "please": true}
	requestPairs = [][2]string{{"can", "you"}, {"could", "you"}, {"can", "i"}, {"could", "i"}, {"how", "do"}, {"how", "can"}}
)

// cues returns the evidence words give the categories of cats they name
// (each once): cueWeight, twice that for a request.
func cues(words []string, cats map[string]bool) map[string]float64 {
	var out map[string]float64
	for cat, phrases := range topicCues {
		if cats != nil && !cats[cat] {
			continue
		}
		for _, p := range phrases {
			at := phraseAt(words, p)
			if at < 0 {
				continue
			}
			v := cueWeight
			if requested(words, at) {
				v *= 2
			}
			if out == nil {
				out = map[string]float64{}
			}
			out[cat] = max(out[cat], v)
		}
	}
	return out
}

// phraseAt is where phrase starts in words (the first time), -1 when it
// is not there.
func phraseAt(words []string, phrase string) int {
	p := strings.Fields(phrase)
	for i := 0; i+len(p) <= len(words); i++ {
		if slices.Equal(words[i:i+len(p)], p) {
			return i
		}
	}
	return -1
}

// requested reports whether a request opens within requestWindow words
// before words[at].
func requested(words []string, at int) bool {
	for j := at - 1; j >= 0 && j >= at-requestWindow; j-- {
		if requestWords[words[j]] {
			return true
		}
		if j > 0 {
			for _, p := range requestPairs {
				if words[j-1] == p[0] && words[j] == p[1] {
					return true
				}
			}
		}
	}
	return false
}
