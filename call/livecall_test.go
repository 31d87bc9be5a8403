package call

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/asr/none"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store/sqlite"
	"github.com/contactd/contactd/transcript"
)

// toneLeg is a party on a test call: it "speaks" a sine (0 Hz: silence)
// on its own 20 ms clock and keeps what it hears with arrival times.
type toneLeg struct {
	name   string
	frames chan []int16
	done   chan struct{}
	once   sync.Once

	mu    sync.Mutex
	hz    float64
	heard []heardAt
	keys  []rune // RFC 4733 keys sent to it (rfcLeg)
}

type heardAt struct {
	at time.Time
	f  []int16
}

func newToneLeg(name string, hz float64) *toneLeg {
	l := &toneLeg{name: name, hz: hz, frames: make(chan []int16, 8), done: make(chan struct{})}
	go func() {
		t := time.NewTicker(media.FrameDuration)
		defer t.Stop()
		var n int
		for {
			select {
			case <-l.done:
				close(l.frames)
				return
			case <-t.C:
			}
			l.mu.Lock()
			hz := l.hz
			l.mu.Unlock()
			f := make([]int16, media.FrameSamples)
			for i := range f {
				f[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(n+i)/media.SampleRate))
			}
			n += len(f)
			select {
			case l.frames <- f:
			default:
			}
		}
	}()
	return l
}

func (l *toneLeg) hear(f []int16) error {
	select {
	case <-l.done:
		return media.ErrClosed
	default:
	}
	l.mu.Lock()
	l.heard = append(l.heard, heardAt{time.Now(), slices.Clone(f)})
	l.mu.Unlock()
	return nil
}

func (l *toneLeg) Frames() <-chan []int16  { return l.frames }
func (l *toneLeg) DTMF() <-chan rune       { return nil }
func (l *toneLeg) Forward(f []int16) error { return l.hear(f) }
func (l *toneLeg) Flush()                  {}
func (l *toneLeg) Codec() media.Codec {
	return media.Codec{Name: "opus", ClockRate: 48000, Channels: 1}
}
func (l *toneLeg) Done() <-chan struct{} { return l.done }
func (l *toneLeg) Close() error          { l.once.Do(func() { close(l.done) }); return nil }
func (l *toneLeg) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// WriteFrame is paced like a real leg's.
func (l *toneLeg) WriteFrame(f []int16) error {
	time.Sleep(media.FrameDuration)
	return l.hear(f)
}

// since is what the leg heard after t.
func (l *toneLeg) since(t time.Time) []int16 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int16
	for _, h := range l.heard {
		if h.at.After(t) {
			out = append(out, h.f...)
		}
	}
	return out
}

// rfcLeg has SendDTMF, but like an RTP leg without telephone-event.
type rfcLeg struct{ *toneLeg }

func (l rfcLeg) SendDTMF(k rune, _ time.Duration) error { return media.ErrNoDTMF }

// level is the amplitude of hz in pcm, relative to full scale.
func level(pcm []int16, hz float64) float64 {
	return 2 * math.Sqrt(media.Goertzel(pcm, media.SampleRate, hz))
}

type testDialer struct{ leg media.Leg }

func (d testDialer) Check(string, string) error { return nil }
func (d testDialer) CallOut(context.Context, string, string) (media.Leg, error) {
	return d.leg, nil
}

type silentTTS struct{}

func (silentTTS) Synthesize(context.Context, string) ([]int16, error) { return nil, nil }

// eventLog records published and supervisor-only events.
type eventLog struct {
	mu  sync.Mutex
	evs []string // "to:type:mode"
}

func (e *eventLog) Publish(to string, ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, to+":"+ev.Type+":"+ev.Mode)
}

func (e *eventLog) Watch(agent string, ev Event) { e.Publish("watch/"+agent, ev) }

func (e *eventLog) has(s string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Contains(e.evs, s)
}

