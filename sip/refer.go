package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// Transfers (RFC 3515 REFER, RFC 3891 Replaces).
//
// We transfer a caller with InboundCall.Refer: REFER asks the caller's
// phone to call the target, and its NOTIFYs (message/sipfrag) tell how
// that goes. A phone that transfers us (a desk phone's transfer key)
// sends REFER: we answer 202, send the first NOTIFY and hand the owner an
// EventRefer whose Transfer reports progress back with Report. An INVITE
// carrying Replaces for one of our dialogs (the last step of an attended
// transfer) names that dialog in InboundCall.Replaces.

// ErrTransferFailed means the transfer target did not answer, or the
// transferee gave up; the error text says how.
var ErrTransferFailed = errors.New("transfer failed")

// statusBadEvent is RFC 6665's 489.
const statusBadEvent = 489

// referTimeout bounds how long Refer waits for the final NOTIFY.
const referTimeout = 60 * time.Second

// dialogRequester sends in-dialog requests whichever side we are on.
type dialogRequester interface {
	Do(ctx context.Context, req *sipmsg.Request) (*sipmsg.Response, error)
	remote() sipmsg.Uri
	transport() string
}

type serverDialog struct{ d *sipgo.DialogServerSession }

func (s serverDialog) Do(ctx context.Context, req *sipmsg.Request) (*sipmsg.Response, error) {
	return s.d.Do(ctx, req)
}
func (s serverDialog) remote() sipmsg.Uri { return s.d.InviteRequest.Contact().Address }
func (s serverDialog) transport() string  { return s.d.InviteRequest.Transport() }

type clientDialog struct{ d *sipgo.DialogClientSession }

func (c clientDialog) Do(ctx context.Context, req *sipmsg.Request) (*sipmsg.Response, error) {
	return c.d.Do(ctx, req)
}
func (c clientDialog) remote() sipmsg.Uri {
	if ct := c.d.InviteResponse.Contact(); ct != nil {
		return ct.Address
	}
	return c.d.InviteRequest.Recipient
}
func (c clientDialog) transport() string { return c.d.InviteRequest.Transport() }

// Transfer is a REFER the far end sent: it asks us to connect the call
// to Target (blind transfer) or, with Replaces, to take over the dialog
// Replaces names at Target (attended transfer). The call owner acts on it
// and reports how it went with Report.
type Transfer struct {
	// Target is the Refer-To URI without its header part.
	Target string
	// Replaces is the Replaces header embedded in Refer-To
	// ("call-id;to-tag=…;from-tag=…"), empty for a blind transfer.
	Replaces string
	// ReferredBy is the Referred-By header, when present.
	ReferredBy string

	dlg dialogRequester
	log *slog.Logger

	mu    sync.Mutex
	final bool
}

// Report sends the transferor a NOTIFY with the target's status: 100 or
// 180 for progress, 200 when the target answered, anything else for a
// failure. The first final status (>= 200) ends the subscription; later
// reports are ignored.
func (t *Transfer) Report(ctx context.Context, code int, reason string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.final {
		return nil
	}
	final := code >= 200
	if reason == "" {
		reason = "Status"
	}
	req := sipmsg.NewRequest(sipmsg.NOTIFY, t.dlg.remote())
	req.SetTransport(t.dlg.transport())
	req.AppendHeader(sipmsg.NewHeader("Event", "refer"))
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sipmsg.NewHeader("Subscription-State", state))
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", code, reason)))
	if final {
		t.final = true
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := t.dlg.Do(rctx, req)
	if err != nil {
		return fmt.Errorf("sip notify: %w", err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("sip notify: %w", &StatusError{Code: res.StatusCode, Reason: res.Reason})
	}
	return nil
}

// parseReferTo splits a Refer-To value into the target URI and the
// Replaces header it may embed ("<sip:b@h?Replaces=id%3Bto-tag%3D1>").
func parseReferTo(v string) (target, replaces string, err error) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return "", "", errors.New("refer-to: unclosed <")
		}
		v = v[i+1 : i+j]
	} else if k := strings.IndexByte(v, ';'); k >= 0 {
		v = v[:k] // header params without <> belong to the header
	}
	uri, hdrs, _ := strings.Cut(v, "?")
	var u sipmsg.Uri
	if err := sipmsg.ParseUri(uri, &u); err != nil || u.Host == "" {
		return "", "", fmt.Errorf("refer-to %q is not a SIP URI with a host", uri)
	}
	for _, kv := range strings.Split(hdrs, "&") {
		k, val, ok := strings.Cut(kv, "=")
		if ok && strings.EqualFold(k, "Replaces") {
			if replaces, err = url.QueryUnescape(val); err != nil {
				return "", "", fmt.Errorf("refer-to replaces: %w", err)
			}
		}
	}
	return uri, replaces, nil
}

