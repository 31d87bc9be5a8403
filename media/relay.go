package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pion/rtp"
)

// ErrRelay means two legs cannot be bridged packet for packet: one is not
// an RTP leg, one is not started, or their codecs differ. The bridge then
// decodes and re-encodes (Forward).
var ErrRelay = errors.New("media: legs cannot be relayed")

// relayLink is one direction of a relayed bridge, from the leg holding it
// to dst. A new link (a new bridge, or the same one turned on again)
// starts a new mapping of sequence numbers and timestamps.
type relayLink struct {
	dst     *RTPLeg
	audioPT uint8 // dst's payload type for the codec
	dtmfPT  uint8 // dst's telephone-event type
	dtmfOK  bool  // dst negotiated telephone-event
}

// RelayTo forwards every RTP packet l receives to dst as it arrives, the
// way an RTP proxy does: no jitter buffer, no decoding, no waiting for a
// clock tick. Each packet goes out on dst's own stream (dst's SSRC, its
// sequence numbers and timeline continued from whatever dst sent before,
// its payload types; header extensions and CSRCs are not carried over),
// so the far end sees one continuous stream across re-bridges, holds and
// transfers. Telephone-events pass through with dst's payload type, or are
// dropped when dst did not negotiate them. Packets are forwarded whatever
// their ptime.
//
// l still plays its audio out through its jitter buffer on Frames() for
// recording and speech recognition, in bursts of relayBatch (its clock
// then wakes less often; the buffer holds at least that much more); a
// slow reader there loses frames (counted) and never delays forwarding. The relay is one direction: a
// bridge calls it on both legs. A nil dst stops it. The legs must be
// started and speak the same codec (name, clock rate and channels), else
// it returns ErrRelay and nothing changes.
func (l *RTPLeg) RelayTo(dst Leg) error {
	if dst == nil {
		if l.relay.Swap(nil) != nil {
			_ = l.RecordTo(nil)
			l.in.setBatched(false)
			l.out.setBatch(false)
		}
		return nil
	}
	w, ok := dst.(rtpLegger)
	if !ok {
		return fmt.Errorf("%w: %T is not an RTP leg", ErrRelay, dst)
	}
	d := w.rtpLeg()
	if d == l {
		return fmt.Errorf("%w: a leg to itself", ErrRelay)
	}
	l.mu.Lock()
	srcStarted, src := l.started, l.codec
	l.mu.Unlock()
	d.mu.Lock()
	dstStarted, out := d.started, d.codec
	link := &relayLink{dst: d, audioPT: out.PayloadType, dtmfPT: d.out.dtmfPT, dtmfOK: d.out.hasDTMF}
	d.mu.Unlock()
	if !srcStarted || !dstStarted || l.closed.Load() || d.closed.Load() {
		return fmt.Errorf("%w: both legs must be started and open", ErrRelay)
	}
	if !SameCodec(src, out) {
		return fmt.Errorf("%w: %s/%d/%d and %s/%d/%d", ErrRelay, src.Name, src.ClockRate, src.Channels,
			out.Name, out.ClockRate, out.Channels)
	}
	if l.relay.Swap(link) == nil {
		l.in.setBatched(true)
		l.out.setBatch(true)
	}
	return nil
}

// RecordTo hands l's audio to sink as each packet arrives, its G.711
// bytes as they are (alaw: A-law, else µ-law), on the media reader,
// instead of playing it out on Frames(): for a relayed G.711 leg whose
// audio only goes to a recording (Recorder.Sink), the jitter buffer, the
// playout clock, decoding and a reader of Frames() then cost the call
// nothing (the clock wakes ten times less often, for RTCP and its own
// keys). Lost packets and gaps in the sender's timeline (silence
// suppression) become silence, at most directMaxGap each; late and
// repeated packets are left out. Frames() is quiet meanwhile. A nil sink
// goes back to playing out, as does the end of the relay. It needs the
// relay on (RelayTo) and G.711, else ErrRelay and nothing changes. sink
// must not keep the slice.
func (l *RTPLeg) RecordTo(sink func(g711 []byte, alaw bool)) error {
	if sink == nil {
		if l.in.directOn() {
			l.in.setDirect(nil, 0)
			l.out.setIdle(false)
		}
		return nil
	}
	if !l.Relaying() {
		return fmt.Errorf("%w: record as it arrives needs the relay on", ErrRelay)
	}
	l.mu.Lock()
	c := l.codec
	l.mu.Unlock()
	var law wavLaw
	switch {
	case strings.EqualFold(c.Name, "PCMU") && c.ClockRate == NarrowRate:
		law = lawUlaw
	case strings.EqualFold(c.Name, "PCMA") && c.ClockRate == NarrowRate:
		law = lawAlaw
	default:
		return fmt.Errorf("%w: record as it arrives is for G.711, not %s", ErrRelay, c.Name)
	}
	l.in.setDirect(sink, law)
	l.out.setIdle(true)
	return nil
}

