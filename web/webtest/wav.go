package webtest

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

// WriteWAV writes samples as a 16-bit PCM mono WAV file at rate Hz, the format
// that Chromium's fake microphone reads.
func WriteWAV(w io.Writer, rate int, samples []int16) error {
	if rate <= 0 {
		return fmt.Errorf("webtest: wav: bad sample rate %d", rate)
	}
	dataLen := uint32(2 * len(samples))
	hdr := make([]byte, 0, 44)
	hdr = append(hdr, "RIFF"...)
	hdr = binary.LittleEndian.AppendUint32(hdr, 36+dataLen)
	hdr = append(hdr, "WAVEfmt "...)
	hdr = binary.LittleEndian.AppendUint32(hdr, 16)           // fmt chunk size
	hdr = binary.LittleEndian.AppendUint16(hdr, 1)            // PCM
	hdr = binary.LittleEndian.AppendUint16(hdr, 1)            // mono
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(rate)) // sample rate
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(rate*2))
	hdr = binary.LittleEndian.AppendUint16(hdr, 2)  // block align
	hdr = binary.LittleEndian.AppendUint16(hdr, 16) // bits per sample
	hdr = append(hdr, "data"...)
	hdr = binary.LittleEndian.AppendUint32(hdr, dataLen)
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("webtest: wav header: %w", err)
	}
	body := make([]byte, 0, dataLen)
	for _, s := range samples {
		body = binary.LittleEndian.AppendUint16(body, uint16(s))
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("webtest: wav data: %w", err)
	}
	return nil
}

// Tone returns d of a sine at hz Hz sampled at rate Hz, with peak amplitude
// amp (0..1).
func Tone(rate int, hz float64, d time.Duration, amp float64) []int16 {
	n := int(float64(rate) * d.Seconds())
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.MaxInt16 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return out
}

// WriteToneWAV writes a 48 kHz mono WAV file of d of a hz Hz sine at half
// scale to path: a fake microphone input that is easy to detect.
func WriteToneWAV(path string, hz float64, d time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("webtest: %w", err)
	}
	if err := WriteWAV(f, 48000, Tone(48000, hz, d, 0.5)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("webtest: %w", err)
	}
	return nil
}
