package tickets

import (
	"reflect"
	"strings"
	"testing"

	"github.com/contactd/contactd/transcript"
)

// call builds a transcript from alternating "c:"/"a:"/"s:" lines, four
// seconds apart.
func call(intent string, lines ...string) transcript.Transcript {
	tr := transcript.Transcript{CallID: "call-1", CallerNumber: "+15551234567", Intent: intent}
	for i, l := range lines {
		who, text, _ := strings.Cut(l, ":")
		sp := map[string]transcript.Speaker{"c": transcript.Caller, "a": transcript.Agent, "s": transcript.System}[who]
		tr.Segments = append(tr.Segments, transcript.Segment{Speaker: sp, StartMS: int64(i) * 4000, EndMS: int64(i)*4000 + 3000, Text: strings.TrimSpace(text)})
	}
	return tr
}

var orderCall = call("order_status",
	"s: thanks for calling how can i help",
	"c: where is my order",
	"a: hello thanks for calling this is sam how can i help",
	"c: hi i ordered a laptop last week and it still hasn't arrived",
	"a: i'm sorry to hear that can i have your order number please",
	"c: yes it's five eight two one three",
	"a: thank you i can see it was delayed at the depot it will be delivered tomorrow before noon",
	"c: oh great thank you so much that's perfect",
	"a: is there anything else i can help with",
	"c: no that's all thanks bye",
	"a: thank you for calling goodbye",
)

var complaintCall = call("complaint",
	"a: good morning you're through to alex",
	"c: this is the third time i've called and i'm absolutely fed up",
	"c: the engineer never turned up and nobody told me this is ridiculous",
	"a: i'm really sorry can i take your account number",
	"c: it's four four one two nine seven",
	"a: thanks i've escalated this to our field team and booked a new visit for friday with a twenty pound credit",
	"c: fine whatever",
	"a: thank you for calling",
)

func TestDraftOrderStatus(t *testing.T) {
	tk := Draft(orderCall, DraftOptions{})
	want := Ticket{
		CallID:         "call-1",
		Category:       "order_status",
		SubCategory:    "late_delivery",
		Priority:       PriorityNormal,
		Subject:        "Order status – order 58213",
		Entities:       map[string]string{EntityOrderNumber: "58213"},
		Sentiment:      SentimentPositive,
		Tags:           []string{"order_status", "positive", "late_delivery", "order_number"},
		Status:         StatusOpen,
		Customer:       Customer{Phone: "+15551234567", ID: "tel:+15551234567"},
		SentimentStart: SentimentNeutral, SentimentEnd: SentimentPositive,
		Outcome: OutcomeResolved,
	}
	sum := tk.Summary
	tk.Summary = ""
	if !reflect.DeepEqual(tk, want) {
		t.Errorf("got  %+v\nwant %+v", tk, want)
	}
	wantSum := "Caller: I ordered a laptop last week and it still hasn't arrived. Agent: Thank you i can see it was delayed at the depot it will be delivered tomorrow before noon."
	if !strings.Contains(sum, "I ordered a laptop last week") || !strings.Contains(sum, "delivered tomorrow") {
		t.Errorf("summary %q, want like %q", sum, wantSum)
	}
}

func TestDraftComplaint(t *testing.T) {
	tk := Draft(complaintCall, DraftOptions{})
	if tk.Priority != PriorityHigh || tk.Sentiment != SentimentNegative {
		t.Errorf("priority %s sentiment %s, want high negative", tk.Priority, tk.Sentiment)
	}
	if tk.Entities[EntityAccountNumber] != "441297" || tk.Entities[EntityOrderNumber] != "" {
		t.Errorf("entities %v", tk.Entities)
	}
	if tk.Entities[EntityAmount] != "20.00" || tk.Entities[EntityCurrency] != "GBP" {
		t.Errorf("amount %v", tk.Entities)
	}
	if tk.Subject != "Complaint – account 441297" {
		t.Errorf("subject %q", tk.Subject)
	}
	if !strings.Contains(tk.Summary, "third time") || !strings.Contains(tk.Summary, "escalated") {
		t.Errorf("summary %q", tk.Summary)
	}
	if got := Draft(complaintCall, DraftOptions{VIP: true}); got.Priority != PriorityUrgent || !contains(got.Tags, "vip") {
		t.Errorf("VIP: priority %s tags %v", got.Priority, got.Tags)
	}
}

