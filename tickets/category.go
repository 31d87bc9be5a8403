package tickets

import (
	"slices"
	"strings"

	"github.com/contactd/contactd/transcript"
)

// IntentClassifier is the NLU as categorisation needs it: the IVR's
// classifier (ivr.Simple, ivr.Languages, ivr/llm).
type IntentClassifier interface {
	Classify(text string) (intent string, confidence float64)
}

// Categories with a meaning of their own to Categorize: a request for a
// person says nothing about the problem, and a complaint is what a call is
// about only when it is not about a concrete problem.
const (
	CategoryHuman     = "human"
	CategoryComplaint = "complaint"
)

// Categorize weighs.
const (
	// agentWeight: agents restate the problem in the business's words
	// ("I've refunded the duplicate payment"), which helps when the
	// caller's own words are vague, but they also say generic things
	// ("let me look at the account"), so they count half.
	agentWeight = 0.5
	// topicFloor is the summed evidence a concrete topic needs to beat a
	// caller's complaint or request for a person (one confident caller
	// line, or two agent ones).
	topicFloor = 0.5
	// replyWeight scales a line that says little (lowContent) and names
	// no topic: "oh ok never mind", "it's my work one" are answers and
	// acknowledgements whose few words the classifier reads too much into.
	// The caller's first line keeps its weight: it may be all they say
	// ("billing please").
	replyWeight = 0.25
	// feelingsFloor is the confidence the classifier needs in what an
	// angry line says besides its anger for that to be its topic.
	feelingsFloor = 0.3
	// complaintFloor is the caller's dissatisfaction a call needs to be a
	// complaint without asking to complain: more than a short retort
	// ("about time") at replyWeight.
	complaintFloor = 0.25
	// agentDealtFloor is the evidence the agent's own lines need for a
	// topic (a confident action, "I've refunded the duplicate payment")
	// to outweigh a caller's saying they want to complain, when the agent
	// records no complaint.
	agentDealtFloor = 0.5
	// complaintSaid is the complaint evidence of a caller's saying they
	// want to complain when the agent records no complaint.
	complaintSaid = 0.6
)

