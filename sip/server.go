package sip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// Config configures a Server. The zero value of every field but Addr has a
// usable default (see withDefaults).
type Config struct {
	// Addr is the UDP and TCP listen address, e.g. "0.0.0.0:5060". Port 0
	// picks one free port for both transports (tests).
	Addr string `yaml:"addr"`
	// MediaIP is the address written into SDP (c=/o=) and Contact. Default:
	// the listen IP when it is specific, else the IP the INVITE was sent
	// to when it names one, else 127.0.0.1.
	MediaIP net.IP `yaml:"media_ip"`
	// RTPPortMin and RTPPortMax bound the RTP ports; 0 lets media choose.
	RTPPortMin int `yaml:"rtp_port_min"`
	RTPPortMax int `yaml:"rtp_port_max"`
	// MaxCalls caps calls in progress (ringing or answered); 0 means no
	// cap. INVITEs over the cap get 503 with Retry-After.
	MaxCalls int `yaml:"max_calls"`
	// RingDelay is how long we ring (180) before answering.
	RingDelay time.Duration `yaml:"ring_delay"`
	// RetryAfter is the Retry-After sent with 503; default 30s.
	RetryAfter time.Duration `yaml:"retry_after"`
	// ByeTimeout bounds the BYE we send at the end of a call; default 5s.
	ByeTimeout time.Duration `yaml:"bye_timeout"`
	// UserAgent is our User-Agent/Server header; default "contactd".
	UserAgent string `yaml:"user_agent"`
	// SessionExpires is the longest RFC 4028 session interval we grant to
	// callers that use session timers; default 1800s, negative disables
	// session timers.
	SessionExpires time.Duration `yaml:"session_expires"`
	// MinSE is the shortest session interval we accept (422 below it);
	// default 90s, the RFC 4028 minimum.
	MinSE time.Duration `yaml:"min_se"`
	// RTPTimeout hangs up (cause ErrMediaTimeout) a call whose caller sent
	// no RTP for this long while not on hold; default 30s, negative
	// disables it.
	RTPTimeout time.Duration `yaml:"rtp_timeout"`
	// OnInviteRefused, when set, is told the status code of every final
	// failure response to an INVITE the server sends before a call exists
	// (400, 401/403, 420, 422, 486, 488, 503…), for metrics.
	OnInviteRefused func(code int) `yaml:"-"`
	// Unavailable, when set, is asked before every new INVITE and every
	// OPTIONS: a non-empty answer (why, e.g. "fenced: cluster lease lost")
	// refuses the INVITE with 503 and makes OPTIONS answer 503, so a SIP
	// front probing with OPTIONS stops sending calls here.
	Unavailable func() string `yaml:"-"`
	// TLSAddr, when set, is a SIP over TLS (SIPS) listen address using the
	// PEM files TLSCert and TLSKey.
	TLSAddr string `yaml:"tls_addr"`
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// WSAddr, when set, is a SIP over WebSocket (RFC 7118) listen address
	// for browser SIP clients (plain ws; put TLS in front or use TLSAddr).
	WSAddr string `yaml:"ws_addr"`
	// Registrar turns on REGISTER with digest auth (registrar.go); the
	// passwords come from Credentials. Realm is the digest realm (default
	// "contactd"); Domains are extra hosts REGISTERs may name; AuthSecret
	// signs nonces (default random; share it between nodes).
	Registrar bool `yaml:"registrar"`
	// DigestAlgorithms are offered in this order of preference (default
	// SHA-256, MD5). Many desk phones read only the first challenge and
	// know only MD5; put MD5 first for them.
	DigestAlgorithms []string    `yaml:"digest_algorithms"`
	Credentials      Credentials `yaml:"-"`
	Realm            string      `yaml:"realm"`
	Domains          []string    `yaml:"domains"`
	AuthSecret       []byte      `yaml:"-"`
	// Guard is the per-source rate limit and ban (guard.go).
	Guard GuardConfig `yaml:"guard"`
	// Trunks are the SIP trunks we take calls from and place calls
	// through (trunk.go).
	Trunks []Trunk `yaml:"trunks"`
	// RestrictInbound refuses INVITEs that come from no trunk's
	// allow-list and carry no valid trunk (or, with the registrar on,
	// user) credentials: they get a 401 challenge, then 403. The default,
	// false, takes calls from anyone (the demo; a lab on loopback); a
	// server on a public address should set it.
	RestrictInbound bool `yaml:"restrict_inbound"`
	// EarlyMedia answers INVITEs with 183 Session Progress and SDP and
	// runs Handler.ServeCall before the 200: the caller hears the IVR
	// without the call being answered (billed). The handler calls
	// InboundCall.Answer when it needs the answered call (before
	// listening, or routing to an agent).
	EarlyMedia bool `yaml:"early_media"`
	// SRTP with SDES keys (RFC 4568, sdes.go): an INVITE that arrives
	// over TLS (SIP over TLS or secure WebSocket) offering RTP/SAVP with
	// a=crypto is answered with SRTP. AllowSDESWithoutTLS also takes such
	// offers over UDP, TCP and plain WebSocket, where anyone on the path
	// reads the keys; by default they get 488. RequireSRTPOnTLS refuses
	// (488) plain RTP/AVP offers that arrive over TLS; by default they
	// are taken.
	AllowSDESWithoutTLS bool `yaml:"allow_sdes_without_tls"`
	RequireSRTPOnTLS    bool `yaml:"require_srtp_on_tls"`
	// Logger receives the server's logs; default slog.Default().
	Logger *slog.Logger `yaml:"-"`
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("%w: addr %q: %w", ErrBadConfig, c.Addr, err)
	}
	if c.MaxCalls < 0 {
		return fmt.Errorf("%w: max_calls %d is negative", ErrBadConfig, c.MaxCalls)
	}
	if c.RTPPortMin < 0 || c.RTPPortMax > 65535 || c.RTPPortMin > c.RTPPortMax {
		return fmt.Errorf("%w: rtp port range %d-%d", ErrBadConfig, c.RTPPortMin, c.RTPPortMax)
	}
	if c.RingDelay < 0 || c.RetryAfter < 0 || c.ByeTimeout < 0 || c.MinSE < 0 {
		return fmt.Errorf("%w: negative duration", ErrBadConfig)
	}
	for _, a := range c.DigestAlgorithms {
		if digestHash(a) == nil {
			return fmt.Errorf("%w: digest_algorithms: %q is not MD5 or SHA-256", ErrBadConfig, a)
		}
	}
	if c.Registrar && c.Credentials == nil {
		return fmt.Errorf("%w: registrar needs credentials", ErrBadConfig)
	}
	if err := c.Guard.Validate(); err != nil {
		return err
	}
	if err := c.validateTransports(); err != nil {
		return err
	}
	c.Trunks = slices.Clone(c.Trunks) // validateTrunks fills in parsed fields
	return c.validateTrunks()
}

