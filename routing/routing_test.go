package routing

import (
	"errors"
	"sync"
	"testing"
	"time"
)

type recorder struct {
	mu      sync.Mutex
	offers  []Offer
	revokes []string
	states  map[string]State
}

func (r *recorder) AgentState(u string, s State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.states == nil {
		r.states = map[string]State{}
	}
	r.states[u] = s
}
func (r *recorder) Offer(o Offer) { r.mu.Lock(); r.offers = append(r.offers, o); r.mu.Unlock() }
func (r *recorder) OfferRevoked(u, c string) {
	r.mu.Lock()
	r.revokes = append(r.revokes, u+"/"+c)
	r.mu.Unlock()
}
func (r *recorder) lastOffer() (Offer, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.offers) == 0 {
		return Offer{}, false
	}
	return r.offers[len(r.offers)-1], true
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { c.t = c.t.Add(time.Second); return c.t }

func newTestRouter(t *testing.T, opts Options) (*Router, *recorder) {
	t.Helper()
	rec := &recorder{}
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	opts.Now = c.now
	r := New(rec, opts)
	t.Cleanup(r.Close)
	r.AddQueue("orders", "orders")
	r.AddQueue("billing", "billing")
	return r, rec
}

func TestRoutingScenarios(t *testing.T) {
	type step struct {
		do        func(r *Router) error
		wantOffer string // "agent/call" of the latest offer after the step, "" = don't check
		wantErr   error
	}
	avail := func(u string) func(*Router) error {
		return func(r *Router) error { return r.SetState(u, Available, "") }
	}
	enq := func(call, q string, p Priority) func(*Router) error {
		return func(r *Router) error { return r.Enqueue(Contact{CallID: call, Queue: q, Priority: p}) }
	}
	tests := []struct {
		name  string
		steps []step
		check func(t *testing.T, r *Router, rec *recorder)
	}{
		{name: "longest idle agent with the skill gets the offer", steps: []step{
			{do: avail("bob")}, {do: avail("alice")}, {do: avail("carol")},
			{do: enq("c1", "orders", 1), wantOffer: "bob/c1"},
		}},
		{name: "agent without the skill is never offered", steps: []step{
			{do: avail("carol")},
			{do: enq("c1", "billing", 1)},
		}, check: func(t *testing.T, r *Router, rec *recorder) {
			if len(rec.offers) != 0 {
				t.Fatalf("offers = %+v, want none", rec.offers)
			}
			if q := r.Queues()[0]; q.Name != "billing" || len(q.Waiting) != 1 {
				t.Fatalf("billing queue = %+v", q)
			}
		}},
		{name: "waiting call is offered when an agent becomes available", steps: []step{
			{do: enq("c1", "orders", 1)},
			{do: avail("alice"), wantOffer: "alice/c1"},
		}},
		{name: "reject moves the offer to the next agent", steps: []step{
			{do: avail("alice")}, {do: avail("bob")},
			{do: enq("c1", "orders", 1), wantOffer: "alice/c1"},
			{do: func(r *Router) error { return r.Reject("alice", "c1") }, wantOffer: "bob/c1"},
		}},
		{name: "higher priority is served first", steps: []step{
			{do: enq("low", "orders", 0)}, {do: enq("vip", "orders", 3)},
			{do: avail("alice"), wantOffer: "alice/vip"},
		}},
		{name: "accept makes the agent busy and release wraps up", steps: []step{
			{do: avail("alice")},
			{do: enq("c1", "orders", 1), wantOffer: "alice/c1"},
			{do: func(r *Router) error { return r.Accept("alice", "c1") }},
			{do: func(r *Router) error { return r.Accept("alice", "c1") }, wantErr: ErrNoOffer},
			{do: enq("c2", "orders", 1)},
		}, check: func(t *testing.T, r *Router, rec *recorder) {
			if a, _ := r.Agent("alice"); a.State != Busy {
				t.Fatalf("alice = %s, want busy", a.State)
			}
			if len(rec.offers) != 1 {
				t.Fatalf("busy agent got another offer: %+v", rec.offers)
			}
			r.Release("alice")
			if a, _ := r.Agent("alice"); a.State != WrapUp {
				t.Fatalf("after release alice = %s, want wrapup", a.State)
			}
		}},
		{name: "caller abandons while ringing", steps: []step{
			{do: avail("alice")},
			{do: enq("c1", "orders", 1), wantOffer: "alice/c1"},
			{do: func(r *Router) error { r.Cancel("c1"); return nil }},
		}, check: func(t *testing.T, r *Router, rec *recorder) {
			if a, _ := r.Agent("alice"); a.State != Available || a.Offering != "" {
				t.Fatalf("alice = %+v, want available with no offer", a)
			}
			if len(rec.revokes) != 1 || rec.revokes[0] != "alice/c1" {
				t.Fatalf("revokes = %v", rec.revokes)
			}
		}},
		{name: "unknown queue and agent are refused", steps: []step{
			{do: enq("c1", "nope", 1), wantErr: ErrUnknownQueue},
			{do: avail("zed"), wantErr: ErrUnknownAgent},
			{do: func(r *Router) error { return r.SetState("alice", Busy, "") }, wantErr: ErrBadState},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, rec := newTestRouter(t, Options{OfferTimeout: time.Hour, WrapUp: time.Hour})
			r.SetAgent("alice", map[string]int{"orders": 8}, 1)
			r.SetAgent("bob", map[string]int{"orders": 3, "billing": 9}, 1)
			r.SetAgent("carol", map[string]int{"support": 9}, 1)
			for i, s := range tc.steps {
				err := s.do(r)
				if !errors.Is(err, s.wantErr) {
					t.Fatalf("step %d: err = %v, want %v", i, err, s.wantErr)
				}
				if s.wantOffer != "" {
					o, ok := rec.lastOffer()
					if got := o.Agent + "/" + o.CallID; !ok || got != s.wantOffer {
						t.Fatalf("step %d: last offer = %q, want %q", i, got, s.wantOffer)
					}
				}
			}
			if tc.check != nil {
				tc.check(t, r, rec)
			}
		})
	}
}

func TestOfferTimeoutTwiceSetsBreak(t *testing.T) {
	r, rec := newTestRouter(t, Options{OfferTimeout: 20 * time.Millisecond, MaxMissedOffers: 2})
	r.SetAgent("alice", map[string]int{"orders": 8}, 1)
	var changes []StateChange
	var mu sync.Mutex
	r.mu.Lock()
	r.opts.OnStateChange = func(c StateChange) { mu.Lock(); changes = append(changes, c); mu.Unlock() }
	r.mu.Unlock()
	for i, call := range []string{"c1", "c2"} {
		if err := r.SetState("alice", Available, ""); err != nil && i == 0 {
			t.Fatal(err)
		}
		if i == 1 {
			// after one miss alice is available again and gets the next call
			waitFor(t, func() bool { a, _ := r.Agent("alice"); return a.Offering == "" })
			r.mu.Lock()
			r.agents["alice"].missed = 1
			r.mu.Unlock()
		}
		if err := r.Enqueue(Contact{CallID: call, Queue: "orders"}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { a, _ := r.Agent("alice"); return a.State == Break })
	mu.Lock()
	defer mu.Unlock()
	last := changes[len(changes)-1]
	if last.State != Break || last.Reason != "missed offers" {
		t.Fatalf("last change = %+v", last)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.revokes) == 0 {
		t.Fatal("no revoke sent for the missed offer")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
