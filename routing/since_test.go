package routing

import (
	"testing"
	"time"
)

// A contact re-enqueued with the time it started waiting (a router rebuilt
// on another node) keeps its wait: it is on the step that wait reached and
// is served before a contact that arrived after it.
func TestEnqueueKeepsWaitSince(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	now := base
	rec := &recorder{}
	r := New(rec, Options{Now: func() time.Time { return now }})
	defer r.Close()
	if err := r.SetQueue(QueueConfig{Name: "orders", Skill: "orders",
		Steps: []Step{{After: 0, MinProficiency: 8}, {After: 30 * time.Second, MinProficiency: 1}}}); err != nil {
		t.Fatal(err)
	}
	r.SetAgent("low", map[string]int{"orders": 2}, 1)
	// Waited 40 s elsewhere: the relaxed step applies at once.
	if err := r.Enqueue(Contact{CallID: "old", Queue: "orders", Since: now.Add(-40 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := r.Enqueue(Contact{CallID: "new", Queue: "orders"}); err != nil {
		t.Fatal(err)
	}
	if err := r.SetState("low", Available, ""); err != nil {
		t.Fatal(err)
	}
	o, ok := rec.lastOffer()
	if !ok || o.CallID != "old" || o.Agent != "low" {
		t.Fatalf("offer %+v %v; want old to low (its 40 s wait reached the relaxed step)", o, ok)
	}
	// A Since in the future counts as now.
	if err := r.Enqueue(Contact{CallID: "future", Queue: "orders", Since: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	qs := r.Queues()
	if qs[0].LongestWaitMS != 40_000 {
		t.Fatalf("longest wait %d ms, want 40000", qs[0].LongestWaitMS)
	}
}
