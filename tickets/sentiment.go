package tickets

import (
	"slices"
	"strings"
	"unicode"

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
	"upset": -1.5, "unhappy": -1.5, "disappointed": -1.5, "disappointing": -0.75,
	"ridiculous": -2, "unacceptable": -2, "terrible": -2, "awful": -2, "horrible": -2,
	"useless": -2, "rubbish": -2, "worst": -2.5, "disgusting": -2.5, "disgrace": -2.5,
	"pathetic": -2, "incompetent": -2, "joke": -1, "bad": -1, "poor": -1, "wrong": -0.5,
	"broken": -0.5, "problem": -0.25, "issue": -0.25, "waste": -1.5, "sick": -1,
	"fed up": -2, "sick of": -2, "had enough": -2, "not good enough": -2,
	"complain": -1, "complaint": -1, "never again": -2, "waiting for weeks": -1.5,
	"again and again": -1.5, "nobody": -0.5, "rude": -2, "hate": -2,
	"stupid": -2, "sue": -2, "lawyer": -1.5,
	"appalling": -2.5, "atrocious": -2.5, "shocking": -2, "diabolical": -2.5, "shambles": -2, "shambolic": -2,
	"disgraceful": -2.5, "scandalous": -2.5, "livid": -2.5, "fuming": -2.5, "seething": -2.5, "irate": -2,
	"nightmare": -1.5, "hopeless": -1.5, "clueless": -1.5, "junk": -1.5, "unbelievable": -1.5, "beyond a joke": -2,
	"a joke": -1.5, "last straw": -2, "sick and tired": -2.5, "fobbed off": -2, "messed about": -1.5,
	"mucked about": -1.5, "messing me about": -2, "nothing but problems": -2, "nothing but trouble": -2,
	"good riddance": -2, "rip off": -2, "ripped off": -2, "scam": -2, "daylight robbery": -2.5, "liars": -2,
	"lied to": -2, "lying": -1.5, "nobody listens": -2, "no one listens": -2, "nobody cares": -2,
	"nobody can tell me": -1.5, "no one can tell me": -1.5, "had it with": -2, "ive had it": -2,
	"had it up to here": -2.5, "hacked off": -2, "cheesed off": -2, "gutted": -1, "infuriating": -2.5,
	// politeness and hedges: a calm caller's strong word that is not
	// aimed at anyone ("I hate to bother you", "annoyed with myself", "a
	// bit frustrating") counts little or nothing
	"hate to bother": 0, "waste your time": 0, "wasting your time": 0, "hate to be": 0, "sorry to bother": 0, "annoyed with myself": -0.25,
	"frustrated with myself": -0.25, "my own fault": 0, "a bit frustrating": -0.5, "a bit annoying": -0.5,
	"slightly annoying": -0.5, "bit of a nightmare": -0.5, "bit of a pain": -0.5, "a little frustrating": -0.5,
	"impressed": 1, "acceptable": 0.5, "patronising": -2, "patronizing": -2, "condescending": -2, "dismissive": -1.5,
	"unhelpful": -1.5, "unprofessional": -2, "unreal": -1, "wasted": -1.5, "waste of time": -2,
	"how many times": -1.5, "every time i call": -1.5, "every time i ring": -1.5,
	// indignation said without an angry word
	// a thing said to be useless ("upstairs in the kids' rooms it's
	// useless") is a thing not working, not "you're useless" or "your
	// system is useless"
	"its useless": -1,
	// a scam by others (a scam call, text or email the caller fell for)
	// is no accusation of the company ("this is a scam")
	"scam call": 0, "scam calls": 0, "scam missed": 0, "scam text": 0, "scam texts": 0, "scam email": 0,
	"scam emails": 0, "scam message": 0, "scam messages": 0, "scam number": 0,
	"outrageous": -2.5, "this is a joke": -1, "why on earth": -2, "how dare": -2.5, "youd better": -1.5, "you had better": -1.5, "youd better not": -1.5,
}

