package routing

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// manualClock only moves when the test says so.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type harness struct {
	t     *testing.T
	r     *Router
	rec   *recorder
	clock *manualClock
	seen  int // offers already checked
}

// act is one step of a scenario.
type act func(h *harness)

func avail(u string) act {
	return func(h *harness) { h.must(h.r.SetState(u, Available, "")) }
}
func enq(c Contact) act     { return func(h *harness) { h.must(h.r.Enqueue(c)) } }
func call(id, q string) act { return enq(Contact{CallID: id, Queue: q, Priority: 1}) }
func accept(u, c string) act {
	return func(h *harness) { h.must(h.r.Accept(u, c)) }
}
func reject(u, c string) act {
	return func(h *harness) { h.must(h.r.Reject(u, c)) }
}
func release(u string) act { return func(h *harness) { h.r.Release(u) } }

// wait moves the clock and runs what became due.
func wait(d time.Duration) act {
	return func(h *harness) { h.clock.add(d); h.r.Tick() }
}

// offers checks the offers made since the last check, in order, as
// "agent/call"; none() is offers().
func offers(want ...string) act {
	return func(h *harness) {
		h.t.Helper()
		h.rec.mu.Lock()
		got := []string{}
		for _, o := range h.rec.offers[h.seen:] {
			got = append(got, o.Agent+"/"+o.CallID)
		}
		h.seen = len(h.rec.offers)
		h.rec.mu.Unlock()
		if fmt.Sprint(got) != fmt.Sprint(append([]string{}, want...)) {
			h.t.Fatalf("new offers = %v, want %v", got, want)
		}
	}
}

func state(u string, want State) act {
	return func(h *harness) {
		h.t.Helper()
		if a, _ := h.r.Agent(u); a.State != want {
			h.t.Fatalf("%s is %s, want %s", u, a.State, want)
		}
	}
}

// handled gives u a finished call of talk length on queue q (q must be
// otherwise empty and u the only free agent with its skill).
func handled(u, q string, talk time.Duration) act {
	return func(h *harness) {
		id := fmt.Sprintf("warm-%s-%d", u, h.seen)
		h.must(h.r.Enqueue(Contact{CallID: id, Queue: q}))
		h.must(h.r.Accept(u, id))
		h.clock.add(talk)
		h.r.Release(u)
		h.must(h.r.SetState(u, Available, ""))
		offers(u + "/" + id)(h)
	}
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

type agentSpec struct {
	name   string
	skills map[string]int
}

type scenario struct {
	name   string
	opts   Options
	queues []QueueConfig
	agents []agentSpec
	steps  []act
}

func runScenarios(t *testing.T, tests []scenario) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &manualClock{t: time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)}
			rec := &recorder{}
			opts := tc.opts
			if opts.OfferTimeout == 0 {
				opts.OfferTimeout = time.Hour
			}
			opts.Now = clock.now
			r := New(rec, opts)
			t.Cleanup(r.Close)
			for _, q := range tc.queues {
				if err := r.SetQueue(q); err != nil {
					t.Fatal(err)
				}
			}
			for _, a := range tc.agents {
				r.SetAgent(a.name, a.skills, 1)
			}
			h := &harness{t: t, r: r, rec: rec, clock: clock}
			for _, s := range tc.steps {
				clock.add(time.Millisecond) // distinct times, so idle order is the step order
				s(h)
			}
		})
	}
}

var relaxing = []Step{{After: 0, MinProficiency: 7}, {After: 30 * time.Second, MinProficiency: 3}, {After: 90 * time.Second, Overflow: "general"}}

