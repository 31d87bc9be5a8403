package call

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/asr/none"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store/sqlite"
)

// offers records the router's offers and withdrawals.
type offers struct {
	mu      sync.Mutex
	offered []routing.Offer
	revoked []string // agent
}

func (o *offers) AgentState(string, routing.State) {}
func (o *offers) Offer(of routing.Offer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.offered = append(o.offered, of)
}
func (o *offers) OfferRevoked(agent, _ string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.revoked = append(o.revoked, agent)
}

func (o *offers) last() (routing.Offer, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.offered) == 0 {
		return routing.Offer{}, 0
	}
	return o.offered[len(o.offered)-1], len(o.offered)
}

// TestConsultQueue: alice, on a call, consults the billing queue. The
// router offers the consultation to a billing agent (never alice, never
// the agent without the skill); the first one declines and it goes to the
// other, who answers through the ordinary answer path. Cancel brings
// alice back to the customer and frees the consulted agent; a second
// consultation is completed: the call and its queue are theirs. The
// queue's answered/abandoned figures count callers only.
func TestConsultQueue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := &offers{}
	r := routing.New(rec, routing.Options{OfferTimeout: 10 * time.Second})
	defer r.Close()
	r.AddQueue("general", "general")
	r.AddQueue("billing", "billing")
	for name, skills := range map[string]map[string]int{
		"alice": {"general": 5},
		"bob":   {"billing": 8},
		"carol": {"billing": 6},
		"dave":  {"general": 9},
	} {
		r.SetAgent(name, skills, 1)
		if err := r.SetState(name, routing.Available, ""); err != nil {
			t.Fatal(err)
		}
	}
	const fCustomer, fAlice, fBob, fCarol = 600.0, 1000.0, 1400.0, 1800.0
	customer, alice := newToneLeg("customer", fCustomer), newToneLeg("alice", fAlice)
	legs := map[string]*toneLeg{}
	var legsMu sync.Mutex
	defer func() {
		customer.Close()
		alice.Close()
		legsMu.Lock()
		for _, l := range legs {
			l.Close()
		}
		legsMu.Unlock()
	}()
	events := &eventLog{}
	m := NewManager(Options{Store: st, Router: r, ASR: none.Recognizer{}, TTS: silentTTS{}, DataDir: t.TempDir(),
		Events: events, Dialer: testDialer{rfcLeg{customer}},
		NewLeg: func(_ context.Context, sdp string) (media.Leg, string, error) {
			hz := map[string]float64{"bob": fBob, "carol": fCarol}[sdp]
			if hz == 0 {
				return nil, "", errors.New("bad sdp")
			}
			l := newToneLeg(sdp, hz)
			legsMu.Lock()
			legs[sdp] = l
			legsMu.Unlock()
			return l, "answer", nil
		}})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	id, err := m.Originate(ctx, "alice", "+15550100", alice)
	must(err)
	waitFor(t, "the bridge", func() bool {
		c, err := m.call(id)
		return err == nil && c.bridged.Load()
	})
	view := func() (consult, state string, held bool) {
		for _, v := range m.LiveCalls() {
			if v.CallID == id {
				return v.Consult, v.ConsultState, v.Held
			}
		}
		return "", "", false
	}
	hears := func(l *toneLeg, hz float64) float64 {
		time.Sleep(60 * time.Millisecond)
		from := time.Now()
		time.Sleep(250 * time.Millisecond)
		return level(l.since(from), hz)
	}
	offered := func(n int) string {
		t.Helper()
		var o routing.Offer
		waitFor(t, "an offer", func() bool { var k int; o, k = rec.last(); return k >= n })
		if o.CallID != id || o.ConsultBy != "alice" || o.Queue != "billing" {
			t.Fatalf("offer %+v, want alice's consultation of %s in billing", o, id)
		}
		if o.Agent != "bob" && o.Agent != "carol" {
			t.Fatalf("consultation offered to %s, who has no billing skill", o.Agent)
		}
		return o.Agent
	}
	other := func(a string) string {
		if a == "bob" {
			return "carol"
		}
		return "bob"
	}

	// 1. Consult billing: the first agent declines, the other answers.
	must(m.Consult(ctx, id, "alice", "queue:billing"))
	if c, s, held := view(); c != "queue:billing" || s != "ringing" || !held {
		t.Errorf("ringing: consult %q/%q held %t", c, s, held)
	}
	first := offered(1)
	if _, err := m.AnswerConsult(ctx, id, other(first), other(first)); !errors.Is(err, ErrNotYours) {
		t.Errorf("%s answering %s's offer: %v, want ErrNotYours", other(first), first, err)
	}
	must(m.DeclineConsult(ctx, id, first))
	second := offered(2)
	if second != other(first) {
		t.Fatalf("after %s declined, offered to %s", first, second)
	}
	// The ordinary answer (what an API client of /answer does) joins as the consultation.
	if _, err := m.AnswerWebRTC(ctx, id, second, second); err != nil {
		t.Fatal(err)
	}
	if c, s, _ := view(); c != second || s != "talking" {
		t.Errorf("talking: consult %q/%q, want %s/talking", c, s, second)
	}
	hz := map[string]float64{"bob": fBob, "carol": fCarol}
	legsMu.Lock()
	consulted := legs[second]
	legsMu.Unlock()
	if l := hears(alice, hz[second]); l < 0.03 {
		t.Errorf("alice does not hear %s: %.3f", second, l)
	}
	if l := hears(consulted, fAlice); l < 0.03 {
		t.Errorf("%s does not hear alice: %.3f", second, l)
	}
	if l := hears(customer, hz[second]); l > 0.01 {
		t.Errorf("the held customer hears %s: %.3f", second, l)
	}
	if v, _ := r.Agent(second); v.State != routing.Busy {
		t.Errorf("%s consulting: %s, want busy", second, v.State)
	}

	// 2. Cancel: back to the customer; the consulted agent is let go.
	must(m.CancelConsult(ctx, id, "alice"))
	if c, _, held := view(); c != "" || held {
		t.Errorf("after cancel: consult %q held %t", c, held)
	}
	if !consulted.closed() || !events.has(second+":consult_ended:") {
		t.Errorf("after cancel: %s's leg closed %t, events %v", second, consulted.closed(), events.evs)
	}
	if l := hears(customer, fAlice); l < 0.03 {
		t.Errorf("the customer does not hear alice after cancel: %.3f", l)
	}
	if v, _ := r.Agent(second); v.State == routing.Busy {
		t.Errorf("%s still busy after the cancelled consultation", second)
	}

	// 3. A consultation still ringing is withdrawn with its offer.
	waitFor(t, "both billing agents available", func() bool {
		b, _ := r.Agent("bob")
		c, _ := r.Agent("carol")
		return b.State == routing.Available && c.State == routing.Available
	})
	must(m.Consult(ctx, id, "alice", "billing")) // a bare queue name
	third := offered(3)
	must(m.CancelConsult(ctx, id, "alice"))
	if v, _ := r.Agent(third); v.Offering != "" {
		t.Errorf("%s still offered the withdrawn consultation", third)
	}
	rec.mu.Lock()
	withdrawn := slices.Contains(rec.revoked, third)
	rec.mu.Unlock()
	if !withdrawn {
		t.Errorf("%s's desktop was not told the offer was withdrawn", third)
	}

	// 4. Complete: the call and its queue go to the consulted agent.
	must(m.Consult(ctx, id, "alice", "queue:billing"))
	fourth := offered(4)
	if _, err := m.AnswerConsult(ctx, id, fourth, fourth); err != nil {
		t.Fatal(err)
	}
	must(m.CompleteConsult(ctx, id, "alice"))
	waitFor(t, fourth+" on the call", func() bool {
		c, err := m.call(id)
		return err == nil && c.bridged.Load() && events.has(fourth+":call_answered:")
	})
	for _, v := range m.LiveCalls() {
		if v.CallID == id && (v.Agent != fourth || v.Queue != "billing" || v.Held) {
			t.Errorf("after completing: %+v, want %s in billing, not held", v, fourth)
		}
	}
	legsMu.Lock()
	consulted = legs[fourth]
	legsMu.Unlock()
	if l := hears(customer, hz[fourth]); l < 0.03 {
		t.Errorf("the customer does not hear %s after the transfer: %.3f", fourth, l)
	}
	if l := hears(consulted, fCustomer); l < 0.03 {
		t.Errorf("%s does not hear the customer after the transfer: %.3f", fourth, l)
	}
	if !alice.closed() || !events.has("alice:call_transferred:") {
		t.Errorf("alice still on the call: closed %t", alice.closed())
	}
	for _, q := range r.Queues() {
		if q.Name == "billing" && (q.Answered != 0 || q.Abandoned != 0 || q.WaitingCount != 0) {
			t.Errorf("billing counts consultations: %+v", q)
		}
	}
	customer.Close()
	waitFor(t, "the call's end", func() bool { _, err := m.call(id); return err != nil })
	if c, err := st.Call(ctx, id); err != nil || c.Agent != fourth || c.Queue != "billing" {
		t.Errorf("stored call: %+v %v, want agent %s queue billing", c, err, fourth)
	}
}
