package sip

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactd/contactd/internal/testcert"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/media/g711"
	"github.com/pion/srtp/v3"
)

// callerHz is the tone our test caller sends; the server's handler sends
// toneHz.
const callerHz = 700

// duplexHandler sends the toneHz tone to the caller and reports once it
// has heard callerHz from the caller.
type duplexHandler struct {
	calls chan *InboundCall
	heard chan int // frames with callerHz, once there are enough
}

func newDuplexHandler() *duplexHandler {
	return &duplexHandler{calls: make(chan *InboundCall, 4), heard: make(chan int, 4)}
}

func (h *duplexHandler) ServeCall(ctx context.Context, c *InboundCall) {
	h.calls <- c
	frame := media.Tone(toneHz, media.FrameDuration, media.SampleRate, 0.5)
	good, reported := 0, false
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-c.Leg.Frames():
			if isTone(f, callerHz) {
				good++
			}
			if good >= 10 && !reported {
				reported = true
				h.heard <- good
			}
		default:
		}
		if err := c.Leg.WriteFrame(frame); err != nil {
			return
		}
	}
}

// isTone reports whether a 16 kHz frame is dominated by hz.
func isTone(f []int16, hz float64) bool {
	rms := media.RMS(f)
	return rms > 500 && media.Goertzel(f, media.SampleRate, hz)/(rms*rms/(32768*32768)) > 0.3
}

// wireSpy is a UDP relay put between the server and our caller by
// rewriting the caller's SDP offer: the server sends its (S)RTP to the
// spy, which keeps copies and forwards to the caller's real port. It can
// tamper with or replay the next RTP packet.
type wireSpy struct {
	conn           *net.UDPConn
	to             atomic.Pointer[net.UDPAddr]
	captured       chan []byte
	tamper, replay atomic.Bool
}

func newWireSpy(t *testing.T) *wireSpy {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s := &wireSpy{conn: c, captured: make(chan []byte, 500)}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			to := s.to.Load()
			if to == nil {
				continue
			}
			b := buf[:n]
			if n > 20 && !(b[1] >= 192 && b[1] <= 223) { // RTP, not RTCP
				select {
				case s.captured <- bytes.Clone(b):
				default:
				}
				if s.tamper.CompareAndSwap(true, false) {
					b = bytes.Clone(b)
					b[20] ^= 0x40
				}
				if s.replay.CompareAndSwap(true, false) {
					_, _ = c.WriteToUDP(b, to)
				}
			}
			_, _ = c.WriteToUDP(b, to)
		}
	}()
	return s
}

var mLine = regexp.MustCompile(`m=audio (\d+) `)

