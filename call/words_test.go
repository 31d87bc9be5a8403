package call

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/sqlite"
	"github.com/contactd/contactd/transcript"
)

// eventSink keeps every event published, in order.
type eventSink struct {
	mu  sync.Mutex
	evs []Event
}

func (e *eventSink) Publish(_ string, ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
}

func (e *eventSink) ofType(typ string) []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Event
	for _, ev := range e.evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// liveFixture is a click-to-call from alice to a customer, bridged: both
// "speak" through toneLegs (silent until told), heard by rec.
type liveFixture struct {
	m        *Manager
	st       store.Store
	dir      string
	id       string
	customer *toneLeg
	alice    *toneLeg
	events   *eventSink
	asr      *scriptASR
}

func newLiveFixture(t *testing.T, scripts map[string][]string, edit func(*Options)) *liveFixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := routing.New(nil, routing.Options{OfferTimeout: 10 * time.Second})
	t.Cleanup(r.Close)
	r.AddQueue("general", "general")
	r.SetAgent("alice", map[string]int{"general": 5}, 1)
	if err := r.SetState("alice", routing.Available, ""); err != nil {
		t.Fatal(err)
	}
	f := &liveFixture{st: st, dir: dir, customer: newToneLeg("customer", 0), alice: newToneLeg("alice", 0),
		events: &eventSink{}, asr: &scriptASR{scripts: scripts}}
	t.Cleanup(func() { f.customer.Close(); f.alice.Close() })
	opts := Options{Store: st, Router: r, ASR: f.asr, TTS: silentTTS{}, DataDir: dir, Record: true,
		Events: f.events, Dialer: testDialer{rfcLeg{f.customer}},
		NewLeg: func(context.Context, string) (media.Leg, string, error) { return nil, "", errors.New("no legs") }}
	if edit != nil {
		edit(&opts)
	}
	f.m = NewManager(opts)
	f.id, err = f.m.Originate(ctx, "alice", "+15550100", f.alice)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the bridge", func() bool {
		c, err := f.m.call(f.id)
		return err == nil && c.bridged.Load()
	})
	return f
}

// say has l speak a hz tone for d, then be quiet for the recogniser to
// end the utterance.
func say(l *toneLeg, hz float64, d time.Duration) {
	l.mu.Lock()
	l.hz = hz
	l.mu.Unlock()
	time.Sleep(d)
	l.mu.Lock()
	l.hz = 0
	l.mu.Unlock()
	time.Sleep(500 * time.Millisecond)
}

// hangup ends the call from the customer's side and returns its stored
// transcript.
func (f *liveFixture) hangup(t *testing.T) []transcript.Segment {
	t.Helper()
	f.customer.Close()
	waitFor(t, "the call's end", func() bool { _, err := f.m.call(f.id); return err != nil })
	if err := f.m.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	segs, err := f.st.Segments(context.Background(), f.id)
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

// TestLiveWordsStored: a live call's transcript keeps the recogniser's
// word timings, moved from each stream's clock to the call's (the agent's
// stream starts when the agent joins).
func TestLiveWordsStored(t *testing.T) {
	f := newLiveFixture(t, map[string][]string{
		"caller": {"where is my order"},
		"agent":  {"let me check that for you"},
	}, nil)
	time.Sleep(300 * time.Millisecond)
	say(f.customer, 600, 800*time.Millisecond)
	say(f.alice, 1000, 1200*time.Millisecond)
	segs := f.hangup(t)

	got := map[transcript.Speaker]transcript.Segment{}
	for _, s := range segs {
		got[s.Speaker] = s
	}
	for sp, want := range map[transcript.Speaker]int{transcript.Caller: 4, transcript.Agent: 6} {
		s, ok := got[sp]
		if !ok {
			t.Fatalf("no %s line in %+v", sp, segs)
		}
		if len(s.Words) != want {
			t.Fatalf("%s line %q has words %+v, want %d", sp, s.Text, s.Words, want)
		}
		prev := s.StartMS
		for _, w := range s.Words {
			if w.StartMS < prev || w.EndMS <= w.StartMS || w.EndMS > s.EndMS {
				t.Errorf("%s word %+v out of the line's %d-%d or out of order", sp, w, s.StartMS, s.EndMS)
			}
			prev = w.EndMS
		}
	}
	// The agent spoke after the customer, and their words come after the
	// customer's on the call's clock.
	c, a := got[transcript.Caller], got[transcript.Agent]
	if a.Words[0].StartMS < c.Words[len(c.Words)-1].EndMS+300 {
		t.Errorf("agent's first word at %d ms, caller's last ends at %d ms: not on the call's clock",
			a.Words[0].StartMS, c.Words[len(c.Words)-1].EndMS)
	}
	// The caller's 800 ms of speech is where the call's clock says.
	if d := c.EndMS - c.StartMS; d < 500 || d > 1200 {
		t.Errorf("caller line lasts %d ms, want about 800", d)
	}
}
