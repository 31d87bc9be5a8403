package media

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// rxTarget is told when its socket has a datagram waiting: it reads one
// (udpSock.read) into buf, which belongs to the reader and is only valid
// during the call. Calls for one target never overlap, nor do calls for
// targets registered on the same reader.
type rxTarget interface {
	readable(buf []byte)
}

// rxBufSize is the reader's buffer: larger than any RTP packet we accept.
const rxBufSize = 2048

// The media readers: started on the first registration, one per CPU, for
// the life of the process. Each owns its sockets: a leg's RTP and RTCP
// sockets go to one reader (chosen round robin), so its packets are handled
// in order and never at once.
var readers struct {
	once sync.Once
	all  []*rxLoop
	next atomic.Uint32
}

// pickReader is the reader for a new leg.
func pickReader() *rxLoop {
	readers.once.Do(func() {
		n := max(1, runtime.NumCPU())
		for range n {
			readers.all = append(readers.all, newRxLoop())
		}
	})
	return readers.all[readers.next.Add(1)%uint32(len(readers.all))]
}
