package media

import (
	"fmt"
	"strings"

	"github.com/contactd/contactd/media/g711"
	"github.com/contactd/contactd/media/g722"
	"github.com/hraban/opus"
)

// Codecs contactd speaks, and the telephone-event formats for DTMF.
var (
	// Opus is advertised as opus/48000/2 per RFC 7587; we encode mono.
	Opus = Codec{Name: "opus", PayloadType: 111, ClockRate: 48000, Channels: 2}
	PCMU = Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000, Channels: 1}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000, Channels: 1}
	// G722 is 16 kHz audio whose RTP clock is 8000 (RFC 3551 §4.5.2).
	G722 = Codec{Name: "G722", PayloadType: 9, ClockRate: 8000, Channels: 1}

	// TelephoneEvent is RFC 4733 DTMF for G.711 peers.
	TelephoneEvent = Codec{Name: "telephone-event", PayloadType: 101, ClockRate: 8000, Channels: 1}
	// TelephoneEvent48k is RFC 4733 DTMF at Opus's clock, for opus-only peers.
	TelephoneEvent48k = Codec{Name: "telephone-event", PayloadType: 110, ClockRate: 48000, Channels: 1}
)

// Supported lists the audio codecs in preference order for SDP offers and
// answers.
var Supported = []Codec{Opus, G722, PCMU, PCMA}

// FindCodec looks up a supported codec (audio or telephone-event) by its SDP
// encoding name (case-insensitive) and clock rate.
func FindCodec(name string, clockRate int) (Codec, bool) {
	for _, c := range []Codec{Opus, G722, PCMU, PCMA, TelephoneEvent, TelephoneEvent48k} {
		if strings.EqualFold(c.Name, name) && c.ClockRate == clockRate {
			return c, true
		}
	}
	return Codec{}, false
}

// frameTicks is the RTP timestamp increment of one 20 ms frame.
func (c Codec) frameTicks() uint32 { return uint32(c.ClockRate / 50) }

// encoder turns one 16 kHz frame into an RTP payload appended to dst.
type encoder interface {
	encode(dst []byte, frame []int16) ([]byte, error)
}

// decoder turns one RTP payload into samples at its native rate (8 kHz
// for G.711, 16 kHz otherwise) appended to dst. The jitter buffer works at
// that rate; audio is widened to 16 kHz only for the consumers that need
// it (inbound.tick).
type decoder interface {
	decode(dst []int16, payload []byte) ([]int16, error)
	rate() int
}

func newEncoder(c Codec) (encoder, error) {
	switch {
	case strings.EqualFold(c.Name, "PCMU"):
		return &g711Encoder{alaw: false}, nil
	case strings.EqualFold(c.Name, "PCMA"):
		return &g711Encoder{alaw: true}, nil
	case strings.EqualFold(c.Name, "opus"):
		enc, err := opus.NewEncoder(SampleRate, 1, opus.AppVoIP)
		if err != nil {
			return nil, fmt.Errorf("media: opus encoder: %w", err)
		}
		return &opusEncoder{enc: enc}, nil
	case strings.EqualFold(c.Name, "G722"):
		enc, err := g722.NewEncoder()
		if err != nil {
			return nil, fmt.Errorf("media: g722 encoder: %w", err)
		}
		return &g722Encoder{enc: enc}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrCodec, c.Name)
}

func newDecoder(c Codec) (decoder, error) {
	switch {
	case strings.EqualFold(c.Name, "PCMU"):
		return &g711Decoder{alaw: false}, nil
	case strings.EqualFold(c.Name, "PCMA"):
		return &g711Decoder{alaw: true}, nil
	case strings.EqualFold(c.Name, "opus"):
		dec, err := opus.NewDecoder(SampleRate, 1)
		if err != nil {
			return nil, fmt.Errorf("media: opus decoder: %w", err)
		}
		return &opusDecoder{dec: dec, buf: make([]int16, 120*SampleRate/1000)}, nil
	case strings.EqualFold(c.Name, "G722"):
		dec, err := g722.NewDecoder()
		if err != nil {
			return nil, fmt.Errorf("media: g722 decoder: %w", err)
		}
		return &g722Decoder{dec: dec}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrCodec, c.Name)
}

type g711Encoder struct {
	alaw bool
	down downsampler
	buf  []int16
}

func (e *g711Encoder) encode(dst []byte, frame []int16) ([]byte, error) {
	e.buf = e.down.process(e.buf[:0], frame)
	if e.alaw {
		return g711.EncodeAlaw(dst, e.buf), nil
	}
	return g711.EncodeUlaw(dst, e.buf), nil
}

type g711Decoder struct{ alaw bool }

func (d *g711Decoder) decode(dst []int16, payload []byte) ([]int16, error) {
	if d.alaw {
		return g711.DecodeAlaw(dst, payload), nil
	}
	return g711.DecodeUlaw(dst, payload), nil
}

func (d *g711Decoder) rate() int { return NarrowRate }

type opusEncoder struct {
	enc *opus.Encoder
	buf [1500]byte
}

func (e *opusEncoder) encode(dst []byte, frame []int16) ([]byte, error) {
	n, err := e.enc.Encode(frame, e.buf[:])
	if err != nil {
		return dst, fmt.Errorf("media: opus encode: %w", err)
	}
	return append(dst, e.buf[:n]...), nil
}

type opusDecoder struct {
	dec *opus.Decoder
	buf []int16
}

func (d *opusDecoder) rate() int { return SampleRate }

func (d *opusDecoder) decode(dst []int16, payload []byte) ([]int16, error) {
	if len(payload) == 0 {
		return dst, fmt.Errorf("media: opus decode: empty payload")
	}
	n, err := d.dec.Decode(payload, d.buf)
	if err != nil {
		return dst, fmt.Errorf("media: opus decode: %w", err)
	}
	return append(dst, d.buf[:n]...), nil
}

// conceal synthesises n samples for a lost packet: from next's in-band FEC
// when the following packet is at hand, else by libopus PLC.
func (d *opusDecoder) conceal(dst []int16, n int, next []byte) []int16 {
	n = min(n, len(d.buf))
	n -= n % (SampleRate / 400) // whole 2.5 ms
	if n <= 0 {
		return dst
	}
	buf := d.buf[:n:n] // libopus takes the length from the capacity
	var err error
	if len(next) > 0 {
		err = d.dec.DecodeFEC(next, buf)
	} else {
		err = d.dec.DecodePLC(buf)
	}
	if err != nil {
		clear(buf)
	}
	return append(dst, buf...)
}

type g722Encoder struct{ enc *g722.Encoder }

func (e *g722Encoder) encode(dst []byte, frame []int16) ([]byte, error) {
	return e.enc.Encode(dst, frame), nil
}

type g722Decoder struct{ dec *g722.Decoder }

func (d *g722Decoder) rate() int { return SampleRate }

func (d *g722Decoder) decode(dst []int16, payload []byte) ([]int16, error) {
	return d.dec.Decode(dst, payload), nil
}