// Categorize picks the category of a call that has no IVR intent (an
// imported one) from the whole conversation, not from its single most
// confident line:
//
//   - each caller line adds its intent's confidence, each agent line half
//     of it;
//   - a request for a person is not a topic: the request is taken out and
//     the rest of the line classified ("I want to speak to someone about
//     my internet"); the human category is left only when nothing else
//     was said;
//   - anger is not a topic either: an angry caller with a concrete problem
//     ("this is ridiculous, you've overcharged me again") gets that
//     problem's category, and their priority says they are angry. A call
//     is a complaint when the caller says they want to complain and the
//     agent records or passes on a complaint ("I've logged your
//     complaint", "I'll pass that on"), or when the caller was
//     dissatisfied (saying they want to complain counts complaintSaid) and
//     no concrete topic has topicFloor of evidence: "I want to complain,
//     my broadband keeps dropping" … "I've reset the line" is the topic
//     the caller rang about and the agent dealt with. An agent who deals
//     with a topic (agentDealtFloor of evidence in the agent's own lines)
//     and records no complaint settles it for the topic; an agent who
//     records or passes on a complaint and deals with no topic settles it
//     for the complaint ("the delivery man was very rough with my
//     parcels" … "I'll feed that back to the delivery team");
//   - a line that names a topic unambiguously (topicCues: "I was
//     charged", "a second line", "I want to leave") adds cueWeight to it,
//     which settles what the classifier's vocabulary leaves open; cues
//     rank the topics but are not the concrete problem that beats a
//     complaint ("the engineer was rude" is about the engineer's manner),
//     and a line that names one topic gives it the classifier's
//     confidence whatever the classifier chose;
//   - a caller line the classifier calls a complaint is classified again
//     without its feelings (withoutFeelings), and counts for the topic
//     left when that names a thing and the classifier is feelingsFloor
//     sure ("the FOURTH time I've rung about this order"); a line about
//     how someone behaved ("so patronising") or giving feedback adds to
//     the complaint;
//   - a cue after a negated want or in a threat ("not interested in any
//     offers", "or I want my money back") is denied: neither it nor the
//     classifier's reading of the line counts for that topic; agents'
//     actions are cues too ("I've cancelled the order");
//   - a line that says little (lowContent: digits and single letters do
//     not count) and names no topic counts replyWeight of its weight,
//     unless it is the caller's first; a line the classifier takes for a
//     request for a person with no word of one is not;
//   - the category model (learned.go: naive Bayes over the call's words
//     and word pairs, trained on the dev conversations) adds its
//     posterior (none when every line says little, modelPosterior), up
//     to learnedWeight, to each category the configuration
//     has (a complaint's share to the complaint): it reads the phrasings
//     no cue was written for, and settles calls the rest leaves close;
//   - a caller who asked for a person is human when their call has less
//     than topicFloor of evidence said for a topic (the model's posterior
//     aside: it always names some topic), or when the model's evidence
//     that they wanted only a person (its posterior of human, times
//     learnedWeight) is more than any topic's ("can I talk to someone" …
//     "I'd rather explain to whoever it is"); that evidence also outweighs
//     a complaint that is only the classifier's reading of a vague line;
//   - an agent's line that only asks for the details that find the
//     caller's record ("can I take the order number") names no topic:
//     agents ask it on calls of every kind;
//   - an agent's apology counts for nothing while the call has a topic,
//     but a call with no topic at all and an agent apologising is a
//     complaint ("she put the phone down on me").
//
// Without any classified line it classifies the caller's words together.
// Cues apply to the categories clf lists (an Intents method), none when
// it lists none: CategorizeIn names them.
func Categorize(segs []transcript.Segment, clf IntentClassifier) string {
	var cats []string
	if l, ok := clf.(interface{ Intents() []string }); ok {
		cats = l.Intents()
	}
	return CategorizeIn(segs, clf, cats)
}

// CategorizeIn is Categorize with the configuration's categories (intent
// names), for the topic cues.
func CategorizeIn(segs []transcript.Segment, clf IntentClassifier, categories []string) string {
	return categorize(segs, clf, categories, model())
}

