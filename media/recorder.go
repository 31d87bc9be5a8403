package media

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
)

// Recorder writes a call to a stereo 16-bit WAV, caller left and agent
// right, at 16 kHz or (NewRecorderRate) 8 kHz: a G.711 call holds nothing
// above 4 kHz, so its recording is kept at 8 kHz, half the size, and the
// relayed legs' frames go in as decoded, not upsampled (NativeFrames).
// The file is a valid WAV from creation on: paired samples are written
// every quarter second or so and the header's sizes are rewritten every
// second, so a crash loses at most the last second or so. The file is
// written by the recorder's own goroutine: Write never waits for the disk
// (a relayed leg records from the media reader, which must not stall).
// Its methods are safe for concurrent use: a relayed leg writes its
// channel from the media reader (RTPLeg.RecordTo) while the mixer may
// write the other.
type Recorder struct {
	mu     sync.Mutex
	rate   int
	caller []int16
	agent  []int16
	conv   [2]recConv // per channel: frames at the other rate
	buf    []byte     // paired samples not yet handed to the writer
	queued uint64     // data bytes handed to the writer
	closed bool

	// The writer goroutine's: it owns the file.
	f           *os.File
	wq          chan []byte // gathered samples, in order
	free        chan []byte // written buffers, for reuse
	done        chan struct{}
	written     uint32 // data bytes in the file
	sinceHeader uint32
	err         error // first write error, reported by Close (after done)
}

// recQueue is how many gathered buffers (a quarter second each) may wait
// for the disk before Write waits too.
const recQueue = 16

// recConv converts one channel's frames that come at the rate the file
// is not at (state kept across frames).
type recConv struct {
	down downsampler
	up   upsampler
	buf  []int16
}

// NewRecorder creates (or truncates) path and writes an empty 16 kHz WAV
// header.
func NewRecorder(path string) (*Recorder, error) { return NewRecorderRate(path, SampleRate) }

// NewRecorderRate is NewRecorder at rate: SampleRate or NarrowRate.
func NewRecorderRate(path string, rate int) (*Recorder, error) {
	if rate != SampleRate && rate != NarrowRate {
		return nil, fmt.Errorf("media: recording rate %d: want %d or %d", rate, SampleRate, NarrowRate)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("media: create recording: %w", err)
	}
	h := wavHeader(rate, 2, 0)
	if _, err := f.Write(h[:]); err != nil {
		f.Close()
		return nil, fmt.Errorf("media: write recording header: %w", err)
	}
	r := &Recorder{f: f, rate: rate, wq: make(chan []byte, recQueue), free: make(chan []byte, 2), done: make(chan struct{})}
	go r.writer()
	return r, nil
}

// maxLag is how far (200 ms, in samples) one channel may run ahead
// before the other is padded with silence.
func (r *Recorder) maxLag() int { return r.rate / 5 }

// headerEvery is how much audio (1 s, in data bytes) is written between
// header rewrites: a crash loses at most that much.
func (r *Recorder) headerEvery() uint32 { return uint32(r.rate * 2 * 2) }

// writeBytes is how much paired audio (a quarter second, in bytes) is
// gathered before a write: one write(2) per quarter second, not one per
// frame, which counts with a thousand calls recording at once.
func (r *Recorder) writeBytes() int { return r.rate }

// The recording's channels (Write).
const (
	CallerChannel = 0 // left
	AgentChannel  = 1 // right
)

// Rate is the recording's sample rate.
func (r *Recorder) Rate() int { return r.rate }

// WriteCaller adds caller audio (16 kHz mono) to the left channel.
func (r *Recorder) WriteCaller(frame []int16) { r.Write(CallerChannel, frame, SampleRate) }

// WriteAgent adds agent audio (16 kHz mono) to the right channel.
func (r *Recorder) WriteAgent(frame []int16) { r.Write(AgentChannel, frame, SampleRate) }

