package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// Registration limits, in seconds (RFC 3261 10.3).
const (
	MinExpires     = 60
	MaxExpires     = 3600
	defaultExpires = 3600
	// maxBindings caps contacts per user; a new one replaces the one that
	// expires first.
	maxBindings = 10
)

// Binding is one registered contact of a user: where to send an INVITE
// for them.
type Binding struct {
	// User is the registered user part (the agent's username).
	User string
	// Contact is the URI from the phone's Contact header.
	Contact string
	// Source is where the REGISTER came from. Behind NAT it differs from
	// the Contact host, and requests must go here ("rport").
	Source net.Addr
	// Transport is "udp", "tcp", ... as the REGISTER arrived.
	Transport string
	// Expires is when the binding lapses unless refreshed.
	Expires time.Time
	// CallID is the registering Call-ID.
	CallID string
}

// registrar is the in-memory location service plus the outbound dialogs
// Server.Dial placed (so their BYEs find them).
type registrar struct {
	auth *authenticator
	now  func() time.Time

	mu       sync.Mutex
	bindings map[string][]Binding
	outbound map[string]*outboundCall
	writes   int
}

func newRegistrar(cfg Config) *registrar {
	creds := cfg.Credentials
	if creds == nil {
		creds = CredentialsFunc(func(context.Context, string) (string, bool, error) { return "", false, nil })
	}
	auth := newAuthenticator(cfg.Realm, cfg.AuthSecret, creds)
	auth.algorithms = cfg.DigestAlgorithms
	return &registrar{
		auth:     auth,
		now:      time.Now,
		bindings: make(map[string][]Binding),
		outbound: make(map[string]*outboundCall),
	}
}

// live drops lapsed bindings. Call with mu.
func live(bs []Binding, now time.Time) []Binding {
	out := bs[:0]
	for _, b := range bs {
		if now.Before(b.Expires) {
			out = append(out, b)
		}
	}
	return out
}

// Contacts returns the live bindings of user, the latest to expire first.
func (s *Server) Contacts(user string) []Binding {
	r := s.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	bs := live(r.bindings[user], r.now())
	if len(bs) == 0 {
		delete(r.bindings, user)
		return nil
	}
	r.bindings[user] = bs
	out := append([]Binding(nil), bs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Expires.After(out[j].Expires) })
	return out
}

// GuardStats returns the flood guard's counters (zero when it is off).
func (s *Server) GuardStats() GuardStats { return s.guard.snapshot() }

// contactChange is one Contact of a REGISTER, validated.
type contactChange struct {
	uri     string
	expires int // seconds; 0 removes
}

func paramFold(p sipmsg.HeaderParams, key string) (string, bool) {
	for _, kv := range p {
		if strings.EqualFold(kv.K, key) {
			return kv.V, true
		}
	}
	return "", false
}

// parseRegister reads the Contact and Expires headers. wildcard is true
// for "Contact: *" (with Expires: 0). A non-empty reason means 400.
func parseRegister(req *sipmsg.Request) (changes []contactChange, wildcard bool, reason string) {
	def := defaultExpires
	hasExpires := false
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			return nil, false, "bad Expires header"
		}
		def, hasExpires = n, true
	}
	hs := req.GetHeaders("Contact")
	for _, h := range hs {
		ch, ok := h.(*sipmsg.ContactHeader)
		if !ok {
			return nil, false, "bad Contact header"
		}
		if ch.Address.Wildcard {
			if len(hs) != 1 || !hasExpires || def != 0 {
				return nil, false, "Contact: * needs Expires: 0 and no other contact"
			}
			return nil, true, ""
		}
		if ch.Address.Host == "" {
			return nil, false, "Contact without host"
		}
		exp := def
		if v, ok := paramFold(ch.Params, "expires"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return nil, false, "bad expires parameter"
			}
			exp = n
		}
		changes = append(changes, contactChange{uri: ch.Address.String(), expires: exp})
	}
	return changes, false, ""
}