// categorize is CategorizeIn with the learned models l.
func categorize(segs []transcript.Segment, clf IntentClassifier, categories []string, l learned) string {
	known := make(map[string]bool, len(categories))
	for _, c := range categories {
		known[c] = true
	}
	topic := map[string]float64{}
	cued := map[string]float64{}
	var complaint, apology float64
	var explicit, human, heardCaller, logged, refused, demanded, byName bool
	agentTopic := map[string]float64{} // the topics the agent's lines name: what the agent dealt with
	var callerText []string
	callerTopic := map[string]float64{} // the topics the caller's own lines name
	askedAbout := false                 // the agent's line before asked what the call is about
	for _, s := range segs {
		if s.Speaker != transcript.Caller && s.Speaker != transcript.Agent {
			continue
		}
		caller := s.Speaker == transcript.Caller
		words := wordsOf(s.Text)
		if !caller {
			askedAbout = anyPhrase(words, askAboutPhrases)
		}
		if caller {
			callerText = append(callerText, s.Text)
			explicit = explicit || saysComplain(s.Text)
			refused = refused || anyPhrase(words, refusePhrases) || askedAbout && len(words) > 0 && (words[0] == "no" || words[0] == "nope")
			byName = byName || asksByName(words)
			demanded = demanded || demandsSenior(words) || byName
		}
		w := 1.0
		if !caller {
			w = agentWeight
		}
		named, denied := cues(words, known, !caller)
		// An agent asking for the details that find the record ("can I
		// take the order number", "the last four of the card on the
		// account?") or offering topics to choose from ("is this about an
		// order, billing, or technical support?") names no topic: agents
		// ask it on calls of every kind.
		noTopic := !caller && (asksForDetail(words) || offersChoice(words))
		if noTopic {
			named = nil
		}
		if len(named) == 0 && lowContent(words) && !(caller && !heardCaller) {
			w *= replyWeight
		}
		heardCaller = heardCaller || caller
		if !caller && recordsComplaint(words) {
			logged = true
		}
		var only string // the one topic the line names
		for cat, v := range named {
			cued[cat] += w * v
			if !caller {
				agentTopic[cat] += w * v
			} else {
				callerTopic[cat] += w * v
			}
			only = cat
		}
		if caller && (slices.ContainsFunc(withoutFeelings(words), func(w string) bool { return conduct[w] || w == "feedback" }) || anyPhrase(words, conductPhrases)) {
			complaint += w * cueWeight // "she was so patronising": how someone behaved; "some feedback"
		}
		in, c := clf.Classify(s.Text)
		if caller && len(named) == 0 && anyPhrase(words, conductPhrases) {
			in = CategoryComplaint // "your driver reversed into my wall": about the driver
		}
		if noTopic {
			in = ""
		}
		if denied[in] {
			in = "" // "I'm not interested in any offers" is not sales
		}
		if in == CategoryComplaint && caller && !explicit {
			// Anger is not a topic: what is left of the line without it
			// may name one ("the FOURTH time I've rung about this order"),
			// and then the anger is about that, when it is about a thing
			// (not "the service at your store").
			if rest := withoutFeelings(words); !lowContent(rest) && slices.ContainsFunc(rest, func(w string) bool { return things[w] }) {
				if in2, c2 := clf.Classify(strings.Join(rest, " ")); in2 != CategoryComplaint && in2 != CategoryHuman && in2 != "" && in2 != CategoryUnknown && !denied[in2] && c2 >= feelingsFloor {
					in, c = in2, c2
				}
			}
		}
		if len(named) == 1 && in != only && in != CategoryHuman && in != "" && in != CategoryUnknown && (caller || in != CategoryComplaint) {
			// The line names its topic: the classifier's confidence goes to
			// it ("you charged me, I want a refund" is billing; a caller
			// unhappy about a topic is that topic; an agent's apology
			// stays one, whatever it offers).
			in = only
		}
		if in == CategoryHuman && !asksForPerson(words) {
			in = "" // "customer number two six one nine": no person asked for
		}
		if in == CategoryHuman {
			human = human || caller
			rest := withoutPersonRequest(s.Text)
			if rest == "" {
				continue
			}
			if in, c = clf.Classify(rest); in == CategoryHuman {
				continue
			}
		}
		switch {
		case in == "" || in == CategoryUnknown:
		case in == CategoryComplaint:
			if caller { // an agent's apology is not the caller's complaint…
				complaint += w * c
			} else {
				apology += c
			}
		case len(known) > 0 && !known[in]:
			// A category the configuration lacks (CategorizeIn with fewer
			// categories than clf knows) is no answer.
		default:
			topic[in] += w * c
			if !caller {
				agentTopic[in] += w * c
			} else {
				callerTopic[in] += w * c
			}
		}
	}
	agentBest := 0.0
	for _, sc := range agentTopic {
		agentBest = max(agentBest, sc)
	}
	saidDealt := false // the caller said they want to complain, and the agent dealt with a topic
	if explicit && !logged && agentBest >= agentDealtFloor {
		// "I want to complain about my bill, there's a charge for calls I
		// never made" … "I've removed them and credited you": the caller
		// named a complaint but rang about the topic, which the agent
		// dealt with, recording no complaint.
		explicit = false
		saidDealt = true
	} else if logged && !explicit && agentBest < agentDealtFloor {
		// "the delivery gentleman was very rough with my parcels" … "I'll
		// feed that back to the delivery team": the agent took it as a
		// complaint and dealt with no topic.
		explicit = true
	} else if explicit && !logged {
		// Saying "complain" is strong evidence of a complaint but, when
		// the agent records none, not the last word: it counts
		// complaintSaid, and the topic the call was about can outweigh it
		// ("I want to complain, my tablet won't connect to the wifi" …
		// "try forgetting the network").
		explicit = false
		complaint += complaintSaid
	}
	for in, sc := range cued {
		topic[in] += sc
	}
	ruleBest := 0.0 // the evidence said for a topic, before the model's
	for _, sc := range topic {
		ruleBest = max(ruleBest, sc)
	}
	callerBest := 0.0 // of it, the caller's own
	for _, sc := range callerTopic {
		callerBest = max(callerBest, sc)
	}
	var person float64         // the model's evidence that a caller who asked for a person wanted only that
	var modelComplaint float64 // the model's P(complaint)
	ruleComplaint := complaint // the caller's dissatisfaction, as the rules heard it
	if saidDealt || logged && !explicit {
		// A complaint said or recorded is dissatisfaction the rules heard
		// even when the agent dealt with a topic ("I'm calling back about
		// your complaint about the installer" … "I've added a goodwill
		// credit"): the model, sure of a complaint, settles it.
		ruleComplaint += complaintSaid
	}
	for in, p := range modelPosterior(segs, known, l) {
		switch in {
		case CategoryHuman:
			if human {
				person = l.weight * p
			}
		case CategoryComplaint:
			complaint += l.weight * p
			modelComplaint = p
		default:
			topic[in] += l.weight * p
		}
	}
	bestScore := 0.0 // the evidence for a topic, against a complaint
	for _, sc := range topic {
		bestScore = max(bestScore, sc)
	}
	best, bestTotal := "", 0.0
	for in, sc := range topic {
		if sc > bestTotal || (sc == bestTotal && in < best) {
			best, bestTotal = in, sc
		}
	}
	switch {
	case (human || demanded) && refused && !explicit && (ruleBest < topicFloor || callerBest < topicFloor):
		// "i want your manager" … "no, i'm not explaining it again":
		// the caller will say what it is about only to the person they
		// asked for, so however angry, the call is for that person. What
		// the agent says meanwhile ("she's in from thursday morning")
		// names no topic of the caller's.
		return CategoryHuman
	case byName && !explicit && len(cued) == 0:
		// "he said to call back and ask for him, is he there": someone
		// asked for by name or rank, and no topic named by anyone.
		return CategoryHuman
	case explicit, complaint >= complaintFloor && bestScore < topicFloor && complaint >= person,
		ruleComplaint >= complaintFloor && modelComplaint >= l.complaintSure:
		return CategoryComplaint
	case human && (ruleBest < topicFloor || person > bestScore): // asked for a person, and said little else
		return CategoryHuman
	case best != "":
		return best
	case human:
		return CategoryHuman
	case apology > 0: // …but with no topic at all, it says the caller was unhappy
		return CategoryComplaint
	case len(callerText) > 0:
		if in, _ := clf.Classify(strings.Join(callerText, " ")); in != "" && (len(known) == 0 || known[in] || in == CategoryUnknown) {
			return in
		}
	}
	return CategoryUnknown
}

