package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/internal/baresiptest"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/sip"
)

// TestTelephony drives call control the way a carrier and desk phones do,
// against the contactd binary on a trunk configuration:
//
//   - a carrier call to a DID mapped to the keypad menu, in early media
//     (183): the caller hears the menu before any 200, presses 3 (RFC
//     4733) and gets the 200 when the IVR hands the call to a queue;
//   - bob's baresip desk phone answers; its transfer key (REFER to
//     carol) moves the caller to carol's phone;
//   - carol transfers the caller out to a number from the API: contactd
//     REFERs the carrier side, which calls the number itself;
//   - bob clicks to call a number: his phone rings first, then the
//     carrier is called through the trunk's outbound URI; both hear each
//     other, and the call is written up like any other.
func TestTelephony(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	if _, err := exec.LookPath("baresip"); err != nil {
		t.Fatal("baresip is needed (make test installs baresip-core)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	carrier := startCarrier(ctx, t)
	replace := func(y, old, new string) string {
		if !strings.Contains(y, old) {
			t.Fatalf("the demo config lacks %q", old)
		}
		return strings.Replace(y, old, new, 1)
	}
	s := startServerWith(t, buildBinary(t), func(y string) string {
		y = replace(y, "  open_inbound: true", "  open_inbound: true\n  early_media: true")
		out := fmt.Sprintf(`      outbound: {uri: "sip:%s", from: "+15550100"}
      allowed_prefixes: ["+1555"]
`, carrier.addr)
		y = replace(y, `      blocked_prefixes: ["+1900"`, out+`      blocked_prefixes: ["+1900"`)
		// Bob sells too; sales announces every 10 s and takes voicemail at 25 s.
		y = replace(y, "skills: {billing: 8, accounts: 7, general: 5}", "skills: {billing: 8, accounts: 7, general: 5, sales: 5}")
		return replace(y, "announce_every: 45s, callback: true, max_wait: 5m", "announce_every: 10s, callback: true, max_wait: 25s")
	})

	t.Cleanup(func() {
		if t.Failed() { // the call's story, without sipgo's transaction noise
			for _, l := range strings.Split(s.logs.String(), "\n") {
				if strings.Contains(l, "call_id=") && !strings.Contains(l, "ransaction") {
					t.Log(l)
				}
			}
		}
	})
	bob := startPhone(ctx, t, s, "bob", "bob-demo", 700)
	carol := startPhone(ctx, t, s, "carol", "carol-demo", 900)
	bobTok, carolTok := s.login(t, "bob", "bob-demo"), s.login(t, "carol", "carol-demo")
	for u, tok := range map[string]string{"bob": bobTok, "carol": carolTok} {
		if st := s.api(t, tok, "POST", "/api/v1/agents/"+u+"/state", map[string]string{"state": "available"}, nil); st != 200 {
			t.Fatalf("%s available: %d", u, st)
		}
	}

	// 1. Early media on a DID that enters at the keypad menu.
	e := &ear{}
	early := make(chan media.Leg, 1)
	type dialed struct {
		c   *sip.OutboundCall
		err error
	}
	answered := make(chan dialed, 1)
	go func() {
		c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:+15550155@" + s.sipAddr, From: "+15550104", Codecs: []string{"PCMU"},
			OnEarlyMedia: func(l media.Leg) { early <- l }})
		answered <- dialed{c, err}
	}()
	var leg media.Leg
	select {
	case leg = <-early:
	case d := <-answered:
		t.Fatalf("answered without early media: %v", d.err)
	case <-ctx.Done():
		t.Fatal("no early media")
	}
	go e.run(leg)
	defer func() {
		if st, ok := leg.(interface{ Stats() media.Stats }); ok && t.Failed() {
			pcm := e.since(time.Time{})
			t.Logf("caller leg: %+v; heard %d samples", st.Stats(), len(pcm))
			if dir := os.Getenv("CONTACTD_E2E_KEEP"); dir != "" {
				writeWAV(t, filepath.Join(dir, "caller-heard.wav"), pcm, media.SampleRate)
			}
		}
	}()
	// The menu: "Let's use the keypad instead." then one option per intent.
	// The menu ("Let's use the keypad instead. For order status, press 1…")
	// is long; a key cuts it short.
	waitUntil(t, "the keypad menu in early media", 45*time.Second, func() bool {
		b := e.bursts(time.Second)
		return len(b) >= 1 && time.Since(b[0]) > 2*time.Second
	})
	select {
	case d := <-answered:
		t.Fatalf("answered during the menu: %v", d.err)
	default:
	}
	must(t, leg.(interface {
		SendDTMF(rune, time.Duration) error
	}).SendDTMF('3', sip.DTMFDuration))
	var caller *sip.OutboundCall
	select {
	case d := <-answered:
		must(t, d.err)
		caller = d.c
	case <-time.After(20 * time.Second):
		t.Fatal("no 200 after the caller chose billing")
	}
	defer caller.Hangup(context.Background())
	if caller.Leg() != leg {
		t.Fatal("the answered call has another leg than its early media")
	}
	callID := latestCallID(t, s)

	// 2. Bob's phone answers (billing); the caller hears its 700 Hz.
	waitState(t, s, bobTok, "bob", "busy")
	tone := media.Tone(440, 60*time.Second, media.SampleRate, 0.3)
	go func() { _ = media.Play(ctx, leg, tone) }()
	hears(t, e, "bob's phone at the caller", 700)

	// Bob's transfer key: REFER to carol; carol's phone rings and answers.
	bob.Command(t, "transfer", "sip:carol@"+s.sipAddr)
	waitState(t, s, carolTok, "carol", "busy")
	hears(t, e, "carol's phone at the caller", 900)
	waitUntil(t, "bob to be let go after the transfer", 15*time.Second, func() bool {
		var v struct{ State string }
		s.api(t, bobTok, "GET", "/api/v1/agents/bob", nil, &v)
		return v.State != "busy"
	})
	var cl callJSON
	s.api(t, s.adminTok, "GET", "/api/v1/calls/"+callID, nil, &cl)
	if cl.Agent != "carol" {
		t.Fatalf("after the transfer the call's agent is %q, want carol", cl.Agent)
	}

	// Bad transfers are refused and the call goes on.
	for target, want := range map[string]int{"queue:nowhere": 400, "agent:nobody": 400, "+1900555": 400, "": 400} {
		if st := s.api(t, carolTok, "POST", "/api/v1/calls/"+callID+"/transfer", map[string]string{"target": target}, nil); st != want {
			t.Fatalf("transfer to %q: %d, want %d", target, st, want)
		}
	}
	if st := s.api(t, bobTok, "POST", "/api/v1/calls/"+callID+"/transfer", map[string]string{"target": "queue:orders"}, nil); st != 409 {
		t.Fatalf("bob transferring carol's call: %d, want 409", st)
	}

	// 3. Carol transfers the caller out: contactd REFERs the carrier side,
	// which calls +15557000 itself (our sipgo caller is the transferee).
	if st := s.api(t, carolTok, "POST", "/api/v1/calls/"+callID+"/transfer", map[string]string{"target": "+1 555 7000"}, nil); st != 204 {
		t.Fatalf("transfer out: %d", st)
	}
	var moved *sip.OutboundCall
	select {
	case moved = <-caller.Transferred():
	case <-time.After(15 * time.Second):
		t.Fatal("the caller was not transferred to the number")
	}
	defer moved.Hangup(context.Background())
	// The transferee's 200 can come before the carrier's handler has run.
	waitUntil(t, "the carrier to get the transferred call", 10*time.Second, func() bool { return carrier.lastNumber() == "+15557000" })
	select {
	case <-caller.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("contactd kept its leg after the transfer out")
	}
	waitUntil(t, "the call to end as transferred", 15*time.Second, func() bool {
		s.api(t, s.adminTok, "GET", "/api/v1/calls/"+callID, nil, &cl)
		return cl.EndedAt != nil
	})
	if !strings.Contains(cl.Disposition, "+15557000") {
		t.Fatalf("disposition %q", cl.Disposition)
	}

	// 4. Click-to-call from bob's desk phone: outside the trunk's allowed
	// prefixes first (refused), then a number the carrier answers.
	if st := s.api(t, bobTok, "POST", "/api/v1/agents/bob/state", map[string]string{"state": "available"}, nil); st != 200 {
		t.Fatalf("bob available: %d", st)
	}
	var out struct {
		CallID string `json:"call_id"`
	}
	if st := s.api(t, bobTok, "POST", "/api/v1/calls/outbound", map[string]string{"number": "+44 20 7946 0000"}, &out); st != 403 {
		t.Fatalf("click-to-call outside the allowed prefixes: %d, want 403 (number not permitted)", st)
	}
	if got := carrier.lastNumber(); got != "+15557000" {
		t.Fatalf("a number outside the allowed prefixes reached the carrier: %q", got)
	}
	if st := s.api(t, bobTok, "POST", "/api/v1/calls/outbound", map[string]string{"number": "+15557001"}, &out); st != 201 {
		t.Fatalf("click-to-call: %d", st)
	}
	waitUntil(t, "the carrier to get the click-to-call", 30*time.Second, func() bool { return carrier.lastNumber() == "+15557001" })
	waitUntil(t, "bob's voice at the called number", 15*time.Second, func() bool {
		pcm := carrier.heard("+15557001")
		return len(pcm) > media.SampleRate && media.Goertzel(pcm, media.SampleRate, 700) > 10*media.Goertzel(pcm, media.SampleRate, 1300)
	})
	carrier.hangup("+15557001")
	waitUntil(t, "the outbound call's ticket", 20*time.Second, func() bool {
		var tk struct {
			Tickets []struct{ ID string } `json:"tickets"`
		}
		s.api(t, s.adminTok, "GET", "/api/v1/tickets?call_id="+out.CallID, nil, &tk)
		return len(tk.Tickets) == 1
	})
	s.api(t, s.adminTok, "GET", "/api/v1/calls/"+out.CallID, nil, &cl)
	if cl.Agent != "bob" || cl.From != "+15557001" || cl.AnsweredAt == nil {
		t.Fatalf("outbound call = %+v", cl)
	}
	_ = carol

	// 5. Queue experience: with nobody free for sales, a caller hears the
	// place-in-line announcement, presses 1 for a callback and hangs up;
	// when bob frees up his phone rings, then the carrier is called for the
	// caller's number.
	if st := s.api(t, bobTok, "POST", "/api/v1/agents/bob/state", map[string]string{"state": "break", "reason": "lunch"}, nil); st != 200 {
		t.Fatalf("bob on break: %d", st)
	}
	salesCall := func(from string) (*sip.OutboundCall, *ear) {
		t.Helper()
		early := make(chan media.Leg, 1)
		res := make(chan dialed, 1)
		go func() {
			c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:+15550155@" + s.sipAddr, From: from, Codecs: []string{"PCMU"},
				OnEarlyMedia: func(l media.Leg) { early <- l }})
			res <- dialed{c, err}
		}()
		var l media.Leg
		select {
		case l = <-early:
		case d := <-res:
			t.Fatalf("%s: no early media: %v", from, d.err)
		}
		e := &ear{}
		go e.run(l)
		waitUntil(t, "the menu", 45*time.Second, func() bool {
			b := e.bursts(time.Second)
			return len(b) >= 1 && time.Since(b[0]) > 2*time.Second
		})
		must(t, l.(interface {
			SendDTMF(rune, time.Duration) error
		}).SendDTMF('7', sip.DTMFDuration)) // sales
		d := <-res
		must(t, d.err)
		return d.c, e
	}
	cb, _ := salesCall("+15550177")
	defer cb.Hangup(context.Background())
	quiet := sendSilence(ctx, cb.Leg())
	callbackID := latestCallID(t, s)
	// 1 counts only after the offer ("…press 1"): press it every 2 s.
	waitUntil(t, "the callback to be accepted (contactd hangs up)", 40*time.Second, func() bool {
		select {
		case <-cb.Done():
			return true
		default:
		}
		_ = cb.SendDTMF('1')
		time.Sleep(2 * time.Second)
		return false
	})
	quiet()
	waitUntil(t, "the call to end as a callback", 15*time.Second, func() bool {
		s.api(t, s.adminTok, "GET", "/api/v1/calls/"+callbackID, nil, &cl)
		return cl.EndedAt != nil
	})
	if cl.Disposition != "callback requested" {
		t.Fatalf("disposition %q, want callback requested", cl.Disposition)
	}
	if st := s.api(t, bobTok, "POST", "/api/v1/agents/bob/state", map[string]string{"state": "available"}, nil); st != 200 {
		t.Fatalf("bob available: %d", st)
	}
	waitUntil(t, "the carrier to get the callback", 40*time.Second, func() bool { return carrier.lastNumber() == "+15550177" })
	waitUntil(t, "bob's voice at the called-back number", 15*time.Second, func() bool {
		pcm := carrier.heard("+15550177")
		return len(pcm) > media.SampleRate && media.Goertzel(pcm, media.SampleRate, 700) > 10*media.Goertzel(pcm, media.SampleRate, 1300)
	})
	carrier.hangup("+15550177")
	var calls struct {
		Calls []struct {
			ID, From, Agent, To string
		} `json:"calls"`
	}
	waitUntil(t, "the callback's call record", 20*time.Second, func() bool {
		s.api(t, s.adminTok, "GET", "/api/v1/calls?limit=1", nil, &calls)
		return len(calls.Calls) == 1 && calls.Calls[0].From == "+15550177" && calls.Calls[0].Agent == "bob"
	})

	// 6. Nobody takes sales for 25 s: the caller leaves a voicemail, which
	// becomes a ticket. The callback's record can land before bob's leg
	// is torn down, and a break asked for during a call is refused (409,
	// routing.ErrInCall): bob asks again until his call is over.
	var breakStatus int
	waitUntil(t, "bob on break once the callback is over", 10*time.Second, func() bool {
		breakStatus = s.api(t, bobTok, "POST", "/api/v1/agents/bob/state", map[string]string{"state": "break", "reason": "lunch"}, nil)
		return breakStatus != 409
	})
	if breakStatus != 200 {
		t.Fatalf("bob on break: %d", breakStatus)
	}
	vm, vmEar := salesCall("+15550178")
	defer vm.Hangup(context.Background())
	vmID := latestCallID(t, s)
	quiet = sendSilence(ctx, vm.Leg())
	// The beep after the voicemail prompt: 1 kHz, 400 ms.
	waitUntil(t, "the voicemail beep", 60*time.Second, func() bool {
		pcm := vmEar.since(time.Now().Add(-300 * time.Millisecond))
		rms := media.RMS(pcm)
		if len(pcm) < 4000 || rms < 1000 {
			return false
		}
		// A pure 1 kHz: nearly all the power at 1 kHz (a pure tone scores
		// 0.5 on this scale, speech and the music on hold 0.01 or less).
		if media.Goertzel(pcm, media.SampleRate, 1000)/(rms*rms/(32768*32768)) < 0.25 {
			return false
		}
		return true
	})
	quiet()
	_, msg := speechWAV(t, "I would like to buy a new router for my office. Please call me back tomorrow.", media.SampleRate, 500*time.Millisecond)
	must(t, media.Play(ctx, vm.Leg(), msg))
	quiet = sendSilence(ctx, vm.Leg())
	select {
	case <-vm.Done(): // "Thank you for your message. Goodbye."
	case <-time.After(30 * time.Second):
		t.Fatal("the voicemail did not end after the caller stopped speaking")
	}
	quiet()
	var vcall struct {
		Disposition string `json:"disposition"`
		Transcript  []struct {
			Speaker, Text string
		} `json:"transcript"`
	}
	waitUntil(t, "the voicemail's ticket", 20*time.Second, func() bool {
		var tk struct {
			Tickets []struct{ ID string } `json:"tickets"`
		}
		s.api(t, s.adminTok, "GET", "/api/v1/tickets?call_id="+vmID, nil, &tk)
		return len(tk.Tickets) == 1
	})
	s.api(t, s.adminTok, "GET", "/api/v1/calls/"+vmID, nil, &vcall)
	said := ""
	for _, seg := range vcall.Transcript {
		if seg.Speaker == "caller" {
			said += seg.Text + " "
		}
	}
	if vcall.Disposition != "voicemail" || !strings.Contains(said, "router") {
		t.Fatalf("voicemail call: disposition %q, caller said %q", vcall.Disposition, said)
	}
}

