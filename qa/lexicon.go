package qa

// Built-in lexicons, written the way recognisers print speech: lower case,
// no punctuation, apostrophes dropped ("ive", "youre"). Matching is on
// whole words (see said).

// introLeads are phrases that introduce a name; the next word must not be
// a function word ("thank you for calling how can i help" names nobody).
var introLeads = []string{"my name is", "my names", "this is", "youre through to", "youre speaking to",
	"youre speaking with", "youve reached", "youve come through to", "thank you for calling", "thanks for calling",
	"welcome to", "you are through to", "you have reached"}

// notNames follow an intro lead without being a name.
var notNames = map[string]bool{"how": true, "what": true, "can": true, "today": true, "and": true, "i": true,
	"us": true, "the": true, "a": true, "so": true, "is": true, "just": true, "sorry": true, "not": true,
	"going": true, "afraid": true, "sure": true, "here": true, "calling": true, "ok": true, "okay": true,
	"really": true, "very": true, "happy": true, "glad": true, "fine": true, "good": true, "well": true,
	"yes": true, "no": true, "yeah": true, "it": true, "that": true, "about": true, "to": true, "with": true,
	"please": true, "in": true, "on": true, "for": true, "great": true, "ready": true, "checking": true, "looking": true,
	"having": true, "getting": true, "unable": true, "able": true, "now": true, "still": true, "back": true}

var verifyPhrases = []string{"verify", "verification", "security", "confirm your", "can i have your", "could i have your",
	"can i take your", "could i take your", "may i have your", "may i take your", "can i get your", "could i get your",
	"what is your", "whats your", "whats the", "what is the", "order number", "account number", "reference number",
	"customer number", "date of birth", "postcode", "post code", "zip code", "first line of your address",
	"first line of the address", "security question", "last four digits", "email address on the account",
	"name on the account", "full name", "can you confirm", "could you confirm", "can you give me your",
	"could you give me your", "just to confirm", "can you tell me your", "could you tell me your", "whos the account holder"}

// detailPhrases are the agent talking about the caller's account or order.
var detailPhrases = []string{"your account", "your balance", "your bill", "your order", "your payment",
	"your card", "your address is", "your contract", "your package", "your parcel", "your refund",
	"your subscription", "your plan", "your direct debit", "your last payment", "your delivery",
	"i can see", "ive checked", "i have checked", "ive looked", "i have looked", "it shows", "its showing",
	"on the system", "the card ending", "outstanding", "on your account", "your tariff", "your booking"}

var negativePhrases = []string{"annoyed", "annoying", "angry", "furious", "frustrated", "frustrating", "upset",
	"disappointed", "disappointing", "ridiculous", "unacceptable", "terrible", "awful", "useless", "rubbish",
	"fed up", "sick of", "sick and tired", "worst", "disgrace", "disgraceful", "disgusting", "not happy", "unhappy",
	"complain", "complaint", "still not", "still hasnt", "still havent", "still isnt", "still doesnt",
	"hasnt arrived", "hasnt come", "never arrived", "not arrived", "havent received", "never received",
	"charged twice", "overcharged", "third time", "fourth time", "been waiting", "hate", "pathetic",
	"shocking", "appalling", "a joke", "nightmare", "livid", "outrageous", "mad", "stressed", "worried",
	"horrible", "fuming", "not good enough", "no one has", "nobody has", "nobody called", "no one called",
	"not impressed", "waste of time", "wasted", "promised", "lied", "keeps dropping", "keeps cutting",
	"not working again"}

var positivePhrases = []string{"thanks", "thank you", "great", "perfect", "brilliant", "lovely", "happy",
	"appreciate", "helpful", "excellent", "wonderful", "fantastic", "awesome", "amazing", "cheers",
	"much better", "relieved", "thats good", "good news", "sorted", "fab", "superb", "cool", "that's fine", "fine"}

var empathyPhrases = []string{"sorry", "apologise", "apologize", "apologies", "i understand", "i can understand",
	"i completely understand", "i totally understand", "i can imagine", "that must be", "that sounds",
	"i appreciate", "frustrating", "i hear you", "i know how", "thank you for your patience",
	"thanks for your patience", "oh no", "id be", "that isnt good", "thats not good", "thats not right",
	"i get that", "understandable", "i see why", "i realise", "i realize", "must have been", "thats awful",
	"thats terrible", "not what you want", "not what you wanted", "you shouldnt have to", "that shouldnt have happened"}

// clarifySorry are uses of "sorry" that ask for a repeat, not empathy.
var clarifySorry = []string{"sorry what", "sorry can you repeat", "sorry could you repeat", "sorry i didnt catch",
	"sorry i didnt hear", "sorry say that again", "sorry come again", "sorry pardon", "sorry can you say",
	"sorry could you say", "sorry whats", "sorry what was", "sorry to keep you", "sorry for the wait", "sorry for the delay",
	"sorry about the wait", "sorry im just", "sorry one moment", "sorry just"}