// modelPosterior is the category model's posterior for a call, or none
// when no line of it says anything (lowContent: "hmm"): the model always
// names some category, and on a word or two it names whichever category's
// calls happened to use them.
func modelPosterior(segs []transcript.Segment, known map[string]bool, l learned) map[string]float64 {
	for _, s := range segs {
		if (s.Speaker == transcript.Caller || s.Speaker == transcript.Agent) && !lowContent(wordsOf(s.Text)) {
			return l.topicPosterior(segs, known)
		}
	}
	return nil
}

// conductPhrases tell how a driver or an engineer behaved, in more than
// a word (conduct): damage done on the way is a complaint about them,
// not about the order ("your driver reversed into my wall and drove off").
var conductPhrases = []string{
	"reversed into", "drove into", "crashed into", "backed into", "drove over", "drove off", "drove away",
	"threw my", "threw the", "threw it", "kicked my", "kicked the",
}

// detailWords name the details an agent asks for to find a caller's
// record; askWords are the rest of such a question.
var (
	detailWords = map[string]bool{
		"order": true, "account": true, "customer": true, "reference": true, "number": true, "postcode": true,
		"name": true, "surname": true, "date": true, "birth": true, "email": true, "address": true, "phone": true,
		"mobile": true, "details": true, "first": true, "line": true, "full": true,
		"zip": true, "code": true, "dob": true, "last": true, "four": true, "digits": true, "card": true, "bank": true,
	}
	askWords = map[string]bool{
		"can": true, "could": true, "may": true, "i": true, "take": true, "have": true, "get": true, "whats": true,
		"what": true, "is": true, "your": true, "the": true, "please": true, "thanks": true, "thank": true, "you": true,
		"of": true, "and": true, "confirm": true, "give": true, "me": true, "just": true, "ok": true, "okay": true,
		"sure": true, "sorry": true, "to": true, "hear": true, "that": true, "let": true, "look": true, "at": true,
		"for": true, "it": true, "on": true, "an": true, "a": true, "so": true, "right": true, "no": true, "problem": true,
		"with": true, "do": true, "know": true, "tell": true, "read": true, "out": true, "or": true, "which": true,
		"start": true, "begin": true, "calling": true, "verify": true, "grab": true, "need": true, "lets": true,
	}
)

