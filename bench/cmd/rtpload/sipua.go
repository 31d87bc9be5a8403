package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// ua is a minimal SIP user agent over one UDP socket: enough to register
// phones with digest auth, place and answer calls and hang up, with the
// RFC 3261 retransmissions a lossy or busy path needs. It parses with
// sipgo's parser and writes messages as text.
type ua struct {
	conn  *net.UDPConn
	local *net.UDPAddr
	log   *slog.Logger

	mu      sync.Mutex
	pending map[string]chan *sipmsg.Response // client transactions by Via branch
	acks    map[string][]byte                // ACK per Call-ID, re-sent for retransmitted 2xx
	onReq   func(req *sipmsg.Request, src *net.UDPAddr)
	closed  chan struct{}
}

var errTimeout = errors.New("no final response")

func newUA(log *slog.Logger) (*ua, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("sip socket: %w", err)
	}
	_ = c.SetReadBuffer(4 << 20)
	u := &ua{conn: c, local: c.LocalAddr().(*net.UDPAddr), log: log,
		pending: map[string]chan *sipmsg.Response{}, acks: map[string][]byte{}, closed: make(chan struct{})}
	return u, nil
}

// serve reads until the socket is closed; onReq handles requests (on the
// reader goroutine: it must not block).
func (u *ua) serve(onReq func(*sipmsg.Request, *net.UDPAddr)) {
	u.onReq = onReq
	go func() {
		defer close(u.closed)
		buf := make([]byte, 65536)
		for {
			n, src, err := u.conn.ReadFromUDP(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			msg, err := sipmsg.ParseMessage(append([]byte(nil), buf[:n]...))
			if err != nil {
				u.log.Debug("bad sip message", "err", err)
				continue
			}
			switch m := msg.(type) {
			case *sipmsg.Request:
				m.SetSource(src.String())
				if u.onReq != nil {
					u.onReq(m, src)
				}
			case *sipmsg.Response:
				u.onResponse(m, src)
			}
		}
	}()
}

func (u *ua) close() {
	u.conn.Close()
	<-u.closed
}

func (u *ua) onResponse(res *sipmsg.Response, src *net.UDPAddr) {
	via := res.Via()
	if via == nil {
		return
	}
	branch, _ := via.Params.Get("branch")
	u.mu.Lock()
	ch := u.pending[branch]
	ack := u.acks[callID(res)]
	u.mu.Unlock()
	if ch != nil {
		select {
		case ch <- res:
		default:
		}
		return
	}
	// A 2xx to an INVITE whose transaction is over: our ACK was lost.
	if cs := res.CSeq(); cs != nil && cs.MethodName == sipmsg.INVITE && res.IsSuccess() && ack != nil {
		u.send(ack, src)
	}
}

func callID(m sipmsg.Message) string {
	if h := m.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

func (u *ua) send(b []byte, to *net.UDPAddr) {
	if _, err := u.conn.WriteToUDP(b, to); err != nil {
		u.log.Debug("sip send", "err", err)
	}
}

func newBranch() string { return "z9hG4bK" + strconv.FormatUint(rand.Uint64(), 36) }
func newTag() string    { return strconv.FormatUint(rand.Uint64(), 36) }

// request is one outgoing request; build gets the Via branch.
type request struct {
	method string
	build  func(branch string) string
}

// transact sends a request and retransmits it (T1 = 500 ms doubling to
// T2 = 4 s; an INVITE stops after a provisional response) until a final
// response, ctx's end or 32 s.
func (u *ua) transact(ctx context.Context, to *net.UDPAddr, r request) (*sipmsg.Response, error) {
	branch := newBranch()
	ch := make(chan *sipmsg.Response, 8)
	u.mu.Lock()
	u.pending[branch] = ch
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		delete(u.pending, branch)
		u.mu.Unlock()
	}()
	msg := []byte(r.build(branch))
	u.send(msg, to)
	interval := 500 * time.Millisecond
	retx := time.NewTimer(interval)
	defer retx.Stop()
	deadline := time.NewTimer(32 * time.Second)
	defer deadline.Stop()
	provisional := false
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			return nil, fmt.Errorf("%s: %w in 32 s", r.method, errTimeout)
		case <-retx.C:
			if !(provisional && r.method == sipmsg.INVITE.String()) {
				u.send(msg, to)
			}
			interval = min(2*interval, 4*time.Second)
			retx.Reset(interval)
		case res := <-ch:
			if res.IsProvisional() {
				provisional = true
				continue
			}
			return res, nil
		}
	}
}

