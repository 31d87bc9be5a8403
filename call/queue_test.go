package call

import (
	"testing"
	"time"
)

func TestAnnouncement(t *testing.T) {
	for _, tc := range []struct {
		ahead    int
		wait     time.Duration
		callback bool
		want     string
	}{
		{0, 20 * time.Second, false, "You are number 1 in line. The estimated wait is less than a minute."},
		{1, 80 * time.Second, false, "You are number 2 in line. The estimated wait is about one minute."},
		{4, 9*time.Minute + 31*time.Second, true, "You are number 5 in line. The estimated wait is about 10 minutes. " + callbackOffer},
		{2, 0, false, "You are number 3 in line."},
	} {
		if got := announcement(tc.ahead, tc.wait, tc.callback); got != tc.want {
			t.Errorf("announcement(%d, %v, %v) = %q, want %q", tc.ahead, tc.wait, tc.callback, got, tc.want)
		}
	}
}
