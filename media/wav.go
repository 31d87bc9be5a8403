package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/contactd/contactd/media/g711"
)

// wavHeaderSize is the size of the canonical 44-byte header WriteWAV and
// Recorder write.
const wavHeaderSize = 44

// maxFmtChunk bounds how much of a fmt chunk is read, so a hostile header
// cannot make us allocate gigabytes.
const maxFmtChunk = 4096

// wavLaw is a WAV sample format we write: 16-bit PCM or 8-bit G.711.
type wavLaw uint8

const (
	lawPCM16 wavLaw = iota
	lawUlaw
	lawAlaw
)

// WAV format tags.
const (
	wavTagPCM  = 1
	wavTagAlaw = 6
	wavTagUlaw = 7
)

func (l wavLaw) tag() uint16 {
	switch l {
	case lawUlaw:
		return wavTagUlaw
	case lawAlaw:
		return wavTagAlaw
	}
	return wavTagPCM
}

// size is the bytes per sample.
func (l wavLaw) size() int {
	if l == lawPCM16 {
		return 2
	}
	return 1
}

// encode appends pcm in l's format to dst.
func (l wavLaw) encode(dst []byte, pcm []int16) []byte {
	switch l {
	case lawUlaw:
		return g711.EncodeUlaw(dst, pcm)
	case lawAlaw:
		return g711.EncodeAlaw(dst, pcm)
	}
	at := len(dst)
	dst = slices.Grow(dst, 2*len(pcm))[:at+2*len(pcm)]
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(dst[at+2*i:], uint16(v))
	}
	return dst
}

// decode appends b's samples, in l's format, to dst.
func (l wavLaw) decode(dst []int16, b []byte) []int16 {
	switch l {
	case lawUlaw:
		return g711.DecodeUlaw(dst, b)
	case lawAlaw:
		return g711.DecodeAlaw(dst, b)
	}
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, int16(binary.LittleEndian.Uint16(b[i:])))
	}
	return dst
}

// silence appends n silent samples in l's format to dst.
func (l wavLaw) silence(dst []byte, n int) []byte {
	if n <= 0 {
		return dst
	}
	var z byte // PCM
	switch l {
	case lawUlaw:
		z = 0xFF
	case lawAlaw:
		z = 0xD5
	}
	at := len(dst)
	dst = slices.Grow(dst, n*l.size())[:at+n*l.size()]
	for i := at; i < len(dst); i++ {
		dst[i] = z
	}
	return dst
}

// wavHeader returns a canonical PCM16 header for dataBytes of samples.
func wavHeader(rate, channels int, dataBytes uint32) [wavHeaderSize]byte {
	return wavHeaderLaw(lawPCM16, rate, channels, dataBytes)
}

// wavHeaderLaw is the canonical 44-byte header (a 16-byte fmt chunk, the
// sizes at offsets 4 and 40) for dataBytes of samples in law.
func wavHeaderLaw(law wavLaw, rate, channels int, dataBytes uint32) [wavHeaderSize]byte {
	var h [wavHeaderSize]byte
	le := binary.LittleEndian
	size := law.size()
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], 36+dataBytes)
	copy(h[8:], "WAVE")
	copy(h[12:], "fmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], law.tag())
	le.PutUint16(h[22:], uint16(channels))
	le.PutUint32(h[24:], uint32(rate))
	le.PutUint32(h[28:], uint32(rate*channels*size))
	le.PutUint16(h[32:], uint16(channels*size))
	le.PutUint16(h[34:], uint16(8*size))
	copy(h[36:], "data")
	le.PutUint32(h[40:], dataBytes)
	return h
}