type callJSON struct {
	From        string     `json:"from"`
	Agent       string     `json:"agent"`
	Disposition string     `json:"disposition"`
	AnsweredAt  *time.Time `json:"answered_at"`
	EndedAt     *time.Time `json:"ended_at"`
}

func latestCallID(t *testing.T, s *server) string {
	t.Helper()
	var calls struct {
		Calls []struct{ ID string } `json:"calls"`
	}
	s.api(t, s.adminTok, "GET", "/api/v1/calls?limit=1", nil, &calls)
	if len(calls.Calls) != 1 {
		t.Fatal("no call listed")
	}
	return calls.Calls[0].ID
}

func waitState(t *testing.T, s *server, tok, agent, state string) {
	t.Helper()
	waitUntil(t, agent+" "+state, 30*time.Second, func() bool {
		var v struct{ State string }
		s.api(t, tok, "GET", "/api/v1/agents/"+agent, nil, &v)
		return v.State == state
	})
}

// hears waits until the last second the caller heard is a hz tone, and
// none of the other parties' tones (700, 900, 1000 Hz).
func hears(t *testing.T, e *ear, what string, hz float64) {
	t.Helper()
	waitUntil(t, what, 20*time.Second, func() bool {
		pcm := e.since(time.Now().Add(-time.Second))
		if len(pcm) < media.SampleRate/2 {
			return false
		}
		want := media.Goertzel(pcm, media.SampleRate, hz)
		for _, other := range []float64{700, 900, 1000, 1300} {
			if other != hz && want < 10*media.Goertzel(pcm, media.SampleRate, other) {
				return false
			}
		}
		return true
	})
}

