package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// This file handles what happens inside an established dialog: re-INVITE
// and UPDATE offers (hold, resume, a moved stream, session refreshes), SIP
// INFO digits, our own hold re-INVITE and the per-call watchdog (RTP
// inactivity and session expiry).

// CallEventKind says what a CallEvent reports.
type CallEventKind int

// Call event kinds.
const (
	// EventHold: the caller put us on hold (sendonly, inactive or
	// c=0.0.0.0). Expect no audio until EventResume.
	EventHold CallEventKind = iota + 1
	// EventResume: the caller took us off hold.
	EventResume
	// EventDTMF: a digit sent by SIP INFO. RFC 4733 digits keep arriving
	// on Leg.DTMF(); a caller uses one way or the other.
	EventDTMF
	// EventRefer: the far end asks us to transfer the call (REFER);
	// CallEvent.Transfer says where and takes the outcome. We have
	// answered 202 and sent the first NOTIFY (100 Trying).
	EventRefer
)

func (k CallEventKind) String() string {
	switch k {
	case EventHold:
		return "hold"
	case EventResume:
		return "resume"
	case EventDTMF:
		return "dtmf"
	case EventRefer:
		return "refer"
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// CallEvent is something the caller did in the dialog.
type CallEvent struct {
	Kind  CallEventKind
	Digit rune // for EventDTMF: '0'-'9', '*', '#', 'A'-'D'
	// Transfer is the REFER of an EventRefer.
	Transfer *Transfer
}

// eventBuffer bounds undelivered events; more are dropped (and logged), so
// a handler that never reads Events cannot stall signalling.
const eventBuffer = 32

// callState is the part of an InboundCall that in-dialog requests change.
// The dialog handlers run in sipgo's goroutines, the watchdog in its own;
// mu guards the fields below it.
type callState struct {
	srv    *Server
	dlg    *sipgo.DialogServerSession
	leg    rtpLeg
	log    *slog.Logger
	ip     net.IP // ours, for SDP
	events chan CallEvent

	offerMu sync.Mutex // one offer/answer exchange at a time

	mu          sync.Mutex
	neg         negotiation
	remote      *net.UDPAddr
	origin      sdpOrigin
	remoteHold  bool
	localHold   bool
	timer       sessionTimer
	refreshedAt time.Time
	referCh     chan referStatus // the Refer in progress, nil when none
	answered    bool             // 200 sent and ACKed (false during early media)
	answer      []byte           // our SDP answer, for a late 200
	inviteReq   *sipmsg.Request  // the INVITE, for the late 200's headers

	answerMu sync.Mutex // one Answer at a time
}

func (st *callState) emit(ev CallEvent) bool {
	select {
	case st.events <- ev:
		return true
	default:
		st.log.Warn("sip call event dropped: Events() not read", "event", ev.Kind.String())
		return false
	}
}

// Events delivers hold, resume and SIP INFO digits. It is never closed;
// stop reading when the call's context ends. Events the handler does not
// read are dropped after a small buffer.
func (c *InboundCall) Events() <-chan CallEvent {
	if c.st == nil {
		return nil
	}
	return c.st.events
}

// OnHold reports whether the caller holds us (true) and whether we hold
// the caller (Hold).
func (c *InboundCall) OnHold() (byCaller, byUs bool) {
	if c.st == nil {
		return false, false
	}
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	return c.st.remoteHold, c.st.localHold
}

// answerDirection is our direction for theirs, given whether we hold.
func answerDirection(theirs string, localHold bool) string {
	var weSend, weRecv bool
	switch theirs {
	case "sendrecv":
		weSend, weRecv = true, true
	case "sendonly":
		weRecv = true
	case "recvonly":
		weSend = true
	}
	if localHold {
		weRecv = false
	}
	switch {
	case weSend && weRecv:
		return "sendrecv"
	case weSend:
		return "sendonly"
	case weRecv:
		return "recvonly"
	}
	return "inactive"
}

// offerDirection is the direction we offer for the hold states.
func offerDirection(remoteHold, localHold bool) string {
	switch {
	case remoteHold && localHold:
		return "inactive"
	case localHold:
		return "sendonly"
	case remoteHold:
		return "recvonly"
	}
	return "sendrecv"
}

// applyRemote takes a peer's description of the running stream: it keeps
// the call's codec (media cannot switch codecs mid-call) and its media
// security (SRTP stays SRTP, possibly with a new key; plain stays plain),
// moves the stream when the address changed and tracks hold. isAnswer says
// m answers our own offer. It returns the direction for our answer.
func (st *callState) applyRemote(m *sdpMedia, isAnswer bool) (string, error) {
	st.mu.Lock()
	codec, sec := st.neg.Codec, st.neg.SRTP
	st.mu.Unlock()
	found := false
	for _, f := range m.Formats {
		if strings.EqualFold(f.Name, codec.Name) && f.ClockRate == codec.ClockRate && f.PT == codec.PayloadType {
			found = true
		}
	}
	if !found {
		return "", fmt.Errorf("%w: the new offer drops %s/%d (payload type %d)", ErrNoCommonCodec, codec.Name, codec.ClockRate, codec.PayloadType)
	}
	nextSec, err := reoffer(sec, m, isAnswer) // sdes.go
	if err != nil {
		return "", err
	}
	if nextSec != sec {
		if err := st.leg.SetSRTP(*nextSec.keys()); err != nil {
			return "", fmt.Errorf("%w: %w", ErrNoCommonCrypto, err)
		}
		st.mu.Lock()
		st.neg.SRTP = nextSec
		st.mu.Unlock()
		st.log.Info("sip srtp rekeyed", "suite", nextSec.Local.Suite)
	}
	unspecified := m.Remote.IP.IsUnspecified()
	hold := unspecified || m.Direction == "sendonly" || m.Direction == "inactive"
	theirs := m.Direction
	if unspecified && theirs == "sendrecv" {
		theirs = "sendonly" // RFC 2543 hold: do not send to 0.0.0.0
	}

	st.mu.Lock()
	changed := hold != st.remoteHold
	st.remoteHold = hold
	moved := !unspecified && (st.remote == nil || !st.remote.IP.Equal(m.Remote.IP) || st.remote.Port != m.Remote.Port)
	if moved {
		st.remote = m.Remote
	}
	dir := answerDirection(theirs, st.localHold)
	st.mu.Unlock()

	if moved {
		st.leg.SetRemote(m.Remote)
		st.log.Info("sip stream moved", "remote_rtp", m.Remote.String())
	}
	if changed {
		kind := EventResume
		if hold {
			kind = EventHold
		}
		st.log.Info("sip call "+kind.String()+" by caller", "direction", m.Direction)
		st.emit(CallEvent{Kind: kind})
	}
	return dir, nil
}

// localSDP writes our description with a new version.
func (st *callState) localSDP(dir string) ([]byte, error) {
	st.mu.Lock()
	st.origin.Version++
	o, neg := st.origin, st.neg
	st.mu.Unlock()
	return buildSDPSec(st.ip, st.leg.LocalAddr().Port, []media.Codec{neg.Codec}, neg.events(), o, dir, neg.RTCPMux, neg.SRTP.sdp())
}

// callFor finds the answered call of a dialog.
func (s *Server) callFor(dialogID string) *InboundCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[dialogID]
}

// inDialog finds the call an in-dialog request belongs to and checks its
// CSeq; it answers the request itself and returns nil when it cannot go on.
func (s *Server) inDialog(req *sipmsg.Request, tx sipmsg.ServerTransaction) *InboundCall {
	if req.CSeq() == nil || req.CallID() == nil {
		s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning("missing CSeq or Call-ID", 399))
		return nil
	}
	dlg := s.lookup(req)
	if dlg == nil {
		s.respond(tx, req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return nil
	}
	c := s.callFor(dlg.ID)
	if c == nil {
		// Early dialog: RFC 3261 14.2 asks for 500 with Retry-After.
		s.respond(tx, req, sipmsg.StatusInternalServerError, "Server Internal Error",
			sipmsg.NewHeader("Retry-After", "1"), warning("call not answered yet", 399))
		return nil
	}
	if err := dlg.ReadRequest(req, tx); err != nil {
		s.respond(tx, req, sipmsg.StatusInternalServerError, "Server Internal Error", warning(err.Error(), 399))
		return nil
	}
	return c
}

// onReinvite answers an offer (or, without a body, makes one) inside an
// answered call. Failures answer non-2xx and leave the session as it was.
func (s *Server) onReinvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	c := s.inDialog(req, tx)
	if c == nil {
		return
	}
	s.offerAnswer(c, req, tx)
}