// lookupTimeout bounds a credentials lookup.
const lookupTimeout = 5 * time.Second

func (c Config) withDefaults() Config {
	if c.RetryAfter == 0 {
		c.RetryAfter = 30 * time.Second
	}
	if c.ByeTimeout == 0 {
		c.ByeTimeout = 5 * time.Second
	}
	if c.UserAgent == "" {
		c.UserAgent = "contactd"
	}
	if c.SessionExpires == 0 {
		c.SessionExpires = 1800 * time.Second
	}
	if c.MinSE == 0 {
		c.MinSE = 90 * time.Second
	}
	if c.SessionExpires > 0 && c.SessionExpires < c.MinSE {
		c.SessionExpires = c.MinSE
	}
	if c.RTPTimeout == 0 {
		c.RTPTimeout = 30 * time.Second
	}
	if c.Realm == "" {
		c.Realm = "contactd"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Handler serves answered calls.
type Handler interface {
	// ServeCall runs the call. ctx is cancelled with cause ErrRemoteHangup
	// when the caller hangs up, or ErrServerClosed on shutdown; when
	// ServeCall returns first the server hangs up. The leg is closed after
	// ServeCall returns.
	ServeCall(ctx context.Context, c *InboundCall)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c *InboundCall)

// ServeCall calls f.
func (f HandlerFunc) ServeCall(ctx context.Context, c *InboundCall) { f(ctx, c) }

// CallID is our own identifier for a call, independent of SIP's Call-ID.
type CallID string

// InboundCall is one answered call handed to a Handler.
type InboundCall struct {
	ID         CallID
	SIPCallID  string
	From       string // caller's user part (number)
	To         string // dialled user part
	Leg        media.Leg
	Codec      media.Codec
	DTMF       bool         // telephone-event negotiated
	RemoteAddr net.Addr     // signalling source of the INVITE
	RemoteRTP  *net.UDPAddr // where we send audio (as answered; a re-INVITE may move it)
	// Trunk names the trunk the call came in on (by source address or
	// digest credentials); empty when unknown (open inbound) or when a
	// registered User authenticated the INVITE.
	Trunk string
	// User is the registrar user who authenticated the INVITE, if any.
	User string
	// Entry is what the trunk's DID table maps the dialled number to
	// (the IVR entry to start in); empty when no table matched.
	Entry string
	// Replaces is the SIP Call-ID of the dialog this call replaces (an
	// INVITE with Replaces, RFC 3891: the last step of an attended
	// transfer); ReplacesCall is our ID for it when it was an
	// InboundCall. The owner swaps the legs and hangs up the old call.
	Replaces     string
	ReplacesCall CallID
	// EarlyMedia: the call is in early media (183) until Answer.
	EarlyMedia bool
	// SRTPSuite is the SDES-SRTP crypto suite the INVITE negotiated, e.g.
	// AES_CM_128_HMAC_SHA1_80; empty for plain RTP (a call never switches
	// between the two).
	SRTPSuite string

	st *callState // in-dialog state; see dialog.go
}

// Server accepts SIP calls. Create it with NewServer and run it with Run.
type Server struct {
	cfg Config
	h   Handler
	log *slog.Logger

	ready    chan struct{}
	draining atomic.Bool
	running  atomic.Bool
	listenIP net.IP
	addr     atomic.Pointer[string]

	mu      sync.Mutex
	closed  bool
	active  int
	wg      sync.WaitGroup
	dialogs map[string]*sipgo.DialogServerSession
	calls   map[string]*InboundCall // answered calls by dialog ID
	tlsAddr atomic.Pointer[string]
	wsAddr  atomic.Pointer[string]

	baseCtx context.Context
	dua     *sipgo.DialogUA
	reg     *registrar // registrar.go
	guard   *guard     // guard.go; nil when off
	// inviteAuth checks INVITE credentials: trunks' and, with the
	// registrar on, users' (trunk.go).
	inviteAuth *authenticator
}

// NewServer checks cfg and returns a Server that does nothing until Run.
func NewServer(cfg Config, h Handler) (*Server, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrBadConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cfg.Trunks = slices.Clone(cfg.Trunks)
	if err := cfg.validateTrunks(); err != nil { // keeps the parsed allow-lists
		return nil, err
	}
	reg := newRegistrar(cfg)
	var users Credentials
	if cfg.Registrar {
		users = cfg.Credentials
	}
	inviteAuth := newAuthenticator(cfg.Realm, reg.auth.secret, inviteCredentials{trunks: cfg.Trunks, users: users})
	inviteAuth.algorithms = cfg.DigestAlgorithms
	return &Server{
		inviteAuth: inviteAuth,
		cfg:        cfg,
		h:          h,
		log:        cfg.Logger.With("component", "sip"),
		ready:      make(chan struct{}),
		dialogs:    make(map[string]*sipgo.DialogServerSession),
		reg:        reg,
		guard:      newGuard(cfg.Guard, cfg.Logger.With("component", "sip-guard")),
		calls:      make(map[string]*InboundCall),
	}, nil
}

// Ready is closed once both listeners are bound.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the bound listen address (host:port), valid after Ready.
func (s *Server) Addr() string {
	if p := s.addr.Load(); p != nil {
		return *p
	}
	return ""
}

// Drain makes the server refuse new INVITEs with 503 and Retry-After while
// calls in progress go on.
func (s *Server) Drain() { s.draining.Store(true) }

// ActiveCalls counts calls in progress, ringing or answered.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Run listens on cfg.Addr over UDP and TCP and serves until ctx is done.
// It then ends every call (their contexts get ErrServerClosed and the
// server sends BYE), waits for the call owners and closes the listeners.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("sip: server already ran")
	}
	ua, err := newUA(s.cfg.UserAgent, s.log, s.guardOptions()...) // guard.go drops banned sources
	if err != nil {
		return fmt.Errorf("sip user agent: %w", err)
	}
	defer ua.Close()
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(s.log))
	if err != nil {
		return fmt.Errorf("sip server: %w", err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientLogger(s.log))
	if err != nil {
		return fmt.Errorf("sip client: %w", err)
	}
	udp, tcp, err := listenBoth(s.cfg.Addr)
	if err != nil {
		return err
	}
	laddr := udp.LocalAddr().(*net.UDPAddr)
	s.listenIP = laddr.IP
	addr := laddr.String()
	s.addr.Store(&addr)

	baseCtx, cancelBase := context.WithCancelCause(context.Background())
	defer cancelBase(ErrServerClosed)
	s.baseCtx = baseCtx
	s.dua = &sipgo.DialogUA{Client: cli, RewriteContact: true, ContactHDR: sipmsg.ContactHeader{
		Address: sipmsg.Uri{Scheme: "sip", User: "contactd", Host: s.advertisedIP(nil).String(), Port: laddr.Port},
	}}
	srv.OnInvite(s.checked(s.onInvite)) // checked: dialog.go
	srv.OnAck(s.onAck)
	srv.OnBye(s.checked(s.onBye))
	srv.OnCancel(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		// sipgo answers CANCELs that match a pending INVITE itself.
		s.respond(tx, req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	})
	srv.OnOptions(s.checked(s.onOptions))
	srv.OnRegister(s.onRegister) // registrar.go
	srv.OnInfo(s.checked(s.onInfo))
	srv.OnUpdate(s.checked(s.onUpdate))
	srv.OnRefer(s.checked(s.onRefer))   // refer.go
	srv.OnNotify(s.checked(s.onNotify)) // refer.go

	var serveWG sync.WaitGroup
	serveWG.Add(2)
	go func() { defer serveWG.Done(); _ = srv.ServeUDP(udp) }()
	go func() { defer serveWG.Done(); _ = srv.ServeTCP(tcp) }()
	stopExtra, err := s.serveExtraTransports(srv, &serveWG)
	if err != nil {
		udp.Close()
		tcp.Close()
		serveWG.Wait()
		return err
	}
	s.log.Info("sip listening", "addr", addr, "transports", "udp,tcp", "tls", s.TLSAddr(), "ws", s.WSAddr())
	close(s.ready)

	<-ctx.Done()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	cancelBase(ErrServerClosed)
	s.wg.Wait() // call owners send their BYEs, so listeners stay open
	udp.Close()
	tcp.Close()
	stopExtra()
	serveWG.Wait()
	return nil
}