func TestRelaxation(t *testing.T) {
	queues := []QueueConfig{{Name: "orders", Skill: "orders", Steps: relaxing}, {Name: "general", Skill: "general"}}
	agents := []agentSpec{
		{"novice", map[string]int{"orders": 2}},
		{"middle", map[string]int{"orders": 5}},
		{"expert", map[string]int{"orders": 8}},
		{"generalist", map[string]int{"general": 4}},
	}
	runScenarios(t, []scenario{
		{name: "expert first when free", queues: queues, agents: agents, steps: []act{
			avail("novice"), avail("middle"), avail("expert"), call("c1", "orders"), offers("expert/c1"),
		}},
		{name: "minimum drops to 3 after 30s with no other event", queues: queues, agents: agents, steps: []act{
			avail("novice"), avail("middle"), call("c1", "orders"), offers(),
			wait(29 * time.Second), offers(),
			wait(time.Second), offers("middle/c1"),
		}},
		{name: "relaxed contact is found by an agent freeing up later", queues: queues, agents: agents, steps: []act{
			call("c1", "orders"), wait(45 * time.Second), avail("novice"), offers(), avail("middle"), offers("middle/c1"),
		}},
		{name: "overflow to general after 90s", queues: queues, agents: agents, steps: []act{
			avail("novice"), avail("generalist"), call("c1", "orders"),
			wait(89 * time.Second), offers(),
			wait(time.Second), offers("generalist/c1"),
		}},
		{name: "overflow keeps the relaxed minimum", queues: queues, agents: agents, steps: []act{
			avail("generalist"), call("c1", "orders"), wait(100 * time.Second), offers("generalist/c1"),
			call("c2", "orders"), wait(100 * time.Second), avail("middle"), offers("middle/c2"),
		}},
		{name: "fresh strict contact does not block a relaxed one", queues: queues, agents: agents, steps: []act{
			call("old", "orders"), wait(40 * time.Second),
			enq(Contact{CallID: "vip", Queue: "orders", Priority: 3, VIP: true}),
			avail("middle"), offers("middle/old"),
		}},
	})
}

func TestStrategies(t *testing.T) {
	q := func(s Strategy) []QueueConfig {
		return []QueueConfig{{Name: "orders", Skill: "orders", Strategy: s, WrapUp: NoWrapUp}}
	}
	agents := []agentSpec{
		{"ann", map[string]int{"orders": 5}},
		{"ben", map[string]int{"orders": 9}},
		{"cat", map[string]int{"orders": 9}},
	}
	runScenarios(t, []scenario{
		{name: "longest idle", queues: q(LongestIdle), agents: agents, steps: []act{
			avail("cat"), avail("ann"), avail("ben"), call("c1", "orders"), offers("cat/c1"),
		}},
		{name: "default strategy is longest idle", queues: q(""), agents: agents, steps: []act{
			avail("ben"), avail("ann"), call("c1", "orders"), offers("ben/c1"),
		}},
		{name: "most skilled, ties to longest idle", queues: q(MostSkilled), agents: agents, steps: []act{
			avail("ann"), avail("cat"), avail("ben"), call("c1", "orders"), offers("cat/c1"),
			call("c2", "orders"), offers("ben/c2"),
			call("c3", "orders"), offers("ann/c3"),
		}},
		{name: "least occupied by talk time today", queues: q(LeastOccupied), agents: agents, steps: []act{
			avail("ann"), handled("ann", "orders", 100*time.Second),
			avail("ben"), handled("ben", "orders", 10*time.Second),
			avail("cat"), handled("cat", "orders", 50*time.Second),
			call("c1", "orders"), offers("ben/c1"),
			call("c2", "orders"), offers("cat/c2"),
		}},
		{name: "round robin rotates", queues: q(RoundRobin), agents: agents, steps: []act{
			avail("cat"), avail("ben"), avail("ann"),
			call("c1", "orders"), offers("ann/c1"), accept("ann", "c1"), release("ann"),
			call("c2", "orders"), offers("ben/c2"), accept("ben", "c2"), release("ben"),
			call("c3", "orders"), offers("cat/c3"), accept("cat", "c3"), release("cat"),
			call("c4", "orders"), offers("ann/c4"),
		}},
	})
}