// outbursts are what an angry caller says besides how they feel:
// swearing, threats to leave or to go over the company's head. Unlike the
// lexicon's words a negation does not turn them round ("i'm not bloody
// happy" is no praise of anything), and a "*" stands for a few words.
var outbursts = map[string]float64{
	// sarcasm at what the company does: "right of course you do", "how
	// convenient", "it's quite something really"
	"of course you do": -1.5, "of course you did": -1.5, "of course it is": -1, "how convenient": -1.5,
	"funny that": -1, "quite something": -1, "actually * this time": -1.5,
	// swearing, and what recognisers write for it
	"bloody": -1.5, "damn": -1.5, "damned": -1.5, "dammit": -1.5, "crap": -1.5, "crappy": -1.5, "shit": -2,
	"shite": -2, "bullshit": -2.5, "fuck": -2.5, "fucking": -2.5, "effing": -2.5, "pissed": -2,
	"piss": -2, "sodding": -1.5, "bleeding ridiculous": -2, "what the hell": -2, "the hell is": -2,
	"where the hell": -2, "why the hell": -2, "for gods sake": -2, "for crying out loud": -2,
	"oh my god": -1, "expletive": -2, "profanity": -2, "bleep": -1.5,
	// disbelief at what the caller is told
	"are you kidding": -2, "you kidding me": -2, "youre kidding me": -2, "got to be kidding": -2, "gotta be kidding": -2,
	// threats to leave
	"take my business elsewhere": -2, "taking my business elsewhere": -2, "go elsewhere": -1.5,
	"going elsewhere": -1.5, "ill * elsewhere": -1.5, "off to another": -1.5, "going to another": -1.5,
	"move to another": -1.5, "moving to another": -1.5, "switch to another": -1.5, "ill switch": -1.5,
	"ill be switching": -1.5, "ill just switch": -1.5, "ill leave you": -1.5, "ill be leaving": -1.5,
	"or im leaving": -2, "then im leaving": -2, "or ill leave": -2, "im leaving": -0.75, "ill cancel": -0.75,
	"or ill cancel": -2, "then ill cancel": -1.5,
	// going over the company's head
	"report you": -2, "trading standards": -2, "ombudsman": -2, "social media": -1, "bad review": -1.5,
	"speak to a manager": -1, "speak to your manager": -1, "get me a manager": -1.5, "want a manager": -1,
	"supervisor": -0.5, "escalated": -0.5, "compensation": -0.5, "i want it in writing": -1,
	"you said that last time": -1.5, "thats what you said": -1.5, "thats what they said": -1.5,
	"heard that before": -1.5, "heard that one before": -1.5, "how hard is it": -1.5, "how hard can it be": -1.5,
	"im not being funny": -1, "a con": -1.5, "complete con": -2, "paying me for my time": -1.5, "losing my mind": -2,
	"losing the will": -2, "driving me mad": -0.75, "driving me crazy": -0.75, "doing my head in": -1, "on hold * minutes": -1, "on hold * hour": -1.5, "on hold for ages": -1.5,
	"about time": -1, "passed around": -1.5, "pushed from pillar to post": -2, "pillar to post": -2, "dont give me": -1.5, "you expect me to": -1.5, "believe it when i see it": -1.5, "different story": -1.5,
	"three different things": -1.5, "different answer every time": -2, "in a row": -0.5,
	"end of my rope": -2, "end of my tether": -2, "wits end": -2, "nothing has changed": -1, "nothings changed": -1,
	"every single": -0.5, "shouldnt have taken": -1, "how is that acceptable": -2, "how is that fair": -1.5,
	// more of going over the company's head, telling the world, and
	// turning on the agent
	"regulator": -2, "ofcom": -2, "small claims": -2, "legal action": -2, "solicitor": -1.5, "chargeback": -1.5,
	"reverse the payment": -1.5, "review site": -1.5, "review sites": -1.5, "every review": -1.5, "online reviews": -1.5,
	"post it online": -1.5, "put it online": -1.5, "going online": -1, "telling everyone": -1.5, "tell everyone": -1.5,
	"recording this call": -1.5, "reading from a script": -2, "read from a script": -2, "calling me a liar": -2,
	"dont be sorry": -1.5, "you people": -1.5, "done with you": -2, "this close to": -1.5,
	// having done one's part already, and the company not its own
	"shouldnt have to": -1.5, "shouldve been done": -1, "should have been done": -1, "ive done all that": -1.5,
	"ive done everything": -1.5, "ive tried everything": -1.5, "ive already done that": -1.5,
	// restraint announced and formal fury: a caller who says they will
	// stay polite or calm is telling the agent they are not ("I'll be
	// polite, but I'm extremely frustrated", "I'll keep this brief and
	// civil", "i'm going to try and stay calm"), and the formal forms of
	// disbelief and demands ("with the greatest respect, an apology isn't
	// sufficient", "I'll hold you to the five days", "I expect to hear
	// back", "you've got to be joking")
	"ill be polite": -1.5, "ill try to be polite": -1.5, "ive been polite": -1.5, "im being polite": -1.5,
	"ill keep this * civil": -1.5, "keep it civil": -1.5, "stay calm": -1.5, "keep calm": -1.5,
	"with the greatest respect": -2, "with all due respect": -2, "isnt sufficient": -1.5, "not sufficient": -1.5,
	"hold you to": -1, "i expect to hear": -1, "i expect an apology": -1.5, "hardly my fault": -1.5,
	"got to be joking": -2, "must be joking": -2, "have to be joking": -2,
	// rhetorical questions and pointed remarks about the company ("what's
	// the point of a fixed contract if it's not fixed", "does anyone there
	// actually talk to each other", "so which is it?", "you did that last
	// time"), a contract the caller did not sign up to, and a flare
	// apologised for to the agent ("sorry, I'm not having a go at you
	// personally": at the company, then)
	"whats the point": -1.5, "didnt sign up to": -1.5, "didnt sign up for": -1.5, "anyone actually": -1.5,
	"anyone there actually": -1.5, "talk to each other": -1.5, "which is it": -1.5, "you did that last time": -1.5,
	"you did all that last time": -1.5, "not having a go at you": -1.5,
}

