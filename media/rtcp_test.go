package media

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func TestRTCPReports(t *testing.T) {
	for _, mux := range []bool{false, true} {
		name := "port+1"
		if mux {
			name = "rtcp-mux"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := RTPConfig{IP: net.IPv4(127, 0, 0, 1), RTCPInterval: 100 * time.Millisecond}
			a, err := NewRTPLeg(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := NewRTPLeg(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if a.rtcpc.LocalAddr().Port != a.LocalAddr().Port+1 {
				t.Fatal("rtcp port is not rtp+1")
			}
			for _, p := range [][2]*RTPLeg{{a, b}, {b, a}} {
				if err := p[0].StartWith(StartOptions{Remote: p[1].LocalAddr(), Codec: PCMU, RTCPMux: mux}); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for _, l := range []*RTPLeg{a, b} {
				go Play(ctx, l, Tone(440, 1500*time.Millisecond, SampleRate, 0.3))
			}
			// Both ends have sent SRs and answered each other's.
			deadline := time.Now().Add(4 * time.Second)
			for {
				a.rtcp.mu.Lock()
				ok := a.rtcp.haveRemote && !a.rtcp.lastSRAt.IsZero() && a.rtcp.reportsIn >= 3
				a.rtcp.mu.Unlock()
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no RTCP exchange: %+v", a.Quality())
				}
				time.Sleep(20 * time.Millisecond)
			}
			q := a.Quality()
			t.Logf("%+v", q)
			if q.RTTMS < 0 || q.RTTMS > 50 || q.PacketsLost != 0 || q.RemotePacketsLost != 0 {
				t.Fatalf("loopback quality %+v", q)
			}
			if q.MOS < 4.3 {
				t.Fatalf("loopback MOS %v", q.MOS)
			}
			if s := b.Stats(); s.PacketsIgnored != 0 {
				t.Fatalf("RTCP counted as ignored RTP: %+v", s)
			}
		})
	}
}

// RTT is now - LSR - DLSR: check the arithmetic with a made-up report.
func TestRTCPRoundTrip(t *testing.T) {
	var r rtcpState
	r.interval = time.Second
	t0 := time.Now()
	const ours = 1234
	// Our SR went out at t0; the peer held it 30 ms and answered; the
	// answer arrives 130 ms after t0: the network took 100 ms.
	rr := &rtcp.ReceiverReport{SSRC: 99, Reports: []rtcp.ReceptionReport{{
		SSRC: ours, LastSenderReport: uint32(ntpTime(t0) >> 16), Delay: uint32(30 * 65536 / 1000),
		TotalLost: 7, Jitter: 80,
	}}}
	b, err := rr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !r.handle(b, t0.Add(130*time.Millisecond), ours) {
		t.Fatal("report rejected")
	}
	var q Quality
	r.remote(&q, 8000, 100)
	if q.RTTMS < 99 || q.RTTMS > 101 {
		t.Fatalf("rtt %v ms, want 100", q.RTTMS)
	}
	if q.RemotePacketsLost != 7 || q.RemoteLossPercent != 7 || q.RemoteJitterMS != 10 {
		t.Fatalf("remote figures %+v", q)
	}
	if r.handle([]byte{0x80, 200, 0, 1}, t0, ours) {
		t.Fatal("garbage accepted")
	}
	// Reports about another source are not ours.
	rr.Reports[0].SSRC = 5
	b, _ = rr.Marshal()
	r.handle(b, t0.Add(time.Second), ours)
	if r.remoteLost != 7 {
		t.Fatal("foreign report block used")
	}
}

func TestEstimateMOS(t *testing.T) {
	tests := []struct {
		codec    string
		loss     float64
		delay    time.Duration
		min, max float64
	}{
		{"PCMU", 0, 40 * time.Millisecond, 4.3, 4.45},
		{"PCMU", 5, 60 * time.Millisecond, 3.6, 4.0},
		{"opus", 20, 100 * time.Millisecond, 2.0, 3.0},
		{"PCMA", 0, 400 * time.Millisecond, 3.0, 3.8},
		{"PCMU", 100, time.Second, 1, 1},
		{"mystery", 0, 0, 3.5, 4.3},
	}
	for _, tc := range tests {
		if got := estimateMOS(tc.codec, tc.loss, tc.delay); got < tc.min || got > tc.max {
			t.Errorf("MOS(%s, %v%%, %v) = %v, want %v..%v", tc.codec, tc.loss, tc.delay, got, tc.min, tc.max)
		}
	}
	// More loss never sounds better.
	prev := 5.0
	for loss := 0.0; loss <= 30; loss++ {
		m := estimateMOS("PCMU", loss, 50*time.Millisecond)
		if m > prev {
			t.Fatalf("MOS rose with loss at %v%%", loss)
		}
		prev = m
	}
}
