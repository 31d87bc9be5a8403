package media

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// BenchmarkReceive is one packet through the receive path: RTP accounting,
// jitter buffer, decode and playout of one 20 ms frame.
func BenchmarkReceive(b *testing.B) {
	for _, c := range []Codec{PCMU, G722, Opus} {
		b.Run(c.Name, func(b *testing.B) {
			var st counters
			log := rateLimitedLog{log: orDefaultLogger(nil)}
			in := newInbound(4, &st, &log)
			dec, err := newDecoder(c)
			if err != nil {
				b.Fatal(err)
			}
			in.configure(c, c.PayloadType, dec, 0, false, false)
			enc, _ := newEncoder(c)
			tone := Tone(440, time.Second, SampleRate, 0.3)
			var payloads [][]byte
			for i := 0; i < 50; i++ {
				p, _ := enc.encode(nil, tone[i*FrameSamples:(i+1)*FrameSamples])
				payloads = append(payloads, p)
			}
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: c.PayloadType, SSRC: 1}}
			now := time.Now()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				pkt.SequenceNumber = uint16(i)
				pkt.Timestamp = uint32(i) * c.frameTicks()
				pkt.Payload = payloads[i%50]
				in.handle(&pkt, now)
				now = now.Add(FrameDuration)
				in.tick(now)
				select {
				case <-in.frames:
				default:
				}
				i++
			}
			if st.packetsIn.Load() == 0 || st.concealed.Load() > 5 {
				b.Fatalf("stats %+v", st.snapshot())
			}
		})
	}
}

// BenchmarkSend is one frame through the send path: queue, encode,
// packetize and marshal.
func BenchmarkSend(b *testing.B) {
	for _, c := range []Codec{PCMU, G722, Opus} {
		b.Run(c.Name, func(b *testing.B) {
			var st counters
			log := rateLimitedLog{log: orDefaultLogger(nil)}
			stop := make(chan struct{})
			s := newSender(stop, &st, &log)
			enc, err := newEncoder(c)
			if err != nil {
				b.Fatal(err)
			}
			wire := make([]byte, 1500)
			s.configure(c, enc, 0, false, func(p *rtp.Packet) error {
				_, err := p.MarshalTo(wire)
				return err
			})
			frame := Tone(440, FrameDuration, SampleRate, 0.3)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.forward(frame); err != nil {
					b.Fatal(err)
				}
				s.tick(time.Now())
			}
			if st.packetsOut.Load() == 0 {
				b.Fatal("nothing sent")
			}
		})
	}
}

// BenchmarkRelayForward is one received packet through a relayed bridge:
// parse, receive accounting and jitter buffer (for the recording), then
// rewritten onto the other leg's stream and sent (a real sendto on
// loopback; nobody reads it).
func BenchmarkRelayForward(b *testing.B) {
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	cfg := RTPConfig{IP: net.IPv4(127, 0, 0, 1)}
	src, err := NewRTPLeg(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := NewRTPLeg(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer dst.Close()
	for _, l := range []*RTPLeg{src, dst} {
		if err := l.Start(sink.LocalAddr().(*net.UDPAddr), PCMU, 101); err != nil {
			b.Fatal(err)
		}
	}
	if err := src.RelayTo(dst); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 160)
	raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 7}, Payload: payload}).Marshal()
	var pkt rtp.Packet
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		binary.BigEndian.PutUint16(raw[2:], uint16(i))
		binary.BigEndian.PutUint32(raw[4:], uint32(i)*160)
		src.handleDatagram(&pkt, raw, now)
		now = now.Add(FrameDuration)
		i++
	}
	if st := dst.Stats(); st.Relayed == 0 {
		b.Fatalf("nothing relayed: %+v", st)
	}
}
