package media

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactd/contactd/media/g711"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

func randomKey(t testing.TB, suite string) []byte {
	t.Helper()
	n, ok := SRTPKeyLen(suite)
	if !ok {
		t.Fatalf("suite %s unknown", suite)
	}
	k := make([]byte, n)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// spy is a UDP relay between a sender and a receiver leg: it keeps a copy
// of what crosses the wire and can tamper with or replay packets.
type spy struct {
	conn *net.UDPConn
	to   *net.UDPAddr
	// captured gets a copy of each RTP packet (not RTCP) until full.
	captured chan []byte
	// tamper, when set, flips a payload bit of the next RTP packet;
	// replay sends the next one twice.
	tamper, replay atomic.Bool
}

func newSpy(t *testing.T, to *net.UDPAddr) *spy {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &spy{conn: c, to: to, captured: make(chan []byte, 200)}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			b := buf[:n]
			if !isRTCP(b) {
				select {
				case s.captured <- bytes.Clone(b):
				default:
				}
				if n > 20 && s.tamper.CompareAndSwap(true, false) {
					b = bytes.Clone(b)
					b[14] ^= 0x01 // inside the encrypted payload
				}
				if s.replay.CompareAndSwap(true, false) {
					_, _ = c.WriteToUDP(b, s.to)
				}
			}
			_, _ = c.WriteToUDP(b, s.to)
		}
	}()
	return s
}

func (s *spy) addr() *net.UDPAddr { return s.conn.LocalAddr().(*net.UDPAddr) }

func newSRTPPair(t *testing.T, suite string, mux bool) (a, b *RTPLeg, sp *spy, aKey []byte) {
	t.Helper()
	cfg := RTPConfig{IP: net.IPv4(127, 0, 0, 1), RTCPInterval: 100 * time.Millisecond}
	var err error
	if a, err = NewRTPLeg(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if b, err = NewRTPLeg(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	aKey, bKey := randomKey(t, suite), randomKey(t, suite)
	// a sends through the spy (RTP, and RTCP too with mux); b straight back.
	sp = newSpy(t, b.LocalAddr())
	if err := a.StartWith(StartOptions{Remote: sp.addr(), Codec: PCMU, RTCPMux: mux,
		RTCPRemote: &net.UDPAddr{IP: b.LocalAddr().IP, Port: b.LocalAddr().Port + 1},
		SRTP:       &SRTPKeys{Suite: suite, LocalKey: aKey, RemoteKey: bKey}}); err != nil {
		t.Fatal(err)
	}
	if err := b.StartWith(StartOptions{Remote: a.LocalAddr(), Codec: PCMU, RTCPMux: mux,
		SRTP: &SRTPKeys{Suite: suite, LocalKey: bKey, RemoteKey: aKey}}); err != nil {
		t.Fatal(err)
	}
	return a, b, sp, aKey
}

// TestSRTPLegs: two SRTP legs exchange a tone and RTCP (with and without
// rtcp-mux) for every suite; what crosses the wire is not G.711 of the
// tone but decrypts to it with the sender's key; a tampered packet, a
// replayed one and a plain RTP packet are dropped and counted and the
// audio goes on.
func TestSRTPLegs(t *testing.T) {
	for _, suite := range SRTPSuites {
		for _, mux := range []bool{false, true} {
			name := suite + "/port+1"
			if mux {
				name = suite + "/rtcp-mux"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				a, b, sp, aKey := newSRTPPair(t, suite, mux)
				if !a.SRTP() || !b.SRTP() {
					t.Fatal("SRTP not on")
				}
				ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
				defer cancel()
				go Play(ctx, a, Tone(440, 3*time.Second, SampleRate, 0.5))
				go Play(ctx, b, Tone(440, 3*time.Second, SampleRate, 0.5))
				got := collect(t, b.Frames(), 25*FrameSamples, 3*time.Second)
				assertTone(t, got[5*FrameSamples:], SampleRate, 440)

				// The wire: not G.711, but the tone under a's key.
				var wire []byte
				for range 10 { // past the codec's start-up
					wire = <-sp.captured
				}
				tagLen := map[string]int{SRTPAES128SHA1_80: 10, SRTPAES128SHA1_32: 4, SRTPAEADAES128GCM: 16}[suite]
				if len(wire) != 12+160+tagLen {
					t.Fatalf("wire packet of %d bytes, want %d", len(wire), 12+160+tagLen)
				}
				if pcm := decodeULaw(wire[12 : 12+160]); Goertzel(pcm, 8000, 440) > RMS(pcm)*RMS(pcm)/(32768*32768)*0.1 {
					t.Fatal("the wire payload decodes as the 440 Hz tone: not encrypted")
				}
				plain := decryptWith(t, suite, aKey, wire)
				if pcm := decodeULaw(plain[12:]); Goertzel(pcm, 8000, 440) < RMS(pcm)*RMS(pcm)/(32768*32768)*0.3 {
					t.Fatal("the wire payload does not decrypt to the tone")
				}

				// Tamper, replay, plain RTP: each dropped and counted.
				before := b.Stats()
				sp.tamper.Store(true)
				waitUntil(t, "tampered packet counted", func() bool { return b.Stats().SRTPDropped == before.SRTPDropped+1 })
				sp.replay.Store(true)
				waitUntil(t, "replayed packet counted", func() bool { return b.Stats().SRTPDropped == before.SRTPDropped+2 })
				pc, err := net.DialUDP("udp", nil, b.LocalAddr())
				if err != nil {
					t.Fatal(err)
				}
				defer pc.Close()
				plainPkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 7, SSRC: 99}, Payload: make([]byte, 160)}).Marshal()
				_, _ = pc.Write(plainPkt)
				waitUntil(t, "plain packet counted", func() bool { return b.Stats().SRTPDropped == before.SRTPDropped+3 })
				// Audio goes on.
				got = collect(t, b.Frames(), 20*FrameSamples, 3*time.Second)
				assertTone(t, got, SampleRate, 440)

				// RTCP both ways, encrypted too.
				waitUntil(t, "SRTCP reports", func() bool {
					a.rtcp.mu.Lock()
					defer a.rtcp.mu.Unlock()
					return a.rtcp.haveRemote && !a.rtcp.lastSRAt.IsZero() && a.rtcp.reportsIn >= 2
				})
				waitUntil(t, "SRTCP reports at b", func() bool {
					b.rtcp.mu.Lock()
					defer b.rtcp.mu.Unlock()
					return b.rtcp.haveRemote && b.rtcp.reportsIn >= 2
				})
				if s := b.Stats(); s.SRTPDropped != before.SRTPDropped+3 || s.PacketsIgnored != 0 || s.DecodeErrors != 0 {
					t.Fatalf("receiver stats %+v", s)
				}
				if s := a.Stats(); s.SRTPDropped != 0 || s.PacketsIgnored != 0 {
					t.Fatalf("sender stats %+v", s)
				}
			})
		}
	}
}

