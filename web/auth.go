package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/contactd/contactd/store"
)

type ctxKey int

const (
	userKey  ctxKey = iota // the store.User making the request
	tokenKey               // the bearer token it came with
)

// Session defaults: an absolute lifetime and an idle limit.
const (
	DefaultSessionTTL  = 12 * time.Hour
	DefaultSessionIdle = time.Hour
)

// apiTokenPrefix marks API tokens apart from session tokens.
const apiTokenPrefix = "cdt_"

// maxPassword is bcrypt's limit: it ignores what follows.
const maxPassword = 72

// bcryptCost is the work factor of new password hashes (tests lower it).
var bcryptCost = bcrypt.DefaultCost

// HashPassword returns a bcrypt hash.
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcryptCost)
	return string(h), err
}

// dummyHash keeps login time the same for unknown users (no username probing).
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a real password"), bcrypt.DefaultCost)

func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// newSecret returns 256 random bits, URL-safe.
func newSecret() string {
	var raw [32]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// login is POST /auth/login. Failed attempts are limited per source
// address and per username (429 with Retry-After beyond the limit, even
// with the right password) and audited.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Username == "" || req.Password == "" {
		writeError(w, http.StatusBadRequest, "username and password are required")
		return
	}
	if len(req.Username) > 64 || len(req.Password) > 1024 {
		writeError(w, http.StatusBadRequest, "username or password too long")
		return
	}
	now := s.now()
	ip := clientIP(r)
	if wait, limited := s.logins.limited(ip, req.Username, now); limited {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		writeError(w, http.StatusTooManyRequests, "too many failed logins; try again later")
		return
	}
	u, err := s.opts.Store.UserByName(r.Context(), req.Username)
	if err != nil && !isNotFound(err) {
		s.fail(w, r, err)
		return
	}
	hash := dummyHash
	if err == nil {
		hash = []byte(u.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) != nil || err != nil {
		locked := s.logins.fail(ip, req.Username, now)
		s.auditAs(r, req.Username, AuditLoginFailed, "user:"+req.Username, "")
		for _, l := range locked {
			s.auditAs(r, req.Username, AuditLoginLocked, l, "")
		}
		writeError(w, http.StatusUnauthorized, "wrong username or password")
		return
	}
	s.logins.succeed(req.Username)
	tok := newSecret()
	if err := s.opts.Store.CreateSession(r.Context(), store.Session{TokenHash: tokenHash(tok), UserID: u.ID,
		ExpiresAt: now.Add(s.opts.TokenTTL), CreatedAt: now, LastSeenAt: now}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.auditAs(r, u.Username, AuditLogin, "user:"+u.Username, "")
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "expires_at": now.Add(s.opts.TokenTTL),
		"idle_timeout_seconds": int(s.opts.SessionIdle / time.Second),
		"user":                 map[string]string{"username": u.Username, "role": u.Role}})
}

// logout is POST /auth/logout: the session ends at once (its events
// WebSocket closes at its next check). An API token is not revoked here
// but with DELETE /tokens/{id}.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	tok, _ := r.Context().Value(tokenKey).(string)
	if !strings.HasPrefix(tok, apiTokenPrefix) {
		if err := s.opts.Store.DeleteSession(r.Context(), tokenHash(tok)); err != nil && !isNotFound(err) {
			s.fail(w, r, err)
			return
		}
		s.audit(r, AuditLogout, "", "")
	}
	w.WriteHeader(http.StatusNoContent)
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return strings.TrimSpace(tok), ok && strings.TrimSpace(tok) != ""
}

// principal resolves a token to who it acts for: a session's user, or an
// API token as the user "token:<name>" with the token's role. Expired,
// idle, revoked and unknown tokens are store.ErrNotFound. With touch, the
// use is recorded (at most every touchEvery), which keeps a session from
// idling out.
func (s *Server) principal(ctx context.Context, tok string, touch bool) (store.User, error) {
	now := s.now()
	if strings.HasPrefix(tok, apiTokenPrefix) {
		t, err := s.opts.Store.APITokenByHash(ctx, tokenHash(tok))
		if err != nil {
			return store.User{}, err
		}
		if touch && now.Sub(t.LastUsedAt) > time.Minute {
			if err := s.opts.Store.TouchAPIToken(ctx, t.ID, now); err != nil {
				s.opts.Log.Warn("record api token use", "token", t.Name, "err", err)
			}
		}
		return store.User{ID: t.ID, Username: "token:" + t.Name, Role: t.Role, CreatedAt: t.CreatedAt}, nil
	}
	h := tokenHash(tok)
	sess, err := s.opts.Store.SessionByTokenHash(ctx, h)
	if err != nil {
		return store.User{}, err
	}
	last := sess.LastSeenAt
	if last.IsZero() {
		last = sess.CreatedAt
	}
	if (!sess.ExpiresAt.IsZero() && !now.Before(sess.ExpiresAt)) || now.Sub(last) >= s.opts.SessionIdle {
		if err := s.opts.Store.DeleteSession(ctx, h); err != nil && !isNotFound(err) {
			s.opts.Log.Warn("drop expired session", "err", err)
		}
		return store.User{}, store.ErrNotFound
	}
	if touch && now.Sub(last) >= s.touchEvery() {
		if err := s.opts.Store.TouchSession(ctx, h, now); err != nil && !isNotFound(err) {
			return store.User{}, err
		}
	}
	return s.opts.Store.UserByID(ctx, sess.UserID)
}

// touchEvery is how stale a session's last use may get before a request
// records it: often enough for idle expiry to be accurate to a tenth,
// rarely enough not to write on every request.
func (s *Server) touchEvery() time.Duration {
	return min(s.opts.SessionIdle/10, time.Minute)
}

func userOf(r *http.Request) store.User {
	u, _ := r.Context().Value(userKey).(store.User)
	return u
}

// mayActFor: an agent acts for themself; supervisors and admins for anyone.
func mayActFor(u store.User, username string) bool {
	return u.Username == username || u.Role == store.RoleAdmin || u.Role == store.RoleSupervisor
}
