package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/contactd/contactd/store"
)

// testCallbacks: pending callbacks survive a reopen, come back longest
// waiting first with every field, and go once deleted.
func testCallbacks(t *testing.T, open Opener) {
	s, c := open(t), ctx(t)
	cbs := []store.Callback{
		{ID: "cb2", CallID: "c2", Number: "+15550102", Queue: "sales", WaitingSince: base.Add(2 * time.Minute),
			ExpiresAt: base.Add(8 * time.Hour), CreatedAt: base.Add(3 * time.Minute)},
		{ID: "cb1", CallID: "c1", Number: "+15550101", Queue: "sales", Intent: "buy", Priority: 2, VIP: true, Value: 80,
			Sentiment: -0.5, PreferredAgent: "dave", WaitingSince: base.Add(time.Minute), ExpiresAt: base.Add(8 * time.Hour),
			CreatedAt: base.Add(4 * time.Minute)},
	}
	for _, cb := range cbs {
		must(t, s.AddCallback(c, cb), "AddCallback "+cb.ID)
	}
	if err := s.AddCallback(c, cbs[0]); !errors.Is(err, store.ErrConflict) {
		t.Errorf("AddCallback twice: %v, want ErrConflict", err)
	}
	if err := s.AddCallback(c, store.Callback{ID: "cb3", Queue: "sales"}); err == nil {
		t.Error("AddCallback without a number: no error")
	}
	s.Close()
	s = open(t) // a restart keeps them
	got, err := s.PendingCallbacks(c, 0)
	must(t, err, "PendingCallbacks")
	want := []store.Callback{cbs[1], cbs[0]}
	for i := range want {
		want[i].WaitingSince, want[i].ExpiresAt, want[i].CreatedAt = ms(want[i].WaitingSince), ms(want[i].ExpiresAt), ms(want[i].CreatedAt)
	}
	equal(t, got, want, "PendingCallbacks after a reopen")
	if got, err := s.PendingCallbacks(c, 1); err != nil || len(got) != 1 || got[0].ID != "cb1" {
		t.Errorf("PendingCallbacks(limit 1) = %+v, %v", got, err)
	}
	must(t, s.DeleteCallback(c, "cb1"), "DeleteCallback")
	if err := s.DeleteCallback(c, "cb1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteCallback twice: %v, want ErrNotFound", err)
	}
	got, err = s.PendingCallbacks(c, 0)
	must(t, err, "PendingCallbacks")
	if len(got) != 1 || got[0].ID != "cb2" {
		t.Errorf("after delete: %+v", got)
	}
}
