package sip

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/contactd/contactd/media"
	"github.com/pion/sdp/v3"
)

// maxSDPSize bounds the SDP bodies we are willing to parse.
const maxSDPSize = 16 << 10

// rtpFormat is one payload format found in an SDP m-line.
type rtpFormat struct {
	PT        uint8
	Name      string // as written in rtpmap, or the static name
	ClockRate int
	Channels  int
}

// sdpMedia is what we take from a peer's SDP: where to send audio and the
// payload formats it accepts, in its own order.
type sdpMedia struct {
	Remote  *net.UDPAddr
	Formats []rtpFormat
	// Direction is the stream's sendrecv, sendonly, recvonly or inactive
	// attribute (media level, else session level; default sendrecv).
	Direction string
	// RTCPMux is "a=rtcp-mux" (RFC 5761): RTCP shares the RTP port.
	RTCPMux bool
	// RTCP is the "a=rtcp:" address (RFC 3605); nil means RTP port + 1.
	RTCP *net.UDPAddr
	// Ptime is "a=ptime" in ms, 0 when absent. We always send 20 ms
	// packets and receive any size, so it is informational only.
	Ptime int
	// Profile is the m-line's transport, upper case: RTP/AVP, RTP/AVPF,
	// RTP/SAVP or RTP/SAVPF.
	Profile string
	// Secure: the profile is RTP/SAVP or RTP/SAVPF (SRTP); Crypto are its
	// a=crypto values (SDES, RFC 4568) in the offered order.
	Secure bool
	Crypto []string
}

// SDP transport profiles.
const (
	profileAVP   = "RTP/AVP"
	profileSAVP  = "RTP/SAVP"
	profileSAVPF = "RTP/SAVPF"
)

// directionOf finds the direction attribute of a stream.
func directionOf(session, media []sdp.Attribute) string {
	for _, attrs := range [][]sdp.Attribute{media, session} {
		for _, a := range attrs {
			switch k := strings.ToLower(a.Key); k {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				return k
			}
		}
	}
	return "sendrecv"
}

// staticFormats are the RFC 3551 static payload types we understand without
// an rtpmap line.
var staticFormats = map[uint8]rtpFormat{
	0: {PT: 0, Name: "PCMU", ClockRate: 8000, Channels: 1},
	8: {PT: 8, Name: "PCMA", ClockRate: 8000, Channels: 1},
	// G.722's RTP clock is 8000 although it samples at 16 kHz (RFC 3551).
	9: {PT: 9, Name: "G722", ClockRate: 8000, Channels: 1},
}

// parseSDP reads the first usable audio stream of an SDP body (offer or
// answer). Every problem comes back as an error wrapping ErrBadSDP or
// ErrNoCommonCodec; it never panics on garbage.
func parseSDP(body []byte) (*sdpMedia, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrBadSDP)
	}
	if len(body) > maxSDPSize {
		return nil, fmt.Errorf("%w: body of %d bytes is larger than %d", ErrBadSDP, len(body), maxSDPSize)
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	sawAudio := false
	for _, md := range sd.MediaDescriptions {
		if md == nil || !strings.EqualFold(md.MediaName.Media, "audio") {
			continue
		}
		sawAudio = true
		if md.MediaName.Port.Value == 0 {
			continue // rejected or disabled stream
		}
		profile, ok := rtpProfile(md.MediaName.Protos)
		if !ok {
			continue // e.g. DTLS-SRTP's UDP/TLS/RTP/SAVP
		}
		conn := md.ConnectionInformation
		if conn == nil {
			conn = sd.ConnectionInformation
		}
		ip, err := connectionIP(conn)
		if err != nil {
			return nil, err
		}
		port := md.MediaName.Port.Value
		if port < 1 || port > 65535 {
			return nil, fmt.Errorf("%w: audio port %d out of range", ErrBadSDP, port)
		}
		formats, err := mediaFormats(md)
		if err != nil {
			return nil, err
		}
		m := &sdpMedia{Remote: &net.UDPAddr{IP: ip, Port: port}, Formats: formats,
			Direction: directionOf(sd.Attributes, md.Attributes), Profile: profile,
			Secure: profile == profileSAVP || profile == profileSAVPF}
		readStreamAttrs(m, md.Attributes, ip)
		return m, nil
	}
	if !sawAudio {
		return nil, fmt.Errorf("%w: no audio stream", ErrNoCommonCodec)
	}
	return nil, fmt.Errorf("%w: no active RTP/AVP or RTP/SAVP audio stream", ErrNoCommonCodec)
}

