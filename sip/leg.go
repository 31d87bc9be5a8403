package sip

import (
	"log/slog"
	"net"
	"time"

	"github.com/contactd/contactd/media"
)

// rtpLeg is what signalling needs from a media RTP leg: media.RTPLeg
// satisfies it. Keeping it an interface lets the SDP and signalling tests
// run with a plain socket where audio does not matter.
type rtpLeg interface {
	media.Leg
	LocalAddr() *net.UDPAddr
	Start(remote *net.UDPAddr, codec media.Codec, dtmfPT uint8) error
	// StartWith starts the leg with everything SDP decided (rtcp-mux).
	StartWith(o media.StartOptions) error
	SendDTMF(digit rune, d time.Duration) error
	// SetRemote moves the stream (re-INVITE with a new address).
	SetRemote(remote *net.UDPAddr)
	// Stats gives the packet counters the inactivity watchdog reads.
	Stats() media.Stats
	// SetSRTP changes the SRTP keys (a re-INVITE with a new key).
	SetSRTP(k media.SRTPKeys) error
}

// legConfig is the part of media.RTPConfig signalling decides.
type legConfig struct {
	IP               net.IP
	PortMin, PortMax int
	Logger           *slog.Logger
}

// newRTPLeg opens an RTP leg. Tests may replace it.
var newRTPLeg = func(c legConfig) (rtpLeg, error) {
	l, err := media.NewRTPLeg(media.RTPConfig{IP: c.IP, PortMin: c.PortMin, PortMax: c.PortMax, Logger: c.Logger})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// supportedCodecs is our codec preference order.
func supportedCodecs() []media.Codec { return media.Supported }
