package media

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// WebRTCConfig configures a browser leg.
type WebRTCConfig struct {
	// ICEServers are STUN/TURN servers (none needed on a LAN or loopback).
	ICEServers []webrtc.ICEServer
	// IncludeLoopback gathers 127.0.0.1 candidates (tests, same-host peers).
	IncludeLoopback bool
	// NAT1To1IPs are public addresses announced as host candidates.
	NAT1To1IPs []string
	// PortMin and PortMax bound the ICE UDP ports (both zero: any).
	PortMin, PortMax uint16
	// DisconnectedTimeout and FailedTimeout override pion's ICE timeouts
	// (5 s and 25 s) when non-zero.
	DisconnectedTimeout, FailedTimeout time.Duration
	// FrameBuffer is the capacity of Frames() (default 50, one second).
	FrameBuffer int
	// Logger receives rate-limited warnings (nil: discard).
	Logger *slog.Logger
}

// WebRTCLeg is a Leg to a browser: one Opus track each way over pion. There
// is no DTMF from browsers; DTMF() stays empty until Close.
type WebRTCLeg struct {
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP
	stats counters
	log   rateLimitedLog
	in    *inbound
	out   *sender

	mu sync.Mutex
	// pion closes a peer connection on the browser's DTLS close_notify
	// from a goroutine of its own, and that close writes what GetStats
	// reads without a lock (a data race in v4.2.20). statsMu and
	// statsDone order them: the close stops the DTLS transport first,
	// whose state handler (synchronous, in the closing goroutine) sets
	// statsDone, and Quality asks for stats only before it.
	statsMu   sync.Mutex
	statsDone bool
	closed    bool
	gotTrack  bool
	stop      chan struct{}
	done      chan struct{}
	doneOnce  sync.Once
	wg        sync.WaitGroup
	closeErr  error
	closing   sync.Once
}

var _ Leg = (*WebRTCLeg)(nil)

// NewWebRTCLeg answers the browser's offer (which must carry an Opus audio
// m-line) and returns the leg with the complete answer SDP: it waits for ICE
// gathering, so no trickle is needed. Unlike NewRTPLeg it starts the leg at
// once (pion's goroutines, the 20 ms sender, the RTCP drain); Close stops them.
func NewWebRTCLeg(ctx context.Context, offerSDP string, cfg WebRTCConfig) (*WebRTCLeg, string, error) {
	api, err := newWebRTCAPI(cfg)
	if err != nil {
		return nil, "", err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: cfg.ICEServers})
	if err != nil {
		return nil, "", fmt.Errorf("media: new peer connection: %w", err)
	}
	l := &WebRTCLeg{pc: pc, stop: make(chan struct{}), done: make(chan struct{})}
	l.log.log = orDefaultLogger(cfg.Logger)
	l.in = newInbound(cfg.FrameBuffer, &l.stats, &l.log)
	l.out = newSender(l.stop, &l.stats, &l.log)
	l.out.held.Store(true) // until the browser is connected
	answer, err := l.negotiate(ctx, offerSDP)
	if err != nil {
		l.Close()
		return nil, "", err
	}
	return l, answer, nil
}

func newWebRTCAPI(cfg WebRTCConfig) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1",
		},
		PayloadType: webrtc.PayloadType(Opus.PayloadType),
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("media: register opus: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("media: interceptors: %w", err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if len(cfg.NAT1To1IPs) > 0 {
		se.SetNAT1To1IPs(cfg.NAT1To1IPs, webrtc.ICECandidateTypeHost)
	}
	if cfg.PortMin != 0 || cfg.PortMax != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return nil, fmt.Errorf("media: webrtc port range: %w", err)
		}
	}
	if cfg.DisconnectedTimeout > 0 || cfg.FailedTimeout > 0 {
		disc, failed := cfg.DisconnectedTimeout, cfg.FailedTimeout
		if disc <= 0 {
			disc = 5 * time.Second
		}
		if failed <= 0 {
			failed = 25 * time.Second
		}
		se.SetICETimeouts(disc, failed, 2*time.Second)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

func (l *WebRTCLeg) negotiate(ctx context.Context, offerSDP string) (string, error) {
	dec, err := newDecoder(Opus)
	if err != nil {
		return "", err
	}
	enc, err := newEncoder(Opus)
	if err != nil {
		return "", err
	}
	l.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			l.out.held.Store(false)
		}
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			l.markDone()
		}
	})
	// A peer that closes cleanly sends a DTLS close_notify; pion keeps the
	// connection state "connected" then, so watch the DTLS transport too.
	l.pc.SCTP().Transport().OnStateChange(func(s webrtc.DTLSTransportState) {
		if s == webrtc.DTLSTransportStateClosed || s == webrtc.DTLSTransportStateFailed {
			l.endStats() // before pion's close goes on to what GetStats reads
			l.markDone()
		}
	})
	l.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		l.onTrack(tr, dec)
	})
	if err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offerSDP}); err != nil {
		return "", fmt.Errorf("media: webrtc offer: %w", err)
	}
	l.track, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
	}, "audio", "contactd")
	if err != nil {
		return "", fmt.Errorf("media: webrtc track: %w", err)
	}
	rtpSender, err := l.pc.AddTrack(l.track)
	if err != nil {
		return "", fmt.Errorf("media: webrtc add track: %w", err)
	}
	answer, err := l.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("media: webrtc answer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(l.pc)
	if err := l.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("media: webrtc local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("media: ice gathering: %w", ctx.Err())
	}
	l.out.configure(Opus, enc, 0, false, l.track.WriteRTP)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return "", ErrClosed
	}
	l.wg.Add(2)
	go func() { defer l.wg.Done(); l.out.run(l.stop, func(now time.Time, _ uint32) { l.in.tick(now) }) }()
	go func() {
		// Interceptors (NACK, reports) only see RTCP that is read.
		defer l.wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := rtpSender.Read(buf); err != nil {
				return
			}
		}
	}()
	return l.pc.LocalDescription().SDP, nil
}