// readStreamAttrs takes rtcp-mux, rtcp and ptime. Bad values are ignored:
// none of them is worth refusing a call over.
func readStreamAttrs(m *sdpMedia, attrs []sdp.Attribute, ip net.IP) {
	for _, a := range attrs {
		switch strings.ToLower(a.Key) {
		case "rtcp-mux":
			m.RTCPMux = true
		case "rtcp":
			// "a=rtcp:53020" or "a=rtcp:53020 IN IP4 192.0.2.1"
			f := strings.Fields(a.Value)
			if len(f) == 0 {
				continue
			}
			port, err := strconv.Atoi(f[0])
			if err != nil || port < 1 || port > 65535 {
				continue
			}
			rip := ip
			if len(f) == 4 && strings.EqualFold(f[1], "IN") {
				if p := net.ParseIP(f[3]); p != nil {
					rip = p
				}
			}
			m.RTCP = &net.UDPAddr{IP: rip, Port: port}
		case "ptime":
			if n, err := strconv.Atoi(strings.TrimSpace(a.Value)); err == nil && n > 0 && n <= 1000 {
				m.Ptime = n
			}
		case "crypto":
			if m.Secure {
				m.Crypto = append(m.Crypto, a.Value)
			}
		}
	}
}

// rtpProfile is the m-line's profile when it is RTP we speak: RTP/AVP and
// RTP/AVPF, or their SRTP forms RTP/SAVP and RTP/SAVPF.
func rtpProfile(protos []string) (string, bool) {
	p := strings.ToUpper(strings.Join(protos, "/"))
	switch p {
	case profileAVP, "RTP/AVPF", profileSAVP, profileSAVPF:
		return p, true
	}
	return "", false
}

func connectionIP(c *sdp.ConnectionInformation) (net.IP, error) {
	if c == nil || c.Address == nil {
		return nil, fmt.Errorf("%w: no connection (c=) line", ErrBadSDP)
	}
	if !strings.EqualFold(c.NetworkType, "IN") {
		return nil, fmt.Errorf("%w: network type %q is not IN", ErrBadSDP, c.NetworkType)
	}
	ip := net.ParseIP(c.Address.Address)
	if ip == nil {
		// Host names in c= are legal but we do not resolve them on the
		// signalling path.
		return nil, fmt.Errorf("%w: connection address %q is not an IP", ErrBadSDP, c.Address.Address)
	}
	return ip, nil
}