// repeatOrdinals say how many times a caller has been through something:
// "the third time I'm calling".
var repeatOrdinals = map[string]float64{
	"second": -1, "third": -1.5, "fourth": -1.5, "fifth": -1.5, "sixth": -1.5, "seventh": -1.5, "eighth": -1.5,
	"ninth": -1.5, "tenth": -1.5, "umpteenth": -2, "hundredth": -2, "millionth": -2, "nth": -2,
}

// repeatUnits follow repeatOrdinals: "the third time", "the second month
// in a row", "my fourth call".
var repeatUnits = map[string]bool{
	"time": true, "month": true, "week": true, "call": true, "day": true, "year": true, "visit": true, "attempt": true,
	"bill": true, "engineer": true, "technician": true,
}

// repeatCounts with "times" and a call ("i've rung three times") say the
// same.
var repeatCounts = map[string]bool{
	"two": true, "three": true, "four": true, "five": true, "six": true, "seven": true, "eight": true,
	"nine": true, "ten": true, "twenty": true, "several": true, "multiple": true, "many": true, "numerous": true,
	"countless": true, "dozen": true, "2": true, "3": true, "4": true, "5": true, "6": true,
}

// callWords are calls and chasing.
var callWords = map[string]bool{
	"called": true, "call": true, "calling": true, "rung": true, "rang": true, "ring": true, "ringing": true,
	"phoned": true, "phone": true, "phoning": true, "chased": true, "chasing": true, "contacted": true,
	"emailed": true, "spoken": true, "spoke": true, "complained": true, "told": true, "asked": true, "explained": true,
}

// acronyms in capitals are not shouting.
var acronyms = map[string]bool{
	"TV": true, "SIM": true, "PIN": true, "ISP": true, "USB": true, "DVD": true, "BBC": true, "ATM": true, "CEO": true,
	"UK": true, "USA": true, "SMS": true, "VAT": true, "ID": true, "OK": true, "HDMI": true, "WIFI": true, "PDF": true,
	"IP": true, "DSL": true, "ADSL": true, "VOIP": true, "APP": true, "IT": true, "PC": true, "MAC": true, "NHS": true,
	"GB": true, "MB": true, "CVV": true, "IBAN": true, "BT": true, "EE": true, "HD": true, "UHD": true, "DM": true,
	"ASAP": true, "PM": true, "AM": true,
}

