package sip

import (
	"container/list"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// GuardConfig sets the flood and brute-force protection. It is off unless
// Enabled; zero fields then take the defaults shown.
type GuardConfig struct {
	// Enabled turns the guard on.
	Enabled bool `yaml:"enabled"`
	// Rate is the sustained messages per second allowed from one source
	// IP (default 50) and Burst the bucket size (default 100). A source
	// that empties its bucket is banned.
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
	// BanFor is how long a ban lasts (default 60s). Banned sources get no
	// answer at all: UDP datagrams are dropped, stream connections closed.
	BanFor time.Duration `yaml:"ban_for"`
	// AuthFailures failed digest authentications within AuthWindow ban the
	// source (defaults 5 and 60s).
	AuthFailures int           `yaml:"auth_failures"`
	AuthWindow   time.Duration `yaml:"auth_window"`
	// MaxSources bounds the per-IP state (default 65536); the least
	// recently seen source is forgotten first, so a spoofed-source flood
	// cannot grow memory.
	MaxSources int `yaml:"max_sources"`
	// Exempt lists prefixes (CIDR or single IPs) never limited or banned,
	// e.g. a trusted trunk or a front proxy.
	Exempt []string `yaml:"exempt"`
}

func (c GuardConfig) withDefaults() GuardConfig {
	if c.Rate == 0 {
		c.Rate = 50
	}
	if c.Burst == 0 {
		c.Burst = 100
	}
	if c.BanFor == 0 {
		c.BanFor = time.Minute
	}
	if c.AuthFailures == 0 {
		c.AuthFailures = 5
	}
	if c.AuthWindow == 0 {
		c.AuthWindow = time.Minute
	}
	if c.MaxSources == 0 {
		c.MaxSources = 65536
	}
	return c
}

// Validate names the first bad field.
func (c GuardConfig) Validate() error {
	switch {
	case c.Rate < 0 || c.Burst < 0:
		return fmt.Errorf("%w: guard rate %v / burst %d is negative", ErrBadConfig, c.Rate, c.Burst)
	case c.BanFor < 0 || c.AuthWindow < 0:
		return fmt.Errorf("%w: guard durations must not be negative", ErrBadConfig)
	case c.AuthFailures < 0 || c.MaxSources < 0:
		return fmt.Errorf("%w: guard auth_failures / max_sources is negative", ErrBadConfig)
	}
	if _, err := parsePrefixes(c.Exempt); err != nil {
		return err
	}
	return nil
}

func parsePrefixes(ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("%w: guard exempt %q: %w", ErrBadConfig, s, err)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// GuardStats are the guard's counters since the server started.
type GuardStats struct {
	Allowed      uint64 // messages let through
	Dropped      uint64 // messages dropped (or stream reads refused) from banned sources
	Bans         uint64 // bans imposed
	RateBans     uint64 // of which for exceeding the rate
	AuthFailures uint64 // failed digest authentications seen
	Banned       int    // sources banned right now
	Tracked      int    // sources with rate state
}

// errBanned closes a stream connection from a banned source.
var errBanned = errors.New("source banned")

type source struct {
	ip        netip.Addr
	tokens    float64
	last      time.Time
	fails     int
	failStart time.Time
}

// guard rate-limits and bans source IPs. Its filter runs on every message
// sipgo reads, before parsing, so a flood costs little.
type guard struct {
	cfg    GuardConfig
	exempt []netip.Prefix
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	sources map[netip.Addr]*list.Element // of *source
	lru     list.List                    // front: most recently seen
	bans    map[netip.Addr]time.Time     // until
	stats   GuardStats
}

// newGuard returns nil when the guard is off; a nil guard allows all.
func newGuard(cfg GuardConfig, log *slog.Logger) *guard {
	if !cfg.Enabled {
		return nil
	}
	cfg = cfg.withDefaults()
	ex, _ := parsePrefixes(cfg.Exempt) // checked by Validate
	return &guard{cfg: cfg, exempt: ex, log: log, now: time.Now,
		sources: make(map[netip.Addr]*list.Element), bans: make(map[netip.Addr]time.Time)}
}

func addrIP(a net.Addr) (netip.Addr, bool) {
	switch v := a.(type) {
	case *net.UDPAddr:
		ip, ok := netip.AddrFromSlice(v.IP)
		return ip.Unmap(), ok
	case *net.TCPAddr:
		ip, ok := netip.AddrFromSlice(v.IP)
		return ip.Unmap(), ok
	case nil:
		return netip.Addr{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

func (g *guard) isExempt(ip netip.Addr) bool {
	for _, p := range g.exempt {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// banned reports (and counts) a message from a banned source. Call with mu.
func (g *guard) bannedLocked(ip netip.Addr, now time.Time) bool {
	until, ok := g.bans[ip]
	if !ok {
		return false
	}
	if now.Before(until) {
		g.stats.Dropped++
		return true
	}
	delete(g.bans, ip)
	return false
}

func (g *guard) banLocked(ip netip.Addr, now time.Time, why string) {
	if len(g.bans) >= g.cfg.MaxSources {
		for k, until := range g.bans {
			if !now.Before(until) || len(g.bans) >= g.cfg.MaxSources {
				delete(g.bans, k)
			}
		}
	}
	g.bans[ip] = now.Add(g.cfg.BanFor)
	g.stats.Bans++
	g.stats.Dropped++
	// One line per ban: bans themselves rate-limit this log.
	g.log.Warn("sip source banned", "ip", ip.String(), "reason", why, "for", g.cfg.BanFor)
}

// entryLocked finds or makes the state of ip, evicting the least recently
// seen source when full.
func (g *guard) entryLocked(ip netip.Addr, now time.Time) *source {
	if e, ok := g.sources[ip]; ok {
		g.lru.MoveToFront(e)
		return e.Value.(*source)
	}
	for len(g.sources) >= g.cfg.MaxSources {
		old := g.lru.Back()
		g.lru.Remove(old)
		delete(g.sources, old.Value.(*source).ip)
	}
	s := &source{ip: ip, tokens: float64(g.cfg.Burst), last: now}
	g.sources[ip] = g.lru.PushFront(s)
	return s
}

// allow takes one token for a message from a. It bans a source whose
// bucket is empty and refuses banned sources.
func (g *guard) allow(a net.Addr) bool {
	if g == nil {
		return true
	}
	ip, ok := addrIP(a)
	if !ok || g.isExempt(ip) {
		return true
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.bannedLocked(ip, now) {
		return false
	}
	s := g.entryLocked(ip, now)
	s.tokens += now.Sub(s.last).Seconds() * g.cfg.Rate
	if s.tokens > float64(g.cfg.Burst) {
		s.tokens = float64(g.cfg.Burst)
	}
	s.last = now
	if s.tokens < 1 {
		g.stats.RateBans++
		g.banLocked(ip, now, "rate")
		s.tokens = float64(g.cfg.Burst) // a fresh start once the ban ends
		return false
	}
	s.tokens--
	g.stats.Allowed++
	return true
}

// authFailed counts a failed authentication from a and bans the source
// after AuthFailures of them within AuthWindow.
func (g *guard) authFailed(a net.Addr) {
	if g == nil {
		return
	}
	ip, ok := addrIP(a)
	if !ok {
		return
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stats.AuthFailures++
	if g.isExempt(ip) {
		return
	}
	s := g.entryLocked(ip, now)
	if s.fails == 0 || now.Sub(s.failStart) > g.cfg.AuthWindow {
		s.fails, s.failStart = 0, now
	}
	s.fails++
	if s.fails >= g.cfg.AuthFailures {
		s.fails = 0
		g.banLocked(ip, now, "auth failures")
	}
}

// readFilter is sipgo's transport read hook: messages from banned or
// flooding sources never reach the parser.
func (g *guard) readFilter(p sipmsg.TransportReadProps, data []byte) ([]byte, error) {
	if g.allow(p.RemoteAddr) {
		return data, nil
	}
	if strings.EqualFold(p.Transport, "udp") {
		return nil, nil // dropped
	}
	// A stream cannot skip a message; close the connection instead.
	return nil, errBanned
}

// guardOptions installs the guard's read filter in the server's user
// agent; none when the guard is off.
func (s *Server) guardOptions() []sipgo.UserAgentOption {
	if s.guard == nil {
		return nil
	}
	return []sipgo.UserAgentOption{sipgo.WithUserAgentTransportLayerOptions(
		sipmsg.WithTransportLayerLogger(s.log), sipmsg.WithTransportLayerReadFilter(s.guard.readFilter))}
}

func (g *guard) snapshot() GuardStats {
	if g == nil {
		return GuardStats{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.stats
	now := g.now()
	for _, until := range g.bans {
		if now.Before(until) {
			st.Banned++
		}
	}
	st.Tracked = len(g.sources)
	return st
}
