package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// Trunks. A trunk is a carrier or PBX that sends us calls and carries
// ours. Its INVITEs are recognised by source address (Allow) or by digest
// credentials (Username/Password, challenged with 401 like the
// registrar); the dialled number is looked up in its DID table to name
// the entry (IVR flow) the call starts in. Outbound calls go through
// Outbound.URI with Outbound's credentials, only for a named requester and
// only to numbers the trunk's prefix lists permit (toll fraud).

// Trunk is one configured SIP trunk.
type Trunk struct {
	// Name identifies the trunk in logs, InboundCall.Trunk and CallOut.
	Name string `yaml:"name"`
	// Allow lists source addresses (CIDR or single IP) whose INVITEs are
	// this trunk's without authentication.
	Allow []string `yaml:"allow"`
	// Username and Password, when set, let the trunk authenticate its
	// INVITEs with digest instead of (or besides) an allow-listed source.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// DIDs maps a dialled number to an entry name, e.g. "+15550100":
	// "support". Numbers are compared by their digits ("+1 555-0100"
	// matches "15550100"); the key "*" catches every other number.
	DIDs map[string]string `yaml:"dids"`
	// Outbound is where and how CallOut sends calls through this trunk.
	Outbound TrunkOutbound `yaml:"outbound"`
	// AllowedPrefixes, when not empty, are the only number prefixes
	// CallOut may dial; BlockedPrefixes are refused in any case (premium
	// ranges, international). Prefixes and numbers are compared as
	// written, without spaces, dashes, dots and parentheses: "+1900"
	// blocks "+1 900 555 0100" but not "1900…".
	AllowedPrefixes []string `yaml:"allowed_prefixes"`
	BlockedPrefixes []string `yaml:"blocked_prefixes"`

	allow []netip.Prefix
}

// TrunkOutbound is a trunk's outbound side.
type TrunkOutbound struct {
	// URI is the carrier's SIP URI, e.g. "sip:sip.carrier.example:5060"
	// or "sip:10.0.0.5;transport=tcp"; the dialled number becomes its
	// user part.
	URI string `yaml:"uri"`
	// Username and Password answer the carrier's 401/407 challenges.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// From is the caller ID user part when DialConfig.From is empty.
	From string `yaml:"from"`
	// Requesters, when not empty, are the only identities
	// (DialConfig.Requester) allowed to call out through this trunk.
	Requesters []string `yaml:"requesters"`
}

// Errors of trunks and outbound calls.
var (
	// ErrUnknownTrunk means CallOut named a trunk that is not configured.
	ErrUnknownTrunk = errors.New("unknown trunk")
	// ErrNotPermitted means CallOut refused the call: no requester, a
	// requester the trunk does not allow, or a number outside its
	// prefixes (toll-fraud protection).
	ErrNotPermitted = errors.New("outbound call not permitted")
)

// validateTrunks checks Config.Trunks and parses their allow-lists.
func (c *Config) validateTrunks() error {
	names := map[string]bool{}
	for i := range c.Trunks {
		t := &c.Trunks[i]
		field := fmt.Sprintf("trunks[%d]", i)
		if t.Name == "" {
			return fmt.Errorf("%w: %s.name is empty", ErrBadConfig, field)
		}
		if names[t.Name] {
			return fmt.Errorf("%w: %s.name %q is used twice", ErrBadConfig, field, t.Name)
		}
		names[t.Name] = true
		allow, err := parsePrefixes(t.Allow)
		if err != nil {
			return fmt.Errorf("%s.allow: %w", field, err)
		}
		t.allow = allow
		if (t.Username == "") != (t.Password == "") {
			return fmt.Errorf("%w: %s needs both username and password", ErrBadConfig, field)
		}
		if t.Outbound.URI != "" {
			var u sipmsg.Uri
			if err := sipmsg.ParseUri(t.Outbound.URI, &u); err != nil || u.Host == "" {
				return fmt.Errorf("%w: %s.outbound.uri %q is not a SIP URI with a host", ErrBadConfig, field, t.Outbound.URI)
			}
		}
		for _, p := range append(slices.Clone(t.AllowedPrefixes), t.BlockedPrefixes...) {
			if _, err := cleanNumber(p); err != nil {
				return fmt.Errorf("%w: %s prefix %q: %w", ErrBadConfig, field, p, err)
			}
		}
	}
	return nil
}

// cleanNumber drops spaces, dashes, dots and parentheses and checks that
// what is left is digits with an optional leading "+" (no URI injection).
func cleanNumber(n string) (string, error) {
	var b strings.Builder
	for i, r := range n {
		switch {
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			return "", fmt.Errorf("%q is not a phone number character", r)
		}
	}
	s := b.String()
	if strings.TrimPrefix(s, "+") == "" {
		return "", errors.New("no digits")
	}
	if len(s) > 32 {
		return "", errors.New("longer than 32 characters")
	}
	return s, nil
}

// digits keeps only the digits of a number, for DID matching.
func digits(n string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, n)
}

