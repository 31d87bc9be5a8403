package sip

import "errors"

// Sentinel errors. Callers match them with errors.Is.
var (
	// ErrRemoteHangup is the cause of a call context cancelled because the
	// far end sent BYE.
	ErrRemoteHangup = errors.New("remote hung up")
	// ErrServerClosed is the cause of a call context cancelled because the
	// server is shutting down.
	ErrServerClosed = errors.New("sip server closed")
	// ErrBadSDP means a session description could not be read.
	ErrBadSDP = errors.New("bad sdp")
	// ErrNoCommonCodec means the peer offered no audio codec we speak.
	ErrNoCommonCodec = errors.New("no common codec")
	// ErrNoCommonCrypto means an RTP/SAVP offer (or answer) had no
	// a=crypto line we can use: unknown suites, garbage, a key of the
	// wrong length, session parameters we do not implement.
	ErrNoCommonCrypto = errors.New("no usable srtp crypto")
	// ErrMediaSecurity means the offer's media security breaks policy:
	// SDES keys over a transport without TLS, plain RTP where SRTP is
	// required, or a re-INVITE switching between RTP and SRTP.
	ErrMediaSecurity = errors.New("media security policy")
	// ErrRejected means the callee answered the INVITE with a final non-2xx
	// response; the error text carries the status.
	ErrRejected = errors.New("call rejected")
	// ErrNoDTMF means telephone-event was not negotiated for the call.
	ErrNoDTMF = errors.New("telephone-event not negotiated")
	// ErrBadConfig means a Config or DialConfig field is invalid.
	ErrBadConfig = errors.New("bad sip config")
)

// ErrNotRunning means a Server method needs Run to have started.
var ErrNotRunning = errors.New("sip server not running")

// Causes of a call ended by the server's own watchdogs; they are the
// context cause seen by Handler.ServeCall.
var (
	// ErrMediaTimeout means the caller sent no RTP for Config.RTPTimeout
	// while not on hold.
	ErrMediaTimeout = errors.New("no media from caller")
	// ErrSessionExpired means an RFC 4028 session timer ran out without a
	// refresh.
	ErrSessionExpired = errors.New("session timer expired")
)
