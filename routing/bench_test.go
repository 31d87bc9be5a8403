package routing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// offerBook remembers the latest offer per agent, for benchmarks.
type offerBook struct {
	mu sync.Mutex
	by map[string]string
}

func (o *offerBook) AgentState(string, State)    {}
func (o *offerBook) OfferRevoked(string, string) {}
func (o *offerBook) Offer(of Offer)              { o.mu.Lock(); o.by[of.Agent] = of.CallID; o.mu.Unlock() }
func (o *offerBook) take(agent string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.by[agent]
	delete(o.by, agent)
	return c, ok
}

const (
	benchAgents  = 10_000
	benchWaiting = 1_000
	benchQueues  = 10
)

// benchRouter has 10,000 agents with three skills each (random proficiency)
// over 10 queues with mixed strategies and relaxing steps.
func benchRouter(b *testing.B) (*Router, *offerBook, *manualClock, *rand.Rand) {
	rng := rand.New(rand.NewPCG(1, 2))
	clock := &manualClock{t: time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)}
	book := &offerBook{by: map[string]string{}}
	r := New(book, Options{OfferTimeout: time.Hour, Now: clock.now})
	b.Cleanup(r.Close)
	strategies := []Strategy{LongestIdle, LeastOccupied, MostSkilled, RoundRobin}
	for i := range benchQueues {
		qc := QueueConfig{Name: fmt.Sprintf("q%d", i), Skill: fmt.Sprintf("s%d", i),
			Strategy: strategies[i%len(strategies)], SLATarget: 20 * time.Second, WrapUp: NoWrapUp,
			Steps: []Step{{MinProficiency: 7}, {After: 30 * time.Second, MinProficiency: 3}}}
		if i != benchQueues-1 {
			qc.Steps = append(qc.Steps, Step{After: 90 * time.Second, Overflow: fmt.Sprintf("q%d", benchQueues-1)})
		}
		if err := r.SetQueue(qc); err != nil {
			b.Fatal(err)
		}
	}
	for i := range benchAgents {
		sk := map[string]int{}
		for len(sk) < 3 {
			sk[fmt.Sprintf("s%d", rng.IntN(benchQueues))] = 1 + rng.IntN(10)
		}
		r.SetAgent(fmt.Sprintf("a%05d", i), sk, 1)
	}
	return r, book, clock, rng
}

type latencies []time.Duration

func (l latencies) report(b *testing.B, perOp float64) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	b.ReportMetric(float64(l[len(l)*99/100].Nanoseconds()), "p99-ns/decision")
	b.ReportMetric(float64(l[len(l)/2].Nanoseconds()), "p50-ns/decision")
	b.ReportMetric(perOp, "decisions/op")
}

