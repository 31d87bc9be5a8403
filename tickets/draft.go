package tickets

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/contactd/contactd/ivr/slots"
	"github.com/contactd/contactd/transcript"
)

// Entity keys Draft fills when the call mentions them.
const (
	EntityOrderNumber   = "order_number"
	EntityAccountNumber = "account_number"
	EntityAmount        = "amount"   // "49.99"
	EntityCurrency      = "currency" // ISO 4217, when said
	EntityEmail         = "email"
	EntityPhone         = "phone_number" // a number the caller gave, digits only
	EntityDate          = "date"         // the first date the caller named, 2006-01-02
)

// Sentiments.
const (
	SentimentPositive = "positive"
	SentimentNeutral  = "neutral"
	SentimentNegative = "negative"
)

// CategoryUnknown is the category of a call whose intent is not known.
const CategoryUnknown = "unknown"

// DraftOptions tune Draft. The zero value is ready to use.
type DraftOptions struct {
	// VIP marks the caller as a VIP (rules with vip: true; by default
	// urgent).
	VIP bool
	// Repeat marks a customer who called about the same thing recently.
	Repeat bool
	// Labels names categories in subjects ("order_status" → "Order
	// status"); missing ones are made from the intent name.
	Labels map[string]string
	// HighPriority lists categories that are high priority whatever the
	// sentiment, on top of the rules.
	HighPriority []string
	// Rules decide the priority; nil means DefaultRules.
	Rules []PriorityRule
	// BasePriority is the priority when no rule holds (the intent's
	// configured priority); "" means normal.
	BasePriority string
	// Now is when the call happened, for dates said in it ("tomorrow");
	// zero means time.Now.
	Now time.Time
	// MaxSummary bounds each part of the summary in characters; 0 means
	// 240.
	MaxSummary int
}