// shouted scores a line's capitals, when the transcript writes in lower
// case too: a word of three or more capitals that is not an acronym is
// raised, a line most of whose words are is shouted.
func shouted(text string) float64 {
	n, caps := 0, 0
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' && r != '’' }) {
		n++
		letters, upper := 0, 0
		for _, r := range f {
			if unicode.IsLetter(r) {
				letters++
				if unicode.IsUpper(r) {
					upper++
				}
			}
		}
		if letters >= 3 && upper == letters && !acronyms[strings.ToUpper(strings.Trim(f, "'’"))] {
			caps++
		}
	}
	switch {
	case caps >= 3 && 2*caps >= n:
		return -2
	case caps > 0:
		return -1
	}
	return 0
}

// hasLower reports whether text has a lower-case letter.
func hasLower(text string) bool { return strings.IndexFunc(text, unicode.IsLower) >= 0 }

// repeated scores a caller saying how often they have been through this:
// "the third time", "i've rung five times".
func repeated(words []string) float64 {
	v := 0.0
	for i, w := range words {
		if i+1 < len(words) && repeatUnits[words[i+1]] {
			v = min(v, repeatOrdinals[w])
		}
		if w == "calls" && i > 0 && repeatCounts[words[i-1]] {
			v = min(v, -1.5)
		}
		if w == "times" && i > 0 && repeatCounts[words[i-1]] {
			for _, x := range words {
				if callWords[x] {
					v = min(v, -1.5)
					break
				}
			}
		}
	}
	return v
}

// angerStems score the words they begin that the lexicon does not have,
// so that its words' other forms count too ("disgusted", "infuriating",
// "appalled").
var angerStems = []struct {
	stem  string
	score float64
}{
	{"disgust", -2.5}, {"furious", -2.5}, {"infuriat", -2.5}, {"outrag", -2.5}, {"appal", -2.5}, {"annoy", -1.5},
	{"frustrat", -1.5}, {"irritat", -1.5}, {"aggravat", -1.5}, {"exasperat", -2}, {"ridicul", -2}, {"unaccept", -2},
	{"incompet", -2}, {"pathetic", -2}, {"useless", -2}, {"shambl", -2}, {"disgrac", -2.5}, {"horrend", -2.5},
	{"horrif", -2}, {"atroc", -2.5}, {"abysmal", -2.5}, {"dreadful", -2}, {"diabolic", -2.5}, {"scandal", -2},
	{"heartless", -2}, {"harass", -2}, {"embarrass", -1}, {"humiliat", -2}, {"insult", -2}, {"ludicrous", -2},
	{"absurd", -2}, {"laughabl", -2}, {"farce", -2}, {"fiasco", -2}, {"sicken", -2}, {"unbeliev", -1.5},
	{"inexcus", -2.5}, {"unforgiv", -2}, {"shock", -2}, {"rubbish", -2}, {"awful", -2}, {"terribl", -2},
}

// stemScore is the score of the anger stem w begins with, 0 when none.
func stemScore(w string) float64 {
	for _, s := range angerStems {
		if strings.HasPrefix(w, s.stem) {
			return s.score
		}
	}
	return 0
}

// negators flip the polarity of a sentiment word within the next three
// words: "not happy" is negative, "not bad" mildly positive.
var negators = map[string]bool{
	"not": true, "no": true, "never": true, "dont": true, "didnt": true, "doesnt": true,
	"isnt": true, "wasnt": true, "arent": true, "werent": true, "cant": true, "cannot": true,
	"wont": true, "hardly": true, "nothing": true, "havent": true, "hasnt": true, "aint": true,
}

const negationWindow = 3

// clauseOpeners after "no" start a clause of their own, which the "no"
// does not negate: "no that's great thanks", "no it's fine", "no i'm
// happy with that" answer a question ("anything else?").
var clauseOpeners = map[string]bool{
	"thats": true, "its": true, "im": true, "i": true, "were": true, "ive": true, "youve": true, "youre": true,
	"that": true, "it": true, "this": true, "all": true, "everything": true, "well": true,
}

// calmMarks are a caller saying, in the line of a strong word, that they
// are not upset or not in a hurry, or laughing it off: "the bill is a
// nightmare to read but no hurry", "it's hideous haha". In such a line
// the lexicon's negative words count calmFactor of their score: they are
// about a thing, not the caller's temper. Outbursts and repeat counts
// keep their weight ("the third time, but no rush" is no calm caller).
var calmMarks = []string{
	"no rush", "no hurry", "not urgent", "not in a hurry", "in no hurry", "not in any hurry", "no stress",
	"not bothered", "not cross", "not angry", "not annoyed", "not upset", "not complaining", "not your fault",
	"haha", "ha ha", "lol", "hilarious", "whenever you can", "when you get a chance", "when you can",
	"but its fine", "but thats fine", "not a big deal", "no big deal", "i dont mind", "dont worry",
	"not you lot", "not at you", "not you guys", "not aimed at you", "not having a go at you",
}

