package tickets

// subCategories refine a category by what was said: the first entry whose
// phrases occur wins. Entries under "" apply to any category.
var subCategories = map[string][]struct {
	name    string
	phrases []string
}{
	"order_status": {
		{"damaged_item", []string{"damaged", "broken", "smashed", "cracked"}},
		{"wrong_item", []string{"wrong item", "wrong size", "wrong colour", "wrong color", "not what i ordered"}},
		{"missing_item", []string{"missing", "never arrived", "didnt arrive", "lost"}},
		{"late_delivery", []string{"late", "delayed", "still waiting", "hasnt arrived", "not arrived", "hasnt come", "not come", "delay"}},
		{"tracking", []string{"tracking", "track", "where is", "status"}},
	},
	"returns": {
		{"damaged_item", []string{"damaged", "broken", "faulty", "defective", "torn"}},
		{"exchange", []string{"exchange", "swap", "different size", "replacement"}},
		{"refund", []string{"refund", "money back"}},
		{"return_label", []string{"label", "send it back", "return it", "drop off"}},
	},
	"billing": {
		{"double_charge", []string{"twice", "double", "charged two", "duplicate"}},
		{"refund", []string{"refund", "money back"}},
		{"incorrect_bill", []string{"wrong amount", "overcharged", "too much", "higher than", "incorrect"}},
		{"payment", []string{"pay", "payment", "direct debit", "card"}},
		{"invoice", []string{"invoice", "bill", "statement"}},
	},
	"tech_support": {
		{"outage", []string{"outage", "no internet", "internet is down", "down", "no connection", "not working at all"}},
		{"slow_speed", []string{"slow", "speed", "buffering", "lag"}},
		{"intermittent", []string{"dropping", "drops", "keeps disconnecting", "cuts out", "intermittent"}},
		{"wifi", []string{"wifi", "wi fi", "wireless", "password"}},
		{"router", []string{"router", "hub", "lights", "modem"}},
	},
	"account_access": {
		{"password_reset", []string{"password", "reset", "forgot"}},
		{"locked_out", []string{"locked", "lock", "blocked"}},
		{"two_factor", []string{"code", "verification", "two factor", "text message"}},
		{"account_details", []string{"email address", "change my", "update my", "details"}},
	},
	"cancel": {
		{"cancel_contract", []string{"contract", "broadband", "subscription", "plan", "service"}},
		{"cancel_order", []string{"order"}},
	},
	"complaint": {
		{"missed_appointment", []string{"engineer", "appointment", "never turned up", "no show", "didnt turn up", "didnt show"}},
		{"staff", []string{"rude", "attitude", "staff", "agent was"}},
		{"repeat_issue", []string{"third time", "again", "keeps happening", "second time"}},
		{"service", []string{"service"}},
	},
	"sales": {
		{"upgrade", []string{"upgrade", "faster", "better package"}},
		{"new_service", []string{"new", "sign up", "join", "switch to you"}},
		{"pricing", []string{"price", "cost", "deal", "offer", "how much"}},
	},
}

// subCategory picks the category's sub-category from the call's words.
func subCategory(category string, words []string) string {
	for _, sc := range subCategories[category] {
		if anyPhrase(words, sc.phrases) {
			return sc.name
		}
	}
	return ""
}

// keywordTags tag a ticket when their phrases are said.
var keywordTags = []struct {
	tag     string
	phrases []string
}{
	{"legal_threat", []string{"lawyer", "solicitor", "sue", "legal action", "court", "ombudsman"}},
	{"outage", []string{"outage", "no internet", "internet is down"}},
	{"refund", []string{"refund", "refunded", "money back"}},
	{"cancellation_risk", []string{"cancel", "leave", "switch provider", "take my business elsewhere"}},
	{"escalated", []string{"escalate", "escalated", "supervisor", "manager"}},
}
