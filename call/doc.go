// Package call owns one contact's life. A Manager turns each inbound SIP
// call into a Call whose goroutine runs it to the end: IVR (ivr.Run with the
// Call as its Session), queueing (routing), the bridge to the agent's WebRTC
// leg, and the post-call pipeline (transcript → ticket → QA evaluation).
//
// Only the owner goroutine changes a Call's state. HTTP handlers (an agent
// answering or hanging up) and the SIP layer (a BYE) only signal it, through
// channels and the call's context.
//
// Audio flows through a per-call mixer goroutine, started and stopped by the
// owner: it reads both legs' frames, writes the stereo recording, feeds one
// ASR stream per channel, and forwards audio across the bridge.
//
// Live call control (control.go) reaches the owner the same way: hold
// (hold.go), keys to the caller's line (dtmf.go), consultative transfer
// (consult.go) and supervisors listening, whispering or barging
// (supervise.go) are ops the bridge loop runs. What they change in the
// audio lives in the mixer's extension (mixbus.go), which exists only
// while one of them is on: a plain call keeps the direct two-party path.
package call
