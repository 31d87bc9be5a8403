package media

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// rxLoop is one media reader: a goroutine waiting on an epoll set of many
// sockets (level-triggered), which takes up to rxBatchSize datagrams from
// each socket reported ready (one recvmmsg) and hands them on: one
// epoll_wait for however many sockets are ready, no goroutine to wake per
// packet, which is how RTP proxies (rtpengine) spend their time. A socket
// with more waiting is reported again on the next round, so one busy
// stream cannot starve the others.
type rxLoop struct {
	epfd int
	// mu is held while a target handles its packet, so remove returns
	// only once its target is no longer being called (and never will be).
	mu    sync.Mutex
	slots []rxSlot
	free  []uint32
	err   error // epoll_create failed: add reports it
}

// rxSlot is a registered socket. gen tells a stale event (for a slot
// since removed and reused) from a current one.
type rxSlot struct {
	t   rxTarget
	fd  int
	gen uint32
}

// rxReg is a registration, for remove.
type rxReg struct {
	lp   *rxLoop
	slot uint32
	gen  uint32
}

func newRxLoop() *rxLoop {
	lp := &rxLoop{}
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		lp.err = fmt.Errorf("media: epoll_create: %w", err)
		return lp
	}
	lp.epfd = fd
	go lp.run()
	return lp
}

// add has s watched for t. The socket must stay open until remove.
func (lp *rxLoop) add(s *udpSock, t rxTarget) (*rxReg, error) {
	if lp.err != nil {
		return nil, lp.err
	}
	s.mu.RLock()
	fd := s.fd
	s.mu.RUnlock()
	if fd < 0 {
		return nil, ErrClosed
	}
	lp.mu.Lock()
	defer lp.mu.Unlock()
	var id uint32
	if n := len(lp.free); n > 0 {
		id, lp.free = lp.free[n-1], lp.free[:n-1]
	} else {
		id = uint32(len(lp.slots))
		lp.slots = append(lp.slots, rxSlot{})
	}
	sl := &lp.slots[id]
	sl.gen++
	sl.t, sl.fd = t, fd
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(id), Pad: int32(sl.gen)}
	if err := unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		sl.t = nil
		lp.free = append(lp.free, id)
		return nil, fmt.Errorf("media: epoll_ctl add: %w", err)
	}
	return &rxReg{lp: lp, slot: id, gen: sl.gen}, nil
}

// remove stops the reader watching the socket; when it returns, the
// target is not being called and will not be again. Safe twice.
func (r *rxReg) remove() {
	lp := r.lp
	lp.mu.Lock()
	defer lp.mu.Unlock()
	sl := &lp.slots[r.slot]
	if sl.gen != r.gen || sl.t == nil {
		return
	}
	_ = unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_DEL, sl.fd, nil)
	sl.t, sl.fd = nil, -1
	sl.gen++ // events already fetched for this slot are now stale
	lp.free = append(lp.free, r.slot)
}

func (lp *rxLoop) run() {
	events := make([]unix.EpollEvent, 256)
	batch := newRxBatch()
	for {
		n, err := unix.EpollWait(lp.epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			slog.Default().Error("media: epoll_wait failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for i := range n {
			id, gen := uint32(events[i].Fd), uint32(events[i].Pad)
			lp.mu.Lock()
			if int(id) < len(lp.slots) {
				if sl := &lp.slots[id]; sl.gen == gen && sl.t != nil {
					sl.t.readable(batch)
				}
			}
			lp.mu.Unlock()
		}
	}
}