// Draft writes a ticket from a finished call's transcript: category from
// the intent, a sub-category and tags, entities from what was said (spoken
// digits normalised), sentiment at the start, the end and overall,
// priority from the rules (an angry caller is never below high), subject,
// an extractive summary of the problem, what the agent did and the
// outcome with next steps, follow-ups with due dates, status open and the
// customer. Card numbers, CVVs and national IDs are masked. ID, CreatedAt
// and UpdatedAt are left zero for the store to set.
func Draft(tr transcript.Transcript, opts DraftOptions) Ticket {
	tr = RedactTranscript(tr)
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	category := strings.TrimSpace(tr.Intent)
	if category == "" {
		category = CategoryUnknown
	}
	entities := extractEntities(tr, now)
	sentiment := Sentiment(tr)
	start, end := SentimentArc(tr)
	words := allWords(tr)
	outcome, follow := followUps(tr, now)
	t := Ticket{
		CallID:         tr.CallID,
		Category:       category,
		SubCategory:    subCategory(category, words),
		Subject:        subject(category, entities, opts),
		Entities:       entities,
		Sentiment:      sentiment,
		SentimentStart: start,
		SentimentEnd:   end,
		Status:         StatusOpen,
		Customer:       customerOf(tr.CallerNumber, entities),
		Outcome:        outcome,
		FollowUps:      follow,
	}
	t.Summary = summarize(tr, opts, outcome, follow)
	f := facts{category: category, sentiment: sentiment, words: words, vip: opts.VIP, repeat: opts.Repeat}
	angry := model().angry(tr.Segments)
	startScore, _ := arcScores(tr)
	t.Priority = priority(f, startScore <= veryNegativeAt, end, angry, opts)
	t.Tags = []string{category, sentiment}
	if t.SubCategory != "" {
		t.Tags = append(t.Tags, t.SubCategory)
	}
	keys := make([]string, 0, len(entities))
	for k := range entities {
		if k != EntityCurrency {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	t.Tags = append(t.Tags, keys...)
	for _, kt := range keywordTags {
		if anyPhrase(words, kt.phrases) && !slices.Contains(t.Tags, kt.tag) {
			t.Tags = append(t.Tags, kt.tag)
		}
	}
	if opts.VIP {
		t.Tags = append(t.Tags, "vip")
	}
	if opts.Repeat {
		t.Tags = append(t.Tags, "repeat_contact")
	}
	if tr.Incomplete {
		t.Tags = append(t.Tags, "incomplete_transcript")
	}
	return t
}

// customerOf keys the customer by account number when one was said, else
// by the caller's number.
func customerOf(phone string, e map[string]string) Customer {
	c := Customer{Phone: phone, AccountNumber: e[EntityAccountNumber]}
	switch {
	case c.AccountNumber != "":
		c.ID = "acct:" + c.AccountNumber
	case strings.TrimSpace(phone) != "":
		c.ID = "tel:" + strings.TrimSpace(phone)
	}
	return c
}

// CustomerID is the key Draft gives the customer of a caller number and
// account number (either may be empty).
func CustomerID(phone, account string) string {
	return customerOf(phone, map[string]string{EntityAccountNumber: account}).ID
}

// priority applies the rules, the high-priority categories and the angry
// caller's floor: a caller negative overall or at the end of the call, or
// very negative at its start, or one the anger model takes for angry
// (angry), is at least high.
func priority(f facts, veryNegativeStart bool, end string, angry bool, opts DraftOptions) string {
	rules := opts.Rules
	if rules == nil {
		rules = DefaultRules
	}
	base := opts.BasePriority
	if PriorityRank(base) < 0 {
		base = PriorityNormal
	}
	p := applyRules(rules, base, f)
	if slices.Contains(opts.HighPriority, f.category) {
		p = atLeast(p, PriorityHigh)
	}
	if angry || f.sentiment == SentimentNegative || end == SentimentNegative || veryNegativeStart {
		p = atLeast(p, PriorityHigh)
	}
	return p
}

// allWords is every caller and agent word, in order.
func allWords(tr transcript.Transcript) []string {
	var out []string
	for _, s := range tr.Segments {
		if s.Speaker == transcript.Caller || s.Speaker == transcript.Agent {
			out = append(out, wordsOf(s.Text)...)
		}
	}
	return out
}

// Label makes a readable name of a category: "order_status" → "Order
// status", unknown → "General enquiry".
func Label(category string, labels map[string]string) string {
	if l, ok := labels[category]; ok && l != "" {
		return l
	}
	if category == CategoryUnknown || category == "" {
		return "General enquiry"
	}
	s := strings.ReplaceAll(category, "_", " ")
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func subject(category string, e map[string]string, opts DraftOptions) string {
	s := Label(category, opts.Labels)
	switch {
	case e[EntityOrderNumber] != "":
		s += " – order " + e[EntityOrderNumber]
	case e[EntityAccountNumber] != "":
		s += " – account " + e[EntityAccountNumber]
	case e[EntityAmount] != "":
		s += " – " + e[EntityAmount]
		if c := e[EntityCurrency]; c != "" {
			s += " " + c
		}
	}
	return s
}

// spoken returns the segments of a speaker with text, in order.
func spoken(tr transcript.Transcript, who transcript.Speaker) []transcript.Segment {
	var out []transcript.Segment
	for _, s := range tr.Segments {
		if s.Speaker == who && strings.TrimSpace(s.Text) != "" {
			out = append(out, s)
		}
	}
	return out
}

// mentions reports whether text has one of the words.
func mentions(text string, words []string) bool {
	for _, t := range tokens(text) {
		for _, w := range words {
			if t.text == w {
				return true
			}
		}
	}
	return false
}

// orderTalk is talk of an order, after which "what's the number" asks for
// the order number.
// "The parcel's late" is talk of an order too ("parcel's" is "parcels"),
// and so is a return or a purchase ("i want to return three nine nine six
// one").
var orderTalk = []string{"order", "ordered", "parcel", "package", "delivery", "delivered", "dispatched", "shipped", "tracking",
	"orders", "parcels", "packages", "deliverys", "return", "returning", "purchase"}

// orderKeywords name an order's number: the IVR's, and "orders" ("two
// orders, nine oh two one four and …": the first said is taken).
var orderKeywords = append(slices.Clone(slots.OrderKeywords), "orders")

// otherNumbers are numbers that are not an order's.
var otherNumbers = []string{"phone", "mobile", "cell", "telephone", "landline", "card", "account", "customer", "postcode", "zip", "membership", "pin", "code", "contact"}

// asksOther reports whether a line asks for a number that is not an
// order's: one of otherNumbers, or a way to reach the caller ("the best
// number to reach you on", "what number can we call you back on"), a
// house or flat number, a date of birth.
func asksOther(line string) bool {
	line = customerTeam.ReplaceAllString(line, "team") // "this is chloe in customer services" asks for nothing
	return mentions(line, otherNumbers) || mentions(line, []string{"reach", "birth", "dob", "house", "flat", "apartment", "callback", "serial", "sku"}) ||
		mentions(line, []string{"back"}) && mentions(line, []string{"call", "ring", "phone"}) || productNumber(wordsOf(line))
}

// customerTeam is the team that answers, not a customer number.
var customerTeam = regexp.MustCompile(`(?i)\bcustomer\s+(services?|care|support|relations|team|experience)\b`)

// productNumber reports whether words name a product's number: "the item
// number", "model number", "product code".
func productNumber(w []string) bool {
	for i := 0; i+1 < len(w); i++ {
		switch w[i] {
		case "item", "product", "model", "part", "catalogue", "catalog", "stock":
			switch w[i+1] {
			case "number", "no", "code", "ref", "reference":
				return true
			}
		}
	}
	return false
}

// asksOrder reports whether a line names an order's number, so that the
// number answering it is the order's: one of orderKeywords, except, in a
// line asking for a number of another kind (asksOther), an order named as
// what that number belongs to ("the zip code and last four of the card on
// the order"; "the number on the order" still asks for the order's).
func asksOrder(line string) bool {
	w := wordsOf(line)
	other := asksOther(line)
	for i, x := range w {
		if !slices.Contains(orderKeywords, x) {
			continue
		}
		if other && i >= 2 && (w[i-1] == "the" || w[i-1] == "your" || w[i-1] == "that") && ownerOf[w[i-2]] {
			continue
		}
		if i > 0 && (w[i-1] == "back" || w[i-1] == "pre") {
			continue // "i can put a back-order on for you": no order's number asked
		}
		if x == "orders" && (i == 0 || i+1 < len(w) && deskWords[w[i+1]]) {
			continue // the team answering: "orders this is kenji can i get the zip code on the order"
		}
		return true
	}
	return false
}

// deskWords follow a team's name: "orders team", "orders desk".
var deskWords = map[string]bool{"team": true, "desk": true, "department": true, "dept": true, "line": true, "this": true, "here": true, "speaking": true}

// onlyOwner reports whether every keyword of line names the owner of
// another thing ("an order number on the account", "the email for your
// account"): "on the", "for your", … before it.
func onlyOwner(line string, keywords []string) bool {
	w := wordsOf(line)
	seen := false
	for i, x := range w {
		if !slices.Contains(keywords, x) {
			continue
		}
		seen = true
		if i < 2 || !(w[i-1] == "the" || w[i-1] == "your" || w[i-1] == "that") || !ownerOf[w[i-2]] {
			return false
		}
	}
	return seen
}

// ownerOf are the words before "the order" that make it the owner of
// another thing asked for ("the card on the order", "the email for the
// order").
var ownerOf = map[string]bool{"on": true, "for": true, "of": true, "from": true, "with": true, "to": true}

// slotDigits is an IVR slot's order or account number: digits only, as
// the IVR's extractors and keypad give them.
var slotDigits = regexp.MustCompile(`^\d{1,20}$`)

// phoneKeywords introduce a phone number.
var phoneKeywords = []string{"phone", "mobile", "cell", "telephone", "landline", "callback"}

// extractEntities finds order and account numbers, an amount and an
// e-mail address. A number counts as an order or account number when it
// follows that word, or when the line before it asked for one; the
// caller's lines are read before the agent's (agents read numbers back),
// with spoken numbers rewritten and joined across turns (numberLines);
// the agent's read-back, when the caller lets it stand, is the number
// (readBack), and a caller who corrects it has the last word.
func extractEntities(tr transcript.Transcript, now time.Time) map[string]string {
	e := map[string]string{}
	set := func(k, v string) {
		if _, ok := e[k]; !ok && v != "" {
			e[k] = v
		}
	}
	tr = heardDigits(tr)
	nl := numberLines(tr)
	ordered := slices.ContainsFunc(nl, func(l numberLine) bool { return mentions(l.text, orderTalk) })
	// The caller's lines are read before the agent's, each in three ways:
	// a number after its keyword, one before it, one answering a question
	// that asked for it. An agent's "reference r 3 1 8 8" for an exchange
	// they arranged comes after the caller's answer to "can i take the
	// order number".
	var ls []numberLine // the caller's, then the agent's
	for _, caller := range []bool{true, false} {
		var side []numberLine
		for _, l := range nl {
			if l.caller == caller {
				side = append(side, l)
			}
		}
		ls = append(ls, side...)
		for _, l := range side {
			if v, ok := slots.ExtractNumber(l.text, orderKeywords, 4, 10, true); ok {
				set(EntityOrderNumber, v)
			}
			if v, ok := slots.ExtractAccountNumber(l.text); ok {
				set(EntityAccountNumber, v)
			}
		}
		for _, l := range side {
			set(EntityOrderNumber, numberBefore(l.text, orderKeywords))
			set(EntityAccountNumber, numberBefore(l.text, slots.AccountKeywords))
		}
		for _, l := range side {
			// "an order number on the account": the account owns the order
			// asked for, as the order owns "the card on the order".
			order, account := asksOrder(l.prev), mentions(l.prev, slots.AccountKeywords) && !onlyOwner(l.prev, slots.AccountKeywords)
			if !order && !account && ordered && mentions(l.prev, []string{"number", "reference", "ref"}) && !asksOther(l.prev) {
				order = true // "what's the number" in a call about an order
			}
			if order && !account {
				if v, ok := slots.ExtractNumber(l.text, orderKeywords, 4, 10, false); ok {
					set(EntityOrderNumber, v)
				}
			}
			if account && !order {
				if v, ok := slots.ExtractNumber(l.text, slots.AccountKeywords, 4, 12, false); ok {
					set(EntityAccountNumber, v)
				}
			}
		}
		if caller && ordered {
			set(EntityOrderNumber, echoed(nl, e[EntityAccountNumber]))
		}
	}
	if ordered && e[EntityOrderNumber] == "" && e[EntityAccountNumber] == "" {
		prev := ""
		for _, s := range tr.Segments {
			if v := bareNumber(s.Text); s.Speaker == transcript.Caller && v != "" && !mentions(s.Text, otherNumbers) && !asksOther(prev) {
				set(EntityOrderNumber, v) // "where's my stuff. eight oh three three six."
			}
			prev = s.Text
		}
		prev = ""
		for _, s := range tr.Segments {
			if s.Speaker == transcript.Caller && !asksOther(prev) {
				set(EntityOrderNumber, spokenRun(s.Text)) // "it's about six six nine one two. i cancelled that order"
			}
			prev = s.Text
		}
	}
	if v := meantOf(nl, e[EntityOrderNumber], e[EntityAccountNumber]); v != "" {
		e[EntityOrderNumber] = v
	}
	if v := inLineCorrection(nl, e[EntityOrderNumber]); v != "" && v != e[EntityAccountNumber] {
		e[EntityOrderNumber] = v
	}
	for _, k := range []string{EntityOrderNumber, EntityAccountNumber} {
		if v := readBack(nl, e[k]); v != "" {
			e[k] = v
		}
		if v := corrected(nl, e[k]); v != "" {
			e[k] = v
		}
	}
	if v := completed(nl); v != "" && v != e[EntityAccountNumber] {
		e[EntityOrderNumber] = v
	}
	if v := restOf(tr.Segments); v != "" && v != e[EntityAccountNumber] && (e[EntityOrderNumber] == "" || strings.HasPrefix(v, e[EntityOrderNumber])) {
		e[EntityOrderNumber] = v
	}
	if v := agreed(tr.Segments, e[EntityOrderNumber], ordered); v != "" && v != e[EntityAccountNumber] {
		e[EntityOrderNumber] = v
	}
	if v := confirmed(tr.Segments); ordered && v != "" && e[EntityOrderNumber] != "" && v != e[EntityAccountNumber] {
		e[EntityOrderNumber] = v
	}
	if ordered && e[EntityOrderNumber] == "" {
		set(EntityOrderNumber, letteredOrder(tr))
	}
	if v := found(tr.Segments, e[EntityOrderNumber]); v != "" && v != e[EntityAccountNumber] {
		e[EntityOrderNumber] = v
	}
	// What the IVR collected, said or keyed (a keyed number is in no
	// segment), when the conversation names none: a number the caller
	// gave the agent is the later word, checked by a person.
	for _, k := range []string{EntityOrderNumber, EntityAccountNumber} {
		if v := strings.TrimSpace(tr.Slots[k]); e[k] == "" && slotDigits.MatchString(v) {
			e[k] = v
		}
	}
	for _, s := range tr.Segments {
		if (s.Speaker != transcript.Caller && s.Speaker != transcript.Agent) || strings.TrimSpace(s.Text) == "" {
			continue
		}
		if a, ok := slots.ExtractAmount(s.Text); ok && e[EntityAmount] == "" {
			set(EntityAmount, a.Value)
			set(EntityCurrency, a.Currency)
		}
		if m, ok := slots.ExtractEmail(s.Text); ok {
			set(EntityEmail, m)
		}
	}
	for _, l := range ls {
		if v, ok := slots.ExtractNumber(l.text, phoneKeywords, 7, 15, true); ok {
			set(EntityPhone, v)
		}
	}
	for _, s := range spoken(tr, transcript.Caller) {
		if d, ok := slots.ExtractDate(s.Text, now); ok {
			set(EntityDate, d.Format("2006-01-02"))
			break
		}
	}
	return e
}

// echoed is the first number of five digits or more that the caller says
// without naming it and the agent repeats in their next line ("i got the
// oak desk from you on seven one two three three oh" … "the oak desk yes
// seven one two three three zero"): the agent looked it up, so it is the
// caller's order, before any number only the agent says ("your new order
// number is …"). Not one answering a question for another kind of number
// (asksOther), nor one after a word naming another kind, nor account.
func echoed(nl []numberLine, account string) string {
	for i := 0; i+1 < len(nl); i++ {
		l, next := nl[i], nl[i+1]
		if !l.caller || next.caller || asksOther(l.prev) {
			continue
		}
		heard := numberRuns(next.text)
		w := wordsOf(l.text)
		for _, sp := range digitSpans(w) {
			a, b := sp[0], sp[1]
			other := false
			for k := max(0, a-4); k < a; k++ {
				other = other || slices.Contains(otherNumbers, w[k]) || slices.Contains(phoneKeywords, w[k]) || w[k] == "case"
			}
			d := slots.ParseDigits(strings.Join(w[a:b], " "))
			// The agent's repeat may end in a misheard last digit: "seven
			// oh two two six four" … "seven oh two two six for let me have
			// a look".
			repeated := slices.Contains(heard, d) || len(d) > 5 && misheardLast(next.text, d)
			if !other && len(d) >= 5 && len(d) <= 10 && d != account && repeated {
				return d
			}
		}
	}
	return ""
}

// spokenRun is the first number in text read out digit by digit or in
// groups (four digit words at least, or a numeral; five to eight digits)
// with no word naming another kind of number in the four words before
// it: a caller's order number said without its keyword near it ("a coat
// my husband ordered, two two seven six one", "can i change the delivery
// day on my order i won't be in on thursday it's zero four one one
// eight", "i want to return a dress its 602519"). Only a call about an
// order with no number named otherwise takes it for the order's. "" when
// there is none.
func spokenRun(text string) string {
	w := wordsOf(spokenNumbers(numberMarks(otherReferences(text, false), false, true)))
	for i := 0; i < len(w); i++ {
		if !numberWord(w[i]) {
			continue
		}
		j := i
		for j < len(w) && (numberWord(w[j]) || numberFillers[w[j]]) {
			j++
		}
		run, digitWords := w[i:j], 0
		for _, r := range run {
			if strings.Trim(r, "0123456789") == "" {
				if mentions(text, orderTalk) { // "i want to return a dress its 602519", not "the lego castle 10305"
					digitWords += len(r) // a recogniser's numeral
				}
			} else if numberWord(r) {
				digitWords++
			}
		}
		other := false
		for b := i - 1; b >= 0 && b >= i-4; b-- {
			other = other || slices.Contains(otherNumbers, w[b]) || slices.Contains(phoneKeywords, w[b]) || w[b] == "case"
		}
		if d := slots.ParseDigits(strings.Join(run, " ")); !other && digitWords >= 4 && len(d) >= 5 && len(d) <= 8 {
			return d
		}
		i = j
	}
	return ""
}

// bareNumber is the number of a sentence of text that is a number of five
// to eight digits and nothing else: a caller who reads out their order's
// number unasked and without naming it ("where's my stuff. eight oh three
// three six. it was next day delivery"). Only a call about an order with
// no number named otherwise takes it for the order's.
func bareNumber(text string) string {
	for _, sent := range sentenceSplit.Split(text, -1) {
		w := strings.Fields(spokenNumbers(sent))
		if len(w) == 0 || slices.ContainsFunc(w, func(x string) bool { return !numberWord(x) && strings.Trim(x, "0123456789") != "" }) {
			continue
		}
		if d := slots.ParseDigits(strings.Join(w, " ")); len(d) >= 5 && len(d) <= 8 {
			return d
		}
	}
	return ""
}