// asksForDetail reports whether an agent's line only asks for the
// details that find a caller's record ("can I take the order number
// please", "and your zip code?", "the last four of the card on the
// account?"): agents ask it on calls of every kind, so it names no topic.
func asksForDetail(words []string) bool {
	asked := false
	for _, w := range words {
		switch {
		case w == "number" || w == "postcode" || w == "reference" || w == "birth" || w == "zip" || w == "dob" || w == "last":
			asked = true
		case detailWords[w] || askWords[w] || smallTalk[w]:
		default:
			return false
		}
	}
	return asked
}

// choicePhrases open an agent's list of topics for the caller to choose
// from.
var choicePhrases = []string{"for example", "such as", "is this about", "is it about", "is that about", "is this for",
	"is it for", "is this to do with", "is it to do with", "are you calling about", "are you ringing about"}

// examplePhrases give the caller an example of what to say, with or
// without another.
var examplePhrases = []string{"say things like", "you can say", "try saying"}

// offersChoice reports whether an agent's line offers the caller topics
// to choose from ("is this about an order, billing, or technical
// support?", the IVR's "for example, check order status, or pay my
// bill"): it names no topic of the call, whichever it lists. The "or"
// must come after the phrase that opens the list.
func offersChoice(words []string) bool {
	if anyPhrase(words, examplePhrases) {
		return true // the IVR's "you can say things like 'track my order'"
	}
	for _, p := range choicePhrases {
		if k := phraseAt(words, p); k >= 0 && slices.Contains(words[k:], "or") {
			return true
		}
	}
	return false
}

// things are what a call about a concrete problem is about: a caller angry
// about one of them has that problem; one angry about the service, the
// staff or the company has a complaint.
var things = map[string]bool{
	"order": true, "orders": true, "parcel": true, "parcels": true, "package": true, "delivery": true, "item": true,
	"items": true, "stuff": true, "goods": true, "bill": true, "bills": true, "invoice": true, "charge": true,
	"charges": true, "payment": true, "payments": true, "refund": true, "money": true, "internet": true,
	"broadband": true, "wifi": true, "router": true, "modem": true, "signal": true, "connection": true, "tv": true,
	"cable": true, "landline": true, "phone": true, "mobile": true, "password": true, "login": true, "account": true,
	"contract": true, "subscription": true, "plan": true, "tariff": true, "return": true, "returns": true,
	"laptop": true, "fridge": true, "sofa": true, "tracking": true, "courier": true, "box": true, "speed": true,
}