// listenBoth binds UDP and TCP on the same address. With port 0 it looks
// for a port free on both.
func listenBoth(addr string) (*net.UDPConn, net.Listener, error) {
	host, port, _ := net.SplitHostPort(addr)
	var lastErr error
	for try := 0; try < 20; try++ {
		ua, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("sip listen %s: %w", addr, err)
		}
		udp, err := net.ListenUDP("udp", ua)
		if err != nil {
			return nil, nil, fmt.Errorf("sip listen udp %s: %w", addr, err)
		}
		p := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		lastErr = err
		if port != "0" {
			break
		}
	}
	return nil, nil, fmt.Errorf("sip listen tcp %s: %w", addr, lastErr)
}

// advertisedIP is the IP for SDP and Contact.
func (s *Server) advertisedIP(req *sipmsg.Request) net.IP {
	if s.cfg.MediaIP != nil {
		return s.cfg.MediaIP
	}
	if s.listenIP != nil && !s.listenIP.IsUnspecified() {
		return s.listenIP
	}
	if req != nil {
		if ip := net.ParseIP(req.Recipient.Host); ip != nil && !ip.IsUnspecified() {
			return ip
		}
	}
	return net.IPv4(127, 0, 0, 1)
}

// admit reserves a call slot; the reason is empty when admitted.
func (s *Server) admit() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if why := s.refusalLocked(); why != "" {
		return why
	}
	s.active++
	s.wg.Add(1)
	return ""
}