var rudePhrases = []string{"shut up", "stupid", "idiot", "moron", "dumb", "damn", "hell", "crap", "shit", "fuck",
	"fucking", "bloody", "piss", "pissed", "bollocks", "bullshit", "calm down", "not my problem", "not my job",
	"you people", "whatever", "i cant help you", "deal with it", "thats your problem", "no idea", "i dont care",
	"dont care", "not my fault", "your fault", "you should have", "i already told you", "ive already told you",
	"as i said already", "like i said", "are you listening", "listen to me", "obviously", "its not rocket science",
	"get over it", "what do you want", "yeah what", "i dont have time", "not my department", "figure it out",
	"cant be bothered", "read the website", "thats just how it is", "tough", "too bad", "nothing i can do about it",
	"stop shouting", "you need to listen", "pay attention", "hurry up"}

var resolutionPhrases = []string{"i have processed", "ive processed", "i have issued", "ive issued", "i have sent",
	"ive sent", "ive reset", "i have reset", "ive updated", "i have updated", "ive cancelled", "i have cancelled",
	"ive arranged", "i have arranged", "ive booked", "i have booked", "ive refunded", "i have refunded",
	"ive escalated", "i have escalated", "ive credited", "i have credited", "ive applied", "ive raised",
	"ive gone ahead", "ive logged", "ive changed", "ive added", "ive removed", "ive set up", "ive reported",
	"ive ordered", "ive requested", "ive waived", "ive extended", "ive scheduled", "ive fixed", "ive sorted",
	"ive emailed", "ive texted", "ive passed", "ive put", "ive made", "ive done", "ive reactivated", "ive unlocked",
	"ive activated", "ive restored", "ive corrected", "ive adjusted", "ive reversed", "ive replaced", "ive renewed",
	"i will send", "ill send", "ill arrange", "ill escalate", "ill process", "ill book", "ill raise", "ill refund",
	"ill email", "ill text", "ill call you back", "ill get", "ill credit", "ill reset", "ill order", "ill schedule",
	"ill log", "ill post", "ill waive", "ill apply", "ill cancel", "ill pass", "ill update", "ill put",
	"you will receive", "youll receive", "you should receive", "you will get", "youll get",
	"you should see", "youll see", "will be delivered", "will arrive", "should arrive", "will be refunded",
	"has been refunded", "has been resolved", "has been fixed", "is now fixed", "is now working", "its working now",
	"should be working", "is working now", "thats fixed", "all sorted", "thats sorted", "all done", "thats done",
	"next step", "next steps", "reference number is", "case number is", "your reference is", "working days",
	"an engineer will", "the engineer will", "a technician will", "will call you back", "will be in touch",
	"you can expect", "will be with you", "should be with you", "please allow", "it will be", "itll be",
	"the refund will", "your refund will", "will be sent", "will be cancelled", "has been cancelled",
	"has been sent", "has been updated", "has been reset", "should now", "you can now", "you should now",
	"going forward", "from now on", "in the meantime", "if it happens again", "if that doesnt work",
	"if you have any more problems", "if the problem comes back", "within 24 hours", "within 48 hours",
	"you can", "you just need to", "all you need to do", "you need to", "close at", "closes at", "open at",
	"opens at", "open until", "by tomorrow", "by friday", "by monday", "arrive tomorrow", "delivered tomorrow", "has been escalated"}

var offerPhrases = []string{"anything else", "anything more", "anything further", "help you with anything",
	"help with anything", "any other questions", "anything i can do", "something else i can", "any other",
	"further help", "assist you with anything", "any more questions", "anything at all", "else i can help",
	"else i can do", "can i help with anything", "is that everything", "is that all for today"}

var thanksPhrases = []string{"thank", "thanks", "thank you", "cheers", "appreciate your call", "appreciate you calling",
	"grateful"}

// holdPhrases announce a wait.
var holdPhrases = []string{"hold", "on hold", "bear with me", "one moment", "just a moment", "a moment",
	"just a minute", "one minute", "a minute", "one sec", "one second", "just a second", "a couple of minutes",
	"a few minutes", "let me check", "let me just check", "let me look", "let me have a look", "ill check",
	"ill just check", "let me find out"}

// permissionPhrases ask before a hold.
var permissionPhrases = []string{"can i put you on hold", "may i put you on hold", "can i place you on hold",
	"may i place you on hold", "do you mind if i", "would you mind", "is it ok if", "is it okay if", "is that ok",
	"is that okay", "if thats ok", "if thats okay", "if you dont mind", "mind holding", "can you hold",
	"could you hold", "are you happy to hold", "can i ask you to hold", "would it be ok", "would it be okay",
	"is that alright", "if thats alright", "are you ok to hold", "are you okay to hold", "happy to hold",
	"can you bear with me", "could you bear with me", "would you be able to hold", "can i just put you",
	"shall i put you on hold", "can i pop you on hold", "is it alright"}

// accountIssue: the caller raises something of their own account, so the
// agent must verify them even before any detail is read out.
var accountIssue = []string{"my order", "my parcel", "my package", "my delivery", "my bill", "my account",
	"my payment", "my refund", "my broadband", "my internet", "my router", "my line", "my contract",
	"my direct debit", "my subscription", "my plan", "my card", "my password", "my details", "my address",
	"my balance", "my phone bill", "my wifi", "my connection", "my booking", "my return"}
