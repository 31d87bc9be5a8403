package routing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// positionScan is Position the plain way — a pass over the queue's
// contacts and over every agent — the reference the kept counts and the
// order-statistic tree must agree with (and the benchmark's peer).
func (r *Router) positionScan(callID string) (ahead, agents int, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[callID]
	if !ok {
		return 0, 0, false
	}
	q := r.queues[e.Queue]
	for o := range q.all {
		if o != e && entryBefore(o, e) {
			ahead++
		}
	}
	for _, a := range r.agents {
		if a.skills[q.Skill] >= 1 && a.state != Offline && a.state != Break {
			agents++
		}
	}
	return ahead, agents, true
}

// TestPositionMatchesScan drives a router through random arrivals,
// hang-ups, offers, answers, rejections, state and skill changes, mood
// changes, queue changes and time passing, and checks every waiting
// call's Position against positionScan after each step.
func TestPositionMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	clock := &manualClock{t: time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)}
	book := &offerBook{by: map[string]string{}}
	r := New(book, Options{OfferTimeout: 20 * time.Second, Now: clock.now})
	defer r.Close()
	queues := []string{"q0", "q1", "q2"}
	for i, name := range queues {
		if err := r.SetQueue(QueueConfig{Name: name, Skill: fmt.Sprintf("s%d", i), SLATarget: 30 * time.Second, Sticky: 10 * time.Second,
			Steps: []Step{{MinProficiency: 6}, {After: 20 * time.Second, MinProficiency: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	agents := make([]string, 40)
	skills := func() map[string]int {
		sk := map[string]int{}
		for range 1 + rng.IntN(3) {
			sk[fmt.Sprintf("s%d", rng.IntN(4))] = rng.IntN(11) // 0 does not count
		}
		return sk
	}
	for i := range agents {
		agents[i] = fmt.Sprintf("a%02d", i)
		r.SetAgent(agents[i], skills(), 1)
	}
	var calls []string
	n := 0
	check := func(step int, op string) {
		t.Helper()
		for _, id := range calls {
			p, err := r.Position(id)
			ahead, present, ok := r.positionScan(id)
			if err != nil || !ok {
				continue // taken by an agent meanwhile
			}
			if p.Ahead != ahead || p.Agents != present {
				t.Fatalf("step %d (%s): %s at ahead %d with %d agents, the scan says %d and %d", step, op, id, p.Ahead, p.Agents, ahead, present)
			}
		}
	}
	for step := range 3000 {
		var op string
		switch k := rng.IntN(100); {
		case k < 25:
			op = "arrive"
			n++
			id := fmt.Sprintf("c%d", n)
			c := Contact{CallID: id, Queue: queues[rng.IntN(len(queues))], Priority: Priority(rng.IntN(4)),
				VIP: rng.IntN(10) == 0, Value: rng.IntN(120), Sentiment: rng.Float64()*2 - 1}
			if rng.IntN(4) == 0 {
				c.PreferredAgent = agents[rng.IntN(len(agents))]
			}
			if r.Enqueue(c) == nil {
				calls = append(calls, id)
			}
		case k < 32 && len(calls) > 0:
			op = "hang up"
			i := rng.IntN(len(calls))
			r.Cancel(calls[i])
			calls = slices.Delete(calls, i, i+1)
		case k < 45:
			op = "answer or reject"
			book.mu.Lock()
			offered := book.by
			book.by = map[string]string{}
			book.mu.Unlock()
			for u, c := range offered {
				if rng.IntN(3) == 0 {
					_ = r.Reject(u, c)
				} else {
					_ = r.Accept(u, c)
				}
			}
		case k < 60:
			op = "agent state"
			u := agents[rng.IntN(len(agents))]
			switch rng.IntN(4) {
			case 0:
				r.Release(u)
			default:
				_ = r.SetState(u, []State{Available, Break, Offline}[rng.IntN(3)], "")
			}
		case k < 65:
			op = "skills"
			r.SetAgent(agents[rng.IntN(len(agents))], skills(), 1)
		case k < 75 && len(calls) > 0:
			op = "mood"
			_ = r.SetSentiment(calls[rng.IntN(len(calls))], rng.Float64()*2-1)
		case k < 77:
			op = "queue change"
			i := rng.IntN(len(queues))
			if err := r.SetQueue(QueueConfig{Name: queues[i], Skill: fmt.Sprintf("s%d", rng.IntN(4)), SLATarget: time.Duration(rng.IntN(40)) * time.Second,
				Steps: []Step{{MinProficiency: 1 + rng.IntN(9)}}}); err != nil {
				t.Fatal(err)
			}
		default:
			op = "time"
			clock.add(time.Duration(rng.IntN(8000)) * time.Millisecond)
			r.Tick()
		}
		check(step, op)
	}
	if len(calls) == 0 {
		t.Fatal("no calls left waiting: the walk tested nothing")
	}
}

// TestOSTree checks the treap's rank against a sorted slice through
// random inserts and deletes.
func TestOSTree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	tr := newOSTree(func(a, b int) bool { return a < b })
	var ref []int
	for range 5000 {
		x := rng.IntN(2000)
		i, found := slices.BinarySearch(ref, x)
		if found {
			if !tr.delete(x) {
				t.Fatalf("delete %d: not found", x)
			}
			ref = slices.Delete(ref, i, i+1)
		} else {
			if tr.delete(x) {
				t.Fatalf("delete %d: found an absent item", x)
			}
			tr.insert(x)
			ref = slices.Insert(ref, i, x)
		}
		if tr.Len() != len(ref) {
			t.Fatalf("len %d, want %d", tr.Len(), len(ref))
		}
		y := rng.IntN(2000)
		if got, want := tr.rank(y), rankIn(ref, y); got != want {
			t.Fatalf("rank(%d) = %d, want %d", y, got, want)
		}
	}
}

func rankIn(ref []int, y int) int { i, _ := slices.BinarySearch(ref, y); return i }