// onUpdate handles UPDATE (RFC 3311): a session refresh, with or without
// a new offer.
func (s *Server) onUpdate(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	c := s.inDialog(req, tx)
	if c == nil {
		return
	}
	s.offerAnswer(c, req, tx)
}

func (s *Server) offerAnswer(c *InboundCall, req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	st := c.st
	// The previous exchange may still be unlocking after its 200 went
	// out; only one that stays busy (our own re-INVITE) means glare.
	locked := st.offerMu.TryLock()
	for i := 0; i < 20 && !locked; i++ {
		time.Sleep(10 * time.Millisecond)
		locked = st.offerMu.TryLock()
	}
	if !locked {
		s.respond(tx, req, sipmsg.StatusRequestPending, "Request Pending")
		return
	}
	defer st.offerMu.Unlock()

	timerHdrs, code, err := s.refreshTimer(st, req)
	if err != nil {
		hdrs := []sipmsg.Header{warning(err.Error(), 399)}
		if code == statusIntervalTooBrief {
			hdrs = append(hdrs, sipmsg.NewHeader("Min-SE", seconds(s.cfg.MinSE)))
		}
		s.respond(tx, req, code, reasonFor(code), hdrs...)
		return
	}

	var body []byte
	if len(req.Body()) > 0 {
		if ct := req.ContentType(); ct == nil || !isSDP(ct.Value()) {
			s.respond(tx, req, sipmsg.StatusUnsupportedMediaType, "Unsupported Media Type", sipmsg.NewHeader("Accept", "application/sdp"))
			return
		}
		m, err := parseSDP(req.Body())
		var dir string
		if err == nil {
			dir, err = st.applyRemote(m, false)
		}
		if err != nil {
			code, reason, w := inviteError(err)
			st.log.Info("sip re-offer refused", "method", req.Method, "code", code, "error", err)
			s.respond(tx, req, code, reason, w)
			return
		}
		if body, err = st.localSDP(dir); err != nil {
			s.respond(tx, req, sipmsg.StatusInternalServerError, "Server Internal Error", warning(err.Error(), 399))
			return
		}
	} else if req.IsInvite() {
		// Delayed offer: we offer in the 200, the answer comes in the ACK.
		st.mu.Lock()
		dir := offerDirection(false, st.localHold)
		st.mu.Unlock()
		var err error
		if body, err = st.localSDP(dir); err != nil {
			s.respond(tx, req, sipmsg.StatusInternalServerError, "Server Internal Error", warning(err.Error(), 399))
			return
		}
	}
	res := sipmsg.NewResponseFromRequest(req, sipmsg.StatusOK, "OK", body)
	if body != nil {
		res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	}
	res.AppendHeader(s.contact(req, st.ip))
	for _, h := range timerHdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		st.log.Info("sip re-offer answer failed", "error", err)
	}
}

