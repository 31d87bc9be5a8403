package main

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/ipv4"
)

// The audio every stream sends: a quiet 300 Hz tone (exactly 6 cycles per
// 20 ms frame, so every frame is the same) and, every markerEvery packets,
// a loud Hann-windowed tone burst. A burst's frequency cycles through four
// values, which names the burst at the far end even after a relay has
// re-encoded the audio; the energy centroid of the burst's samples says
// where in the frame it sits.
const (
	frameSamples = 160 // 20 ms at 8 kHz
	samplePeriod = int64(time.Second) / 8000
	markerEvery  = 25 // one burst every 500 ms
	markerAt     = 24 // first sample of the burst
	markerLen    = 64 // 8 ms
	markerAmp    = 12000.0
	bgAmp        = 1000.0
	detectLevel  = 3000 // |sample| above this belongs to a burst
	detectMin    = 8    // samples above detectLevel for a burst
	packetLen    = 12 + frameSamples
	ptPCMU       = 0
)

var markerFreqs = [4]float64{600, 1000, 1400, 1800}

var (
	bgFrame      [frameSamples]byte
	markerFrames [4][frameSamples]byte
	markerOffset float64 // centroid of a sent burst, in samples
	ulawDecode   [256]int16
)

func init() {
	for i := range 256 {
		ulawDecode[i] = ulawToLinear(uint8(i))
	}
	var bg [frameSamples]float64
	for i := range bg {
		bg[i] = bgAmp * math.Sin(2*math.Pi*300*float64(i)/8000)
		bgFrame[i] = linearToUlaw(int16(bg[i]))
	}
	for k, f := range markerFreqs {
		for i := range frameSamples {
			v := bg[i]
			if j := i - markerAt; j >= 0 && j < markerLen {
				w := 0.5 - 0.5*math.Cos(2*math.Pi*(float64(j)+0.5)/markerLen)
				v += markerAmp * w * math.Sin(2*math.Pi*f*float64(j)/8000)
			}
			markerFrames[k][i] = linearToUlaw(int16(v))
		}
	}
	id, off, ok := detectMarker(markerFrames[1][:])
	if !ok || id != 1 {
		panic("rtpload: the marker does not detect itself")
	}
	markerOffset = off
}

// linearToUlaw and ulawToLinear are G.711 µ-law (Sun's reference code).
func linearToUlaw(s int16) uint8 {
	v := int(s)
	sign := 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, 32635) + 0x84
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	return ^uint8(sign | exp<<4 | (v>>(exp+3))&0x0F)
}

func ulawToLinear(u uint8) int16 {
	u = ^u
	v := ((int(u&0x0F) << 3) + 0x84) << ((u >> 4) & 7)
	v -= 0x84
	if u&0x80 != 0 {
		return int16(-v)
	}
	return int16(v)
}

// detectMarker finds a burst in one µ-law frame: which of markerFreqs it
// is, and its energy centroid in samples from the frame's start.
func detectMarker(payload []byte) (id int, centroid float64, ok bool) {
	var e, ei float64
	n := 0
	for i, c := range payload {
		x := ulawDecode[c]
		if x > detectLevel || x < -detectLevel {
			f := float64(x) * float64(x)
			e += f
			ei += f * float64(i)
			n++
		}
	}
	if n < detectMin {
		return 0, 0, false
	}
	best := -1.0
	for k, f := range markerFreqs { // Goertzel at each burst frequency
		coef := 2 * math.Cos(2*math.Pi*f/8000)
		var s1, s2 float64
		for _, c := range payload {
			s1, s2 = float64(ulawDecode[c])+coef*s1-s2, s1
		}
		if p := s1*s1 + s2*s2 - coef*s1*s2; p > best {
			best, id = p, k
		}
	}
	return id, ei / e, true
}

// marker is one sent burst.
type marker struct {
	k      int64 // count of bursts sent on the stream
	sentNs int64 // wall clock just before the send
}