// WriteWAV writes pcm (interleaved when channels > 1) as a 16-bit PCM WAV.
func WriteWAV(w io.Writer, pcm []int16, rate, channels int) error {
	if rate <= 0 || channels <= 0 || channels > 16 {
		return fmt.Errorf("%w: rate %d, %d channels", ErrWAVFormat, rate, channels)
	}
	if uint64(len(pcm))*2 > 0xFFFFFFFF-36 {
		return fmt.Errorf("%w: too long for a wav file", ErrWAVFormat)
	}
	h := wavHeader(rate, channels, uint32(len(pcm)*2))
	bw := bufio.NewWriter(w)
	if _, err := bw.Write(h[:]); err != nil {
		return fmt.Errorf("media: write wav: %w", err)
	}
	var b [2]byte
	for _, s := range pcm {
		binary.LittleEndian.PutUint16(b[:], uint16(s))
		if _, err := bw.Write(b[:]); err != nil {
			return fmt.Errorf("media: write wav: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("media: write wav: %w", err)
	}
	return nil
}

// ReadWAV reads a 16-bit PCM WAV (plain or WAVE_FORMAT_EXTENSIBLE) or an
// 8-bit G.711 one (µ-law or A-law, as a G.711 call is recorded) and
// returns its interleaved samples, decoded. A data chunk that claims more bytes than
// the file holds (a streamed or crash-truncated recording) yields the samples
// present; other formats and broken headers are errors wrapping ErrWAVFormat
// or ErrWAVMalformed.
func ReadWAV(r io.Reader) (pcm []int16, rate, channels int, err error) {
	br := bufio.NewReader(r)
	var riff [12]byte
	if _, err := io.ReadFull(br, riff[:]); err != nil {
		return nil, 0, 0, fmt.Errorf("%w: short riff header: %v", ErrWAVMalformed, err)
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return nil, 0, 0, fmt.Errorf("%w: not a RIFF/WAVE file", ErrWAVMalformed)
	}
	le := binary.LittleEndian
	haveFmt := false
	var law wavLaw
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			return nil, 0, 0, fmt.Errorf("%w: no data chunk", ErrWAVMalformed)
		}
		id, size := string(ch[0:4]), le.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if size < 16 || size > maxFmtChunk {
				return nil, 0, 0, fmt.Errorf("%w: fmt chunk of %d bytes", ErrWAVMalformed, size)
			}
			f := make([]byte, size+size&1)
			if _, err := io.ReadFull(br, f); err != nil {
				return nil, 0, 0, fmt.Errorf("%w: short fmt chunk: %v", ErrWAVMalformed, err)
			}
			format := le.Uint16(f[0:])
			channels = int(le.Uint16(f[2:]))
			rate = int(le.Uint32(f[4:]))
			bits := le.Uint16(f[14:])
			if format == 0xFFFE && size >= 26 {
				format = le.Uint16(f[24:]) // sub-format GUID starts with the tag
			}
			switch {
			case format == wavTagPCM && bits == 16:
				law = lawPCM16
			case format == wavTagUlaw && bits == 8:
				law = lawUlaw
			case format == wavTagAlaw && bits == 8:
				law = lawAlaw
			case format == wavTagPCM || format == wavTagUlaw || format == wavTagAlaw:
				return nil, 0, 0, fmt.Errorf("%w: format tag %#x with %d bits per sample", ErrWAVFormat, format, bits)
			default:
				return nil, 0, 0, fmt.Errorf("%w: format tag %#x, want PCM or G.711", ErrWAVFormat, format)
			}
			if channels < 1 || channels > 16 || rate < 1 || rate > 384000 {
				return nil, 0, 0, fmt.Errorf("%w: %d channels at %d Hz", ErrWAVFormat, channels, rate)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, 0, 0, fmt.Errorf("%w: data before fmt", ErrWAVMalformed)
			}
			data, err := io.ReadAll(io.LimitReader(br, int64(size)))
			if err != nil {
				return nil, 0, 0, fmt.Errorf("media: read wav data: %w", err)
			}
			n := len(data) / law.size()
			n -= n % channels // whole sample frames only
			pcm = law.decode(make([]int16, 0, n), data[:n*law.size()])
			return pcm, rate, channels, nil
		default:
			skip := int64(size) + int64(size&1)
			if _, err := io.CopyN(io.Discard, br, skip); err != nil {
				if errors.Is(err, io.EOF) {
					return nil, 0, 0, fmt.Errorf("%w: no data chunk", ErrWAVMalformed)
				}
				return nil, 0, 0, fmt.Errorf("media: read wav: %w", err)
			}
		}
	}
}