func TestPriority(t *testing.T) {
	queues := []QueueConfig{{Name: "orders", Skill: "orders", SLATarget: 20 * time.Second}}
	agents := []agentSpec{{"ann", map[string]int{"orders": 5}}}
	c := func(id string, mod func(*Contact)) act {
		ct := Contact{CallID: id, Queue: "orders", Priority: 1}
		mod(&ct)
		return enq(ct)
	}
	plain := func(*Contact) {}
	runScenarios(t, []scenario{
		{name: "VIP before earlier regular", queues: queues, agents: agents, steps: []act{
			c("reg", plain), c("vip", func(c *Contact) { c.VIP = true }), avail("ann"), offers("ann/vip"),
		}},
		{name: "customer value", queues: queues, agents: agents, steps: []act{
			c("low", func(c *Contact) { c.Value = 10 }), c("high", func(c *Contact) { c.Value = 80 }),
			avail("ann"), offers("ann/high"),
		}},
		{name: "angry caller before calm one", queues: queues, agents: agents, steps: []act{
			c("calm", func(c *Contact) { c.Sentiment = 0.5 }), c("angry", func(c *Contact) { c.Sentiment = -0.8 }),
			avail("ann"), offers("ann/angry"),
		}},
		{name: "sentiment updated while waiting", queues: queues, agents: agents, steps: []act{
			c("a", plain), c("b", plain),
			func(h *harness) { h.must(h.r.SetSentiment("b", -1)) },
			avail("ann"), offers("ann/b"),
		}},
		{name: "aging: long wait beats higher priority", queues: []QueueConfig{{Name: "orders", Skill: "orders"}}, agents: agents, steps: []act{
			c("old", plain), wait(150 * time.Second), c("high", func(c *Contact) { c.Priority = 2 }),
			avail("ann"), offers("ann/old"),
		}},
		{name: "aging: short wait loses to higher priority", queues: []QueueConfig{{Name: "orders", Skill: "orders"}}, agents: agents, steps: []act{
			c("old", plain), wait(50 * time.Second), c("high", func(c *Contact) { c.Priority = 2 }),
			avail("ann"), offers("ann/high"),
		}},
		{name: "SLA risk beats urgent VIP", queues: queues, agents: agents, steps: []act{
			c("old", plain), wait(16 * time.Second),
			c("urgent", func(c *Contact) { c.Priority, c.VIP, c.Value = 3, true, 100 }),
			avail("ann"), offers("ann/old"),
		}},
		{name: "before the SLA risk point the urgent VIP wins", queues: queues, agents: agents, steps: []act{
			c("old", plain), wait(15 * time.Second),
			c("urgent", func(c *Contact) { c.Priority, c.VIP = 3, true }),
			avail("ann"), offers("ann/urgent"),
		}},
		{name: "score is documented formula", queues: queues, agents: agents, steps: []act{
			c("x", func(c *Contact) { c.Priority, c.VIP, c.Value, c.Sentiment = 2, true, 30, -0.5 }),
			wait(17 * time.Second),
			func(h *harness) {
				got, _ := h.r.Score("x")
				want := 200 + 150 + 30 + 50 + 17.002 + 1000 // +1ms: the harness's step spacing
				if got < want-0.01 || got > want+0.01 {
					h.t.Fatalf("score = %v, want %v", got, want)
				}
			},
		}},
	})
}

