package media

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"sync"
)

// Recorder writes a call to a stereo WAV, caller left and agent right:
// 16-bit PCM at 16 kHz (NewRecorder) or 8 kHz (NewRecorderRate), or
// G.711 at 8 kHz (NewRecorderG711), the telephone network's own format:
// a G.711 call holds nothing above 4 kHz, so its recording is kept in the
// call's own bytes, a quarter the size of 16 kHz PCM, and a relayed leg's
// packets go in as they are, not decoded (RTPLeg.RecordTo, WriteG711).
// The file is a valid WAV from creation on: paired samples are written
// every half second and the header's sizes are rewritten every
// second, so a crash loses at most the last second or so. The file is
// written by the recorder's own goroutine: no Write waits for the disk
// (a relayed leg records from the media reader, which must not stall).
// Its methods are safe for concurrent use: a relayed leg writes its
// channel from the media reader while the mixer may write the other.
type Recorder struct {
	mu      sync.Mutex
	rate    int
	law     wavLaw     // the file's sample format
	ch      [2][]byte  // per channel: samples in the file's format, not yet paired
	conv    [2]recConv // per channel: frames at the other rate
	decoded []int16    // WriteG711's samples in the other law, decoded
	buf     []byte     // paired samples not yet handed to the writer
	queued  uint64     // data bytes handed to the writer
	gap     int        // data bytes the writer had no room for, to be silence
	gaps    uint64     // all such bytes, for Close's report
	closed  bool

	// The writer goroutine's: it owns the file.
	f           recFile
	wq          chan recChunk // gathered samples, in order
	free        chan []byte   // written buffers, for reuse
	done        chan struct{}
	written     uint32 // data bytes in the file
	sinceHeader uint32
	err         error // first write error, reported by Close (after done)
}

// recQueue is how many gathered buffers (half a second each) may wait
// for the disk. When the disk falls further behind, Write waits, but a
// Sink (the media reader recording a relayed leg) does not: what does not
// fit becomes silence of the same length (the call's timeline holds).
const recQueue = 8

// recFile is the recording's file (an *os.File; tests slow it down).
type recFile interface {
	Write(b []byte) (int, error)
	WriteAt(b []byte, off int64) (int, error)
	Sync() error
	Close() error
}

// recChunk is gap bytes of silence, then b.
type recChunk struct {
	gap int
	b   []byte
}

// recConv converts one channel's frames that come at the rate the file
// is not at (state kept across frames).
type recConv struct {
	down downsampler
	up   upsampler
	buf  []int16
}

// NewRecorder creates (or truncates) path and writes an empty 16 kHz
// PCM WAV header.
func NewRecorder(path string) (*Recorder, error) { return NewRecorderRate(path, SampleRate) }

// NewRecorderRate is NewRecorder at rate: SampleRate or NarrowRate.
func NewRecorderRate(path string, rate int) (*Recorder, error) {
	if rate != SampleRate && rate != NarrowRate {
		return nil, fmt.Errorf("media: recording rate %d: want %d or %d", rate, SampleRate, NarrowRate)
	}
	return newRecorder(path, rate, lawPCM16)
}

// NewRecorderG711 is a recorder whose file is 8 kHz G.711, µ-law or (alaw)
// A-law: for a call whose caller speaks that law.
func NewRecorderG711(path string, alaw bool) (*Recorder, error) {
	law := lawUlaw
	if alaw {
		law = lawAlaw
	}
	return newRecorder(path, NarrowRate, law)
}

func newRecorder(path string, rate int, law wavLaw) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("media: create recording: %w", err)
	}
	return newRecorderOn(f, rate, law)
}

// newRecorderOn records into f, from its start.
func newRecorderOn(f recFile, rate int, law wavLaw) (*Recorder, error) {
	h := wavHeaderLaw(law, rate, 2, 0)
	if _, err := f.Write(h[:]); err != nil {
		f.Close()
		return nil, fmt.Errorf("media: write recording header: %w", err)
	}
	r := &Recorder{f: f, rate: rate, law: law, wq: make(chan recChunk, recQueue), free: make(chan []byte, 2), done: make(chan struct{})}
	go r.writer()
	return r, nil
}

// maxLag is how far (200 ms, in bytes) one channel may run ahead before
// the other is padded with silence.
func (r *Recorder) maxLag() int { return r.rate / 5 * r.law.size() }

// headerEvery is how much audio (1 s, in data bytes) is written between
// header rewrites: a crash loses at most that much.
func (r *Recorder) headerEvery() uint32 { return uint32(r.rate * 2 * r.law.size()) }

// writeBytes is how much paired audio (half a second, in bytes) is
// gathered before a write: one write(2) (and one wake-up of the writer)
// per half second, not one per frame, which counts with a thousand calls
// recording at once.
func (r *Recorder) writeBytes() int { return r.rate * r.law.size() }

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
	r.addPCM(channel, pcm, rate)
	r.drain(false, true)
}

// addPCM puts pcm, at rate, in channel's samples, in the file's rate and
// format.
func (r *Recorder) addPCM(channel int, pcm []int16, rate int) {
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
	r.ch[channel] = r.law.encode(r.ch[channel], pcm)
}