// recordsComplaint reports whether an agent's line records or passes on
// a complaint ("I've logged a complaint", "I'll pass that on to his
// manager", "I've put your feedback through"): what the agent did was
// about the complaint, whatever topic it names.
func recordsComplaint(words []string) bool {
	for _, w := range words {
		if strings.HasPrefix(w, "complain") || w == "feedback" {
			return true
		}
	}
	return anyPhrase(words, passOnPhrases)
}

// passOnPhrases pass a caller's complaint to someone.
var passOnPhrases = []string{"pass it on", "pass that on", "pass this on", "passed it on", "passed that on", "pass it to", "pass that to", "passed it to", "passed that to", "pass it back to", "feed that back", "feed it back", "report it to", "report this to", "report that to", "reported it to",
	// a claim for damage done is a complaint logged: "i've logged a damage claim … our claims team will call you"
	"damage claim", "claims team"}

// saysComplain reports whether a caller asks to complain ("I want to make
// a complaint", "I'm calling to complain", "to register my
// dissatisfaction").
func saysComplain(text string) bool {
	for _, w := range wordsOf(text) {
		if strings.HasPrefix(w, "complain") || w == "dissatisfaction" {
			return true
		}
	}
	return false
}

// askAboutPhrases are an agent's question what the call is about; a
// caller's "no" to it refuses to say.
var askAboutPhrases = []string{"what its about", "what it is about", "what its regarding", "what it is regarding",
	"whats it about", "whats it regarding", "what this is about", "what this is regarding", "what its concerning",
	"what youre calling about", "what you are calling about", "tell me a bit more", "tell me a little more"}

// refusePhrases are a caller's refusal to say what the call is about to
// anyone but the person they asked for, or their leaving before they say
// it ("i'll ring back later", "i've forgotten why i called").
var refusePhrases = []string{"not explaining", "no details", "not going through it", "not going over it",
	"dont want to explain", "rather not say", "rather not explain", "rather just talk to", "rather just speak to",
	"ill explain to them", "ill explain to him", "ill explain to her", "not telling you", "just put me through",
	"not telling it", "will not tell", "wont tell you", "not repeating it", "ive explained it", "ive explained this", "already explained",
	"speak with him directly", "speak with her directly", "speak to him directly", "speak to her directly", "prefer to discuss",
	"private matter", "rather just talk to her", "rather just talk to him", "not repeating myself", "not saying it again", "not going through this",
	// or leaves before saying it
	"ring back later", "call back later", "ring you back later", "ill ring back", "ill call back", "ill phone back",
	"rather wait for her", "rather wait for him", "ill try her then", "ill try him then",
	"wait till she calls", "wait till he calls", "wait for her to call", "wait for him to call", "forgotten why i called",
	"forgotten why i rang"}

// demandsSenior reports whether a caller's words ask for someone senior
// ("get me your manager", "put me through to a supervisor", "i want
// someone senior"), which the classifier may read as a complaint when
// said angrily.
func demandsSenior(words []string) bool {
	senior := slices.ContainsFunc(words, func(w string) bool { return w == "manager" || w == "supervisor" }) ||
		anyPhrase(words, []string{"team leader", "someone senior", "somebody senior"})
	return senior && slices.ContainsFunc(words, func(w string) bool {
		return w == "want" || w == "get" || w == "getting" || w == "put" || w == "speak" || w == "talk" || w == "through" || w == "need" || w == "now"
	})
}

// personWords ask for a person rather than say what about.
var personWords = map[string]bool{
	"speak": true, "talk": true, "someone": true, "somebody": true, "person": true, "human": true, "agent": true,
	"representative": true, "operator": true, "real": true, "live": true, "actual": true, "rep": true, "anyone": true,
}