// tx is one direction of one call as sent by the tool.
type tx struct {
	dst     *net.UDPAddr
	sock    int // 0: caller side, 1: agent side
	ssrc    uint32
	seq     uint16
	ts      uint32
	n       int64 // packets sent
	phase   int   // marker phase, 0..markerEvery-1
	k       int64 // bursts sent
	markers [4]atomic.Pointer[marker]
}

func newRx(peer *tx) *rx { return &rx{peer: peer, lastK: -1} }

// rx is one direction of one call as received; owned by one receiver.
type rx struct {
	peer    *tx // whose bursts arrive here
	started bool
	maxExt  uint32
	lastK   int64
	winSeen bool
}

// window is the measurement interval (wall clock ns); packets and bursts
// outside it are not counted.
type window struct {
	start, end atomic.Int64
}

func (w *window) has(ns int64) bool { return ns >= w.start.Load() && ns < w.end.Load() }

// rxAgg sums what one receiving socket saw in the window.
type rxAgg struct {
	mu        sync.Mutex
	expected  int64 // by sequence numbers
	received  int64
	stray     int64
	rtcp      int64
	markers   int64
	latencies []float64 // ms
}

func (a *rxAgg) reset() {
	a.mu.Lock()
	a.expected, a.received, a.stray, a.rtcp, a.markers = 0, 0, 0, 0, 0
	a.latencies = a.latencies[:0]
	a.mu.Unlock()
}

// sock is one UDP socket of a shard with its receiver.
type sock struct {
	conn   *net.UDPConn
	pc     *ipv4.PacketConn
	addr   *net.UDPAddr
	byPort [65536]atomic.Pointer[rx] // relay modes: by the relay's source port
	bySSRC sync.Map                  // direct mode: uint32 → *rx
	agg    rxAgg
	win    *window
}

// shard is a pair of sockets (caller side, agent side) and the calls on
// them, with one sender goroutine.
type shard struct {
	socks [2]*sock
	win   *window

	mu    sync.Mutex
	wheel [20][]*tx // by 1 ms slot within the 20 ms period

	sentWin    atomic.Int64
	markersWin atomic.Int64
	sendErrs   atomic.Int64

	// How late packets left against their 20 ms schedule (the tool's own
	// jitter, which a relay's jitter buffer has to absorb): 0.1 ms bins.
	lateMu sync.Mutex
	late   [lateBins]int64
}

const lateBins = 2001 // 0 to 200 ms, the last bin for anything later

func (sh *shard) resetLate() {
	sh.lateMu.Lock()
	sh.late = [lateBins]int64{}
	sh.lateMu.Unlock()
}

func newSock(win *window) (*sock, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	s := &sock{conn: c, pc: ipv4.NewPacketConn(c), addr: c.LocalAddr().(*net.UDPAddr), win: win}
	rc, err := c.SyscallConn()
	if err == nil {
		_ = rc.Control(func(fd uintptr) {
			// Kernel receive timestamps: arrival times stay exact when
			// this process is busy. Big buffers: a shard takes bursts.
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 8<<20)
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUFFORCE, 4<<20)
		})
	}
	_ = c.SetReadBuffer(8 << 20)
	_ = c.SetWriteBuffer(4 << 20)
	return s, nil
}

func newShard(win *window) (*shard, error) {
	sh := &shard{win: win}
	for i := range sh.socks {
		s, err := newSock(win)
		if err != nil {
			sh.close()
			return nil, err
		}
		sh.socks[i] = s
	}
	return sh, nil
}

func (sh *shard) close() {
	for _, s := range sh.socks {
		if s != nil {
			s.conn.Close()
		}
	}
}

func newTx(dst *net.UDPAddr, side int) *tx {
	return &tx{dst: dst, sock: side, ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(),
		phase: rand.IntN(markerEvery)}
}

// add starts sending t on a random 1 ms slot.
func (sh *shard) add(t *tx) {
	sh.mu.Lock()
	s := rand.IntN(20)
	sh.wheel[s] = append(sh.wheel[s], t)
	sh.mu.Unlock()
}