func mediaFormats(md *sdp.MediaDescription) ([]rtpFormat, error) {
	rtpmaps := make(map[uint8]rtpFormat)
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		f, ok := parseRTPMap(a.Value)
		if ok {
			rtpmaps[f.PT] = f
		}
	}
	var out []rtpFormat
	for _, s := range md.MediaName.Formats {
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil || n > 127 {
			return nil, fmt.Errorf("%w: bad payload type %q", ErrBadSDP, s)
		}
		pt := uint8(n)
		if f, ok := rtpmaps[pt]; ok {
			out = append(out, f)
		} else if f, ok := staticFormats[pt]; ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// parseRTPMap reads "111 opus/48000/2".
func parseRTPMap(v string) (rtpFormat, bool) {
	ptStr, enc, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return rtpFormat{}, false
	}
	n, err := strconv.ParseUint(ptStr, 10, 8)
	if err != nil || n > 127 {
		return rtpFormat{}, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 || parts[0] == "" {
		return rtpFormat{}, false
	}
	clock, err := strconv.Atoi(parts[1])
	if err != nil || clock <= 0 {
		return rtpFormat{}, false
	}
	ch := 1
	if len(parts) > 2 {
		if ch, err = strconv.Atoi(parts[2]); err != nil || ch <= 0 {
			return rtpFormat{}, false
		}
	}
	return rtpFormat{PT: uint8(n), Name: parts[0], ClockRate: clock, Channels: ch}, true
}

// negotiation is the outcome of matching a peer's formats with ours.
type negotiation struct {
	Codec media.Codec // with the peer's payload type
	// DTMF is the peer's telephone-event format; PayloadType 0 means none.
	DTMF media.Codec
	// RTCPMux: the peer offered (or answered) a=rtcp-mux; we answer it
	// and multiplex RTCP on the RTP port.
	RTCPMux bool
	// RTCPRemote is the peer's a=rtcp address (nil: RTP port + 1).
	RTCPRemote *net.UDPAddr
	// SRTP is the call's SDES keying; nil for plain RTP. It is decided
	// by the transport policy (sdes.go), not by negotiate.
	SRTP *sdesState
}

// startOptions is what media needs to start a leg towards remote.
func (n negotiation) startOptions(remote *net.UDPAddr) media.StartOptions {
	o := media.StartOptions{Remote: remote, Codec: n.Codec, DTMFPT: n.dtmfPT(), InbandDTMF: n.dtmfPT() == 0, RTCPMux: n.RTCPMux}
	if !n.RTCPMux {
		o.RTCPRemote = n.RTCPRemote
	}
	if n.SRTP != nil {
		o.SRTP = n.SRTP.keys()
	}
	return o
}

// dtmfPT is the telephone-event payload type for media.RTPLeg.Start (0: none).
func (n negotiation) dtmfPT() uint8 { return n.DTMF.PayloadType }

// events is telephone-event for an SDP answer: none or the peer's one.
func (n negotiation) events() []media.Codec {
	if n.DTMF.PayloadType == 0 {
		return nil
	}
	return []media.Codec{n.DTMF}
}

// negotiate picks the first codec of prefs that the peer offers and the
// peer's telephone-event format, preferring one at the codec's clock rate.
func negotiate(m *sdpMedia, prefs []media.Codec) (negotiation, error) {
	for _, want := range prefs {
		for _, f := range m.Formats {
			if !strings.EqualFold(f.Name, want.Name) || f.ClockRate != want.ClockRate {
				continue
			}
			c := want
			c.PayloadType = f.PT
			n := negotiation{Codec: c, RTCPMux: m.RTCPMux, RTCPRemote: m.RTCP}
			for _, te := range m.Formats {
				if !strings.EqualFold(te.Name, "telephone-event") || te.PT == 0 {
					continue
				}
				if n.DTMF.PayloadType == 0 || te.ClockRate == c.ClockRate {
					n.DTMF = media.Codec{Name: "telephone-event", PayloadType: te.PT, ClockRate: te.ClockRate, Channels: 1}
				}
			}
			return n, nil
		}
	}
	names := make([]string, 0, len(m.Formats))
	for _, f := range m.Formats {
		names = append(names, fmt.Sprintf("%d:%s/%d", f.PT, f.Name, f.ClockRate))
	}
	return negotiation{}, fmt.Errorf("%w: peer offers [%s]", ErrNoCommonCodec, strings.Join(names, " "))
}

// offerEvents is the telephone-event formats to offer with codecs: one per
// clock rate, as media sends DTMF at the audio codec's clock.
func offerEvents(codecs []media.Codec) []media.Codec {
	var out []media.Codec
	seen := map[int]bool{}
	for _, c := range codecs {
		if seen[c.ClockRate] {
			continue
		}
		seen[c.ClockRate] = true
		if te, ok := media.FindCodec("telephone-event", c.ClockRate); ok {
			out = append(out, te)
		}
	}
	return out
}

// buildSDP writes an offer or answer for one audio stream with the given
// audio codecs and telephone-event formats.
func buildSDP(ip net.IP, port int, codecs, events []media.Codec) ([]byte, error) {
	now := uint64(time.Now().Unix())
	return buildSDPVersion(ip, port, codecs, events, sdpOrigin{ID: now, Version: now}, "sendrecv")
}

// buildOffer is our initial offer: buildSDP plus a=rtcp-mux, which the
// answer may accept (RFC 5761); RTCP goes to port+1 otherwise.
// sec adds RTP/SAVP and our a=crypto lines (DialConfig.SRTP).
func buildOffer(ip net.IP, port int, codecs, events []media.Codec, sec sdpSec) ([]byte, error) {
	now := uint64(time.Now().Unix())
	return buildSDPSec(ip, port, codecs, events, sdpOrigin{ID: now, Version: now}, "sendrecv", true, sec)
}

// sdpOrigin is the o= line's session id and version: a session keeps its
// id and bumps the version with every new description (RFC 3264 8).
type sdpOrigin struct{ ID, Version uint64 }

// buildSDPVersion is buildSDP with a given origin and direction attribute.
func buildSDPVersion(ip net.IP, port int, codecs, events []media.Codec, o sdpOrigin, dir string) ([]byte, error) {
	return buildSDPMux(ip, port, codecs, events, o, dir, false)
}

// buildSDPMux is buildSDPVersion that also says a=rtcp-mux when mux is set.
func buildSDPMux(ip net.IP, port int, codecs, events []media.Codec, o sdpOrigin, dir string, mux bool) ([]byte, error) {
	return buildSDPSec(ip, port, codecs, events, o, dir, mux, sdpSec{})
}

// sdpSec is the SRTP part of a description: the RTP/SAVP(F) profile and
// our a=crypto lines. The zero value is plain RTP/AVP.
type sdpSec struct {
	profile string
	crypto  []string
}

// buildSDPSec is buildSDPMux with SRTP.
func buildSDPSec(ip net.IP, port int, codecs, events []media.Codec, o sdpOrigin, dir string, mux bool, sec sdpSec) ([]byte, error) {
	if ip == nil {
		ip = net.IPv4(127, 0, 0, 1)
	}
	addrType := "IP4"
	if ip.To4() == nil {
		addrType = "IP6"
	}
	sd := sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: "contactd", SessionID: o.ID, SessionVersion: o.Version,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: ip.String(),
		},
		SessionName: "contactd",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: ip.String()},
		},
		TimeDescriptions: []sdp.TimeDescription{{Timing: sdp.Timing{}}},
	}
	protos := []string{"RTP", "AVP"}
	if sec.profile != "" {
		protos = strings.Split(sec.profile, "/")
	}
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: port}, Protos: protos},
	}
	for _, c := range codecs {
		pt := strconv.Itoa(int(c.PayloadType))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		enc := fmt.Sprintf("%s/%d", c.Name, c.ClockRate)
		if c.Channels > 1 {
			enc += "/" + strconv.Itoa(c.Channels)
		}
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", pt+" "+enc))
		if strings.EqualFold(c.Name, "opus") {
			md.Attributes = append(md.Attributes, sdp.NewAttribute("fmtp", pt+" minptime=10;useinbandfec=1"))
		}
	}
	for _, te := range events {
		pt := strconv.Itoa(int(te.PayloadType))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes,
			sdp.NewAttribute("rtpmap", fmt.Sprintf("%s telephone-event/%d", pt, te.ClockRate)),
			sdp.NewAttribute("fmtp", pt+" 0-16"))
	}
	md.Attributes = append(md.Attributes, sdp.NewAttribute("ptime", "20"), sdp.NewPropertyAttribute(dir))
	if mux {
		md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute("rtcp-mux"))
	}
	for _, c := range sec.crypto {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("crypto", c))
	}
	sd.MediaDescriptions = []*sdp.MediaDescription{md}
	b, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal sdp: %w", err)
	}
	return b, nil
}