// TestSRTPRekey: a new key from the far end (same suite, then another
// suite) takes over mid-call; repeating the same keys changes nothing.
func TestSRTPRekey(t *testing.T) {
	a, b, _, aKey := newSRTPPair(t, SRTPAES128SHA1_80, true)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	go Play(ctx, a, Tone(440, 4*time.Second, SampleRate, 0.5))
	collect(t, b.Frames(), 10*FrameSamples, 3*time.Second)
	bKey := b.srtp.encKey.key

	// Same keys again: contexts are kept.
	dec := b.srtp.dec
	if err := b.SetSRTP(SRTPKeys{Suite: SRTPAES128SHA1_80, LocalKey: bKey, RemoteKey: aKey}); err != nil {
		t.Fatal(err)
	}
	if b.srtp.dec != dec {
		t.Fatal("same keys replaced the decrypt context")
	}
	for _, suite := range []string{SRTPAES128SHA1_80, SRTPAEADAES128GCM} {
		nk := randomKey(t, suite)
		nb := bKey
		if suite != SRTPAES128SHA1_80 {
			nb = randomKey(t, suite)
		}
		if err := b.SetSRTP(SRTPKeys{Suite: suite, LocalKey: nb, RemoteKey: nk}); err != nil {
			t.Fatal(err)
		}
		if err := a.SetSRTP(SRTPKeys{Suite: suite, LocalKey: nk, RemoteKey: nb}); err != nil {
			t.Fatal(err)
		}
		for len(b.Frames()) > 0 {
			<-b.Frames()
		}
		dropped := b.Stats().SRTPDropped
		got := collect(t, b.Frames(), 30*FrameSamples, 3*time.Second)
		assertTone(t, got[10*FrameSamples:], SampleRate, 440)
		// Packets in flight during the switch may fail; not more.
		if d := b.Stats().SRTPDropped - dropped; d > 3 {
			t.Fatalf("%s: %d packets dropped after the rekey", suite, d)
		}
	}
}

