// The story of the package.
//
// Every leg (RTPLeg for SIP peers, WebRTCLeg for browsers) has the same two
// halves, shared between leg kinds:
//
//   - inbound: the network reader checks an RTP packet (payload type),
//     updates the RFC 3550 receive statistics and puts it into an adaptive
//     jitter buffer (jitter.go). The leg's 20 ms clock plays the buffer out:
//     it reorders by sequence number, waits a target delay that follows the
//     measured delay variation (20-200 ms), conceals what is missing (Opus
//     FEC/PLC; pitch repetition with fade for G.711/G.722), counts what comes
//     too late, decodes to 16 kHz and offers one frame per tick on Frames()
//     without ever blocking (a full channel drops and counts). RFC 4733
//     telephone-events become one rune per key press on DTMF(); without
//     telephone-event, Goertzel detection finds keypad tones in the audio.
//   - sender: WriteFrame copies the frame into a 3-frame queue; a 20 ms
//     ticker takes one frame per tick, encodes it and writes an RTP packet.
//     The queue being short is what paces players in real time. When the
//     queue is empty the sender sends nothing (no comfort noise) but keeps
//     the RTP clock running, and the next talkspurt starts with the marker
//     bit. Outbound DTMF (SendDTMF) takes the place of audio for its ticks.
//
// Readers (RTPLeg, rxloop_linux.go, udpsock.go): an RTP leg's sockets are
// not in Go's network poller. One reader goroutine per CPU waits on an
// epoll set of many legs' sockets and takes up to 8 waiting packets per
// recvmmsg from each ready one; a relayed leg's packet is forwarded (and,
// for G.711 nobody transcribes, recorded) right there, so a packet costs a
// read, a send and no goroutine wake-up, as in an RTP proxy.
//
// RTCP (RTPLeg): the same clock sends SR/RR with SDES every ~5 s on rtcp-mux
// or the port above RTP; reports from the far end give round-trip time and
// its view of our stream. Quality folds it all into loss, jitter, RTT and a
// G.107 E-model MOS.
//
// SRTP (RTPLeg, srtp.go): with SDES keys from SIP (StartOptions.SRTP,
// SetSRTP for a rekey) the leg encrypts RTP and RTCP in place with
// pion/srtp and authenticates what it receives (128-packet replay window);
// what fails is dropped and counted in Stats.SRTPDropped. WebRTC legs get
// theirs from DTLS-SRTP inside pion/webrtc.
//
// Codecs: G.711 µ-law/A-law (sub-package g711) with a 63-tap FIR for the
// 16k↔8k conversion, G.722 via libspandsp (sub-package g722; 16 kHz audio on
// an 8 kHz RTP clock), and Opus via libopus (hraban/opus) run at 16 kHz with
// a 48 kHz RTP clock. Resample converts any other rate (TTS output, WAV files).
//
// Recorder writes a stereo WAV (caller left, agent right; 16-bit PCM, or the
// call's own G.711 for a G.711 caller) that stays valid if the process
// dies: the header is rewritten every second of audio. Its own goroutine
// writes the file; when the disk falls behind, audio becomes silence of
// the same length rather than holding up a reader.
package media