func TestStickyAgent(t *testing.T) {
	queues := []QueueConfig{{Name: "orders", Skill: "orders", Sticky: 10 * time.Second, WrapUp: NoWrapUp},
		{Name: "billing", Skill: "billing"}}
	agents := []agentSpec{
		{"ann", map[string]int{"orders": 5}},
		{"ben", map[string]int{"orders": 5}},
		{"cat", map[string]int{"billing": 5}},
		{"dan", map[string]int{"orders": 5}},
	}
	sticky := func(id, pref string) act {
		return enq(Contact{CallID: id, Queue: "orders", Priority: 1, PreferredAgent: pref})
	}
	busyAnn := []act{avail("ann"), call("x", "orders"), offers("ann/x"), accept("ann", "x"), avail("ben")}
	runScenarios(t, []scenario{
		{name: "preferred agent free gets it over the longest idle", queues: queues, agents: agents, steps: []act{
			avail("ben"), avail("ann"), sticky("c1", "ann"), offers("ann/c1"),
		}},
		{name: "held for the preferred agent who frees up in the window", queues: queues, agents: agents, steps: append(busyAnn,
			sticky("c1", "ann"), offers(), wait(5*time.Second), offers(), release("ann"), offers("ann/c1"),
		)},
		{name: "window ends: everyone", queues: queues, agents: agents, steps: append(busyAnn,
			sticky("c1", "ann"), wait(9*time.Second), offers(), wait(time.Second), offers("ben/c1"),
		)},
		{name: "preferred agent rejects: next agent at once", queues: queues, agents: agents, steps: []act{
			avail("ben"), avail("ann"), sticky("c1", "ann"), offers("ann/c1"), reject("ann", "c1"), offers("ben/c1"),
		}},
		{name: "preferred agent on break: no hold", queues: queues, agents: agents, steps: []act{
			avail("ben"), sticky("c1", "ann"), offers("ben/c1"),
		}},
		{name: "preferred agent rings and goes on break: offer and hold released", queues: queues, agents: agents, steps: []act{
			avail("ann"), call("y", "orders"), offers("ann/y"), sticky("c1", "ann"), offers(),
			func(h *harness) { h.must(h.r.SetState("ann", Break, "lunch")) },
			avail("ben"), offers("ben/y"), avail("dan"), offers("dan/c1"),
			func(h *harness) {
				if a, _ := h.r.Agent("ann"); a.State != Break || a.Reason != "lunch" {
					h.t.Fatalf("ann = %+v", a)
				}
			},
		}},
		{name: "preferred agent without the skill: no hold", queues: queues, agents: agents, steps: []act{
			avail("ben"), avail("cat"), sticky("c1", "cat"), offers("ben/c1"),
		}},
		{name: "queue without sticky time ignores the preference", queues: queues, agents: agents, steps: []act{
			avail("cat"), func(h *harness) { h.r.SetAgent("ann", map[string]int{"billing": 5}, 1) },
			avail("ann"), enq(Contact{CallID: "b1", Queue: "billing", PreferredAgent: "ann"}), offers("cat/b1"),
		}},
	})
}

func TestWrapUpAndOffers(t *testing.T) {
	queues := []QueueConfig{
		{Name: "orders", Skill: "orders", WrapUp: 30 * time.Second},
		{Name: "billing", Skill: "billing", WrapUp: NoWrapUp},
		{Name: "general", Skill: "general"},
	}
	agents := []agentSpec{
		{"ann", map[string]int{"orders": 5, "billing": 5, "general": 5}},
		{"ben", map[string]int{"orders": 5}},
	}
	opts := Options{WrapUp: 5 * time.Second, OfferTimeout: 20 * time.Second}
	runScenarios(t, []scenario{
		{name: "queue wrap-up overrides the default", opts: opts, queues: queues, agents: agents, steps: []act{
			avail("ann"), call("c1", "orders"), accept("ann", "c1"), release("ann"), state("ann", WrapUp),
			wait(29 * time.Second), state("ann", WrapUp), wait(time.Second), state("ann", Available),
		}},
		{name: "queue without wrap-up", opts: opts, queues: queues, agents: agents, steps: []act{
			avail("ann"), call("c1", "billing"), accept("ann", "c1"), release("ann"), state("ann", Available),
		}},
		{name: "default wrap-up", opts: opts, queues: queues, agents: agents, steps: []act{
			avail("ann"), call("c1", "general"), accept("ann", "c1"), release("ann"), state("ann", WrapUp),
			wait(5 * time.Second), state("ann", Available),
		}},
		{name: "waiting call goes to the agent leaving wrap-up", opts: opts, queues: queues, agents: agents, steps: []act{
			avail("ann"), call("c1", "orders"), accept("ann", "c1"), call("c2", "orders"), release("ann"),
			offers("ann/c1"), wait(30 * time.Second), offers("ann/c2"),
		}},
		{name: "unanswered offer moves on; two misses mean break", opts: opts, queues: queues, agents: agents, steps: []act{
			avail("ann"), avail("ben"), call("c1", "orders"), offers("ann/c1"),
			wait(20 * time.Second), offers("ben/c1"), state("ann", Available),
			call("c2", "orders"), offers("ann/c2"),
			wait(20 * time.Second), state("ann", Break),
			func(h *harness) {
				if a, _ := h.r.Agent("ann"); a.Reason != "missed offers" || a.MissedToday != 2 {
					h.t.Fatalf("ann = %+v", a)
				}
			},
		}},
	})
}

