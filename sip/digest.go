package sip

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Credentials gives the registrar a user's digest secret. It lives here,
// with its consumer; the application implements it over its store, which
// keeps HA1 values rather than passwords (see HA1).
type Credentials interface {
	// HA1 returns hex H(username:realm:password) for algorithm "MD5" or
	// "SHA-256", and true; false when there is no such user. err is for
	// lookup failures only.
	HA1(ctx context.Context, username, realm, algorithm string) (ha1 string, ok bool, err error)
}

// CredentialsFunc adapts a plain-password lookup (tests, static config) to
// Credentials.
type CredentialsFunc func(ctx context.Context, username string) (password string, ok bool, err error)

// HA1 computes the digest secret from the password f returns.
func (f CredentialsFunc) HA1(ctx context.Context, username, realm, algorithm string) (string, bool, error) {
	pw, ok, err := f(ctx, username)
	if err != nil || !ok {
		return "", ok, err
	}
	return HA1(algorithm, username, realm, pw), true, nil
}

// HA1 is the digest secret H(username:realm:password) in hex for algorithm
// "MD5" or "SHA-256" (RFC 7616/8760). Stores keep it instead of the
// password; it is useless for any other realm.
func HA1(algorithm, username, realm, password string) string {
	newHash := digestHash(algorithm)
	if newHash == nil {
		return ""
	}
	h := newHash()
	h.Write([]byte(username + ":" + realm + ":" + password))
	return hex.EncodeToString(h.Sum(nil))
}

// nonceTTL is how long a nonce we issued stays good.
const nonceTTL = 5 * time.Minute

// digestAlgorithms are offered in this order (RFC 8760: strongest first).
var digestAlgorithms = []struct {
	name string
	hash func() hash.Hash
}{
	{"SHA-256", sha256.New},
	{"MD5", md5.New},
}

func digestHash(alg string) func() hash.Hash {
	if alg == "" {
		alg = "MD5" // RFC 2617: no algorithm means MD5
	}
	for _, a := range digestAlgorithms {
		if strings.EqualFold(a.name, alg) {
			return a.hash
		}
	}
	return nil
}

// authenticator checks digest credentials. Nonces carry their issue time
// and an HMAC under secret, so it keeps no state per challenge; the price
// is that a nonce can be replayed within its lifetime (no nc tracking).
type authenticator struct {
	realm  string
	secret []byte
	creds  Credentials
	now    func() time.Time
	// decoy is hashed as the password of unknown users so that they cost
	// the same work as known ones.
	decoy string
	// algorithms are offered in this order; empty: SHA-256, MD5.
	algorithms []string
}

func newAuthenticator(realm string, secret []byte, creds Credentials) *authenticator {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	var d [16]byte
	_, _ = rand.Read(d[:])
	return &authenticator{realm: realm, secret: secret, creds: creds, now: time.Now, decoy: hex.EncodeToString(d[:])}
}

// nonce is base64url(issued-at unix ms | 8 random bytes | HMAC[:16]).
func (a *authenticator) nonce() string {
	var b [32]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.now().UnixMilli()))
	_, _ = rand.Read(b[8:16])
	copy(b[16:], a.mac(b[:16]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (a *authenticator) mac(msg []byte) []byte {
	m := hmac.New(sha256.New, a.secret)
	m.Write(msg)
	m.Write([]byte(a.realm))
	return m.Sum(nil)[:16]
}

// checkNonce reports whether we issued n, and whether it has expired.
func (a *authenticator) checkNonce(n string) (ours, stale bool) {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 32 || !hmac.Equal(b[16:], a.mac(b[:16])) {
		return false, false
	}
	issued := time.UnixMilli(int64(binary.BigEndian.Uint64(b[:8])))
	age := a.now().Sub(issued)
	return true, age > nonceTTL || age < -time.Minute
}

// challenges are the WWW-Authenticate headers of a 401, in the configured
// order of preference (SHA-256 first by default). Every user gets the same
// ones: only the nonce differs between two.
func (a *authenticator) challenges(stale bool) []sipmsg.Header {
	n := a.nonce()
	algs := a.algorithms
	if len(algs) == 0 {
		for _, alg := range digestAlgorithms {
			algs = append(algs, alg.name)
		}
	}
	hs := make([]sipmsg.Header, 0, len(algs))
	for _, alg := range algs {
		v := fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=%s, qop="auth"`, a.realm, n, alg)
		if stale {
			v += ", stale=true"
		}
		hs = append(hs, sipmsg.NewHeader("WWW-Authenticate", v))
	}
	return hs
}

// authOutcome is what an Authorization header amounts to.
type authOutcome int

const (
	authChallenge authOutcome = iota // no usable credentials: 401
	authStale                        // our nonce, expired: 401 with stale=true
	authFailed                       // wrong credentials (or unknown user): 403
	authOK
)

// check authenticates req's Authorization header. It returns the user
// name on success; err only for a credentials lookup failure.
func (a *authenticator) check(ctx context.Context, req *sipmsg.Request) (string, authOutcome, error) {
	h := req.GetHeader("Authorization")
	if h == nil || !digest.IsDigest(h.Value()) {
		return "", authChallenge, nil
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		return "", authFailed, nil
	}
	if ours, stale := a.checkNonce(cred.Nonce); !ours {
		return "", authChallenge, nil
	} else if stale {
		return "", authStale, nil
	}
	newHash := digestHash(cred.Algorithm)
	if newHash == nil || cred.Realm != a.realm || cred.Userhash || cred.Username == "" ||
		!strings.EqualFold(cred.QOP, "auth") || cred.Cnonce == "" || cred.Nc <= 0 {
		return "", authFailed, nil
	}
	alg := cred.Algorithm
	if alg == "" {
		alg = "MD5"
	}
	ha1, ok, err := a.creds.HA1(ctx, cred.Username, a.realm, strings.ToUpper(alg))
	if err != nil {
		return "", authFailed, fmt.Errorf("sip credentials for %q: %w", cred.Username, err)
	}
	hx := func(parts ...string) string {
		s := newHash()
		s.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(s.Sum(nil))
	}
	if !ok || ha1 == "" {
		// Unknown user: the same work against a decoy, so timing and
		// answers don't tell known users from unknown ones.
		ha1, ok = hx(cred.Username, a.realm, a.decoy), false
	}
	ha2 := hx(req.Method.String(), cred.URI)
	want := hx(ha1, cred.Nonce, fmt.Sprintf("%08x", cred.Nc), cred.Cnonce, "auth", ha2)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(cred.Response))) || !ok {
		return "", authFailed, nil
	}
	return cred.Username, authOK, nil
}