// TestLiveCallControl drives a click-to-call through hold, keys, a
// consultative transfer and a supervisor's three modes, and checks by the
// audio each party hears: agents and customer speak different tones.
func TestLiveCallControl(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := routing.New(nil, routing.Options{OfferTimeout: 10 * time.Second})
	defer r.Close()
	r.AddQueue("general", "general")
	for _, a := range []string{"alice", "bob"} {
		r.SetAgent(a, map[string]int{"general": 5}, 1)
		if err := r.SetState(a, routing.Available, ""); err != nil {
			t.Fatal(err)
		}
	}
	const (
		fCustomer = 600.0
		fAlice    = 1000.0
		fBob      = 1400.0
		fSue      = 2000.0
	)
	customer := newToneLeg("customer", fCustomer)
	alice, bob, sue := newToneLeg("alice", fAlice), newToneLeg("bob", fBob), newToneLeg("sue", fSue)
	defer func() {
		for _, l := range []*toneLeg{customer, alice, bob, sue} {
			l.Close()
		}
	}()
	events := &eventLog{}
	m := NewManager(Options{Store: st, Router: r, ASR: none.Recognizer{}, TTS: silentTTS{}, DataDir: t.TempDir(),
		Events: events, Dialer: testDialer{rfcLeg{customer}},
		NewLeg: func(_ context.Context, sdp string) (media.Leg, string, error) {
			switch sdp {
			case "bob":
				return bob, "answer", nil
			case "sue":
				return sue, "answer", nil
			case "other":
				return newToneLeg("other", 0), "answer", nil
			}
			return nil, "", errors.New("bad sdp")
		}})
	id, err := m.Originate(ctx, "alice", "+15550100", alice)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the bridge", func() bool {
		c, err := m.call(id)
		return err == nil && c.bridged.Load()
	})

	// listen lets everyone hear 250 ms; hears is what l heard then.
	var from time.Time
	listen := func() {
		time.Sleep(60 * time.Millisecond) // routes settle, queued audio drains
		from = time.Now()
		time.Sleep(250 * time.Millisecond)
	}
	hears := func(l *toneLeg) []int16 { return l.since(from) }
	const on, off = 0.03, 0.01 // tone amplitude heard / not heard (8000/32768 ≈ 0.24 sent)
	expect := func(what string, pcm []int16, hz float64, want bool) {
		t.Helper()
		lv := level(pcm, hz)
		if want && lv < on || !want && lv > off {
			t.Errorf("%s: level at %.0f Hz = %.3f over %d samples, want heard=%t", what, hz, lv, len(pcm), want)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// view is the call as LiveCalls shows it, in one line.
	view := func() string {
		t.Helper()
		var out []string
		for _, v := range m.LiveCalls() {
			if v.CallID == id {
				s := fmt.Sprintf("agent=%s held=%t consult=%s/%s monitors=%v", v.Agent, v.Held, v.Consult, v.ConsultState, v.Monitors)
				if v.Held == v.HeldSince.IsZero() || v.AnsweredAt.IsZero() {
					s += " (bad times)"
				}
				out = append(out, s)
			}
		}
		return strings.Join(out, "; ")
	}
	expectView := func(what, want string) {
		t.Helper()
		if got := view(); got != want {
			t.Errorf("%s: live call %q, want %q", what, got, want)
		}
	}
	expectView("bridged", "agent=alice held=false consult=/ monitors=map[]")

	listen()
	got := hears(customer)
	expect("bridged: customer hears alice", got, fAlice, true)
	expect("bridged: alice hears customer", hears(alice), fCustomer, true)

	// Hold: the customer hears music, not alice; alice hears nothing.
	must(m.Hold(ctx, id, "alice", true))
	expectView("held", "agent=alice held=true consult=/ monitors=map[]")
	listen()
	got = hears(customer)
	expect("held: customer hears alice", got, fAlice, false)
	if media.RMS(got) < 300 {
		t.Errorf("held: customer hears no music (RMS %.0f)", media.RMS(got))
	}
	expect("held: alice hears customer", hears(alice), fCustomer, false)
	if err := m.SendDTMF(ctx, id, "alice", "1"); !errors.Is(err, ErrOnHold) {
		t.Errorf("keys on hold: %v, want ErrOnHold", err)
	}
	if err := m.Hold(ctx, id, "bob", false); !errors.Is(err, ErrNotYours) {
		t.Errorf("resume by bob: %v, want ErrNotYours", err)
	}
	must(m.Hold(ctx, id, "alice", false))
	expectView("resumed", "agent=alice held=false consult=/ monitors=map[]")
	listen()
	expect("resumed: customer hears alice", hears(customer), fAlice, true)

	// Keys: the leg has no telephone-event, so the customer hears tones
	// (1 = 697 + 1209 Hz) in place of alice.
	if err := m.SendDTMF(ctx, id, "alice", "1x"); !errors.Is(err, ErrBadArg) {
		t.Errorf("bad key: %v, want ErrBadArg", err)
	}
	from = time.Now()
	must(m.SendDTMF(ctx, id, "alice", "1"))
	time.Sleep(300 * time.Millisecond)
	keys := customer.since(from)
	expect("key 1 low tone", keys, 697, true)
	expect("key 1 high tone", keys, 1209, true)

	// Consultation: bob is offered, answers; alice and bob hear each other,
	// the customer hears music and neither agent.
	for _, bad := range []string{"queue:nosuch", "+15550199", "agent:alice"} {
		if err := m.Consult(ctx, id, "alice", bad); !errors.Is(err, ErrBadTarget) {
			t.Errorf("consult %s: %v, want ErrBadTarget", bad, err)
		}
	}
	must(m.Consult(ctx, id, "alice", "agent:bob"))
	expectView("consult ringing", "agent=alice held=true consult=bob/ringing monitors=map[]")
	if !events.has("bob:consult_offer:") {
		t.Errorf("bob got no consult_offer: %v", events.evs)
	}
	if _, err := m.AnswerConsult(ctx, id, "alice", "other"); !errors.Is(err, ErrNotYours) {
		t.Errorf("alice answering her own consultation: %v", err)
	}
	if _, err := m.AnswerConsult(ctx, id, "bob", "bob"); err != nil {
		t.Fatal(err)
	}
	expectView("consulting", "agent=alice held=true consult=bob/talking monitors=map[]")
	listen()
	got = hears(customer)
	expect("consulting: customer hears alice", got, fAlice, false)
	expect("consulting: customer hears bob", got, fBob, false)
	expect("consulting: alice hears bob", hears(alice), fBob, true)
	expect("consulting: bob hears alice", hears(bob), fAlice, true)
	if v, _ := r.Agent("bob"); v.State != routing.Busy {
		t.Errorf("bob during the consultation: %s, want busy", v.State)
	}

	// Complete: the call is bob's.
	must(m.CompleteConsult(ctx, id, "alice"))
	waitFor(t, "bob on the call", func() bool {
		c, err := m.call(id)
		return err == nil && c.bridged.Load() && events.has("bob:call_answered:")
	})
	expectView("transferred", "agent=bob held=false consult=/ monitors=map[]")
	listen()
	expect("transferred: customer hears bob", hears(customer), fBob, true)
	if !alice.closed() || !events.has("alice:call_transferred:") {
		t.Errorf("alice still on the call: closed %t, events %v", alice.closed(), events.evs)
	}

	// The supervisor: listen hears both and is heard by no one.
	if _, err := m.Monitor(ctx, id, "sue", "shout", "sue"); !errors.Is(err, ErrBadArg) {
		t.Errorf("bad mode: %v", err)
	}
	if _, err := m.Monitor(ctx, id, "sue", ModeListen, "sue"); err != nil {
		t.Fatal(err)
	}
	expectView("listening", "agent=bob held=false consult=/ monitors=map[sue:listen]")
	listen()
	got = hears(sue)
	expect("listen: sue hears the customer", got, fCustomer, true)
	expect("listen: sue hears bob", got, fBob, true)
	expect("listen: bob hears sue", hears(bob), fSue, false)
	expect("listen: customer hears sue", hears(customer), fSue, false)
	if events.has("bob:monitor:listen") || !events.has("watch/bob:monitor:listen") {
		t.Errorf("listen events: %v, want supervisors told and bob not", events.evs)
	}
	// Whisper: bob hears sue, the customer does not.
	if _, err := m.Monitor(ctx, id, "sue", ModeWhisper, ""); err != nil {
		t.Fatal(err)
	}
	listen()
	got = hears(bob)
	expect("whisper: bob hears sue", got, fSue, true)
	expect("whisper: bob hears the customer", got, fCustomer, true)
	expect("whisper: customer hears sue", hears(customer), fSue, false)
	// Barge: both do.
	if _, err := m.Monitor(ctx, id, "sue", ModeBarge, ""); err != nil {
		t.Fatal(err)
	}
	expectView("barging", "agent=bob held=false consult=/ monitors=map[sue:barge]")
	listen()
	got = hears(customer)
	expect("barge: customer hears sue", got, fSue, true)
	expect("barge: customer hears bob", got, fBob, true)
	expect("barge: bob hears sue", hears(bob), fSue, true)
	if !events.has("bob:monitor:barge") {
		t.Errorf("bob not told of the barge: %v", events.evs)
	}
	must(m.StopMonitor(ctx, id, "sue"))
	expectView("supervisor gone", "agent=bob held=false consult=/ monitors=map[]")
	if !sue.closed() || !events.has("bob:monitor:") {
		t.Errorf("after stop: sue's leg closed %t, events %v", sue.closed(), events.evs)
	}

	// The customer hangs up; the hold is in the transcript.
	customer.Close()
	waitFor(t, "the call's end", func() bool { _, err := m.call(id); return err != nil })
	expectView("ended", "")
	segs, err := st.Segments(ctx, id)
	must(err)
	var holds []string
	for _, s := range segs {
		if s.Speaker == transcript.System && strings.Contains(s.Text, "on hold") {
			holds = append(holds, s.Text)
		}
	}
	if len(holds) != 2 { // the hold, and the consultation's
		t.Errorf("hold markers = %q, want 2", holds)
	}
	if v, _ := r.Agent("bob"); v.State == routing.Busy {
		t.Errorf("bob still busy after the call")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSumMixes: one source passes as it comes; two are added and clipped,
// and a source a frame ahead does not wait for a silent one.
func TestSumMixes(t *testing.T) {
	out := newToneLeg("out", 0)
	defer out.Close()
	one := &sum{out: out, srcs: []string{"a"}, pend: make([][]int16, 1)}
	one.add("a", []int16{1, 2})
	two := &sum{out: out, srcs: []string{"a", "b"}, pend: make([][]int16, 2)}
	two.add("a", []int16{30000, -5})
	two.add("b", []int16{10000, 7}) // both here: out
	two.add("a", []int16{4})
	two.add("a", []int16{5}) // b is silent: the first goes alone
	two.add("x", []int16{9}) // not a source
	out.mu.Lock()
	defer out.mu.Unlock()
	var got [][]int16
	for _, h := range out.heard {
		got = append(got, h.f)
	}
	want := [][]int16{{1, 2}, {32767, 2}, {4}}
	if len(got) != len(want) {
		t.Fatalf("frames out = %v, want %v", got, want)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("frame %d = %v, want %v", i, got[i], want[i])
		}
	}
}
