package sip

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/contactd/contactd/media"
	sipmsg "github.com/emiago/sipgo/sip"
)

// This file is SDES-SRTP (RFC 4568): the a=crypto lines of RTP/SAVP
// streams, which carry each side's SRTP master key in the SDP itself. The
// keys are only as secret as the signalling, so the server takes them
// only over TLS (Config.AllowSDESWithoutTLS says otherwise). The media
// side is media.RTPLeg's SRTP.

// Limits of the a=crypto grammar (RFC 4568 9.1).
const (
	maxMKILen       = 128     // mki-length 1*3DIGIT, 1-128
	maxKeyLifetime  = 1 << 48 // SRTP's own limit (RFC 3711 9.2)
	maxCryptoLines  = 16      // more are ignored
	maxCryptoReason = 3       // reasons quoted in a Warning
)

// cryptoAttr is one "a=crypto:" value:
//
//	<tag> <suite> inline:<base64 key||salt>[|lifetime][|mki:length] [session params]
type cryptoAttr struct {
	Tag   int
	Suite string
	Key   []byte // master key || master salt
	// Lifetime is the key's lifetime in packets, 0 when not given.
	Lifetime uint64
	// MKIValue and MKILen are the master key identifier; MKILen 0 means
	// none.
	MKIValue uint64
	MKILen   int
}

// mki is the identifier as it appears in packets: MKIValue big-endian in
// MKILen bytes; nil without MKI.
func (c cryptoAttr) mki() []byte {
	if c.MKILen == 0 {
		return nil
	}
	b := make([]byte, c.MKILen)
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], c.MKIValue)
	if c.MKILen >= 8 {
		copy(b[c.MKILen-8:], v[:])
	} else {
		copy(b, v[8-c.MKILen:])
	}
	return b
}

// String writes the attribute value back (without session parameters,
// which we never send).
func (c cryptoAttr) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s inline:%s", c.Tag, c.Suite, base64.StdEncoding.EncodeToString(c.Key))
	if c.Lifetime != 0 {
		b.WriteString("|" + strconv.FormatUint(c.Lifetime, 10))
	}
	if c.MKILen != 0 {
		fmt.Fprintf(&b, "|%d:%d", c.MKIValue, c.MKILen)
	}
	return b.String()
}

// cryptoError is why one a=crypto line cannot be used.
type cryptoError struct {
	tag    string
	reason string
}

func (e *cryptoError) Error() string {
	if e.tag == "" {
		return "a=crypto: " + e.reason
	}
	return "a=crypto:" + e.tag + ": " + e.reason
}

// parseCrypto reads one a=crypto value. Unknown suites, garbage, a key of
// the wrong length and session parameters we do not implement are all
// errors (*cryptoError); it never panics.
func parseCrypto(v string) (cryptoAttr, error) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return cryptoAttr{}, &cryptoError{reason: "want <tag> <suite> <key-params>"}
	}
	tagStr := f[0]
	if len(tagStr) > 60 {
		tagStr = tagStr[:60]
	}
	bad := func(format string, args ...any) (cryptoAttr, error) {
		return cryptoAttr{}, &cryptoError{tag: tagStr, reason: fmt.Sprintf(format, args...)}
	}
	var c cryptoAttr
	if !allDigits(f[0], 9) {
		return bad("tag is not 1-9 digits")
	}
	c.Tag, _ = strconv.Atoi(f[0])
	c.Suite = f[1]
	keyLen, ok := media.SRTPKeyLen(c.Suite)
	if !ok {
		return bad("unsupported suite %.40q", c.Suite)
	}
	if strings.Contains(f[2], ";") {
		return bad("more than one master key is not supported")
	}
	method, info, ok := strings.Cut(f[2], ":")
	if !ok || !strings.EqualFold(method, "inline") {
		return bad("key method is not inline")
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return bad("too many key parameters")
	}
	key, err := decodeKey(parts[0])
	if err != nil {
		return bad("key is not base64")
	}
	if len(key) != keyLen {
		return bad("%s key||salt is %d bytes, want %d", c.Suite, len(key), keyLen)
	}
	c.Key = key
	for i, p := range parts[1:] {
		if v, l, isMKI := strings.Cut(p, ":"); isMKI {
			if c.MKILen != 0 {
				return bad("two MKIs")
			}
			if c.MKIValue, c.MKILen, err = parseMKI(v, l); err != nil {
				return bad("%v", err)
			}
			continue
		}
		if i != 0 || c.Lifetime != 0 {
			return bad("lifetime after MKI")
		}
		if c.Lifetime, err = parseLifetime(p); err != nil {
			return bad("%v", err)
		}
	}
	for _, sp := range f[3:] {
		if err := checkSessionParam(sp); err != nil {
			return bad("%v", err)
		}
	}
	return c, nil
}