// asksForPerson reports whether words have a word of a request for a
// person ("someone", "agent", "human"), without which a line the
// classifier takes for one is not.
func asksForPerson(words []string) bool {
	for _, w := range words {
		if personWords[w] || personWords[strings.TrimSuffix(w, "s")] || personAsks[w] {
			return true
		}
	}
	return anyPhrase(words, []string{"customer service", "customer services", "customer care", "put me through", "transfer me", "connect me", "none of those"})
}

// asksByName reports whether words ask for someone by name ("is priya
// there please"), not whether a thing is there ("is it there").
func asksByName(words []string) bool {
	for i := 0; i+2 < len(words); i++ {
		if words[i] == "is" && words[i+2] == "there" && !notSomeone[words[i+1]] {
			return true
		}
	}
	// "is there a tanisha on your team … she said to ask for her"
	return anyPhrase(words, []string{"ask for her", "ask for him", "asked for her", "asked for him", "on your team", "still work there", "still works there",
		"asked me to call her", "asked me to call him", "told me to call her", "told me to call him", "asked me to ring her", "asked me to ring him",
		"was dealing with", "been dealing with", "was handling my", "handling my case", "speak with mister", "speak with mr", "speak with mrs", "speak with ms"})
}

// notSomeone are the words between "is" and "there" that ask whether a
// thing is there, not a person ("is it there", "is that there").
var notSomeone = map[string]bool{"it": true, "that": true, "this": true, "something": true, "anything": true,
	"nothing": true, "everything": true, "the": true, "a": true, "an": true, "one": true, "stock": true, "room": true,
	"there": true, "not": true, "still": true, "really": true, "much": true, "more": true, "any": true, "some": true,
	"my": true, "your": true, "he": true, "she": true, "signal": true, "power": true, "internet": true, "wifi": true}

// personAsks are words of a request for a person that are not
// personWords because they are more than that request.
var personAsks = map[string]bool{"advisor": true, "adviser": true, "manager": true, "supervisor": true, "staff": true, "people": true, "being": true, "man": true, "woman": true, "lady": true, "guy": true, "team": true, "department": true, "menu": true, "machine": true, "robot": true, "recording": true}

// withoutPersonRequest is text without the words of a request for a
// person; "" when nothing else is left.
func withoutPersonRequest(text string) string {
	var keep []string
	content := false
	for _, w := range wordsOf(text) {
		if personWords[strings.TrimSuffix(w, "s")] || personWords[w] {
			continue
		}
		keep = append(keep, w)
		if !fillerWords[w] {
			content = true
		}
	}
	if !content {
		return ""
	}
	return strings.Join(keep, " ")
}

// fillerWords carry no topic.
var fillerWords = map[string]bool{
	"i": true, "want": true, "to": true, "a": true, "an": true, "the": true, "can": true, "could": true, "please": true,
	"need": true, "id": true, "like": true, "with": true, "me": true, "put": true, "through": true, "just": true,
	"hi": true, "hello": true, "yes": true, "no": true, "ok": true, "okay": true, "may": true, "let": true, "get": true,
}

// ackWords, with smallTalk, are the words of answers and acknowledgements.
var ackWords = map[string]bool{
	"never": true, "mind": true, "lovely": true, "perfect": true, "brilliant": true, "cheers": true, "fine": true,
	"sorry": true, "sounds": true, "lets": true, "do": true, "go": true, "ahead": true, "got": true, "done": true,
	"one": true, "cool": true, "wonderful": true, "excellent": true, "much": true, "very": true, "then": true,
	"will": true, "ill": true, "we": true, "were": true, "be": true, "was": true, "all": true, "just": true,
}

// lowContent reports whether a line has fewer than three words beyond
// small talk, acknowledgements, digits and single letters (a number or a
// postcode read out: "customer number two six one nine four four").
func lowContent(words []string) bool {
	n := 0
	for _, w := range words {
		if !smallTalk[w] && !ackWords[w] && !numberWord(w) && !isOh(w) && len(w) > 1 {
			n++
		}
	}
	return n < 3
}