// rtpLegger is an RTPLeg, or a type that embeds one (a desk phone's leg
// that also hangs the phone up).
type rtpLegger interface{ rtpLeg() *RTPLeg }

func (l *RTPLeg) rtpLeg() *RTPLeg { return l }

// Relaying reports whether l forwards its packets to a bridged leg.
func (l *RTPLeg) Relaying() bool { return l.relay.Load() != nil }

// SameCodec reports whether a and b carry the same audio format, so that
// one's payloads can be sent on the other unchanged (payload types may
// differ).
func SameCodec(a, b Codec) bool {
	return a.Name != "" && strings.EqualFold(a.Name, b.Name) && a.ClockRate == b.ClockRate && a.Channels == b.Channels
}

// relaySeqJump is how far a source's sequence number may move between two
// packets before the source counts as restarted (a new mapping).
const relaySeqJump = 200

// relayIn sends p, received by another leg at now, on l's stream. It runs
// on that leg's reader goroutine.
func (l *RTPLeg) relayIn(link *relayLink, p *rtp.Packet, event bool, now time.Time) {
	if l.closed.Load() {
		return // the bridge is being taken down
	}
	s := l.out
	pt := link.audioPT
	if event {
		pt = link.dtmfPT
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.dtmfBusy.Load() {
		// Our own key is on the wire (RFC 4733 events replace audio). The
		// clock owns the stream meanwhile; the next packet maps afresh.
		// (The clock sets dtmfBusy before it takes wmu to send.)
		l.stats.relayDropped.Add(1)
		return
	}
	st := &s.st
	ns := now.UnixNano()
	marker := p.Marker
	if st.link != link || !st.relayed || p.SSRC != st.inSSRC ||
		int16(p.SequenceNumber-st.maxIn) > relaySeqJump || int16(p.SequenceNumber-st.maxIn) < -relaySeqJump {
		// A new source, a restarted one, or the clock sent meanwhile:
		// continue the stream from where it stands.
		ts := st.nextTS(ns)
		st.link, st.inSSRC, st.maxIn = link, p.SSRC, p.SequenceNumber
		st.seqOff = s.pkt.SequenceNumber + 1 - p.SequenceNumber
		st.tsOff = ts - p.Timestamp
		st.relayed = true
		marker = true
	}
	if (event && !link.dtmfOK) || 12+len(p.Payload) > len(l.wbuf) {
		// Not for this far end (or too long to send): the far end would
		// see a gap in the sequence, so close it.
		st.seqOff--
		if int16(p.SequenceNumber-st.maxIn) > 0 {
			st.maxIn = p.SequenceNumber
		}
		l.stats.relayDropped.Add(1)
		return
	}
	seq := p.SequenceNumber + st.seqOff
	ts := p.Timestamp + st.tsOff
	b := l.wbuf[:12+len(p.Payload)]
	b[0] = 0x80 // version 2, no padding, extension or CSRCs
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], s.pkt.SSRC)
	copy(b[12:], p.Payload)
	if l.srtp.on.Load() {
		var err error
		if b, err = l.srtp.encryptRTP(l.wbuf, len(b)); err != nil {
			l.log.warn("media: srtp encrypt failed", "err", err)
			return
		}
	}
	if int16(p.SequenceNumber-st.maxIn) > 0 {
		st.maxIn = p.SequenceNumber
	}
	if int16(seq-s.pkt.SequenceNumber) > 0 {
		s.pkt.SequenceNumber = seq
	}
	if !event && (!st.sent || int32(ts-st.lastTS) > 0) {
		st.lastTS = ts
		st.refTS, st.refAt = ts, ns
	}
	st.sent = true
	if _, err := l.conn.writeTo(b, l.remote.Load()); err != nil {
		if !l.closed.Load() {
			l.log.warn("media: relay write failed", "err", err)
		}
		return
	}
	l.stats.relayed.Add(1)
	l.stats.packetsOut.Add(1)
	l.stats.bytesOut.Add(uint64(len(p.Payload)))
}