// acceptRefer answers a REFER in an established dialog: 202, the first
// NOTIFY, and an EventRefer for the owner through emit.
func (s *Server) acceptRefer(req *sipmsg.Request, tx sipmsg.ServerTransaction, dlg dialogRequester, log *slog.Logger, emit func(CallEvent) bool) {
	v := headerValue(req, "Refer-To", "r")
	if v == "" || len(req.GetHeaders("Refer-To"))+len(req.GetHeaders("r")) > 1 {
		s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning("REFER needs exactly one Refer-To", 399))
		return
	}
	target, replaces, err := parseReferTo(v)
	if err != nil {
		s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning(err.Error(), 399))
		return
	}
	s.respond(tx, req, sipmsg.StatusAccepted, "Accepted")
	t := &Transfer{Target: target, Replaces: replaces, ReferredBy: headerValue(req, "Referred-By", "b"), dlg: dlg, log: log}
	log.Info("sip refer received", "target", target, "attended", replaces != "")
	ctx, cancel := context.WithTimeout(s.baseCtx, 10*time.Second)
	defer cancel()
	if err := t.Report(ctx, 100, "Trying"); err != nil {
		log.Info("sip refer: first notify failed", "error", err)
	}
	if !emit(CallEvent{Kind: EventRefer, Transfer: t}) {
		_ = t.Report(ctx, sipmsg.StatusServiceUnavailable, "Service Unavailable")
	}
}

// onRefer takes a REFER in one of our dialogs.
func (s *Server) onRefer(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if s.outboundRequest(req, tx) { // a desk phone we called (Server.Dial)
		return
	}
	c := s.inDialog(req, tx)
	if c == nil {
		return
	}
	s.acceptRefer(req, tx, serverDialog{c.st.dlg}, c.st.log, c.st.emit)
}

// sipfragStatus reads "SIP/2.0 180 Ringing" from a NOTIFY body.
func sipfragStatus(body []byte) (int, string, error) {
	line, _, _ := strings.Cut(string(body), "\n")
	f := strings.SplitN(strings.TrimSpace(line), " ", 3)
	if len(f) < 2 || !strings.HasPrefix(strings.ToUpper(f[0]), "SIP/") {
		return 0, "", fmt.Errorf("sipfrag %q is not a status line", line)
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 {
		return 0, "", fmt.Errorf("sipfrag status %q", f[1])
	}
	reason := ""
	if len(f) == 3 {
		reason = f[2]
	}
	return code, reason, nil
}

// referStatus is one NOTIFY's news for a Refer in progress.
type referStatus struct {
	code       int
	reason     string
	terminated bool
}

// onNotify takes the NOTIFYs of a REFER we sent.
func (s *Server) onNotify(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if s.outboundRequest(req, tx) {
		return
	}
	c := s.inDialog(req, tx)
	if c == nil {
		return
	}
	ev := strings.ToLower(strings.TrimSpace(strings.Split(headerValue(req, "Event", "o"), ";")[0]))
	if ev != "refer" {
		s.respond(tx, req, statusBadEvent, "Bad Event", sipmsg.NewHeader("Allow-Events", "refer"))
		return
	}
	st := c.st
	st.mu.Lock()
	ch := st.referCh
	st.mu.Unlock()
	if ch == nil {
		s.respond(tx, req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", warning("no refer subscription", 399))
		return
	}
	rs := referStatus{terminated: strings.HasPrefix(strings.ToLower(headerValue(req, "Subscription-State")), "terminated")}
	if len(req.Body()) > 0 {
		code, reason, err := sipfragStatus(req.Body())
		if err != nil {
			s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning(err.Error(), 399))
			return
		}
		rs.code, rs.reason = code, reason
	}
	s.respond(tx, req, sipmsg.StatusOK, "OK")
	select {
	case ch <- rs:
	default:
	}
}

// Refer asks the caller's phone to call target (blind transfer, RFC
// 3515) and waits until the phone reports that target answered (nil),
// failed (ErrTransferFailed or a *StatusError when the phone refused the
// REFER), or ctx ends. On success the caller talks to target: return
// from ServeCall to hang up our leg, if the phone has not already sent
// BYE. One Refer at a time per call.
func (c *InboundCall) Refer(ctx context.Context, target string) error {
	if c.st == nil {
		return errors.New("sip refer: call not answered")
	}
	var u sipmsg.Uri
	if err := sipmsg.ParseUri(target, &u); err != nil || u.Host == "" {
		return fmt.Errorf("%w: refer target %q is not a SIP URI with a host", ErrBadConfig, target)
	}
	st := c.st
	st.mu.Lock()
	if st.referCh != nil {
		st.mu.Unlock()
		return errors.New("sip refer: a transfer is already in progress")
	}
	ch := make(chan referStatus, 8)
	st.referCh = ch
	st.mu.Unlock()
	defer func() {
		st.mu.Lock()
		st.referCh = nil
		st.mu.Unlock()
	}()

	req := sipmsg.NewRequest(sipmsg.REFER, st.dlg.InviteRequest.Contact().Address)
	req.SetTransport(st.dlg.InviteRequest.Transport())
	req.AppendHeader(sipmsg.NewHeader("Refer-To", "<"+target+">"))
	req.AppendHeader(sipmsg.NewHeader("Referred-By", fmt.Sprintf("<sip:contactd@%s>", st.ip)))
	res, err := st.dlg.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("sip refer: %w", err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("sip refer: %w", &StatusError{Code: res.StatusCode, Reason: res.Reason})
	}
	st.log.Info("sip refer accepted", "target", target)
	timeout := time.NewTimer(referTimeout)
	defer timeout.Stop()
	for {
		select {
		case rs := <-ch:
			switch {
			case rs.code >= 200 && rs.code < 300:
				st.log.Info("sip transfer done", "target", target)
				return nil
			case rs.code >= 300:
				return fmt.Errorf("%w: target answered %d %s", ErrTransferFailed, rs.code, rs.reason)
			case rs.terminated:
				return fmt.Errorf("%w: subscription ended without a final status", ErrTransferFailed)
			}
		case <-st.dlg.Context().Done():
			return fmt.Errorf("%w: the call ended before the target answered", ErrTransferFailed)
		case <-timeout.C:
			return fmt.Errorf("%w: no final NOTIFY within %s", ErrTransferFailed, referTimeout)
		case <-ctx.Done():
			return fmt.Errorf("sip refer: %w", context.Cause(ctx))
		}
	}
}

// replacesHeader is a parsed Replaces header (RFC 3891).
type replacesHeader struct {
	callID, toTag, fromTag string
	earlyOnly              bool
}

func parseReplaces(v string) (replacesHeader, error) {
	parts := strings.Split(v, ";")
	r := replacesHeader{callID: strings.TrimSpace(parts[0])}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			r.toTag = val
		case "from-tag":
			r.fromTag = val
		case "early-only":
			r.earlyOnly = true
		}
	}
	if r.callID == "" || r.toTag == "" || r.fromTag == "" {
		return r, fmt.Errorf("replaces %q needs call-id, to-tag and from-tag", v)
	}
	return r, nil
}

