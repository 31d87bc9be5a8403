package media

import (
	"runtime"
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

// truncated reports whether the i-th datagram was longer than its buffer.
func (b *rxBatch) truncated(i int) bool { return b.hdr[i].Hdr.Flags&unix.MSG_TRUNC != 0 }

// The media readers: started on the first registration (SetReaders of
// them, else one per CPU), for the life of the process. Each owns its
// sockets: a leg's RTP and RTCP sockets go to one reader (chosen round
// robin), so its packets are handled in order and never at once.
var readers struct {
	once sync.Once
	n    atomic.Int32 // SetReaders
	all  []*rxLoop
	next atomic.Uint32
}

// SetReaders sets how many media readers read RTP (n < 1: one per CPU). It
// counts before the first RTP leg starts; later calls change nothing.
func SetReaders(n int) { readers.n.Store(int32(n)) }

// pickReader is the reader for a new leg.
func pickReader() *rxLoop {
	readers.once.Do(func() {
		n := int(readers.n.Load())
		if n < 1 {
			n = max(1, runtime.NumCPU())
		}
		for range n {
			readers.all = append(readers.all, newRxLoop())
		}
	})
	return readers.all[readers.next.Add(1)%uint32(len(readers.all))]
}
