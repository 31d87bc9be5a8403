package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
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
	// Transport is "udp" (default) or "tcp".
	Transport string
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

	closeOnce sync.Once
}

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
	if transport != "udp" && transport != "tcp" {
		return nil, fmt.Errorf("%w: transport %q (want udp or tcp)", ErrBadConfig, cfg.Transport)
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
	offer, err := buildSDP(cfg.LocalIP, leg.LocalAddr().Port, codecs, offerEvents(codecs))
	if err != nil {
		leg.Close()
		return nil, err
	}

	ua, err := newUA("contactd", log)
	if err != nil {
		leg.Close()
		return nil, fmt.Errorf("sip user agent: %w", err)
	}
	c := &OutboundCall{log: log, ua: ua, leg: leg}
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
	req.SetBody(offer)

	dlg, err := dua.WriteInvite(ctx, req)
	if err != nil {
		return fail(fmt.Errorf("send invite: %w", err))
	}
	c.dlg = dlg

	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
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
	mu.Lock()
	answered, dialogID = dlg, dlg.ID
	mu.Unlock()
	// Answered: from here on a failure must hang up.
	if err := dlg.Ack(ctx); err != nil {
		return fail(fmt.Errorf("send ack: %w", err))
	}
	ans, err := parseSDP(dlg.InviteResponse.Body())
	var neg negotiation
	if err == nil {
		neg, err = negotiate(ans, codecs)
	}
	if err != nil {
		c.hangupQuietly()
		return fail(fmt.Errorf("sdp answer: %w", err))
	}
	if err := leg.Start(ans.Remote, neg.Codec, neg.dtmfPT()); err != nil {
		c.hangupQuietly()
		return fail(fmt.Errorf("start rtp: %w", err))
	}
	c.codec, c.dtmf = neg.Codec, neg.dtmfPT() != 0
	log.Info("sip call answered", "codec", neg.Codec.Name, "remote_rtp", ans.Remote.String())
	return c, nil
}

func (c *OutboundCall) hangupQuietly() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = c.dlg.Bye(ctx)
}

// release closes the leg and the user agent once.
func (c *OutboundCall) release() {
	c.closeOnce.Do(func() {
		c.leg.Close()
		if c.dlg != nil {
			c.dlg.Close()
		}
		c.ua.Close()
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
