// Package sip is contactd's SIP signalling, built on emiago/sipgo.
//
// A Server listens on one address over UDP and TCP, answers OPTIONS, and
// turns each accepted INVITE into an InboundCall: it negotiates the codec
// from the SDP offer (our preference order: opus, PCMU, PCMA, plus RFC 4733
// telephone-event), opens an RTP leg from package media, answers 200 OK and
// waits for the ACK. The goroutine that handled the INVITE then owns the
// call: it runs Handler.ServeCall, whose context is cancelled with cause
// ErrRemoteHangup when the caller sends BYE (or ErrServerClosed on
// shutdown), and it sends BYE itself when ServeCall returns first. CANCEL
// before the answer ends the INVITE with 487; a full server (Config.MaxCalls)
// or a draining one answers 503 with Retry-After.
//
// Inside an answered call (dialog.go) re-INVITE and UPDATE offers are
// answered keeping the call's codec: sendonly, inactive or c=0.0.0.0 from
// the caller is hold (we answer recvonly/inactive), sendrecv resumes, a new
// address moves the RTP stream; InboundCall.Events reports hold, resume
// and SIP INFO digits (application/dtmf-relay, application/dtmf), and
// InboundCall.Hold puts the caller on hold with our own re-INVITE. A
// watchdog next to the handler polls the leg's packet counter once a
// second and ends a silent call (not on hold) with ErrMediaTimeout, and
// enforces RFC 4028 session timers (sessiontimer.go): 422 below
// Config.MinSE, Session-Expires in the 200, ErrSessionExpired when the
// caller's refresh does not come, re-INVITE refreshes when we refresh.
// Every request first passes the RFC 3261 8.2 checks (CSeq method, one
// Content-Length, Require: 420 for options we lack).
//
// Besides UDP and TCP the server listens, when configured, for SIP over
// TLS (Config.TLSAddr with PEM cert and key files) and SIP over WebSocket
// (Config.WSAddr, RFC 7118) for browser SIP clients (transport.go).
//
// Over TLS the media can be encrypted too (sdes.go): an INVITE that
// arrives over TLS offering RTP/SAVP (or RTP/SAVPF) with a=crypto lines
// (SDES, RFC 4568) is answered with the first offered suite we run
// (AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM)
// under its tag and a fresh key of our own, and the RTP leg encrypts and
// authenticates RTP and RTCP (packets that fail are dropped and counted
// in media.Stats.SRTPDropped). An offer whose crypto lines are all unusable
// (unknown suites, bad base64, a key of the wrong length, more than one
// key, session parameters such as UNENCRYPTED_SRTP or a non-zero KDR) gets 488 with
// Warning 306. The keys are only as secret as the signalling, so RTP/SAVP
// over UDP, TCP or plain WebSocket gets 488 with Warning 302 unless
// Config.AllowSDESWithoutTLS; Config.RequireSRTPOnTLS likewise refuses
// plain RTP/AVP over TLS (taken by default). Re-INVITEs keep the keys
// (hold, resume), take a new key the peer sends, and may not switch
// between RTP and SRTP. DialConfig.SRTP makes Dial, Server.Dial and
// CallOut offer SDES. a=crypto on plain RTP/AVP ("best effort") is
// ignored; DTLS-SRTP is for the WebRTC legs only.
//
// Dial is the other side: a small user agent that places one call with an
// SDP offer, ACKs the answer, starts its RTP leg and can send DTMF and BYE.
// contactd's "dial" sub-command and the end-to-end tests use it.
//
// With Config.Registrar on, agents' phones REGISTER with digest auth
// (SHA-256 and MD5, qop=auth, stateless HMAC-signed nonces). Known and
// unknown users get the same 401 and 403, so nobody can enumerate
// extensions. Bindings live in memory (Server.Contacts), with the address
// the REGISTER came from so that a phone behind NAT can be reached.
// Server.Dial calls such a phone from the server's own user agent. The
// guard (Config.Guard) drops everything from a source IP that floods us
// or fails authentication too often, before sipgo parses it.
//
// Trunks (trunk.go, Config.Trunks) are carriers and PBXs. An INVITE is
// theirs by source address (Trunk.Allow) or by digest credentials (401
// challenge, as for REGISTER); the dialled number goes through the trunk's
// DID table to InboundCall.Entry, the IVR entry to start in. With
// Config.RestrictInbound, INVITEs from nowhere known get 401/403; the
// default takes calls from anyone (demo, loopback tests). Server.CallOut
// places calls through a trunk's outbound URI, answering the carrier's
// 401/407 with the trunk's credentials, and only for a named requester
// and a number inside the trunk's prefixes (toll fraud: ErrNotPermitted).
//
// Transfers (refer.go): InboundCall.Refer asks the caller's phone to call
// someone else (REFER, then NOTIFY sipfrag until the target answers). A
// phone that transfers us (REFER on an inbound call, or on a desk-phone
// call placed by Server.Dial) is answered 202 and reported as EventRefer,
// whose Transfer takes the outcome back to the phone as NOTIFYs. An INVITE
// with Replaces (RFC 3891) naming one of our dialogs is the last step of
// an attended transfer: InboundCall.Replaces names the dialog to swap out;
// naming none gets 481.
//
// With Config.EarlyMedia the INVITE is answered 183 with SDP and the
// handler runs in early media; InboundCall.Answer sends the 200. SDP: G.722
// is understood as static payload type 9, a=rtcp-mux is answered when
// offered (and offered by our own INVITEs), a=ptime is read and we always
// send 20 ms.
//
// sipgo's own package is imported as sipmsg to keep the names apart.
package sip