func (s *Server) release() {
	s.mu.Lock()
	s.active--
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Server) respond(tx sipmsg.ServerTransaction, req *sipmsg.Request, code int, reason string, hdrs ...sipmsg.Header) {
	res := sipmsg.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if req.Method == sipmsg.INVITE && code >= 300 && s.cfg.OnInviteRefused != nil {
		s.cfg.OnInviteRefused(code)
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip respond failed", "code", code, "method", req.Method, "error", err)
	}
}

func warning(text string, code int) sipmsg.Header {
	text = strings.NewReplacer(`"`, "'", "\r", " ", "\n", " ").Replace(text)
	return sipmsg.NewHeader("Warning", fmt.Sprintf("%d contactd %q", code, text))
}

func (s *Server) retryAfter() sipmsg.Header {
	return sipmsg.NewHeader("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter/time.Second)))
}

// health says why the server would refuse a new call now; empty when it
// would take one. OPTIONS answers with it (a SIP front's health probe).
func (s *Server) health() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refusalLocked()
}

// refusalLocked is why a new call is refused now ("" when it is not); mu
// is held.
func (s *Server) refusalLocked() string {
	switch {
	case s.closed:
		return "Server Shutting Down"
	case s.draining.Load():
		return "Draining"
	case s.cfg.MaxCalls > 0 && s.active >= s.cfg.MaxCalls:
		return "Too Many Calls"
	}
	if s.cfg.Unavailable != nil {
		if why := s.cfg.Unavailable(); why != "" {
			return "Unavailable: " + why
		}
	}
	return ""
}