// sarcasmMarks turn a line's calm marks round: "no rush, take your time,
// it's only been five weeks", "don't worry, it's not like I need the
// money" are sarcasm, which scores sarcasmScore.
var sarcasmMarks = []string{"take your time", "its not like", "only been", "only my", "i suppose", "not that i"}

// calmFactor is what a negative lexicon word counts in a calm line;
// sarcasmScore is a line's calm marks turned round by sarcasm, a very
// negative start on its own (veryNegativeAt).
const (
	calmFactor   = 0.25
	sarcasmScore = 2 * negativeAt
)

// calmLine reports whether words say the caller is calm about what they
// say (calmMarks), and whether the calm is sarcasm (sarcasmMarks).
func calmLine(words []string) (calm, sarcastic bool) {
	has := func(p string) bool { return phraseAt(words, p) >= 0 }
	if !slices.ContainsFunc(calmMarks, has) {
		return false, false
	}
	if slices.ContainsFunc(sarcasmMarks, has) {
		return false, true
	}
	return true, false
}

// managerAsked are the outbursts that ask for a manager, and
// politeHedges the words that make such a request a polite one ("i'd
// rather just speak to a manager if that's possible"): it counts
// calmFactor. "please" is no such hedge: an angry caller says it too.
var (
	managerAsked = map[string]bool{"speak to a manager": true, "speak to your manager": true, "want a manager": true}
	politeHedges = []string{"if thats possible", "if its possible", "if possible", "if thats ok", "if thats okay", "if you dont mind"}
)

// ultimatumUnits are the spans of time a caller gives the company.
var ultimatumUnits = map[string]bool{"minutes": true, "hours": true, "days": true, "hour": true, "day": true, "week": true, "weeks": true}

// ultimatumScore is a caller giving the company a deadline (ultimatum).
const ultimatumScore = -1.5

// ultimatum scores a caller giving the company a deadline: "you've got"
// or "you have", up to three number words and a span of time, then
// nothing more, "then" or "or" ("you've got forty eight hours then",
// "you have two days or i'm going to the ombudsman"); not terms read out
// ("you've got thirty days to return it").
func ultimatum(words []string) float64 {
	for i := 0; i+2 < len(words); i++ {
		if !(words[i] == "youve" && words[i+1] == "got" || words[i] == "you" && words[i+1] == "have") {
			continue
		}
		j := i + 2
		for j < len(words) && j-i-2 < 3 && numberWord(words[j]) {
			j++
		}
		if j == i+2 || j >= len(words) || !ultimatumUnits[words[j]] {
			continue
		}
		if j+1 == len(words) || words[j+1] == "then" || words[j+1] == "or" {
			return ultimatumScore
		}
	}
	return 0
}

// faultNoises are what a strong word said just before them describes, a
// fault the caller hears or smells ("a horrible crackle on it like bacon
// frying", "an awful buzzing noise"): it counts calmFactor, as in a calm
// line.
var faultNoises = map[string]bool{
	"noise": true, "noises": true, "crackle": true, "crackling": true, "buzz": true, "buzzing": true, "hum": true,
	"humming": true, "hiss": true, "hissing": true, "echo": true, "static": true, "interference": true,
	"rattle": true, "rattling": true, "whine": true, "whining": true, "screech": true, "squeal": true,
	"squealing": true, "beeping": true, "smell": true, "sound": true,
}

// hedgeFactor is what an outburst counts said after "bit of" ("a bit of
// a con"), as the lexicon's "bit of a nightmare" counts a third of
// "nightmare": a grumble, not a temper.
const hedgeFactor = 1.0 / 3

// formalIntensifiers before a negative word are how a polite, formal
// caller says how angry they are ("I'll be polite, but I'm extremely
// frustrated", "I'm deeply unhappy"): the word counts formalFactor.
// ("really" and "so" stay plain: everyone says them.)
var formalIntensifiers = map[string]bool{"extremely": true, "deeply": true, "utterly": true, "thoroughly": true, "incredibly": true, "profoundly": true}

