package media

import (
	"encoding/binary"
	"fmt"
	"os"
)

const (
	// recorderMaxLag is how far (200 ms) one channel may run ahead before
	// the other is padded with silence.
	recorderMaxLag = SampleRate / 5
	// recorderHeaderEvery is how much audio (1 s) is written between header
	// rewrites: a crash loses at most that much.
	recorderHeaderEvery = SampleRate * 2 * 2
)

// Recorder writes a call to a stereo 16 kHz WAV, caller left and agent
// right. The file is a valid WAV from creation on: samples are written as
// they are paired and the header's sizes are rewritten every second, so a
// crash loses at most the last second. Its methods are for one goroutine
// (the call's owner).
type Recorder struct {
	f           *os.File
	caller      []int16
	agent       []int16
	buf         []byte
	written     uint32 // data bytes in the file
	sinceHeader uint32
	err         error // first write error, reported by Close
	closed      bool
}

// NewRecorder creates (or truncates) path and writes an empty WAV header.
func NewRecorder(path string) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("media: create recording: %w", err)
	}
	h := wavHeader(SampleRate, 2, 0)
	if _, err := f.Write(h[:]); err != nil {
		f.Close()
		return nil, fmt.Errorf("media: write recording header: %w", err)
	}
	return &Recorder{f: f}, nil
}

// WriteCaller adds caller audio (16 kHz mono) to the left channel.
func (r *Recorder) WriteCaller(frame []int16) {
	if r.closed {
		return
	}
	r.caller = append(r.caller, frame...)
	r.drain(false)
}

// WriteAgent adds agent audio (16 kHz mono) to the right channel.
func (r *Recorder) WriteAgent(frame []int16) {
	if r.closed {
		return
	}
	r.agent = append(r.agent, frame...)
	r.drain(false)
}

// drain writes paired samples; a channel more than recorderMaxLag behind (or
// either, when final) is padded with silence first.
func (r *Recorder) drain(final bool) {
	lc, la := len(r.caller), len(r.agent)
	if final || lc-la > recorderMaxLag {
		r.agent = append(r.agent, make([]int16, max(0, lc-la))...)
	}
	if final || la-lc > recorderMaxLag {
		r.caller = append(r.caller, make([]int16, max(0, la-lc))...)
	}
	n := min(len(r.caller), len(r.agent))
	if n == 0 {
		return
	}
	r.buf = r.buf[:0]
	for i := 0; i < n; i++ {
		r.buf = binary.LittleEndian.AppendUint16(r.buf, uint16(r.caller[i]))
		r.buf = binary.LittleEndian.AppendUint16(r.buf, uint16(r.agent[i]))
	}
	r.caller = r.caller[:copy(r.caller, r.caller[n:])]
	r.agent = r.agent[:copy(r.agent, r.agent[n:])]
	if r.err != nil {
		return
	}
	if uint64(r.written)+uint64(len(r.buf)) > 0xFFFFFFFF-36 {
		r.err = fmt.Errorf("media: recording exceeds the wav size limit")
		return
	}
	if _, err := r.f.Write(r.buf); err != nil {
		r.err = fmt.Errorf("media: write recording: %w", err)
		return
	}
	r.written += uint32(len(r.buf))
	r.sinceHeader += uint32(len(r.buf))
	if r.sinceHeader >= recorderHeaderEvery {
		r.writeSizes()
	}
}

// writeSizes rewrites the RIFF and data sizes to cover what is written.
func (r *Recorder) writeSizes() {
	r.sinceHeader = 0
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], 36+r.written)
	if _, err := r.f.WriteAt(b[:], 4); err != nil && r.err == nil {
		r.err = fmt.Errorf("media: update recording header: %w", err)
	}
	binary.LittleEndian.PutUint32(b[:], r.written)
	if _, err := r.f.WriteAt(b[:], 40); err != nil && r.err == nil {
		r.err = fmt.Errorf("media: update recording header: %w", err)
	}
}

// Samples is how many samples per channel are in the file so far.
func (r *Recorder) Samples() int { return int(r.written / 4) }

// Close writes what is buffered (padding the shorter channel), finalises the
// header, syncs and closes the file. It returns the first error met while
// recording. Safe twice.
func (r *Recorder) Close() error {
	if r.closed {
		return r.err
	}
	r.closed = true
	r.drain(true)
	r.writeSizes()
	if err := r.f.Sync(); err != nil && r.err == nil {
		r.err = fmt.Errorf("media: sync recording: %w", err)
	}
	if err := r.f.Close(); err != nil && r.err == nil {
		r.err = fmt.Errorf("media: close recording: %w", err)
	}
	return r.err
}