func TestSRTPBadKeys(t *testing.T) {
	l, err := NewRTPLeg(RTPConfig{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	good := randomKey(t, SRTPAES128SHA1_80)
	for name, k := range map[string]SRTPKeys{
		"unknown suite":  {Suite: "F8_128_HMAC_SHA1_80", LocalKey: good, RemoteKey: good},
		"short key":      {Suite: SRTPAES128SHA1_80, LocalKey: good[:29], RemoteKey: good},
		"gcm key length": {Suite: SRTPAEADAES128GCM, LocalKey: good, RemoteKey: good},
		"no keys":        {Suite: SRTPAES128SHA1_32},
	} {
		if err := l.StartWith(StartOptions{Remote: l.LocalAddr(), Codec: PCMU, SRTP: &k}); !errors.Is(err, ErrSRTP) {
			t.Errorf("%s: err = %v, want ErrSRTP", name, err)
		}
	}
	if l.SRTP() {
		t.Fatal("SRTP on after bad keys")
	}
}

// TestSRTPAllocs: encrypting and decrypting a packet allocates nothing.
func TestSRTPAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector; make test runs it without")
	}
	for _, suite := range []string{SRTPAES128SHA1_80, SRTPAEADAES128GCM} {
		k1, k2 := randomKey(t, suite), randomKey(t, suite)
		var tx, rx srtpSession
		if err := tx.set(SRTPKeys{Suite: suite, LocalKey: k1, RemoteKey: k2}, 1); err != nil {
			t.Fatal(err)
		}
		if err := rx.set(SRTPKeys{Suite: suite, LocalKey: k2, RemoteKey: k1}, 2); err != nil {
			t.Fatal(err)
		}
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 160)}
		wbuf := make([]byte, 1500, 1500+srtpOverhead)
		in := make([]byte, 2048)
		allocs := testing.AllocsPerRun(200, func() {
			pkt.SequenceNumber++
			n, _ := pkt.MarshalTo(wbuf)
			out, err := tx.encryptRTP(wbuf, n)
			if err != nil {
				t.Fatal(err)
			}
			m := copy(in, out)
			if _, err := rx.decryptRTP(in[:m]); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %.1f allocations per packet", suite, allocs)
		if allocs > 0 {
			t.Errorf("%s: %.1f allocations per packet, want 0", suite, allocs)
		}
	}
}

func decodeULaw(b []byte) []int16 {
	return g711.DecodeUlaw(nil, b)
}

func decryptWith(t *testing.T, suite string, keySalt, pkt []byte) []byte {
	t.Helper()
	p := srtpProfiles[suite]
	kl, _ := p.KeyLen()
	c, err := srtp.CreateContext(keySalt[:kl], keySalt[kl:], p)
	if err != nil {
		t.Fatal(err)
	}
	// The ROC is 0 this early in the stream; the context guesses it.
	out, err := c.DecryptRTP(nil, pkt, nil)
	if err != nil {
		t.Fatalf("decrypt the captured packet with the sender's key: %v", err)
	}
	return out
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(4 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkSRTPPacket is one 20 ms PCMU packet encrypted by one leg and
// authenticated and decrypted by the other.
func BenchmarkSRTPPacket(b *testing.B) {
	for _, suite := range SRTPSuites {
		b.Run(suite, func(b *testing.B) {
			k1, k2 := randomKey(b, suite), randomKey(b, suite)
			var tx, rx srtpSession
			if err := tx.set(SRTPKeys{Suite: suite, LocalKey: k1, RemoteKey: k2}, 1); err != nil {
				b.Fatal(err)
			}
			if err := rx.set(SRTPKeys{Suite: suite, LocalKey: k2, RemoteKey: k1}, 2); err != nil {
				b.Fatal(err)
			}
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 160)}
			wbuf := make([]byte, 1500, 1500+srtpOverhead)
			in := make([]byte, 2048)
			b.ReportAllocs()
			for b.Loop() {
				pkt.SequenceNumber++
				n, _ := pkt.MarshalTo(wbuf)
				out, err := tx.encryptRTP(wbuf, n)
				if err != nil {
					b.Fatal(err)
				}
				m := copy(in, out)
				if _, err := rx.decryptRTP(in[:m]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
