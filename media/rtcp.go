package media

import (
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// DefaultRTCPInterval is RFC 3550's minimum interval between reports.
const DefaultRTCPInterval = 5 * time.Second

// rtcpState is an RTPLeg's RTCP: the reports it sends (SR while it sends
// audio, RR otherwise, each with SDES CNAME) from the 20 ms clock, and
// what it learns from the far end's reports.
type rtcpState struct {
	interval time.Duration
	cname    string

	mu       sync.Mutex
	mux      bool
	explicit *net.UDPAddr // a=rtcp: address, if the SDP gave one
	next     time.Time
	sentPkts uint64 // packetsOut at the last report

	// From the far end's last SR, echoed in our report blocks.
	lastSR   uint32
	lastSRAt time.Time
	// From the far end's report blocks about our stream.
	rtt          time.Duration
	remoteLost   int64
	remoteJitter uint32 // RTP units
	haveRemote   bool
	reportsIn    uint64
	reportsOut   uint64
}

// ntpTime is t as a 64-bit NTP timestamp.
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // 1900 to 1970
	s := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return s<<32 | frac
}

// isRTCP tells RTCP from RTP on a muxed port (RFC 5761 §4): packet types
// 192-223 fall where RTP's marker bit and payload types 64-95 would be.
func isRTCP(b []byte) bool { return len(b) >= 8 && b[1] >= 192 && b[1] <= 223 }

// due reports whether a report should go out now and schedules the next,
// randomised over 0.5-1.5 intervals (RFC 3550 §6.2).
func (r *rtcpState) due(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Before(r.next) {
		return false
	}
	r.next = now.Add(time.Duration(float64(r.interval) * (0.5 + rand.Float64())))
	return true
}

// build returns the compound report to send now.
func (r *rtcpState) build(now time.Time, ssrc uint32, rtpTS uint32, pktsOut, bytesOut uint64, rx rxStats, fraction uint8) ([]byte, error) {
	r.mu.Lock()
	var reports []rtcp.ReceptionReport
	if rx.started {
		rr := rtcp.ReceptionReport{
			SSRC:               rx.ssrc,
			FractionLost:       fraction,
			TotalLost:          uint32(min(max(rx.lost(), 0), 0x7FFFFF)),
			LastSequenceNumber: rx.extMax(),
			Jitter:             uint32(rx.jitter),
		}
		if !r.lastSRAt.IsZero() {
			rr.LastSenderReport = r.lastSR
			rr.Delay = uint32(now.Sub(r.lastSRAt) * 65536 / time.Second)
		}
		reports = append(reports, rr)
	}
	sending := pktsOut > r.sentPkts
	r.sentPkts = pktsOut
	r.reportsOut++
	r.mu.Unlock()
	var first rtcp.Packet
	if sending {
		first = &rtcp.SenderReport{
			SSRC: ssrc, NTPTime: ntpTime(now), RTPTime: rtpTS,
			PacketCount: uint32(pktsOut), OctetCount: uint32(bytesOut),
			Reports: reports,
		}
	} else {
		first = &rtcp.ReceiverReport{SSRC: ssrc, Reports: reports}
	}
	return rtcp.Marshal([]rtcp.Packet{first, rtcp.NewCNAMESourceDescription(ssrc, r.cname)})
}

// handle takes one RTCP datagram from the far end; ours is our SSRC.
// It reports false for garbage.
func (r *rtcpState) handle(b []byte, now time.Time, ours uint32) bool {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reportsIn++
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			r.lastSR, r.lastSRAt = uint32(p.NTPTime>>16), now
			r.blocks(p.Reports, now, ours)
		case *rtcp.ReceiverReport:
			r.blocks(p.Reports, now, ours)
		}
	}
	return true
}

func (r *rtcpState) blocks(reports []rtcp.ReceptionReport, now time.Time, ours uint32) {
	for _, rr := range reports {
		if rr.SSRC != ours {
			continue
		}
		r.haveRemote = true
		lost := int64(rr.TotalLost & 0xFFFFFF)
		if lost >= 0x800000 {
			lost -= 0x1000000 // 24-bit signed
		}
		r.remoteLost, r.remoteJitter = lost, rr.Jitter
		if rr.LastSenderReport == 0 {
			continue
		}
		// RFC 3550 §6.4.1: A - LSR - DLSR in 1/65536 s.
		a := uint32(ntpTime(now) >> 16)
		if rtt := int32(a - rr.LastSenderReport - rr.Delay); rtt >= 0 {
			r.rtt = time.Duration(rtt) * time.Second / 65536
		}
	}
}

// remote copies what the far end told us into q; clock converts jitter
// and sent is how many packets we have sent (for the loss percentage).
func (r *rtcpState) remote(q *Quality, clock int, sent uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q.RTTMS = float64(r.rtt) / float64(time.Millisecond)
	if !r.haveRemote {
		return
	}
	q.RemotePacketsLost = r.remoteLost
	if sent > 0 && r.remoteLost > 0 {
		q.RemoteLossPercent = min(100*float64(r.remoteLost)/float64(sent), 100)
	}
	if clock > 0 {
		q.RemoteJitterMS = float64(r.remoteJitter) * 1000 / float64(clock)
	}
}