// onOptions answers 200 with what we take (Allow, Accept, Supported) when
// a new call would be admitted, else 503 with Retry-After and why: a SIP
// front (Kamailio's dispatcher) probing with OPTIONS sends no calls to a
// node that is draining, full or fenced.
func (s *Server) onOptions(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	caps := []sipmsg.Header{
		sipmsg.NewHeader("Allow", allowed),
		sipmsg.NewHeader("Supported", supported),
		sipmsg.NewHeader("Accept", "application/sdp"),
		sipmsg.NewHeader("Server", s.cfg.UserAgent),
	}
	if why := s.health(); why != "" {
		s.respond(tx, req, sipmsg.StatusServiceUnavailable, "Service Unavailable", append(caps, s.retryAfter(), warning(why, 399))...)
		return
	}
	s.respond(tx, req, sipmsg.StatusOK, "OK", caps...)
}

func (s *Server) lookup(req *sipmsg.Request) *sipgo.DialogServerSession {
	id, err := sipmsg.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dialogs[id]
}

func (s *Server) onAck(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if d := s.lookup(req); d != nil {
		if err := d.ReadAck(req, tx); err != nil {
			s.log.Debug("sip ack ignored", "error", err)
		}
		if len(req.Body()) > 0 {
			s.onAckBody(req)
		}
	}
}

func (s *Server) onBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if s.outboundRequest(req, tx) { // a call placed by Server.Dial
		return
	}
	d := s.lookup(req)
	if d == nil {
		s.respond(tx, req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	if err := d.ReadBye(req, tx); err != nil {
		s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning(err.Error(), 399))
	}
}

// inviteError maps an offer problem to a response.
func inviteError(err error) (int, string, sipmsg.Header) {
	switch {
	case errors.Is(err, ErrNoCommonCodec):
		return sipmsg.StatusNotAcceptableHere, "Not Acceptable Here", warning(err.Error(), 305)
	case errors.Is(err, ErrNoCommonCrypto):
		// 306: attribute not understood (a=crypto).
		return sipmsg.StatusNotAcceptableHere, "Not Acceptable Here", warning(err.Error(), 306)
	case errors.Is(err, ErrMediaSecurity):
		// 302: incompatible transport protocol (RTP/SAVP vs RTP/AVP).
		return sipmsg.StatusNotAcceptableHere, "Not Acceptable Here", warning(err.Error(), 302)
	default:
		return sipmsg.StatusBadRequest, "Bad Request", warning(err.Error(), 399)
	}
}

func userOf(u *sipmsg.Uri) string {
	if u == nil {
		return ""
	}
	return u.User
}

func newCallID() CallID {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return CallID(hex.EncodeToString(b[:]))
}

