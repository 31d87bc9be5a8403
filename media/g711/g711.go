// Package g711 implements ITU-T G.711 µ-law (PCMU) and A-law (PCMA)
// companding between 16-bit linear PCM and 8-bit codes. It works sample by
// sample at whatever rate the caller uses (8 kHz on the wire); resampling
// lives in package media.
package g711

// Decoding goes through 256-entry tables built once at init; encoding uses
// the standard segment search (Sun's reference algorithm), which is branchy
// but allocation-free. Whole frames of µ-law are encoded through a table of
// that search's results (EncodeUlaw runs for every PCMU packet sent).

var (
	ulawTable [256]int16
	alawTable [256]int16
	// ulawMag[(min(|s|, ulawClip)+ulawBias)>>3] is the µ-law code of a
	// non-negative sample; a negative one's code has bit 7 cleared. The
	// segment and mantissa depend on the biased magnitude's bits from 3 up
	// only, so the table is exact.
	ulawMag [(ulawClip+ulawBias)>>3 + 1]uint8
)

func init() {
	for i := 0; i < 256; i++ {
		ulawTable[i] = ulawDecode(uint8(i))
		alawTable[i] = alawDecode(uint8(i))
	}
	for i := range ulawMag {
		ulawMag[i] = EncodeUlawSample(int16(max(0, i<<3-ulawBias)))
	}
}

// encodeUlawFast is EncodeUlawSample through ulawMag.
func encodeUlawFast(s int16) uint8 {
	v := int(s)
	mask := uint8(0xFF)
	if v < 0 {
		v, mask = -v, 0x7F
	}
	return ulawMag[(min(v, ulawClip)+ulawBias)>>3] & mask
}

const (
	ulawBias = 0x84
	ulawClip = 32635
)

// EncodeUlawSample compresses one linear sample to µ-law.
func EncodeUlawSample(s int16) uint8 {
	v := int(s)
	sign := 0
	if v < 0 {
		v = -v
		sign = 0x80
	}
	if v > ulawClip {
		v = ulawClip
	}
	v += ulawBias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0F
	return ^uint8(sign | exp<<4 | mant)
}

func ulawDecode(u uint8) int16 {
	u = ^u
	sign := u & 0x80
	exp := int(u>>4) & 0x07
	mant := int(u & 0x0F)
	v := ((mant << 3) + ulawBias) << exp
	v -= ulawBias
	if sign != 0 {
		return int16(-v)
	}
	return int16(v)
}

// DecodeUlawSample expands one µ-law code to linear PCM.
func DecodeUlawSample(u uint8) int16 { return ulawTable[u] }

// EncodeAlawSample compresses one linear sample to A-law.
func EncodeAlawSample(s int16) uint8 {
	v := int(s)
	sign := 0x80
	if v < 0 {
		sign = 0
		v = -v - 1 // keeps -32768 in range
	}
	var code int
	if v < 256 {
		code = v >> 4
	} else {
		exp := 1
		for t := v >> 8; t > 1 && exp < 7; t >>= 1 {
			exp++
		}
		code = exp<<4 | (v>>(exp+3))&0x0F
	}
	return uint8(code|sign) ^ 0x55
}

func alawDecode(a uint8) int16 {
	a ^= 0x55
	exp := int(a>>4) & 0x07
	mant := int(a & 0x0F)
	var v int
	if exp == 0 {
		v = mant<<4 + 8
	} else {
		v = (mant<<4 + 0x108) << (exp - 1)
	}
	if a&0x80 == 0 {
		return int16(-v)
	}
	return int16(v)
}

// DecodeAlawSample expands one A-law code to linear PCM.
func DecodeAlawSample(a uint8) int16 { return alawTable[a] }

// EncodeUlaw appends the µ-law codes of pcm to dst and returns it.
func EncodeUlaw(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, encodeUlawFast(s))
	}
	return dst
}

// DecodeUlaw appends the linear samples of the µ-law codes in src to dst.
func DecodeUlaw(dst []int16, src []byte) []int16 {
	for _, b := range src {
		dst = append(dst, ulawTable[b])
	}
	return dst
}

// EncodeAlaw appends the A-law codes of pcm to dst and returns it.
func EncodeAlaw(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, EncodeAlawSample(s))
	}
	return dst
}

// DecodeAlaw appends the linear samples of the A-law codes in src to dst.
func DecodeAlaw(dst []int16, src []byte) []int16 {
	for _, b := range src {
		dst = append(dst, alawTable[b])
	}
	return dst
}