// sdpAudio is what the tool needs from an SDP body.
type sdpAudio struct {
	ip      net.IP
	port    int
	dtmfPT  int // telephone-event/8000 payload type, -1 if none
	rtcpMux bool
	hasPCMU bool
}

func parseSDP(body []byte) (sdpAudio, error) {
	s := sdpAudio{dtmfPT: -1}
	inAudio := false
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "c=IN IP4 "):
			if ip := net.ParseIP(strings.Fields(line[len("c=IN IP4 "):])[0]); ip != nil && (s.ip == nil || inAudio) {
				s.ip = ip
			}
		case strings.HasPrefix(line, "m="):
			f := strings.Fields(line)
			inAudio = len(f) >= 4 && f[0] == "m=audio"
			if inAudio {
				p, err := strconv.Atoi(f[1])
				if err != nil {
					return s, fmt.Errorf("sdp: bad port in %q", line)
				}
				s.port = p
				for _, pt := range f[3:] {
					if pt == "0" {
						s.hasPCMU = true
					}
				}
			}
		case inAudio && strings.HasPrefix(line, "a=rtpmap:"):
			f := strings.Fields(line[len("a=rtpmap:"):])
			if len(f) == 2 && strings.EqualFold(f[1], "telephone-event/8000") {
				s.dtmfPT, _ = strconv.Atoi(f[0])
			}
		case inAudio && line == "a=rtcp-mux":
			s.rtcpMux = true
		}
	}
	if s.ip == nil || s.port == 0 {
		return s, fmt.Errorf("sdp: no audio address")
	}
	if !s.hasPCMU {
		return s, fmt.Errorf("sdp: PCMU not offered")
	}
	return s, nil
}

// localSDP offers or answers PCMU (and telephone-event when dtmfPT >= 0)
// on port.
func localSDP(port, dtmfPT int, rtcpMux bool) string {
	id := strconv.FormatUint(rand.Uint64()>>1, 10)
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=rtpload %s %s IN IP4 127.0.0.1\r\ns=rtpload\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n", id, id)
	if dtmfPT >= 0 {
		fmt.Fprintf(&b, "m=audio %d RTP/AVP 0 %d\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-15\r\n", port, dtmfPT, dtmfPT, dtmfPT)
	} else {
		fmt.Fprintf(&b, "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", port)
	}
	b.WriteString("a=ptime:20\r\na=sendrecv\r\n")
	if rtcpMux {
		b.WriteString("a=rtcp-mux\r\n")
	}
	return b.String()
}

// register binds user's phone at this UA's address, answering the digest
// challenge.
func (u *ua) register(ctx context.Context, server *net.UDPAddr, user, pass string) error {
	host := server.IP.String()
	callid := newTag() + "@rtpload"
	fromTag := newTag()
	mk := func(cseq int, auth string) request {
		return request{method: "REGISTER", build: func(branch string) string {
			var b strings.Builder
			fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\n", server)
			fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n", u.local, branch)
			b.WriteString("Max-Forwards: 70\r\n")
			fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\n", user, host, fromTag)
			fmt.Fprintf(&b, "To: <sip:%s@%s>\r\n", user, host)
			fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d REGISTER\r\n", callid, cseq)
			fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\nExpires: 3600\r\n", user, u.local)
			if auth != "" {
				fmt.Fprintf(&b, "Authorization: %s\r\n", auth)
			}
			b.WriteString("User-Agent: rtpload\r\nContent-Length: 0\r\n\r\n")
			return b.String()
		}}
	}
	res, err := u.transact(ctx, server, mk(1, ""))
	if err != nil {
		return err
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		hdr := "WWW-Authenticate"
		if res.StatusCode == 407 {
			hdr = "Proxy-Authenticate"
		}
		h := res.GetHeader(hdr)
		if h == nil {
			return fmt.Errorf("register %s: %d without a challenge", user, res.StatusCode)
		}
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil {
			return fmt.Errorf("register %s: challenge: %w", user, err)
		}
		cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + server.String(),
			Username: user, Password: pass, Count: 1})
		if err != nil {
			return fmt.Errorf("register %s: digest: %w", user, err)
		}
		if res, err = u.transact(ctx, server, mk(2, cred.String())); err != nil {
			return err
		}
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("register %s: %d %s", user, res.StatusCode, res.Reason)
	}
	return nil
}

