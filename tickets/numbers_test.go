package tickets

import (
	"testing"

	"github.com/contactd/contactd/ivr/slots"
)

func TestSpokenNumbers(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"it's three nine oh oh four", "39004"},
		{"two nine five five oh", "29550"},
		{"nine oh eight seven one two oh", "9087120"},
		{"oh oh seven one two", "00712"},
		{"double seven oh two nine", "77029"},
		{"one oh", "1"}, // "oh" after one digit, at the end, is a word
		{"oh i see five of them", "5"},
		{"it's six two four one one sorry no six two five one one", "62511"},
		{"five eight two sorry i mean five eight three one one", "58311"},
		{"four six three one one sorry four six three one oh", "46310"},
		{"five eight two one three no it hasn't arrived", "58213"},
		{"it's 5 8 2 1 3", "58213"},
		{"no numbers here", ""},
		{"one eight eight three five, no sorry, four at the end", "18834"},
		{"one eight eight three fifteen, no sorry, four at the end", "4"}, // no single last digit to replace
		{"nine oh two one four and nine oh three three seven", "9021490337"},
		{"nine zero five, five one. nine oh five five one.", "9055190551"}, // said twice: split in two ("also" between), ParseDigits reads both
		{"five five five five", "5555"},
	} {
		if got := slots.ParseDigits(spokenNumbers(tc.text)); got != tc.want {
			t.Errorf("spokenNumbers(%q) reads %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestOrderNumberAcrossTurns(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tr    []string
		order string
	}{
		{"split over two caller lines", []string{"c: where's my parcel", "a: what's the order number", "c: it's five eight", "c: three one nine", "a: thanks"}, "58319"},
		{"a count after the number is no digit of it", []string{"c: order two seven seven four five. three weeks. every time i ring", "a: i'm sorry"}, "27745"},
		{"split around a backchannel", []string{"a: can i take the reference", "c: eight one five", "a: go on", "c: two oh", "a: thank you"}, "81520"},
		{"split around the agent echoing the first part", []string{"c: hi yeah order one two six", "a: one two six", "c: eight zero", "a: one two six eight zero thanks"}, "12680"},
		{"an agent's different number between is no echo", []string{"a: what's the order number", "c: it's seven seven oh", "a: three one", "c: one moment"}, ""},
		{"the recogniser's \"for\" after the keyword", []string{"c: order number for two two nine one, where is it"}, "42291"},
		{"an order for things is no digit", []string{"c: i put in an order for two three seater sofas", "a: can i take the order number", "c: five five one two nine"}, "55129"},
		{"a reference with letters is no order's", []string{"c: my order's late again, i rang before and the reference was k t five five one nine two"}, ""},
		{"\"the parcel's\" is talk of an order", []string{"c: my parcel's late, it's sixty one twenty two eight"}, "61228"},
		{"said as a quantity with \"thousand\"", []string{"c: my order number is fifty eight thousand two hundred and fourteen, it hasn't shipped"}, "58214"},
		{"an order's worth is no order number", []string{"c: i put in an order worth twenty five thousand pounds for the office", "a: can i take the order number", "c: six one two oh eight"}, "61208"},
		{"a count of them after the number", []string{"c: order five eight two one four, two of them came broken"}, "58214"},
		{"\"for\" and a count after the number", []string{"c: it's order six one two oh eight for two chairs and neither came"}, "61208"},
		{"the recogniser's \"for\" inside the number", []string{"c: order number six one for two oh eight"}, "614208"},
		{"a number to reach the caller on", []string{"c: my parcel hasn't come", "a: what's the best number to reach you on", "c: five five five two one nine eight"}, ""},
		{"a number to call the caller back on", []string{"c: my parcel hasn't come", "a: what number can we call you back on", "c: five five five two one nine eight"}, ""},
		{"a house number", []string{"c: my parcel hasn't come", "a: what's the house number", "c: one two seven five"}, ""},
		{"a date of birth", []string{"c: my parcel hasn't come", "a: and your date of birth", "c: twelve oh four nineteen eighty"}, ""},
		{"another number after the agent finds nothing", []string{"a: what's the order number", "c: six one two oh eight", "a: hmm i can't find anything under that one", "c: oh sorry, let me look, it's six one two oh three"}, "61203"},
		{"a phone number after the agent finds nothing", []string{"a: what's the order number", "c: six one two oh eight", "a: nothing's coming up under that", "c: try my phone number, oh seven seven one two three four five six seven eight"}, "61208"},
		{"an \"order code\"", []string{"c: the order code is six one two oh eight and it hasn't come"}, "61208"},
		{"the old number taken back", []string{"c: order number five eight two one four, no wait, that's the old one, six one two oh eight"}, "61208"},
		{"my old number taken back", []string{"c: it's order five eight two one four, sorry that's my old order, the new one is six one two oh eight"}, "61208"},
		{"split after the keyword", []string{"c: i want to change the address on order eight three three", "c: four five"}, "83345"},
		{"a whole number, then a new sentence", []string{"a: what's the order number", "c: five eight two one three", "c: two days late it is"}, "58213"},
		{"corrected after the read-back", []string{"a: what's the order number", "c: five eight two one three", "a: five eight two one three is that right", "c: no sorry five eight two one four", "a: got it"}, "58214"},
		{"the read-back the caller lets stand", []string{"a: what's the order number", "c: nine hundred two thirteen", "a: nine zero zero two one three", "c: that's it"}, "900213"},
		{"a read-back of something else", []string{"a: what's the order number", "c: five eight two one three", "a: and the phone number is seven seven seven one two three four", "c: yes"}, "58213"},
		{"\"the number\" in a call about an order", []string{"c: has my parcel been sent yet", "a: what's the number", "c: four four one two nine"}, "44129"},
		{"\"the number\" in a call about something else", []string{"c: i want to change my details", "a: what's the number", "c: four four one two nine"}, ""},
		{"confirmed read-back", []string{"a: what's the order number", "c: five eight two one three", "a: five eight two one three", "c: yes that's it"}, "58213"},
		{"after the caller looks for it", []string{"c: where's my parcel", "a: order number?", "c: hang on let me find it", "a: no rush", "c: right it's four four zero one eight"}, "44018"},
		{"\"the order's\"", []string{"c: the order's four four oh one eight and it's late"}, "44018"},
		{"a stall is not a question", []string{"c: hang on let me find it", "c: four four zero one eight"}, ""},
		{"said before the keyword", []string{"c: about four four zero one eight, my order, where is it"}, "44018"},
		{"before the keyword, grouped", []string{"c: it's forty four, zero eighteen, that's my order"}, "44018"},
		{"a time before the keyword is no number", []string{"c: at ten thirty, my order still hadn't come"}, ""},
		{"a phone number before the keyword", []string{"c: my phone is seven seven one two three four, my order's late"}, ""},
		{"two orders, the first", []string{"c: i'm calling about two orders, nine oh two one four and nine oh three three seven"}, "90214"},
		{"the last digit corrected after a wrong read-back", []string{"c: the reference is five two oh nine six", "a: five two zero nine eight?", "c: six, six at the end", "a: sorry, five two zero nine six"}, "52096"},
		{"said twice in a row", []string{"a: can i take the order number", "c: nine zero five, five one. nine oh five five one."}, "90551"},
		{"the read-back's ending said again", []string{"c: it's about a lamp. order four seven seven zero eight", "a: four seven seven zero three", "c: eight. zero eight", "a: sorry four seven seven zero eight"}, "47708"},
		{"read back and agreed, then digits of something else", []string{"a: what's the order number", "c: nine hundred two thirteen", "a: nine zero zero two one three", "c: yes, one"}, "900213"},
		{"said after \"ordered\" with no keyword", []string{"c: i've got a coat my husband ordered, two two seven six one, and it's the wrong colour"}, "22761"},
		{"far from its keyword", []string{"c: can i change the delivery day on my order i won't be in on thursday it's zero four one one eight"}, "04118"},
		{"before a keyword in the next sentence", []string{"c: it's about six six nine one two. i cancelled that order and you took the money"}, "66912"},
		{"a phone number in a call about an order", []string{"c: my parcel hasn't come", "a: can i take a contact number", "c: seven seven oh oh nine one four eight"}, ""},
		{"an account number in a call about an order", []string{"c: my order hasn't come, my account is four four one two zero nine"}, ""},
		{"the last digit corrected, no read-back after", []string{"c: order five eight two one three", "a: five eight two one four", "c: no, three at the end"}, "58213"},
		{"the caller's own last digit corrected", []string{"a: what's the order number", "c: five eight two one three", "c: sorry, the last one's a nine"}, "58219"},
		{"the last digit in the same line", []string{"a: what's the order number", "c: one eight eight three five, no sorry, four at the end"}, "18834"},
		{"a year after the number", []string{"c: order six three three one eight, twenty twenty four, it hasn't come"}, "63318"},
		{"a year after the number, a new sentence", []string{"c: order three three nine eight one four oh. twenty twenty four i ordered it"}, "3398140"},
		{"a year said nineteen", []string{"c: order five eight two one three, nineteen ninety nine model, where is it"}, "58213"},
		{"pairs that look like a year stay the number", []string{"c: my order is twenty twenty four eighteen"}, "202418"},
		{"\"one box came\" after the number", []string{"c: order four eight one oh two one box came, the other's missing"}, "48102"},
		{"two orders, the one the caller repeats", []string{"c: i've got two orders nine oh two one four and nine oh three three seven", "c: it's nine oh three three seven that hasn't come"}, "90337"},
		{"two orders, the one the agent acts on", []string{"c: i had two orders, 61180 was fine, 67042 i want cancelled", "a: ok 67042 is cancelled"}, "67042"},
		{"two orders, the first repeated", []string{"c: orders nine oh two one four and nine oh three three seven", "a: nine oh two one four, that's out today"}, "90214"},
		{"a written year after the number", []string{"c: order five eight two one three, 2024, still not here"}, "58213"},
		{"\"two thousand and\" a year after the number", []string{"c: order five eight two one three, two thousand and twenty four"}, "58213"},
		{"two orders, \"the second one\"", []string{"c: i've got two orders, nine oh two one four and nine oh three three seven, the second one hasn't come"}, "90337"},
		{"two orders, \"the first one\" in the next line", []string{"c: my orders are nine oh two one four and nine oh three three seven", "a: mhm", "c: it's the first one i'm ringing about", "a: nine oh three three seven?", "c: no the first one"}, "90214"},
		{"two orders, \"the 58214 one\"", []string{"c: i'm calling about order 58213 and order 58214, the 58214 one is the late one"}, "58214"},
		{"a \"purchase number\"", []string{"c: hi my purchase number is five two two oh seven, can i cancel it"}, "52207"},
		{"a \"purchase number\" before the topic", []string{"a: can i take the purchase number", "c: eight one six six two"}, "81662"},
		{"a number in a call about a return", []string{"c: i want to return three nine nine six one, it came damaged"}, "39961"},
		{"a phone number in a call about a return", []string{"c: i want to return the router, my phone is seven seven one two three four five"}, ""},
		{"a fault's reference written with a letter", []string{"c: the storm took the line down and we've had no broadband since", "a: i can see an area fault logged, reference F4471902"}, ""},
		{"a courier's tracking number written with letters", []string{"c: where's my parcel, it's a vacuum cleaner", "a: it's with the courier, the tracking number is JD0144 9921 7730"}, ""},
		{"a written order number with a letter", []string{"c: my order number is W41772 and it's late"}, "41772"},
		{"a fault reference the agent gives", []string{"c: my broadband's down and i ordered a new router", "a: i've booked an engineer, your fault reference is FLT 20 77 31"}, ""},
		{"a complaint reference the agent gives", []string{"c: my order never came and nobody rang me back", "a: i've logged it, your complaint reference is 4471 dash 09"}, ""},
		{"a caller's complaint reference", []string{"c: i'm chasing my parcel, my complaint ref is five five oh three eight"}, ""},
		{"a cancellation reference", []string{"c: i want to cancel the delivery", "a: done, the cancellation reference is CX 55 18 09"}, ""},
		{"a reference the agent gives out", []string{"c: my order came to the old address", "a: i've logged that. your reference is 5503 882"}, ""},
		{"a confirmation number the agent gives out", []string{"c: i'd like to order the fibre", "a: perfect your confirmation number is w one two two five zero"}, ""},
		{"the agent's order reference given out", []string{"c: i want to order the blue one", "a: done, your order reference is five five oh three eight"}, "55038"},
		{"the agent asks for the reference", []string{"c: it's about my parcel", "a: what's your reference?", "c: five five oh three eight"}, "55038"},
		{"a zip code asked with \"on the order\"", []string{"a: and the zip code and last four of the card on the order?", "c: 02139, and 8850.", "a: thanks. what's the order number?", "c: seven oh oh four five one nine"}, "7004519"},
		{"the number on the order", []string{"c: where's my parcel", "a: what's the number on the order", "c: seven oh oh four five one nine"}, "7004519"},
		{"a return's tracking code spelled after \"it's\"", []string{"c: i sent a parcel back and i've had no refund", "a: do you have the return tracking number?", "c: yeah it's R T four four one seven six nine G B."}, ""},
		{"an order reference spelled with letters after \"it's\"", []string{"c: i'm ringing about a parcel", "a: could i take the order reference please", "c: yeah it's n w five six oh one four"}, "56014"},
		{"\"a long one\" before the number", []string{"a: have you got the order number handy?", "c: it's a long one. two two nine oh, five seven four, six one three."}, "2290574613"},
		{"misheard digits after the keyword", []string{"c: hi i want to return these order three three seven six to won oh"}, "3376210"},
		{"misheard digits inside an answer", []string{"a: what's the order number", "c: five five fire oh one ate three", "a: thanks"}, "5550183"},
		{"misheard digits, four real words around", []string{"a: can i have the order number", "c: four ate ate to seven oh won three"}, "48827013"},
		{"misheard digits read back by the agent", []string{"a: what's the order number", "c: it's nine won to oh oh for", "a: nine one two zero zero four", "c: yeah"}, "912004"},
		{"\"won\" opening a number after a noun", []string{"c: just checking a parcel won oh oh six six it's a present"}, "10066"},
		{"misheard digits just after \"order number\"", []string{"c: the extender order number to oh for for six won i can't get it to pair"}, "204461"},
		{"chunks read back by the agent join", []string{"c: i'm reading the order number off the email it's for six to oh", "a: four six two zero", "c: three three one nine", "a: three three one nine so four six two zero three three one nine", "c: yes"}, "46203319"},
		{"the caller says it again after a short read-back", []string{"a: what's the order number", "c: seven oh to one five five for ate", "a: sorry i got seven zero two one five five four and the last one", "c: eight. seven oh two one five five four eight", "a: thanks, so order seven zero two one five five four eight is rebooked"}, "70215548"},
		{"\"to\" and \"for\" as words in a call about an order", []string{"c: my parcel hasn't come and i went to the shop for milk and waited two to three hours for five of them"}, ""},
		{"a price after \"for\" is no digit", []string{"c: the one for nine hundred and ninety nine, can i order it in green"}, ""},
		{"a number in chunks with \"then\"", []string{"a: what's the order number", "c: it starts with nine nine then three four oh then seventy one"}, "9934071"},
		{"\"and then\" between chunks", []string{"c: my order's four four and then zero one eight"}, "44018"},
		{"a count after \"then\" is no chunk", []string{"a: what's the order number", "c: five eight two one four then two days later it came broken"}, "58214"},
		{"times with \"then\" are no number", []string{"c: my parcel hasn't come, they said two then three thirty"}, ""},
		{"misheard digits answering the question, no read-back", []string{"a: what's the order number", "c: for won won seven oh nine three to"}, "41170932"},
		{"misheard digits to the end of the answer", []string{"a: can i have the order number", "c: eight to nine oh won won for", "a: thanks one moment"}, "8290114"},
		{"\"to\" after the number answering the question is a word", []string{"a: what's the order number", "c: it's five eight two one four to be honest"}, "58214"},
		{"misheard digits answering the question after a stall", []string{"a: what's the order number", "c: hang on let me find it", "a: no rush", "c: right it's for won won seven oh nine three to"}, "41170932"},
		{"not after a long agent line", []string{"a: what's the order number", "c: it's seven seven oh", "a: sorry i need the whole number from the confirmation email please", "c: one moment"}, ""},
		{"a courier's code in capitals apart from its digits", []string{"a: what's the order number?", "c: It's 7736004.", "a: It was dispatched today. Tracking is PL 88 20 31 9.", "c: Perfect."}, "7736004"},
		{"a visit reference in capitals", []string{"c: The engineer was rude to my father.", "a: Do you have the visit reference?", "c: It's ENG 4 4 0 1 8, on the 16th."}, ""},
		{"a reference on a bill in capitals", []string{"c: I've had a final bill and I left months ago.", "a: Do you have the reference on the bill?", "c: It says FB 3 3 0 1 9 2."}, ""},
		{"an order number in capitals named as the order's", []string{"c: My order number is WB 5521 9 and it hasn't come."}, "55219"},
		{"an acronym before the number is no code", []string{"a: what's the order number?", "c: It's for the TV 55219."}, "55219"},
		{"an amount written beside the number is no digits of it", []string{"c: the bill says order three hundred and ten thousand and four, £22.50, what is that"}, "310004"},
		{"a comma after \"thousand\"", []string{"a: what's the order number?", "c: Six hundred and five thousand, two hundred and eleven."}, "605211"},
		{"a sentence after a number in digits", []string{"c: You charged me twice for order 418870. Three emails I've sent about it."}, "418870"},
		{"a count in words after a number in digits", []string{"c: order 418870 two payments went out"}, "418870"},
		{"\"not a three\" names a digit", []string{"a: what's the order number", "c: five five two oh nine three", "a: that one isn't coming up", "c: sorry, it ends in a six not a three. five five two oh nine six."}, "552096"},
		{"the caller's answer before the agent's own reference", []string{"a: can i take the order number?", "c: double four, one oh nine", "a: 441009, yes. I've booked the exchange, reference K 7 7 2 0.", "c: thanks"}, "441009"},
		{"an agent's quote reference", []string{"c: how much is the bigger tv", "a: it's five ninety nine. I've saved a quote, the quote reference is Q 5 5 1 0 2.", "c: lovely"}, ""},
		{"an agent's reference with one letter", []string{"c: my parcel is late", "a: i've chased the courier, reference T 2 2 9 0 1"}, ""},
		{"an order reference with one letter", []string{"c: my order reference is W 4 1 1 7 3, it's late"}, "41173"},
		{"the caller's number the agent repeats, before the agent's new order", []string{"c: i bought the lamp on three three eight one two oh and want the shade too", "a: yes three three eight one two oh, the shade is twenty pounds", "c: go on then", "a: done, your new order number is five five one two oh nine"}, "338120"},
		{"a number the agent repeats after a question for the phone", []string{"c: i ordered a rug", "a: what's your phone number", "c: seven seven one two oh nine", "a: seven seven one two oh nine, thanks, and the order number?", "c: four four oh one eight"}, "44018"},
		{"a correction after the agent says what the number is", []string{"a: what's the order number?", "c: three one two nine eight", "a: 31298, that's a kettle, delivered last week", "c: oh for heaven's sake, wrong email, that's my mum's. it's three one two nine four"}, "31294"},
		{"misheard pieces the agent reads back", []string{"a: what's the order number", "c: its for won", "a: mm hm", "c: ate to oh six", "a: four one eight two zero six, thanks", "c: yep"}, "418206"},
		{"misheard pieces read back, corrected, read back again", []string{"a: got the order number", "c: ate to six double won", "a: 82611", "c: no there's another six, ate to six six double won", "a: ok 826611, found it", "c: great"}, "826611"},
		{"a courier's code read back is no order", []string{"c: my parcel is stuck", "a: can i take the tracking number", "c: it's z q ate ate oh won", "a: so z q eight eight zero one, it's held at the depot"}, ""},
		{"a number taken back after it is said", []string{"a: do you have the order number?", "c: yes, it's 7 7 1 2 0 4. oh no, sorry, that's the lamp I sent back.", "a: no problem", "c: the table is five five one, two oh nine.", "a: 5 5 1 2 0 9, the oak table."}, "551209"},
		{"a number taken back as another kind", []string{"a: what's the order number", "c: er three one one nine four oh oh wait thats my account number isnt it", "a: sounds like it, the order one is six digits", "c: right it's six two oh nine one four"}, "620914"},
		{"the last digit said again after the number", []string{"a: what's the order number?", "c: Seven oh two, four four one. One at the end."}, "702441"},
		{"the last digit corrected after the number", []string{"a: what's the order number?", "c: seven oh two four four one. two at the end."}, "702442"},
		{"a price after \"for\" is no order number", []string{"c: my toaster hasn't come", "a: is that the order placed on monday for thirty nine ninety nine?", "c: yes", "a: so that's order four four one oh two nine, it ships tomorrow"}, "441029"},
		{"an agent's reference for what they raised", []string{"c: i want to make a formal complaint about my bills", "a: i've raised a complaint with the complaints team, reference four four one nine"}, ""},
		{"the caller takes back their number after the agent says what it is", []string{"a: which order?", "c: three three one oh nine two", "a: that's showing as a lamp, not a chair", "c: oh hang on, i've read it wrong. it's three three one oh nine five."}, "331095"},
		{"of two orders, the one named by its ending", []string{"a: have you got the order numbers", "c: yeah four four two oh one six and four four two oh one seven, it's the one seven one i want gone", "a: so keep four four two oh one six and cancel four four two oh one seven", "c: yes"}, "442017"},
		{"an agent who says both numbers reads neither back wrongly", []string{"a: the order numbers?", "c: six six one two oh eight and six six one two oh nine, cancel the oh nine one", "a: keep six six one two oh eight and cancel six six one two oh nine", "c: that's it"}, "661209"},
		{"\"nah\" corrects a read-back", []string{"a: what's the order number", "c: five one seven two two six", "a: five one seven two six six", "c: nah, two two six", "a: five one seven two two six, got it"}, "517226"},
		{"the whole number again at the end of a correction", []string{"a: what's the order number?", "c: Three eight one... four oh... six? Sorry, no, two. Four oh two. Three eight one four oh two."}, "381402"},
		{"the agent completes the first digits the caller has", []string{"c: my table hasn't come", "a: have you got the order number", "c: it starts six one two and the rest is smudged", "a: what's the surname", "c: okafor", "a: lovely so it's six one two four four oh, the oak table"}, "612440"},
		{"a number cut short, completed by the agent", []string{"a: order number?", "c: 2 0 9 7, then something, sorry", "a: under your email I've got 209733, the lamp", "c: that's it"}, "209733"},
		{"the digits said again when asked, read back", []string{"c: my parcel never came", "a: what's the order number", "c: it's four four one two oh nine", "a: i've got a kettle on that, are you sure", "c: no wait that's the one i sent back", "a: can you read me the number again", "c: right the parcel one is four four one nine two oh", "a: got it four four one nine two oh, it's at the depot"}, "441920"},
		{"the caller says the agent's number back", []string{"a: can i take the order number", "c: seven one three two five five", "a: seven one three two five five, i've got a rug on that", "c: a rug? no, it's a sofa", "a: let me search by your postcode", "c: l s six two q t", "a: right, i've got the sofa under seven one three five five two", "c: five five two, yes, sorry, seven one three five five two"}, "713552"},
		{"the caller names an order's letters", []string{"c: i got two emails, one says order k w three three one oh two that's the bedding i'm keeping and one says k w three three nine eight one that's the towels", "a: and the towels are going back", "c: yes", "a: ok three three nine eight one, the bath towels, i'll set up a return"}, "33981"},
		{"the agent's new order reference with letters", []string{"c: can i add the sports package", "a: done, it's live now. order reference S P 4 4 1 0 2."}, ""},
		{"a courier's number spelled, answering for the order's", []string{"c: where's my parcel", "a: what's your order number", "c: i only have the courier one it's h x r five five one two oh nine", "a: i'll look you up by email", "c: sam at mail dot com"}, ""},
		{"\"the other one\" before a number in digits", []string{"c: I've two orders, there's 771204, that one's fine, but the other one, 771290, I'd like to cancel.", "a: So keep 771204 and cancel 771290.", "a: Done, order 771290 is cancelled."}, "771290"},
		{"the last digit named, then the whole number", []string{"a: whats the order number", "c: five five one three oh two", "a: five five one three zero two", "c: no the last ones a six five five one three oh six"}, "551306"},
		{"a correction whose whole comes out a digit longer", []string{"a: Order number?", "c: Six six one, two oh four... sorry, two oh four eight. 6612048."}, "6612048"},
		{"a spoken count after a number in digits and a comma", []string{"a: got it, order 573014, six tins of paint, dispatched today"}, "573014"},
		{"an order number on the account", []string{"c: i want my ex taken off my account", "a: can you give me an order number on the account, so i know it's yours", "c: the last one was four four one nine oh two"}, "441902"},
		{"a gift receipt's reference when the order number was asked for", []string{"c: can i return a present without the receipt", "a: if you have the order number that's easiest", "c: there's a slip, it says gift receipt ref G R 2 2 7 1 9"}, ""},
		{"the ending said again before the caller explains", []string{"c: can i move it to next week? order two nine oh, five seven three.", "a: two nine oh five three seven?", "c: five seven three. seven before the three."}, "290573"},
		{"the agent completes a part the caller named unasked", []string{"c: just checking on a parcel its order twenty one oh four", "a: okay and the rest of it", "c: nine nine sorry", "a: two one oh four nine nine thats your garden chairs"}, "210499"},
		{"a whole number the agent reads back is no part", []string{"c: order double one four, five double nine.", "a: one one four five nine nine. one second."}, "114599"},
		{"a price after \"be\" in a line about a price", []string{"c: is there any deal on it", "a: you'll get ten percent on your first order, so it'd be sixty-two ten."}, ""},
		{"an amount in hundreds with a word of money ends the number", []string{"c: it's order seven seven one nine nine two oh two hundred and twelve bucks taken twice"}, "7719920"},
		{"the team answering asks for no order's number", []string{"a: orders this is kenji can i get the zip code on the order", "c: oh one nine four four", "a: and the order number", "c: it's number forty four seventy one"}, "4471"},
		{"an item number is a product's", []string{"c: is the tv in stock for delivery", "a: do you have the item number there", "c: it says item 3 0 7 1 9 4"}, ""},
		{"the last digit corrected in the same breath", []string{"a: what's the order number", "c: it's eight one five five six six no sorry last one's a two eight one five five six two"}, "815562"},
		{"a recogniser's numeral in a call about a return", []string{"c: hi i want to return a dress it's 602519 ugh sorry i'm so stressed", "a: what's wrong with the dress"}, "602519"},
		{"the agent names the order by its ending", []string{"c: i'd like to cancel an order please it's thirty eight forty twenty six i put it in twice", "a: i can see both the one ending four oh two six is the duplicate shall i cancel that one", "c: yes that one please"}, "384026"},
		{"a web order's letters and three digits", []string{"c: Order W E B seven three eight. It was due yesterday."}, "738"},
		{"a reference's letters and three digits are no order's", []string{"c: my order's late, i rang before and the reference was k t five five one"}, ""},
		{"\"oh wait\" after a number is no zero", []string{"a: whats the order number", "c: its eight one five oh four three. oh wait theres also a code on the packing slip, five five two nine one, do you need that", "a: no thats just the warehouse pick code"}, "815043"},
		{"a count of things after a comma", []string{"c: i sent some stuff back", "a: i can see a return on order nine oh six one two seven, two dresses, it reached the warehouse on the ninth"}, "906127"},
		{"\"the pillows one\" is no digit", []string{"c: i have two orders, nine oh two three eight eight came fine thats the bedding and the other is nine oh two four one seven that has the pillows", "a: let me pull up the pillows one, nine oh two four one seven"}, "902417"},
		{"the order number's letters named a few words before", []string{"a: hi, this is chloe.", "c: i've got a return to book. the order number on my email is W E B seven seven three one five."}, "77315"},
		{"customer services is the team, not a customer number", []string{"a: hi, this is chloe in customer services.", "c: i want to return a lamp, it's six one two oh eight"}, "61208"},
		{"\"hang on\" corrects in the same breath", []string{"a: what's the order number?", "c: two one five nine six, hang on, two one five nine six four."}, "215964"},
		{"a back-order asks for no number", []string{"a: i can put a back-order on for you now at today's price", "c: is that the sale price, the seventy nine ninety nine?"}, ""},
		{"an earlier call's reference", []string{"c: hiya i was on with you last week reference 44817 about prices for a tv bundle"}, ""},
		{"the rest asked for after a read-back of the part heard", []string{"a: can i have the order number", "c: one two eight eight for tea", "a: sorry one two eight eight four and then", "c: zero. one two eight eight four zero"}, "128840"},
		{"the caller's correction after the agent's \"that one\"", []string{"c: im after an update on my sofa order its two four oh five one eight", "a: hmm im getting a phone case on that one are you sure thats right", "c: oh sorry no its nine at the end two four oh five one nine"}, "240519"},
		{"the caller reads the same number again", []string{"c: It's order five five oh three two one eight.", "a: Hmm, I'm getting a set of headphones on that one. Could you read it again?", "c: Oh sorry, hang on... five five oh three two one... no, the last one's an eight. Five five oh three two one eight."}, "5503218"},
		{"misheard pieces the agent echoes, then reads back whole", []string{"a: do you have the order number", "c: yes for won ate", "a: four one eight", "c: six to oh", "a: four one eight six two zero", "c: yes"}, "418620"},
		{"an echo with a backchannel lets the caller go on", []string{"c: can somebody come and fetch the radio it doesn't work", "a: of course we can collect do you have the order number", "c: it's got a w and an e and a b at the front then won ate", "a: one eight yes", "c: three oh five is that a five or an s it's a five", "a: so web one eight three zero five", "c: that's it dear"}, "18305"},
		{"the number the agent finds for an unsure caller", []string{"c: order three seven for oh then it might be a five", "a: three seven four zero five and is there another digit", "c: one more looks like a nine or a zero honestly", "a: there's no three seven four zero five zero but three seven four zero five nine is a set of pans", "c: yes that's me pans"}, "374059"},
		{"\"three, not eight\" names the wrong digit", []string{"c: Order number four one seven zero nine eight.", "a: Four one seven zero nine eight... I have that as a lamp for someone in Glasgow, is that you?", "c: No, no. Sorry, I read wrong. The last is three, not eight. Four one seven zero nine three."}, "417093"},
		{"\"for\" between numerals is a word", []string{"c: i ordered a fridge order 218834 for 549 and my card has been charged twice"}, "218834"},
		{"a read-back after \"order\" of a number with a time before it", []string{"c: i need to cancel something i ordered last night at about 11 3 0 8 4 7 2 is the order", "a: so thats order three oh eight four seven two", "c: yes"}, "308472"},
		{"a count opening the sentence after the number", []string{"a: Do you have the order number?", "c: Forty-seven, twenty, eighteen. Sorry, four seven two zero one eight. Three office chairs."}, "472018"},
		{"the agent's repeat with the last digit misheard", []string{"c: your website says my order was dispatched a fortnight ago and its still not here seven oh two two six four", "a: seven oh two two six for let me have a look"}, "702264"},
		{"the digit named runs into the number said whole", []string{"a: Oh no! Do you have the order number?", "c: From the email, yeah, one five three seven two... hang on, the nine. One five three seven two nine."}, "153729"},
		{"a payment's reference", []string{"a: What's the order number?", "c: W E B, five two nine six zero. The second payment reference on my statement is 77104, if that helps."}, "52960"},
		{"a return's reference", []string{"c: i sent a jacket back two weeks ago and i havent had the refund yet", "a: have you got the returns reference from the label", "c: yeah r m a 3 3 0 9 1 5"}, ""},
		{"a product's numeral in a question about stock", []string{"c: hi do you have the lego castle set the big one 10305 in stock i want to get it for my sons birthday", "a: we do and if you order by 8pm tonight its next day delivery"}, ""},
		{"a count of tins after a whole number", []string{"a: okay whats the order number", "c: seven oh nine", "a: seven nine", "c: no seven oh nine then one one five", "a: seven zero nine one one five two tins of duck egg blue thats not been dispatched so ive cancelled it"}, "709115"},
		{"a count with a word before the things", []string{"a: thats fine whats the email on the account", "c: its r patel 88 at mail dot com", "a: okay i can see it order one one eight four oh two four garden chairs ordered on the ninth", "c: thats the one"}, "118402"},
		{"the last digit, then the whole number", []string{"a: order number?", "c: it's eight seven three one six.", "a: hmm, that one's a set of saucepans. could you double-check?", "c: ha, that's my mum's. sorry, mine ends in zero. eight seven three one zero."}, "87310"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := Draft(call("order_status", tc.tr...), DraftOptions{})
			if got := tk.Entities[EntityOrderNumber]; got != tc.order {
				t.Errorf("order number %q, want %q", got, tc.order)
			}
		})
	}
}

