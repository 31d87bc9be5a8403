package call

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/media/g711"
	"github.com/pion/rtp"
)

// sipPeer is a SIP phone's media on loopback: it sends 20 ms G.711
// packets from a signal and keeps the RTP it receives.
type sipPeer struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  []rtp.Packet
}

func newSIPPeer(t *testing.T) *sipPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &sipPeer{conn: c}
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
			var pkt rtp.Packet
			if n < 12 || buf[1] >= 192 && buf[1] <= 223 || pkt.Unmarshal(bytes.Clone(buf[:n])) != nil {
				continue // RTCP or garbage
			}
			p.mu.Lock()
			p.got = append(p.got, pkt)
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *sipPeer) received() []rtp.Packet {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]rtp.Packet(nil), p.got...)
}

func (p *sipPeer) waitFor(t *testing.T, n int) []rtp.Packet {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := p.received(); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("peer got %d packets, want %d", len(p.received()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// send sends payloads to leg as 20 ms packets (payload type pt), paced in
// real time.
func (p *sipPeer) send(t *testing.T, to *media.RTPLeg, pt uint8, payloads [][]byte) {
	t.Helper()
	ssrc, seq, ts := rand.Uint32(), uint16(rand.Uint32()), rand.Uint32()
	next := time.Now()
	for i, pl := range payloads {
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq + uint16(i),
			Timestamp: ts + uint32(160*i), SSRC: ssrc, Marker: i == 0}, Payload: pl}).Marshal()
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := p.conn.WriteToUDP(b, to.LocalAddr()); err != nil {
			t.Error(err)
			return
		}
		next = next.Add(media.FrameDuration)
		time.Sleep(time.Until(next))
	}
}

func startRTPLeg(t *testing.T, peer *sipPeer, codec media.Codec) *media.RTPLeg {
	t.Helper()
	l, err := media.NewRTPLeg(media.RTPConfig{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if err := l.StartWith(media.StartOptions{Remote: peer.conn.LocalAddr().(*net.UDPAddr), Codec: codec, DTMFPT: 101}); err != nil {
		t.Fatal(err)
	}
	return l
}

// noise is n samples of 8 kHz white noise at about -12 dBFS.
func noise(seed uint64, n int) []int16 {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(r.NormFloat64() * 6000)
	}
	return out
}

// packetize µ-law encodes 8 kHz pcm into 20 ms payloads.
func packetize(pcm []int16, alaw bool) [][]byte {
	var out [][]byte
	for i := 0; i+160 <= len(pcm); i += 160 {
		if alaw {
			out = append(out, g711.EncodeAlaw(nil, pcm[i:i+160]))
		} else {
			out = append(out, g711.EncodeUlaw(nil, pcm[i:i+160]))
		}
	}
	return out
}

// deskLeg wraps an RTP leg the way cmd/contactd's desk phone leg does.
type deskLeg struct{ *media.RTPLeg }

// runMixer runs m until the returned stop is called.
func runMixer(m *mixer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.run(ctx) }()
	return func() { cancel(); <-done }
}

func waitRelaying(t *testing.T, want bool, legs ...*media.RTPLeg) {
	t.Helper()
	waitFor(t, "the relay to turn on or off", func() bool {
		for _, l := range legs {
			if l.Relaying() != want {
				return false
			}
		}
		return true
	})
}

// matchFramesAt looks for the 20 ms frames of sent (8 kHz, as the far end
// decodes it; the first limit after the filters' start) in rec (at rate,
// 16 or 8 kHz), in order: a frame is found where its normalised
// correlation is over 0.9, after the previous one found. It returns how
// many were found.
func matchFramesAt(t *testing.T, rec []int16, rate int, sent []int16, limit int) int {
	t.Helper()
	want := sent
	if rate != 8000 {
		want = media.Resample(sent, 8000, rate)
	}
	frame := rate / 50
	found, pos := 0, 0
	for k := 2; (k+1)*frame <= len(want) && k < limit+2; k++ { // the first frames hold the filters' start
		ref := want[k*frame : (k+1)*frame]
		var rr float64
		for _, v := range ref {
			rr += float64(v) * float64(v)
		}
		best, bestAt := 0.0, -1
		// The first frame may come after the jitter buffer's delay; each
		// next one right after the last, give or take a frame the buffer
		// skipped or concealed.
		lo, hi := pos, pos+30*frame
		if found > 0 {
			lo, hi = max(0, pos-frame), pos+3*frame
		}
		for at := lo; at+frame <= len(rec) && at < hi; at++ {
			var xy, yy float64
			for i, v := range ref {
				y := float64(rec[at+i])
				xy += float64(v) * y
				yy += y * y
			}
			if yy > 0 {
				if c := xy / math.Sqrt(rr*yy); c > best {
					best, bestAt = c, at
				}
			}
		}
		if best > 0.9 {
			found++
			pos = bestAt + frame
		}
	}
	return found
}

