package media

import "sync"

// Frames handed to a Leg's reader come from a pool: at 1,000 calls the
// playout clocks deliver 100,000 frames a second, and a fresh slice for
// each kept the garbage collector busy (a cycle every few seconds at 500
// relayed calls, each taking a core for tens of milliseconds). A reader
// that is done with a frame gives it back with ReleaseFrame; one that
// does not simply leaves it to the collector.

// framePool holds frame buffers of FrameSamples (a 16 kHz frame; a
// narrowband one uses the first half).
var framePool = sync.Pool{New: func() any { return new([FrameSamples]int16) }}

// newFrame returns a frame of n ≤ FrameSamples samples from the pool. Its
// contents are whatever the last user left: the caller overwrites them.
func newFrame(n int) []int16 {
	return framePool.Get().(*[FrameSamples]int16)[:n]
}

// ReleaseFrame gives a frame received from Leg.Frames back for reuse. Call
// it only once nothing holds the frame (or a slice of it) any more: the
// next frame played out may overwrite it. Frames of other sizes are left
// to the garbage collector.
func ReleaseFrame(f []int16) {
	if cap(f) != FrameSamples {
		return
	}
	framePool.Put((*[FrameSamples]int16)(f[:FrameSamples]))
}