// onAckBody takes the answer of a delayed-offer re-INVITE.
func (s *Server) onAckBody(req *sipmsg.Request) {
	id, err := sipmsg.DialogIDFromRequestUAS(req)
	if err != nil {
		return
	}
	c := s.callFor(id)
	if c == nil {
		return
	}
	if m, err := parseSDP(req.Body()); err == nil {
		if _, err := c.st.applyRemote(m, true); err != nil {
			c.st.log.Info("sip ack answer unusable", "error", err)
		}
	}
}

func isSDP(contentType string) bool {
	return strings.EqualFold(strings.TrimSpace(strings.Split(contentType, ";")[0]), "application/sdp")
}

// onInfo takes DTMF digits sent by SIP INFO.
func (s *Server) onInfo(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	c := s.inDialog(req, tx)
	if c == nil {
		return
	}
	body := req.Body()
	if len(body) == 0 {
		s.respond(tx, req, sipmsg.StatusOK, "OK") // a keep-alive
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(strings.TrimSpace(strings.Split(h.Value(), ";")[0]))
	}
	var digit rune
	var err error
	switch ct {
	case "application/dtmf-relay":
		digit, err = parseDTMFRelay(string(body))
	case "application/dtmf":
		digit, err = parseDigit(strings.TrimSpace(string(body)))
	default:
		s.respond(tx, req, sipmsg.StatusUnsupportedMediaType, "Unsupported Media Type",
			sipmsg.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	}
	if err != nil {
		s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning(err.Error(), 399))
		return
	}
	s.respond(tx, req, sipmsg.StatusOK, "OK")
	c.st.log.Info("sip info dtmf", "digit", string(digit))
	c.st.emit(CallEvent{Kind: EventDTMF, Digit: digit})
}

