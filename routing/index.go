package routing

// The matching side. Available agents sit in r.avail, one bucket per
// (skill, proficiency), each bucket a heap per strategy order; waiting
// contacts sit in one heap per (queue, step), by score. So:
//
//   - a contact looks at the tops of at most 10 buckets per skill it may use
//     (its queue's, from the step's minimum proficiency up, plus overflow
//     skills) — independent of how many agents there are;
//   - an agent looks at the top of each (queue, step) heap it qualifies for —
//     independent of how many contacts wait.
//
// Contacts that declined-by an agent are skipped by popping and pushing back,
// which costs O(declines × log n).

func lessIdle(a, b *agent) bool {
	if !a.idleSince.Equal(b.idleSince) {
		return a.idleSince.Before(b.idleSince)
	}
	return a.username < b.username
}

func lessOccupied(a, b *agent) bool {
	if a.talkToday != b.talkToday {
		return a.talkToday < b.talkToday
	}
	if a.handledToday != b.handledToday {
		return a.handledToday < b.handledToday
	}
	return lessIdle(a, b)
}

func lessRoundRobin(a, b *agent) bool {
	if a.lastOffer != b.lastOffer {
		return a.lastOffer < b.lastOffer
	}
	return a.username < b.username
}

var agentOrders = [numHeaps]func(a, b *agent) bool{
	heapIdle: lessIdle, heapOccupied: lessOccupied, heapRoundRobin: lessRoundRobin,
}

// available reports whether a can take an offer now.
func (r *Router) available(a *agent) bool {
	return !r.closed && a.state == Available && a.offering == "" && a.calls < a.maxCalls
}

// index files a free agent under each skill and marks it to get work.
func (r *Router) index(a *agent) {
	if a.indexed || !r.available(a) {
		return
	}
	for s, p := range a.skills {
		if p < 1 {
			continue
		}
		p = min(p, 10)
		idx := r.avail[s]
		if idx == nil {
			idx = &[11]*bucket{}
			r.avail[s] = idx
		}
		b := idx[p]
		if b == nil {
			b = &bucket{}
			for i := range b {
				b[i] = newHeap(agentOrders[i])
			}
			idx[p] = b
		}
		for _, h := range b {
			h.push(a)
		}
	}
	a.indexed = true
	r.dirtyA = append(r.dirtyA, a)
}

func (r *Router) unindex(a *agent) {
	if !a.indexed {
		return
	}
	for s, p := range a.skills {
		if p < 1 {
			continue
		}
		if b := r.avail[s][min(p, 10)]; b != nil {
			for _, h := range b {
				h.remove(a)
			}
		}
	}
	a.indexed = false
}

func (r *Router) reindex(a *agent) {
	if a.indexed != r.available(a) {
		r.unindex(a)
		r.index(a)
	}
}

// agentBetter compares two candidates (with the proficiency that made each
// eligible) under strategy s.
func agentBetter(s Strategy, a *agent, pa int, b *agent, pb int) bool {
	if s == MostSkilled && pa != pb {
		return pa > pb
	}
	return agentOrders[s.heap()](a, b)
}

// bestAgent is the agent e should be offered to now, or nil.
func (r *Router) bestAgent(e *entry) *agent {
	q := r.queues[e.Queue]
	if e.sticky {
		if a := r.agents[e.PreferredAgent]; a != nil && a.indexed && !e.declined[a.username] {
			return a
		}
		return nil
	}
	st := q.steps[e.step]
	order := q.Strategy.heap()
	var best *agent
	bestProf := 0
	try := func(skill string, minProf int) {
		idx := r.avail[skill]
		if idx == nil {
			return
		}
		for p := 10; p >= minProf; p-- {
			b := idx[p]
			if b == nil {
				continue
			}
			a := topAgent(b[order], e.declined)
			if a != nil && (best == nil || agentBetter(q.Strategy, a, p, best, bestProf)) {
				best, bestProf = a, p
			}
		}
	}
	try(q.Skill, max(st.minProf, 1))
	for _, name := range st.overflow {
		if oq := r.queues[name]; oq != nil {
			try(oq.Skill, 1)
		}
	}
	return best
}

// topAgent is the first agent in h who is not in declined.
func topAgent(h *iheap[*agent], declined map[string]bool) *agent {
	if len(declined) == 0 {
		a, _ := h.peek()
		return a
	}
	var held []*agent
	var found *agent
	for h.Len() > 0 {
		a := h.items[0]
		if !declined[a.username] {
			found = a
			break
		}
		held = append(held, h.pop())
	}
	for _, a := range held {
		h.push(a)
	}
	return found
}

// bestEntry is the contact a free agent should be offered now, or nil:
// contacts held for a (sticky) first, else the best-scored contact a
// qualifies for.
func (r *Router) bestEntry(a *agent) *entry {
	var best *entry
	consider := func(e *entry) {
		if e != nil && (best == nil || entryBefore(e, best)) {
			best = e
		}
	}
	for e := range r.sticky[a.username] {
		if !e.declined[a.username] {
			consider(e)
		}
	}
	if best != nil {
		return best
	}
	for _, q := range r.queues {
		own := a.skills[q.Skill]
		for k, st := range q.steps {
			if q.heaps[k].Len() == 0 {
				continue
			}
			ok := own >= max(st.minProf, 1)
			for _, name := range st.overflow {
				if ok {
					break
				}
				if oq := r.queues[name]; oq != nil && a.skills[oq.Skill] >= 1 {
					ok = true
				}
			}
			if ok {
				consider(topEntry(q.heaps[k], a.username))
			}
		}
	}
	return best
}

// topEntry is the first contact in h that user has not declined.
func topEntry(h *iheap[*entry], user string) *entry {
	var held []*entry
	var found *entry
	for h.Len() > 0 {
		e := h.items[0]
		if !e.declined[user] {
			found = e
			break
		}
		held = append(held, h.pop())
	}
	for _, e := range held {
		h.push(e)
	}
	return found
}
