// The story of the package.
//
// Every leg (RTPLeg for SIP peers, WebRTCLeg for browsers) has the same two
// halves, shared between leg kinds:
//
//   - inbound: an RTP packet is checked (payload type, sequence), decoded by
//     the negotiated codec to 16 kHz, cut into 20 ms frames and offered on
//     Frames() without ever blocking the network reader (a full channel drops
//     and counts). RFC 4733 telephone-events become one rune per key press on
//     DTMF().
//   - sender: WriteFrame copies the frame into a 3-frame queue; a 20 ms
//     ticker takes one frame per tick, encodes it and writes an RTP packet.
//     The queue being short is what paces players in real time. When the
//     queue is empty the sender sends nothing (no comfort noise) but keeps
//     the RTP clock running, and the next talkspurt starts with the marker
//     bit. Outbound DTMF (SendDTMF) takes the place of audio for its ticks.
//
// Codecs: G.711 µ-law/A-law (sub-package g711) with a 63-tap FIR for the
// 16k↔8k conversion, and Opus via libopus (hraban/opus) run at 16 kHz with a
// 48 kHz RTP clock. Resample converts any other rate (TTS output, WAV files).
//
// Recorder writes a stereo WAV (caller left, agent right) that stays valid if
// the process dies: the header is rewritten every second of audio.
package media
