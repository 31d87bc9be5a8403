package slots

import (
	"regexp"
	"strconv"
	"strings"
)

var yesPhrases = [][]string{
	{"yes"}, {"yeah"}, {"yea"}, {"yep"}, {"yup"}, {"ya"}, {"sure"}, {"correct"}, {"right"},
	{"affirmative"}, {"ok"}, {"okay"}, {"absolutely"}, {"definitely"}, {"certainly"},
	{"uh", "huh"}, {"please", "do"}, {"go", "ahead"}, {"i", "do"}, {"it", "is"}, {"true"},
	{"exactly"}, {"indeed"},
}

var noPhrases = [][]string{
	{"no"}, {"nope"}, {"nah"}, {"negative"}, {"incorrect"}, {"wrong"}, {"not"},
	{"dont"}, {"isnt"}, {"never"}, {"cancel"}, {"false"},
}

// ParseYesNo reads a yes/no answer. ok is false when text is neither or is
// both in a way that cannot be told apart. Negated yes words ("not right",
// "that's not correct") are no; the first clear answer wins, so "no, yes
// it is" is no.
func ParseYesNo(text string) (yes, ok bool) {
	toks := words(text)
	for i := 0; i < len(toks); i++ {
		if matchAt(toks, i, noPhrases) > 0 {
			// "not sure" is neither.
			if (toks[i] == "not" || toks[i] == "dont") && i+1 < len(toks) && (toks[i+1] == "sure" || toks[i+1] == "know") {
				return false, false
			}
			return false, true
		}
		if n := matchAt(toks, i, yesPhrases); n > 0 {
			return true, true
		}
	}
	return false, false
}

func matchAt(toks []string, i int, phrases [][]string) int {
	for _, p := range phrases {
		if i+len(p) > len(toks) {
			continue
		}
		ok := true
		for k, w := range p {
			if toks[i+k] != w {
				ok = false
				break
			}
		}
		if ok {
			return len(p)
		}
	}
	return 0
}

// Amount is a sum of money mentioned in text.
type Amount struct {
	// Value is the amount with two decimals, "49.99".
	Value string
	// Currency is an ISO 4217 code when the text names one (USD, GBP, EUR), else "".
	Currency string
}

var (
	symbolAmountRE = regexp.MustCompile(`([$£€])\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?`)
	wordAmountRE   = regexp.MustCompile(`(?i)\b(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s*(dollars?|bucks|usd|pounds?|quid|gbp|euros?|eur)\b`)
)

var currencyWords = map[string]string{
	"$": "USD", "dollar": "USD", "dollars": "USD", "bucks": "USD", "usd": "USD",
	"£": "GBP", "pound": "GBP", "pounds": "GBP", "quid": "GBP", "gbp": "GBP",
	"€": "EUR", "euro": "EUR", "euros": "EUR", "eur": "EUR",
}

var minorWords = map[string]bool{"cents": true, "cent": true, "pence": true, "p": true}

// ExtractAmount finds the first sum of money in text: "$49.99", "49.99
// dollars", "forty nine dollars ninety nine", "twelve pounds fifty",
// "one hundred and twenty euros".
func ExtractAmount(text string) (Amount, bool) {
	if m := symbolAmountRE.FindStringSubmatch(text); m != nil {
		return Amount{Value: money(m[2], m[3]), Currency: currencyWords[m[1]]}, true
	}
	if m := wordAmountRE.FindStringSubmatch(text); m != nil {
		return Amount{Value: money(m[1], m[2]), Currency: currencyWords[strings.ToLower(m[3])]}, true
	}
	toks := words(text)
	for i := 0; i < len(toks); i++ {
		major, next, ok := cardinal(toks, i)
		if !ok || next >= len(toks) {
			continue
		}
		cur, isCur := currencyWords[toks[next]]
		if !isCur {
			i = next - 1
			continue
		}
		minor := 0
		j := next + 1
		if j < len(toks) && toks[j] == "and" {
			j++
		}
		if m, k, ok := cardinal(toks, j); ok && m < 100 {
			if k >= len(toks) || minorWords[toks[k]] || currencyWords[toks[k]] == "" {
				minor = m
			}
		}
		return Amount{Value: strconv.Itoa(major) + "." + pad2(minor), Currency: cur}, true
	}
	return Amount{}, false
}

