package media

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// rxTarget is told when its socket has datagrams waiting: it reads them
// (udpSock.readBatch) into b, which belongs to the reader and is only
// valid during the call. Calls for one target never overlap, nor do calls
// for targets registered on the same reader.
type rxTarget interface {
	readable(b *rxBatch)
}

// rxBufSize is a datagram's buffer: larger than any RTP packet we accept.
const rxBufSize = 2048

// rxBatchSize is how many datagrams one recvmmsg(2) takes from a socket:
// one when the reader keeps up (the call costs what read(2) does), more
// when a burst has queued up, so a reader that falls behind catches up on
// fewer system calls.
const rxBatchSize = 8

// rxBatch is a reader's receive buffers.
type rxBatch struct {
	bufs [rxBatchSize][rxBufSize]byte
	iov  [rxBatchSize]unix.Iovec
	hdr  [rxBatchSize]unix.Mmsghdr
}

func newRxBatch() *rxBatch {
	b := &rxBatch{}
	for i := range b.hdr {
		b.iov[i].Base = &b.bufs[i][0]
		b.iov[i].SetLen(rxBufSize)
		b.hdr[i].Hdr.Iov = &b.iov[i]
		b.hdr[i].Hdr.SetIovlen(1)
	}
	return b
}

// datagram is the i-th datagram readBatch read.
func (b *rxBatch) datagram(i int) []byte { return b.bufs[i][:b.hdr[i].Len] }

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
		if v, err := strconv.Atoi(os.Getenv("CONTACTD_MEDIA_READERS")); err == nil && v > 0 {
			n = v
		}
		for range n {
			readers.all = append(readers.all, newRxLoop())
		}
	})
	return readers.all[readers.next.Add(1)%uint32(len(readers.all))]
}
