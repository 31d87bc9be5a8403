package media

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// roundTrip pushes pcm through a codec's encoder and decoder frame by
// frame, and widens narrowband output to 16 kHz the way inbound.tick does.
func roundTrip(t *testing.T, c Codec, pcm []int16) []int16 {
	t.Helper()
	native, rate := roundTripNative(t, c, pcm)
	if rate == SampleRate {
		return native
	}
	var up upsampler
	var out []int16
	for off := 0; off < len(native); off += rate / 50 {
		out = up.process(out, native[off:min(off+rate/50, len(native))])
	}
	return out
}

// roundTripNative is roundTrip at the decoder's own rate, which it returns.
func roundTripNative(t *testing.T, c Codec, pcm []int16) ([]int16, int) {
	t.Helper()
	enc, err := newEncoder(c)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := newDecoder(c)
	if err != nil {
		t.Fatal(err)
	}
	var out []int16
	var payload []byte
	for off := 0; off+FrameSamples <= len(pcm); off += FrameSamples {
		payload, err = enc.encode(payload[:0], pcm[off:off+FrameSamples])
		if err != nil {
			t.Fatal(err)
		}
		if c.ClockRate == 8000 && len(payload) != 160 {
			t.Fatalf("%s payload is %d bytes, want 160", c.Name, len(payload))
		}
		out, err = dec.decode(out, payload)
		if err != nil {
			t.Fatal(err)
		}
	}
	return out, dec.rate()
}

func TestCodecRoundTrip(t *testing.T) {
	tests := []struct {
		codec Codec
		freq  float64
		// passband tones keep their level; out-of-band ones must be cut
		minGain, maxGain float64
	}{
		{PCMU, 1000, 0.9, 1.1},
		{PCMA, 300, 0.9, 1.1},
		{PCMU, 3000, 0.85, 1.1},
		{PCMU, 6000, 0, 0.05}, // above 4 kHz: filtered, not aliased to 2 kHz
		{PCMA, 5000, 0, 0.05},
		{Opus, 440, 0.7, 1.3},
		{Opus, 3000, 0.7, 1.3},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%vHz", tc.codec.Name, tc.freq), func(t *testing.T) {
			in := Tone(tc.freq, time.Second, SampleRate, 0.5)
			out := roundTrip(t, tc.codec, in)
			if len(out) != len(in) {
				t.Fatalf("%d samples out of %d", len(out), len(in))
			}
			steady := out[10*FrameSamples:]
			gain := RMS(steady) / RMS(in)
			if gain < tc.minGain || gain > tc.maxGain {
				t.Fatalf("gain %.3f outside [%v, %v]", gain, tc.minGain, tc.maxGain)
			}
			if tc.minGain > 0 {
				assertTone(t, steady, SampleRate, tc.freq)
			}
		})
	}
	if _, err := newEncoder(Codec{Name: "G729"}); err == nil {
		t.Fatal("unknown codec accepted")
	}
}

func TestFindCodec(t *testing.T) {
	if c, ok := FindCodec("OPUS", 48000); !ok || c != Opus {
		t.Fatal("opus not found")
	}
	if c, ok := FindCodec("telephone-event", 8000); !ok || c.PayloadType != 101 {
		t.Fatal("telephone-event not found")
	}
	if _, ok := FindCodec("PCMU", 16000); ok {
		t.Fatal("PCMU/16000 found")
	}
}

func TestResample(t *testing.T) {
	tests := []struct {
		name       string
		from, to   int
		freq       float64
		passes     bool
		expectFreq float64
	}{
		{"espeak to internal", 22050, 16000, 1000, true, 1000},
		{"48k to 16k passband", 48000, 16000, 6000, true, 6000},
		{"48k to 16k stopband", 48000, 16000, 12000, false, 4000}, // would alias to 4 kHz
		{"8k to 16k", 8000, 16000, 440, true, 440},
		{"16k to 44.1k", 16000, 44100, 3000, true, 3000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Tone(tc.freq, 500*time.Millisecond, tc.from, 0.5)
			out := Resample(in, tc.from, tc.to)
			wantLen := len(in) * tc.to / tc.from
			if len(out) != wantLen {
				t.Fatalf("len %d, want %d", len(out), wantLen)
			}
			mid := out[len(out)/10 : len(out)*9/10] // skip edge effects
			gain := RMS(mid) / RMS(in)
			if tc.passes {
				if gain < 0.95 || gain > 1.05 {
					t.Fatalf("passband gain %.3f", gain)
				}
				assertTone(t, mid, tc.to, tc.expectFreq)
			} else if gain > 0.01 {
				t.Fatalf("stopband gain %.3f (alias at %v Hz power %g)", gain, tc.expectFreq, Goertzel(mid, tc.to, tc.expectFreq))
			}
		})
	}
	if Resample(nil, 8000, 16000) != nil || Resample([]int16{1}, 0, 16000) != nil {
		t.Fatal("degenerate input not nil")
	}
}

func TestDSPHelpers(t *testing.T) {
	full := Tone(1000, time.Second, SampleRate, 1)
	if p := Goertzel(full, SampleRate, 1000); math.Abs(p-0.25) > 0.01 {
		t.Fatalf("full-scale goertzel %f, want 0.25", p)
	}
	if r := RMS(full); math.Abs(r-32767/math.Sqrt2) > 50 {
		t.Fatalf("rms %f", r)
	}
	moh := MusicOnHold()
	if len(moh) < 3*SampleRate {
		t.Fatalf("music on hold is %d samples", len(moh))
	}
	if r := RMS(moh); r < 500 || r > 8000 {
		t.Fatalf("music on hold level %f: not gentle", r)
	}
	// Loops without a click: both ends are near silence.
	for _, s := range []int16{moh[0], moh[len(moh)-1]} {
		if s > 100 || s < -100 {
			t.Fatalf("loop boundary sample %d", s)
		}
	}
}

// FuzzInbound feeds arbitrary datagrams through the receive path of an
// Opus+DTMF leg: nothing may panic.
func FuzzInbound(f *testing.F) {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 1}, Payload: []byte{0xFC, 0xFF, 0xFE}}
	b, _ := p.Marshal()
	f.Add(b)
	p.PayloadType, p.Payload = 101, []byte{1, 0x8A, 0, 160}
	b, _ = p.Marshal()
	f.Add(b)
	f.Add([]byte{0xA0, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 1, 2, 200})
	f.Fuzz(func(t *testing.T, in []byte) {
		l := &RTPLeg{}
		l.log.log = orDefaultLogger(nil)
		l.in = newInbound(4, &l.stats, &l.log)
		dec, err := newDecoder(Opus)
		if err != nil {
			t.Fatal(err)
		}
		l.in.configure(Opus, 111, dec, 101, true, true)
		var pkt rtp.Packet
		now := time.Now()
		for i := 0; i < 3; i++ {
			if isRTCP(in) {
				l.rtcp.handle(in, now, 1)
				continue
			}
			l.handleDatagram(&pkt, in, now)
		}
		// Play it out: decoding happens on the clock.
		for i := 0; i < 8; i++ {
			now = now.Add(FrameDuration)
			l.in.tick(now)
		}
	})
}
