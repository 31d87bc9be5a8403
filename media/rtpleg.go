package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"golang.org/x/sys/unix"
)

// RTPConfig configures an RTPLeg's socket.
type RTPConfig struct {
	// IP is the local address to bind (nil: all interfaces).
	IP net.IP
	// PortMin and PortMax bound the even RTP ports tried; both zero lets
	// the kernel choose.
	PortMin, PortMax int
	// FrameBuffer is the capacity of Frames() (default 50, one second).
	FrameBuffer int
	// RTCPInterval is the mean interval between RTCP reports (default
	// DefaultRTCPInterval).
	RTCPInterval time.Duration
	// Logger receives rate-limited warnings (nil: discard).
	Logger *slog.Logger
}

// RTPLeg is a Leg over RTP/UDP, used for SIP peers and by contactd's own
// SIP test caller. With SRTP keys (StartOptions.SRTP, SetSRTP) it sends
// and accepts only SRTP/SRTCP (RFC 3711); packets that fail
// authentication or replay checks are dropped and counted
// (Stats.SRTPDropped). Packets are accepted from any source address as long
// as their payload type was negotiated. Received audio goes through an
// adaptive jitter buffer with loss concealment before Frames(). RTCP is
// read on the RTP port (rtcp-mux) and on the port above it, and sent on
// whichever StartOptions.RTCPMux says; Quality summarises it.
type RTPLeg struct {
	conn   *udpSock
	rtcpc  *udpSock   // RTP port + 1
	rxRegs [2]*rxReg  // the sockets on their media reader (rxloop.go)
	pkt    rtp.Packet // the reader's, for parsing
	rtcp   rtcpState
	srtp   srtpSession              // SDES-SRTP, when StartOptions.SRTP or SetSRTP set keys
	remote atomic.Pointer[sockDest] // where RTP goes, ready for conn
	stats  counters
	log    rateLimitedLog
	in     *inbound
	out    *sender
	// relay, when set, is where each received RTP packet is forwarded as
	// it arrives (relay.go); the mixer then only records and transcribes.
	relay  atomic.Pointer[relayLink]
	closed atomic.Bool

	mu      sync.Mutex
	started bool
	codec   Codec
	ssrc    uint32 // ours, fixed by StartWith

	stop      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	wbuf      []byte // owned by the sender goroutine
}

var _ Leg = (*RTPLeg)(nil)

// NewRTPLeg binds the leg's UDP socket. No goroutine runs until Start.
func NewRTPLeg(cfg RTPConfig) (*RTPLeg, error) {
	conn, rtcpc, err := listenRTP(cfg)
	if err != nil {
		return nil, err
	}
	l := &RTPLeg{conn: conn, rtcpc: rtcpc, stop: make(chan struct{}), wbuf: make([]byte, 1500, 1500+srtpOverhead)}
	l.rtcp.interval = cfg.RTCPInterval
	if l.rtcp.interval <= 0 {
		l.rtcp.interval = DefaultRTCPInterval
	}
	l.rtcp.cname = fmt.Sprintf("contactd-%08x", rand.Uint32())
	l.log.log = orDefaultLogger(cfg.Logger)
	l.in = newInbound(cfg.FrameBuffer, &l.stats, &l.log)
	l.out = newSender(l.stop, &l.stats, &l.log)
	return l, nil
}

// listenRTP binds an even RTP port and the RTCP port above it.
func listenRTP(cfg RTPConfig) (rtpc, rtcpc *udpSock, err error) {
	if cfg.PortMin == 0 && cfg.PortMax == 0 {
		// Let the kernel choose, until it gives an even port whose
		// neighbour is free too.
		for range 50 {
			c, err := listenUDP(cfg.IP, 0)
			if err != nil {
				return nil, nil, fmt.Errorf("media: listen rtp: %w", err)
			}
			port := c.LocalAddr().Port
			if port%2 == 0 && port < 65535 {
				if r, err := listenUDP(cfg.IP, port+1); err == nil {
					return c, r, nil
				}
			}
			c.Close()
		}
		return nil, nil, fmt.Errorf("%w: no even/odd pair from the kernel", ErrNoPorts)
	}
	lo, hi := cfg.PortMin+cfg.PortMin%2, cfg.PortMax
	if lo <= 0 || hi >= 65535 || lo > hi {
		return nil, nil, fmt.Errorf("media: bad rtp port range %d-%d", cfg.PortMin, cfg.PortMax)
	}
	n := (hi-lo)/2 + 1
	// Start at a random even port so concurrent legs rarely collide.
	first := rand.IntN(n)
	for i := 0; i < n; i++ {
		port := lo + 2*((first+i)%n)
		c, err := listenUDP(cfg.IP, port)
		if err != nil {
			if !errBindInUse(err) {
				return nil, nil, fmt.Errorf("media: listen rtp: %w", err)
			}
			continue
		}
		r, err := listenUDP(cfg.IP, port+1)
		if err == nil {
			return c, r, nil
		}
		c.Close()
		if !errBindInUse(err) {
			return nil, nil, fmt.Errorf("media: listen rtcp: %w", err)
		}
	}
	return nil, nil, fmt.Errorf("%w: %d-%d", ErrNoPorts, cfg.PortMin, cfg.PortMax)
}