func TestStatistics(t *testing.T) {
	queues := []QueueConfig{{Name: "orders", Skill: "orders", SLATarget: 20 * time.Second, WrapUp: NoWrapUp}}
	agents := []agentSpec{{"ann", map[string]int{"orders": 5}}}
	runScenarios(t, []scenario{{name: "wallboard numbers", queues: queues, agents: agents, steps: []act{
		call("fast", "orders"), call("slow", "orders"), call("gone", "orders"),
		wait(10 * time.Second), avail("ann"), accept("ann", "fast"), wait(60 * time.Second), release("ann"),
		accept("ann", "slow"), func(h *harness) { h.r.Cancel("gone") },
		wait(30 * time.Second), call("new", "orders"), wait(4 * time.Second),
		func(h *harness) {
			q := h.r.Queues()[0]
			if q.Answered != 2 || q.AnsweredInSLA != 1 || q.Abandoned != 1 || q.WaitingCount != 1 ||
				q.ServiceLevel == nil || *q.ServiceLevel != 0.5 || q.LongestWaitMS != 4002 {
				h.t.Fatalf("queue = %+v", q)
			}
			a, _ := h.r.Agent("ann")
			if a.HandledToday != 2 || a.State != Busy || a.TimeInStateMS != 34005 || a.TalkTimeTodayMS != 60002+34005 {
				h.t.Fatalf("agent = %+v", a)
			}
		},
		wait(24 * time.Hour),
		func(h *harness) {
			q := h.r.Queues()[0]
			a, _ := h.r.Agent("ann")
			if q.Answered != 0 || q.Abandoned != 0 || q.ServiceLevel != nil || a.HandledToday != 0 {
				h.t.Fatalf("next day: queue = %+v agent = %+v", q, a)
			}
		},
	}}})
}

