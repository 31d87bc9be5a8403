// Package g722 is ITU-T G.722 wideband audio (16 kHz, 64 kbit/s SB-ADPCM)
// through libspandsp, the implementation Asterisk and FreeSWITCH ship. The
// state lives in Go memory (it holds no pointers), so nothing needs freeing.
//
// No pure-Go implementation was reachable through the module proxy; this one
// needs Debian's libspandsp-dev at build time.
package g722

/*
#cgo pkg-config: spandsp
#include <stdint.h>
#include <spandsp/telephony.h>
#include <spandsp/g722.h>
#include <spandsp/private/g722.h>
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Rate is the only bit rate offered: 64 kbit/s, one byte per two samples.
const Rate = 64000

var errInit = errors.New("g722: init failed")

// Encoder turns 16 kHz PCM into G.722 bytes. Not safe for concurrent use.
type Encoder struct{ s C.g722_encode_state_t }

// NewEncoder returns a 64 kbit/s encoder.
func NewEncoder() (*Encoder, error) {
	e := &Encoder{}
	if C.g722_encode_init(&e.s, Rate, 0) == nil {
		return nil, errInit
	}
	return e, nil
}

// Encode appends the encoding of pcm (an even number of 16 kHz samples
// gives whole bytes) to dst.
func (e *Encoder) Encode(dst []byte, pcm []int16) []byte {
	if len(pcm) == 0 {
		return dst
	}
	n := len(dst)
	need := (len(pcm) + 1) / 2
	dst = grow(dst, need)
	w := C.g722_encode(&e.s, (*C.uint8_t)(unsafe.Pointer(&dst[n])), (*C.int16_t)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)))
	return dst[:n+int(w)]
}

// Decoder turns G.722 bytes into 16 kHz PCM. Not safe for concurrent use.
type Decoder struct{ s C.g722_decode_state_t }

// NewDecoder returns a 64 kbit/s decoder.
func NewDecoder() (*Decoder, error) {
	d := &Decoder{}
	if C.g722_decode_init(&d.s, Rate, 0) == nil {
		return nil, errInit
	}
	return d, nil
}

// Decode appends the two 16 kHz samples each byte of data carries to dst.
func (d *Decoder) Decode(dst []int16, data []byte) []int16 {
	if len(data) == 0 {
		return dst
	}
	n := len(dst)
	dst = grow(dst, 2*len(data))
	w := C.g722_decode(&d.s, (*C.int16_t)(unsafe.Pointer(&dst[n])), (*C.uint8_t)(unsafe.Pointer(&data[0])), C.int(len(data)))
	return dst[:n+int(w)]
}

// grow extends s by n elements, reallocating only when capacity is short.
func grow[T any](s []T, n int) []T {
	if cap(s)-len(s) < n {
		t := make([]T, len(s), 2*len(s)+n)
		copy(t, s)
		s = t
	}
	return s[:len(s)+n]
}