// allDigits reports whether s is 1 to max ASCII digits.
func allDigits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decodeKey reads base64 with or without padding.
func decodeKey(s string) ([]byte, error) {
	if s == "" || len(s) > 128 {
		return nil, fmt.Errorf("bad key length")
	}
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// parseLifetime reads "2^31" or "1048576".
func parseLifetime(s string) (uint64, error) {
	var n uint64
	if e, ok := strings.CutPrefix(s, "2^"); ok {
		x, err := strconv.ParseUint(e, 10, 8)
		if err != nil || x > 48 || !allDigits(e, 2) {
			return 0, fmt.Errorf("lifetime %.20q", s)
		}
		n = 1 << x
	} else {
		x, err := strconv.ParseUint(s, 10, 64)
		if err != nil || !allDigits(s, 15) {
			return 0, fmt.Errorf("lifetime %.20q", s)
		}
		n = x
	}
	if n == 0 || n > maxKeyLifetime {
		return 0, fmt.Errorf("lifetime %.20q out of range", s)
	}
	return n, nil
}

// parseMKI reads "<value>:<length>".
func parseMKI(v, l string) (uint64, int, error) {
	if !allDigits(l, 3) {
		return 0, 0, fmt.Errorf("MKI length %.10q not 1-128", l)
	}
	n, _ := strconv.Atoi(l)
	if n < 1 || n > maxMKILen {
		return 0, 0, fmt.Errorf("MKI length %.10q not 1-128", l)
	}
	val, err := strconv.ParseUint(v, 10, 64)
	if err != nil || !allDigits(v, 20) {
		return 0, 0, fmt.Errorf("MKI value %.25q", v)
	}
	if n < 8 && val >= 1<<(8*n) {
		return 0, 0, fmt.Errorf("MKI value %d does not fit %d bytes", val, n)
	}
	return val, n, nil
}

// checkSessionParam accepts the session parameters that change nothing
// for us: KDR=0 (no key derivation rate, the default), WSH (a replay
// window hint) and optional ones ("-" prefix, RFC 4568 6.3.7). The rest
// (UNENCRYPTED_SRTP, UNAUTHENTICATED_SRTP, FEC, another KDR...) we do not
// implement, so the line is unusable.
func checkSessionParam(p string) error {
	name, val, _ := strings.Cut(p, "=")
	switch {
	case strings.HasPrefix(p, "-"):
		return nil
	case name == "KDR" && val == "0":
		return nil
	case name == "WSH":
		if n, err := strconv.Atoi(val); err == nil && n >= 64 {
			return nil
		}
		return fmt.Errorf("bad window size hint %.20q", val)
	}
	return fmt.Errorf("unsupported session parameter %.30q", p)
}

// chooseCrypto picks the first a=crypto line of an offer we can use. With
// none it returns ErrNoCommonCrypto naming the first few reasons.
func chooseCrypto(lines []string) (cryptoAttr, error) {
	if len(lines) == 0 {
		return cryptoAttr{}, fmt.Errorf("%w: RTP/SAVP without a=crypto (SDES); DTLS-SRTP is not supported on SIP calls", ErrNoCommonCrypto)
	}
	var reasons []string
	for i, l := range lines {
		if i == maxCryptoLines {
			break
		}
		c, err := parseCrypto(l)
		if err == nil {
			return c, nil
		}
		if len(reasons) < maxCryptoReason {
			reasons = append(reasons, err.Error())
		}
	}
	return cryptoAttr{}, fmt.Errorf("%w: %s", ErrNoCommonCrypto, strings.Join(reasons, "; "))
}

// newCrypto makes our side of a suite: a fresh random key, no MKI.
func newCrypto(tag int, suite string) (cryptoAttr, error) {
	n, ok := media.SRTPKeyLen(suite)
	if !ok {
		return cryptoAttr{}, fmt.Errorf("%w: unsupported suite %q", ErrNoCommonCrypto, suite)
	}
	key := make([]byte, n)
	if _, err := rand.Read(key); err != nil {
		return cryptoAttr{}, fmt.Errorf("srtp key: %w", err)
	}
	return cryptoAttr{Tag: tag, Suite: suite, Key: key}, nil
}

// sdesState is a call's SDES-SRTP keying: our crypto attribute (the key we
// encrypt with, under the negotiated tag and suite) and the peer's. It is
// a value; a re-INVITE makes a new one.
type sdesState struct {
	Profile string // "RTP/SAVP" or "RTP/SAVPF", as negotiated
	Local   cryptoAttr
	Remote  cryptoAttr
}

// keys is the state for media.RTPLeg.
func (s *sdesState) keys() *media.SRTPKeys {
	return &media.SRTPKeys{Suite: s.Local.Suite, LocalKey: s.Local.Key, RemoteKey: s.Remote.Key,
		LocalMKI: s.Local.mki(), RemoteMKI: s.Remote.mki()}
}

// sdp is what buildSDPSec writes for it: the profile and our one line.
func (s *sdesState) sdp() sdpSec {
	if s == nil {
		return sdpSec{}
	}
	return sdpSec{profile: s.Profile, crypto: []string{s.Local.String()}}
}

// answerOffer answers an offer's crypto: the first usable line, with our
// key under its tag. An offer in an SRTP call (re-INVITE) keeps our key
// while the suite stays the same (RFC 4568 7.1.4 allows it); cur is nil
// for a new call.
func answerOffer(cur *sdesState, m *sdpMedia) (*sdesState, error) {
	remote, err := chooseCrypto(m.Crypto)
	if err != nil {
		return nil, err
	}
	var local cryptoAttr
	if cur != nil && cur.Local.Suite == remote.Suite {
		local = cur.Local
		local.Tag = remote.Tag
	} else if local, err = newCrypto(remote.Tag, remote.Suite); err != nil {
		return nil, err
	}
	return &sdesState{Profile: m.Profile, Local: local, Remote: remote}, nil
}

// takeAnswer reads the crypto of an answer to our offer, whose lines are
// offered (our keys by tag): the answer must accept one of them with the
// same suite and give its own key.
func takeAnswer(offered []cryptoAttr, m *sdpMedia) (*sdesState, error) {
	if !m.Secure {
		return nil, fmt.Errorf("%w: we offered %s, the answer is %s", ErrMediaSecurity, profileSAVP, m.Profile)
	}
	if len(m.Crypto) == 0 {
		return nil, fmt.Errorf("%w: the answer has no a=crypto", ErrNoCommonCrypto)
	}
	remote, err := parseCrypto(m.Crypto[0])
	if err != nil {
		return nil, fmt.Errorf("%w: answer: %w", ErrNoCommonCrypto, err)
	}
	for _, o := range offered {
		if o.Tag == remote.Tag {
			if o.Suite != remote.Suite {
				return nil, fmt.Errorf("%w: answer changes tag %d from %s to %s", ErrNoCommonCrypto, o.Tag, o.Suite, remote.Suite)
			}
			return &sdesState{Profile: m.Profile, Local: o, Remote: remote}, nil
		}
	}
	return nil, fmt.Errorf("%w: answer names tag %d, which we did not offer", ErrNoCommonCrypto, remote.Tag)
}

// reoffer takes a peer's new description of an SRTP or plain call: a
// plain call stays plain and an SRTP call stays SRTP (no downgrade). For
// an offer it returns our answer's state; for an answer to our own offer
// (cur's line) the peer's possibly new key. The result is cur when
// nothing changed.
func reoffer(cur *sdesState, m *sdpMedia, isAnswer bool) (*sdesState, error) {
	switch {
	case cur == nil && !m.Secure:
		return nil, nil
	case cur == nil:
		return nil, fmt.Errorf("%w: cannot switch a plain RTP call to %s", ErrMediaSecurity, m.Profile)
	case !m.Secure:
		return nil, fmt.Errorf("%w: the call uses SRTP; %s would send it in clear", ErrMediaSecurity, m.Profile)
	}
	var next *sdesState
	var err error
	if isAnswer {
		next, err = takeAnswer([]cryptoAttr{cur.Local}, m)
	} else {
		next, err = answerOffer(cur, m)
	}
	if err != nil {
		return nil, err
	}
	if next.Local.Suite == cur.Local.Suite && bytes.Equal(next.Local.Key, cur.Local.Key) && next.Local.Tag == cur.Local.Tag &&
		bytes.Equal(next.Remote.Key, cur.Remote.Key) && bytes.Equal(next.Remote.mki(), cur.Remote.mki()) && next.Profile == cur.Profile {
		return cur, nil
	}
	return next, nil
}

// sdesOffer is the crypto of our own offer: one line per suite we run, in
// our order of preference, each with its own key.
func sdesOffer() ([]cryptoAttr, error) {
	var out []cryptoAttr
	for i, s := range media.SRTPSuites {
		c, err := newCrypto(i+1, s)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func offerSec(offered []cryptoAttr) sdpSec {
	if len(offered) == 0 {
		return sdpSec{}
	}
	sec := sdpSec{profile: profileSAVP}
	for _, c := range offered {
		sec.crypto = append(sec.crypto, c.String())
	}
	return sec
}

// secureTransport reports whether req reached us over TLS (SIP over TLS
// or secure WebSocket): what decides whether SDES keys were kept secret on
// the last hop.
func secureTransport(req *sipmsg.Request) bool {
	switch strings.ToUpper(req.Transport()) {
	case "TLS", "WSS":
		return true
	}
	return false
}

// mediaSecurity applies the server's SRTP policy to a new call's offer:
// RTP/SAVP gets SRTP when it came over TLS (or Config.AllowSDESWithoutTLS),
// plain RTP/AVP is taken unless it came over TLS with
// Config.RequireSRTPOnTLS. It returns nil for a plain call.
func (s *Server) mediaSecurity(req *sipmsg.Request, m *sdpMedia) (*sdesState, error) {
	tls := secureTransport(req)
	if !m.Secure {
		if tls && s.cfg.RequireSRTPOnTLS {
			return nil, fmt.Errorf("%w: SRTP (RTP/SAVP with a=crypto) is required on TLS, the offer is %s", ErrMediaSecurity, m.Profile)
		}
		return nil, nil
	}
	if !tls && !s.cfg.AllowSDESWithoutTLS {
		return nil, fmt.Errorf("%w: SDES keys over %s travel in clear text; call over TLS (sips) or offer RTP/AVP", ErrMediaSecurity, strings.ToLower(req.Transport()))
	}
	return answerOffer(nil, m)
}