// parseDTMFRelay reads "Signal=5\r\nDuration=160".
func parseDTMFRelay(body string) (rune, error) {
	for _, line := range strings.Split(body, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
			return parseDigit(strings.TrimSpace(v))
		}
	}
	return 0, errors.New("dtmf-relay body without Signal")
}

// parseDigit accepts one key or its RFC 4733 event number.
func parseDigit(v string) (rune, error) {
	if len(v) == 1 {
		r := rune(strings.ToUpper(v)[0])
		if (r >= '0' && r <= '9') || r == '*' || r == '#' || (r >= 'A' && r <= 'D') {
			return r, nil
		}
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 10 && n <= 15 {
		return rune("*#ABCD"[n-10]), nil
	}
	return 0, fmt.Errorf("bad dtmf signal %q", v)
}

// Hold puts the caller on hold (on) or takes them off it with a re-INVITE
// offering sendonly (or sendrecv). The handler plays music on hold itself;
// the RTP inactivity timeout is paused while either side holds. A refused
// re-INVITE comes back as *StatusError and leaves the state unchanged.
func (c *InboundCall) Hold(ctx context.Context, on bool) error {
	if c.st == nil {
		return errors.New("sip: hold: call not answered")
	}
	st := c.st
	st.offerMu.Lock()
	defer st.offerMu.Unlock()
	st.mu.Lock()
	dir := offerDirection(st.remoteHold, on)
	st.mu.Unlock()
	offer, err := st.localSDP(dir)
	if err != nil {
		return err
	}
	res, err := st.reinvite(ctx, offer)
	if err != nil {
		return fmt.Errorf("sip hold: %w", err)
	}
	st.mu.Lock()
	st.localHold = on
	st.refreshedAt = time.Now() // a re-INVITE refreshes the session too
	st.mu.Unlock()
	if m, err := parseSDP(res.Body()); err == nil {
		if _, err := st.applyRemote(m, true); err != nil {
			st.log.Info("sip hold answer unusable", "error", err)
		}
	}
	st.log.Info("sip call hold by us", "on", on)
	return nil
}

// reinvite sends one re-INVITE with body, waits for the final answer and
// ACKs a 2xx. A non-2xx answer is a *StatusError.
func (st *callState) reinvite(ctx context.Context, body []byte) (*sipmsg.Response, error) {
	st.mu.Lock()
	timer := st.timer
	st.mu.Unlock()
	req := sipmsg.NewRequest(sipmsg.INVITE, st.dlg.InviteRequest.Contact().Address)
	req.SetTransport(st.dlg.InviteRequest.Transport())
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	if timer.interval > 0 {
		req.AppendHeader(sipmsg.NewHeader("Session-Expires", timer.header()))
		req.AppendHeader(sipmsg.NewHeader("Supported", "timer"))
	}
	req.SetBody(body)
	res, err := st.dlg.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if !res.IsSuccess() {
		return nil, &StatusError{Code: res.StatusCode, Reason: res.Reason}
	}
	ack := sipmsg.NewRequest(sipmsg.ACK, req.Recipient)
	ack.SetTransport(req.Transport())
	ack.AppendHeader(&sipmsg.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sipmsg.ACK})
	if err := st.dlg.WriteRequest(ack); err != nil {
		return nil, fmt.Errorf("ack: %w", err)
	}
	return res, nil
}