const formalFactor = 1.5

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
	caseful := caseful(tr)
	for _, s := range tr.Segments {
		if s.Speaker == transcript.Caller {
			score += lineScore(s.Text, caseful)
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

// sentimentScore scores one line, its capitals as shouting when it has
// lower case letters too.
func sentimentScore(text string) float64 { return lineScore(text, hasLower(text)) }

// lineScore scores one line: the lexicon, outbursts, repeats and, when
// caseful (the transcript writes in lower case, so capitals are
// emphasis), shouting.
func lineScore(text string, caseful bool) float64 {
	toks := tokens(text)
	words := make([]string, len(toks))
	for i, t := range toks {
		words[i] = t.text
	}
	var score float64
	calm, sarcastic := calmLine(words)
	if sarcastic {
		score += sarcasmScore
	}
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
			if v = stemScore(words[i]); v == 0 {
				continue
			}
			n = 1
		}
		for j := i - 1; j >= 0 && j >= i-negationWindow; j-- {
			if words[j] == "no" && clauseOpeners[words[j+1]] {
				break // "no that's great thanks": an answer, then a clause of its own
			}
			if negators[words[j]] {
				if v > 0 {
					v = -v * 1.5 // "not happy" is stronger than "happy"
				} else {
					v = -v * 0.5 // "not bad" is faint praise
				}
				break
			}
		}
		if v < 0 && i > 0 && formalIntensifiers[words[i-1]] {
			v *= formalFactor // "I'm extremely unhappy"
		}
		if calm && v < 0 || v < 0 && i+n < len(words) && faultNoises[words[i+n]] || v < 0 && aimedElsewhere(toks, text, i) {
			v *= calmFactor // "a horrible crackle on the line": a fault, not a temper; "my bloody dog"
		}
		score += v
		i += n - 1
	}
	for p, v := range outbursts {
		if k := phraseAt(words, p); k >= 0 {
			if k >= 2 && words[k-2] == "bit" && words[k-1] == "of" || k >= 3 && words[k-3] == "bit" && words[k-2] == "of" && words[k-1] == "a" {
				v *= hedgeFactor // "bit of a con, mind, but fine"
			}
			if managerAsked[p] && slices.ContainsFunc(politeHedges, func(h string) bool { return phraseAt(words, h) >= 0 }) {
				v *= calmFactor // "i'd rather just speak to a manager if that's possible"
			}
			score += v
		}
	}
	score += repeated(words)
	score += ultimatum(words)
	score += sentenceMarks(text)
	if caseful {
		score += shouted(text)
	}
	return score
}

// elsewhereWords name what a caller's strong words may be about that is
// not the company: their day, the weather, a neighbour, a pet.
var elsewhereWords = map[string]bool{
	"dog": true, "dogs": true, "cat": true, "mutt": true, "neighbour": true, "neighbours": true, "neighbor": true,
	"neighbors": true, "commute": true, "train": true, "trains": true, "bus": true, "buses": true, "traffic": true,
	"weather": true, "snow": true, "snowstorm": true, "storm": true, "rain": true, "boss": true, "kids": true,
	"toddler": true, "cold": true, "flu": true, "council": true, "taxman": true, "motorway": true, "highway": true,
	"roadworks": true, "landlord": true, "ex": true, "hangover": true,
}

// companyWords turn strong words towards the company.
var companyWords = map[string]bool{"you": true, "your": true, "youre": true, "yours": true, "company": true}

// aimedElsewhere reports whether the word at i of toks stands in a clause
// (between punctuation, "but" or "anyway") that names something other
// than the company (elsewhereWords) and not the company: "my bloody dog
// has chewed through the cable", "the trains are an absolute shambles
// today" are about the dog and the trains.
func aimedElsewhere(toks []token, text string, i int) bool {
	boundary := func(k int) bool { // between toks[k-1] and toks[k]
		return strings.ContainsAny(text[toks[k-1].end:toks[k].start], ".,;:!?") || toks[k].text == "but" || toks[k].text == "anyway"
	}
	from, to := i, i+1
	for from > 0 && !boundary(from) {
		from--
	}
	for to < len(toks) && !boundary(to) {
		to++
	}
	// The caller's own embarrassment: "oh my god that's so embarrassing",
	// "sorry i'm useless with this stuff".
	other := toks[i].text == "embarrassing" || toks[i].text == "embarrassed" || toks[i].text == "useless" && i+1 < len(toks) && toks[i+1].text == "with"
	for _, t := range toks[from:to] {
		if companyWords[t.text] {
			return false
		}
		other = other || elsewhereWords[t.text] || elsewhereWords[strings.TrimSuffix(t.text, "s")] // "this damn snowstorm's"
	}
	return other
}

