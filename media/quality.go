package media

import (
	"math"
	"strings"
	"time"
)

// Quality is a leg's call quality: what contactd receives (loss, jitter),
// what the far end reports about what it receives (RTCP), the round trip,
// and a MOS estimate from them.
type Quality struct {
	// PacketsLost is the cumulative loss of the far end's stream (RFC 3550
	// expected minus received); LossPercent is it against expected.
	PacketsLost int64
	LossPercent float64
	// JitterMS is the RFC 3550 interarrival jitter of the far end's stream.
	JitterMS float64
	// RTTMS is the round-trip time from RTCP (LSR/DLSR); 0 until known.
	RTTMS float64
	// MOS is a 1-4.5 estimate by a simplified ITU-T G.107 E-model.
	MOS float64

	// RemotePacketsLost, RemoteLossPercent and RemoteJitterMS are what the
	// far end reported (RTCP receiver report blocks) about our stream;
	// zero until its first report.
	RemotePacketsLost int64
	RemoteLossPercent float64
	RemoteJitterMS    float64
	// JitterBufferMS is the current target playout delay.
	JitterBufferMS float64
}

// Codec impairments for the E-model (ITU-T G.113 appendix I): G.711 with
// packet-loss concealment has Ie 0 and Bpl 25.1. G.113 has no
// narrowband-scale figures for G.722 or Opus; we use G.711's, which
// under-rates their wideband audio but ranks loss and delay the same way.
var codecImpairment = map[string][2]float64{
	"pcmu": {0, 25.1},
	"pcma": {0, 25.1},
	"g722": {0, 25.1},
	"opus": {0, 25.1},
}

// estimateMOS is the simplified E-model (Cole & Rosenbluth, after G.107):
// R = 93.2 - Id - Ie,eff with random loss (BurstR 1), mapped to MOS.
// delay is the one-way mouth-to-ear delay.
func estimateMOS(codecName string, lossPct float64, delay time.Duration) float64 {
	imp, ok := codecImpairment[strings.ToLower(codecName)]
	if !ok {
		imp = [2]float64{10, 10} // an unknown codec: assume a mediocre one
	}
	ie, bpl := imp[0], imp[1]
	lossPct = min(max(lossPct, 0), 100)
	ieEff := ie + (95-ie)*lossPct/(lossPct+bpl)
	d := float64(delay) / float64(time.Millisecond)
	id := 0.024 * d
	if d > 177.3 {
		id += 0.11 * (d - 177.3)
	}
	r := 93.2 - id - ieEff
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	mos := 1 + 0.035*r + r*(r-60)*(100-r)*7e-6
	return math.Round(min(max(mos, 1), 4.5)*100) / 100
}

// quality fills the parts of Quality the receive side knows and computes
// MOS; rtt and the remote figures must be set already.
func (q *Quality) fill(codec Codec, rx rxStats, jbDelay time.Duration) {
	q.PacketsLost = max(rx.lost(), 0)
	if exp := rx.expected(); exp > 0 {
		q.LossPercent = 100 * float64(q.PacketsLost) / float64(exp)
	}
	q.JitterMS = float64(rx.jitterDuration()) / float64(time.Millisecond)
	q.JitterBufferMS = float64(jbDelay) / float64(time.Millisecond)
	// One way: half the round trip, packetisation, the jitter buffer.
	oneWay := time.Duration(q.RTTMS*float64(time.Millisecond))/2 + FrameDuration + jbDelay
	q.MOS = estimateMOS(codec.Name, max(q.LossPercent, q.RemoteLossPercent), oneWay)
}