// entryFor maps a dialled number through the DID table.
func (t *Trunk) entryFor(number string, wildcard bool) (string, bool) {
	d := digits(number)
	if d != "" {
		for k, v := range t.DIDs {
			if digits(k) == d {
				return v, true
			}
		}
	}
	if wildcard {
		if v, ok := t.DIDs["*"]; ok {
			return v, true
		}
	}
	return "", false
}

// permits applies the trunk's outbound policy to requester and number
// (already cleaned).
func (t *Trunk) permits(requester, number string) error {
	if len(t.Outbound.Requesters) > 0 && !slices.Contains(t.Outbound.Requesters, requester) {
		return fmt.Errorf("%w: %q may not call out through trunk %q", ErrNotPermitted, requester, t.Name)
	}
	for _, p := range t.BlockedPrefixes {
		if cp, _ := cleanNumber(p); strings.HasPrefix(number, cp) {
			return fmt.Errorf("%w: %s is in blocked range %s of trunk %q", ErrNotPermitted, number, p, t.Name)
		}
	}
	if len(t.AllowedPrefixes) == 0 {
		return nil
	}
	for _, p := range t.AllowedPrefixes {
		if cp, _ := cleanNumber(p); strings.HasPrefix(number, cp) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is outside the allowed prefixes of trunk %q", ErrNotPermitted, number, t.Name)
}

func (s *Server) trunk(name string) *Trunk {
	for i := range s.cfg.Trunks {
		if s.cfg.Trunks[i].Name == name {
			return &s.cfg.Trunks[i]
		}
	}
	return nil
}

// inviteCredentials authenticates INVITEs: trunk credentials first, then
// (with the registrar on) the registrar's users.
type inviteCredentials struct {
	trunks []Trunk
	users  Credentials // nil: none
}

func (c inviteCredentials) HA1(ctx context.Context, username, realm, algorithm string) (string, bool, error) {
	for _, t := range c.trunks {
		if t.Username != "" && t.Username == username {
			return HA1(algorithm, username, realm, t.Password), true, nil
		}
	}
	if c.users == nil {
		return "", false, nil
	}
	return c.users.HA1(ctx, username, realm, algorithm)
}

// caller is who an INVITE comes from, as far as we could tell.
type caller struct {
	trunk *Trunk
	user  string // registrar user who authenticated
}

// identify decides whether an INVITE may come in and from whom. When it
// may not, it has answered (401 challenge or 403) and reports false.
func (s *Server) identify(req *sipmsg.Request, tx sipmsg.ServerTransaction) (caller, bool) {
	src := sourceAddr(req)
	if ip, ok := addrIP(src); ok {
		for i := range s.cfg.Trunks {
			t := &s.cfg.Trunks[i]
			for _, p := range t.allow {
				if p.Contains(ip) {
					return caller{trunk: t}, true
				}
			}
		}
	}
	canAuth := s.cfg.Registrar
	for _, t := range s.cfg.Trunks {
		canAuth = canAuth || t.Username != ""
	}
	if req.GetHeader("Authorization") == nil {
		if !s.cfg.RestrictInbound {
			return caller{}, true
		}
		if canAuth {
			s.respond(tx, req, sipmsg.StatusUnauthorized, "Unauthorized", s.inviteAuth.challenges(false)...)
			return caller{}, false
		}
		s.log.Info("sip invite refused: unknown source", "source", req.Source())
		s.respond(tx, req, sipmsg.StatusForbidden, "Forbidden")
		return caller{}, false
	}
	ctx, cancel := context.WithTimeout(s.baseCtx, lookupTimeout)
	defer cancel()
	user, outcome, err := s.inviteAuth.check(ctx, req)
	switch {
	case err != nil:
		s.log.Error("sip invite: credentials lookup", "error", err)
		s.respond(tx, req, sipmsg.StatusInternalServerError, "Server Internal Error", s.retryAfter())
		return caller{}, false
	case outcome == authChallenge || outcome == authStale:
		s.respond(tx, req, sipmsg.StatusUnauthorized, "Unauthorized", s.inviteAuth.challenges(outcome == authStale)...)
		return caller{}, false
	case outcome != authOK:
		s.guard.authFailed(src)
		s.log.Info("sip invite: authentication failed", "source", req.Source())
		s.respond(tx, req, sipmsg.StatusForbidden, "Forbidden")
		return caller{}, false
	}
	for i := range s.cfg.Trunks {
		if t := &s.cfg.Trunks[i]; t.Username != "" && t.Username == user {
			return caller{trunk: t}, true
		}
	}
	return caller{user: user}, true
}

// entry maps the dialled number (Request-URI user, else To user) through
// the caller's trunk; with no trunk known (open inbound) every trunk's
// table is searched for that exact number.
func (s *Server) entry(c caller, req *sipmsg.Request) string {
	numbers := []string{req.Recipient.User}
	if to := req.To(); to != nil {
		numbers = append(numbers, to.Address.User)
	}
	if c.trunk != nil {
		for _, n := range numbers {
			if e, ok := c.trunk.entryFor(n, false); ok {
				return e
			}
		}
		e, _ := c.trunk.entryFor("", true)
		return e
	}
	for _, n := range numbers {
		for i := range s.cfg.Trunks {
			if e, ok := s.cfg.Trunks[i].entryFor(n, false); ok {
				return e
			}
		}
	}
	return ""
}

// CallOut places a call to number through trunk, for click-to-call and
// callbacks. cfg.Requester must name the authenticated user asking for
// the call and the trunk must permit it and the number (ErrNotPermitted);
// the application checks the authentication, this is the last gate. The
// INVITE goes to the trunk's outbound URI with the number as user part
// and answers 401/407 challenges with the trunk's outbound credentials.
// cfg.Target and cfg.Transport are ignored (the trunk's URI decides);
// the rest is as for Dial. Hang the call up before the server stops.
func (s *Server) CallOut(ctx context.Context, trunk, number string, cfg DialConfig) (*OutboundCall, error) {
	if strings.TrimSpace(cfg.Requester) == "" {
		return nil, fmt.Errorf("%w: no requester", ErrNotPermitted)
	}
	t := s.trunk(trunk)
	if t == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTrunk, trunk)
	}
	if t.Outbound.URI == "" {
		return nil, fmt.Errorf("%w: trunk %q has no outbound uri", ErrNotPermitted, trunk)
	}
	n, err := cleanNumber(number)
	if err != nil {
		return nil, fmt.Errorf("%w: number %q: %w", ErrNotPermitted, number, err)
	}
	if err := t.permits(cfg.Requester, n); err != nil {
		s.log.Warn("sip call out refused", "trunk", trunk, "number", n, "requester", cfg.Requester, "error", err)
		return nil, err
	}
	var u sipmsg.Uri
	if err := sipmsg.ParseUri(t.Outbound.URI, &u); err != nil {
		return nil, fmt.Errorf("%w: trunk %q outbound uri: %w", ErrBadConfig, trunk, err)
	}
	u.User = n
	transport := "udp"
	if u.UriParams != nil {
		if v, ok := u.UriParams.Get("transport"); ok && v != "" {
			transport = strings.ToLower(v)
		}
	}
	if cfg.From == "" {
		cfg.From = t.Outbound.From
	}
	s.log.Info("sip call out", "trunk", trunk, "number", n, "requester", cfg.Requester)
	return s.dial(ctx, dialTarget{
		uri: u, transport: transport, user: n, fromHost: u.Host,
		auth: sipgo.AnswerOptions{Username: t.Outbound.Username, Password: t.Outbound.Password},
	}, cfg)
}

