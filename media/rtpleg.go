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
	"syscall"
	"time"

	"github.com/pion/rtp"
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
	// Logger receives rate-limited warnings (nil: discard).
	Logger *slog.Logger
}

// RTPLeg is a Leg over plain RTP/UDP, used for SIP peers and by contactd's
// own SIP test caller. RTCP is neither sent nor read. Packets are accepted
// from any source address as long as their payload type was negotiated.
type RTPLeg struct {
	conn   *net.UDPConn
	remote atomic.Pointer[net.UDPAddr]
	stats  counters
	log    rateLimitedLog
	in     *inbound
	out    *sender

	mu      sync.Mutex
	started bool
	codec   Codec

	stop      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	wbuf      []byte // owned by the sender goroutine
}

var _ Leg = (*RTPLeg)(nil)

// NewRTPLeg binds the leg's UDP socket. No goroutine runs until Start.
func NewRTPLeg(cfg RTPConfig) (*RTPLeg, error) {
	conn, err := listenRTP(cfg)
	if err != nil {
		return nil, err
	}
	l := &RTPLeg{conn: conn, stop: make(chan struct{}), wbuf: make([]byte, 1500)}
	l.log.log = orDefaultLogger(cfg.Logger)
	l.in = newInbound(cfg.FrameBuffer, &l.stats, &l.log)
	l.out = newSender(l.stop, &l.stats, &l.log)
	return l, nil
}

func listenRTP(cfg RTPConfig) (*net.UDPConn, error) {
	if cfg.PortMin == 0 && cfg.PortMax == 0 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: cfg.IP})
		if err != nil {
			return nil, fmt.Errorf("media: listen rtp: %w", err)
		}
		return c, nil
	}
	lo, hi := cfg.PortMin+cfg.PortMin%2, cfg.PortMax
	if lo <= 0 || hi > 65535 || lo > hi {
		return nil, fmt.Errorf("media: bad rtp port range %d-%d", cfg.PortMin, cfg.PortMax)
	}
	n := (hi-lo)/2 + 1
	// Start at a random even port so concurrent legs rarely collide.
	first := rand.IntN(n)
	for i := 0; i < n; i++ {
		port := lo + 2*((first+i)%n)
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: cfg.IP, Port: port})
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("media: listen rtp: %w", err)
		}
	}
	return nil, fmt.Errorf("%w: %d-%d", ErrNoPorts, cfg.PortMin, cfg.PortMax)
}

// LocalAddr is the bound RTP address to put in SDP.
func (l *RTPLeg) LocalAddr() *net.UDPAddr { return l.conn.LocalAddr().(*net.UDPAddr) }

// Start fixes the remote address, codec and telephone-event payload type
// (0 means no DTMF; PCMU's 0 is never a telephone-event type) and starts the
// reader and the 20 ms sender; Close stops them.
func (l *RTPLeg) Start(remote *net.UDPAddr, codec Codec, dtmfPT uint8) error {
	if remote == nil {
		return fmt.Errorf("media: start rtp leg: nil remote address")
	}
	enc, err := newEncoder(codec)
	if err != nil {
		return err
	}
	dec, err := newDecoder(codec)
	if err != nil {
		return err
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
	l.started = true
	l.codec = codec
	l.remote.Store(remote)
	hasDTMF := dtmfPT != 0
	l.in.configure(codec.PayloadType, dec, dtmfPT, hasDTMF)
	l.out.configure(codec, enc, dtmfPT, hasDTMF, l.writePacket)
	l.wg.Add(2)
	go func() { defer l.wg.Done(); l.readLoop() }()
	go func() { defer l.wg.Done(); l.out.run(l.stop) }()
	return nil
}

// SetRemote changes where packets go (re-INVITE, symmetric RTP latching).
func (l *RTPLeg) SetRemote(remote *net.UDPAddr) {
	if remote != nil {
		l.remote.Store(remote)
	}
}

func (l *RTPLeg) writePacket(p *rtp.Packet) error {
	n, err := p.MarshalTo(l.wbuf)
	if err != nil {
		return fmt.Errorf("media: marshal rtp: %w", err)
	}
	_, err = l.conn.WriteToUDP(l.wbuf[:n], l.remote.Load())
	return err
}

func (l *RTPLeg) readLoop() {
	buf := make([]byte, 2048)
	var pkt rtp.Packet
	for {
		n, _, err := l.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			l.log.warn("media: rtp read failed", "err", err)
			select {
			case <-l.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		l.handleDatagram(&pkt, buf[:n])
	}
}

// handleDatagram parses one datagram; garbage is counted and dropped.
func (l *RTPLeg) handleDatagram(pkt *rtp.Packet, b []byte) {
	if len(b) < 12 || b[0]>>6 != 2 {
		l.stats.ignored.Add(1)
		return
	}
	if err := pkt.Unmarshal(b); err != nil {
		l.stats.ignored.Add(1)
		l.log.warn("media: malformed rtp", "err", err)
		return
	}
	l.in.handle(pkt)
}

// Frames implements Leg.
func (l *RTPLeg) Frames() <-chan []int16 { return l.in.frames }

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
		l.mu.Lock()
		close(l.stop)
		l.mu.Unlock()
		err = l.conn.Close()
		l.wg.Wait()
		l.out.flush()
		l.in.close()
	})
	return err
}