// watch is the call's watchdog, run by the call owner next to the handler:
// every tick it compares the leg's packet count (no per-packet work) and
// the session timer, and ends the call with ErrMediaTimeout or
// ErrSessionExpired. When we are the refresher it sends the refreshes.
func (c *InboundCall) watch(ctx context.Context, end context.CancelCauseFunc, rtpTimeout, tick time.Duration) {
	st := c.st
	t := time.NewTicker(tick)
	defer t.Stop()
	lastIn, lastAt := st.leg.Stats().PacketsIn, time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			in := st.leg.Stats().PacketsIn
			st.mu.Lock()
			// Early media: many phones send nothing before the 200, and
			// session timers start with it.
			held := st.remoteHold || st.localHold || !st.answered
			timer, refreshedAt := st.timer, st.refreshedAt
			if !st.answered {
				timer.interval = 0
			}
			st.mu.Unlock()
			if in != lastIn || held {
				lastIn, lastAt = in, now
			}
			if rtpTimeout > 0 && now.Sub(lastAt) >= rtpTimeout {
				st.log.Info("sip call media timeout", "silent_for", now.Sub(lastAt).Round(time.Millisecond))
				end(ErrMediaTimeout)
				return
			}
			if timer.interval <= 0 {
				continue
			}
			if timer.refresher == "uac" {
				if now.After(refreshedAt.Add(timer.interval - min(32*time.Second, timer.interval/3))) {
					st.log.Info("sip session expired", "interval", timer.interval)
					end(ErrSessionExpired)
					return
				}
				continue
			}
			if now.After(refreshedAt.Add(timer.interval / 2)) {
				if err := c.refresh(ctx); err != nil && ctx.Err() == nil {
					st.log.Info("sip session refresh failed", "error", err)
					end(ErrSessionExpired)
					return
				}
			}
		}
	}
}

// refresh sends our session refresh: a re-INVITE with the unchanged SDP.
func (c *InboundCall) refresh(ctx context.Context) error {
	st := c.st
	if !st.offerMu.TryLock() {
		return nil // an exchange in progress refreshes too
	}
	defer st.offerMu.Unlock()
	st.mu.Lock()
	dir := offerDirection(st.remoteHold, st.localHold)
	st.mu.Unlock()
	offer, err := st.localSDP(dir)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, 32*time.Second)
	defer cancel()
	if _, err := st.reinvite(rctx, offer); err != nil {
		var se *StatusError
		// RFC 4028 10: only 408 and 481 mean the session is gone.
		if errors.As(err, &se) && se.Code != 408 && se.Code != 481 {
			st.log.Info("sip session refresh refused", "code", se.Code)
		} else {
			return err
		}
	}
	st.mu.Lock()
	st.refreshedAt = time.Now()
	st.mu.Unlock()
	return nil
}

// supportedOptions are the option tags we implement (Require/Supported).
var supportedOptions = map[string]bool{"timer": true, "replaces": true}

// supported is our Supported header.
const supported = "timer, replaces"

// checked wraps a request handler with the checks RFC 3261 8.2 asks of
// every UAS before the method's own work: a CSeq method matching the
// request line (400) and no Require we do not support (420).
func (s *Server) checked(next func(*sipmsg.Request, sipmsg.ServerTransaction)) func(*sipmsg.Request, sipmsg.ServerTransaction) {
	return func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if cseq := req.CSeq(); cseq != nil && !strings.EqualFold(string(cseq.MethodName), string(req.Method)) {
			s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning("CSeq method does not match the request", 399))
			return
		}
		if len(req.GetHeaders("Content-Length")) > 1 {
			s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning("more than one Content-Length", 399))
			return
		}
		var unsupported []string
		for _, h := range req.GetHeaders("Require") {
			for _, tag := range strings.Split(h.Value(), ",") {
				if tag = strings.TrimSpace(tag); tag != "" && !supportedOptions[strings.ToLower(tag)] {
					unsupported = append(unsupported, tag)
				}
			}
		}
		if len(unsupported) > 0 {
			s.respond(tx, req, sipmsg.StatusBadExtension, "Bad Extension",
				sipmsg.NewHeader("Unsupported", strings.Join(unsupported, ", ")))
			return
		}
		next(req, tx)
	}
}