// channel is one channel of a stereo recording.
func channel(pcm []int16, ch int) []int16 {
	out := make([]int16, 0, len(pcm)/2)
	for i := ch; i < len(pcm); i += 2 {
		out = append(out, pcm[i])
	}
	return out
}

// TestMixerRelaysAndRecords: a SIP-to-SIP G.711 bridge is relayed packet
// for packet (each phone gets the other's payloads unchanged), and the
// recording still holds both sides, frame by frame as they were sent.
//
// A G.711 call is recorded at 8 kHz (as the legs decode it, not upsampled:
// NativeFrames); at 16 kHz (the recorder upsamples) it holds the same.
func TestMixerRelaysAndRecords(t *testing.T) {
	for _, recRate := range []int{media.NarrowRate, media.SampleRate} {
		t.Run(fmt.Sprint(recRate), func(t *testing.T) { testMixerRelaysAndRecords(t, recRate) })
	}
}

func testMixerRelaysAndRecords(t *testing.T, recRate int) {
	callerPhone, agentPhone := newSIPPeer(t), newSIPPeer(t)
	caller := startRTPLeg(t, callerPhone, media.PCMU)
	agent := startRTPLeg(t, agentPhone, media.PCMU)
	path := filepath.Join(t.TempDir(), "call.wav")
	rec, err := media.NewRecorderRate(path, recRate)
	if err != nil {
		t.Fatal(err)
	}
	m := newMixer(caller, rec, nil)
	stop := runMixer(m)
	m.setAgent(deskLeg{agent}, nil) // as cmd/contactd hands over a desk phone
	waitRelaying(t, true, caller, agent)

	const n = 60 // 1.2 s each way
	callerSays, agentSays := noise(1, n*160), noise(2, n*160)
	up, down := packetize(callerSays, false), packetize(agentSays, false)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); callerPhone.send(t, caller, 0, up) }()
	agentPhone.send(t, agent, 0, down)
	wg.Wait()
	heardByAgent, heardByCaller := agentPhone.waitFor(t, n), callerPhone.waitFor(t, n)
	for i := range n {
		if !bytes.Equal(heardByAgent[i].Payload, up[i]) || !bytes.Equal(heardByCaller[i].Payload, down[i]) {
			t.Fatalf("packet %d changed on its way: relayed payloads must arrive as sent", i)
		}
	}
	time.Sleep(200 * time.Millisecond) // the legs' jitter buffers play out the tail
	stop()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if m.relays != 1 {
		t.Fatalf("%d relayed bridges, want 1", m.relays)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, rate, chans, err := media.ReadWAV(f)
	if err != nil || rate != recRate || chans != 2 {
		t.Fatalf("recording: %v, %d Hz, %d channels", err, rate, chans)
	}
	// As each phone decodes what the other sent.
	decode := func(p [][]byte) []int16 {
		var out []int16
		for _, b := range p {
			out = g711.DecodeUlaw(out, b)
		}
		return out
	}
	frames := n - 2
	for ch, sent := range [][]int16{decode(up), decode(down)} {
		got := matchFramesAt(t, channel(pcm, ch), rate, sent, frames)
		if got < frames*95/100 {
			t.Errorf("channel %d: %d of %d frames sent are in the recording", ch, got, frames)
		}
	}
	// And not the other side's audio in the wrong channel.
	if got := matchFramesAt(t, channel(pcm, 0), rate, decode(down), 10); got > 1 {
		t.Errorf("the agent's audio is in the caller's channel (%d frames)", got)
	}
}

