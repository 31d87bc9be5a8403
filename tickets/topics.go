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
// Words are as tokens() makes them: lower case, apostrophes dropped; a "*"
// stands for a few words (phraseAt).
var topicCues = map[string][]string{
	"billing": {
		"charged", "charge", "charges", "overcharged", "overcharging", "payment", "payments", "direct debit",
		"invoice", "invoices", "bill", "bills", "billed", "billing", "statement", "debited", "taken money",
		"took money", "taking money", "money out of my account", "money from my account", "pay my", "price went up",
		"price has gone up", "price increase", "payment card", "card details", "payment details",
		"paying for", "im paying", "still paying", "pay for", "paying twice", "full price", "late fee", "fee", "fees",
		"credit you", "credited", "credit note", "vat receipt", "need a receipt", "needs a receipt", "receipts for", "arrears", "i owe", "owe you", "final bill", "refund the charge",
		"adjustment", "goodwill credit", "still being charged", "how much * bill", "autopay", "auto pay",
		"automatic payment", "automatic payments", "paperless billing", "payment date", "pay by card",
		"quarterly", "pay annually", "paying annually", "payment method", "payment plan",
		"discount code", "promo code", "voucher code", "code didnt apply", "refund the difference",
	},
	"returns": {
		"collect my return", "collect the return", "return collection", "collection of my return", "send it back", "send them back", "sent it back", "sent them back", "send back", "post it back",
		"posted it back", "post them back", "take it back", "bring it back", "return it", "return them",
		"returns label", "return label", "returning", "exchange", "swap it", "wrong size", "too small", "too big",
		"doesnt fit", "dont fit", "wrong item", "wrong colour", "wrong color", "arrived damaged", "arrived broken",
		"faulty", "collect the", "money back", "damaged", "smashed", "cracked", "shattered", "dented",
		"bring * back", "send * back", "take * back", "post * back", "you collected", "collected it",
		"pick it up", "collect it", "a replacement", "replace it", "replacement", "instead of the", "instead of what",
		"sent me the wrong", "sent the wrong", "collect a return", "collect my return", "collect the return",
		"about a return", "about my return", "about the return", "regarding a return", "regarding my return",
		// a return's collection: "a courier would pick up my return", "the
		// collection was missed … I'll refund the return fee", "collect a tv
		// i'm sending back" … "the collection failed"
		"pick up my return", "pick up the return", "picking up my return", "collection was missed",
		"missed collection", "missed the collection", "return fee", "returns fee", "i sent back",
		"sending back", "sending it back", "sending them back", "sending * back", "collection failed",
		"failed collection", "failed to collect", "sent * back",
	},
	"sales": {
		"upgrade", "upgrading", "do you have * in stock", "have you got * in stock", "whats the deal on", "deal on the", "have a think", "if i ordered today", "if i order today", "out of stock online", "showing out of stock", "says out of stock", "take a pre-order", "take a preorder", "ill pre-order", "ill preorder", "ill pre order", "to pre-order", "to preorder", "coming soon", "is it in stock", "are they in stock", "back in stock", "do you sell", "do you stock", "how much would it cost", "how much does it cost", "how much would", "add a line",
		"second line", "another line", "extra line", "new line", "something faster", "a faster", "faster plan",
		"faster speed", "new plan", "better deal", "any deals", "what deals", "the deals", "your deals", "best deals", "new deals", "better deals", "student deals", "deals on", "deals for", "deals you", "deals are", "offers", "quote", "sign up", "buy",
		// buying, not a "purchase number" (an order's)
		"to purchase", "purchase a", "purchase an", "purchase the", "purchase one", "purchase some", "purchasing",
		"bundle", "interested in", "add tv", "add sports", "included", "get broadband", "get connected",
		"get you connected", "new connection", "new customer", "switch to you", "join you",
		"anything cheaper", "something cheaper", "a cheaper", "cheaper deal", "cheaper plan", "cheaper tariff", "new tariff",
		"new contract", "on a new one", "contract is up", "contract is ending", "get a mobile", "get a phone", "get a new",
		"order a new", "order a second", "a second", "switch me to", "put me on", "available at my", "available on my",
		"need broadband", "need internet", "need a phone line", "need a landline", "business package",
		"business broadband", "business plan", "business line",
		// a shop's customer before buying: "does the bracket fit a fifty
		// five inch tv", "do you sell"
		"does it fit", "will it fit", "would it fit", "do you sell", "do you stock", "i was looking at the",
		"thinking of buying", "looking to buy",
		// and one about to order: "is the grey corner one still two hundred off … i'll
		// order it online tonight"
		"ill order it", "ill order one", "ill order the", "can i order one", "could i order one",
		// a service wanted without another: "a landline with no internet,
		// just something simple. do you do that" (not a fault: "no internet")
		"with no internet", "without internet", "without the internet", "landline only", "do you do that",
	},
	"cancel": {
		"cancel", "cancelling", "canceling", "cancellation", "want to leave", "going to leave", "decided to leave",
		"leave you", "leaving you", "im leaving", "close my account",
		"close the account", "end my", "end the contract", "get rid of", "give notice", "terminate", "switch provider",
		"switching provider", "stop my subscription", "stop the subscription", "no longer need", "dont want it anymore",
		"want out", "need it cancelled", "want it cancelled", "get it cancelled", "have it cancelled", "like it cancelled", "cancelled before", "cancel it before", "out of the contract", "early termination", "termination charge", "exit fee", "signed up elsewhere", "service to end",
		"dont send it", "dont need it anymore", "wont need", "not renewing", "wont be renewing", "not be renewing",
		"stop his", "stop her", "stop my", "close his", "close her", "drop the", "take off the", "disconnect my",
		"stop the insurance", "stop the service", "stop the contract", "stop the package", "stop the plan",
		"to leave early", "leave before", "end everything",
		"done with you", "stop the order", "stop it being sent", "stop it before", "stop it",
		"dont need * any more", "dont need * anymore", "doesnt need * any more", "doesnt need * anymore",
		"dont use * any more", "dont use * anymore", "no longer use", "want * cancelled", "want * ended",
		"want * closed", "want * terminated", "just end it", "end it",
		"pac code", "stac code", "porting code", "deal elsewhere", "better deal elsewhere", "going elsewhere", "go elsewhere",
		"make sure * cancelled", "check * cancelled", "confirm * cancelled",
		"stop the tv", "stop the broadband", "stop the landline", "stop the phone line", "stop the channels",
		// An add-on or a part of the package stopped: "I want the movies
		// add on taken off", "can I stop paying for the line rental bit".
		"add on taken off", "add on removed", "remove the * add on", "stop paying for the", "end the second",
	},
	"tech_support": {
		"not working", "isnt working", "stopped working", "wont connect", "cant connect", "no signal",
		"keeps crashing", "crashing", "crashes", "keeps crashing", "goes white", "keeps closing", "keeps shutting",
		"no internet", "keeps dropping", "dropping out", "cutting out", "keeps cutting", "very slow", "really slow",
		"so slow", "error", "fault", "outage", "line test", "restart", "reboot",
		"stopped working", "wont work", "doesnt work", "not loading", "wont load", "keeps freezing", "freezing",
		"no dial tone", "no service", "poor signal", "weak signal", "no picture", "black screen", "keeps going off",
		"keeps disconnecting", "disconnected", "cant make * calls", "cant receive * calls", "cant get a signal",
		"turn * off and on", "off and on again", "dropped out", "drops out", "dropping off", "dropped off",
		"at the exchange", "problem at the exchange", "fault at the exchange", "exchange fault",
		"cant hear", "cant be heard", "cant hear me", "crackle", "crackling",
		"noise on the line", "echo on the line", "hasnt worked", "hasnt been working", "not been working", "havent been working", "update failed",
		"failed to update", "wont update", "keeps failing", "wont charge", "not charging", "doesnt charge", "isnt charging", "stopped charging", "wont turn on",
		"wont switch on", "wont pair", "no bars", "no reception", "no coverage", "poor coverage", "no network",
		"has been out", "been out for", "been out since", "keeps going out", "is down", "been down", "went down",
		"keeps going down", "line * dead", "phone * dead", "lines dead", "phones dead", "went dead", "gone dead", "goes dead",
		// The wifi's password is the network's, not the online account's.
		"wifi password", "wi fi password", "wireless password", "router password", "password for the wifi",
		"password for my wifi", "password for the wi fi", "password for the router", "password on the router",
		"into the wifi", "onto the wifi", "on to the wifi", "join the wifi", "wifi key", "wifi code",
		// mail that does not come is the service's fault, not the login's
		"emails * arent", "emails are not", "email * isnt", "emails not", "not receiving emails", "not getting emails",
		"not getting my emails", "mail server", "email server",
	},
	"account_access": {
		"password", "log in", "login", "log into", "logging in", "sign in", "locked out", "account is locked",
		"username", "reset link", "verification code", "two factor", "get into my account", "access my account",
		"change my address", "update my details", "change my email", "email address on my account",
		"change the email", "change the address", "change my number", "new number", "new mobile number", "new email",
		"update the email", "update my address", "update my number", "update the address", "change of address", "contact number", "change the number", "authorised user", "off the account", "on the account",
		"name on the account", "my surname", "register", "activation", "logging into", "logged into", "security question",
		"account suspended", "account is suspended", "account has been suspended", "account was suspended",
	},
	"order_status": {
		"where is my order", "wheres my order", "tracking", "track my", "dispatched", "shipped", "hasnt arrived",
		"not arrived", "havent received", "hasnt turned up", "not turned up", "out for delivery",
		"delivery date", "when will it arrive", "still waiting for my order",
		"waiting in", "didnt come", "hasnt come", "not come", "didnt turn up", "supposed to come",
		"supposed to arrive", "supposed to be delivered", "couldnt be delivered", "missed delivery", "rebook the delivery",
		"delivery slot", "which day", "sent out", "posted out", "been sent", "been posted", "be posted", "be sent",
		"back order", "out of stock",
		"arrive by", "get here by", "be here by", "arrive in time", "needs to arrive", "left a card", "rebooked",
		"redeliver", "redelivery", "no sign of", "tracking link", "tracking number",
		"waiting for a delivery", "waiting for my delivery", "waiting for the delivery", "waiting for my parcel",
		"waiting for a parcel", "wheres my parcel", "where is my parcel", "wheres my package", "where is my package",
		"wheres my delivery", "where is my delivery", "wheres my stuff", "where is my stuff",
	},
}