// BenchmarkDispatch10kAgents1kWaiting measures routing decisions with 10,000
// agents and 1,000 waiting calls.
//
// agent_frees: every agent is busy (or unqualified) and 1,000 calls wait;
// each op releases a busy agent (the router picks the best waiting call for
// it) and, when it took one, the agent accepts and a new call arrives (the
// router looks for an agent and queues it). Every 100 ops the clock moves 1 s
// and Tick relaxes requirements.
//
// call_arrives: 1,000 calls wait for a skill nobody has while the 10,000
// agents are free; each op is a call arriving and being offered at once,
// then accepted and released (the router looks for more work for the
// agent): two decisions.
func BenchmarkDispatch10kAgents1kWaiting(b *testing.B) {
	b.Run("agent_frees", func(b *testing.B) {
		r, book, clock, rng := benchRouter(b)
		for i := range benchAgents {
			if err := r.SetState(fmt.Sprintf("a%05d", i), Available, ""); err != nil {
				b.Fatal(err)
			}
		}
		var busy []string
		n := 0
		enqueue := func() {
			n++
			if err := r.Enqueue(Contact{CallID: fmt.Sprintf("c%d", n), Queue: fmt.Sprintf("q%d", rng.IntN(benchQueues)),
				Priority: Priority(rng.IntN(4)), VIP: rng.IntN(20) == 0, Value: rng.IntN(100)}); err != nil {
				b.Fatal(err)
			}
		}
		acceptAll := func() {
			book.mu.Lock()
			offered := book.by
			book.by = map[string]string{}
			book.mu.Unlock()
			for u, c := range offered {
				if err := r.Accept(u, c); err != nil {
					b.Fatal(err)
				}
				busy = append(busy, u)
			}
		}
		// Fill: calls until 1,000 wait with nobody qualified free, relaxing as we go.
		for round := 0; ; round++ {
			for range 2000 {
				enqueue()
			}
			acceptAll()
			clock.add(100 * time.Second)
			r.Tick()
			acceptAll()
			waiting := 0
			for _, q := range r.Queues() {
				waiting += q.WaitingCount
			}
			if waiting >= benchWaiting {
				break
			}
		}
		// Trim to exactly 1,000 waiting, oldest first.
		for waiting := 0; ; {
			waiting = 0
			var ids []string
			for _, q := range r.Queues() {
				waiting += q.WaitingCount
				ids = append(ids, q.Waiting...)
			}
			if waiting <= benchWaiting {
				break
			}
			for _, id := range ids[:waiting-benchWaiting] {
				r.Cancel(id)
			}
		}
		lat := make(latencies, 0, 2*b.N)
		b.ResetTimer()
		for i := range b.N {
			k := rng.IntN(len(busy))
			u := busy[k]
			t0 := time.Now()
			r.Release(u)
			lat = append(lat, time.Since(t0))
			if c, ok := book.take(u); ok {
				if err := r.Accept(u, c); err != nil {
					b.Fatal(err)
				}
				t0 = time.Now() // replace the call taken: 1,000 keep waiting
				enqueue()
				lat = append(lat, time.Since(t0))
			} else {
				busy[k] = busy[len(busy)-1]
				busy = busy[:len(busy)-1]
			}
			if i%100 == 99 {
				clock.add(time.Second)
				r.Tick()
				acceptAll()
			}
			if len(busy) == 0 {
				b.Fatal("ran out of busy agents")
			}
		}
		b.StopTimer()
		lat.report(b, float64(len(lat))/float64(b.N))
		waiting := 0
		for _, q := range r.Queues() {
			waiting += q.WaitingCount
		}
		b.ReportMetric(float64(waiting), "waiting-at-end")
	})
	b.Run("call_arrives", func(b *testing.B) {
		r, book, _, rng := benchRouter(b)
		if err := r.SetQueue(QueueConfig{Name: "rare", Skill: "rare"}); err != nil {
			b.Fatal(err)
		}
		for i := range benchWaiting {
			if err := r.Enqueue(Contact{CallID: fmt.Sprintf("rare%d", i), Queue: "rare"}); err != nil {
				b.Fatal(err)
			}
		}
		for i := range benchAgents {
			if err := r.SetState(fmt.Sprintf("a%05d", i), Available, ""); err != nil {
				b.Fatal(err)
			}
		}
		lat := make(latencies, 0, 2*b.N)
		b.ResetTimer()
		for i := range b.N {
			id := fmt.Sprintf("c%d", i)
			t0 := time.Now()
			err := r.Enqueue(Contact{CallID: id, Queue: fmt.Sprintf("q%d", rng.IntN(benchQueues)), Priority: 1})
			lat = append(lat, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			var u string
			book.mu.Lock()
			for a, c := range book.by {
				if c == id {
					u = a
				}
			}
			delete(book.by, u)
			book.mu.Unlock()
			if u == "" {
				b.Fatalf("call %s not offered", id)
			}
			if err := r.Accept(u, id); err != nil {
				b.Fatal(err)
			}
			t0 = time.Now()
			r.Release(u)
			lat = append(lat, time.Since(t0))
		}
		b.StopTimer()
		lat.report(b, 2)
	})
}

// BenchmarkPosition is the place-in-line query with 1,000 calls waiting
// and 1,000 or 10,000 logged-in agents, half of them with the queue's
// skill (too little of it to be offered the calls, so they wait). "kept"
// is Router.Position (an order-statistic tree of the queue, a count per
// skill); "scan" is the same answer by a pass over the queue and every
// agent, the way it was done before, as the peer in the same run.
func BenchmarkPosition(b *testing.B) {
	for _, nAgents := range []int{1_000, benchAgents} {
		setup := func(b *testing.B) (*Router, []string, *rand.Rand) {
			rng := rand.New(rand.NewPCG(5, 8))
			r := New(nil, Options{OfferTimeout: time.Hour})
			b.Cleanup(r.Close)
			if err := r.SetQueue(QueueConfig{Name: "rare", Skill: "rare", Steps: []Step{{MinProficiency: 10}}}); err != nil {
				b.Fatal(err)
			}
			for i := range nAgents {
				sk := map[string]int{fmt.Sprintf("s%d", rng.IntN(benchQueues)): 1 + rng.IntN(10)}
				if i%2 == 0 {
					sk["rare"] = 1 + rng.IntN(9)
				}
				u := fmt.Sprintf("a%05d", i)
				r.SetAgent(u, sk, 1)
				if err := r.SetState(u, Available, ""); err != nil {
					b.Fatal(err)
				}
			}
			ids := make([]string, benchWaiting)
			for i := range ids {
				ids[i] = fmt.Sprintf("c%d", i)
				if err := r.Enqueue(Contact{CallID: ids[i], Queue: "rare", Priority: Priority(rng.IntN(4)), Value: rng.IntN(100)}); err != nil {
					b.Fatal(err)
				}
			}
			return r, ids, rng
		}
		b.Run(fmt.Sprintf("kept/agents=%d", nAgents), func(b *testing.B) {
			r, ids, rng := setup(b)
			b.ResetTimer()
			for range b.N {
				p, err := r.Position(ids[rng.IntN(len(ids))])
				if err != nil || p.Agents != nAgents/2 {
					b.Fatalf("%+v %v", p, err)
				}
			}
		})
		b.Run(fmt.Sprintf("scan/agents=%d", nAgents), func(b *testing.B) {
			r, ids, rng := setup(b)
			b.ResetTimer()
			for range b.N {
				if _, n, ok := r.positionScan(ids[rng.IntN(len(ids))]); !ok || n != nAgents/2 {
					b.Fatal(n, ok)
				}
			}
		})
	}
}
