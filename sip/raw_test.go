package sip

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawConn speaks hand-written SIP to the server, to check responses byte
// by byte and to send what no SIP stack would.
type rawConn struct {
	t       *testing.T
	network string
	c       net.Conn
	r       *bufio.Reader // tcp only
	target  string
}

func dialRaw(t *testing.T, network, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{t: t, network: network, c: c, target: addr}
	if network == "tcp" {
		rc.r = bufio.NewReader(c)
	}
	return rc
}

func (rc *rawConn) send(msg string) {
	rc.t.Helper()
	if _, err := rc.c.Write([]byte(msg)); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

type rawResp struct {
	Code   int
	Reason string
	Header textproto.MIMEHeader
	Body   string
}

// read returns the next response, or nil after timeout.
func (rc *rawConn) read(timeout time.Duration) *rawResp {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(timeout))
	r := rc.r
	if r == nil {
		buf := make([]byte, 65535)
		n, err := rc.c.Read(buf)
		if err != nil {
			return nil
		}
		r = bufio.NewReader(bytes.NewReader(buf[:n]))
	}
	tp := textproto.NewReader(r)
	line, err := tp.ReadLine()
	if err != nil {
		return nil
	}
	var res rawResp
	ver, rest, _ := strings.Cut(line, " ")
	code, reason, _ := strings.Cut(rest, " ")
	if ver != "SIP/2.0" {
		rc.t.Fatalf("not a response: %q", line)
	}
	res.Code, _ = strconv.Atoi(code)
	res.Reason = reason
	if res.Header, err = tp.ReadMIMEHeader(); err != nil && err != io.EOF {
		rc.t.Fatalf("bad response headers after %q: %v", line, err)
	}
	if n, _ := strconv.Atoi(res.Header.Get("Content-Length")); n > 0 {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			rc.t.Fatalf("short body: %v", err)
		}
		res.Body = string(b)
	}
	return &res
}

// final skips provisional responses.
func (rc *rawConn) final(timeout time.Duration) *rawResp {
	rc.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		res := rc.read(time.Until(deadline))
		if res == nil || res.Code >= 200 {
			return res
		}
	}
	return nil
}

func randHex() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// msg fills a request template: $T transport, $t lower-case, $L our
// address, $A the server's, $B a branch, $C a call id; Content-Length is
// appended from body unless the template has one.
type msg struct {
	lines []string
	body  string
}

func request(method string, extra ...string) msg {
	lines := []string{
		method + " sip:support@$A SIP/2.0",
		"Via: SIP/2.0/$T $L;branch=z9hG4bK$B;rport",
		"Max-Forwards: 70",
		"From: <sip:raw@127.0.0.1>;tag=f$B",
		"To: <sip:support@$A>",
		"Call-ID: $C",
		"CSeq: 1 " + method,
		"Contact: <sip:raw@$L;transport=$t>",
	}
	return msg{lines: append(lines, extra...)}
}

func (m msg) without(name string) msg {
	var out []string
	for _, l := range m.lines {
		if !strings.HasPrefix(strings.ToLower(l), strings.ToLower(name)+":") {
			out = append(out, l)
		}
	}
	m.lines = out
	return m
}

func (m msg) with(line, body string) msg {
	m.lines = append(append([]string{}, m.lines...), line)
	m.body = body
	return m
}

func (m msg) render(rc *rawConn, branch, callID string) string {
	var b strings.Builder
	for _, l := range m.lines {
		b.WriteString(l + "\r\n")
	}
	hasLen := false
	for _, l := range m.lines {
		if strings.HasPrefix(strings.ToLower(l), "content-length:") {
			hasLen = true
		}
	}
	if !hasLen {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(m.body))
	}
	b.WriteString("\r\n" + m.body)
	return strings.NewReplacer(
		"$T", strings.ToUpper(rc.network), "$t", rc.network,
		"$L", rc.c.LocalAddr().String(), "$A", rc.target,
		"$B", branch, "$C", callID,
	).Replace(b.String())
}

func (rc *rawConn) do(m msg, timeout time.Duration) *rawResp {
	rc.t.Helper()
	rc.send(m.render(rc, randHex(), randHex()))
	return rc.final(timeout)
}

const goodOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"

func sdpInvite(body string) msg {
	return request("INVITE").with("Content-Type: application/sdp", body)
}

// mustServeOptions is the liveness probe after each bad input.
func mustServeOptions(t *testing.T, network, addr string) {
	t.Helper()
	rc := dialRaw(t, network, addr)
	res := rc.do(request("OPTIONS"), 3*time.Second)
	if res == nil || res.Code != 200 {
		t.Fatalf("OPTIONS over %s after bad input: %+v", network, res)
	}
}

func TestOptions(t *testing.T) {
	s := startServer(t, Config{}, newToneHandler())
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			rc := dialRaw(t, network, s.Addr())
			res := rc.do(request("OPTIONS"), 3*time.Second)
			if res == nil || res.Code != 200 {
				t.Fatalf("OPTIONS: %+v", res)
			}
			if allow := res.Header.Get("Allow"); !strings.Contains(allow, "INVITE") || !strings.Contains(allow, "BYE") {
				t.Errorf("Allow = %q", allow)
			}
			if res.Header.Get("Accept") != "application/sdp" {
				t.Errorf("Accept = %q", res.Header.Get("Accept"))
			}
		})
	}
}

