package media

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// SRTP crypto suites an RTPLeg runs, by their SDP names (RFC 4568, RFC 7714).
const (
	SRTPAES128SHA1_80 = "AES_CM_128_HMAC_SHA1_80"
	SRTPAES128SHA1_32 = "AES_CM_128_HMAC_SHA1_32"
	SRTPAEADAES128GCM = "AEAD_AES_128_GCM"
)

// SRTPSuites are the suites RTPLeg supports, in our order of preference.
var SRTPSuites = []string{SRTPAES128SHA1_80, SRTPAES128SHA1_32, SRTPAEADAES128GCM}

// srtpOverhead is the most SRTP adds to a packet: a 16-byte GCM tag
// (HMAC-SHA1 tags are 4 or 10), the 4-byte SRTCP index and an MKI of up
// to 128 bytes (RFC 4568's limit).
const srtpOverhead = 16 + 4 + 128

// srtpReplayWindow is the replay window for SRTP and SRTCP (RFC 3711
// asks for at least 64).
const srtpReplayWindow = 128

var srtpProfiles = map[string]srtp.ProtectionProfile{
	SRTPAES128SHA1_80: srtp.ProtectionProfileAes128CmHmacSha1_80,
	SRTPAES128SHA1_32: srtp.ProtectionProfileAes128CmHmacSha1_32,
	SRTPAEADAES128GCM: srtp.ProtectionProfileAeadAes128Gcm,
}

// SRTPKeyLen is the length of suite's master key plus master salt, the
// bytes an SDES "inline:" key carries; false for a suite we do not run.
func SRTPKeyLen(suite string) (int, bool) {
	p, ok := srtpProfiles[suite]
	if !ok {
		return 0, false
	}
	k, err := p.KeyLen()
	if err != nil {
		return 0, false
	}
	s, err := p.SaltLen()
	if err != nil {
		return 0, false
	}
	return k + s, true
}

// SRTPKeys is an RTPLeg's SRTP keying, as SDES (RFC 4568) sets it up: each
// side encrypts what it sends with its own master key and salt.
type SRTPKeys struct {
	// Suite is one of SRTPSuites.
	Suite string
	// LocalKey is the master key || master salt we encrypt with (the one
	// in our SDP); RemoteKey the far end's (in its SDP).
	LocalKey, RemoteKey []byte
	// LocalMKI and RemoteMKI are the master key identifiers carried in
	// each packet, nil when none was negotiated.
	LocalMKI, RemoteMKI []byte
}

func (k SRTPKeys) check() (srtp.ProtectionProfile, error) {
	p, ok := srtpProfiles[k.Suite]
	if !ok {
		return 0, fmt.Errorf("%w: unsupported suite %q", ErrSRTP, k.Suite)
	}
	n, _ := SRTPKeyLen(k.Suite)
	if len(k.LocalKey) != n || len(k.RemoteKey) != n {
		return 0, fmt.Errorf("%w: %s needs %d-byte keys, got %d and %d", ErrSRTP, k.Suite, n, len(k.LocalKey), len(k.RemoteKey))
	}
	return p, nil
}

// srtpSession encrypts what an RTPLeg sends and decrypts what it receives.
// A pion srtp.Context is not safe for concurrent use: enc is used by the
// sender goroutine (RTP and RTCP), dec by the two read loops, each under
// its own mutex. on is set once keys are in place and never cleared.
type srtpSession struct {
	on atomic.Bool

	encMu   sync.Mutex
	enc     *srtp.Context
	encKey  srtpKey
	encHdr  rtp.Header
	rtcpHdr rtcp.Header
	rtcpBuf []byte // encrypted RTCP (sender goroutine)

	decMu      sync.Mutex
	dec        *srtp.Context
	decKey     srtpKey
	decHdr     rtp.Header
	decRTCPHdr rtcp.Header
	lastSSRC   uint32 // the far end's SSRC, to carry its ROC over a rekey
	haveSSRC   bool
}

// srtpKey is one direction's keying.
type srtpKey struct {
	suite    string
	key, mki []byte
}

func (a srtpKey) equal(b srtpKey) bool {
	return a.suite == b.suite && bytes.Equal(a.key, b.key) && bytes.Equal(a.mki, b.mki)
}