// startPhone registers user's baresip desk phone, answering on its own,
// sending a hz tone as its microphone and driven over its ctrl_tcp socket.
func startPhone(ctx context.Context, t *testing.T, s *server, user, pass string, hz float64) *baresiptest.Phone {
	t.Helper()
	p := baresiptest.Start(ctx, t, baresiptest.Options{
		Modules: []string{"g711.so"},
		Mic:     media.Tone(hz, 90*time.Second, 8000, 0.3), MicRate: 8000,
		Config:  "answermode auto\n",
		Account: fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;regint=600;answermode=auto", user, s.sipAddr, pass),
		Control: true,
	})
	p.WaitOutput(t, "200 OK", 15*time.Second) // registered
	return p
}

// carrier is a SIP trunk peer: it answers every call, sends a 1 kHz tone
// and keeps what it hears per dialled number, and which calls contactd
// hung up (BYE).
type carrier struct {
	addr string
	mu   sync.Mutex
	last string
	ears map[string]*ear
	ends map[string]context.CancelFunc
	byes map[string]bool
}

func startCarrier(ctx context.Context, t *testing.T) *carrier {
	t.Helper()
	return startCarrierRinging(ctx, t, 0)
}

// startCarrierRinging is startCarrier ringing (180) for ring before it
// answers.
func startCarrierRinging(ctx context.Context, t *testing.T, ring time.Duration) *carrier {
	t.Helper()
	c := &carrier{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t, "udp")), ears: map[string]*ear{}, ends: map[string]context.CancelFunc{},
		byes: map[string]bool{}}
	srv, err := sip.NewServer(sip.Config{Addr: c.addr, RTPPortMin: 41000, RTPPortMax: 41400, RingDelay: ring},
		sip.HandlerFunc(func(ctx context.Context, in *sip.InboundCall) {
			ctx, end := context.WithCancel(ctx)
			defer end()
			e := &ear{}
			c.mu.Lock()
			c.last, c.ears[in.To], c.ends[in.To] = in.To, e, end
			c.mu.Unlock()
			go e.run(in.Leg)
			_ = media.Play(ctx, in.Leg, media.Tone(1000, 60*time.Second, media.SampleRate, 0.3))
			if errors.Is(context.Cause(ctx), sip.ErrRemoteHangup) {
				c.mu.Lock()
				c.byes[in.To] = true
				c.mu.Unlock()
			}
		}))
	must(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	<-srv.Ready()
	return c
}

func (c *carrier) lastNumber() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *carrier) heard(number string) []int16 {
	c.mu.Lock()
	e := c.ears[number]
	c.mu.Unlock()
	if e == nil {
		return nil
	}
	return e.since(time.Now().Add(-time.Second))
}

// hungUp reports whether contactd ended the call to number with a BYE.
func (c *carrier) hungUp(number string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byes[number]
}

func (c *carrier) hangup(number string) {
	c.mu.Lock()
	end := c.ends[number]
	c.mu.Unlock()
	if end != nil {
		end()
	}
}
