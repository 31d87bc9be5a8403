package sip

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/contactd/contactd/media"
)

func sdpOf(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

var sdpHead = []string{"v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "c=IN IP4 10.0.0.1", "t=0 0"}

func offer(lines ...string) []byte { return sdpOf(append(append([]string{}, sdpHead...), lines...)...) }

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name     string
		body     []byte
		wantErr  error
		codec    string
		pt       uint8
		dtmfPT   uint8
		remote   string
		dtmfRate int
	}{
		{name: "opus preferred though offered last",
			body:  offer("m=audio 4000 RTP/AVP 0 8 96", "a=rtpmap:96 opus/48000/2"),
			codec: "opus", pt: 96, remote: "10.0.0.1:4000"},
		{name: "static PCMU without rtpmap",
			body:  offer("m=audio 4000 RTP/AVP 0"),
			codec: "PCMU", pt: 0, remote: "10.0.0.1:4000"},
		{name: "PCMA with telephone-event",
			body:  offer("m=audio 4002 RTP/AVP 8 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16"),
			codec: "PCMA", pt: 8, dtmfPT: 101, dtmfRate: 8000, remote: "10.0.0.1:4002"},
		{name: "telephone-event at the codec clock wins",
			body: offer("m=audio 4000 RTP/AVP 111 0 101 110", "a=rtpmap:111 OPUS/48000/2",
				"a=rtpmap:101 telephone-event/8000", "a=rtpmap:110 telephone-event/48000"),
			codec: "opus", pt: 111, dtmfPT: 110, dtmfRate: 48000, remote: "10.0.0.1:4000"},
		{name: "media-level c= overrides session",
			body:  offer("m=audio 5000 RTP/AVP 0", "c=IN IP4 192.0.2.7"),
			codec: "PCMU", remote: "192.0.2.7:5000"},
		{name: "IPv6",
			body:  sdpOf("v=0", "o=- 1 1 IN IP6 ::1", "s=-", "c=IN IP6 ::1", "t=0 0", "m=audio 5000 RTP/AVP 8"),
			codec: "PCMA", pt: 8, remote: "[::1]:5000"},
		{name: "disabled stream skipped",
			body:  offer("m=audio 0 RTP/AVP 0", "m=audio 6000 RTP/AVP 8"),
			codec: "PCMA", pt: 8, remote: "10.0.0.1:6000"},
		{name: "static G722 without rtpmap",
			body:  offer("m=audio 4000 RTP/AVP 9 0"),
			codec: "G722", pt: 9, remote: "10.0.0.1:4000"},
		{name: "G722 preferred over G.711",
			body:  offer("m=audio 4000 RTP/AVP 0 8 9 101", "a=rtpmap:9 G722/8000", "a=rtpmap:101 telephone-event/8000"),
			codec: "G722", pt: 9, dtmfPT: 101, dtmfRate: 8000, remote: "10.0.0.1:4000"},
		{name: "only GSM and G729", body: offer("m=audio 4000 RTP/AVP 3 18"), wantErr: ErrNoCommonCodec},
		{name: "opus at wrong clock", body: offer("m=audio 4000 RTP/AVP 96", "a=rtpmap:96 opus/16000"), wantErr: ErrNoCommonCodec},
		{name: "SRTP is parsed (crypto is the policy's)", body: offer("m=audio 4000 RTP/SAVP 0"), codec: "PCMU", remote: "10.0.0.1:4000"},
		{name: "DTLS-SRTP skipped", body: offer("m=audio 4000 UDP/TLS/RTP/SAVP 0"), wantErr: ErrNoCommonCodec},
		{name: "video only", body: offer("m=video 4000 RTP/AVP 96"), wantErr: ErrNoCommonCodec},
		{name: "garbage", body: []byte("hello there"), wantErr: ErrBadSDP},
		{name: "empty", body: nil, wantErr: ErrBadSDP},
		{name: "no c= line", body: sdpOf("v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 0"), wantErr: ErrBadSDP},
		{name: "host name in c=", body: sdpOf("v=0", "o=- 1 1 IN IP4 x", "s=-", "c=IN IP4 pbx.example.com", "t=0 0", "m=audio 4000 RTP/AVP 0"), wantErr: ErrBadSDP},
		{name: "payload type out of range", body: offer("m=audio 4000 RTP/AVP 300"), wantErr: ErrBadSDP},
		{name: "huge", body: append(offer("m=audio 4000 RTP/AVP 0"), make([]byte, maxSDPSize)...), wantErr: ErrBadSDP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseSDP(tc.body)
			var n negotiation
			if err == nil {
				n, err = negotiate(m, supportedCodecs())
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Codec.Name != tc.codec || n.Codec.PayloadType != tc.pt {
				t.Errorf("codec = %s/%d, want %s/%d", n.Codec.Name, n.Codec.PayloadType, tc.codec, tc.pt)
			}
			if n.dtmfPT() != tc.dtmfPT || (tc.dtmfPT != 0 && n.DTMF.ClockRate != tc.dtmfRate) {
				t.Errorf("dtmf = %+v, want pt %d rate %d", n.DTMF, tc.dtmfPT, tc.dtmfRate)
			}
			if m.Remote.String() != tc.remote {
				t.Errorf("remote = %s, want %s", m.Remote, tc.remote)
			}
		})
	}
}