// TestBadInput sends malformed and unacceptable requests over UDP and TCP,
// checks each response (or the lack of one where no response is possible),
// and that the server still answers OPTIONS afterwards.
func TestBadInput(t *testing.T) {
	s := startServer(t, Config{}, newToneHandler())
	tests := []struct {
		name    string
		raw     string // sent as is when set
		m       msg
		want    int // 0: no response possible
		warning bool
	}{
		{name: "garbage", raw: "\x00\x01\x02 hello\r\n\r\n"},
		{name: "binary noise", raw: string(bytes.Repeat([]byte{0xff, 0x00, 0x13}, 300))},
		{name: "broken start line", raw: "INVITE\r\nVia: nope\r\n\r\n"},
		{name: "no Via", m: sdpInvite(goodOffer).without("Via"), want: 400},
		{name: "no Call-ID", m: sdpInvite(goodOffer).without("Call-ID"), want: 400},
		{name: "no CSeq", m: sdpInvite(goodOffer).without("CSeq"), want: 400},
		{name: "no Contact", m: sdpInvite(goodOffer).without("Contact"), want: 400, warning: true},
		{name: "bad Content-Length", m: sdpInvite(goodOffer).with("Content-Length: abc", goodOffer)},
		{name: "Content-Length beyond body", m: sdpInvite(goodOffer).with("Content-Length: 9999", goodOffer)},
		{name: "negative Content-Length", m: sdpInvite(goodOffer).with("Content-Length: -5", goodOffer)},
		{name: "no SDP", m: request("INVITE"), want: 488, warning: true},
		{name: "not SDP content type", m: request("INVITE").with("Content-Type: text/plain", "hello"), want: 415},
		{name: "garbled SDP", m: sdpInvite("v=0\r\nthis is not sdp\r\n"), want: 400, warning: true},
		{name: "SDP without c=", m: sdpInvite("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"), want: 400, warning: true},
		{name: "no common codec", m: sdpInvite("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 3 18\r\n"), want: 488, warning: true},
		{name: "video only", m: sdpInvite("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\n"), want: 488, warning: true},
		{name: "BYE outside a dialog", m: request("BYE"), want: 481},
		{name: "CANCEL without INVITE", m: request("CANCEL"), want: 481},
		{name: "re-INVITE outside a dialog", m: sdpInvite(goodOffer).without("To").with("To: <sip:support@$A>;tag=nope", goodOffer), want: 481},
		{name: "unknown method", m: request("FROBNICATE"), want: 405},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, tc := range tests {
			t.Run(network+"/"+tc.name, func(t *testing.T) {
				rc := dialRaw(t, network, s.Addr())
				if tc.raw != "" {
					rc.send(tc.raw)
				} else {
					rc.send(tc.m.render(rc, randHex(), randHex()))
				}
				wait := 2 * time.Second
				if tc.want == 0 {
					wait = 300 * time.Millisecond
				}
				res := rc.final(wait)
				switch {
				case tc.want == 0 && res != nil:
					t.Errorf("got %d %s, want no response", res.Code, res.Reason)
				case tc.want != 0 && (res == nil || res.Code != tc.want):
					t.Errorf("got %+v, want %d", res, tc.want)
				case tc.warning && res.Header.Get("Warning") == "":
					t.Errorf("%d without Warning header", res.Code)
				}
				mustServeOptions(t, network, s.Addr())
			})
		}
	}
	// A rejected INVITE's slot is released just after its answer is
	// sent, so poll briefly rather than read once.
	deadline := time.Now().Add(2 * time.Second)
	for s.ActiveCalls() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.ActiveCalls(); n != 0 {
		t.Errorf("ActiveCalls = %d after rejected INVITEs", n)
	}
}

// TestRawCancel checks the wire: CANCEL while ringing gets 200 and the
// INVITE 487, and the handler never runs.
func TestRawCancel(t *testing.T) {
	h := newToneHandler()
	s := startServer(t, Config{RingDelay: 5 * time.Second}, h)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			rc := dialRaw(t, network, s.Addr())
			branch, callID := randHex(), randHex()
			rc.send(sdpInvite(goodOffer).render(rc, branch, callID))
			var got []int
			for len(got) == 0 || got[len(got)-1] != 180 {
				res := rc.read(3 * time.Second)
				if res == nil {
					t.Fatalf("no 180 Ringing, got %v", got)
				}
				got = append(got, res.Code)
			}
			if got[0] != 100 {
				t.Errorf("first response %d, want 100 Trying", got[0])
			}
			// CANCEL copies the INVITE's Via branch, Call-ID and CSeq number.
			cancelReq := request("CANCEL").without("Contact")
			rc.send(cancelReq.render(rc, branch, callID))
			codes := map[string]int{}
			for len(codes) < 2 {
				res := rc.read(3 * time.Second)
				if res == nil {
					t.Fatalf("responses so far %v", codes)
				}
				codes[strings.Fields(res.Header.Get("CSeq"))[1]] = res.Code
			}
			if codes["CANCEL"] != 200 || codes["INVITE"] != 487 {
				t.Fatalf("CANCEL %d, INVITE %d; want 200 and 487", codes["CANCEL"], codes["INVITE"])
			}
			// ACK the 487 like a UAC would.
			rc.send(request("ACK").without("Contact").render(rc, branch, callID))
			waitFor(t, "no active calls", func() bool { return s.ActiveCalls() == 0 })
		})
	}
	select {
	case c := <-h.calls:
		t.Fatalf("handler ran for a cancelled call %+v", c)
	default:
	}
}

// TestDrain: a draining server refuses INVITEs with 503 and Retry-After.
func TestDrain(t *testing.T) {
	s := startServer(t, Config{RetryAfter: 7 * time.Second}, newToneHandler())
	s.Drain()
	for _, network := range []string{"udp", "tcp"} {
		rc := dialRaw(t, network, s.Addr())
		res := rc.do(sdpInvite(goodOffer), 3*time.Second)
		if res == nil || res.Code != 503 || res.Header.Get("Retry-After") != "7" {
			t.Fatalf("%s: %+v, want 503 with Retry-After 7", network, res)
		}
	}
}