func (l *WebRTCLeg) onTrack(tr *webrtc.TrackRemote, dec decoder) {
	if tr.Kind() != webrtc.RTPCodecTypeAudio || !strings.EqualFold(tr.Codec().MimeType, webrtc.MimeTypeOpus) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.gotTrack {
		return // one inbound audio track is all a browser leg carries
	}
	l.gotTrack = true
	l.in.configure(Opus, uint8(tr.PayloadType()), dec, 0, false, false)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		buf := make([]byte, 1500)
		var pkt rtp.Packet
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			if err := pkt.Unmarshal(buf[:n]); err != nil {
				l.stats.ignored.Add(1)
				continue
			}
			l.in.handle(&pkt, time.Now())
		}
	}()
}

// endStats stops Quality asking pion for stats: the peer connection is
// closing.
func (l *WebRTCLeg) endStats() {
	l.statsMu.Lock()
	l.statsDone = true
	l.statsMu.Unlock()
}

func (l *WebRTCLeg) markDone() { l.doneOnce.Do(func() { close(l.done) }) }

// Done is closed when the peer connection fails, the browser closes it, or
// the leg is closed.
func (l *WebRTCLeg) Done() <-chan struct{} { return l.done }

// Frames implements Leg.
func (l *WebRTCLeg) Frames() <-chan []int16 { return l.in.frames }

// DTMF implements Leg; browsers send none.
func (l *WebRTCLeg) DTMF() <-chan rune { return l.in.dtmf }

// WriteFrame implements Leg. Until the peer connection is connected the
// queue is held, so a prompt played right after the answer is not lost.
func (l *WebRTCLeg) WriteFrame(pcm []int16) error {
	return l.out.writeFrame(context.Background(), pcm)
}

// WriteFrameContext is WriteFrame that gives up when ctx ends.
func (l *WebRTCLeg) WriteFrameContext(ctx context.Context, pcm []int16) error {
	return l.out.writeFrame(ctx, pcm)
}

// Forward implements Leg.
func (l *WebRTCLeg) Forward(pcm []int16) error { return l.out.forward(pcm) }

// Flush implements Leg.
func (l *WebRTCLeg) Flush() { l.out.flush() }

// Codec implements Leg: always Opus.
func (l *WebRTCLeg) Codec() Codec { return Opus }

// Stats returns the leg's counters.
func (l *WebRTCLeg) Stats() Stats { return l.stats.snapshot() }

// Close implements Leg: it closes the peer connection and waits for the
// leg's goroutines.
func (l *WebRTCLeg) Close() error {
	l.closing.Do(func() {
		l.mu.Lock()
		l.closed = true
		close(l.stop)
		l.mu.Unlock()
		l.endStats()
		if err := l.pc.Close(); err != nil {
			l.closeErr = fmt.Errorf("media: close peer connection: %w", err)
		}
		l.wg.Wait()
		l.out.flush()
		l.in.close()
		l.markDone()
	})
	return l.closeErr
}

// LastPacket is when the last RTP packet from the browser was accepted.
func (l *WebRTCLeg) LastPacket() time.Time {
	ns := l.in.lastPacket.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Quality summarises the browser leg: loss and jitter as received here,
// the round trip and the browser's view of our stream from pion's RTCP
// statistics.
func (l *WebRTCLeg) Quality() Quality {
	var q Quality
	rx, jb := l.in.snapshot()
	l.statsMu.Lock()
	var report webrtc.StatsReport
	if !l.statsDone {
		report = l.pc.GetStats()
	}
	l.statsMu.Unlock()
	for _, s := range report {
		if r, ok := s.(webrtc.RemoteInboundRTPStreamStats); ok && r.Kind == "audio" {
			q.RTTMS = r.RoundTripTime * 1000
			q.RemotePacketsLost = int64(r.PacketsLost)
			q.RemoteJitterMS = r.Jitter * 1000
			if sent := l.stats.packetsOut.Load(); sent > 0 && r.PacketsLost > 0 {
				q.RemoteLossPercent = min(100*float64(r.PacketsLost)/float64(sent), 100)
			}
		}
	}
	q.fill(Opus, rx, jb)
	return q
}