// agentCues are what an agent does that names the topic, said in the
// past or future ("I've cancelled it", "I'll email you a returns label"):
// the agent's action settles a call the caller described vaguely ("I've
// changed my mind, can you stop it"). The caller's past tense is a story
// ("I cancelled in June and you still bill me"), so these count for agents
// only.
var agentCues = map[string][]string{
	"cancel": {
		"ive cancelled", "i have cancelled", "cancelled it", "cancelled that", "cancelled the order", "cancelled your order",
		"processed the cancellation", "process the cancellation", "your cancellation", "arranged your cancellation",
		"end the service", "close your account", "close the account", "remove that line", "remove the line",
		"removed the line", "set the end date", "your notice", "notice period",
		"cancellation went through", "cancellation has gone through", "cancellation has been processed", "cancellation is confirmed",
		"removed the * add on", "take the * off your account", "will be switched off",
	},
	"returns": {
		"returns label", "return label", "returns portal", "returns form", "arrange a collection", "book a collection",
		"booked a collection", "book a * collection", "booked a * collection", "arranged a * collection",
		"send a courier to collect", "courier to pick", "have it collected", "be collected", "get it collected",
	},
	"tech_support":   {"line test", "speed test", "raised a fault", "reported a fault", "reset the router", "restart the router"},
	"account_access": {"unlocked", "reset link", "password reset", "reset your password"},
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
// (each once): cueWeight, twice that for a request; the agent's actions
// (agentCues) count too when agent. Swearing is left out first ("so
// bloody slow" is "so slow"). denied lists the categories a cue names
// only to deny wanting it ("I'm not interested in any offers") or as a
// threat ("fix it or I want my money back", "if it isn't fixed I'm
// leaving"): these are not the topic, and not what the classifier may
// make of the line either.
func cues(words []string, cats map[string]bool, agent bool) (named map[string]float64, denied map[string]bool) {
	words = withoutSwearing(words)
	type span struct {
		cat      string
		from, to int
	}
	var spans []span
	add := func(cat, p string) {
		at := phraseAt(words, p)
		if at < 0 {
			return
		}
		spans = append(spans, span{cat, at, at + phraseLen(words[at:], p)})
	}
	score := func(cat string, at int) {
		if deniedAt(words, at) {
			if denied == nil {
				denied = map[string]bool{}
			}
			denied[cat] = true
			return
		}
		v := cueWeight
		if requested(words, at) {
			v *= 2
		}
		if named == nil {
			named = map[string]float64{}
		}
		named[cat] = max(named[cat], v)
	}
	for cat, phrases := range topicCues {
		if cats != nil && !cats[cat] {
			continue
		}
		for _, p := range phrases {
			add(cat, p)
		}
		if agent {
			for _, p := range agentCues[cat] {
				add(cat, p)
			}
		}
	}
	// A cue inside a longer one of another topic is that one's word:
	// "charge" in "my phone won't charge".
	for _, a := range spans {
		if a.cat == "order_status" && visitBefore(words, a.from) {
			continue // "the engineer was supposed to come": a visit, not a delivery
		}
		inside := false
		for _, b := range spans {
			inside = inside || b.cat != a.cat && b.from <= a.from && a.to <= b.to && b.to-b.from > a.to-a.from
		}
		if !inside {
			score(a.cat, a.from)
		}
	}
	for cat := range named {
		delete(denied, cat) // named outright elsewhere in the line
	}
	return named, denied
}

// visitors come to a caller's home to fix or fit something; a delivery
// cue said of them is about their visit.
var visitors = map[string]bool{"engineer": true, "engineers": true, "technician": true, "fitter": true, "installer": true, "electrician": true, "plumber": true}

// visitBefore reports whether a visitor is named in the line before
// words[at].
func visitBefore(words []string, at int) bool {
	for i := 0; i < at; i++ {
		if visitors[words[i]] {
			return true
		}
	}
	return false
}

// phraseLen is how many of words, from the start, phrase covers there
// (a "*" covers the fewest words that let the rest match).
func phraseLen(words []string, phrase string) int {
	parts := strings.Split(phrase, "*")
	n := len(strings.Fields(parts[0]))
	for _, p := range parts[1:] {
		f := strings.Fields(p)
		for skip := 0; skip <= gapWords && n+skip+len(f) <= len(words); skip++ {
			if slices.Equal(words[n+skip:n+skip+len(f)], f) {
				n += skip + len(f)
				break
			}
		}
	}
	return n
}

// swearWords are left out of a line before its cues are read.
var swearWords = map[string]bool{
	"bloody": true, "damn": true, "damned": true, "effing": true, "fucking": true, "flipping": true, "sodding": true,
	"bleeding": true, "frigging": true, "freaking": true, "flaming": true, "blooming": true,
}

func withoutSwearing(words []string) []string {
	if !slices.ContainsFunc(words, func(w string) bool { return swearWords[w] }) {
		return words
	}
	return slices.DeleteFunc(slices.Clone(words), func(w string) bool { return swearWords[w] })
}

// wantWords say what a caller wants or is interested in; a negation before
// them denies the cue after ("I don't want to leave").
var wantWords = map[string]bool{
	"want": true, "wants": true, "need": true, "like": true, "interested": true, "looking": true, "planning": true,
	"wanting": true, "wanna": true, "after": true, "bothered": true,
}

// threatWords open the consequence of a threat when the caller follows
// them ("sort it or I'm leaving", "otherwise I want my money back"; not
// "exchange it or get a refund").
var threatWords = map[string]bool{"or": true, "otherwise": true, "else": true}

// firstPerson words follow threatWords in a threat.
var firstPerson = map[string]bool{"i": true, "im": true, "ill": true, "were": true, "well": true, "we": true, "id": true}

// deniedAt reports whether the cue at words[at] is denied (a negation
// before a want word up to it: "not interested in any offers", "I don't
// want to cancel"; set aside after it: "I can log in, that's not the
// problem") or threatened (after "or I…", "otherwise I…", or a
// negative "if" that asks nothing: "if it isn't fixed I'm leaving", "sorry
// if you can't hear me", but not "if it doesn't fit can I send it back").
func deniedAt(words []string, at int) bool {
	// "I can log in, that's not the problem": the cue set aside.
	if after := words[at+1 : min(len(words), at+8)]; hasPhrase(after, "not the problem") || hasPhrase(after, "not the issue") {
		return true
	}
	for j := at - 1; j >= 0 && j >= at-requestWindow-1; j-- {
		if threatWords[words[j]] && j+1 < len(words) && firstPerson[words[j+1]] {
			return true
		}
		if negators[words[j]] && slices.ContainsFunc(words[j+1:min(at+1, len(words))], func(w string) bool { return wantWords[w] }) {
			return true
		}
	}
	for j := at - 1; j >= 0; j-- {
		if words[j] != "if" {
			continue
		}
		between := words[j+1 : at]
		if !slices.ContainsFunc(between, func(w string) bool { return negators[w] }) && !(negators[words[at]] && len(between) <= 2) {
			return false // "sorry if you can't hear me": the cue's own negation, just after "if"
		}
		for k := 1; k < len(between); k++ {
			for _, p := range requestPairs {
				if between[k-1] == p[0] && between[k] == p[1] {
					return false
				}
			}
		}
		return true
	}
	return false
}

// phraseAt is where phrase starts in words (the first time), -1 when it
// is not there. A "*" in a phrase stands for up to gapWords words ("bring
// * back": "bring the coat back", "bring something i bought online
// back").
func phraseAt(words []string, phrase string) int {
	parts := strings.Split(phrase, "*")
	first := strings.Fields(parts[0])
	for i := 0; i+len(first) <= len(words); i++ {
		if slices.Equal(words[i:i+len(first)], first) && gapsMatch(words[i+len(first):], parts[1:]) {
			return i
		}
	}
	return -1
}

// gapWords is how many words a "*" of a cue may stand for.
const gapWords = 5

// gapsMatch reports whether words, from their start, hold each of parts in
// turn, each after at most gapWords others.
func gapsMatch(words []string, parts []string) bool {
	if len(parts) == 0 {
		return true
	}
	p := strings.Fields(parts[0])
	for skip := 0; skip <= gapWords && skip+len(p) <= len(words); skip++ {
		if slices.Equal(words[skip:skip+len(p)], p) && gapsMatch(words[skip+len(p):], parts[1:]) {
			return true
		}
	}
	return false
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