// LocalAddr is the bound RTP address to put in SDP.
func (l *RTPLeg) LocalAddr() *net.UDPAddr { return l.conn.LocalAddr() }

// StartOptions is what SDP negotiation decided for an RTPLeg.
type StartOptions struct {
	// Remote is the far end's RTP address (required).
	Remote *net.UDPAddr
	// Codec is the audio format both ways.
	Codec Codec
	// DTMFPT is the telephone-event payload type; 0 means none (PCMU's 0
	// is never a telephone-event type).
	DTMFPT uint8
	// RTCPMux sends RTCP on the RTP port (RFC 5761, "a=rtcp-mux" in both
	// offer and answer); otherwise it goes to RTCPRemote.
	RTCPMux bool
	// RTCPRemote is the far end's RTCP address from "a=rtcp:" (nil: the
	// RTP port + 1).
	RTCPRemote *net.UDPAddr
	// InbandDTMF detects DTMF tones in the received audio and delivers
	// them on DTMF(). Start turns it on when DTMFPT is 0.
	InbandDTMF bool
	// SRTP, when set, encrypts and authenticates RTP and RTCP both ways
	// with these SDES keys (RFC 4568).
	SRTP *SRTPKeys
}

// Start starts the leg with RTCP on port+1 and in-band DTMF detection when
// no telephone-event was negotiated; see StartWith.
func (l *RTPLeg) Start(remote *net.UDPAddr, codec Codec, dtmfPT uint8) error {
	return l.StartWith(StartOptions{Remote: remote, Codec: codec, DTMFPT: dtmfPT, InbandDTMF: dtmfPT == 0})
}

