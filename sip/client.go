package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// DTMFDuration is how long a digit sent with SendDTMF lasts.
const DTMFDuration = 160 * time.Millisecond

// DialConfig describes one outbound call.
type DialConfig struct {
	// Target is the callee URI, e.g. "sip:support@127.0.0.1:5060".
	Target string
	// Transport is "udp" (default), "tcp", "tls" (needs TLSConfig) or
	// "ws" (SIP over WebSocket, RFC 7118).
	Transport string
	// TLSConfig is the client TLS configuration for "tls" (RootCAs,
	// ServerName).
	TLSConfig *tls.Config
	// From is our user part, e.g. "+15551234567"; default "contactd".
	From string
	// Codecs are the codec names to offer in order, e.g. ["opus"] or
	// ["PCMU"]; default all we support.
	Codecs []string
	// LocalIP is our SIP and RTP address; default 127.0.0.1.
	LocalIP net.IP
	// RTPPortMin and RTPPortMax bound the RTP port; 0 lets media choose.
	RTPPortMin, RTPPortMax int
	// Logger receives logs; default slog.Default().
	Logger *slog.Logger
	// Username and Password answer 401/407 challenges to the INVITE
	// (digest). Server.CallOut uses the trunk's instead.
	Username, Password string
	// Requester is the authenticated user on whose behalf Server.CallOut
	// places the call; CallOut refuses an empty one (toll fraud).
	Requester string
	// OnEarlyMedia, when set, is called with the call's leg as soon as a
	// 183 (or 180) with SDP starts early media, before the answer. It
	// must not block.
	OnEarlyMedia func(leg media.Leg)
	// SRTP offers SDES-SRTP (RFC 4568): RTP/SAVP with one a=crypto line
	// per suite media supports, each with a fresh key. The callee must
	// answer with one of them; a plain answer fails the call. Use it over
	// TLS: on other transports the keys travel in clear text (and our own
	// server refuses them).
	SRTP bool

	headers []sipmsg.Header // extra INVITE headers (Replaces, tests)
	// offerHook rewrites our SDP offer before it is sent (tests).
	offerHook func([]byte) []byte
}

// StatusError is a final non-2xx answer to our INVITE. It matches
// ErrRejected with errors.Is.
type StatusError struct {
	Code   int
	Reason string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("call rejected: %d %s", e.Code, e.Reason)
}

// Unwrap makes errors.Is(err, ErrRejected) true.
func (e *StatusError) Unwrap() error { return ErrRejected }

// OutboundCall is a call placed by Dial. Call Hangup to end it and release
// its sockets, also after the remote hung up.
type OutboundCall struct {
	log   *slog.Logger
	ua    *sipgo.UserAgent
	dlg   *sipgo.DialogClientSession
	leg   rtpLeg
	codec media.Codec
	dtmf  bool
	held  atomic.Bool // the callee holds us (its last offer was sendonly/inactive)
	// reoffers counts re-INVITEs answered (tests).
	reoffers atomic.Int32
	// onRelease, when set, runs once the call is released (Server.Dial
	// forgets its dialog there).
	onRelease func()
	secMu     sync.Mutex
	sec       *sdesState // SDES-SRTP keying; nil for plain RTP
	events    chan CallEvent
	transfers chan *OutboundCall // Dial: calls made for the callee's REFERs

	// Transfers a Dial call performs for the callee's REFER run on bg
	// and are waited for by release.
	bgCtx    context.Context
	bgCancel context.CancelFunc
	bg       sync.WaitGroup
	bgMu     sync.Mutex
	bgClosed bool

	closeOnce sync.Once
}

func newOutboundCall(log *slog.Logger, leg rtpLeg) *OutboundCall {
	ctx, cancel := context.WithCancel(context.Background())
	return &OutboundCall{log: log, leg: leg, events: make(chan CallEvent, eventBuffer),
		transfers: make(chan *OutboundCall, 1), bgCtx: ctx, bgCancel: cancel}
}

// Events delivers what the callee does in the dialog: for now EventRefer
// when a desk phone transfers the call. It is never closed; stop reading
// when Done is closed.
func (c *OutboundCall) Events() <-chan CallEvent { return c.events }

func (c *OutboundCall) emit(ev CallEvent) bool {
	select {
	case c.events <- ev:
		return true
	default:
		c.log.Warn("sip call event dropped: Events() not read", "event", ev.Kind.String())
		return false
	}
}