// TransferTarget checks that requester may send a call on this trunk to
// number (the trunk's outbound policy, as for CallOut) and returns the
// SIP URI to REFER the trunk's caller to: the number at the trunk's
// outbound host, or at the host the call came from. It is the toll-fraud
// gate for transfers out: the carrier places that call at our expense.
func (s *Server) TransferTarget(c *InboundCall, requester, number string) (string, error) {
	if strings.TrimSpace(requester) == "" {
		return "", fmt.Errorf("%w: no requester", ErrNotPermitted)
	}
	t := s.trunk(c.Trunk)
	if t == nil {
		return "", fmt.Errorf("%w: the call did not come in on a trunk", ErrNotPermitted)
	}
	n, err := cleanNumber(number)
	if err != nil {
		return "", fmt.Errorf("%w: number %q: %w", ErrNotPermitted, number, err)
	}
	if err := t.permits(requester, n); err != nil {
		s.log.Warn("sip transfer out refused", "trunk", t.Name, "number", n, "requester", requester, "error", err)
		return "", err
	}
	host := ""
	if t.Outbound.URI != "" {
		var u sipmsg.Uri
		if err := sipmsg.ParseUri(t.Outbound.URI, &u); err == nil {
			host = u.HostPort()
		}
	}
	if host == "" && c.RemoteAddr != nil {
		host = c.RemoteAddr.String()
	}
	if host == "" {
		return "", fmt.Errorf("%w: no host to transfer to on trunk %q", ErrBadConfig, t.Name)
	}
	return "sip:" + n + "@" + host, nil
}

// MayCallOut reports whether CallOut through trunk would let requester
// call number (ErrNotPermitted, ErrUnknownTrunk), without calling.
func (s *Server) MayCallOut(trunk, requester, number string) error {
	if strings.TrimSpace(requester) == "" {
		return fmt.Errorf("%w: no requester", ErrNotPermitted)
	}
	t := s.trunk(trunk)
	if t == nil {
		return fmt.Errorf("%w: %q", ErrUnknownTrunk, trunk)
	}
	if t.Outbound.URI == "" {
		return fmt.Errorf("%w: trunk %q has no outbound uri", ErrNotPermitted, trunk)
	}
	n, err := cleanNumber(number)
	if err != nil {
		return fmt.Errorf("%w: number %q: %w", ErrNotPermitted, number, err)
	}
	return t.permits(requester, n)
}