// StartWith fixes what negotiation decided and starts the reader(s) and the
// 20 ms clock (sending, playout, RTCP); Close stops them.
func (l *RTPLeg) StartWith(o StartOptions) error {
	if o.Remote == nil {
		return fmt.Errorf("media: start rtp leg: nil remote address")
	}
	codec := o.Codec
	enc, err := newEncoder(codec)
	if err != nil {
		return err
	}
	dec, err := newDecoder(codec)
	if err != nil {
		return err
	}
	dest, err := l.conn.destFor(o.Remote)
	if err != nil {
		return fmt.Errorf("media: start rtp leg: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.stop:
		return ErrClosed
	default:
	}
	if l.started {
		return ErrStarted
	}
	if o.SRTP != nil {
		if err := l.srtp.set(*o.SRTP, 0); err != nil {
			return err
		}
	}
	l.codec = codec
	l.remote.Store(dest)
	l.rtcp.mu.Lock()
	l.rtcp.mux, l.rtcp.explicit = o.RTCPMux, o.RTCPRemote
	l.rtcp.next = time.Now().Add(l.rtcp.interval / 2)
	l.rtcp.mu.Unlock()
	hasDTMF := o.DTMFPT != 0
	l.in.configure(codec, codec.PayloadType, dec, o.DTMFPT, hasDTMF, o.InbandDTMF)
	l.out.configure(codec, enc, o.DTMFPT, hasDTMF, l.writePacket)
	l.ssrc = l.out.pkt.SSRC
	rx := pickReader() // both sockets on one: the leg's packets in order
	for i, p := range []struct {
		sock *udpSock
		t    rxTarget
	}{{l.conn, rtpPort{l}}, {l.rtcpc, rtcpPort{l}}} {
		reg, err := rx.add(p.sock, p.t)
		if err != nil {
			l.removeReaders()
			return err
		}
		l.rxRegs[i] = reg
	}
	l.started = true
	l.wg.Add(1)
	go func() { defer l.wg.Done(); l.out.run(l.stop, l.onTick) }()
	return nil
}

// removeReaders stops the media reader calling the leg.
func (l *RTPLeg) removeReaders() {
	for _, r := range l.rxRegs {
		if r != nil {
			r.remove()
		}
	}
}

// onTick runs on the sender's 20 ms clock: playout, then RTCP when due.
func (l *RTPLeg) onTick(now time.Time, ts uint32) {
	l.in.tick(now)
	if !l.rtcp.due(now) {
		return
	}
	rx, fraction := l.in.reportBlock()
	// The stream's RTP time, which a relay may be driving, not the clock's.
	ts = l.out.rtpTime(now)
	b, err := l.rtcp.build(now, l.out.pkt.SSRC, ts, l.stats.packetsOut.Load(), l.stats.bytesOut.Load(), rx, fraction)
	if err != nil {
		l.log.warn("media: rtcp marshal failed", "err", err)
		return
	}
	if l.srtp.on.Load() {
		if b, err = l.srtp.encryptRTCP(b); err != nil {
			l.log.warn("media: srtcp encrypt failed", "err", err)
			return
		}
	}
	conn, dst := l.rtcpDest()
	if _, err := conn.WriteToUDP(b, dst); err != nil {
		l.log.warn("media: rtcp write failed", "err", err)
	}
}

// rtcpDest is where reports go: the RTP address with rtcp-mux, else the
// negotiated RTCP address or the RTP port + 1.
func (l *RTPLeg) rtcpDest() (*udpSock, *net.UDPAddr) {
	remote := l.remote.Load().addr
	l.rtcp.mu.Lock()
	defer l.rtcp.mu.Unlock()
	if l.rtcp.mux {
		return l.conn, remote
	}
	if l.rtcp.explicit != nil {
		return l.rtcpc, l.rtcp.explicit
	}
	return l.rtcpc, &net.UDPAddr{IP: remote.IP, Port: remote.Port + 1, Zone: remote.Zone}
}

// SetRemote changes where packets go (re-INVITE, symmetric RTP latching).
// An address the socket cannot reach (another address family) is ignored
// and logged.
func (l *RTPLeg) SetRemote(remote *net.UDPAddr) {
	if remote == nil {
		return
	}
	d, err := l.conn.destFor(remote)
	if err != nil {
		l.log.warn("media: remote address ignored", "addr", remote.String(), "err", err)
		return
	}
	l.remote.Store(d)
}

func (l *RTPLeg) writePacket(p *rtp.Packet) error {
	n, err := p.MarshalTo(l.wbuf)
	if err != nil {
		return fmt.Errorf("media: marshal rtp: %w", err)
	}
	b := l.wbuf[:n]
	if l.srtp.on.Load() {
		// In place: wbuf has room for the auth tag and MKI.
		if b, err = l.srtp.encryptRTP(l.wbuf, n); err != nil {
			return fmt.Errorf("media: srtp encrypt: %w", err)
		}
	}
	_, err = l.conn.writeTo(b, l.remote.Load())
	return err
}

// rtpPort and rtcpPort are a leg's two sockets as the media reader sees
// them: the RTP port carries RTP and muxed RTCP, the port above it RTCP.
type (
	rtpPort  struct{ l *RTPLeg }
	rtcpPort struct{ l *RTPLeg }
)

func (p rtpPort) readable(b *rxBatch)  { p.l.readSome(p.l.conn, true, b) }
func (p rtcpPort) readable(b *rxBatch) { p.l.readSome(p.l.rtcpc, false, b) }

// readSome reads and handles the datagrams waiting on a socket the reader
// says is ready (the source address is not needed: RTP is accepted from
// anywhere).
func (l *RTPLeg) readSome(conn *udpSock, rtpPort bool, batch *rxBatch) {
	n, err := conn.readBatch(batch)
	if err != nil {
		if err != unix.EAGAIN && !errors.Is(err, net.ErrClosed) {
			l.log.warn("media: rtp read failed", "err", err)
		}
		return
	}
	now := time.Now()
	for i := range n {
		if batch.truncated(i) { // longer than any packet we take
			l.stats.ignored.Add(1)
			continue
		}
		l.handle(batch.datagram(i), rtpPort, now)
	}
}

// handle handles one datagram.
func (l *RTPLeg) handle(b []byte, rtpPort bool, now time.Time) {
	var err error
	rtcpPkt := !rtpPort || isRTCP(b)
	if l.srtp.on.Load() {
		if rtcpPkt {
			b, err = l.srtp.decryptRTCP(b)
		} else {
			b, err = l.srtp.decryptRTP(b)
		}
		if err != nil {
			l.stats.srtpDropped.Add(1)
			l.log.warn("media: srtp packet dropped", "rtcp", rtcpPkt, "err", err)
			return
		}
	}
	if rtcpPkt {
		if !l.rtcp.handle(b, now, l.out.pkt.SSRC) {
			l.stats.ignored.Add(1)
		}
		return
	}
	l.handleDatagram(&l.pkt, b, now)
}

// handleDatagram parses one datagram; garbage is counted and dropped.
func (l *RTPLeg) handleDatagram(pkt *rtp.Packet, b []byte, now time.Time) {
	if len(b) < 12 || b[0]>>6 != 2 {
		l.stats.ignored.Add(1)
		return
	}
	if err := pkt.Unmarshal(b); err != nil {
		l.stats.ignored.Add(1)
		l.log.warn("media: malformed rtp", "err", err)
		return
	}
	kind := l.in.handle(pkt, now)
	if kind == pktBad {
		return
	}
	if link := l.relay.Load(); link != nil {
		link.dst.relayIn(link, pkt, kind == pktEvent, now)
		l.in.flushDirect()
	}
}

// LastPacket is when the last RTP packet was accepted (zero before the
// first): the signalling layer's RTP inactivity timeout reads it.
func (l *RTPLeg) LastPacket() time.Time {
	ns := l.in.lastPacket.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Quality summarises loss, jitter, round trip and estimated MOS so far.
func (l *RTPLeg) Quality() Quality {
	var q Quality
	rx, jb := l.in.snapshot()
	c := l.Codec()
	l.rtcp.remote(&q, c.ClockRate, l.stats.packetsOut.Load())
	q.fill(c, rx, jb)
	return q
}

// Frames implements Leg.
func (l *RTPLeg) Frames() <-chan []int16 { return l.in.frames }

// NativeFrames makes Frames() carry 20 ms frames at the codec's own rate
// instead of 16 kHz: NarrowFrameSamples at NarrowRate for G.711 (other
// codecs are 16 kHz anyway), so a consumer that takes either (a frame's
// length gives its rate) spares the upsampling: the recording of a
// relayed G.711 call. Off by default; in-band DTMF detection keeps it off.
func (l *RTPLeg) NativeFrames(on bool) { l.in.native.Store(on) }

// DTMF implements Leg.
func (l *RTPLeg) DTMF() <-chan rune { return l.in.dtmf }

// WriteFrame implements Leg. Before Start it waits for Start (or Close).
func (l *RTPLeg) WriteFrame(pcm []int16) error {
	return l.out.writeFrame(context.Background(), pcm)
}

// WriteFrameContext is WriteFrame that gives up when ctx ends.
func (l *RTPLeg) WriteFrameContext(ctx context.Context, pcm []int16) error {
	return l.out.writeFrame(ctx, pcm)
}

// Forward implements Leg.
func (l *RTPLeg) Forward(pcm []int16) error { return l.out.forward(pcm) }

// Flush implements Leg.
func (l *RTPLeg) Flush() { l.out.flush() }

// Codec implements Leg; it is the zero Codec before Start.
func (l *RTPLeg) Codec() Codec {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.codec
}

// SendDTMF sends digit as an RFC 4733 event lasting d (at least 40 ms),
// in place of audio, and returns once the last end packet is sent.
func (l *RTPLeg) SendDTMF(digit rune, d time.Duration) error {
	l.mu.Lock()
	started, hasDTMF := l.started, l.out.hasDTMF
	l.mu.Unlock()
	if !started {
		return ErrNotStarted
	}
	if !hasDTMF {
		return ErrNoDTMF
	}
	return l.out.sendDTMF(context.Background(), digit, d)
}

// Stats returns the leg's counters.
func (l *RTPLeg) Stats() Stats { return l.stats.snapshot() }

// Close implements Leg: it stops the goroutines, closes the socket and then
// Frames() and DTMF().
func (l *RTPLeg) Close() error {
	var err error
	l.closeOnce.Do(func() {
		l.closed.Store(true)
		l.relay.Store(nil)
		l.mu.Lock()
		close(l.stop)
		l.mu.Unlock()
		l.removeReaders()
		l.wg.Wait()
		err = l.conn.Close()
		if cerr := l.rtcpc.Close(); err == nil {
			err = cerr
		}
		l.out.flush()
		l.in.close()
	})
	return err
}
