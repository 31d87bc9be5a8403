package slots

import "testing"

func TestParseDigits(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"words", "five eight two one three", "58213"},
		{"typed spaced", "5 8 2 1 3", "58213"},
		{"typed", "58213", "58213"},
		{"oh as zero", "four oh seven one", "4071"},
		{"zero", "zero zero one", "001"},
		{"double", "double five three", "553"},
		{"triple", "triple seven two", "7772"},
		{"fillers", "um it's five eight uh two one three", "58213"},
		{"tens", "forty two seventeen", "4217"},
		{"tens alone", "twenty", "20"},
		{"hundred", "five hundred and twelve", "512"},
		{"hundred alone", "three hundred", "300"},
		{"hundred unit", "three hundred five", "305"},
		{"teen hundred", "twelve hundred", "1200"},
		{"tens and unit hundred", "forty five hundred", "4500"},
		{"teen hundred and", "nineteen hundred and six", "1906"},
		{"homophone between digits", "five to six", "526"},
		{"homophone not between digits", "i want to pay for five items", "5"},
		{"three and five misheard between digits", "two free nine fire one tree six", "2395136"},
		{"free not between digits", "two free months", "2"},
		{"oh interjection", "oh i see", ""},
		{"dashes", "58-213", "58213"},
		{"none", "i don't know it", ""},
		{"empty", "", ""},
		{"punctuated", "It's 5, 8, 2... 1 3.", "58213"},
		{"mixed", "five 8 two", "582"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseDigits(tt.in); got != tt.want {
				t.Errorf("ParseDigits(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExtractOrderNumber(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"after order", "my order number is five eight two one three", "58213", true},
		{"typed", "where is order 1234567", "1234567", true},
		{"no keyword", "it's 5 8 2 1 3", "58213", true},
		{"prefers order over phone", "my phone is 5551234 and the order is 998877", "998877", true},
		{"phone only", "my phone number is 5551234", "", false},
		{"too short", "order one two three", "", false},
		{"too long", "order 12345678901", "", false},
		{"account is not order", "my account number is 44129", "", false},
		{"reference", "the reference is double seven four one two", "77412", true},
		{"nothing", "hi there", "", false},
		{"card not order", "my card number is 4111111111", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ExtractOrderNumber(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ExtractOrderNumber(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestExtractAccountNumber(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"spoken", "my account number is four four one two nine", "44129", true},
		{"customer id", "customer number 99887766", "99887766", true},
		{"order is not account", "order 58213", "", false},
		{"no keyword", "it's 44129", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ExtractAccountNumber(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ExtractAccountNumber(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseYesNo(t *testing.T) {
	tests := []struct {
		in      string
		yes, ok bool
	}{
		{"yes", true, true},
		{"yeah that's right", true, true},
		{"Yes, please.", true, true},
		{"uh huh", true, true},
		{"correct", true, true},
		{"no", false, true},
		{"nope", false, true},
		{"that's not right", false, true},
		{"no yes it is", false, true},
		{"i'm not sure", false, false},
		{"what", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			yes, ok := ParseYesNo(tt.in)
			if yes != tt.yes || ok != tt.ok {
				t.Errorf("ParseYesNo(%q) = %v, %v; want %v, %v", tt.in, yes, ok, tt.yes, tt.ok)
			}
		})
	}
}

func TestExtractAmount(t *testing.T) {
	tests := []struct {
		in   string
		want Amount
		ok   bool
	}{
		{"I was charged $49.99 twice", Amount{"49.99", "USD"}, true},
		{"it cost £1,200", Amount{"1200.00", "GBP"}, true},
		{"they took 30 dollars", Amount{"30.00", "USD"}, true},
		{"forty nine dollars ninety nine", Amount{"49.99", "USD"}, true},
		{"twelve pounds fifty", Amount{"12.50", "GBP"}, true},
		{"one hundred and twenty euros", Amount{"120.00", "EUR"}, true},
		{"twenty dollars and five cents", Amount{"20.05", "USD"}, true},
		{"a hundred bucks", Amount{"100.00", "USD"}, true},
		{"my order number is five", Amount{}, false},
		{"no money here", Amount{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ExtractAmount(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ExtractAmount(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestExtractEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"it's Jo.Smith@Example.com thanks", "jo.smith@example.com", true},
		{"my email is john dot smith at gmail dot com", "john.smith@gmail.com", true},
		{"it is jane underscore doe at example dot co dot uk", "jane_doe@example.co.uk", true},
		{"i'm at home right now", "", false},
		{"look at this dot", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ExtractEmail(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ExtractEmail(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"five eight two", "double", "hundred", "a hundred and", "at dot com", "$", "oh oh oh", "triple double"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseDigits(s)
		ExtractOrderNumber(s)
		ExtractAccountNumber(s)
		ParseYesNo(s)
		ExtractAmount(s)
		ExtractEmail(s)
	})
}