// Transferred delivers the new call a Dial call placed because the callee
// transferred it with REFER (we are the transferee: we call the target
// and report to the transferor with NOTIFY). Calls placed by Server.Dial
// report REFERs on Events instead.
func (c *OutboundCall) Transferred() <-chan *OutboundCall { return c.transfers }

// codecsByName resolves names against what we support, keeping the order.
func codecsByName(names []string) ([]media.Codec, error) {
	all := supportedCodecs()
	if len(names) == 0 {
		return append([]media.Codec(nil), all...), nil
	}
	var out []media.Codec
	for _, n := range names {
		found := false
		for _, c := range all {
			if strings.EqualFold(c.Name, n) {
				out = append(out, c)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("%w: unknown codec %q", ErrBadConfig, n)
		}
	}
	return out, nil
}

// Dial places a call: INVITE with an SDP offer, wait for the answer, ACK,
// start the RTP leg. If ctx ends before the answer, Dial sends CANCEL (once
// the callee has sent a provisional response) and returns ctx's error. A
// final non-2xx answer comes back as *StatusError.
func Dial(ctx context.Context, cfg DialConfig) (*OutboundCall, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.From == "" {
		cfg.From = "contactd"
	}
	if cfg.LocalIP == nil {
		cfg.LocalIP = net.IPv4(127, 0, 0, 1)
	}
	transport := strings.ToLower(cfg.Transport)
	if transport == "" {
		transport = "udp"
	}
	switch transport {
	case "udp", "tcp", "ws":
	case "tls":
		if cfg.TLSConfig == nil {
			return nil, fmt.Errorf("%w: %w", ErrBadConfig, errNoTLSConfig)
		}
	default:
		return nil, fmt.Errorf("%w: transport %q (want udp, tcp, tls or ws)", ErrBadConfig, cfg.Transport)
	}
	var target sipmsg.Uri
	if err := sipmsg.ParseUri(cfg.Target, &target); err != nil {
		return nil, fmt.Errorf("%w: target %q: %w", ErrBadConfig, cfg.Target, err)
	}
	if target.Host == "" {
		return nil, fmt.Errorf("%w: target %q has no host", ErrBadConfig, cfg.Target)
	}
	codecs, err := codecsByName(cfg.Codecs)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger.With("component", "sip-dial", "target", cfg.Target)

	leg, err := newRTPLeg(legConfig{IP: cfg.LocalIP, PortMin: cfg.RTPPortMin, PortMax: cfg.RTPPortMax, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("rtp leg: %w", err)
	}
	offered, err := cfg.srtpOffer(transport, log)
	if err != nil {
		leg.Close()
		return nil, err
	}
	offer, err := buildOffer(cfg.LocalIP, leg.LocalAddr().Port, codecs, offerEvents(codecs), offerSec(offered))
	if err != nil {
		leg.Close()
		return nil, err
	}
	if cfg.offerHook != nil {
		offer = cfg.offerHook(offer)
	}
	cfg.Logger = log

	var uaOpts []sipgo.UserAgentOption
	if cfg.TLSConfig != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(cfg.TLSConfig))
	}
	ua, err := newUA("contactd", log, uaOpts...)
	if err != nil {
		leg.Close()
		return nil, fmt.Errorf("sip user agent: %w", err)
	}
	c := newOutboundCall(log, leg)
	c.ua = ua
	fail := func(err error) (*OutboundCall, error) {
		c.release()
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		return fail(fmt.Errorf("sip server: %w", err))
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientLogger(log), sipgo.WithClientHostname(cfg.LocalIP.String()))
	if err != nil {
		return fail(fmt.Errorf("sip client: %w", err))
	}

	// Requests from the callee arrive on the connection we opened.
	var (
		mu       sync.Mutex
		answered *sipgo.DialogClientSession
		dialogID string
	)
	srv.OnBye(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		mu.Lock()
		d, want := answered, dialogID
		mu.Unlock()
		if d == nil {
			_ = tx.Respond(sipmsg.NewResponseFromRequest(req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
			return
		}
		if id, err := sipmsg.DialogIDFromRequestUAC(req); err != nil || id != want {
			_ = tx.Respond(sipmsg.NewResponseFromRequest(req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
			return
		}
		if err := d.ReadBye(req, tx); err != nil {
			log.Info("sip bye", "error", err)
		}
	})
	srv.OnOptions(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, sipmsg.StatusOK, "OK", nil))
	})
	srv.OnAck(func(*sipmsg.Request, sipmsg.ServerTransaction) {})
	srv.OnNotify(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, sipmsg.StatusOK, "OK", nil))
	})
	srv.OnRefer(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		mu.Lock()
		d, want := answered, dialogID
		mu.Unlock()
		if id, err := sipmsg.DialogIDFromRequestUAC(req); d == nil || err != nil || id != want {
			_ = tx.Respond(sipmsg.NewResponseFromRequest(req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
			return
		}
		if err := d.ReadRequest(req, tx); err != nil {
			_ = tx.Respond(sipmsg.NewResponseFromRequest(req, sipmsg.StatusInternalServerError, "Server Internal Error", nil))
			return
		}
		c.transferee(req, tx, clientDialog{d}, cfg)
	})
	srv.OnInvite(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		mu.Lock()
		d, want := answered, dialogID
		mu.Unlock()
		if id, err := sipmsg.DialogIDFromRequestUAC(req); d == nil || err != nil || id != want {
			_ = tx.Respond(sipmsg.NewResponseFromRequest(req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
			return
		}
		c.answerReinvite(d, req, tx, cfg.LocalIP)
	})

	dua := &sipgo.DialogUA{Client: cli, ContactHDR: sipmsg.ContactHeader{
		Address: sipmsg.Uri{Scheme: "sip", User: cfg.From},
	}}
	req := sipmsg.NewRequest(sipmsg.INVITE, target)
	req.SetTransport(strings.ToUpper(transport))
	from := &sipmsg.FromHeader{
		Address: sipmsg.Uri{Scheme: "sip", User: cfg.From, Host: cfg.LocalIP.String()},
		Params:  sipmsg.NewParams(),
	}
	from.Params.Add("tag", sipmsg.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: "sip", User: target.User, Host: target.Host, Port: target.Port}})
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	for _, h := range cfg.headers {
		req.AppendHeader(h)
	}
	req.SetBody(offer)

	if err := c.invite(ctx, dua, req, codecs, func(d *sipgo.DialogClientSession) {
		mu.Lock()
		answered, dialogID = d, d.ID
		mu.Unlock()
	}, inviteOptions{onEarly: cfg.OnEarlyMedia, auth: sipgo.AnswerOptions{Username: cfg.Username, Password: cfg.Password}, srtp: offered}); err != nil {
		return nil, err
	}
	return c, nil
}