// set installs keys; a direction whose key did not change keeps its
// context, so that a re-INVITE repeating the keys loses no state. A new key
// keeps the stream's rollover counter and SRTCP index (RFC 3711 3.3.1).
func (s *srtpSession) set(k SRTPKeys, ourSSRC uint32) error {
	p, err := k.check()
	if err != nil {
		return err
	}
	local := srtpKey{k.Suite, bytes.Clone(k.LocalKey), bytes.Clone(k.LocalMKI)}
	remote := srtpKey{k.Suite, bytes.Clone(k.RemoteKey), bytes.Clone(k.RemoteMKI)}
	s.encMu.Lock()
	if s.enc == nil || !s.encKey.equal(local) {
		enc, err := newSRTPContext(p, local.key, local.mki)
		if err != nil {
			s.encMu.Unlock()
			return err
		}
		carryState(s.enc, enc, ourSSRC)
		s.enc, s.encKey = enc, local
		if s.rtcpBuf == nil {
			s.rtcpBuf = make([]byte, 0, 1500)
		}
	}
	s.encMu.Unlock()

	s.decMu.Lock()
	if s.dec == nil || !s.decKey.equal(remote) {
		dec, err := newSRTPContext(p, remote.key, remote.mki,
			srtp.SRTPReplayProtection(srtpReplayWindow), srtp.SRTCPReplayProtection(srtpReplayWindow))
		if err != nil {
			s.decMu.Unlock()
			return err
		}
		if s.haveSSRC {
			carryState(s.dec, dec, s.lastSSRC)
		}
		s.dec, s.decKey = dec, remote
	}
	s.decMu.Unlock()
	s.on.Store(true)
	return nil
}

func newSRTPContext(p srtp.ProtectionProfile, keySalt, mki []byte, opts ...srtp.ContextOption) (*srtp.Context, error) {
	kl, err := p.KeyLen()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSRTP, err)
	}
	if len(mki) > 0 {
		opts = append(opts, srtp.MasterKeyIndicator(mki))
	}
	c, err := srtp.CreateContext(keySalt[:kl], keySalt[kl:], p, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSRTP, err)
	}
	return c, nil
}

// carryState copies the rollover counter and SRTCP index of ssrc from old
// (nil: nothing to carry) to new.
func carryState(old, new *srtp.Context, ssrc uint32) {
	if old == nil {
		return
	}
	if roc, found := old.ROC(ssrc); found {
		new.SetROC(ssrc, roc)
	}
	if idx, found := old.Index(ssrc); found {
		new.SetIndex(ssrc, idx)
	}
}

// encryptRTP encrypts the marshalled packet buf[:n] in place; buf must have
// room for the auth tag and MKI.
func (s *srtpSession) encryptRTP(buf []byte, n int) ([]byte, error) {
	s.encMu.Lock()
	defer s.encMu.Unlock()
	return s.enc.EncryptRTP(buf, buf[:n], &s.encHdr)
}

// encryptRTCP returns b encrypted in a buffer owned by the sender goroutine.
func (s *srtpSession) encryptRTCP(b []byte) ([]byte, error) {
	s.encMu.Lock()
	defer s.encMu.Unlock()
	out, err := s.enc.EncryptRTCP(s.rtcpBuf[:0], b, &s.rtcpHdr)
	if err == nil && cap(out) > cap(s.rtcpBuf) {
		s.rtcpBuf = out[:0]
	}
	return out, err
}

// decryptRTP authenticates and decrypts b in place and returns the plain
// packet.
func (s *srtpSession) decryptRTP(b []byte) ([]byte, error) {
	s.decMu.Lock()
	defer s.decMu.Unlock()
	out, err := s.dec.DecryptRTP(b, b, &s.decHdr)
	if err == nil {
		s.lastSSRC, s.haveSSRC = s.decHdr.SSRC, true
	}
	return out, err
}

// decryptRTCP authenticates and decrypts b in place.
func (s *srtpSession) decryptRTCP(b []byte) ([]byte, error) {
	s.decMu.Lock()
	defer s.decMu.Unlock()
	return s.dec.DecryptRTCP(b, b, &s.decRTCPHdr)
}

// ErrSRTP means SRTP keys could not be used.
var ErrSRTP = errors.New("media: srtp")

// SetSRTP turns on SRTP with keys, or changes them (a re-INVITE with a new
// key). It may be called before or after Start; once on, SRTP stays on.
func (l *RTPLeg) SetSRTP(k SRTPKeys) error {
	l.mu.Lock()
	ssrc := l.ssrc
	l.mu.Unlock()
	return l.srtp.set(k, ssrc)
}

// SRTP reports whether the leg encrypts its media.
func (l *RTPLeg) SRTP() bool { return l.srtp.on.Load() }
