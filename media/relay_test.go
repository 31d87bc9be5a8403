package media

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/media/g711"
	"github.com/pion/rtp"
)

// rtpPeer is a far end on loopback: it sends RTP packets with its own
// SSRC, sequence and timestamps, and keeps the RTP packets it receives.
type rtpPeer struct {
	conn *net.UDPConn
	// midSpurt: the peer's first packet has no marker bit (it was already
	// talking when bridged).
	midSpurt bool
	ssrc     uint32
	seq      uint16
	ts       uint32

	mu  sync.Mutex
	got []gotPacket
}

type gotPacket struct {
	at  time.Time
	pkt rtp.Packet
}

func newRTPPeer(t *testing.T, ssrc uint32, seq uint16, ts uint32) *rtpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPeer{conn: c, ssrc: ssrc, seq: seq, ts: ts}
	done := make(chan struct{})
	t.Cleanup(func() { c.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			if n < 12 || isRTCP(buf[:n]) {
				continue
			}
			var pkt rtp.Packet
			if pkt.Unmarshal(bytes.Clone(buf[:n])) != nil {
				continue
			}
			p.mu.Lock()
			p.got = append(p.got, gotPacket{time.Now(), pkt})
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *rtpPeer) addr() *net.UDPAddr { return p.conn.LocalAddr().(*net.UDPAddr) }

// send sends one packet to leg; audio packets advance the timestamp by
// 20 ms at 8 kHz afterwards, events do not (the caller moves p.ts).
func (p *rtpPeer) send(t *testing.T, leg *RTPLeg, pt uint8, payload []byte, marker bool) {
	t.Helper()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: p.seq, Timestamp: p.ts,
		SSRC: p.ssrc, Marker: marker}, Payload: payload}
	b, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDP(b, leg.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	p.seq++
}

// sendAudio sends n 20 ms PCMU packets paced in real time; packet i's
// payload is 160 bytes of tag+i.
func (p *rtpPeer) sendAudio(t *testing.T, leg *RTPLeg, n int, tag byte) {
	t.Helper()
	for i := range n {
		p.send(t, leg, PCMU.PayloadType, bytes.Repeat([]byte{tag + byte(i)}, 160), i == 0 && !p.midSpurt)
		p.ts += 160
		time.Sleep(FrameDuration)
	}
}

// received is a copy of what the peer got so far.
func (p *rtpPeer) received() []gotPacket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]gotPacket(nil), p.got...)
}

