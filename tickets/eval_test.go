package tickets

import (
	"github.com/contactd/contactd/internal/racedetect"
	"path/filepath"
	"testing"

	"github.com/contactd/contactd/tickets/ticketstest"

	"github.com/contactd/contactd/transcript"
)

// TestGoals measures the writer on the dev set and on the held-out set
// (never used for tuning) with the IVR's intent as the category: order
// numbers exactly right and angry callers at high or urgent. The
// category from the classifier is measured through the import path in
// package web (TestHeldOutImport).
func TestGoals(t *testing.T) {
	racedetect.SkipMeasure(t)
	for _, set := range []string{"dev", "heldout"} {
		t.Run(set, func(t *testing.T) {
			convs := ticketstest.MustLoad(t, filepath.Join("testdata", set))
			var orders, ordersRight, angry, angryHigh, falseHigh, calm int
			for _, c := range convs {
				tk := Draft(transcript.Transcript{CallID: c.ID, CallerNumber: c.CallerNumber, Intent: c.Category, Segments: c.Transcript}, DraftOptions{})
				got := tk.Entities[EntityOrderNumber]
				if c.OrderNumber != "" {
					orders++
				}
				if got == c.OrderNumber {
					if c.OrderNumber != "" {
						ordersRight++
					}
				} else {
					t.Errorf("%s: order number %q, want %q", c.ID, got, c.OrderNumber)
				}
				high := PriorityRank(tk.Priority) >= PriorityRank(PriorityHigh)
				if c.Angry {
					angry++
					if high {
						angryHigh++
					} else {
						t.Errorf("%s: angry caller at %s (sentiment %s→%s, overall %s)", c.ID, tk.Priority, tk.SentimentStart, tk.SentimentEnd, tk.Sentiment)
					}
				} else {
					calm++
					if high && c.Category != "complaint" && c.Category != "cancel" {
						falseHigh++
					}
				}
			}
			t.Logf("%s set: %d calls; order numbers %d/%d exactly right (no false ones: %v); angry callers at high/urgent %d/%d; calm callers raised to high %d/%d",
				set, len(convs), ordersRight, orders, !t.Failed(), angryHigh, angry, falseHigh, calm)
		})
	}
}
