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
// Dial is the other side: a small user agent that places one call with an
// SDP offer, ACKs the answer, starts its RTP leg and can send DTMF and BYE.
// contactd's "dial" sub-command and the end-to-end tests use it.
//
// sipgo's own package is imported as sipmsg to keep the names apart.
package sip
