package slots

import (
	"strconv"
	"strings"
	"time"
)

var monthWords = map[string]time.Month{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
	"may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
	"sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

var weekdayWords = map[string]time.Weekday{
	"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
}

var ordinalWords = map[string]int{
	"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
	"eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
	"fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
	"nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}

// ExtractDate finds a calendar date in text, relative to now (whose
// location is used): "today", "yesterday", "tomorrow", "last monday" and
// "on monday" (the most recent one, today excluded), "the fifth of march",
// "march 5th", "5 march", "twenty first of june", "3/14". A date without a
// year is the one nearest to now. It returns the date at midnight.
func ExtractDate(text string, now time.Time) (time.Time, bool) {
	toks := words(text)
	day := func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, now.Location())
	}
	for i, t := range toks {
		switch t {
		case "today":
			return day(now), true
		case "yesterday":
			return day(now.AddDate(0, 0, -1)), true
		case "tomorrow":
			return day(now.AddDate(0, 0, 1)), true
		}
		if wd, ok := weekdayWords[t]; ok {
			back := (int(now.Weekday()) - int(wd) + 7) % 7
			if back == 0 {
				back = 7
			}
			if i > 0 && toks[i-1] == "next" {
				return day(now.AddDate(0, 0, 7-back)), true
			}
			return day(now.AddDate(0, 0, -back)), true
		}
		if m, ok := monthWords[t]; ok && (t != "may" || nearDay(toks, i)) {
			if d, ok := dayNear(toks, i); ok {
				return nearest(now, m, d), true
			}
		}
	}
	// Numeric month/day written by a recogniser or typed: "3/14".
	for _, f := range strings.Fields(strings.ToLower(text)) {
		a, b, ok := strings.Cut(strings.Trim(f, ".,"), "/")
		if !ok {
			continue
		}
		m, err1 := strconv.Atoi(a)
		d, err2 := strconv.Atoi(b)
		if err1 == nil && err2 == nil && m >= 1 && m <= 12 && d >= 1 && d <= 31 {
			return nearest(now, time.Month(m), d), true
		}
	}
	return time.Time{}, false
}

// nearDay reports whether a day number sits next to toks[i] ("may" is also
// a verb).
func nearDay(toks []string, i int) bool {
	_, ok := dayNear(toks, i)
	return ok
}

// dayNear reads a day of the month right after the month ("march 5th",
// "march the fifth") or right before it ("5 march", "the fifth of march").
func dayNear(toks []string, i int) (int, bool) {
	if j := i + 1; j < len(toks) {
		if toks[j] == "the" {
			j++
		}
		if d, ok := dayAt(toks, j); ok {
			return d, true
		}
	}
	j := i - 1
	if j >= 0 && toks[j] == "of" {
		j--
	}
	if j >= 1 { // "twenty first"
		if d, ok := dayAt(toks, j-1); ok && d > 20 {
			return d, true
		}
	}
	if j >= 0 {
		if d, ok := dayAt(toks, j); ok {
			return d, true
		}
	}
	return 0, false
}

// dayAt reads a day number at toks[j]: "5", "5th", "fifth", "twenty first".
func dayAt(toks []string, j int) (int, bool) {
	if j < 0 || j >= len(toks) {
		return 0, false
	}
	t := toks[j]
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		if n, err := strconv.Atoi(strings.TrimSuffix(t, suf)); err == nil && strings.HasSuffix(t, suf) {
			t = strconv.Itoa(n)
			break
		}
	}
	if n, err := strconv.Atoi(t); err == nil {
		return n, n >= 1 && n <= 31
	}
	if n, ok := ordinalWords[t]; ok {
		return n, true
	}
	if n, ok := tensWords[t]; ok && j+1 < len(toks) {
		if u, ok := ordinalWords[toks[j+1]]; ok && u < 10 && n+u <= 31 {
			return n + u, true
		}
	}
	return 0, false
}

// nearest is the date with month m and day d closest to now.
func nearest(now time.Time, m time.Month, d int) time.Time {
	best := time.Time{}
	for _, y := range []int{now.Year() - 1, now.Year(), now.Year() + 1} {
		c := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
		if best.IsZero() || absDur(c.Sub(now)) < absDur(best.Sub(now)) {
			best = c
		}
	}
	return best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