// waitFor waits until the peer has n packets.
func (p *rtpPeer) waitFor(t *testing.T, n int) []gotPacket {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := p.received()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("peer got %d packets, want %d", len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startLegTo starts a leg that sends to peer.
func startLegTo(t *testing.T, peer *rtpPeer, codec Codec, dtmfPT uint8, buffer int) *RTPLeg {
	t.Helper()
	l, err := NewRTPLeg(RTPConfig{IP: net.IPv4(127, 0, 0, 1), FrameBuffer: buffer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if err := l.StartWith(StartOptions{Remote: peer.addr(), Codec: codec, DTMFPT: dtmfPT}); err != nil {
		t.Fatal(err)
	}
	return l
}

// bridge relays a and b both ways.
func bridge(t *testing.T, a, b *RTPLeg) {
	t.Helper()
	if err := a.RelayTo(b); err != nil {
		t.Fatal(err)
	}
	if err := b.RelayTo(a); err != nil {
		t.Fatal(err)
	}
}

// checkOneStream checks that pkts are one stream with continuous sequence
// numbers and timestamps that never go back, and returns its SSRC.
func checkOneStream(t *testing.T, pkts []gotPacket) uint32 {
	t.Helper()
	ssrc := pkts[0].pkt.SSRC
	for i := 1; i < len(pkts); i++ {
		prev, cur := pkts[i-1].pkt, pkts[i].pkt
		if cur.SSRC != ssrc {
			t.Fatalf("packet %d: ssrc %08x, want %08x (one stream)", i, cur.SSRC, ssrc)
		}
		if cur.SequenceNumber != prev.SequenceNumber+1 {
			t.Fatalf("packet %d: seq %d after %d", i, cur.SequenceNumber, prev.SequenceNumber)
		}
		if d := int32(cur.Timestamp - prev.Timestamp); d < 0 || (d == 0 && cur.PayloadType == prev.PayloadType && cur.PayloadType == PCMU.PayloadType) {
			t.Fatalf("packet %d: timestamp %d after %d", i, cur.Timestamp, prev.Timestamp)
		}
	}
	return ssrc
}

// TestRelayOneStreamAcrossRebridge: the caller's side hears agent 1
// relayed, then audio the leg's own clock sends (as on hold), then agent 2
// relayed, as one stream: one SSRC, no sequence gap, timestamps that move
// on with the wall clock. The payloads arrive unchanged (no transcoding),
// each way.
func TestRelayOneStreamAcrossRebridge(t *testing.T) {
	caller := newRTPPeer(t, 0x11111111, 100, 1000)
	agent1 := newRTPPeer(t, 0x22222222, 60000, 4000000000)
	agent2 := newRTPPeer(t, 0x33333333, 7, 5)
	agent2.midSpurt = true
	a := startLegTo(t, caller, PCMU, 101, 0)
	b1 := startLegTo(t, agent1, PCMU, 101, 0)
	bridge(t, a, b1)
	if !a.Relaying() || !b1.Relaying() {
		t.Fatal("not relaying")
	}

	// Both ways at once on the first bridge.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); caller.sendAudio(t, a, 20, 0x40) }()
	agent1.sendAudio(t, b1, 20, 0x80)
	wg.Wait()
	up := agent1.waitFor(t, 20)
	for i, g := range up {
		if g.pkt.SSRC == caller.ssrc || !bytes.Equal(g.pkt.Payload, bytes.Repeat([]byte{0x40 + byte(i)}, 160)) {
			t.Fatalf("agent heard packet %d as ssrc %08x payload %x…, want the caller's payload on the leg's own ssrc",
				i, g.pkt.SSRC, g.pkt.Payload[:4])
		}
	}
	checkOneStream(t, up)
	first := caller.waitFor(t, 20)
	for i, g := range first {
		if !bytes.Equal(g.pkt.Payload, bytes.Repeat([]byte{0x80 + byte(i)}, 160)) {
			t.Fatalf("caller heard packet %d with payload %x…, want agent 1's unchanged", i, g.pkt.Payload[:4])
		}
	}
	if first[0].pkt.SSRC == agent1.ssrc {
		t.Fatal("the caller hears agent 1's ssrc: the stream would change at a re-bridge")
	}

	// The bridge ends; the leg's own clock plays five frames (music on
	// hold, a prompt) and its silence tail (silenceTail frames); then
	// agent 2 is bridged.
	if err := a.RelayTo(nil); err != nil {
		t.Fatal(err)
	}
	b1.Close()
	for range 5 {
		if err := a.WriteFrame(Tone(440, FrameDuration, SampleRate, 0.3)); err != nil {
			t.Fatal(err)
		}
	}
	own := 20 + 5 + silenceTail
	caller.waitFor(t, own)
	time.Sleep(100 * time.Millisecond)
	b2 := startLegTo(t, agent2, PCMU, 101, 0)
	bridge(t, a, b2)
	agent2.sendAudio(t, b2, 20, 0x10)
	all := caller.waitFor(t, own+20)
	silent := 0 // the tail: µ-law silence, so the far end does not conceal the cut-off tone
	for _, g := range all[20:own] {
		if bytes.Equal(g.pkt.Payload, bytes.Repeat([]byte{0xff}, 160)) {
			silent++
		}
	}
	if silent < 2 || !bytes.Equal(all[own-1].pkt.Payload, bytes.Repeat([]byte{0xff}, 160)) {
		t.Fatalf("%d silent packets among the leg's own, the last %x…; want the tone to end in silence", silent, all[own-1].pkt.Payload[:4])
	}
	if ssrc := checkOneStream(t, all); ssrc != first[0].pkt.SSRC {
		t.Fatalf("ssrc changed")
	}
	for i, g := range all[own:] {
		if !bytes.Equal(g.pkt.Payload, bytes.Repeat([]byte{0x10 + byte(i)}, 160)) {
			t.Fatalf("caller heard agent 2's packet %d as %x…", i, g.pkt.Payload[:4])
		}
	}
	// Where the source changed, the timestamps follow the wall clock (within
	// 40 ms: the machine may be busy) and the marker bit says so.
	for _, i := range []int{20, own} {
		wall := all[i].at.Sub(all[i-1].at)
		media := time.Duration(int32(all[i].pkt.Timestamp-all[i-1].pkt.Timestamp)) * time.Second / 8000
		if d := media - wall; d < -40*time.Millisecond || d > 40*time.Millisecond {
			t.Errorf("packet %d: timestamp moved %v over %v of wall time", i, media, wall)
		}
		if !all[i].pkt.Marker {
			t.Errorf("packet %d starts a new source without the marker bit", i)
		}
	}
	if st := a.Stats(); st.Relayed != 40 {
		t.Errorf("caller leg relayed %d packets, want 40: %+v", st.Relayed, st)
	}
}

// TestRelayTelephoneEvent: RFC 4733 events pass with the far end's payload
// type and their own timestamp, the source leg still reports the digit,
// and a far end that did not negotiate events does not get them, without
// a sequence gap.
func TestRelayTelephoneEvent(t *testing.T) {
	caller := newRTPPeer(t, 1, 1, 1)
	agent := newRTPPeer(t, 2, 2, 2)
	plain := newRTPPeer(t, 3, 3, 3)
	a := startLegTo(t, caller, PCMU, 101, 0)
	b := startLegTo(t, agent, PCMU, 96, 0)
	c := startLegTo(t, plain, PCMU, 0, 0) // no telephone-event
	bridge(t, a, b)

	sendKey := func() {
		caller.sendAudio(t, a, 3, 0x20)
		start := caller.ts
		for i, end := range []bool{false, false, true, true, true} {
			flags := byte(10)
			if end {
				flags |= 0x80
			}
			dur := uint16(160 * min(i+1, 3))
			caller.send(t, a, 101, []byte{5, flags, byte(dur >> 8), byte(dur)}, i == 0)
			time.Sleep(FrameDuration)
		}
		caller.ts = start + 480
		caller.sendAudio(t, a, 3, 0x30)
	}
	sendKey()
	got := agent.waitFor(t, 11)
	checkOneStream(t, got)
	var events int
	for _, g := range got {
		if g.pkt.PayloadType == 96 {
			events++
			if g.pkt.Payload[0] != 5 || g.pkt.Timestamp != got[3].pkt.Timestamp {
				t.Fatalf("event packet %x at ts %d, want key 5 at %d", g.pkt.Payload, g.pkt.Timestamp, got[3].pkt.Timestamp)
			}
		} else if g.pkt.PayloadType != PCMU.PayloadType {
			t.Fatalf("payload type %d", g.pkt.PayloadType)
		}
	}
	if events != 5 {
		t.Fatalf("%d event packets passed, want 5", events)
	}
	select {
	case d := <-a.DTMF():
		if d != '5' {
			t.Fatalf("digit %q", d)
		}
	case <-time.After(time.Second):
		t.Fatal("the relaying leg did not report the digit")
	}

	// The same to a far end without telephone-event.
	if err := a.RelayTo(c); err != nil {
		t.Fatal(err)
	}
	sendKey()
	got = plain.waitFor(t, 6)
	time.Sleep(100 * time.Millisecond)
	if got = plain.received(); len(got) != 6 {
		t.Fatalf("%d packets, want the 6 audio packets only", len(got))
	}
	checkOneStream(t, got)
	if st := c.Stats(); st.RelayDropped != 5 {
		t.Fatalf("relay dropped %d, want the 5 events: %+v", st.RelayDropped, st)
	}
}

// TestRelayNeedsSameCodec: different codecs, a leg that is not RTP, or a
// leg not started cannot be relayed, and a failed RelayTo changes nothing.
func TestRelayNeedsSameCodec(t *testing.T) {
	p := newRTPPeer(t, 1, 1, 1)
	a := startLegTo(t, p, PCMU, 101, 0)
	b := startLegTo(t, p, PCMA, 101, 0)
	g := startLegTo(t, p, G722, 101, 0)
	if err := a.RelayTo(b); !errors.Is(err, ErrRelay) {
		t.Fatalf("PCMU to PCMA: %v", err)
	}
	if err := a.RelayTo(g); !errors.Is(err, ErrRelay) {
		t.Fatalf("PCMU to G722: %v", err)
	}
	if err := a.RelayTo(fakeLeg{}); !errors.Is(err, ErrRelay) {
		t.Fatalf("to a non-RTP leg: %v", err)
	}
	idle, err := NewRTPLeg(RTPConfig{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if err := a.RelayTo(idle); !errors.Is(err, ErrRelay) {
		t.Fatalf("to a leg not started: %v", err)
	}
	if err := a.RelayTo(a); !errors.Is(err, ErrRelay) {
		t.Fatalf("to itself: %v", err)
	}
	if a.Relaying() {
		t.Fatal("relaying after failures")
	}
	// Same codec under another payload type is fine.
	pcmu96 := PCMU
	pcmu96.PayloadType = 0
	if !SameCodec(PCMU, pcmu96) || SameCodec(PCMU, PCMA) || SameCodec(Codec{}, Codec{}) {
		t.Fatal("SameCodec")
	}
}

type fakeLeg struct{ Leg }

// TestRelayStalledReader: nobody reads the relaying leg's decoded frames
// (a recorder or recogniser stuck): the leg drops them, counted, and goes
// on forwarding every packet.
func TestRelayStalledReader(t *testing.T) {
	caller := newRTPPeer(t, 1, 1, 1)
	agent := newRTPPeer(t, 2, 2, 2)
	a := startLegTo(t, caller, PCMU, 101, 2) // Frames() holds two frames
	b := startLegTo(t, agent, PCMU, 101, 2)
	bridge(t, a, b)
	caller.sendAudio(t, a, 40, 0)
	got := agent.waitFor(t, 40)
	checkOneStream(t, got)
	if st := a.Stats(); st.FramesDropped == 0 {
		t.Fatalf("no frame dropped: the reader was not stalled? %+v", st)
	}
	// Reading again gets audio again.
	select {
	case <-a.Frames():
	case <-time.After(time.Second):
		t.Fatal("no frames")
	}
}

// wrappedLeg is how a desk phone's leg looks to the bridge: an RTPLeg
// embedded in a type of another package.
type wrappedLeg struct{ *RTPLeg }

// TestRelayToWrappedLeg: a leg that embeds an RTPLeg can be relayed to.
func TestRelayToWrappedLeg(t *testing.T) {
	caller, agent := newRTPPeer(t, 1, 1, 1), newRTPPeer(t, 2, 2, 2)
	a := startLegTo(t, caller, PCMU, 101, 0)
	b := wrappedLeg{startLegTo(t, agent, PCMU, 101, 0)}
	if err := a.RelayTo(b); err != nil {
		t.Fatal(err)
	}
	caller.sendAudio(t, a, 3, 0)
	agent.waitFor(t, 3)
}

// TestRelayBatchedPlayout: while relaying, the leg still plays out every
// frame for the recording, in bursts (its clock wakes every relayBatch),
// with what was sent in them; once the relay stops the 20 ms clock is back
// for the leg's own audio.
func TestRelayBatchedPlayout(t *testing.T) {
	caller, agent := newRTPPeer(t, 1, 1, 1), newRTPPeer(t, 2, 2, 2)
	a := startLegTo(t, caller, PCMU, 101, 0)
	b := startLegTo(t, agent, PCMU, 101, 0)
	bridge(t, a, b)
	tone := Tone(700, time.Second, 8000, 0.3)
	go func() {
		for i := range 50 {
			caller.send(t, a, PCMU.PayloadType, g711.EncodeUlaw(nil, tone[i*160:(i+1)*160]), i == 0)
			caller.ts += 160
			time.Sleep(FrameDuration)
		}
	}()
	var got []int16
	var at []time.Time
	deadline := time.After(5 * time.Second)
	for len(got) < 45*FrameSamples {
		select {
		case f := <-a.Frames():
			got = append(got, f...)
			at = append(at, time.Now())
		case <-deadline:
			t.Fatalf("%d frames played out", len(got)/FrameSamples)
		}
	}
	assertTone(t, got[5*FrameSamples:], SampleRate, 700)
	together := 0 // frames that came within 2 ms of the one before
	for i := 1; i < len(at); i++ {
		if at[i].Sub(at[i-1]) < 2*time.Millisecond {
			together++
		}
	}
	if together < len(at)/3 {
		t.Errorf("%d of %d frames came in a burst: the playout clock is not batched", together, len(at))
	}
	agent.waitFor(t, 50)

	// Off the relay, the leg's own audio goes out on the 20 ms clock.
	if err := a.RelayTo(nil); err != nil {
		t.Fatal(err)
	}
	before := len(caller.received())
	for range 10 {
		if err := a.WriteFrame(Tone(440, FrameDuration, SampleRate, 0.3)); err != nil {
			t.Fatal(err)
		}
	}
	got2 := caller.waitFor(t, before+10)[before:]
	if span := got2[9].at.Sub(got2[0].at); span < 120*time.Millisecond {
		t.Errorf("10 frames went out in %v: not paced at 20 ms", span)
	}
}

// TestRelayOwnKeyWhileRelaying: a key the leg sends itself (RFC 4733)
// while it relays goes out paced, relayed audio gives way to it, and the
// far end sees one stream.
func TestRelayOwnKeyWhileRelaying(t *testing.T) {
	caller, agent := newRTPPeer(t, 1, 1, 1), newRTPPeer(t, 2, 2, 2)
	a := startLegTo(t, caller, PCMU, 101, 0)
	b := startLegTo(t, agent, PCMU, 101, 0)
	bridge(t, a, b)
	done := make(chan error, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		done <- a.SendDTMF('7', 200*time.Millisecond)
	}()
	agent.sendAudio(t, b, 40, 0)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	got := caller.received()
	checkOneStream(t, got)
	var events []gotPacket
	for _, g := range got {
		if g.pkt.PayloadType == 101 {
			events = append(events, g)
		}
	}
	if len(events) != 12 { // 10 ticks of 20 ms and the end packet twice more
		t.Fatalf("%d event packets, want 12", len(events))
	}
	// Paced by the clock over the key's 200 ms, not sent in one burst (a
	// starved clock catches up in small bursts, so the span is checked,
	// which load only lengthens).
	if span := events[len(events)-3].at.Sub(events[0].at); span < 120*time.Millisecond {
		t.Errorf("the key's %d event packets came within %v: sent in a burst, not paced", len(events)-2, span)
	}
	if st := a.Stats(); st.RelayDropped == 0 || st.Relayed+st.RelayDropped != 40 {
		t.Errorf("relayed %d and dropped %d of 40 during the key, want some dropped", st.Relayed, st.RelayDropped)
	}
}

// TestRelaySRTP: a bridge between two SRTP legs with their own keys: each
// phone (an SRTP leg itself) hears the other through the relay, decrypted
// with the bridge leg's key and encrypted again with the other's.
func TestRelaySRTP(t *testing.T) {
	cfg := RTPConfig{IP: net.IPv4(127, 0, 0, 1)}
	leg := func() *RTPLeg {
		l, err := NewRTPLeg(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	phoneA, a, b, phoneB := leg(), leg(), leg(), leg()
	suite := SRTPAES128SHA1_80
	start := func(l, peer *RTPLeg, local, remote []byte) {
		if err := l.StartWith(StartOptions{Remote: peer.LocalAddr(), Codec: PCMU, DTMFPT: 101,
			SRTP: &SRTPKeys{Suite: suite, LocalKey: local, RemoteKey: remote}}); err != nil {
			t.Fatal(err)
		}
	}
	k1, k2, k3, k4 := randomKey(t, suite), randomKey(t, suite), randomKey(t, suite), randomKey(t, suite)
	start(phoneA, a, k1, k2)
	start(a, phoneA, k2, k1)
	start(b, phoneB, k3, k4)
	start(phoneB, b, k4, k3)
	if err := a.RelayTo(b); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() { _ = Play(ctx, phoneA, Tone(600, 800*time.Millisecond, SampleRate, 0.4)) }()
	got := collect(t, phoneB.Frames(), 30*FrameSamples, 3*time.Second)
	assertTone(t, got[5*FrameSamples:], SampleRate, 600)
	if st := phoneB.Stats(); st.SRTPDropped != 0 {
		t.Fatalf("phone B dropped %d SRTP packets", st.SRTPDropped)
	}
	if st := b.Stats(); st.Relayed < 30 {
		t.Fatalf("relayed %d", st.Relayed)
	}
}

// NativeFrames: a G.711 leg delivers 8 kHz frames, as decoded, until it is
// turned off again.
func TestNativeFrames(t *testing.T) {
	a, b := newLegPair(t, PCMU, 101) // telephone-event: no in-band detection, which needs 16 kHz
	b.NativeFrames(true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go Play(ctx, a, Tone(1000, 3*time.Second, SampleRate, 0.4))
	var narrow []int16
	deadline := time.After(4 * time.Second)
	for len(narrow) < 20*NarrowFrameSamples {
		select {
		case f := <-b.Frames():
			if len(f) != NarrowFrameSamples {
				t.Fatalf("a %d-sample frame with native frames on", len(f))
			}
			narrow = append(narrow, f...)
		case <-deadline:
			t.Fatalf("%d native samples before the deadline", len(narrow))
		}
	}
	assertTone(t, narrow[4*NarrowFrameSamples:], NarrowRate, 1000)
	b.NativeFrames(false)
	// At most a batch already played out may still be narrow.
	var wide []int16
	deadline = time.After(4 * time.Second)
	for len(wide) < 10*FrameSamples {
		select {
		case f := <-b.Frames():
			if len(f) == FrameSamples {
				wide = append(wide, f...)
			} else if len(wide) > 0 {
				t.Fatalf("a %d-sample frame after 16 kHz ones with native frames off", len(f))
			}
		case <-deadline:
			t.Fatalf("%d wide samples before the deadline", len(wide))
		}
	}
	assertTone(t, wide[2*FrameSamples:], SampleRate, 1000)
}

// RecordTo: a relayed G.711 leg hands its audio to the sink as each packet
// arrives, its bytes as they are, with silence for a lost packet and for a
// gap in the sender's timeline (at most directMaxGap), a repeated packet
// left out, nothing on Frames() meanwhile; the relay's end turns it off.
func TestRecordToAsItArrives(t *testing.T) {
	pa, pb := newRTPPeer(t, 0xa, 1000, 50000), newRTPPeer(t, 0xb, 0, 0)
	a, b := startLegTo(t, pa, PCMU, 101, 0), startLegTo(t, pb, PCMU, 101, 0)
	var mu sync.Mutex
	var got []byte
	sink := func(g711 []byte, alaw bool) {
		if alaw {
			t.Errorf("sink got A-law from a PCMU leg")
		}
		mu.Lock()
		got = append(got, g711...)
		mu.Unlock()
	}
	if err := a.RecordTo(sink); !errors.Is(err, ErrRelay) {
		t.Fatalf("RecordTo without the relay: %v", err)
	}
	bridge(t, a, b)
	if err := a.RecordTo(sink); err != nil {
		t.Fatal(err)
	}
	frame := func(v byte) []byte { return bytes.Repeat([]byte{v}, 160) }
	send := func(v byte) {
		pa.send(t, a, PCMU.PayloadType, frame(v), false)
		pa.ts += 160
		time.Sleep(FrameDuration)
	}
	for v := range byte(3) {
		send(0x10 + v)
	}
	pa.seq++ // lost
	pa.ts += 160
	send(0x20)
	pa.seq-- // the same packet again
	pa.ts -= 160
	send(0x20)
	pa.ts += 400 * 8 // silence suppressed for 400 ms
	send(0x30)
	pa.ssrc, pa.ts = 0xc, pa.ts-800 // a new source, its timeline 100 ms behind: its own
	send(0x50)
	pb.waitFor(t, 7)
	want := []struct {
		v byte // payload byte, 0xff (µ-law silence) for silence
		n int
	}{{0x10, 160}, {0x11, 160}, {0x12, 160}, {0xff, 160}, {0x20, 160}, {0xff, int(directMaxGap / time.Millisecond * 8)}, {0x30, 160}, {0x50, 160}}
	total := 0
	for _, w := range want {
		total += w.n
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	rec := slices.Clone(got)
	mu.Unlock()
	if len(rec) != total {
		t.Fatalf("recorded %d samples, want %d", len(rec), total)
	}
	off := 0
	for _, w := range want {
		for i := off; i < off+w.n; i++ {
			if rec[i] != w.v {
				t.Fatalf("byte %d is %#x, want %#x", i, rec[i], w.v)
			}
		}
		off += w.n
	}
	select {
	case f := <-a.Frames():
		t.Fatalf("a %d-sample frame played out while recording as it arrives", len(f))
	case <-time.After(300 * time.Millisecond):
	}
	// The relay's end: played out again.
	if err := a.RelayTo(nil); err != nil {
		t.Fatal(err)
	}
	for range 12 {
		send(0x40)
	}
	collect(t, a.Frames(), 3*FrameSamples, 2*time.Second)
}

// RecordTo is for G.711 only.
func TestRecordToNeedsG711(t *testing.T) {
	a, b := newLegPair(t, G722, 101)
	if err := a.RelayTo(b); err != nil {
		t.Fatal(err)
	}
	if err := a.RecordTo(func([]byte, bool) {}); !errors.Is(err, ErrRelay) {
		t.Fatalf("RecordTo on G.722: %v", err)
	}
}
