package g711

import (
	"math"
	"testing"
)

func TestKnownCodes(t *testing.T) {
	tests := []struct {
		name string
		enc  func(int16) uint8
		in   int16
		want uint8
	}{
		{"ulaw zero", EncodeUlawSample, 0, 0xFF},
		{"ulaw max", EncodeUlawSample, 32767, 0x80},
		{"ulaw min", EncodeUlawSample, -32768, 0x00},
		{"alaw zero", EncodeAlawSample, 0, 0xD5},
		{"alaw max", EncodeAlawSample, 32767, 0xAA},
		{"alaw min", EncodeAlawSample, -32768, 0x2A},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.enc(tc.in); got != tc.want {
				t.Fatalf("encode(%d) = %#x, want %#x", tc.in, got, tc.want)
			}
		})
	}
}

func TestRoundTripError(t *testing.T) {
	tests := []struct {
		name string
		enc  func(int16) uint8
		dec  func(uint8) int16
	}{
		{"ulaw", EncodeUlawSample, DecodeUlawSample},
		{"alaw", EncodeAlawSample, DecodeAlawSample},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for v := -32768; v <= 32767; v += 7 {
				got := tc.dec(tc.enc(int16(v)))
				// Companding keeps the relative error under ~1/16 above the
				// linear segment.
				tol := math.Max(40, math.Abs(float64(v))/14)
				if math.Abs(float64(got)-float64(v)) > tol {
					t.Fatalf("%d -> %d, error beyond %f", v, got, tol)
				}
			}
			// Every code decodes and re-encodes to itself (except the
			// µ-law negative zero, which folds onto positive zero).
			for c := 0; c < 256; c++ {
				re := tc.enc(tc.dec(uint8(c)))
				if re != uint8(c) && !(tc.name == "ulaw" && c == 0x7F) {
					t.Fatalf("code %#x -> %d -> %#x", c, tc.dec(uint8(c)), re)
				}
			}
		})
	}
}

// The table behind EncodeUlaw gives the segment search's code for every
// 16-bit sample.
func TestUlawTableExact(t *testing.T) {
	pcm := make([]int16, 0, 65536)
	for v := -32768; v <= 32767; v++ {
		pcm = append(pcm, int16(v))
	}
	got := EncodeUlaw(nil, pcm)
	for i, s := range pcm {
		if want := EncodeUlawSample(s); got[i] != want {
			t.Fatalf("EncodeUlaw(%d) = %#x, want %#x", s, got[i], want)
		}
	}
}

func BenchmarkEncodeUlaw(b *testing.B) {
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(float64(i)/5))
	}
	dst := make([]byte, 0, 160)
	for b.Loop() {
		dst = EncodeUlaw(dst[:0], pcm)
	}
}