// inviteOptions are the extras of one INVITE.
type inviteOptions struct {
	auth    sipgo.AnswerOptions // digest credentials for 401/407
	onEarly func(media.Leg)
	srtp    []cryptoAttr // our offered a=crypto lines; nil for plain RTP
}

// srtpOffer makes the crypto lines of an offer when cfg.SRTP asks for them.
func (cfg DialConfig) srtpOffer(transport string, log *slog.Logger) ([]cryptoAttr, error) {
	if !cfg.SRTP {
		return nil, nil
	}
	if t := strings.ToLower(transport); t != "tls" && t != "wss" {
		log.Warn("sip dial: SRTP offered without TLS; the SDES keys travel in clear text", "transport", t)
	}
	return sdesOffer()
}

// answerSecurity checks an answer's media security against our offer:
// SRTP offered (offered lines) must be answered with one of them, plain
// RTP with plain RTP.
func answerSecurity(offered []cryptoAttr, m *sdpMedia) (*sdesState, error) {
	if len(offered) == 0 {
		return reoffer(nil, m, true)
	}
	return takeAnswer(offered, m)
}

// invite sends req (an INVITE with our SDP offer for codecs) through dua,
// waits for the answer, ACKs it and starts c's leg. A provisional answer
// with SDP starts the leg early (early media). answered runs as soon as
// the dialog is answered, before the ACK, so that a BYE can find it. On
// error c is released. Dial and Server.Dial share it.
func (c *OutboundCall) invite(ctx context.Context, dua *sipgo.DialogUA, req *sipmsg.Request, codecs []media.Codec, answered func(*sipgo.DialogClientSession), o inviteOptions) error {
	fail := func(err error) error {
		c.release()
		return err
	}
	log, leg := c.log, c.leg
	dlg, err := dua.WriteInvite(ctx, req)
	if err != nil {
		return fail(fmt.Errorf("send invite: %w", err))
	}
	c.dlg = dlg

	var early *sdpMedia // the SDP that started the leg before the answer
	opts := o.auth
	opts.OnResponse = func(res *sipmsg.Response) error {
		if early != nil || !res.IsProvisional() || res.StatusCode == sipmsg.StatusTrying || len(res.Body()) == 0 {
			return nil
		}
		m, err := parseSDP(res.Body())
		if err != nil {
			log.Info("sip early media sdp unusable", "error", err)
			return nil
		}
		neg, err := negotiate(m, codecs)
		if err == nil {
			neg.SRTP, err = answerSecurity(o.srtp, m)
		}
		if err == nil {
			err = leg.StartWith(neg.startOptions(m.Remote))
		}
		if err != nil {
			log.Info("sip early media not started", "error", err)
			return nil
		}
		early = m
		c.codec, c.dtmf = neg.Codec, neg.dtmfPT() != 0
		c.setSec(neg.SRTP)
		log.Info("sip early media", "status", res.StatusCode, "codec", neg.Codec.Name, "remote_rtp", m.Remote.String())
		if o.onEarly != nil {
			o.onEarly(leg)
		}
		return nil
	}
	if err := dlg.WaitAnswer(ctx, opts); err != nil {
		var rej *sipgo.ErrDialogResponse
		if errors.As(err, &rej) {
			err = &StatusError{Code: rej.Res.StatusCode, Reason: rej.Res.Reason}
		} else if ctx.Err() != nil {
			err = fmt.Errorf("dial cancelled: %w", context.Cause(ctx))
		} else {
			err = fmt.Errorf("wait answer: %w", err)
		}
		dlg.Close()
		return fail(err)
	}
	answered(dlg)
	// Answered: from here on a failure must hang up.
	if err := dlg.Ack(ctx); err != nil {
		return fail(fmt.Errorf("send ack: %w", err))
	}
	if early != nil {
		// RFC 3261 13.2.1: the 200 repeats the early answer; only a moved
		// stream matters to us.
		if ans, err := parseSDP(dlg.InviteResponse.Body()); err == nil {
			if !ans.Remote.IP.Equal(early.Remote.IP) || ans.Remote.Port != early.Remote.Port {
				leg.SetRemote(ans.Remote)
			}
			if sec, err := answerSecurity(o.srtp, ans); err == nil && sec != nil {
				if err := leg.SetSRTP(*sec.keys()); err == nil { // same keys change nothing
					c.setSec(sec)
				}
			}
		}
		log.Info("sip call answered", "codec", c.codec.Name, "early_media", true)
		return nil
	}
	ans, err := parseSDP(dlg.InviteResponse.Body())
	var neg negotiation
	if err == nil {
		neg, err = negotiate(ans, codecs)
	}
	if err == nil {
		neg.SRTP, err = answerSecurity(o.srtp, ans)
	}
	if err != nil {
		c.hangupQuietly()
		return fail(fmt.Errorf("sdp answer: %w", err))
	}
	if err := leg.StartWith(neg.startOptions(ans.Remote)); err != nil {
		c.hangupQuietly()
		return fail(fmt.Errorf("start rtp: %w", err))
	}
	c.codec, c.dtmf = neg.Codec, neg.dtmfPT() != 0
	c.setSec(neg.SRTP)
	log.Info("sip call answered", "codec", neg.Codec.Name, "remote_rtp", ans.Remote.String(), "rtcp_mux", neg.RTCPMux,
		"srtp", c.SRTPSuite())
	return nil
}