// remove stops sending t.
func (sh *shard) remove(t *tx) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for s, list := range sh.wheel {
		for i, x := range list {
			if x == t {
				list[i] = list[len(list)-1]
				sh.wheel[s] = list[:len(list)-1]
				return
			}
		}
	}
}

// listen routes packets from the relay's port to r (port 0: by r.peer's
// SSRC, for the direct baseline).
func (s *sock) listen(port int, r *rx) {
	if port == 0 {
		s.bySSRC.Store(r.peer.ssrc, r)
		return
	}
	s.byPort[port].Store(r)
}

func (s *sock) unlisten(port int, r *rx) {
	if port == 0 {
		s.bySSRC.Delete(r.peer.ssrc)
		return
	}
	s.byPort[port].CompareAndSwap(r, nil)
}

// send runs the shard's 1 ms send clock until ctx ends: every stream sends
// one packet per 20 ms on its slot. A late clock catches up by sending
// what is due at once, so the RTP timing the relay sees shows the delay.
func (sh *shard) send(ctx context.Context) {
	var bufs [2][][]byte
	var msgs [2][]ipv4.Message
	var sent [2][]outgoing
	t0 := time.Now()
	last := int64(-1)
	for ctx.Err() == nil {
		cur := int64(time.Since(t0) / time.Millisecond)
		if cur-last > 1000 { // more than a second behind: drop it
			last = cur - 1
		}
		for side := range 2 {
			msgs[side], sent[side] = msgs[side][:0], sent[side][:0]
		}
		sh.mu.Lock()
		for s := last + 1; s <= cur; s++ {
			for _, t := range sh.wheel[s%20] {
				side := t.sock
				i := len(msgs[side])
				if i == len(bufs[side]) {
					bufs[side] = append(bufs[side], make([]byte, packetLen))
				}
				b := bufs[side][i]
				b[0], b[1] = 0x80, ptPCMU
				binary.BigEndian.PutUint16(b[2:], t.seq)
				binary.BigEndian.PutUint32(b[4:], t.ts)
				binary.BigEndian.PutUint32(b[8:], t.ssrc)
				o := outgoing{t: t, k: -1, due: t0.UnixNano() + s*int64(time.Millisecond)}
				if t.n%markerEvery == int64(t.phase) {
					copy(b[12:], markerFrames[t.k%4][:])
					o.k = t.k
					t.k++
				} else {
					copy(b[12:], bgFrame[:])
				}
				t.n++
				t.seq++
				t.ts += frameSamples
				msgs[side] = append(msgs[side], ipv4.Message{Buffers: [][]byte{b}, Addr: t.dst})
				sent[side] = append(sent[side], o)
			}
		}
		sh.mu.Unlock()
		last = cur
		for side := range 2 {
			sh.flush(side, msgs[side], sent[side])
		}
		next := t0.Add(time.Duration(cur+1) * time.Millisecond)
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(next)):
		}
	}
}

// outgoing is a packet in a send batch: its stream and, for a burst, the
// burst's count (else -1).
type outgoing struct {
	t   *tx
	k   int64
	due int64 // when it should have left (ns)
}

// flush sends one side's batch and records the bursts' send times.
func (sh *shard) flush(side int, msgs []ipv4.Message, sent []outgoing) {
	s := sh.socks[side]
	recorded := 0
	for off := 0; off < len(msgs); {
		end := min(off+64, len(msgs))
		now := time.Now().UnixNano()
		// Before the send: the far end may read a packet before
		// WriteBatch returns.
		for _, o := range sent[max(off, recorded):end] {
			if o.k >= 0 {
				o.t.markers[o.k%4].Store(&marker{k: o.k, sentNs: now})
				if sh.win.has(now) {
					sh.markersWin.Add(1)
				}
			}
		}
		recorded = max(recorded, end)
		n, err := s.pc.WriteBatch(msgs[off:end], 0)
		if err != nil {
			sh.sendErrs.Add(1)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			n = max(n, 1) // skip the packet that failed
		}
		if sh.win.has(now) {
			sh.sentWin.Add(int64(n))
			sh.lateMu.Lock()
			for _, o := range sent[off : off+max(n, 0)] {
				sh.late[min(max(0, (now-o.due)/100000), lateBins-1)]++
			}
			sh.lateMu.Unlock()
		}
		off += n
	}
}