// onInvite runs in the goroutine sipgo started for the INVITE; it owns
// the call until it ends.
func (s *Server) onInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if to := req.To(); to != nil && to.Params != nil && to.Params.Has("tag") {
		if s.outboundRequest(req, tx) { // a call placed by Server.Dial (registrar.go)
			return
		}
		s.onReinvite(req, tx) // dialog.go
		return
	}
	if req.From() == nil || req.To() == nil || req.Contact() == nil || req.CSeq() == nil || req.CallID() == nil {
		s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning("missing From, To, Contact, CSeq or Call-ID", 399))
		return
	}
	who, ok := s.identify(req, tx) // trunk.go: ACL and digest auth
	if !ok {
		return
	}
	var repl replacesHeader
	var replacedCallID string
	var replacedID CallID
	if v := headerValue(req, "Replaces"); v != "" {
		var err error
		if repl, err = parseReplaces(v); err != nil {
			s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning(err.Error(), 399))
			return
		}
		var found bool
		if replacedCallID, replacedID, found = s.replaced(repl); !found {
			// RFC 3891 3: no such confirmed dialog.
			s.respond(tx, req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", warning("no dialog to replace", 399))
			return
		}
	}
	if reason := s.admit(); reason != "" {
		s.respond(tx, req, sipmsg.StatusServiceUnavailable, "Service Unavailable", s.retryAfter(), warning(reason, 399))
		return
	}
	defer s.release()

	body := req.Body()
	if len(body) == 0 {
		s.respond(tx, req, sipmsg.StatusNotAcceptableHere, "Not Acceptable Here",
			warning("INVITE without SDP offer is not supported", 304))
		return
	}
	if ct := req.ContentType(); ct == nil || !strings.EqualFold(strings.TrimSpace(strings.Split(ct.Value(), ";")[0]), "application/sdp") {
		s.respond(tx, req, sipmsg.StatusUnsupportedMediaType, "Unsupported Media Type", sipmsg.NewHeader("Accept", "application/sdp"))
		return
	}
	offer, err := parseSDP(body)
	var neg negotiation
	if err == nil {
		neg, err = negotiate(offer, supportedCodecs())
	}
	if err == nil {
		neg.SRTP, err = s.mediaSecurity(req, offer) // sdes.go
	}
	if err != nil {
		code, reason, w := inviteError(err)
		s.log.Info("sip invite rejected", "code", code, "error", err, "sip_call_id", req.CallID().Value())
		s.respond(tx, req, code, reason, w)
		return
	}
	timer, code, err := s.negotiateTimer(req) // sessiontimer.go
	if err != nil {
		hdrs := []sipmsg.Header{warning(err.Error(), 399)}
		if code == statusIntervalTooBrief {
			hdrs = append(hdrs, sipmsg.NewHeader("Min-SE", seconds(s.cfg.MinSE)))
		}
		s.respond(tx, req, code, reasonFor(code), hdrs...)
		return
	}

	dlg, err := s.dua.ReadInvite(req, tx)
	if err != nil {
		s.respond(tx, req, sipmsg.StatusBadRequest, "Bad Request", warning(err.Error(), 399))
		return
	}
	s.mu.Lock()
	s.dialogs[dlg.ID] = dlg
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.dialogs, dlg.ID)
		s.mu.Unlock()
	}()

	call := &InboundCall{
		ID:         newCallID(),
		SIPCallID:  req.CallID().Value(),
		From:       userOf(&req.From().Address),
		To:         userOf(&req.To().Address),
		Codec:      neg.Codec,
		DTMF:       neg.dtmfPT() != 0,
		RemoteRTP:  offer.Remote,
		RemoteAddr: sourceAddr(req),
		User:       who.user,
		Entry:      s.entry(who, req),
		Replaces:   replacedCallID, ReplacesCall: replacedID,
		EarlyMedia: s.cfg.EarlyMedia,
	}
	if neg.SRTP != nil {
		call.SRTPSuite = neg.SRTP.Local.Suite
	}
	if who.trunk != nil {
		call.Trunk = who.trunk.Name
	}
	log := s.log.With("call_id", call.ID, "sip_call_id", call.SIPCallID)
	log.Info("sip invite", "from", call.From, "to", call.To, "codec", neg.Codec.Name, "source", req.Source(),
		"trunk", call.Trunk, "entry", call.Entry, "replaces", call.Replaces, "srtp", call.SRTPSuite)

	if err := dlg.Respond(sipmsg.StatusTrying, "Trying", nil); err != nil {
		log.Info("sip invite gone before 100", "error", err)
		return
	}
	ip := s.advertisedIP(req)
	bindIP := s.listenIP
	if bindIP == nil || bindIP.IsUnspecified() {
		bindIP = ip
	}
	leg, err := newRTPLeg(legConfig{IP: bindIP, PortMin: s.cfg.RTPPortMin, PortMax: s.cfg.RTPPortMax, Logger: log})
	if err != nil {
		log.Error("rtp leg", "error", err)
		_ = dlg.Respond(sipmsg.StatusInternalServerError, "Server Internal Error", nil, warning("no media port", 399))
		return
	}
	defer leg.Close()
	call.Leg = leg

	now := uint64(time.Now().Unix())
	st := &callState{srv: s, dlg: dlg, leg: leg, log: log, ip: ip, events: make(chan CallEvent, eventBuffer),
		neg: neg, remote: offer.Remote, origin: sdpOrigin{ID: now, Version: now}, timer: timer, inviteReq: req,
		remoteHold: offer.Remote.IP.IsUnspecified() || offer.Direction == "sendonly" || offer.Direction == "inactive"}
	call.st = st
	answer, err := buildSDPSec(ip, leg.LocalAddr().Port, []media.Codec{neg.Codec}, neg.events(), st.origin,
		answerDirection(offer.Direction, false), neg.RTCPMux, neg.SRTP.sdp())
	if err != nil {
		log.Error("sip answer", "error", err)
		_ = dlg.Respond(sipmsg.StatusInternalServerError, "Server Internal Error", nil)
		return
	}
	st.answer = answer

	if s.cfg.EarlyMedia {
		// 183 with our answer: media flows both ways now (RFC 3960), the
		// handler runs, and Answer sends the 200 with the same SDP.
		if err := leg.StartWith(neg.startOptions(offer.Remote)); err != nil {
			log.Error("sip early media", "error", err)
			_ = dlg.Respond(sipmsg.StatusInternalServerError, "Server Internal Error", nil)
			return
		}
		res := sipmsg.NewResponseFromRequest(dlg.InviteRequest, sipmsg.StatusSessionInProgress, "Session Progress", answer)
		res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(s.contact(req, ip))
		res.AppendHeader(sipmsg.NewHeader("Allow", allowed))
		if err := dlg.WriteResponse(res); err != nil {
			log.Info("sip invite gone before 183", "error", err)
			return
		}
		s.track(dlg, call)
		defer s.untrack(dlg)
		s.serve(dlg, call, log)
		return
	}

	if err := dlg.Respond(sipmsg.StatusRinging, "Ringing", nil); err != nil {
		log.Info("sip invite gone before 180", "error", err)
		return
	}
	if !s.ring(dlg, req, tx, log) {
		return
	}
	if err := leg.StartWith(neg.startOptions(offer.Remote)); err != nil {
		log.Error("sip answer", "error", err)
		_ = dlg.Respond(sipmsg.StatusInternalServerError, "Server Internal Error", nil)
		return
	}
	if err := s.answer(call); err != nil {
		log.Info("sip call not established", "error", err)
		return
	}
	s.track(dlg, call)
	defer s.untrack(dlg)
	s.serve(dlg, call, log)
}

