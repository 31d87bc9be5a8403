package tickets

import (
	"sort"
	"strings"
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
	// VIP makes the ticket urgent.
	VIP bool
	// Labels names categories in subjects ("order_status" → "Order
	// status"); missing ones are made from the intent name.
	Labels map[string]string
	// HighPriority lists the categories that are high priority whatever
	// the sentiment; nil means complaint and cancel.
	HighPriority []string
	// MaxSummary bounds each half of the summary (request, resolution) in
	// characters; 0 means 240.
	MaxSummary int
}

// Draft writes a ticket from a finished call's transcript: category from
// the intent, entities from what was said, sentiment from the caller's
// words, priority, subject, a short extractive summary with card numbers
// masked, tags, status open and the caller's number. ID, CreatedAt and
// UpdatedAt are left zero for the store to set.
func Draft(tr transcript.Transcript, opts DraftOptions) Ticket {
	category := strings.TrimSpace(tr.Intent)
	if category == "" {
		category = CategoryUnknown
	}
	entities := extractEntities(tr)
	sentiment := Sentiment(tr)
	t := Ticket{
		CallID:    tr.CallID,
		Category:  category,
		Priority:  priority(category, sentiment, opts),
		Subject:   subject(category, entities, opts),
		Summary:   summarize(tr, opts),
		Entities:  entities,
		Sentiment: sentiment,
		Status:    StatusOpen,
		Customer:  Customer{Phone: tr.CallerNumber},
	}
	t.Tags = []string{category, sentiment}
	keys := make([]string, 0, len(entities))
	for k := range entities {
		if k != EntityCurrency {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	t.Tags = append(t.Tags, keys...)
	if opts.VIP {
		t.Tags = append(t.Tags, "vip")
	}
	if tr.Incomplete {
		t.Tags = append(t.Tags, "incomplete_transcript")
	}
	return t
}

func priority(category, sentiment string, opts DraftOptions) string {
	high := opts.HighPriority
	if high == nil {
		high = []string{"complaint", "cancel"}
	}
	switch {
	case opts.VIP:
		return PriorityUrgent
	case sentiment == SentimentNegative:
		return PriorityHigh
	}
	for _, c := range high {
		if c == category {
			return PriorityHigh
		}
	}
	return PriorityNormal
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

// line is a segment's text with the text of the line before it.
type line struct{ text, prev string }

// lines lists the caller's lines, then the agent's (agents read numbers
// back), each with the line said before it by anyone.
func lines(tr transcript.Transcript) []line {
	var out []line
	for _, who := range []transcript.Speaker{transcript.Caller, transcript.Agent} {
		for k, s := range tr.Segments {
			if s.Speaker != who || strings.TrimSpace(s.Text) == "" {
				continue
			}
			l := line{text: s.Text}
			if k > 0 {
				l.prev = tr.Segments[k-1].Text
			}
			out = append(out, l)
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

// extractEntities finds order and account numbers, an amount and an
// e-mail address. A number counts as an order or account number when it
// follows that word, or when the line before it asked for one.
func extractEntities(tr transcript.Transcript) map[string]string {
	e := map[string]string{}
	set := func(k, v string) {
		if _, ok := e[k]; !ok && v != "" {
			e[k] = v
		}
	}
	ls := lines(tr)
	for _, l := range ls {
		if v, ok := slots.ExtractNumber(l.text, slots.OrderKeywords, 4, 10, true); ok {
			set(EntityOrderNumber, v)
		}
		if v, ok := slots.ExtractAccountNumber(l.text); ok {
			set(EntityAccountNumber, v)
		}
	}
	for _, l := range ls {
		order, account := mentions(l.prev, slots.OrderKeywords), mentions(l.prev, slots.AccountKeywords)
		if order && !account {
			if v, ok := slots.ExtractNumber(l.text, slots.OrderKeywords, 4, 10, false); ok {
				set(EntityOrderNumber, v)
			}
		}
		if account && !order {
			if v, ok := slots.ExtractNumber(l.text, slots.AccountKeywords, 4, 12, false); ok {
				set(EntityAccountNumber, v)
			}
		}
	}
	for _, l := range ls {
		if a, ok := slots.ExtractAmount(l.text); ok && e[EntityAmount] == "" {
			set(EntityAmount, a.Value)
			set(EntityCurrency, a.Currency)
		}
		if m, ok := slots.ExtractEmail(l.text); ok {
			set(EntityEmail, m)
		}
	}
	return e
}