// WriteG711 adds 8 kHz G.711 samples (µ-law, or A-law when alaw) to
// CallerChannel or AgentChannel: as they are when the file is in that
// law, else decoded and written as Write does. Like Write, it waits for
// room when the disk is behind; a Sink does not.
func (r *Recorder) WriteG711(channel int, g711 []byte, alaw bool) {
	r.writeG711(channel, g711, alaw, true)
}

func (r *Recorder) writeG711(channel int, g711 []byte, alaw, wait bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || channel != CallerChannel && channel != AgentChannel {
		return
	}
	from := lawUlaw
	if alaw {
		from = lawAlaw
	}
	if r.law == from {
		r.ch[channel] = append(r.ch[channel], g711...)
	} else {
		r.decoded = from.decode(r.decoded[:0], g711)
		r.addPCM(channel, r.decoded, NarrowRate)
	}
	r.drain(false, wait)
}

// drain pairs samples and writes them once writeBytes are gathered
// (or when final); a channel more than maxLag behind (or either, when
// final) is padded with silence first. wait: see flush.
func (r *Recorder) drain(final, wait bool) {
	c, a := &r.ch[CallerChannel], &r.ch[AgentChannel]
	lc, la := len(*c), len(*a)
	if final || lc-la > r.maxLag() {
		*a = r.law.silence(*a, (lc-la)/r.law.size())
	}
	if final || la-lc > r.maxLag() {
		*c = r.law.silence(*c, (la-lc)/r.law.size())
	}
	if n := min(len(*c), len(*a)); n > 0 {
		at := len(r.buf)
		r.buf = slices.Grow(r.buf, 2*n)[:at+2*n]
		interleave(r.buf[at:], (*c)[:n], (*a)[:n], r.law.size())
		*c = (*c)[:copy(*c, (*c)[n:])]
		*a = (*a)[:copy(*a, (*a)[n:])]
	}
	if final || len(r.buf) >= r.writeBytes() {
		r.flush(final || wait)
	}
}

// interleave writes left and right's samples (size bytes each) in turns.
func interleave(dst, left, right []byte, size int) {
	if size == 1 {
		for i := range left {
			dst[2*i], dst[2*i+1] = left[i], right[i]
		}
		return
	}
	for i := 0; i+1 < len(left); i += 2 {
		dst[2*i], dst[2*i+1], dst[2*i+2], dst[2*i+3] = left[i], left[i+1], right[i], right[i+1]
	}
}

// flush hands the gathered samples to the writer, waiting for room in
// its queue when wait; otherwise, when the queue is full (the disk is not
// keeping up with a media reader's Sink), they are dropped and the writer
// puts as much silence in their place with the next ones.
func (r *Recorder) flush(wait bool) {
	b := r.buf
	if len(b) == 0 && (r.gap == 0 || !wait) {
		return
	}
	c := recChunk{gap: r.gap, b: b}
	if wait {
		r.wq <- c
	} else {
		select {
		case r.wq <- c:
		default:
			r.gap += len(b)
			r.gaps += uint64(len(b))
			r.queued += uint64(len(b))
			r.buf = b[:0]
			return
		}
	}
	r.gap = 0
	r.queued += uint64(len(b))
	select {
	case r.buf = <-r.free:
		r.buf = r.buf[:0]
	default:
		r.buf = make([]byte, 0, cap(b))
	}
}

// writer writes what flush hands it and, every second of audio, the
// header's sizes, until Close.
func (r *Recorder) writer() {
	defer close(r.done)
	var silence []byte
	for c := range r.wq {
		for c.gap > 0 {
			if silence == nil {
				silence = r.law.silence(nil, r.writeBytes()/r.law.size())
			}
			n := min(c.gap, len(silence))
			r.write(silence[:n])
			c.gap -= n
		}
		r.write(c.b)
		select {
		case r.free <- c.b:
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
// half second of them, and whatever the writer has yet to write, may
// not be in the file yet).
func (r *Recorder) Samples() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int((r.queued + uint64(len(r.buf))) / uint64(2*r.law.size()))
}

// Sink is channel's writer for a relayed leg that records itself
// (RTPLeg.RecordTo) on a media reader: WriteG711 that never waits for the
// disk (what the writer has no room for becomes silence).
func (r *Recorder) Sink(channel int) func(g711 []byte, alaw bool) {
	return func(g711 []byte, alaw bool) { r.writeG711(channel, g711, alaw, false) }
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
	r.drain(true, true)
	close(r.wq)
	<-r.done
	if r.gaps > 0 && r.err == nil {
		r.err = fmt.Errorf("media: the disk did not keep up: %.1f s of the recording is silence in place of audio",
			float64(r.gaps)/float64(2*r.law.size()*r.rate))
	}
	r.writeSizes()
	if err := r.f.Sync(); err != nil && r.err == nil {
		r.err = fmt.Errorf("media: sync recording: %w", err)
	}
	if err := r.f.Close(); err != nil && r.err == nil {
		r.err = fmt.Errorf("media: close recording: %w", err)
	}
	return r.err
}
