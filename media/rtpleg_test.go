package media

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func newLegPair(t *testing.T, codec Codec, dtmfPT uint8) (*RTPLeg, *RTPLeg) {
	t.Helper()
	cfg := RTPConfig{IP: net.IPv4(127, 0, 0, 1), PortMin: 42000, PortMax: 42998}
	a, err := NewRTPLeg(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err := NewRTPLeg(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if a.LocalAddr().Port%2 != 0 {
		t.Fatalf("odd rtp port %d", a.LocalAddr().Port)
	}
	if err := a.Start(b.LocalAddr(), codec, dtmfPT); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(a.LocalAddr(), codec, dtmfPT); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestRTPLegTone(t *testing.T) {
	for _, c := range Supported {
		t.Run(c.Name, func(t *testing.T) {
			a, b := newLegPair(t, c, TelephoneEvent.PayloadType)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- Play(ctx, a, Tone(440, 800*time.Millisecond, SampleRate, 0.5)) }()
			got := collect(t, b.Frames(), 30*FrameSamples, 3*time.Second)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			// Skip codec start-up, judge the steady state.
			assertTone(t, got[5*FrameSamples:], SampleRate, 440)
			if st := a.Stats(); st.PacketsOut < 30 || st.BytesOut == 0 {
				t.Fatalf("sender stats %+v", st)
			}
			if st := b.Stats(); st.PacketsIn < 30 || st.PacketsIgnored != 0 || st.DecodeErrors != 0 {
				t.Fatalf("receiver stats %+v", st)
			}
			if b.Codec() != c {
				t.Fatalf("codec %+v", b.Codec())
			}
		})
	}
}

func TestRTPLegDTMF(t *testing.T) {
	for _, c := range []Codec{PCMU, Opus} {
		t.Run(c.Name, func(t *testing.T) {
			pt := TelephoneEvent.PayloadType
			if c.ClockRate == 48000 {
				pt = TelephoneEvent48k.PayloadType
			}
			a, b := newLegPair(t, c, pt)
			digits := "19*#A"
			go func() {
				for _, d := range digits {
					if err := a.SendDTMF(d, 100*time.Millisecond); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			var got []rune
			deadline := time.After(5 * time.Second)
			for len(got) < len(digits) {
				select {
				case d := <-b.DTMF():
					got = append(got, d)
				case <-deadline:
					t.Fatalf("got %q before timeout", string(got))
				}
			}
			if string(got) != digits {
				t.Fatalf("got %q, want %q", string(got), digits)
			}
			// No duplicate from the repeated end packets.
			select {
			case d := <-b.DTMF():
				t.Fatalf("extra digit %q", d)
			case <-time.After(150 * time.Millisecond):
			}
			if err := a.SendDTMF('x', time.Second); err == nil {
				t.Fatal("bad digit accepted")
			}
		})
	}
}

func TestRTPLegFlushAndPacing(t *testing.T) {
	a, b := newLegPair(t, PCMA, 0)
	start := time.Now()
	frame := make([]int16, FrameSamples)
	for i := 0; i < 15; i++ {
		if err := a.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
	}
	// 15 frames with a 3-frame queue: at least 12 ticks must have passed.
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Fatalf("15 frames queued in %v: not paced", el)
	}
	a.Flush()
	if err := a.SendDTMF('1', 50*time.Millisecond); err != ErrNoDTMF {
		t.Fatalf("SendDTMF without telephone-event: %v", err)
	}
	collect(t, b.Frames(), 10*FrameSamples, 2*time.Second)
	if err := a.WriteFrame(make([]int16, FrameSamples+1)); err == nil {
		t.Fatal("oversized frame accepted")
	}
	a.Close()
	if err := a.WriteFrame(frame); err != ErrClosed {
		t.Fatalf("write after close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	// Frames of a closed leg is closed.
	for range a.Frames() {
	}
}

func TestPlayCancel(t *testing.T) {
	a, _ := newLegPair(t, PCMU, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Play(ctx, a, Tone(440, 5*time.Second, SampleRate, 0.3))
	if err != context.DeadlineExceeded {
		t.Fatalf("Play: %v", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("Play returned after %v", el)
	}
}

func TestRTPLegGarbage(t *testing.T) {
	a, b := newLegPair(t, Opus, TelephoneEvent48k.PayloadType)
	hdr := func(pt uint8, seq uint16, payload []byte) []byte {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, SSRC: 7}, Payload: payload}
		out, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name string
		pkt  []byte
	}{
		{"empty", nil},
		{"one byte", []byte{0x80}},
		{"short header", make([]byte, 11)},
		{"version 0", make([]byte, 40)},
		{"csrc count beyond end", append([]byte{0x8F, 111}, make([]byte, 14)...)},
		{"extension beyond end", []byte{0x90, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0xBE, 0xDE, 0xFF, 0xFF}},
		{"padding longer than packet", []byte{0xA0, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 1, 2, 200}},
		{"padding zero", []byte{0xA0, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 1, 2, 0}},
		{"unknown payload type", hdr(96, 10, []byte{1, 2, 3})},
		{"opus empty payload", hdr(111, 11, nil)},
		{"opus garbage", hdr(111, 12, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF})},
		{"dtmf short", hdr(110, 13, []byte{1, 2})},
		{"dtmf bad event", hdr(110, 14, []byte{200, 0x80, 0, 160})},
		{"duplicate seq", hdr(111, 14, []byte{0xFF})},
	}
	conn, err := net.DialUDP("udp", nil, b.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := b.Stats()
			if _, err := conn.Write(tc.pkt); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(2 * time.Second)
			for {
				s := b.Stats()
				if s.PacketsIgnored > before.PacketsIgnored || s.DecodeErrors > before.DecodeErrors {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("packet neither ignored nor rejected: %+v", s)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	// The leg still works after the garbage.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	go Play(ctx, a, Tone(440, 400*time.Millisecond, SampleRate, 0.5))
	collect(t, b.Frames(), 10*FrameSamples, 3*time.Second)
	if len(b.DTMF()) != 0 {
		t.Fatal("garbage produced a digit")
	}
}

func TestRTPPortRange(t *testing.T) {
	cfg := RTPConfig{IP: net.IPv4(127, 0, 0, 1), PortMin: 43100, PortMax: 43103}
	var legs []*RTPLeg
	defer func() {
		for _, l := range legs {
			l.Close()
		}
	}()
	for i := 0; i < 2; i++ {
		l, err := NewRTPLeg(cfg)
		if err != nil {
			t.Fatalf("leg %d: %v", i, err)
		}
		legs = append(legs, l)
	}
	if legs[0].LocalAddr().Port == legs[1].LocalAddr().Port {
		t.Fatal("same port twice")
	}
	if _, err := NewRTPLeg(cfg); err == nil {
		t.Fatal("third leg in a two-port range")
	}
	if _, err := NewRTPLeg(RTPConfig{PortMin: 10, PortMax: 5}); err == nil {
		t.Fatal("bad range accepted")
	}
}

func TestRTPLegNoLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	a, err := NewRTPLeg(RTPConfig{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRTPLeg(RTPConfig{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(b.LocalAddr(), PCMU, 101); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(a.LocalAddr(), PCMU, 101); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(b.LocalAddr(), PCMU, 101); err != ErrStarted {
		t.Fatalf("second Start: %v", err)
	}
	go a.SendDTMF('5', time.Second) // interrupted by Close
	a.WriteFrame(make([]int16, FrameSamples))
	a.Close()
	b.Close()
	waitGoroutines(t, base)
}

func TestRTPLegForwardNeverBlocks(t *testing.T) {
	a, b := newLegPair(t, PCMU, 0)
	start := time.Now()
	for i := 0; i < 50; i++ {
		if err := a.Forward(Tone(440, FrameDuration, SampleRate, 0.3)); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Fatalf("50 forwarded frames took %v: Forward blocked", el)
	}
	if d := a.Stats().SendDropped; d < 40 {
		t.Fatalf("SendDropped = %d, want the overflow (>= 40) counted", d)
	}
	// What is left in the queue still goes out.
	collect(t, b.Frames(), 2*FrameSamples, 2*time.Second)
	a.Close()
	if err := a.Forward(make([]int16, FrameSamples)); err != ErrClosed {
		t.Fatalf("forward after close: %v", err)
	}
}