// receive reads the socket until it is closed.
func (s *sock) receive() {
	const batch = 64
	msgs := make([]ipv4.Message, batch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 1500)}
		msgs[i].OOB = make([]byte, 128)
	}
	for {
		n, err := s.pc.ReadBatch(msgs, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(time.Millisecond)
			continue
		}
		fallback := time.Now().UnixNano()
		s.agg.mu.Lock()
		for i := range n {
			m := &msgs[i]
			at := kernelTime(m.OOB[:m.NN])
			if at == 0 {
				at = fallback
			}
			port := 0
			if ua, ok := m.Addr.(*net.UDPAddr); ok {
				port = ua.Port
			}
			s.handle(m.Buffers[0][:m.N], port, at)
		}
		s.agg.mu.Unlock()
	}
}

// kernelTime reads an SCM_TIMESTAMPNS control message (0 if none).
func kernelTime(oob []byte) int64 {
	const hdr = int(unsafe.Sizeof(syscall.Cmsghdr{}))
	for len(oob) >= hdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			return 0
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS && l >= hdr+16 {
			ts := (*syscall.Timespec)(unsafe.Pointer(&oob[hdr]))
			return ts.Nano()
		}
		oob = oob[(l+7)&^7:]
	}
	return 0
}

// handle accounts one datagram; s.agg.mu is held.
func (s *sock) handle(b []byte, port int, at int64) {
	a := &s.agg
	if len(b) < 12 || b[0]>>6 != 2 {
		a.stray++
		return
	}
	if pt := b[1]; pt >= 200 && pt <= 207 { // RTCP (rtcp-mux)
		if s.win.has(at) {
			a.rtcp++
		}
		return
	}
	var r *rx
	if port != 0 {
		r = s.byPort[port].Load()
	}
	if r == nil {
		if v, ok := s.bySSRC.Load(binary.BigEndian.Uint32(b[8:])); ok {
			r = v.(*rx)
		}
	}
	if r == nil {
		if s.win.has(at) {
			a.stray++
		}
		return
	}
	if b[1]&0x7f != ptPCMU {
		return // telephone-event or comfort noise: not audio
	}
	off := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 && len(b) >= off+4 {
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	if off >= len(b) {
		a.stray++
		return
	}
	payload := b[off:]
	if b[0]&0x20 != 0 { // padding
		if p := int(b[len(b)-1]); p < len(payload) {
			payload = payload[:len(payload)-p]
		}
	}
	seq := binary.BigEndian.Uint16(b[2:])
	// Extended sequence number (RFC 3550 A.1, without probation).
	var ext uint32
	if !r.started {
		ext = uint32(seq) | 1<<16 // room to go back
		r.started = true
		r.maxExt = ext - 1
	} else {
		d := int16(seq - uint16(r.maxExt))
		ext = uint32(int64(r.maxExt) + int64(d))
	}
	if s.win.has(at) {
		if !r.winSeen {
			r.winSeen = true
			a.expected++
		} else if ext > r.maxExt {
			a.expected += int64(ext - r.maxExt)
		}
		a.received++
	}
	if ext > r.maxExt {
		r.maxExt = ext
	}
	id, centroid, ok := detectMarker(payload)
	if !ok || r.peer == nil {
		return
	}
	m := r.peer.markers[id].Load()
	if m == nil || m.k == r.lastK || m.sentNs > at {
		return // the same burst again (loss concealment repeats it) or not sent yet
	}
	r.lastK = m.k
	if !s.win.has(m.sentNs) {
		return
	}
	a.markers++
	lat := float64(at-m.sentNs)/1e6 + (centroid-markerOffset)*float64(samplePeriod)/1e6
	a.latencies = append(a.latencies, lat)
}