// TestAnswerRoundTrip checks that what we write parses back to the same
// choice, using the offer's payload type numbers.
func TestAnswerRoundTrip(t *testing.T) {
	m, err := parseSDP(offer("m=audio 4000 RTP/AVP 120 0 100", "a=rtpmap:120 opus/48000/2", "a=rtpmap:100 telephone-event/48000"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := negotiate(m, supportedCodecs())
	if err != nil {
		t.Fatal(err)
	}
	ans, err := buildSDP(net.IPv4(192, 0, 2, 1), 7000, []media.Codec{n.Codec}, n.events())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"c=IN IP4 192.0.2.1", "o=contactd ", "m=audio 7000 RTP/AVP 120 100", "a=rtpmap:120 opus/48000/2", "a=rtpmap:100 telephone-event/48000", "a=sendrecv"} {
		if !strings.Contains(string(ans), want) {
			t.Errorf("answer lacks %q:\n%s", want, ans)
		}
	}
	back, err := parseSDP(ans)
	if err != nil {
		t.Fatal(err)
	}
	n2, err := negotiate(back, supportedCodecs())
	if err != nil || n2 != n {
		t.Fatalf("round trip = %+v, %v; want %+v", n2, err, n)
	}
}

func TestOfferEvents(t *testing.T) {
	got := offerEvents([]media.Codec{media.Opus, media.PCMU, media.PCMA})
	if len(got) != 2 || got[0].ClockRate != 48000 || got[1].ClockRate != 8000 || got[0].PayloadType == got[1].PayloadType {
		t.Fatalf("offerEvents = %+v", got)
	}
}

// FuzzParseSDPOffer feeds arbitrary bodies through the INVITE path: parse,
// negotiate, the SDES crypto choice (RTP/SAVP), answer. It must never
// panic, an answer we build must parse back to the same codec, and the
// offerer must find its own tag and our key in our crypto answer.
func FuzzParseSDPOffer(f *testing.F) {
	f.Add(offer("m=audio 4000 RTP/AVP 0 8 96 101", "a=rtpmap:96 opus/48000/2", "a=rtpmap:101 telephone-event/8000"))
	f.Add(offer("m=audio 4000 RTP/AVP 9"))
	f.Add([]byte("v=0\r\nm=audio 1 RTP/AVP 0\r\n"))
	for _, c := range []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
		"2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=0 WSH=64 -X",
		"3 AEAD_AES_128_GCM inline:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ",
		"1 AES_CM_128_HMAC_SHA1_80 inline:!!|2^99|300:1 UNENCRYPTED_SRTP",
		"x F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR;inline:AAAA",
	} {
		f.Add(offer("m=audio 4000 RTP/SAVP 0 101", "a=rtpmap:101 telephone-event/8000", "a=crypto:"+c))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseSDP(body)
		if err != nil {
			if !errors.Is(err, ErrBadSDP) && !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		n, err := negotiate(m, supportedCodecs())
		if err != nil {
			return
		}
		ans, err := buildSDP(net.IPv4(127, 0, 0, 1), 4000, []media.Codec{n.Codec}, n.events())
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseSDP(ans)
		if err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, ans)
		}
		n2, err := negotiate(back, supportedCodecs())
		if err != nil || n2.Codec != n.Codec {
			t.Fatalf("answer renegotiates to %+v, %v; want %+v", n2, err, n.Codec)
		}
		fuzzCrypto(t, m, n)
	})
}