// Write adds mono audio at rate (SampleRate or NarrowRate; other rates
// are dropped) to CallerChannel or AgentChannel.
func (r *Recorder) Write(channel int, pcm []int16, rate int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || channel != CallerChannel && channel != AgentChannel {
		return
	}
	if rate != r.rate {
		c := &r.conv[channel]
		switch {
		case rate == SampleRate && r.rate == NarrowRate:
			c.buf = c.down.process(c.buf[:0], pcm)
		case rate == NarrowRate && r.rate == SampleRate:
			c.buf = c.up.process(c.buf[:0], pcm)
		default:
			return
		}
		pcm = c.buf
	}
	if channel == CallerChannel {
		r.caller = append(r.caller, pcm...)
	} else {
		r.agent = append(r.agent, pcm...)
	}
	r.drain(false)
}

// drain pairs samples and writes them once writeBytes are gathered
// (or when final); a channel more than maxLag behind (or either, when
// final) is padded with silence first.
func (r *Recorder) drain(final bool) {
	lc, la := len(r.caller), len(r.agent)
	if final || lc-la > r.maxLag() {
		r.agent = append(r.agent, make([]int16, max(0, lc-la))...)
	}
	if final || la-lc > r.maxLag() {
		r.caller = append(r.caller, make([]int16, max(0, la-lc))...)
	}
	if n := min(len(r.caller), len(r.agent)); n > 0 {
		at := len(r.buf)
		r.buf = append(r.buf, make([]byte, 4*n)...)
		b := r.buf[at:]
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint16(b[4*i:], uint16(r.caller[i]))
			binary.LittleEndian.PutUint16(b[4*i+2:], uint16(r.agent[i]))
		}
		r.caller = r.caller[:copy(r.caller, r.caller[n:])]
		r.agent = r.agent[:copy(r.agent, r.agent[n:])]
	}
	if final || len(r.buf) >= r.writeBytes() {
		r.flush()
	}
}

// flush hands the gathered samples to the writer.
func (r *Recorder) flush() {
	b := r.buf
	if len(b) == 0 {
		return
	}
	select {
	case r.buf = <-r.free:
		r.buf = r.buf[:0]
	default:
		r.buf = make([]byte, 0, cap(b))
	}
	r.queued += uint64(len(b))
	r.wq <- b
}

// writer writes what flush hands it and, every second of audio, the
// header's sizes, until Close.
func (r *Recorder) writer() {
	defer close(r.done)
	for b := range r.wq {
		r.write(b)
		select {
		case r.free <- b:
		default:
		}
	}
}

func (r *Recorder) write(b []byte) {
	if r.err != nil {
		return
	}
	if uint64(r.written)+uint64(len(b)) > 0xFFFFFFFF-36 {
		r.err = fmt.Errorf("media: recording exceeds the wav size limit")
		return
	}
	if _, err := r.f.Write(b); err != nil {
		r.err = fmt.Errorf("media: write recording: %w", err)
		return
	}
	r.written += uint32(len(b))
	r.sinceHeader += uint32(len(b))
	if r.sinceHeader >= r.headerEvery() {
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

// Samples is how many samples per channel are recorded so far (the last
// quarter second of them, and whatever the writer has yet to write, may
// not be in the file yet).
func (r *Recorder) Samples() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int((r.queued + uint64(len(r.buf))) / 4)
}

// Sink is channel's writer for a leg that records itself
// (RTPLeg.RecordTo).
func (r *Recorder) Sink(channel int) func(pcm []int16, rate int) {
	return func(pcm []int16, rate int) { r.Write(channel, pcm, rate) }
}

// Close writes what is buffered (padding the shorter channel), finalises the
// header, syncs and closes the file. It returns the first error met while
// recording. Safe twice.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		<-r.done
		return r.err
	}
	r.closed = true
	r.drain(true)
	close(r.wq)
	<-r.done
	r.writeSizes()
	if err := r.f.Sync(); err != nil && r.err == nil {
		r.err = fmt.Errorf("media: sync recording: %w", err)
	}
	if err := r.f.Close(); err != nil && r.err == nil {
		r.err = fmt.Errorf("media: close recording: %w", err)
	}
	return r.err
}