// praiseWords said as a sentence of their own after a statement of what
// went wrong are sarcasm: "So I wait another three days. Brilliant."
var praiseWords = map[string]bool{
	"brilliant": true, "great": true, "wonderful": true, "fantastic": true, "marvellous": true, "lovely": true,
	"perfect": true, "super": true, "terrific": true, "excellent": true, "superb": true, "amazing": true,
	"genius": true, "fabulous": true, "classic": true, "priceless": true, "outstanding": true, "incredible": true,
}

// sarcasticPraise reports whether a line has a sentence of praise alone
// ("Brilliant.", "Oh, wonderful.") after a sentence of its own of three
// words or more with no praise or courtesy in it: what went wrong, then
// the praise turned round ("it would've just sat there forever.
// Brilliant."), not "Oh that's quick. Great."; or praise alone that opens
// a line, answering what the agent found wrong, and a sentence after it
// opening with "and" that says nobody did their part ("Brilliant. And
// nobody thought to mention that."), not "Great. And the engineer comes
// Monday?"
func sarcasticPraise(text string) (string, bool) {
	var prev []string
	praise := "" // a line's first sentence when it is praise alone
	for n, sent := range sentenceSplit.Split(text, -1) {
		w := wordsOf(sent)
		if len(w) == 0 {
			continue
		}
		if len(w) == 2 && (w[0] == "oh" || w[0] == "just" || w[0] == "really") {
			w = w[1:]
		}
		noPraise := func(x string) bool { return courtesy[x] || lexicon[x] > 0 }
		if len(w) == 1 && praiseWords[w[0]] && len(prev) >= 3 && !slices.ContainsFunc(prev, noPraise) {
			return w[0], true
		}
		if praise != "" && n > 0 && len(w) >= 3 && w[0] == "and" && !slices.ContainsFunc(w, noPraise) &&
			(slices.Contains(w, "nobody") || slices.Contains(w, "noone") || hasPhrase(w, "no one")) {
			return praise, true // "Brilliant. And nobody thought to mention that."
		}
		if prev == nil && len(w) == 1 && praiseWords[w[0]] {
			praise = w[0]
		} else {
			praise = ""
		}
		prev = w
	}
	return "", false
}

// sentenceMarks scores what a line's sentences say by where they stand:
// a sentence that opens with "finally" ("Finally.", "right. finally
// someone who can do something") is relief after a fight, and praise
// said alone after what went wrong is sarcasm (sarcasticPraise), scored
// as sarcasm in place of the praise's own score.
func sentenceMarks(text string) float64 {
	v := 0.0
	var prev []string
	for _, sent := range sentenceSplit.Split(text, -1) {
		w := wordsOf(sent)
		if len(w) == 0 {
			continue
		}
		if w[0] == "finally" {
			v += finallyScore
		}
		if len(w) == 1 && len(prev) >= 3 && bitterWords[w[0]] {
			v += bitterScore // "the on demand doesn't work. Again."
		}
		if len(w) <= 2 && len(prev) > len(w) && slices.Equal(prev[len(prev)-len(w):], w) {
			v += echoSelfScore // "down since wednesday. wednesday."
		}
		if len(w) >= 2 && len(w) <= 4 && len(prev) >= 2 && len(prev) <= 4 && w[0] == prev[0] && w[1] == prev[1] && !slices.Equal(w, prev) {
			v += echoSelfScore // "Same as Monday. Same as Tuesday."
		}
		prev = w
	}
	if p, ok := sarcasticPraise(text); ok {
		v += sarcasmScore - lexicon[p]
	}
	return v
}

