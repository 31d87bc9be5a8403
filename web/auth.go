package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/contactd/contactd/store"
)

type ctxKey int

const userKey ctxKey = 0

// HashPassword returns a bcrypt hash.
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(h), err
}

// dummyHash keeps login time the same for unknown users (no username probing).
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a real password"), bcrypt.DefaultCost)

func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

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
	u, err := s.opts.Store.UserByName(r.Context(), req.Username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	hash := dummyHash
	if err == nil {
		hash = []byte(u.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) != nil || err != nil {
		writeError(w, http.StatusUnauthorized, "wrong username or password")
		return
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		s.fail(w, r, err)
		return
	}
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	now := time.Now()
	if err := s.opts.Store.CreateSession(r.Context(), store.Session{TokenHash: tokenHash(tok), UserID: u.ID,
		ExpiresAt: now.Add(s.opts.TokenTTL), CreatedAt: now}); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": tok,
		"user": map[string]string{"username": u.Username, "role": u.Role}})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	tok, _ := bearer(r)
	if err := s.opts.Store.DeleteSession(r.Context(), tokenHash(tok)); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return strings.TrimSpace(tok), ok && strings.TrimSpace(tok) != ""
}

// userForToken resolves a token to its user.
func (s *Server) userForToken(ctx context.Context, tok string) (store.User, error) {
	sess, err := s.opts.Store.SessionByTokenHash(ctx, tokenHash(tok))
	if err != nil {
		return store.User{}, err
	}
	if !sess.ExpiresAt.IsZero() && time.Now().After(sess.ExpiresAt) {
		return store.User{}, store.ErrNotFound
	}
	return s.opts.Store.UserByID(ctx, sess.UserID)
}

func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="contactd"`)
			writeError(w, http.StatusUnauthorized, "missing bearer token: log in at POST /api/v1/auth/login")
			return
		}
		u, err := s.userForToken(r.Context(), tok)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="contactd", error="invalid_token"`)
				writeError(w, http.StatusUnauthorized, "invalid or expired token")
				return
			}
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey, u)))
	})
}

func userOf(r *http.Request) store.User {
	u, _ := r.Context().Value(userKey).(store.User)
	return u
}

func (s *Server) require(roles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !slices.Contains(roles, userOf(r).Role) {
				writeError(w, http.StatusForbidden, "this needs role "+strings.Join(roles, " or "))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// mayActFor: an agent acts for themself; supervisors and admins for anyone.
func mayActFor(u store.User, username string) bool {
	return u.Username == username || u.Role == store.RoleAdmin || u.Role == store.RoleSupervisor
}