func TestMisheardDigits(t *testing.T) {
	for _, tc := range []struct {
		text  string
		heard []string
		want  string
	}{
		{"five five fire oh one ate three", nil, "five five 5 oh one 8 three"},
		{"four ate ate to seven oh won three", nil, "four 8 8 2 seven oh 1 three"},
		{"order three three won ate ate seven to they're the wrong size", nil, "order three three 1 8 8 seven to they're the wrong size"}, // "to" before no digit: a word
		{"order three three won ate ate seven to they're", []string{"3318872"}, "order three three 1 8 8 seven 2 they're"},                // read back
		{"it's nine won to oh oh for", nil, "it's nine won to oh oh for"},                                                                 // one real digit word: no number
		{"it's nine won to oh oh for", []string{"9120", "912004 yes"}, "it's nine 1 2 oh oh 4"},                                           // read back in full
		{"it's for six to oh", []string{"4620"}, "it's 4 six 2 oh"},
		{"it's for six to oh", nil, "it's for six to oh"},
		{"five five to oh won. no sorry", nil, "five five 2 oh 1. no sorry"},
		{"i went to the shop for milk", nil, "i went to the shop for milk"},
		{"two for one and three to five days", nil, "two for one and three to five days"},
		{"order five eight two one four for two chairs", nil, "order five eight two one four for two chairs"},
		{"the one for nine hundred and ninety nine", nil, "the one for nine hundred and ninety nine"},
		{"order number to oh for for six won i can't", nil, "order number 2 oh 4 4 six 1 i can't"},
		{"number to oh for for i can't", nil, "number to oh for for i can't"}, // no real digit word
		{"free two day delivery", nil, "free two day delivery"},               // one real digit word
		{"we won two tickets", nil, "we won two tickets"},
		{"a parcel won oh oh six six it's for me", nil, "a parcel 1 oh oh six six it's for me"},
	} {
		if got := misheardDigits(tc.text, tc.heard, false); got != tc.want {
			t.Errorf("misheardDigits(%q, %q) = %q, want %q", tc.text, tc.heard, got, tc.want)
		}
	}
}