func (s *Server) track(dlg *sipgo.DialogServerSession, call *InboundCall) {
	s.mu.Lock()
	s.calls[dlg.ID] = call
	s.mu.Unlock()
}

func (s *Server) untrack(dlg *sipgo.DialogServerSession) {
	s.mu.Lock()
	delete(s.calls, dlg.ID)
	s.mu.Unlock()
}

// errNoAck means our 200 was never acknowledged.
var errNoAck = errors.New("no ACK for our 200")

// answer sends the 200 with our SDP answer and waits for the ACK (up to
// 64*T1). On failure the call is over: it has sent BYE when needed.
func (s *Server) answer(call *InboundCall) error {
	st := call.st
	dlg := st.dlg
	res := sipmsg.NewSDPResponseFromRequest(dlg.InviteRequest, st.answer)
	res.AppendHeader(s.contact(st.inviteReq, st.ip))
	res.AppendHeader(sipmsg.NewHeader("Allow", allowed))
	res.AppendHeader(sipmsg.NewHeader("Supported", supported))
	st.mu.Lock()
	timer := st.timer
	st.mu.Unlock()
	for _, h := range timerHeaders(st.inviteReq, timer) {
		res.AppendHeader(h)
	}
	if err := dlg.WriteResponse(res); err != nil {
		// Cancelled meanwhile, or no ACK within 64*T1.
		if dlg.LoadState() != sipmsg.DialogStateEnded && dlg.LoadState() >= sipmsg.DialogStateEstablished {
			s.bye(dlg, st.log)
		}
		return err
	}
	if dlg.LoadState() == sipmsg.DialogStateEstablished {
		// sipgo gave up waiting for the ACK (64*T1); RFC 3261 13.3.1.4
		// says to end the session with BYE.
		s.bye(dlg, st.log)
		return errNoAck
	}
	st.mu.Lock()
	st.answered = true
	st.refreshedAt = time.Now()
	st.mu.Unlock()
	return nil
}

// Answer answers a call in early media (Config.EarlyMedia) with 200 and
// waits for the caller's ACK; on a call already answered it does nothing.
// It fails when the caller gave up (CANCEL) or never ACKed; the handler
// should then return.
func (c *InboundCall) Answer(ctx context.Context) error {
	if c.st == nil {
		return errors.New("sip answer: no call state")
	}
	st := c.st
	st.answerMu.Lock()
	defer st.answerMu.Unlock()
	st.mu.Lock()
	done := st.answered
	st.mu.Unlock()
	if done {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sip answer: %w", context.Cause(ctx))
	}
	if err := st.srv.answer(c); err != nil {
		return fmt.Errorf("sip answer: %w", err)
	}
	st.log.Info("sip call answered after early media")
	return nil
}

// Answered reports whether the 200 has been sent and acknowledged.
func (c *InboundCall) Answered() bool {
	if c.st == nil {
		return false
	}
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	return c.st.answered
}