func tagOf(p sipmsg.HeaderParams) string {
	if p == nil {
		return ""
	}
	t, _ := p.Get("tag")
	return t
}

// replaced finds the dialog a Replaces header names among our answered
// inbound calls and the calls Server.Dial placed. The to-tag is ours (the
// receiver's) and the from-tag the other party's, as RFC 3891 3 says.
func (s *Server) replaced(r replacesHeader) (sipCallID string, id CallID, ok bool) {
	s.mu.Lock()
	for _, c := range s.calls {
		d := c.st.dlg
		if c.SIPCallID == r.callID && tagOf(d.InviteRequest.To().Params) == r.toTag && tagOf(d.InviteRequest.From().Params) == r.fromTag {
			s.mu.Unlock()
			return c.SIPCallID, c.ID, true
		}
	}
	s.mu.Unlock()
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	for _, oc := range s.reg.outbound {
		d := oc.dlg
		if d.InviteRequest.CallID().Value() == r.callID && tagOf(d.InviteRequest.From().Params) == r.toTag &&
			d.InviteResponse != nil && tagOf(d.InviteResponse.To().Params) == r.fromTag {
			return r.callID, "", true
		}
	}
	return "", "", false
}

// transferee acts on a REFER the callee of a Dial call sent: 202, then in
// the background call the target (with its Replaces), NOTIFY the outcome
// and deliver the new call on Transferred.
func (c *OutboundCall) transferee(req *sipmsg.Request, tx sipmsg.ServerTransaction, dlg dialogRequester, cfg DialConfig) {
	respond := func(code int, reason string) {
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, code, reason, nil))
	}
	target, replaces, err := parseReferTo(headerValue(req, "Refer-To", "r"))
	if err != nil {
		respond(sipmsg.StatusBadRequest, "Bad Request")
		return
	}
	c.bgMu.Lock()
	defer c.bgMu.Unlock()
	if c.bgClosed {
		respond(sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	respond(sipmsg.StatusAccepted, "Accepted")
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		t := &Transfer{Target: target, Replaces: replaces, dlg: dlg, log: c.log}
		_ = t.Report(c.bgCtx, 100, "Trying")
		ncfg := cfg
		ncfg.Target = target
		ncfg.OnEarlyMedia = nil
		ncfg.headers = nil
		ncfg.offerHook = nil
		if replaces != "" {
			ncfg.headers = []sipmsg.Header{sipmsg.NewHeader("Replaces", replaces)}
		}
		ctx, cancel := context.WithTimeout(c.bgCtx, 30*time.Second)
		defer cancel()
		nc, err := Dial(ctx, ncfg)
		if err != nil {
			code, reason := sipmsg.StatusServiceUnavailable, "Service Unavailable"
			var se *StatusError
			if errors.As(err, &se) {
				code, reason = se.Code, se.Reason
			}
			c.log.Info("sip transfer call failed", "target", target, "error", err)
			_ = t.Report(c.bgCtx, code, reason)
			return
		}
		_ = t.Report(c.bgCtx, sipmsg.StatusOK, "OK")
		select {
		case c.transfers <- nc:
		default:
			_ = nc.Hangup(context.Background())
		}
	}()
}