// servesDomain reports whether host names us: the realm, a configured
// domain, our advertised or listen IP, or the host the request was sent to.
func (s *Server) servesDomain(req *sipmsg.Request, host string) bool {
	host = strings.Trim(host, "[]")
	cands := append([]string{s.cfg.Realm, req.Recipient.Host, s.advertisedIP(req).String()}, s.cfg.Domains...)
	if s.listenIP != nil {
		cands = append(cands, s.listenIP.String())
	}
	for _, c := range cands {
		if strings.EqualFold(strings.Trim(c, "[]"), host) {
			return true
		}
	}
	return false
}

// onRegister is the registrar (RFC 3261 10.3) with digest authentication.
// Known and unknown users get the same answers: 401 with the same
// challenges, then 403 for any wrong credentials.
func (s *Server) onRegister(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if !s.cfg.Registrar {
		s.respond(tx, req, sipmsg.StatusMethodNotAllowed, "Method Not Allowed",
			sipmsg.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS"))
		return
	}
	to := req.To()
	if to == nil || req.From() == nil || req.CallID() == nil || req.CSeq() == nil || to.Address.User == "" {
		s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning("missing To user, From, Call-ID or CSeq", 399))
		return
	}
	if !s.servesDomain(req, to.Address.Host) {
		s.respond(tx, req, sipmsg.StatusNotFound, "Not Found", warning("domain not served here", 399))
		return
	}
	ctx, cancel := context.WithTimeout(s.baseCtx, 5*time.Second)
	defer cancel()
	user, outcome, err := s.reg.auth.check(ctx, req)
	src := sourceAddr(req)
	switch {
	case err != nil:
		s.log.Error("sip register: credentials lookup", "error", err)
		s.respond(tx, req, sipmsg.StatusInternalServerError, "Server Internal Error", s.retryAfter())
		return
	case outcome == authChallenge || outcome == authStale:
		s.respond(tx, req, sipmsg.StatusUnauthorized, "Unauthorized", s.reg.auth.challenges(outcome == authStale)...)
		return
	case outcome != authOK || user != to.Address.User:
		s.guard.authFailed(src)
		s.log.Info("sip register: authentication failed", "source", req.Source())
		s.respond(tx, req, sipmsg.StatusForbidden, "Forbidden")
		return
	}

	changes, wildcard, reason := parseRegister(req)
	if reason != "" {
		s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning(reason, 399))
		return
	}
	for i, c := range changes {
		if c.expires > 0 && c.expires < MinExpires {
			s.respond(tx, req, sipmsg.StatusIntervalToBrief, "Interval Too Brief",
				sipmsg.NewHeader("Min-Expires", strconv.Itoa(MinExpires)))
			return
		}
		if c.expires > MaxExpires {
			changes[i].expires = MaxExpires
		}
	}

	r := s.reg
	r.mu.Lock()
	now := r.now()
	bs := live(r.bindings[user], now)
	if wildcard {
		bs = nil
	}
	transport := strings.ToLower(req.Transport())
	for _, c := range changes {
		kept := bs[:0]
		for _, b := range bs {
			if b.Contact != c.uri {
				kept = append(kept, b)
			}
		}
		bs = kept
		if c.expires == 0 {
			continue
		}
		if len(bs) >= maxBindings {
			sort.Slice(bs, func(i, j int) bool { return bs[i].Expires.Before(bs[j].Expires) })
			bs = bs[1:]
		}
		bs = append(bs, Binding{
			User: user, Contact: c.uri, Source: src, Transport: transport,
			Expires: now.Add(time.Duration(c.expires) * time.Second), CallID: req.CallID().Value(),
		})
	}
	if len(bs) == 0 {
		delete(r.bindings, user)
	} else {
		r.bindings[user] = bs
	}
	r.writes++
	if r.writes%1024 == 0 { // now and then, forget users whose bindings all lapsed
		for u, ub := range r.bindings {
			if len(live(ub, now)) == 0 {
				delete(r.bindings, u)
			}
		}
	}
	current := append([]Binding(nil), bs...)
	r.mu.Unlock()

	res := sipmsg.NewResponseFromRequest(req, sipmsg.StatusOK, "OK", nil)
	for _, b := range current {
		var u sipmsg.Uri
		if err := sipmsg.ParseUri(b.Contact, &u); err != nil {
			continue
		}
		ch := &sipmsg.ContactHeader{Address: u, Params: sipmsg.NewParams()}
		ch.Params.Add("expires", strconv.Itoa(int(b.Expires.Sub(now).Round(time.Second)/time.Second)))
		res.AppendHeader(ch)
	}
	if len(changes) > 0 {
		res.AppendHeader(sipmsg.NewHeader("Expires", strconv.Itoa(changes[len(changes)-1].expires)))
	}
	res.AppendHeader(sipmsg.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip register respond failed", "error", err)
	}
	s.log.Info("sip register", "user", user, "contacts", len(current), "source", req.Source())
}