func (c *OutboundCall) setSec(s *sdesState) {
	c.secMu.Lock()
	c.sec = s
	c.secMu.Unlock()
}

// SRTPSuite is the SDES-SRTP suite protecting the call's media, e.g.
// AES_CM_128_HMAC_SHA1_80; empty for plain RTP.
func (c *OutboundCall) SRTPSuite() string {
	c.secMu.Lock()
	defer c.secMu.Unlock()
	if c.sec == nil {
		return ""
	}
	return c.sec.Local.Suite
}

func (c *OutboundCall) hangupQuietly() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = c.dlg.Bye(ctx)
}

// release closes the leg and the user agent once.
func (c *OutboundCall) release() {
	c.closeOnce.Do(func() {
		c.bgMu.Lock()
		c.bgClosed = true
		c.bgMu.Unlock()
		c.bgCancel()
		c.bg.Wait()
		c.leg.Close()
		if c.dlg != nil {
			c.dlg.Close()
		}
		if c.ua != nil { // nil when placed by Server.Dial
			c.ua.Close()
		}
		if c.onRelease != nil {
			c.onRelease()
		}
	})
}

// Leg is the call's RTP leg.
func (c *OutboundCall) Leg() *media.RTPLeg {
	l, _ := c.leg.(*media.RTPLeg)
	return l
}