func money(major, minor string) string {
	major = strings.ReplaceAll(major, ",", "")
	major = strings.TrimLeft(major, "0")
	if major == "" {
		major = "0"
	}
	switch len(minor) {
	case 0:
		minor = "00"
	case 1:
		minor += "0"
	}
	return major + "." + minor
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// cardinal reads a number said as words or digits at toks[i] ("one hundred
// and twenty", "forty nine", "49") and returns it and the index after it.
func cardinal(toks []string, i int) (int, int, bool) {
	if i >= len(toks) {
		return 0, i, false
	}
	if isNumeric(toks[i]) && len(toks[i]) <= 9 {
		n, err := strconv.Atoi(toks[i])
		return n, i + 1, err == nil
	}
	total, cur, j, any := 0, 0, i, false
	for ; j < len(toks); j++ {
		t := toks[j]
		if u, ok := unitWords[t]; ok {
			cur += u
		} else if n, ok := teenWords[t]; ok {
			cur += n
		} else if n, ok := tensWords[t]; ok {
			cur += n
		} else if t == "a" && j+1 < len(toks) && (toks[j+1] == "hundred" || toks[j+1] == "thousand") && !any {
			cur = 1
		} else if t == "hundred" && any {
			if cur == 0 {
				cur = 1
			}
			cur *= 100
		} else if t == "thousand" && any {
			if cur == 0 {
				cur = 1
			}
			total += cur * 1000
			cur = 0
		} else if t == "and" && any && j+1 < len(toks) && isNumberWord(toks[j+1]) {
			continue
		} else {
			break
		}
		any = true
	}
	if !any {
		return 0, i, false
	}
	return total + cur, j, true
}

func isNumberWord(t string) bool {
	if _, ok := unitWords[t]; ok {
		return true
	}
	if _, ok := teenWords[t]; ok {
		return true
	}
	_, ok := tensWords[t]
	return ok
}

var emailRE = regexp.MustCompile(`(?i)\b[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}\b`)

var tlds = map[string]bool{"com": true, "net": true, "org": true, "io": true, "co": true, "uk": true, "us": true, "edu": true, "gov": true, "de": true, "fr": true, "info": true, "me": true, "ca": true, "au": true}

// ExtractEmail finds an e-mail address, typed ("jo.smith@example.com") or
// spoken ("jo dot smith at gmail dot com"). For a spoken one the local part
// is the word before "at" plus any words joined to it by "dot",
// "underscore" or "dash".
func ExtractEmail(text string) (string, bool) {
	if m := emailRE.FindString(text); m != "" {
		return strings.ToLower(m), true
	}
	toks := words(text)
	joiner := map[string]string{"dot": ".", "underscore": "_", "dash": "-", "hyphen": "-", "period": "."}
	for i := 1; i+3 < len(toks); i++ {
		if toks[i] != "at" {
			continue
		}
		// Domain: word (dot word)+ ending in a known top-level domain.
		var dom []string
		j := i + 1
		dom = append(dom, toks[j])
		j++
		for j+1 < len(toks) && toks[j] == "dot" {
			dom = append(dom, toks[j+1])
			j += 2
		}
		if len(dom) < 2 || !tlds[dom[len(dom)-1]] {
			continue
		}
		// Local part, backwards.
		k := i - 1
		local := []string{toks[k]}
		for k-2 >= 0 {
			if sep, ok := joiner[toks[k-1]]; ok {
				local = append([]string{toks[k-2], sep}, local...)
				k -= 2
				continue
			}
			break
		}
		return strings.Join(local, "") + "@" + strings.Join(dom, "."), true
	}
	return "", false
}