func TestSetQueueValidation(t *testing.T) {
	r := New(nil, Options{})
	defer r.Close()
	for _, tc := range []struct {
		name string
		qc   QueueConfig
	}{
		{"no skill", QueueConfig{Name: "q"}},
		{"bad strategy", QueueConfig{Name: "q", Skill: "s", Strategy: "fastest"}},
		{"steps out of order", QueueConfig{Name: "q", Skill: "s", Steps: []Step{{After: time.Minute}, {After: time.Second}}}},
		{"proficiency 11", QueueConfig{Name: "q", Skill: "s", Steps: []Step{{MinProficiency: 11}}}},
		{"overflow to itself", QueueConfig{Name: "q", Skill: "s", Steps: []Step{{Overflow: "q"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := r.SetQueue(tc.qc); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestDirectTransferAndClaim(t *testing.T) {
	queues := []QueueConfig{{Name: "orders", Skill: "orders", WrapUp: NoWrapUp}, {Name: "billing", Skill: "billing", WrapUp: NoWrapUp}}
	agents := []agentSpec{
		{"ann", map[string]int{"orders": 5}},
		{"ben", map[string]int{"orders": 5}},
		{"cat", map[string]int{"billing": 5}},
	}
	direct := func(id, to string) act {
		return enq(Contact{CallID: id, Queue: "orders", Priority: 1, PreferredAgent: to, Direct: true})
	}
	busyCat := []act{avail("cat"), enq(Contact{CallID: "b", Queue: "billing"}), offers("cat/b"), accept("cat", "b")}
	runScenarios(t, []scenario{
		{name: "to an agent without the queue's skill, over the longest idle", queues: queues, agents: agents, steps: []act{
			avail("ann"), avail("cat"), direct("x", "cat"), offers("cat/x"),
		}},
		{name: "held for a busy agent with no time limit", queues: queues, agents: agents, steps: append(busyCat,
			avail("ann"), direct("x", "cat"), offers(), wait(time.Hour), offers(), release("cat"), offers("cat/x"),
		)},
		{name: "declined: the queue takes it", queues: queues, agents: agents, steps: []act{
			avail("ann"), avail("cat"), direct("x", "cat"), offers("cat/x"), reject("cat", "x"), offers("ann/x"),
		}},
		{name: "agent goes on break: the queue takes it", queues: queues, agents: agents, steps: []act{
			avail("cat"), enq(Contact{CallID: "b", Queue: "billing"}), offers("cat/b"), avail("ben"),
			direct("x", "cat"), offers(), func(h *harness) { h.must(h.r.SetState("cat", Break, "")) }, offers("ben/x"),
		}},
		{name: "claim: busy, no offers, release frees", queues: queues, agents: agents, steps: []act{
			avail("ann"), func(h *harness) { h.must(h.r.Claim("ann")) }, state("ann", Busy),
			call("y", "orders"), offers(), release("ann"), offers("ann/y"),
		}},
	})
	r := New(&recorder{}, Options{})
	t.Cleanup(r.Close)
	if err := r.SetQueue(QueueConfig{Name: "orders", Skill: "orders"}); err != nil {
		t.Fatal(err)
	}
	r.SetAgent("ann", map[string]int{"orders": 5}, 1)
	if err := r.Enqueue(Contact{CallID: "x", Queue: "orders", PreferredAgent: "ann", Direct: true}); !errors.Is(err, ErrAgentAway) {
		t.Fatalf("direct to an offline agent: %v, want ErrAgentAway", err)
	}
	if err := r.Enqueue(Contact{CallID: "x", Queue: "orders", PreferredAgent: "nobody", Direct: true}); !errors.Is(err, ErrUnknownAgent) {
		t.Fatalf("direct to nobody: %v, want ErrUnknownAgent", err)
	}
	if err := r.Claim("ann"); !errors.Is(err, ErrAgentAway) {
		t.Fatalf("claim offline agent: %v, want ErrAgentAway", err)
	}
	if len(r.Queues()[0].Waiting) != 0 {
		t.Fatal("a refused direct contact stayed queued")
	}
}

func TestPositionAndHandoff(t *testing.T) {
	clock := &manualClock{t: time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)}
	rec := &recorder{}
	r := New(rec, Options{OfferTimeout: time.Hour, Now: clock.now})
	t.Cleanup(r.Close)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.SetQueue(QueueConfig{Name: "orders", Skill: "orders", WrapUp: NoWrapUp}))
	for _, a := range []string{"ann", "ben"} {
		r.SetAgent(a, map[string]int{"orders": 5}, 1)
	}
	// No history: 3 min per call. Ann busy with c0 for 2 minutes, ben on a
	// break: one agent, so the third caller waits 3 × 3 min.
	must(r.SetState("ann", Available, ""))
	must(r.Enqueue(Contact{CallID: "c0", Queue: "orders"}))
	must(r.Accept("ann", "c0"))
	for _, id := range []string{"c1", "c2", "c3"} {
		clock.add(time.Second)
		must(r.Enqueue(Contact{CallID: id, Queue: "orders"}))
	}
	p, err := r.Position("c3")
	must(err)
	if p.Ahead != 2 || p.Agents != 1 || p.EstimatedWait != 9*time.Minute {
		t.Fatalf("c3 position %+v, want 2 ahead, 1 agent, 9m", p)
	}
	clock.add(2 * time.Minute)
	r.Release("ann") // c0 took 2 min 3 s: the queue's handle time now
	must(r.SetState("ben", Available, ""))
	// ann and ben were offered c1 and c2, still ahead of c3 until answered:
	// (2+1) × 123 s ÷ 2 agents = 184.5 s, rounded up.
	if p, _ = r.Position("c3"); p.Ahead != 2 || p.Agents != 2 || p.EstimatedWait != 185*time.Second {
		t.Fatalf("after two offers c3 = %+v, want 2 ahead, 2 agents, 3m5s", p)
	}
	// Handoff keeps c1's place: the offer is withdrawn and the renamed
	// contact, first in line, is offered again.
	var offered string
	if v, _ := r.Agent("ann"); v.Offering != "" {
		offered = v.Offering
	}
	handed, err := r.Handoff(offered, "cb-"+offered)
	must(err)
	if handed.CallID != "cb-"+offered || handed.Queue != "orders" || !handed.Since.Equal(time.Date(2025, 3, 4, 9, 0, 1, 0, time.UTC)) {
		t.Fatalf("handed-off contact %+v, want the new id and c1's arrival", handed)
	}
	if _, err := r.Position(offered); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("old id still queued: %v", err)
	}
	if v, _ := r.Agent("ann"); v.Offering != "cb-"+offered {
		t.Fatalf("ann offering %q after the handoff, want the renamed contact", v.Offering)
	}
	if !r.HasQueue("orders") || r.HasQueue("nowhere") {
		t.Fatal("HasQueue")
	}
	if _, err := r.Handoff("nope", "x"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("handoff of nothing: %v", err)
	}
}

// TestEnqueueSince: a contact that began to wait before (a callback
// re-armed after a restart) is queued in that place — ahead of one that
// arrived since with the same score — and at the relaxation step and SLA
// risk its wait has reached.
func TestEnqueueSince(t *testing.T) {
	clock := &manualClock{t: time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)}
	r := New(&recorder{}, Options{OfferTimeout: time.Hour, Now: clock.now})
	t.Cleanup(r.Close)
	if err := r.SetQueue(QueueConfig{Name: "sales", Skill: "sales", SLATarget: 20 * time.Second,
		Steps: []Step{{MinProficiency: 8}, {After: 30 * time.Second, MinProficiency: 2}}}); err != nil {
		t.Fatal(err)
	}
	r.SetAgent("dan", map[string]int{"sales": 3}, 1)
	if err := r.Enqueue(Contact{CallID: "new", Queue: "sales"}); err != nil {
		t.Fatal(err)
	}
	clock.add(time.Second)
	if err := r.Enqueue(Contact{CallID: "cb", Queue: "sales", Since: clock.now().Add(-5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := r.Enqueue(Contact{CallID: "future", Queue: "sales", Since: clock.now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int{"cb": 0, "new": 1, "future": 2} {
		if p, err := r.Position(id); err != nil || p.Ahead != want {
			t.Errorf("%s: %+v %v, want %d ahead", id, p, err, want)
		}
	}
	// dan (proficiency 3) qualifies for the callback's relaxed step only.
	if err := r.SetState("dan", Available, ""); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Agent("dan"); v.Offering != "cb" {
		t.Fatalf("dan offered %q, want the callback (waiting 5 min: relaxed)", v.Offering)
	}
}