// bitterWords said as a sentence of their own after a sentence of three
// words or more are a caller's bitter comment on what they said ("the on demand doesn't
// work. Again.", "Someone on your side typed it wrong. Typical."), scored
// bitterScore; a caller repeating the end of their sentence as one of its
// own ("broadband down since wednesday. wednesday.", "the package was
// unlimited. Unlimited.", "June!") is indignant, echoSelfScore. In the
// dev calls every caller who did either was angry (a terse caller's
// "internet. slow. again." lists, d466).
var bitterWords = map[string]bool{"again": true, "typical": true}

const (
	bitterScore   = -1.5
	echoSelfScore = -1.0
)

// finallyScore is a sentence that opens with "finally": in the dev calls
// every caller who said one was angry.
const finallyScore = -1.5

// caseful reports whether a transcript writes in lower case anywhere, so
// that capitals in it are emphasis.
func caseful(tr transcript.Transcript) bool {
	for _, s := range tr.Segments {
		if hasLower(s.Text) {
			return true
		}
	}
	return false
}

// SentimentArc judges the caller's mood in the first and the last third
// of their lines (at least one line each). A short stretch needs less to
// tip: one strong word does it.
func SentimentArc(tr transcript.Transcript) (start, end string) {
	s, e := arcScores(tr)
	judge := func(v float64) string {
		switch {
		case v <= negativeAt:
			return SentimentNegative
		case v >= 1:
			return SentimentPositive
		}
		return SentimentNeutral
	}
	return judge(s), judge(e)
}

// veryNegativeAt is the score of the first third of a caller's lines from
// which they are very negative at the start: more than one strong word
// ("it's a nightmare" is one, said calmly about a cracked screen).
const veryNegativeAt = 2 * negativeAt

// arcScores are the caller's summed sentiment over the first and the last
// third of their lines (SentimentArc), 0 without caller lines.
func arcScores(tr transcript.Transcript) (start, end float64) {
	var scores []float64
	caseful := caseful(tr)
	for _, s := range tr.Segments {
		if s.Speaker == transcript.Caller && strings.TrimSpace(s.Text) != "" {
			scores = append(scores, lineScore(s.Text, caseful))
		}
	}
	if len(scores) == 0 {
		return 0, 0
	}
	n := max(1, (len(scores)+2)/3)
	sum := func(xs []float64) float64 {
		var t float64
		for _, x := range xs {
			t += x
		}
		return t
	}
	return sum(scores[:n]), sum(scores[len(scores)-n:])
}

// intensifiers only strengthen what they stand before.
var intensifiers = map[string]bool{
	"absolutely": true, "completely": true, "totally": true, "utterly": true, "so": true, "really": true,
	"very": true, "honestly": true, "frankly": true, "literally": true, "just": true, "quite": true,
}

// conduct words are a complaint about how someone behaved: what the call
// is about, not only how the caller feels.
var conduct = map[string]bool{
	"rude": true, "unprofessional": true, "patronising": true, "patronizing": true, "condescending": true,
	"arrogant": true, "aggressive": true, "dismissive": true, "unhelpful": true, "swore": true, "shouted": true,
	"laughed": true, "ignored": true, "heartless": true, "insensitive": true, "lied": true, "lied to": true, "liars": true, "missold": true, "mis sold": true,
}

// withoutFeelings is words without the caller's feelings: the lexicon's
// negative words and phrases, outbursts, repeat counts ("the fourth
// time") and intensifiers, leaving what the line is about.
func withoutFeelings(words []string) []string {
	drop := make([]bool, len(words))
	mark := func(i, n int) {
		for k := i; k < i+n && k < len(words); k++ {
			drop[k] = true
		}
	}
	for i := range words {
		for l := 4; l >= 1; l-- {
			if i+l > len(words) {
				continue
			}
			p := strings.Join(words[i:i+l], " ")
			if conduct[p] {
				break
			}
			if v, ok := lexicon[p]; ok && v < 0 {
				mark(i, l)
				break
			}
			if v, ok := outbursts[p]; ok && v < 0 {
				mark(i, l)
				break
			}
		}
		if intensifiers[words[i]] || swearWords[words[i]] || stemScore(words[i]) < 0 && !conduct[words[i]] {
			drop[i] = true
		}
		if i+1 < len(words) && repeatUnits[words[i+1]] && repeatOrdinals[words[i]] != 0 {
			mark(i, 2)
		}
	}
	var out []string
	for i, w := range words {
		if !drop[i] {
			out = append(out, w)
		}
	}
	return out
}
