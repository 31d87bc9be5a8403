package hours

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	days, err := ParseDays("fri-mon")
	if err != nil || len(days) != 4 || days[0] != time.Friday || days[3] != time.Monday {
		t.Fatalf("fri-mon = %v, %v", days, err)
	}
	if d, err := ParseDays("sat,sun"); err != nil || len(d) != 2 {
		t.Fatalf("sat,sun = %v, %v", d, err)
	}
	spans, err := ParseSpans("08:00-12:00, 13:00-17:30")
	if err != nil || len(spans) != 2 || spans[1] != (Span{13 * 60, 17*60 + 30}) || !spans[0].Contains(8*60) || spans[0].Contains(12*60) {
		t.Fatalf("spans = %v, %v", spans, err)
	}
	if s, err := ParseSpans("closed"); err != nil || len(s) != 0 {
		t.Fatalf("closed = %v, %v", s, err)
	}
	for _, bad := range []string{"", "8-9", "09:00-08:00", "25:00-26:00", "09:00"} {
		if _, err := ParseSpans(bad); err == nil {
			t.Errorf("ParseSpans(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "monday", "mon-xyz"} {
		if _, err := ParseDays(bad); err == nil {
			t.Errorf("ParseDays(%q) accepted", bad)
		}
	}
}
