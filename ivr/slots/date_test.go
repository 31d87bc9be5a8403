package slots

import (
	"testing"
	"time"
)

func TestExtractDate(t *testing.T) {
	now := time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC) // a Wednesday
	tests := []struct {
		text string
		want string // "" = none
	}{
		{"i ordered it yesterday", "2025-03-11"},
		{"today", "2025-03-12"},
		{"it should come tomorrow", "2025-03-13"},
		{"i placed it on monday", "2025-03-10"},
		{"last wednesday", "2025-03-05"},
		{"next friday", "2025-03-14"},
		{"the fifth of march", "2025-03-05"},
		{"march 5th", "2025-03-05"},
		{"on march the twenty first", "2025-03-21"},
		{"twenty first of june", "2025-06-21"},
		{"14 december", "2024-12-14"},
		{"3/14", "2025-03-14"},
		{"i may call back", ""},
		{"where is my order", ""},
		{"march", ""},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got, ok := ExtractDate(tc.text, now)
			if tc.want == "" {
				if ok {
					t.Fatalf("got %v, want none", got)
				}
				return
			}
			if !ok || got.Format("2006-01-02") != tc.want {
				t.Fatalf("got %v %v, want %s", got, ok, tc.want)
			}
		})
	}
}
