package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/sip"
	"github.com/contactd/contactd/web/webtest"
)

const callerSentence = "I want to check the status of my order, the number is 5 8 2 1 3"

const agentScript = "Hello, thank you for calling, my name is Anna. How can I help you today? " +
	"I am sorry to hear that. Let me check that for you. Your order is on its way. " +
	"Is there anything else I can help you with? Thank you for calling, goodbye."

// TestFirstCall is issue 2's acceptance test: one server, one agent in
// Chromium, an Opus caller speaking naturally, a PCMU caller using the
// keypad fallback, bad input, and a graceful shutdown.
func TestFirstCall(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	for _, tool := range []string{"espeak-ng", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (make test installs it)", tool)
		}
	}
	bin := buildBinary(t)
	s := startServer(t, bin)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	agentWAV, _ := speechWAV(t, agentScript, 48000, 500*time.Millisecond)
	b, err := webtest.Start(ctx, webtest.Options{FakeAudioWAV: agentWAV})
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	defer b.Close()
	defer func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", strings.Join(b.Console(), "\n"))
		}
	}()
	if err := b.Navigate(s.httpURL + "/agent"); err != nil {
		t.Fatal(err)
	}
	must(t, b.SetValue("#username", "alice"))
	must(t, b.SetValue("#password", "alice-demo"))
	must(t, b.Click("#login"))
	must(t, b.WaitJS(ctx, "window.contactd.loggedIn && window.contactd.wsConnected", 15*time.Second))
	must(t, b.Click("#go-available"))
	must(t, b.WaitJS(ctx, "window.contactd.state === 'available'", 10*time.Second))

	t.Run("bad input", func(t *testing.T) { badInput(t, s) })
	t.Run("opus call by voice", func(t *testing.T) { opusCall(ctx, t, s, b) })
	t.Run("pcmu call by keypad", func(t *testing.T) { pcmuKeypadCall(ctx, t, s, b) })
	t.Run("order number keyed to the IVR", func(t *testing.T) { keyedOrderCall(ctx, t, s, b) })
	t.Run("graceful shutdown", func(t *testing.T) { shutdown(ctx, t, s) })
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type offer struct {
	CallID string `json:"call_id"`
	From   string `json:"from"`
	Intent string `json:"intent"`
	Queue  string `json:"queue"`
}