func TestDraftBilling(t *testing.T) {
	tr := call("billing",
		"a: hi this is jo in billing",
		"c: hello i was charged $49.99 twice on my card ending one one one one",
		"a: can i have the email address on the account",
		"c: sure it's jane dot doe at example dot com",
		"a: thanks i've refunded the duplicate payment you'll see it in three to five working days",
		"c: ok thanks",
	)
	tr.Incomplete = true
	tk := Draft(tr, DraftOptions{Labels: map[string]string{"billing": "Billing enquiry"}})
	if tk.Entities[EntityAmount] != "49.99" || tk.Entities[EntityCurrency] != "USD" || tk.Entities[EntityEmail] != "jane.doe@example.com" {
		t.Errorf("entities %v", tk.Entities)
	}
	if tk.Subject != "Billing enquiry – 49.99 USD" {
		t.Errorf("subject %q", tk.Subject)
	}
	if tk.Sentiment != SentimentNeutral || tk.Priority != PriorityNormal {
		t.Errorf("sentiment %s priority %s", tk.Sentiment, tk.Priority)
	}
	wantTags := []string{"billing", "neutral", "double_charge", "amount", "email", "refund", "incomplete_transcript"}
	if !reflect.DeepEqual(tk.Tags, wantTags) {
		t.Errorf("tags %v, want %v", tk.Tags, wantTags)
	}
	if !strings.Contains(tk.Summary, "refunded the duplicate payment") {
		t.Errorf("summary %q", tk.Summary)
	}
}

func TestDraftEdgeCases(t *testing.T) {
	tests := []struct {
		name                          string
		tr                            transcript.Transcript
		category, subject, summaryHas string
	}{
		{"empty", transcript.Transcript{}, "unknown", "General enquiry", "Caller said nothing"},
		{"ivr only", call("", "s: how can i help", "c: i need a pizza delivered to my house"), "unknown", "General enquiry", "No agent took part"},
		{"no resolution", call("tech_support", "a: hello", "c: my internet keeps dropping every evening", "a: ok bye"), "tech_support", "Tech support", "No resolution stated"},
		{"card redacted", call("billing", "c: i want to pay with four one one one one one one one one one one one one one one one please", "a: i've taken the payment"), "billing", "Billing", "[card ending 1111]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := Draft(tt.tr, DraftOptions{})
			if tk.Category != tt.category || tk.Subject != tt.subject || !strings.Contains(tk.Summary, tt.summaryHas) {
				t.Errorf("got category %q subject %q summary %q", tk.Category, tk.Subject, tk.Summary)
			}
			if tk.Status != StatusOpen || tk.Entities == nil {
				t.Errorf("status %q entities %v", tk.Status, tk.Entities)
			}
			if strings.Contains(tk.Summary, "one one one one one one") {
				t.Errorf("card number leaked: %q", tk.Summary)
			}
		})
	}
}

