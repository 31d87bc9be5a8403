package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/contactd/contactd/store"
)

// Signed URLs let a browser's <audio> element (which cannot send a
// bearer token) play a recording: GET /calls/{id}/recording/url hands out
// the recording's URL with the asking user, their role and an expiry,
// signed with HMAC-SHA256; the guard accepts the signature instead of a
// token on routes whose policy says Signed, for that path only and until
// it expires. Each play and download is still audited, by the user who
// asked for the URL.

// DefaultURLTTL is how long a signed URL works.
const DefaultURLTTL = 5 * time.Minute

// Query parameters of a signed URL.
const (
	sigParam  = "sig"
	expParam  = "exp"
	subParam  = "sub"
	roleParam = "role"
)

var (
	errSigExpired = errors.New("this link has expired: ask for a new one")
	errSigBad     = errors.New("bad link signature")
)

// newURLKey is a random signing key, for a server given none: its links
// stop working when it restarts.
func newURLKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

func (s *Server) mac(path string, q url.Values) []byte {
	m := hmac.New(sha256.New, s.opts.URLKey)
	m.Write([]byte("GET\n" + path + "\n" + q.Encode()))
	return m.Sum(nil)
}

// signURL returns path with q signed for u until exp.
func (s *Server) signURL(path string, q url.Values, u store.User, exp time.Time) string {
	if q == nil {
		q = url.Values{}
	}
	q.Del(sigParam)
	q.Set(expParam, strconv.FormatInt(exp.Unix(), 10))
	q.Set(subParam, u.Username)
	q.Set(roleParam, u.Role)
	sig := base64.RawURLEncoding.EncodeToString(s.mac(path, q))
	q.Set(sigParam, sig)
	return path + "?" + q.Encode()
}

// signed reports whether r carries a signature (whether or not valid).
func signed(r *http.Request) bool { return r.URL.Query().Has(sigParam) }

// verifySigned checks r's signature and expiry and returns who the URL
// was issued to.
func (s *Server) verifySigned(r *http.Request) (store.User, error) {
	q := r.URL.Query()
	sig, err := base64.RawURLEncoding.DecodeString(q.Get(sigParam))
	if err != nil {
		return store.User{}, errSigBad
	}
	q.Del(sigParam)
	if !hmac.Equal(sig, s.mac(r.URL.EscapedPath(), q)) {
		return store.User{}, errSigBad
	}
	exp, err := strconv.ParseInt(q.Get(expParam), 10, 64)
	if err != nil {
		return store.User{}, errSigBad
	}
	if !s.now().Before(time.Unix(exp, 0)) {
		return store.User{}, errSigExpired
	}
	u := store.User{Username: q.Get(subParam), Role: q.Get(roleParam)}
	if u.Username == "" || !validRole(u.Role) {
		return store.User{}, errSigBad
	}
	return u, nil
}

// recordingURL is GET /calls/{id}/recording/url[?download=1]: a signed
// URL of the recording that works without a token until expires_at.
func (s *Server) recordingURL(w http.ResponseWriter, r *http.Request) {
	c, ok := s.callOr404(w, r, chi.URLParam(r, "id"))
	if !ok {
		return
	}
	if c.RecordingPath == "" {
		writeError(w, http.StatusNotFound, "no recording for this call")
		return
	}
	q := url.Values{}
	if v := r.URL.Query().Get("download"); v == "1" || v == "true" {
		q.Set("download", "1")
	}
	exp := s.now().Add(s.opts.URLTTL).Truncate(time.Second)
	u := s.signURL("/api/v1/calls/"+url.PathEscape(c.ID)+"/recording", q, userOf(r), exp)
	writeJSON(w, http.StatusOK, map[string]any{"url": u, "expires_at": exp.UTC()})
}