// fuzzCrypto checks the crypto lines of a fuzzed offer: each line we
// accept writes back to itself, and an answer we make is one the offerer
// takes with its own key and ours.
func fuzzCrypto(t *testing.T, m *sdpMedia, n negotiation) {
	var offered []cryptoAttr
	for _, l := range m.Crypto {
		c, err := parseCrypto(l)
		if err != nil {
			continue
		}
		back, err := parseCrypto(c.String())
		if err != nil || back.String() != c.String() {
			t.Fatalf("%q writes back as %q: %v", l, c.String(), err)
		}
		offered = append(offered, c)
	}
	if !m.Secure {
		return
	}
	sec, err := answerOffer(nil, m)
	if err != nil {
		if !errors.Is(err, ErrNoCommonCrypto) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		return
	}
	ans, err := buildSDPSec(net.IPv4(127, 0, 0, 1), 4000, []media.Codec{n.Codec}, n.events(), sdpOrigin{1, 1}, "sendrecv", false, sec.sdp())
	if err != nil {
		t.Fatal(err)
	}
	back, err := parseSDP(ans)
	if err != nil {
		t.Fatalf("our SRTP answer does not parse: %v\n%s", err, ans)
	}
	got, err := takeAnswer(offered, back)
	if err != nil || !bytes.Equal(got.Remote.Key, sec.Local.Key) || !bytes.Equal(got.Local.Key, sec.Remote.Key) {
		t.Fatalf("offerer cannot take our answer: %+v, %v\n%s", got, err, ans)
	}
}

// TestStreamAttributes: rtcp-mux, a=rtcp and ptime are read from offers,
// rtcp-mux is answered only when offered, and we always answer 20 ms.
func TestStreamAttributes(t *testing.T) {
	tests := []struct {
		name    string
		body    []byte
		mux     bool
		rtcp    string
		ptime   int
		answers bool // our answer says a=rtcp-mux
	}{
		{name: "plain", body: offer("m=audio 4000 RTP/AVP 0")},
		{name: "rtcp-mux and ptime 30", body: offer("m=audio 4000 RTP/AVP 0", "a=rtcp-mux", "a=ptime:30"), mux: true, ptime: 30, answers: true},
		{name: "rtcp port only", body: offer("m=audio 4000 RTP/AVP 0", "a=rtcp:4005"), rtcp: "10.0.0.1:4005"},
		{name: "rtcp with address", body: offer("m=audio 4000 RTP/AVP 0", "a=rtcp:4005 IN IP4 192.0.2.9"), rtcp: "192.0.2.9:4005"},
		{name: "bad values ignored", body: offer("m=audio 4000 RTP/AVP 0", "a=rtcp:x", "a=ptime:-5"), ptime: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseSDP(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if m.RTCPMux != tc.mux || m.Ptime != tc.ptime {
				t.Errorf("mux %v ptime %d, want %v %d", m.RTCPMux, m.Ptime, tc.mux, tc.ptime)
			}
			if got := fmt.Sprint(m.RTCP); (tc.rtcp == "" && m.RTCP != nil) || (tc.rtcp != "" && got != tc.rtcp) {
				t.Errorf("rtcp %v, want %q", m.RTCP, tc.rtcp)
			}
			n, err := negotiate(m, supportedCodecs())
			if err != nil {
				t.Fatal(err)
			}
			o := n.startOptions(m.Remote)
			if o.RTCPMux != tc.mux || (tc.rtcp != "" && o.RTCPRemote.String() != tc.rtcp) {
				t.Errorf("start options %+v", o)
			}
			ans, err := buildSDPMux(net.IPv4(127, 0, 0, 1), 7000, []media.Codec{n.Codec}, n.events(), sdpOrigin{1, 1}, "sendrecv", n.RTCPMux)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(ans), "a=rtcp-mux"); got != tc.answers {
				t.Errorf("answer has rtcp-mux %v, want %v:\n%s", got, tc.answers, ans)
			}
			if !strings.Contains(string(ans), "a=ptime:20") {
				t.Errorf("answer lacks ptime 20:\n%s", ans)
			}
		})
	}
}