// TestCalmStrongWords: a calm caller's one strong word about the product
// at the start ("it's a nightmare") does not make the ticket high; an
// angry start does.
func TestCalmStrongWords(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"c: my phone screen is cracked, it's a nightmare", "a: I can send you a replacement under your insurance", "c: lovely thank you"}, PriorityNormal},
		{[]string{"c: this is a nightmare, it's the third time it's broken and I'm furious", "a: I'm sorry, I'll send a replacement today", "c: lovely thank you"}, PriorityHigh},
		// strong words about the trains, a neighbour's dog or the caller's own
		// fumbling count a quarter; about the company, in full
		{[]string{"c: Hi, ugh, sorry, I've had the most horrendous commute, the trains are an absolute shambles today. Anyway. Do you have the Pixel nine in stock in green?",
			"a: Sorry to hear that. We've got the green one, four left.", "c: And can I add it to my existing phone plan?", "a: You can, twenty-one pounds a month on top.", "c: Lovely, let's do that."}, PriorityNormal},
		{[]string{"c: alright kofi my neighbour's a flipping nightmare mate his dog got into my porch and chewed the box open but the shoes inside are the wrong size anyway",
			"a: ha sorry about the dog what's the order number", "c: one two nine oh four four", "a: i'll send a label and swap them for a size ten", "c: cheers i'll keep it away from that mutt this time"}, PriorityNormal},
		{[]string{"c: hi the speaker i bought wont connect to the wifi its just spinning", "a: pick the one that doesn't end in five g then run the set up again",
			"c: hang on right that's it it's talking to me now ha sorry i'm useless with this stuff", "a: not at all"}, PriorityNormal},
		{[]string{"c: hiya the cot you sent has a bit missing so i cant build it my partner is fuming at the instructions not you lot ha", "a: what's the order number", "c: its fifty sixty one",
			"a: i'll send the bracket out today", "c: great cheers"}, PriorityNormal},
		{[]string{"c: hi i need to change the mobile number on my account the two factor codes go to my old phone which was stolen", "a: for security we also need you to come into a store with id",
			"c: right of course you do. you let a thief order two phones on my account last month without a single check but now suddenly security matters. its quite something really",
			"a: let me see if i can verify you over a video call instead", "c: fine"}, PriorityHigh},
		{[]string{"c: My account is locked. I was told on Monday it would be unlocked within twenty-four hours.", "a: Okay, can I take your email address please?",
			"c: m dot okafor at mailbox dot com. Same as Monday. Same as Tuesday.", "a: Thanks. I'll need to send a security code to your phone.", "c: And will that code actually arrive this time?",
			"a: It should. I've sent it now.", "c: Four nine one seven seven two.", "a: That's worked, your account's unlocked now.", "c: Three days. Thank you, Kevin."}, PriorityHigh},
		{[]string{"c: Hi, ugh, sorry, your delivery service is an absolute shambles today. Do you know where my parcel is?",
			"a: Sorry to hear that. It's out for delivery.", "c: Lovely, thanks."}, PriorityHigh},
	} {
		if got := Draft(call("returns", tc.lines...), DraftOptions{}).Priority; got != tc.want {
			t.Errorf("%q: priority %s, want %s", tc.lines[0], got, tc.want)
		}
	}
}

// TestKeywordNames: a rule's one-word keyword said as a name ("i'm sue",
// "sue speaking") does not hold; said as a word it does.
func TestKeywordNames(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"a: you're speaking to me i'm sue is it about your bill", "c: i just need a person please"}, PriorityNormal},
		{[]string{"a: helpdesk, Sue speaking", "c: can i speak to someone please"}, PriorityNormal},
		{[]string{"a: this is sue how can i help", "c: can i speak to someone please"}, PriorityNormal},
		{[]string{"a: helpdesk", "c: if this carries on i will sue you, i'm not joking"}, PriorityUrgent},
	} {
		if got := Draft(call("human", tc.lines...), DraftOptions{}).Priority; got != tc.want {
			t.Errorf("%q: priority %s, want %s", tc.lines, got, tc.want)
		}
	}
}

