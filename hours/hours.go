// Package hours parses opening-hours specs shared by the IVR's business
// hours and the helpdesk's SLA calendar: day keys like "mon-fri" or
// "sat,sun" mapped to times like "08:00-20:00" (comma-separated) or
// "closed".
package hours

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Span is an open interval of a day, in minutes since midnight: [From, To).
type Span struct{ From, To int }

// Contains reports whether minute-of-day m is inside s.
func (s Span) Contains(m int) bool { return m >= s.From && m < s.To }

var weekdays = map[string]time.Weekday{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

// ParseDays reads "mon", "mon-fri", "fri-mon" (wrapping) or "sat,sun".
func ParseDays(key string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, part := range strings.Split(key, ",") {
		a, b, isRange := strings.Cut(strings.TrimSpace(strings.ToLower(part)), "-")
		from, ok1 := weekdays[a]
		to, ok2 := from, true
		if isRange {
			to, ok2 = weekdays[b]
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("want days like mon, mon-fri or sat,sun, got %q", key)
		}
		for d := from; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == to {
				break
			}
		}
	}
	return out, nil
}

// ParseSpans reads "08:00-12:00,13:00-17:00" or "closed" (no spans).
func ParseSpans(v string) ([]Span, error) {
	v = strings.TrimSpace(v)
	if v == "closed" {
		return []Span{}, nil
	}
	var out []Span
	for _, part := range strings.Split(v, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
		from, err1 := clock(a)
		to, err2 := clock(b)
		if !ok || err1 != nil || err2 != nil || from >= to {
			return nil, fmt.Errorf("want times like \"08:00-20:00\" (comma-separated, or closed), got %q", v)
		}
		out = append(out, Span{from, to})
	}
	return out, nil
}

func clock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return hh*60 + mm, nil
}