// Codec is the negotiated codec.
func (c *OutboundCall) Codec() media.Codec { return c.codec }

// SIPCallID is the Call-ID header of the dialog.
func (c *OutboundCall) SIPCallID() string { return c.dlg.InviteRequest.CallID().Value() }

// SendDTMF sends one RFC 4733 digit lasting DTMFDuration.
func (c *OutboundCall) SendDTMF(digit rune) error {
	if !c.dtmf {
		return ErrNoDTMF
	}
	if err := c.leg.SendDTMF(digit, DTMFDuration); err != nil {
		return fmt.Errorf("send dtmf %q: %w", digit, err)
	}
	return nil
}

// Done is closed when the call ends: the remote sent BYE, or Hangup ran.
func (c *OutboundCall) Done() <-chan struct{} { return c.dlg.Context().Done() }

// Hangup sends BYE (unless the call already ended) and releases the leg
// and sockets. Safe to call more than once.
func (c *OutboundCall) Hangup(ctx context.Context) error {
	defer c.release()
	if c.dlg.LoadState() == sipmsg.DialogStateEnded {
		return nil
	}
	if err := c.dlg.Bye(ctx); err != nil {
		return fmt.Errorf("send bye: %w", err)
	}
	return nil
}

// HeldByRemote reports whether the callee's last re-INVITE put us on hold.
func (c *OutboundCall) HeldByRemote() bool { return c.held.Load() }

// answerReinvite answers the callee's re-INVITE (hold, resume, refresh)
// with our codec and the mirrored direction.
func (c *OutboundCall) answerReinvite(d *sipgo.DialogClientSession, req *sipmsg.Request, tx sipmsg.ServerTransaction, ip net.IP) {
	respond := func(code int, reason string, body []byte) {
		res := sipmsg.NewResponseFromRequest(req, code, reason, body)
		if body != nil {
			res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		}
		_ = tx.Respond(res)
	}
	c.reoffers.Add(1)
	if err := d.ReadRequest(req, tx); err != nil {
		respond(sipmsg.StatusInternalServerError, "Server Internal Error", nil)
		return
	}
	m, err := parseSDP(req.Body())
	if err != nil {
		respond(sipmsg.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		return
	}
	// SRTP stays SRTP (a new key is taken), plain stays plain.
	c.secMu.Lock()
	sec := c.sec
	c.secMu.Unlock()
	next, err := reoffer(sec, m, false)
	if err != nil {
		c.log.Info("sip re-offer refused", "error", err)
		respond(sipmsg.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		return
	}
	if next != sec {
		if err := c.leg.SetSRTP(*next.keys()); err != nil {
			respond(sipmsg.StatusNotAcceptableHere, "Not Acceptable Here", nil)
			return
		}
		c.setSec(next)
	}
	if !m.Remote.IP.IsUnspecified() {
		c.leg.SetRemote(m.Remote)
	}
	c.held.Store(m.Remote.IP.IsUnspecified() || m.Direction == "sendonly" || m.Direction == "inactive")
	// The leg's codec, not c.codec: this runs in sipgo's goroutine.
	codec := c.leg.Codec()
	if codec.Name == "" {
		respond(sipmsg.StatusInternalServerError, "Server Internal Error", nil) // not started yet
		return
	}
	neg, err := negotiate(m, []media.Codec{codec})
	if err != nil {
		respond(sipmsg.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		return
	}
	now := uint64(time.Now().UnixNano())
	body, err := buildSDPSec(ip, c.leg.LocalAddr().Port, []media.Codec{neg.Codec}, neg.events(), sdpOrigin{ID: now, Version: now},
		answerDirection(m.Direction, false), neg.RTCPMux, next.sdp())
	if err != nil {
		respond(sipmsg.StatusInternalServerError, "Server Internal Error", nil)
		return
	}
	respond(sipmsg.StatusOK, "OK", body)
}
