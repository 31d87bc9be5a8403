package asreval

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/media/g711"
)

// ReadWAVFile reads a WAV file as 16 kHz mono PCM (see ReadWAV).
func ReadWAVFile(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pcm, err := ReadWAV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pcm, nil
}

// ReadWAV reads a RIFF/WAVE stream of 16-bit PCM, G.711 µ-law or A-law,
// any rate and channel count, and returns it as 16 kHz mono PCM (channels
// averaged). A data size larger than the stream, as programs writing to a
// pipe leave it, means "to the end".
func ReadWAV(r io.Reader) ([]int16, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return nil, err
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, errors.New("not a RIFF/WAVE file")
	}
	var format, channels, bits, rate int
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4 : p+8]))
		body := b[p+8:]
		switch id {
		case "fmt ":
			if size < 16 || len(body) < 16 {
				return nil, errors.New("short fmt chunk")
			}
			format = int(binary.LittleEndian.Uint16(body[0:2]))
			channels = int(binary.LittleEndian.Uint16(body[2:4]))
			rate = int(binary.LittleEndian.Uint32(body[4:8]))
			bits = int(binary.LittleEndian.Uint16(body[14:16]))
			if format == 0xFFFE && size >= 26 && len(body) >= 26 {
				format = int(binary.LittleEndian.Uint16(body[24:26])) // extensible: sub-format
			}
		case "data":
			if rate <= 0 || channels <= 0 {
				return nil, errors.New("data before a valid fmt chunk")
			}
			size = min(size, len(body))
			mono, err := decode(body[:size], format, bits, channels)
			if err != nil {
				return nil, err
			}
			return media.Resample(mono, rate, asr.SampleRate), nil
		}
		if size > len(body) {
			break
		}
		p += 8 + size + size&1
	}
	return nil, errors.New("no data chunk")
}

func decode(data []byte, format, bits, channels int) ([]int16, error) {
	var width int
	var sample func([]byte) int
	switch {
	case format == 1 && bits == 16:
		width = 2
		sample = func(b []byte) int { return int(int16(binary.LittleEndian.Uint16(b))) }
	case format == 7 && bits == 8:
		width = 1
		sample = func(b []byte) int { return int(g711.DecodeUlawSample(b[0])) }
	case format == 6 && bits == 8:
		width = 1
		sample = func(b []byte) int { return int(g711.DecodeAlawSample(b[0])) }
	default:
		return nil, fmt.Errorf("unsupported WAV encoding (format %d, %d bits): want 16-bit PCM or G.711", format, bits)
	}
	frame := width * channels
	out := make([]int16, len(data)/frame)
	for i := range out {
		sum := 0
		for c := range channels {
			sum += sample(data[i*frame+c*width:])
		}
		out[i] = int16(sum / channels)
	}
	return out, nil
}
