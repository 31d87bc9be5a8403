package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// LoginLimit bounds failed logins. Zero fields take the defaults.
type LoginLimit struct {
	PerUser int           // failures per username within Window (default 5)
	PerIP   int           // failures per source address within Window (default 20)
	Window  time.Duration // default 15 minutes
}

func (l LoginLimit) withDefaults() LoginLimit {
	if l.PerUser <= 0 {
		l.PerUser = 5
	}
	if l.PerIP <= 0 {
		l.PerIP = 20
	}
	if l.Window <= 0 {
		l.Window = 15 * time.Minute
	}
	return l
}

// loginLimiter counts failed logins per source address and per username
// in fixed windows that start at the first failure. Once a key has had
// its limit of failures, every login for it is refused until the window
// ends, the right password included, so a password cannot be guessed
// faster than the limit allows.
type loginLimiter struct {
	byIP, byUser *failures
}

func newLoginLimiter(l LoginLimit) *loginLimiter {
	l = l.withDefaults()
	return &loginLimiter{byIP: newFailures(l.PerIP, l.Window), byUser: newFailures(l.PerUser, l.Window)}
}

// limited says whether a login from ip for user must be refused, and for
// how long.
func (l *loginLimiter) limited(ip, user string, now time.Time) (time.Duration, bool) {
	a, la := l.byIP.blocked(ip, now)
	b, lb := l.byUser.blocked(userKeyOf(user), now)
	return max(a, b), la || lb
}

// fail counts a failed login and names the keys ("ip:…", "user:…") that
// it locked.
func (l *loginLimiter) fail(ip, user string, now time.Time) []string {
	var locked []string
	if l.byIP.fail(ip, now) {
		locked = append(locked, "ip:"+ip)
	}
	if l.byUser.fail(userKeyOf(user), now) {
		locked = append(locked, "user:"+user)
	}
	return locked
}

// succeed forgets the username's failures. The address's are kept: one
// good account must not reset the count for guesses at others.
func (l *loginLimiter) succeed(user string) { l.byUser.reset(userKeyOf(user)) }

func userKeyOf(user string) string { return strings.ToLower(user) }

// maxKeys caps the memory of one failures table; beyond it new keys are
// not tracked (the per-address table still limits one source).
const maxKeys = 100_000

type failures struct {
	max    int
	window time.Duration

	mu sync.Mutex
	m  map[string]*failWindow
}

type failWindow struct {
	start time.Time
	n     int
}

func newFailures(limit int, window time.Duration) *failures {
	return &failures{max: limit, window: window, m: map[string]*failWindow{}}
}

func (f *failures) blocked(key string, now time.Time) (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.m[key]
	if !ok {
		return 0, false
	}
	end := w.start.Add(f.window)
	if !now.Before(end) {
		delete(f.m, key)
		return 0, false
	}
	if w.n < f.max {
		return 0, false
	}
	return end.Sub(now), true
}

// fail counts one failure; it reports whether this one reached the limit.
func (f *failures) fail(key string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.m[key]
	if ok && !now.Before(w.start.Add(f.window)) {
		ok = false
	}
	if !ok {
		if len(f.m) >= maxKeys/2 {
			f.sweep(now)
		}
		if len(f.m) >= maxKeys {
			return false
		}
		w = &failWindow{start: now}
		f.m[key] = w
	}
	w.n++
	return w.n == f.max
}

func (f *failures) reset(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, key)
}

// sweep drops ended windows; the caller holds mu.
func (f *failures) sweep(now time.Time) {
	for k, w := range f.m {
		if !now.Before(w.start.Add(f.window)) {
			delete(f.m, k)
		}
	}
}

// clientIP is the request's source address; IPv6 addresses count by /64,
// which one host usually has whole. X-Forwarded-For is not trusted.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}