// hook points the offer's m-line at the spy and the spy at the real port.
func (s *wireSpy) hook(offer []byte) []byte {
	m := mLine.FindSubmatch(offer)
	if m == nil {
		return offer
	}
	port, _ := strconv.Atoi(string(m[1]))
	s.to.Store(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	spyPort := s.conn.LocalAddr().(*net.UDPAddr).Port
	return mLine.ReplaceAll(offer, []byte("m=audio "+strconv.Itoa(spyPort)+" "))
}

// tlsTestServer runs a Server with SIP over TLS on a self-signed
// certificate and returns it with the client TLS configuration.
func tlsTestServer(t *testing.T, cfg Config, h Handler) (*Server, *tls.Config) {
	t.Helper()
	certFile, keyFile, pool := testcert.Write(t)
	cfg.TLSAddr, cfg.TLSCert, cfg.TLSKey = "127.0.0.1:0", certFile, keyFile
	s := startServer(t, cfg, h)
	return s, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

func srtpDialCfg(s *Server, tc *tls.Config) DialConfig {
	cfg := dialCfg(s, "tls", "PCMU")
	cfg.Target = "sip:support@" + s.TLSAddr()
	cfg.TLSConfig = tc
	cfg.SRTP = true
	return cfg
}

// TestSRTPCallOverTLS: our caller offers RTP/SAVP over SIP over TLS; the
// server answers with a crypto line and audio flows both ways encrypted.
// A relay between the server and the caller sees packets that are not
// G.711 of the tone but decrypt to it with the key of the server's SDP
// answer. A tampered and a replayed packet are dropped and counted, and
// the call goes on, through hold and resume.
func TestSRTPCallOverTLS(t *testing.T) {
	h := newDuplexHandler()
	s, tc := tlsTestServer(t, Config{}, h)
	spy := newWireSpy(t)
	cfg := srtpDialCfg(s, tc)
	cfg.offerHook = spy.hook
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer call.Hangup(context.Background())
	in := recv(t, "inbound call", h.calls)
	if in.SRTPSuite != media.SRTPAES128SHA1_80 || call.SRTPSuite() != media.SRTPAES128SHA1_80 {
		t.Fatalf("suites: server %q, caller %q; want %s (the first offered)", in.SRTPSuite, call.SRTPSuite(), media.SRTPAES128SHA1_80)
	}
	if !call.Leg().SRTP() {
		t.Fatal("caller leg is not SRTP")
	}
	ans := string(call.dlg.InviteResponse.Body())
	if !strings.Contains(ans, "m=audio ") || !strings.Contains(ans, " RTP/SAVP 0") || !strings.Contains(ans, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") {
		t.Fatalf("answer is not SDES-SRTP:\n%s", ans)
	}

	// Both ways: the caller hears the server's tone, the server the caller's.
	playCtx, stopPlay := context.WithCancel(ctx)
	defer stopPlay()
	go media.Play(playCtx, call.Leg(), media.Tone(callerHz, 15*time.Second, media.SampleRate, 0.5))
	hearsTone(t, call.Leg())
	recv(t, "server hears the caller's tone", h.heard)

	// The wire: encrypted, and the answer's key decrypts it to the tone.
	m, err := parseSDP([]byte(ans))
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := parseCrypto(m.Crypto[0])
	if err != nil {
		t.Fatal(err)
	}
	dec, err := srtp.CreateContext(srvKey.Key[:16], srvKey.Key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		wire := recv(t, "captured packet", (<-chan []byte)(spy.captured))
		if len(wire) != 12+160+10 {
			t.Fatalf("wire packet of %d bytes, want 12+160+10 (PCMU + 80-bit tag)", len(wire))
		}
		if isNarrowTone(g711.DecodeUlaw(nil, wire[12:12+160]), toneHz) {
			t.Fatal("the wire carries plain G.711 of the tone")
		}
		plain, err := dec.DecryptRTP(nil, wire, nil)
		if err != nil {
			t.Fatalf("decrypt a wire packet with the answer's key: %v", err)
		}
		if i >= 2 && !isNarrowTone(g711.DecodeUlaw(nil, plain[12:]), toneHz) { // past the codec's start-up
			t.Fatal("decrypted packet is not the tone")
		}
	}

	// Tampered, then replayed: dropped and counted, the call survives.
	before := call.Leg().Stats().SRTPDropped
	spy.tamper.Store(true)
	waitFor(t, "tampered packet counted", func() bool { return call.Leg().Stats().SRTPDropped == before+1 })
	spy.replay.Store(true)
	waitFor(t, "replayed packet counted", func() bool { return call.Leg().Stats().SRTPDropped == before+2 })
	hearsTone(t, call.Leg())
	select {
	case <-call.Done():
		t.Fatal("call ended after a bad packet")
	default:
	}

	// Hold and resume keep the crypto context (re-INVITEs with the same
	// keys): no packet fails afterwards and audio flows on.
	hctx, hcancel := context.WithTimeout(ctx, 5*time.Second)
	defer hcancel()
	if err := in.Hold(hctx, true); err != nil {
		t.Fatal(err)
	}
	if !call.HeldByRemote() {
		t.Error("caller not held")
	}
	if err := in.Hold(hctx, false); err != nil {
		t.Fatal(err)
	}
	if call.SRTPSuite() != media.SRTPAES128SHA1_80 {
		t.Errorf("suite after hold: %q", call.SRTPSuite())
	}
	hearsTone(t, call.Leg())
	if d := call.Leg().Stats().SRTPDropped; d != before+2 {
		t.Errorf("caller dropped %d packets after hold/resume, want %d", d, before+2)
	}
	if d := in.Leg.(*media.RTPLeg).Stats().SRTPDropped; d != 0 {
		t.Errorf("server dropped %d SRTP packets", d)
	}
}

// isNarrowTone reports whether an 8 kHz frame is dominated by hz.
func isNarrowTone(f []int16, hz float64) bool {
	rms := media.RMS(f)
	return rms > 500 && media.Goertzel(f, 8000, hz)/(rms*rms/(32768*32768)) > 0.3
}

// dialRawTLS is dialRaw over SIP over TLS.
func dialRawTLS(t *testing.T, addr string, tc *tls.Config) *rawConn {
	t.Helper()
	c, err := tls.Dial("tcp", addr, tc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, network: "tls", c: c, target: addr, r: bufio.NewReader(c)}
}

func savpOffer(lines ...string) string {
	return strings.Join(append([]string{"v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
		"m=audio 40000 RTP/SAVP 0 101", "a=rtpmap:101 telephone-event/8000"}, lines...), "\r\n") + "\r\n"
}

const goodKey = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR" // RFC 4568 6.1

// TestSRTPRefused: offers the policy or the crypto parser refuse get 488
// with a Warning, and the server goes on serving.
func TestSRTPRefused(t *testing.T) {
	s, tc := tlsTestServer(t, Config{}, newToneHandler())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("SAVP over UDP from our caller", func(t *testing.T) {
		cfg := dialCfg(s, "udp", "PCMU")
		cfg.SRTP = true
		_, err := Dial(ctx, cfg)
		var se *StatusError
		if !errors.As(err, &se) || se.Code != 488 {
			t.Fatalf("err = %v, want 488", err)
		}
	})
	for _, network := range []string{"udp", "tcp"} {
		t.Run("SAVP over "+network, func(t *testing.T) {
			rc := dialRaw(t, network, s.Addr())
			res := rc.do(sdpInvite(savpOffer("a=crypto:1 AES_CM_128_HMAC_SHA1_80 "+goodKey)), 5*time.Second)
			if res == nil || res.Code != 488 || !strings.HasPrefix(res.Header.Get("Warning"), "302 ") ||
				!strings.Contains(res.Header.Get("Warning"), "clear text") {
				t.Fatalf("got %+v, want 488 with Warning 302 ... clear text", res)
			}
		})
	}
	bad := []struct{ name, body, why string }{
		{"no crypto line", savpOffer(), "without a=crypto"},
		{"garbage", savpOffer("a=crypto:garbage"), "want <tag>"},
		{"bad tag", savpOffer("a=crypto:x1 AES_CM_128_HMAC_SHA1_80 " + goodKey), "tag"},
		{"bad base64", savpOffer("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:!!notbase64!!"), "not base64"},
		{"short key", savpOffer("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ="), "want 30"},
		{"GCM length for an HMAC suite", savpOffer("a=crypto:1 AEAD_AES_128_GCM " + goodKey), "want 28"},
		{"not inline", savpOffer("a=crypto:1 AES_CM_128_HMAC_SHA1_80 uri:https://keys.example/1"), "inline"},
		{"two keys", savpOffer("a=crypto:1 AES_CM_128_HMAC_SHA1_80 " + goodKey + ";" + goodKey), "more than one"},
		{"bad lifetime", savpOffer("a=crypto:1 AES_CM_128_HMAC_SHA1_80 " + goodKey + "|2^99"), "lifetime"},
		{"bad MKI", savpOffer("a=crypto:1 AES_CM_128_HMAC_SHA1_80 " + goodKey + "|300:1"), "MKI"},
		{"unencrypted SRTP", savpOffer("a=crypto:1 AES_CM_128_HMAC_SHA1_80 " + goodKey + " UNENCRYPTED_SRTP"), "session parameter"},
		{"KDR", savpOffer("a=crypto:1 AES_CM_128_HMAC_SHA1_80 " + goodKey + " KDR=24"), "session parameter"},
		{"only unsupported suites", savpOffer("a=crypto:1 F8_128_HMAC_SHA1_80 "+goodKey,
			"a=crypto:2 AES_192_CM_HMAC_SHA1_80 inline:"+strings.Repeat("QUFB", 12)), "unsupported suite"},
	}
	for _, tc2 := range bad {
		t.Run(tc2.name, func(t *testing.T) {
			rc := dialRawTLS(t, s.TLSAddr(), tc)
			res := rc.do(sdpInvite(tc2.body), 5*time.Second)
			w := ""
			if res != nil {
				w = res.Header.Get("Warning")
			}
			if res == nil || res.Code != 488 || !strings.HasPrefix(w, "306 ") || !strings.Contains(w, tc2.why) {
				t.Fatalf("got %+v, want 488 with Warning 306 ... %q", res, tc2.why)
			}
		})
	}
	t.Run("a bad line before a good one", func(t *testing.T) {
		rc := dialRawTLS(t, s.TLSAddr(), tc)
		callID, branch := randHex(), randHex()
		rc.send(sdpInvite(savpOffer("a=crypto:1 F8_128_HMAC_SHA1_80 "+goodKey, "a=crypto:2 AES_CM_128_HMAC_SHA1_32 "+goodKey+"|2^20|1:4")).render(rc, branch, callID))
		res := rc.final(5 * time.Second)
		if res == nil || res.Code != 200 {
			t.Fatalf("got %+v, want 200", res)
		}
		// In-dialog requests: our From tag, the server's To tag.
		inDialog := func(method string, cseq int) msg {
			return request(method).without("From").without("To").without("CSeq").
				with("From: <sip:raw@127.0.0.1>;tag=f"+branch, "").with("To: "+res.Header.Get("To"), "").
				with("CSeq: "+strconv.Itoa(cseq)+" "+method, "")
		}
		rc.send(inDialog("ACK", 1).render(rc, randHex(), callID))
		defer func() {
			rc.send(inDialog("BYE", 2).render(rc, randHex(), callID))
			waitFor(t, "no active calls", func() bool { return s.ActiveCalls() == 0 })
		}()
		if !regexp.MustCompile(`a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:[A-Za-z0-9+/]{40}\r\n`).MatchString(res.Body) ||
			strings.Contains(res.Body, goodKey) || !strings.Contains(res.Body, "RTP/SAVP") {
			t.Fatalf("answer does not take tag 2 with a fresh key of our own:\n%s", res.Body)
		}
	})
	mustServeOptions(t, "udp", s.Addr())
	rc := dialRawTLS(t, s.TLSAddr(), tc)
	if res := rc.do(request("OPTIONS"), 3*time.Second); res == nil || res.Code != 200 {
		t.Fatalf("OPTIONS over TLS after bad offers: %+v", res)
	}
}

// TestSRTPPolicyOptions: RequireSRTPOnTLS refuses plain RTP over TLS (not
// over UDP); AllowSDESWithoutTLS takes SRTP over UDP; plain RTP over TLS is
// taken by default (TestTLSAndWebSocket).
func TestSRTPPolicyOptions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	t.Run("require SRTP on TLS", func(t *testing.T) {
		s, tc := tlsTestServer(t, Config{RequireSRTPOnTLS: true}, newToneHandler())
		cfg := srtpDialCfg(s, tc)
		cfg.SRTP = false
		_, err := Dial(ctx, cfg)
		var se *StatusError
		if !errors.As(err, &se) || se.Code != 488 {
			t.Fatalf("plain RTP over TLS: err = %v, want 488", err)
		}
		call, err := Dial(ctx, srtpDialCfg(s, tc))
		if err != nil {
			t.Fatalf("SRTP over TLS: %v", err)
		}
		hearsTone(t, call.Leg())
		_ = call.Hangup(ctx)
		call, err = Dial(ctx, dialCfg(s, "udp", "PCMU"))
		if err != nil {
			t.Fatalf("plain RTP over UDP: %v", err)
		}
		_ = call.Hangup(ctx)
	})
	t.Run("allow SDES without TLS", func(t *testing.T) {
		h := newToneHandler()
		s := startServer(t, Config{AllowSDESWithoutTLS: true}, h)
		cfg := dialCfg(s, "udp", "opus")
		cfg.SRTP = true
		call, err := Dial(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer call.Hangup(ctx)
		if call.SRTPSuite() == "" || !call.Leg().SRTP() {
			t.Fatal("not SRTP")
		}
		hearsTone(t, call.Leg())
	})
}

func TestParseCrypto(t *testing.T) {
	key30 := "inline:" + strings.Repeat("QUFB", 10)         // 30 bytes
	key28 := "inline:" + strings.Repeat("QUFB", 9) + "QQ==" // 28 bytes
	good := []struct {
		in   string
		want cryptoAttr
	}{
		{"1 AES_CM_128_HMAC_SHA1_80 " + key30, cryptoAttr{Tag: 1, Suite: media.SRTPAES128SHA1_80}},
		{"7 AES_CM_128_HMAC_SHA1_32 " + key30 + "|2^31", cryptoAttr{Tag: 7, Suite: media.SRTPAES128SHA1_32, Lifetime: 1 << 31}},
		{"2 AES_CM_128_HMAC_SHA1_80 " + key30 + "|2^20|1:4", cryptoAttr{Tag: 2, Suite: media.SRTPAES128SHA1_80, Lifetime: 1 << 20, MKIValue: 1, MKILen: 4}},
		{"3 AES_CM_128_HMAC_SHA1_80 " + key30 + "|258:2 KDR=0 WSH=128 -FUTURE", cryptoAttr{Tag: 3, Suite: media.SRTPAES128SHA1_80, MKIValue: 258, MKILen: 2}},
		{"4 AEAD_AES_128_GCM " + key28 + "|1000000", cryptoAttr{Tag: 4, Suite: media.SRTPAEADAES128GCM, Lifetime: 1000000}},
		{"5 AEAD_AES_128_GCM " + strings.TrimSuffix(key28, "=="), cryptoAttr{Tag: 5, Suite: media.SRTPAEADAES128GCM}}, // unpadded
	}
	for _, tc := range good {
		c, err := parseCrypto(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if c.Tag != tc.want.Tag || c.Suite != tc.want.Suite || c.Lifetime != tc.want.Lifetime || c.MKIValue != tc.want.MKIValue || c.MKILen != tc.want.MKILen {
			t.Errorf("%q = %+v, want %+v", tc.in, c, tc.want)
		}
		back, err := parseCrypto(c.String())
		if err != nil || back.String() != c.String() || !bytes.Equal(back.Key, c.Key) {
			t.Errorf("%q does not round-trip: %q, %v", tc.in, c.String(), err)
		}
	}
	if c, _ := parseCrypto("2 AES_CM_128_HMAC_SHA1_80 " + key30 + "|258:2"); !bytes.Equal(c.mki(), []byte{1, 2}) {
		t.Errorf("mki 258:2 = %v, want [1 2]", c.mki())
	}
	for _, in := range []string{"", "1", "1 AES_CM_128_HMAC_SHA1_80", "+1 AES_CM_128_HMAC_SHA1_80 " + key30, "1234567890 AES_CM_128_HMAC_SHA1_80 " + key30,
		"1 AES_CM_128_HMAC_SHA1_80 " + key30 + "|1:4|2^20", "1 AES_CM_128_HMAC_SHA1_80 " + key30 + "|1:4|1:4", "1 AES_CM_128_HMAC_SHA1_80 " + key30 + "|0",
		"1 AES_CM_128_HMAC_SHA1_80 " + key30 + "|1:0", "1 AES_CM_128_HMAC_SHA1_80 " + key30 + "|1:129", "1 AES_CM_128_HMAC_SHA1_80 " + key30 + "|||",
		"1 AES_CM_128_HMAC_SHA1_80 " + key30 + " WSH=1", "1 AES_CM_128_HMAC_SHA1_80 " + key30 + " FEC_ORDER=FEC_SRTP", "1 aes_cm_128_hmac_sha1_80 " + key30,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + strings.Repeat("QUFB", 9) + "QUE", "1 AES_CM_128_HMAC_SHA1_80 inline:" + strings.Repeat("QUFB", 9) + "Q==="} {
		if c, err := parseCrypto(in); err == nil {
			t.Errorf("%q accepted as %+v", in, c)
		}
	}
}

// TestSDESReoffer: a re-offer with the same key changes nothing, a new
// key from the peer is taken while ours stays, a new suite gets a new key
// of ours, and SRTP/plain switches are refused.
func TestSDESReoffer(t *testing.T) {
	key := func(b byte) string {
		return "inline:" + strings.Repeat(string(rune('A'+b)), 40)
	}
	parse := func(lines ...string) *sdpMedia {
		t.Helper()
		m, err := parseSDP([]byte(savpOffer(lines...)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	first := parse("a=crypto:1 AES_CM_128_HMAC_SHA1_80 " + key(0))
	cur, err := answerOffer(nil, first)
	if err != nil {
		t.Fatal(err)
	}
	if same, err := reoffer(cur, first, false); err != nil || same != cur {
		t.Fatalf("same offer: %v, %v; want the current state", same, err)
	}
	rekey, err := reoffer(cur, parse("a=crypto:3 AES_CM_128_HMAC_SHA1_80 "+key(1)), false)
	if err != nil || rekey == cur || !bytes.Equal(rekey.Local.Key, cur.Local.Key) || rekey.Local.Tag != 3 || bytes.Equal(rekey.Remote.Key, cur.Remote.Key) {
		t.Fatalf("new remote key: %+v, %v", rekey, err)
	}
	suite, err := reoffer(cur, parse("a=crypto:1 AES_CM_128_HMAC_SHA1_32 "+key(0)), false)
	if err != nil || bytes.Equal(suite.Local.Key, cur.Local.Key) || suite.Local.Suite != media.SRTPAES128SHA1_32 {
		t.Fatalf("new suite: %+v, %v", suite, err)
	}
	plain, err := parseSDP([]byte(goodOffer))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reoffer(cur, plain, false); !errors.Is(err, ErrMediaSecurity) {
		t.Fatalf("SRTP to plain: %v, want ErrMediaSecurity", err)
	}
	if _, err := reoffer(nil, first, false); !errors.Is(err, ErrMediaSecurity) {
		t.Fatalf("plain to SRTP: %v, want ErrMediaSecurity", err)
	}
	// Answers to our own offer must keep our tag and suite.
	ours := []cryptoAttr{cur.Local}
	ans := parse("a=crypto:" + strconv.Itoa(cur.Local.Tag) + " AES_CM_128_HMAC_SHA1_32 " + key(2))
	if _, err := takeAnswer(ours, ans); !errors.Is(err, ErrNoCommonCrypto) {
		t.Fatalf("answer changing the suite: %v", err)
	}
	if _, err := takeAnswer(ours, parse("a=crypto:9 AES_CM_128_HMAC_SHA1_80 "+key(2))); !errors.Is(err, ErrNoCommonCrypto) {
		t.Fatalf("answer with a tag we did not offer: %v", err)
	}
}

// TestServerDialSRTP: Server.Dial (desk phones, CallOut) offers SDES when
// DialConfig.SRTP asks; the callee (another Server, taking SDES over UDP
// for the test) answers SRTP, audio flows, and the callee's hold and
// resume re-INVITEs are answered with the call's keys.
func TestServerDialSRTP(t *testing.T) {
	h := newEventHandler()
	callee := startServer(t, Config{AllowSDESWithoutTLS: true}, h)
	caller := startServer(t, Config{}, newToneHandler())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := caller.Dial(ctx, Binding{User: "phone", Contact: "sip:support@" + callee.Addr(), Transport: "udp"},
		DialConfig{From: "queue", Codecs: []string{"PCMA"}, SRTP: true, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer call.Hangup(context.Background())
	in := recv(t, "inbound call", h.calls)
	if call.SRTPSuite() != media.SRTPAES128SHA1_80 || in.SRTPSuite != media.SRTPAES128SHA1_80 {
		t.Fatalf("suites %q and %q", call.SRTPSuite(), in.SRTPSuite)
	}
	tone := func() {
		go func() {
			frame := media.Tone(toneHz, media.FrameDuration, media.SampleRate, 0.5)
			for i := 0; i < 100; i++ {
				if in.Leg.WriteFrame(frame) != nil {
					return
				}
			}
		}()
		hearsTone(t, call.Leg())
	}
	tone()
	for _, on := range []bool{true, false} {
		if err := in.Hold(ctx, on); err != nil {
			t.Fatalf("hold %v: %v", on, err)
		}
		if call.HeldByRemote() != on {
			t.Fatalf("held = %v, want %v", call.HeldByRemote(), on)
		}
	}
	tone()
	if d := call.Leg().Stats().SRTPDropped; d != 0 {
		t.Errorf("%d SRTP packets dropped", d)
	}
}

// TestSDESAnswerProfile: the answer keeps the offer's profile (RTP/SAVPF
// stays RTP/SAVPF) and carries one crypto line under the chosen tag.
func TestSDESAnswerProfile(t *testing.T) {
	for _, profile := range []string{"RTP/SAVP", "RTP/SAVPF"} {
		body := strings.Replace(savpOffer("a=crypto:5 AEAD_AES_128_GCM inline:"+strings.Repeat("QUFB", 9)+"QQ==",
			"a=crypto:6 AES_CM_128_HMAC_SHA1_80 "+goodKey), "RTP/SAVP", profile, 1)
		m, err := parseSDP([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		sec, err := answerOffer(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		ans, err := buildSDPSec(net.IPv4(127, 0, 0, 1), 7000, []media.Codec{media.PCMU}, nil, sdpOrigin{1, 1}, "sendrecv", false, sec.sdp())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(ans), "m=audio 7000 "+profile+" 0\r\n") || strings.Count(string(ans), "a=crypto:") != 1 ||
			!strings.Contains(string(ans), "a=crypto:5 AEAD_AES_128_GCM inline:") {
			t.Errorf("%s answer:\n%s", profile, ans)
		}
		if len(sec.Local.Key) != 28 || bytes.Equal(sec.Local.Key, sec.Remote.Key) {
			t.Errorf("our GCM key %x", sec.Local.Key)
		}
	}
}