func TestSentiment(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
	}{
		{[]string{"c: i want to check my order", "c: ok thanks bye"}, SentimentNeutral},
		{[]string{"c: that's brilliant you've been really helpful"}, SentimentPositive},
		{[]string{"c: i'm not happy with this at all"}, SentimentNegative},
		{[]string{"c: this is unacceptable", "c: ok thanks"}, SentimentNegative},
		{[]string{"c: it's not bad actually"}, SentimentNeutral},
		{[]string{"c: i'm not angry just confused", "c: great thanks"}, SentimentPositive},
		{[]string{"a: this is ridiculous", "c: fine"}, SentimentNeutral}, // agent lines do not count
		{[]string{"c: I'm FED UP!"}, SentimentNegative},
		// outbursts: swearing (not turned round by a negation), repeat
		// calls, threats to leave, capitals in a lower-case transcript
		{[]string{"c: i'm not bloody happy about it"}, SentimentNegative},
		{[]string{"c: my bloody router won't work", "c: ok thanks"}, SentimentNegative},
		{[]string{"c: this is the fourth time i've rung about my order", "c: ok"}, SentimentNegative},
		{[]string{"c: i've called three times about this", "c: ok"}, SentimentNegative},
		{[]string{"c: i called a few times but it was engaged", "c: ok"}, SentimentNeutral},
		{[]string{"c: sort it out or i'm taking my business elsewhere"}, SentimentNegative},
		{[]string{"c: i'll leave it with you then", "c: thanks"}, SentimentNeutral},
		{[]string{"c: i'm interested in switching to you", "c: ok"}, SentimentNeutral},
		{[]string{"c: I have been waiting THREE WEEKS for it", "a: sorry"}, SentimentNegative},
		{[]string{"c: my TV box needs a new PIN"}, SentimentNeutral},
		{[]string{"c: i'm appalled by this", "c: ok"}, SentimentNegative}, // other forms of the lexicon's words
		{[]string{"c: i've been on hold for forty minutes", "c: ok"}, SentimentNegative},
		{[]string{"C: MY ORDER HAS NOT ARRIVED", "A: I WILL CHECK THAT FOR YOU"}, SentimentNeutral}, // a recogniser writing in capitals is not shouting
		// politeness and hedges
		{[]string{"c: I hate to bother you but I think I've been charged twice", "c: ok"}, SentimentNeutral},
		{[]string{"c: I'm so annoyed with myself, I've forgotten my password again", "c: ok"}, SentimentNeutral},
		{[]string{"c: it's a bit frustrating, the tracking hasn't updated in days", "c: ok"}, SentimentNeutral},
		{[]string{"c: I hate your company", "c: ok"}, SentimentNegative},
		{[]string{"c: oh she's got it, sorry to waste your time", "c: bye"}, SentimentNeutral},
		// going to a regulator, telling the world, turning on the agent
		{[]string{"c: if this isn't fixed i'm going to the regulator", "c: ok"}, SentimentNegative},
		{[]string{"c: it's going on every review site there is", "c: ok"}, SentimentNegative},
		{[]string{"c: are you reading from a script", "c: ok"}, SentimentNegative},
		{[]string{"c: I ordered a kettle off you lot last week", "c: ok"}, SentimentNeutral},
		// praise said alone after what went wrong is sarcasm; "finally"
		// opening a sentence is relief after a fight
		{[]string{"c: So I wait another three days. Brilliant."}, SentimentNegative},
		{[]string{"c: your website wont let me change it without the code. so im locked out of my own account. genius"}, SentimentNegative},
		{[]string{"c: Oh that's quick. Brilliant."}, SentimentPositive},
		{[]string{"c: The engineer came and it all works now. Brilliant, thanks."}, SentimentPositive},
		{[]string{"c: It's back. Finally."}, SentimentNegative},
		// praise alone opening a line and "and nobody …" after it is
		// sarcasm too; "and" with nothing gone wrong is not
		{[]string{"c: Brilliant. And nobody thought to mention that in any of the reminders."}, SentimentNegative},
		{[]string{"c: Brilliant. And the engineer comes on Monday?"}, SentimentPositive},
		// disbelief
		{[]string{"c: are you kidding me. i've been trying for a day", "c: ok"}, SentimentNegative},
		{[]string{"c: you're not kidding, it's a big box", "c: ok"}, SentimentNeutral},
		// an outburst hedged with "bit of" is a grumble
		{[]string{"c: so yes, add that. Bit of a con, mind, but fine.", "c: ok thanks"}, SentimentNeutral},
		{[]string{"c: this whole plan is a con", "c: ok thanks"}, SentimentNegative},
		{[]string{"c: I finally found the email, thanks"}, SentimentNeutral},
		{[]string{"c: No it shouldn't. And I shouldn't have to chase it either."}, SentimentNegative},
		{[]string{"c: I've done all that, I've unplugged it and rescanned", "c: ok"}, SentimentNegative},
		// "no" answering a question does not negate the clause after it
		{[]string{"c: ok", "c: no that's great thanks"}, SentimentNeutral},
		{[]string{"c: no, it's fine thanks"}, SentimentNeutral},
		{[]string{"c: no that's not good enough"}, SentimentNegative},
		// a manager asked for politely is no temper
		{[]string{"c: can i speak to someone", "c: i'd rather just speak to a manager if that's possible"}, SentimentNeutral},
		{[]string{"c: i want to speak to a manager", "c: now"}, SentimentNegative},
		// a deadline given to the company
		{[]string{"c: how long", "c: you've got forty eight hours then"}, SentimentNegative},
		{[]string{"c: you have two days or i'm going to the ombudsman"}, SentimentNegative},
		{[]string{"c: so you've got thirty days to return it", "c: ok"}, SentimentNeutral},
		{[]string{"c: so you have two days left on the offer", "c: ok"}, SentimentNeutral},
		// restraint announced and formal fury: a caller who says they will
		// stay polite or calm, formal disbelief and demands, and a formal
		// intensifier ("extremely", not "really") before an angry word
		{[]string{"c: I'll be polite about this, but it has to stop today", "c: ok"}, SentimentNegative},
		{[]string{"c: I'll keep this brief and civil. The fee has to go.", "c: ok"}, SentimentNegative},
		{[]string{"c: i'm going to try and stay calm here", "c: ok"}, SentimentNegative},
		{[]string{"c: With the greatest respect, an apology isn't sufficient.", "c: ok"}, SentimentNegative},
		{[]string{"c: two hundred pounds to leave you've got to be joking", "c: ok"}, SentimentNegative},
		{[]string{"c: I'm extremely annoyed about it", "c: good, thank you"}, SentimentNegative},
		{[]string{"c: I'm really annoyed about it", "c: good, thank you"}, SentimentNeutral},
		{[]string{"c: please be polite to my mum when you call her", "c: ok"}, SentimentNeutral},
		// a policy found disappointing, a thing that is useless, are no
		// temper; a caller disappointed, a company useless, are
		{[]string{"c: Really? That's disappointing.", "c: I'll take the voucher then"}, SentimentNeutral},
		{[]string{"c: I'm disappointed, that's not what I was told", "c: ok"}, SentimentNegative},
		{[]string{"c: the wifi's fine downstairs but upstairs it's useless", "c: ok"}, SentimentNeutral},
		{[]string{"c: the wifi's fine downstairs but your router is useless", "c: ok"}, SentimentNegative},
		// quiet anger (d1115–d1164): rhetorical questions and pointed
		// remarks, a flare apologised for, a bitter word said alone, a
		// caller repeating their own words
		{[]string{"c: i didn't sign up to pay more every year", "c: ok"}, SentimentNegative},
		{[]string{"c: what's the point of a fixed contract if it's not fixed", "c: ok"}, SentimentNegative},
		{[]string{"c: does anyone there actually talk to each other", "c: ok"}, SentimentNegative},
		{[]string{"c: Is anyone actually in charge there?", "c: ok"}, SentimentNegative},
		{[]string{"c: it says there's no account, then that the email is in use. So which is it?", "c: ok"}, SentimentNegative},
		{[]string{"c: you did that last time", "c: ok"}, SentimentNegative},
		{[]string{"c: ok. thanks. sorry im not having a go at you personally"}, SentimentNegative},
		{[]string{"c: the on demand doesn't work. Again.", "c: ok"}, SentimentNegative},
		{[]string{"c: Someone on your side typed it wrong. Typical.", "c: ok"}, SentimentNegative},
		{[]string{"c: internet. slow. again.", "c: ok"}, SentimentNeutral},
		{[]string{"c: my broadband has been down since wednesday. wednesday.", "c: ok"}, SentimentNegative},
		{[]string{"c: my broadband has been down since wednesday.", "c: ok"}, SentimentNeutral},
		// calm callers' strong words about other things: another
		// provider's speed ("not your fault"), a fault's noise, a scam by
		// others
		{[]string{"c: the speed I've got is awful. Not your fault, I'm with another provider.", "c: ok"}, SentimentNeutral},
		{[]string{"c: my landline has got a horrible crackle on it", "c: ok"}, SentimentNeutral},
		{[]string{"c: your engineer was horrible", "c: ok"}, SentimentNegative},
		{[]string{"c: Could it be one of those scam missed calls?", "c: ok"}, SentimentNeutral},
		{[]string{"c: this contract is a scam", "c: ok"}, SentimentNegative},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.lines, "/"), func(t *testing.T) {
			if got := Sentiment(call("", tt.lines...)); got != tt.want {
				t.Errorf("Sentiment = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"card 4111 1111 1111 1111 exp 12/27", "card [card ending 1111] exp 12/27"},
		{"4111-1111-1111-1111", "[card ending 1111]"},
		{"it's four one one one one one one one one one one one one one one one and cvv one two three", "it's [card ending 1111] and cvv [cvv]"},
		{"number 4111 1111 1111 1111 123", "number [card ending 1111] 123"},
		{"order 58213 phone 5551234567", "order 58213 phone 5551234567"},
		{"4111 1111 1111 1112", "4111 1111 1111 1112"}, // fails Luhn
		{"5500005555555559 and 378282246310005", "[card ending 5559] and [card ending 0005]"},
		{"", ""},
		{"no digits here", "no digits here"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLabel(t *testing.T) {
	for in, want := range map[string]string{"order_status": "Order status", "account_access": "Account access", "unknown": "General enquiry", "": "General enquiry", "human": "Human"} {
		if got := Label(in, nil); got != want {
			t.Errorf("Label(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{"4111 1111 1111 1111", "four one", "1-2-3", "é4111111111111111ü", "oh oh oh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Redact(s)
		if !strings.Contains(s, "[card") && strings.Contains(out, "[card") && len(out) > len(s)+20 {
			t.Fatalf("Redact grew %q to %q", s, out)
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestRedactWords: a masked line keeps its timing, the mask standing
// for the words it covers; words that do not spell the text go when
// either has something to mask; a line with nothing to mask keeps its
// words as they were.
func TestRedactWords(t *testing.T) {
	words := func(text string) []transcript.Word {
		var out []transcript.Word
		for i, w := range strings.Fields(text) {
			out = append(out, transcript.Word{Text: w, StartMS: int64(i) * 300, EndMS: int64(i)*300 + 250})
		}
		return out
	}
	card := "my card is four one one one one one one one one one one one one one one one thanks"
	plain := "where is my order"
	tr := RedactTranscript(transcript.Transcript{Segments: []transcript.Segment{
		{Speaker: transcript.Caller, Text: card, Words: words(card)},
		{Speaker: transcript.Caller, Text: plain, Words: words(plain)},
		{Speaker: transcript.Caller, Text: "my card number", Words: words("my card is 4111 1111 1111 1111")}, // words say more than the text
		{Speaker: transcript.Caller, Text: "my card is 4111 1111 1111 1111", Words: words("my card")},        // the text says more
	}})
	s := tr.Segments[0]
	var got []string
	for _, w := range s.Words {
		got = append(got, w.Text)
	}
	if s.Text != "my card is [card ending 1111] thanks" || strings.Join(got, "|") != "my|card|is|[card ending 1111]|thanks" {
		t.Fatalf("card line %q words %q", s.Text, got)
	}
	if m := s.Words[3]; m.StartMS != 900 || m.EndMS != 18*300+250 {
		t.Errorf("mask word spans %d-%d, want the sixteen digits' 900-%d", m.StartMS, m.EndMS, 18*300+250)
	}
	if s.Words[4].StartMS != 19*300 {
		t.Errorf("word after the mask at %d ms, want %d", s.Words[4].StartMS, 19*300)
	}
	if s := tr.Segments[1]; s.Text != plain || len(s.Words) != 4 {
		t.Errorf("plain segment: %q words %v", s.Text, s.Words)
	}
	if s := tr.Segments[2]; s.Words != nil {
		t.Errorf("words with a card number kept: %v", s.Words)
	}
	if s := tr.Segments[3]; s.Words != nil {
		t.Errorf("words of a masked text that they do not spell kept: %v", s.Words)
	}
}

// TestRedactAfter: what was said just before counts: the agent asks for
// the security code and the caller says three digits in the next line; a
// card number read in two breaths. Only the new line comes back.
func TestRedactAfter(t *testing.T) {
	r := Redaction{}
	for _, tc := range []struct{ ctx, in, want string }{
		{"can you read me the security code on the back", "yes it is seven three seven", "yes it is [cvv]"},
		{"can you read me the security code on the back", "737", "[cvv]"},
		{"my card is 4111 1111", "1111 1111", "[card ending 1111]"},
		{"my card is four one one one one one one one", "one one one one one one one one thanks", "[card ending 1111] thanks"},
		{"my order number is", "seven three seven", "seven three seven"},
		{"my card is 4111 1111\n", "1111 1111", "1111 1111"}, // another speaker: no run-on
		{"", "security code 123", "security code [cvv]"},
		{"what is your social security number", "one two three four five six seven eight nine", "[national id]"},
	} {
		if got := r.After(tc.ctx, tc.in); got != tc.want {
			t.Errorf("After(%q, %q) = %q, want %q", tc.ctx, tc.in, got, tc.want)
		}
	}
}

// TestRedactEmails: e-mail addresses go only when configured, typed or
// spoken, and with them nothing else.
func TestRedactEmails(t *testing.T) {
	on := Redaction{Emails: true}
	for _, tc := range []struct{ in, want string }{
		{"mail me at ann.lee@example.co.uk please", "mail me at [email] please"},
		{"it is ann dot lee at example dot com thanks", "it is [email] thanks"},
		{"john at gmail dot com and card 4111 1111 1111 1111", "[email] and card [card ending 1111]"},
		{"meet me at the store dot", "meet me at the store dot"},
		{"at example dot com", "at example dot com"},
	} {
		if got := on.Text(tc.in); got != tc.want {
			t.Errorf("Emails: Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if in := "mail ann@example.com"; Redact(in) != in {
		t.Errorf("Redact masked an e-mail without being asked: %q", Redact(in))
	}
	seg := on.Segment("", transcript.Segment{Text: "ann at example dot com", Words: []transcript.Word{
		{Text: "ann", StartMS: 0, EndMS: 100}, {Text: "at", StartMS: 100, EndMS: 200}, {Text: "example", StartMS: 200, EndMS: 300},
		{Text: "dot", StartMS: 300, EndMS: 400}, {Text: "com", StartMS: 400, EndMS: 500}}})
	if seg.Text != MaskEmail || len(seg.Words) != 1 || seg.Words[0].Text != MaskEmail || seg.Words[0].EndMS != 500 {
		t.Errorf("spoken e-mail segment: %+v", seg)
	}
}

// TestDraftBareOrderNumber: a number read out alone, unasked and unnamed,
// is the order's in a call about an order, and nothing in other calls.
func TestDraftBareOrderNumber(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"where's my stuff. eight oh three three six. it was next day delivery.", "I'm sorry, it's been delayed at the depot."}, "80336"},
		{[]string{"my internet is down. eight oh three three six.", "I'll send an engineer."}, ""},
		{[]string{"my parcel hasn't come, my phone is. seven seven oh one two three four five six.", "I'll chase it."}, ""},
	} {
		segs := []transcript.Segment{{Speaker: transcript.Caller, Text: tc.lines[0]}, {Speaker: transcript.Agent, StartMS: 3000, Text: tc.lines[1]}}
		if got := Draft(transcript.Transcript{Segments: segs}, DraftOptions{}).Entities[EntityOrderNumber]; got != tc.want {
			t.Errorf("%q: order number %q, want %q", tc.lines[0], got, tc.want)
		}
	}
}

// TestRequestSentences: the part of a line that asks is weighted again,
// after a back-story or in unpunctuated speech.
func TestRequestSentences(t *testing.T) {
	got := requestSentences("We moved in March. My mother came to live with us. Can you tell me why the box says no signal?")
	if len(got) != 1 || got[0] != "can you tell me why the box says no signal" {
		t.Errorf("requestSentences = %q", got)
	}
	if got := requestSentences("so my grandson set it up and i need the wifi password"); len(got) != 1 || got[0] != "i need the wifi password" {
		t.Errorf("requestSentences = %q", got)
	}
	f := map[string]float64{}
	addGrams(f, "my bull", 0.5)
	if f["#^bu"] != 0.5 || f["#ll$"] != 0.5 || len(f) != 4 {
		t.Errorf("addGrams = %v", f)
	}
}

// TestDraftIVRSlots: a number the caller keyed to the IVR is in no
// segment; the ticket takes it from the IVR's slots, and the customer is
// keyed by an account-number slot. A number the caller gave the agent
// stands over the IVR's, and a slot that is no number is not taken.
func TestDraftIVRSlots(t *testing.T) {
	keyed := call("order_status",
		"s: what's your order number? say it, or key it and press hash",
		"a: hi you're through to sam, i can see your order, it's out for delivery today",
		"c: brilliant thanks")
	keyed.Slots = map[string]string{"order_number": "58213", "account_number": "7712045"}
	tk := Draft(keyed, DraftOptions{})
	if tk.Entities[EntityOrderNumber] != "58213" || tk.Entities[EntityAccountNumber] != "7712045" || tk.Customer.ID != "acct:7712045" {
		t.Errorf("keyed slots: entities %v, customer %+v", tk.Entities, tk.Customer)
	}
	if !strings.Contains(tk.Subject, "58213") {
		t.Errorf("subject %q names no order", tk.Subject)
	}
	told := call("order_status",
		"a: can i take the order number",
		"c: it's actually about my other order, six one two oh eight")
	told.Slots = map[string]string{"order_number": "58213"}
	if got := Draft(told, DraftOptions{}).Entities[EntityOrderNumber]; got != "61208" {
		t.Errorf("order number %q, want the one told to the agent", got)
	}
	odd := call("order_status", "c: where is my parcel")
	odd.Slots = map[string]string{"order_number": "five8", "account_number": " "}
	if e := Draft(odd, DraftOptions{}).Entities; e[EntityOrderNumber] != "" || e[EntityAccountNumber] != "" {
		t.Errorf("slots that are no numbers taken: %v", e)
	}
	card := call("billing", "c: it's about my bill")
	card.Slots = map[string]string{"account_number": "4111111111111111"}
	if got := RedactTranscript(card).Slots["account_number"]; strings.Contains(got, "4111") {
		t.Errorf("a card number in a slot kept: %q", got)
	}
}