func opusCall(ctx context.Context, t *testing.T, s *server, b *webtest.Browser) {
	_, speech := speechWAV(t, callerSentence, media.SampleRate, 300*time.Millisecond)
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: "+15550101", Codecs: []string{"opus"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Hangup(context.Background())
	if got := c.Codec().Name; got != "opus" {
		t.Fatalf("negotiated %s, want opus", got)
	}
	leg := c.Leg()
	e := &ear{}
	go e.run(leg)

	// Wait for the greeting to finish, then speak.
	waitUntil(t, "the greeting", 20*time.Second, func() bool { return e.quietFor(800 * time.Millisecond) })
	if err := media.Play(ctx, leg, speech); err != nil {
		t.Fatal(err)
	}
	spokeAt := time.Now().Add(-300 * time.Millisecond) // the WAV ends with 300 ms of silence

	must(t, b.WaitJS(ctx, "!!(window.contactd.offer && window.contactd.offer.call_id)", 30*time.Second))
	routedIn := time.Since(spokeAt)
	var o offer
	must(t, b.Eval("window.contactd.offer", &o))
	t.Logf("offer after %v from end of caller speech: %+v", routedIn.Round(time.Millisecond), o)
	if o.Intent != "order_status" || o.Queue != "orders" || o.From != "+15550101" {
		t.Fatalf("offer = %+v, want intent order_status in queue orders from +15550101", o)
	}

	playDone := answerAndCheckAudio(ctx, t, b, leg, e)
	<-playDone
	// A page reload during the call reconnects the agent's audio; the
	// caller stays on the line.
	must(t, b.Navigate(s.httpURL+"/agent"))
	must(t, b.WaitJS(ctx, "window.contactd.inCall && window.contactd.pcState === 'connected'", 20*time.Second))
	reconnectedAt := time.Now()
	waitUntil(t, "agent audio after the reload", 15*time.Second, func() bool {
		return media.RMS(e.since(reconnectedAt.Add(500*time.Millisecond))) > 200
	})
	// Let the agent's script play through once so it is transcribed.
	time.Sleep(8 * time.Second)
	must(t, c.Hangup(ctx))
	hungUp := time.Now()

	// An API client polling the call sees it end only with its
	// transcript: the record is marked ended after the transcript is
	// stored (every answer until then shows it not yet ended).
	var polled struct {
		EndedAt    *time.Time        `json:"ended_at"`
		Transcript []json.RawMessage `json:"transcript"`
	}
	polls := 0
	for deadline := time.Now().Add(10 * time.Second); ; polls++ {
		polled.EndedAt, polled.Transcript = nil, nil
		if st := s.api(t, s.adminTok, "GET", "/api/v1/calls/"+o.CallID, nil, &polled); st != 200 {
			t.Fatalf("GET call while it ends: %d", st)
		}
		if polled.EndedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the call was not marked ended within 10 s of the hang-up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("call marked ended %v after hang-up (%d polls before) with %d transcript lines",
		time.Since(hungUp).Round(time.Millisecond), polls, len(polled.Transcript))
	if len(polled.Transcript) == 0 {
		t.Fatal("the call showed as ended with no transcript")
	}

	var tk struct {
		Tickets []struct {
			ID        string                 `json:"id"`
			Category  string                 `json:"category"`
			Priority  string                 `json:"priority"`
			Subject   string                 `json:"subject"`
			Summary   string                 `json:"summary"`
			Entities  map[string]string      `json:"entities"`
			Sentiment string                 `json:"sentiment"`
			Status    string                 `json:"status"`
			Customer  struct{ Phone string } `json:"customer"`
		} `json:"tickets"`
	}
	waitUntil(t, "the ticket", 5*time.Second, func() bool {
		return s.api(t, s.adminTok, "GET", "/api/v1/tickets?call_id="+o.CallID, nil, &tk) == 200 && len(tk.Tickets) == 1
	})
	ticketIn := time.Since(hungUp)
	tkt := tk.Tickets[0]
	t.Logf("ticket %v after hang-up: %+v", ticketIn.Round(time.Millisecond), tkt)
	// Where the time went, by contactd's own account: the recognisers'
	// last utterances (cut by the hang-up) and the post-call work.
	var ended string
	waitUntil(t, "contactd's call-ended log line", 5*time.Second, func() bool {
		ended = logLine(s.logs.String(), "call ended", o.CallID)
		return ended != ""
	})
	t.Logf("contactd: %s", ended)
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if (strings.Contains(line, "stream closed") || strings.Contains(line, "post-call steps")) && strings.Contains(line, o.CallID) {
			t.Logf("contactd: %s", line) // the recogniser's speculation and pieces, each post-call step
		}
	}
	// The goal: hang-up to stored ticket within 2 s (polling adds up to
	// 50 ms to what the client measures).
	if ticketIn > 2*time.Second {
		t.Errorf("ticket %v after the hang-up, goal 2 s (contactd: %s)", ticketIn.Round(time.Millisecond), ended)
	}
	if tkt.Category != "order_status" || tkt.Entities["order_number"] != "58213" || tkt.Status != "open" || tkt.Customer.Phone != "+15550101" {
		t.Fatalf("ticket = %+v", tkt)
	}
	var ev struct {
		Evaluations []struct {
			ID       string `json:"id"`
			Score    int    `json:"score"`
			MaxScore int    `json:"max_score"`
			Items    []struct {
				Key    string `json:"key"`
				Passed bool   `json:"passed"`
			} `json:"items"`
		} `json:"evaluations"`
	}
	waitUntil(t, "the evaluation", 5*time.Second, func() bool {
		return s.api(t, s.adminTok, "GET", "/api/v1/qa/evaluations?call_id="+o.CallID, nil, &ev) == 200 && len(ev.Evaluations) == 1
	})
	if e := ev.Evaluations[0]; len(e.Items) != 7 || e.MaxScore == 0 {
		t.Fatalf("evaluation = %+v", e)
	}
	t.Logf("evaluation: score %d/%d %+v", ev.Evaluations[0].Score, ev.Evaluations[0].MaxScore, ev.Evaluations[0].Items)

	var cl struct {
		ID           string     `json:"id"`
		Intent       string     `json:"intent"`
		Queue        string     `json:"queue"`
		Agent        string     `json:"agent"`
		AnsweredAt   *time.Time `json:"answered_at"`
		EndedAt      *time.Time `json:"ended_at"`
		RecordingURL string     `json:"recording_url"`
		Quality      map[string]struct {
			Codec     string  `json:"codec"`
			PacketsIn int     `json:"packets_in"`
			LossPct   float64 `json:"loss_pct"`
			JitterMS  float64 `json:"jitter_ms"`
			MOS       float64 `json:"mos"`
		} `json:"quality"`
		Transcript []struct {
			Speaker string `json:"speaker"`
			StartMS int64  `json:"start_ms"`
			EndMS   int64  `json:"end_ms"`
			Text    string `json:"text"`
		} `json:"transcript"`
	}
	if st := s.api(t, s.adminTok, "GET", "/api/v1/calls/"+o.CallID, nil, &cl); st != 200 {
		t.Fatalf("GET call: %d", st)
	}
	speakers := map[string]int{}
	for _, sg := range cl.Transcript {
		speakers[sg.Speaker]++
		t.Logf("  %6d-%6d %-6s %s", sg.StartMS, sg.EndMS, sg.Speaker, sg.Text)
	}
	if cl.Intent != "order_status" || cl.Queue != "orders" || cl.Agent != "alice" || cl.AnsweredAt == nil || cl.EndedAt == nil || speakers["caller"] == 0 || speakers["agent"] == 0 {
		t.Fatalf("call = %+v", cl)
	}
	// IVR analytics: the nodes the caller went through, and the outcome.
	var ivrStats struct {
		Calls    int            `json:"calls"`
		Outcomes map[string]int `json:"outcomes"`
		Nodes    []struct {
			Node    string `json:"node"`
			Reached int    `json:"reached"`
			Left    int    `json:"left"`
		} `json:"nodes"`
	}
	if st := s.api(t, s.adminTok, "GET", "/api/v1/ivr/stats", nil, &ivrStats); st != 200 || ivrStats.Outcomes["transferred"] < 1 || len(ivrStats.Nodes) == 0 {
		t.Fatalf("ivr stats: %d %+v", st, ivrStats)
	}
	t.Logf("ivr stats: %+v", ivrStats)
	// Per-leg quality is stored with the call.
	t.Logf("quality: %+v", cl.Quality)
	if q := cl.Quality["caller"]; q.Codec != "opus" || q.PacketsIn < 100 || q.MOS < 3.5 {
		t.Fatalf("caller quality = %+v", q)
	}
	if q := cl.Quality["agent"]; q.Codec != "opus" || q.PacketsIn < 100 {
		t.Fatalf("agent quality = %+v", q)
	}
	// The stereo recording: caller left, agent right, both with audio.
	checkRecording(t, s, cl.RecordingURL)

	// And straight from the database.
	if s.dbURL != "" {
		conn, err := pgx.Connect(ctx, s.dbURL)
		must(t, err)
		defer conn.Close(ctx)
		var n int
		must(t, conn.QueryRow(ctx, "SELECT count(*) FROM tickets WHERE call_id = $1", o.CallID).Scan(&n))
		var m int
		must(t, conn.QueryRow(ctx, "SELECT count(*) FROM qa_evaluations WHERE call_id = $1", o.CallID).Scan(&m))
		if n != 1 || m != 1 {
			t.Fatalf("database has %d tickets and %d evaluations for the call", n, m)
		}
	}
	// The agent's page saw the ticket; wrap-up ends by itself.
	must(t, b.WaitJS(ctx, "!window.contactd.inCall", 10*time.Second))
	must(t, b.WaitJS(ctx, "window.contactd.state === 'available'", 15*time.Second))
}

// answerAndCheckAudio answers the offer in the browser and checks that each
// side hears the other: the caller sends a 440 Hz tone the browser must
// receive, and the agent's fake microphone speaks the agent script the
// caller must hear. It returns when both are shown; the tone plays on.
func answerAndCheckAudio(ctx context.Context, t *testing.T, b *webtest.Browser, leg media.Leg, e *ear) <-chan error {
	t.Helper()
	must(t, b.Click("#answer"))
	must(t, b.WaitJS(ctx, "window.contactd.inCall && window.contactd.pcState === 'connected'", 20*time.Second))
	answeredAt := time.Now()

	// The caller sends a tone the agent must hear; the agent's fake
	// microphone speaks the agent script the caller must hear.
	tone := media.Tone(440, 6*time.Second, media.SampleRate, 0.3)
	playDone := make(chan error, 1)
	go func() { playDone <- media.Play(ctx, leg, tone) }()
	waitUntil(t, "agent audio at the caller", 15*time.Second, func() bool {
		return media.RMS(e.since(answeredAt.Add(500*time.Millisecond))) > 200
	})
	var st struct {
		InboundAudioEnergy float64 `json:"inboundAudioEnergy"`
		InboundPackets     int     `json:"inboundPackets"`
	}
	waitUntil(t, "caller audio in the browser", 15*time.Second, func() bool {
		must(t, b.Eval("window.contactd.stats()", &st))
		return st.InboundAudioEnergy > 0.001 && st.InboundPackets > 50
	})
	t.Logf("caller hears agent at RMS %.0f; browser inbound energy %.4f over %d packets",
		media.RMS(e.since(answeredAt.Add(500*time.Millisecond))), st.InboundAudioEnergy, st.InboundPackets)
	return playDone
}

func checkRecording(t *testing.T, s *server, u string) {
	t.Helper()
	if u == "" {
		t.Fatal("no recording_url")
	}
	req, _ := http.NewRequest("GET", s.httpURL+u, nil)
	req.Header.Set("Authorization", "Bearer "+s.adminTok)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	pcm, rate, ch, err := media.ReadWAV(resp.Body)
	must(t, err)
	if ch != 2 || rate != media.SampleRate && rate != media.NarrowRate {
		t.Fatalf("recording is %d ch at %d Hz", ch, rate)
	}
	left, right := make([]int16, 0, len(pcm)/2), make([]int16, 0, len(pcm)/2)
	for i := 0; i+1 < len(pcm); i += 2 {
		left, right = append(left, pcm[i]), append(right, pcm[i+1])
	}
	t.Logf("recording: %d Hz, %.1f s, caller RMS %.0f, agent RMS %.0f", rate, float64(len(left))/float64(rate), media.RMS(left), media.RMS(right))
	if media.RMS(left) < 50 || media.RMS(right) < 50 {
		t.Fatal("a channel of the recording is silent")
	}
}

func pcmuKeypadCall(ctx context.Context, t *testing.T, s *server, b *webtest.Browser) {
	must(t, b.WaitJS(ctx, "window.contactd.state === 'available' && !window.contactd.offer", 15*time.Second))
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: "+15550102", Codecs: []string{"PCMU"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Hangup(context.Background())
	if got := c.Codec().Name; got != "PCMU" {
		t.Fatalf("negotiated %s, want PCMU", got)
	}
	e := &ear{}
	go e.run(c.Leg())
	// Say nothing: greeting, (no input) reprompt, (no input) menu. Press 1
	// for order status once the menu has started.
	quiet := sendSilence(ctx, c.Leg())
	waitUntil(t, "the keypad menu", 90*time.Second, func() bool { return len(e.bursts(2*time.Second)) >= 3 })
	time.Sleep(time.Second)
	must(t, c.SendDTMF('1'))
	quiet()
	must(t, b.WaitJS(ctx, "!!(window.contactd.offer && window.contactd.offer.call_id)", 20*time.Second))
	var o offer
	must(t, b.Eval("window.contactd.offer", &o))
	if o.Intent != "order_status" || o.Queue != "orders" || o.From != "+15550102" {
		t.Fatalf("offer = %+v", o)
	}
	// PCMU caller, Opus agent: the bridge transcodes both ways.
	<-answerAndCheckAudio(ctx, t, b, c.Leg(), e)
	must(t, c.Hangup(ctx))
	must(t, b.WaitJS(ctx, "!window.contactd.inCall", 10*time.Second))
	var cl struct {
		Intent  string     `json:"intent"`
		Queue   string     `json:"queue"`
		EndedAt *time.Time `json:"ended_at"`
	}
	waitUntil(t, "the call record", 10*time.Second, func() bool {
		return s.api(t, s.adminTok, "GET", "/api/v1/calls/"+o.CallID, nil, &cl) == 200 && cl.EndedAt != nil
	})
	if cl.Intent != "order_status" || cl.Queue != "orders" {
		t.Fatalf("call = %+v", cl)
	}
}

// keyedOrderCall: a caller asks by voice about an order and keys its
// number when the IVR asks for it; the ticket has the keyed number, which
// no line of the transcript says.
func keyedOrderCall(ctx context.Context, t *testing.T, s *server, b *webtest.Browser) {
	must(t, b.WaitJS(ctx, "window.contactd.state === 'available' && !window.contactd.offer", 15*time.Second))
	_, speech := speechWAV(t, "I want to check the status of my order please", media.SampleRate, 300*time.Millisecond)
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: "+15550103", Codecs: []string{"opus"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Hangup(context.Background())
	e := &ear{}
	go e.run(c.Leg())
	waitUntil(t, "the greeting", 20*time.Second, func() bool { return len(e.bursts(time.Second)) >= 1 && e.quietFor(800*time.Millisecond) })
	must(t, media.Play(ctx, c.Leg(), speech))
	quiet := sendSilence(ctx, c.Leg())
	defer quiet()
	// The greeting, then the IVR's question for the order number.
	waitUntil(t, "the order number's question", 30*time.Second, func() bool {
		return len(e.bursts(time.Second)) >= 2 && e.quietFor(800*time.Millisecond)
	})
	for _, d := range "58213#" {
		must(t, c.SendDTMF(d))
		time.Sleep(150 * time.Millisecond)
	}
	must(t, b.WaitJS(ctx, "!!(window.contactd.offer && window.contactd.offer.call_id)", 20*time.Second))
	var o offer
	must(t, b.Eval("window.contactd.offer", &o))
	if o.Intent != "order_status" || o.From != "+15550103" {
		t.Fatalf("offer = %+v", o)
	}
	must(t, b.Click("#answer"))
	must(t, b.WaitJS(ctx, "window.contactd.inCall && window.contactd.pcState === 'connected'", 20*time.Second))
	time.Sleep(2 * time.Second)
	must(t, c.Hangup(ctx))
	must(t, b.WaitJS(ctx, "!window.contactd.inCall", 10*time.Second))
	var tk struct {
		Tickets []struct {
			Entities map[string]string `json:"entities"`
		} `json:"tickets"`
	}
	waitUntil(t, "the ticket", 10*time.Second, func() bool {
		return s.api(t, s.adminTok, "GET", "/api/v1/tickets?call_id="+o.CallID, nil, &tk) == 200 && len(tk.Tickets) == 1
	})
	var cl struct {
		Transcript []struct{ Text string } `json:"transcript"`
	}
	if st := s.api(t, s.adminTok, "GET", "/api/v1/calls/"+o.CallID, nil, &cl); st != 200 {
		t.Fatalf("GET call: %d", st)
	}
	for _, l := range cl.Transcript {
		if strings.Contains(strings.ReplaceAll(l.Text, " ", ""), "58213") {
			t.Errorf("the keyed number is in the transcript (%q): this test would not show where the ticket took it from", l.Text)
		}
	}
	if got := tk.Tickets[0].Entities["order_number"]; got != "58213" {
		t.Fatalf("ticket's order number %q, want the keyed 58213 (transcript %+v)", got, cl.Transcript)
	}
}

func badInput(t *testing.T, s *server) {
	// Malformed INVITE over UDP: 400, and the server keeps serving.
	conn, err := net.Dial("udp", s.sipAddr)
	must(t, err)
	defer conn.Close()
	local := conn.LocalAddr().String()
	// An INVITE without Call-ID: parseable, but not a valid request.
	bad := "INVITE sip:support@" + s.sipAddr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-bad1\r\n" +
		"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:support@127.0.0.1>\r\n" +
		"CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	// Bytes no parser can make sense of are dropped; the server goes on.
	for _, junk := range []string{"\x00\xff garbage \r\n\r\n", "INVITE sip:x SIP/2.0\r\nCSeq: notanumber INVITE\r\n\r\n"} {
		if _, err := conn.Write([]byte(junk)); err != nil {
			t.Fatal(err)
		}
	}
	noCodec := sipInvite(s.sipAddr, local, "nocodec-1", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n")
	garbledSDP := sipInvite(s.sipAddr, local, "garbled-1", "this is not sdp\r\n")
	options := "OPTIONS sip:support@" + s.sipAddr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-opt1\r\n" +
		"From: <sip:x@127.0.0.1>;tag=3\r\nTo: <sip:support@127.0.0.1>\r\n" +
		"Call-ID: options-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	for _, tc := range []struct {
		name, msg string
		want      []string // acceptable final status codes
	}{
		{"malformed INVITE", bad, []string{"400"}},
		{"no common codec", noCodec, []string{"488"}},
		{"garbled SDP", garbledSDP, []string{"400", "488"}},
		{"OPTIONS after the garbage", options, []string{"200"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := sipExchange(t, conn, tc.msg)
			for _, w := range tc.want {
				if code == w {
					return
				}
			}
			t.Fatalf("got %s, want one of %v", code, tc.want)
		})
	}
	// API: bad JSON, no token, bad token, wrong role.
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"bad JSON", "POST", "/api/v1/nlu/classify", s.adminTok, `{"text": `, 400},
		{"unknown field", "POST", "/api/v1/nlu/classify", s.adminTok, `{"txt": "hi"}`, 400},
		{"no token", "GET", "/api/v1/calls", "", nil, 401},
		{"bad token", "GET", "/api/v1/calls", "nope", nil, 401},
		{"bad login JSON", "POST", "/api/v1/auth/login", "", `[1,2`, 400},
		{"wrong password", "POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "x"}, 401},
		{"unknown ticket", "GET", "/api/v1/tickets/tkt_nope", s.adminTok, nil, 404},
		{"bad user role", "POST", "/api/v1/users", s.adminTok, map[string]string{"username": "z", "password": "longenough", "role": "god"}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e struct {
				Error string `json:"error"`
			}
			if got := s.api(t, tc.token, tc.method, tc.path, tc.body, &e); got != tc.want || e.Error == "" {
				t.Fatalf("status %d error %q, want %d with a message", got, e.Error, tc.want)
			}
		})
	}
	// Still serving: health and a classification.
	var cls struct {
		Intent     string  `json:"intent"`
		Confidence float64 `json:"confidence"`
	}
	if st := s.api(t, s.adminTok, "POST", "/api/v1/nlu/classify", map[string]string{"text": "where is my parcel"}, &cls); st != 200 || cls.Intent != "order_status" {
		t.Fatalf("classify after bad input: %d %+v", st, cls)
	}
}

func sipInvite(target, local, callID, sdp string) string {
	return "INVITE sip:support@" + target + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-" + callID + "\r\n" +
		"From: <sip:x@127.0.0.1>;tag=2\r\nTo: <sip:support@127.0.0.1>\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n" +
		"Contact: <sip:x@" + local + ">\r\nContent-Type: application/sdp\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(sdp)) + sdp
}

// sipExchange sends one request and returns the first final status code.
func sipExchange(t *testing.T, conn net.Conn, msg string) string {
	t.Helper()
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_ = conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no SIP response: %v", err)
		}
		line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "SIP/2.0" && !strings.HasPrefix(f[1], "1") {
			return f[1]
		}
	}
	t.Fatal("no final SIP response")
	return ""
}

func shutdown(ctx context.Context, t *testing.T, s *server) {
	// A call in progress during SIGTERM is hung up (BYE) within the grace
	// period, and the process exits cleanly.
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: "+15550103", Codecs: []string{"PCMU"}})
	must(t, err)
	defer c.Hangup(context.Background())
	must(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-c.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("call not hung up on shutdown")
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("contactd did not exit after SIGTERM")
	}
	if s.exitErr != nil {
		t.Fatalf("exit: %v", s.exitErr)
	}
	if !strings.Contains(s.logs.String(), "stopped") {
		t.Fatal("no clean stop in the log")
	}
	_ = os.Stderr
}