// ring waits cfg.RingDelay. It reports false when the caller cancelled
// (sipgo has then answered 487) or the server is closing (503 sent).
func (s *Server) ring(dlg *sipgo.DialogServerSession, req *sipmsg.Request, tx sipmsg.ServerTransaction, log *slog.Logger) bool {
	var timer <-chan time.Time
	if s.cfg.RingDelay > 0 {
		t := time.NewTimer(s.cfg.RingDelay)
		defer t.Stop()
		timer = t.C
	} else {
		c := make(chan time.Time)
		close(c)
		timer = c
	}
	select {
	case <-timer:
	case <-dlg.Context().Done():
		log.Info("sip invite cancelled before answer", "cause", context.Cause(dlg.Context()))
		return false
	case <-s.baseCtx.Done():
		// Straight to the transaction: dlg.Respond would wait for the ACK
		// (up to 64*T1) and hold up shutdown.
		res := sipmsg.NewResponseFromRequest(dlg.InviteRequest, sipmsg.StatusServiceUnavailable, "Service Unavailable", nil)
		res.AppendHeader(s.retryAfter())
		_ = tx.Respond(res)
		return false
	}
	// A CANCEL racing with the timer.
	if dlg.Context().Err() != nil {
		return false
	}
	return true
}

func (s *Server) contact(req *sipmsg.Request, ip net.IP) sipmsg.Header {
	port := s.portFor(req.Transport()) // transport.go
	u := sipmsg.Uri{Scheme: "sip", User: "contactd", Host: ip.String(), Port: port}
	if t := strings.ToLower(req.Transport()); t != "" && t != "udp" {
		u.UriParams = sipmsg.NewParams()
		u.UriParams.Add("transport", t)
	}
	return &sipmsg.ContactHeader{Address: u}
}

// serve runs the handler for an established call and hangs up after it.
func (s *Server) serve(dlg *sipgo.DialogServerSession, call *InboundCall, log *slog.Logger) {
	ctx, cancel := context.WithCancelCause(s.baseCtx)
	defer cancel(nil)
	stop := context.AfterFunc(dlg.Context(), func() { cancel(ErrRemoteHangup) })
	defer stop()

	if call.Answered() {
		log.Info("sip call answered")
	} else {
		log.Info("sip call in early media")
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); call.watch(watchCtx, cancel, s.cfg.RTPTimeout, s.watchTick()) }()
	func() {
		defer func() {
			if r := recover(); r != nil {
				log.Error("call handler panicked", "panic", r)
			}
		}()
		s.h.ServeCall(ctx, call)
	}()
	stopWatch()
	<-watched
	if dlg.LoadState() == sipmsg.DialogStateEnded {
		log.Info("sip call ended", "by", "remote")
		return
	}
	if !call.Answered() {
		// Early media ended without an answer: a final failure instead
		// of BYE (RFC 3261 has no BYE for an unanswered INVITE we got).
		code, reason := sipmsg.StatusTemporarilyUnavailable, "Temporarily Unavailable"
		if errors.Is(context.Cause(ctx), ErrServerClosed) {
			code, reason = sipmsg.StatusServiceUnavailable, "Service Unavailable"
		}
		res := sipmsg.NewResponseFromRequest(dlg.InviteRequest, code, reason, nil)
		if err := dlg.WriteResponse(res); err != nil {
			log.Info("sip final response failed", "error", err)
		}
		log.Info("sip call ended unanswered", "code", code, "cause", context.Cause(ctx))
		return
	}
	s.bye(dlg, log)
	log.Info("sip call ended", "by", "local", "cause", context.Cause(ctx))
}

func (s *Server) bye(dlg *sipgo.DialogServerSession, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ByeTimeout)
	defer cancel()
	if err := dlg.Bye(ctx); err != nil {
		log.Info("sip bye failed", "error", err)
	}
}

// newUA makes a sipgo user agent whose layers log to log.
func newUA(name string, log *slog.Logger, opts ...sipgo.UserAgentOption) (*sipgo.UserAgent, error) {
	return sipgo.NewUA(append([]sipgo.UserAgentOption{sipgo.WithUserAgent(name),
		sipgo.WithUserAgentTransactionLayerOptions(sipmsg.WithTransactionLayerLogger(log)),
		sipgo.WithUserAgentTransportLayerOptions(sipmsg.WithTransportLayerLogger(log))}, opts...)...)
}

func sourceAddr(req *sipmsg.Request) net.Addr {
	src := req.Source()
	if strings.EqualFold(req.Transport(), "udp") {
		a, err := net.ResolveUDPAddr("udp", src)
		if err == nil {
			return a
		}
	}
	a, err := net.ResolveTCPAddr("tcp", src)
	if err != nil {
		return nil
	}
	return a
}