// dialog is an established call as the tool sees it.
type dialog struct {
	callID, localTag, remoteTag string
	localURI, remoteURI         string // From/To as we send them
	target                      string // the remote Contact (Request-URI)
	dest                        *net.UDPAddr
	remote                      sdpAudio
}

// invite places a call to uri at server offering PCMU on rtpPort; it
// returns once answered and ACKed.
func (u *ua) invite(ctx context.Context, server *net.UDPAddr, uri, from string, rtpPort int) (*dialog, error) {
	d := &dialog{callID: newTag() + "@rtpload", localTag: newTag(), dest: server,
		localURI: fmt.Sprintf("<sip:%s@127.0.0.1>", from), remoteURI: "<" + uri + ">"}
	body := localSDP(rtpPort, 101, true)
	res, err := u.transact(ctx, server, request{method: "INVITE", build: func(branch string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "INVITE %s SIP/2.0\r\n", uri)
		fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n", u.local, branch)
		b.WriteString("Max-Forwards: 70\r\n")
		fmt.Fprintf(&b, "From: %s;tag=%s\r\nTo: %s\r\n", d.localURI, d.localTag, d.remoteURI)
		fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: 1 INVITE\r\n", d.callID)
		fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", from, u.local)
		fmt.Fprintf(&b, "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		return b.String()
	}})
	if err != nil {
		return nil, err
	}
	if !res.IsSuccess() {
		return nil, fmt.Errorf("invite: %d %s", res.StatusCode, res.Reason)
	}
	d.remoteTag, _ = res.To().Params.Get("tag")
	d.target = uri
	if c := res.Contact(); c != nil {
		d.target = c.Address.String()
	}
	ack := fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nMax-Forwards: 70\r\n"+
		"From: %s;tag=%s\r\nTo: %s;tag=%s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
		d.target, u.local, newBranch(), d.localURI, d.localTag, d.remoteURI, d.remoteTag, d.callID)
	u.mu.Lock()
	u.acks[d.callID] = []byte(ack)
	u.mu.Unlock()
	u.send([]byte(ack), server)
	if d.remote, err = parseSDP(res.Body()); err != nil {
		_ = u.bye(ctx, d)
		return nil, err
	}
	return d, nil
}

// bye hangs up a dialog we are in.
func (u *ua) bye(ctx context.Context, d *dialog) error {
	defer func() {
		u.mu.Lock()
		delete(u.acks, d.callID)
		u.mu.Unlock()
	}()
	res, err := u.transact(ctx, d.dest, request{method: "BYE", build: func(branch string) string {
		return fmt.Sprintf("BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nMax-Forwards: 70\r\n"+
			"From: %s;tag=%s\r\nTo: %s;tag=%s\r\nCall-ID: %s\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
			d.target, u.local, branch, d.localURI, d.localTag, d.remoteURI, d.remoteTag, d.callID)
	}})
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 && res.StatusCode != 481 {
		return fmt.Errorf("bye: %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// respond sends a response to req (with a To tag and, for 2xx to INVITE,
// a Contact and body).
func (u *ua) respond(req *sipmsg.Request, src *net.UDPAddr, code int, reason, toTag, body string) []byte {
	res := sipmsg.NewResponseFromRequest(req, code, reason, nil)
	if to := res.To(); to != nil && toTag != "" {
		if _, ok := to.Params.Get("tag"); !ok {
			to.Params.Add("tag", toTag)
		}
	}
	if code >= 200 && code < 300 && req.IsInvite() {
		res.AppendHeader(sipmsg.NewHeader("Contact", fmt.Sprintf("<sip:%s@%s>", req.Recipient.User, u.local)))
	}
	if body != "" {
		res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		res.SetBody([]byte(body))
	}
	b := []byte(res.String())
	u.send(b, src)
	return b
}