// outboundCall is a call placed by Server.Dial, by dialog ID.
type outboundCall struct {
	dlg  *sipgo.DialogClientSession
	call *OutboundCall
	ip   net.IP // ours, for SDP answers
}

// outboundRequest hands a BYE or re-INVITE from the callee of a call placed by
// Server.Dial to that call. It reports false when req is not for one.
func (s *Server) outboundRequest(req *sipmsg.Request, tx sipmsg.ServerTransaction) bool {
	id, err := sipmsg.DialogIDFromRequestUAC(req)
	if err != nil {
		return false
	}
	s.reg.mu.Lock()
	oc := s.reg.outbound[id]
	s.reg.mu.Unlock()
	if oc == nil {
		return false
	}
	switch req.Method {
	case sipmsg.BYE:
		if err := oc.dlg.ReadBye(req, tx); err != nil {
			s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning(err.Error(), 399))
		}
	case sipmsg.INVITE:
		oc.call.answerReinvite(oc.dlg, req, tx, oc.ip)
	case sipmsg.REFER:
		if err := oc.dlg.ReadRequest(req, tx); err != nil {
			s.respond(tx, req, sipmsg.StatusInternalServerError, "Server Internal Error", warning(err.Error(), 399))
			return true
		}
		s.acceptRefer(req, tx, clientDialog{oc.dlg}, oc.call.log, oc.call.emit)
	case sipmsg.NOTIFY:
		s.respond(tx, req, sipmsg.StatusOK, "OK")
	default:
		return false
	}
	return true
}

// Dial calls a registered phone from the server's own user agent, so the
// phone sees our listening address and its in-dialog requests come back
// to this server. The INVITE goes to b.Contact, sent to b.Source when the
// two differ (a phone behind NAT). cfg.Target overrides the request URI;
// cfg.LocalIP defaults to the server's advertised IP and the RTP port range
// to the server's; cfg.Transport to the binding's. Hang the call up before
// the server stops.
func (s *Server) Dial(ctx context.Context, b Binding, cfg DialConfig) (*OutboundCall, error) {
	targetStr := cfg.Target
	if targetStr == "" {
		targetStr = b.Contact
	}
	var target sipmsg.Uri
	if err := sipmsg.ParseUri(targetStr, &target); err != nil || target.Host == "" {
		return nil, fmt.Errorf("%w: dial target %q: %v", ErrBadConfig, targetStr, err)
	}
	transport := strings.ToLower(cfg.Transport)
	if transport == "" {
		transport = b.Transport
	}
	dt := dialTarget{uri: target, transport: transport, user: b.User}
	if b.Source != nil && b.Source.String() != net.JoinHostPort(target.Host, strconv.Itoa(portOr(target.Port, 5060))) {
		dt.destination = b.Source.String()
	}
	return s.dial(ctx, dt, cfg)
}

// dialTarget is where Server.Dial and CallOut send an INVITE.
type dialTarget struct {
	uri         sipmsg.Uri
	transport   string // default udp
	destination string // host:port to send to instead of the URI's (NAT)
	user        string // for logs
	fromHost    string // From host; default our IP
	auth        sipgo.AnswerOptions
}