// TestMixerCodecMismatchTranscodes: PCMU caller, PCMA agent: no relay;
// the mixer decodes and the agent's phone gets A-law carrying the
// caller's tone.
func TestMixerCodecMismatchTranscodes(t *testing.T) {
	callerPhone, agentPhone := newSIPPeer(t), newSIPPeer(t)
	caller := startRTPLeg(t, callerPhone, media.PCMU)
	agent := startRTPLeg(t, agentPhone, media.PCMA)
	m := newMixer(caller, nil, nil)
	stop := runMixer(m)
	defer stop()
	m.setAgent(agent, nil)
	callerPhone.send(t, caller, 0, packetize(media.Tone(1000, time.Second, 8000, 0.3), false))
	got := agentPhone.waitFor(t, 30)
	var pcm []int16
	for _, p := range got {
		if p.PayloadType != media.PCMA.PayloadType {
			t.Fatalf("payload type %d, want PCMA", p.PayloadType)
		}
		pcm = g711.DecodeAlaw(pcm, p.Payload)
	}
	if tone, other := media.Goertzel(pcm, 8000, 1000), media.Goertzel(pcm, 8000, 1700); tone < 100*other || media.RMS(pcm) < 3000 {
		t.Fatalf("the agent does not hear the caller's 1 kHz tone: %g vs %g, rms %.0f", tone, other, media.RMS(pcm))
	}
	stop()
	if caller.Relaying() || agent.Relaying() || m.relays != 0 {
		t.Fatal("relaying between PCMU and PCMA")
	}
}

// blockedASR is a recogniser stream whose Write hangs until released.
type blockedASR struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *blockedASR) Write([]int16) {
	s.once.Do(func() { close(s.entered) })
	<-s.release
}
func (s *blockedASR) Results() <-chan asr.Result { return nil }
func (s *blockedASR) Close() error               { return nil }

// TestMixerStalledRecognizerDoesNotDelayRelay: the mixer goroutine is stuck
// in the caller's recogniser (or recorder); relayed audio goes on both
// ways regardless.
func TestMixerStalledRecognizerDoesNotDelayRelay(t *testing.T) {
	callerPhone, agentPhone := newSIPPeer(t), newSIPPeer(t)
	caller := startRTPLeg(t, callerPhone, media.PCMU)
	agent := startRTPLeg(t, agentPhone, media.PCMU)
	stuck := &blockedASR{entered: make(chan struct{}), release: make(chan struct{})}
	m := newMixer(caller, nil, stuck)
	stop := runMixer(m)
	defer stop()
	defer close(stuck.release)
	m.setAgent(agent, nil)
	waitRelaying(t, true, caller, agent)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); callerPhone.send(t, caller, 0, packetize(noise(3, 50*160), false)) }()
	agentPhone.send(t, agent, 0, packetize(noise(4, 50*160), false))
	wg.Wait()
	select {
	case <-stuck.entered:
	default:
		t.Fatal("the recogniser never got audio: nothing was stalled")
	}
	agentPhone.waitFor(t, 50)
	callerPhone.waitFor(t, 50)
}

// TestMixerHoldLeavesRelay: hold takes the bridge off the relay (music
// from the caller leg's own clock) and resume puts it back; the caller's
// phone sees one stream throughout.
func TestMixerHoldLeavesRelay(t *testing.T) {
	callerPhone, agentPhone := newSIPPeer(t), newSIPPeer(t)
	caller := startRTPLeg(t, callerPhone, media.PCMU)
	agent := startRTPLeg(t, agentPhone, media.PCMU)
	m := newMixer(caller, nil, nil)
	stop := runMixer(m)
	defer stop()
	m.setAgent(agent, nil)
	waitRelaying(t, true, caller, agent)
	agentPhone.send(t, agent, 0, packetize(noise(5, 10*160), false))
	callerPhone.waitFor(t, 10)

	m.do(func(_ context.Context, x *mixExt) { x.held = true })
	waitRelaying(t, false, caller, agent)
	for range 10 { // music on hold
		if err := caller.WriteFrame(media.Tone(300, media.FrameDuration, media.SampleRate, 0.2)); err != nil {
			t.Fatal(err)
		}
	}
	callerPhone.waitFor(t, 20)
	m.do(func(_ context.Context, x *mixExt) { x.held = false })
	waitRelaying(t, true, caller, agent)
	agentPhone.send(t, agent, 0, packetize(noise(6, 10*160), false))
	got := callerPhone.waitFor(t, 30)
	for i := 1; i < len(got); i++ {
		if got[i].SSRC != got[0].SSRC || got[i].SequenceNumber != got[i-1].SequenceNumber+1 ||
			int32(got[i].Timestamp-got[i-1].Timestamp) <= 0 {
			t.Fatalf("packet %d: ssrc %08x seq %d ts %d after ssrc %08x seq %d ts %d: not one stream", i,
				got[i].SSRC, got[i].SequenceNumber, got[i].Timestamp, got[0].SSRC, got[i-1].SequenceNumber, got[i-1].Timestamp)
		}
	}
	stop()
	if m.relays != 2 {
		t.Errorf("relayed %d times, want 2 (before and after the hold)", m.relays)
	}
}