// dial places a call from the server's own user agent.
func (s *Server) dial(ctx context.Context, dt dialTarget, cfg DialConfig) (*OutboundCall, error) {
	select {
	case <-s.ready:
	default:
		return nil, fmt.Errorf("sip dial: %w", ErrNotRunning)
	}
	if s.baseCtx.Err() != nil {
		return nil, fmt.Errorf("sip dial: %w", ErrServerClosed)
	}
	target := dt.uri
	transport := dt.transport
	if transport == "" {
		transport = "udp"
	}
	codecs, err := codecsByName(cfg.Codecs)
	if err != nil {
		return nil, err
	}
	log := s.log
	if cfg.Logger != nil {
		log = cfg.Logger.With("component", "sip")
	}
	log = log.With("dial", target.String(), "user", dt.user)
	ip := cfg.LocalIP
	if ip == nil {
		ip = s.advertisedIP(nil)
	}
	bindIP := s.listenIP
	if bindIP == nil || bindIP.IsUnspecified() {
		bindIP = ip
	}
	pmin, pmax := cfg.RTPPortMin, cfg.RTPPortMax
	if pmin == 0 && pmax == 0 {
		pmin, pmax = s.cfg.RTPPortMin, s.cfg.RTPPortMax
	}
	leg, err := newRTPLeg(legConfig{IP: bindIP, PortMin: pmin, PortMax: pmax, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("rtp leg: %w", err)
	}
	offered, err := cfg.srtpOffer(transport, log) // sdes.go
	if err != nil {
		leg.Close()
		return nil, err
	}
	offer, err := buildOffer(ip, leg.LocalAddr().Port, codecs, offerEvents(codecs), offerSec(offered))
	if err != nil {
		leg.Close()
		return nil, err
	}
	if cfg.offerHook != nil {
		offer = cfg.offerHook(offer)
	}
	from := cfg.From
	if from == "" {
		from = "contactd"
	}
	fromHost := dt.fromHost
	if fromHost == "" {
		fromHost = ip.String()
	}
	req := sipmsg.NewRequest(sipmsg.INVITE, target)
	req.SetTransport(strings.ToUpper(transport))
	fh := &sipmsg.FromHeader{Address: sipmsg.Uri{Scheme: "sip", User: from, Host: fromHost}, Params: sipmsg.NewParams()}
	fh.Params.Add("tag", sipmsg.GenerateTagN(16))
	req.AppendHeader(fh)
	req.AppendHeader(&sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: "sip", User: target.User, Host: target.Host, Port: target.Port}})
	req.AppendHeader(sipmsg.HeaderClone(&s.dua.ContactHDR))
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(sipmsg.NewHeader("Allow", allowed))
	req.AppendHeader(sipmsg.NewHeader("Supported", supported))
	for _, h := range cfg.headers {
		req.AppendHeader(h)
	}
	req.SetBody(offer)
	if dt.destination != "" {
		req.SetDestination(dt.destination)
	}

	var id string
	c := newOutboundCall(log, leg)
	c.onRelease = func() {
		s.reg.mu.Lock()
		delete(s.reg.outbound, id)
		s.reg.mu.Unlock()
	}
	err = c.invite(ctx, s.dua, req, codecs, func(d *sipgo.DialogClientSession) {
		s.reg.mu.Lock()
		id = d.ID
		s.reg.outbound[id] = &outboundCall{dlg: d, call: c, ip: ip}
		s.reg.mu.Unlock()
	}, inviteOptions{auth: dt.auth, onEarly: cfg.OnEarlyMedia, srtp: offered})
	if err != nil {
		var se *StatusError
		if !errors.As(err, &se) {
			log.Info("sip dial failed", "error", err)
		}
		return nil, err
	}
	return c, nil
}

func portOr(p, def int) int {
	if p == 0 {
		return def
	}
	return p
}
