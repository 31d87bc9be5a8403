package wsstream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/asr/vad"
)

// Parser turns one vendor's server messages into results. A Parser serves
// one stream and is called from one goroutine.
type Parser interface {
	// Parse handles one text message; an error ends the stream.
	Parse(msg []byte) ([]asr.Result, error)
	// Flush returns what is still pending when the server is done.
	Flush() []asr.Result
}

// Config describes one stream's connection and dialect.
type Config struct {
	// Name prefixes errors and logs ("vosk").
	Name string
	// URL is the ws:// or wss:// address to dial.
	URL string
	// Header is sent with the upgrade request (e.g. Authorization).
	Header http.Header
	// Hello is sent as a text message right after connecting (nil: none).
	Hello []byte
	// Bye is the text message that ends the audio.
	Bye []byte
	// KeepAlive is sent when no audio went out for KeepAliveEvery (nil:
	// never).
	KeepAlive      []byte
	KeepAliveEvery time.Duration
	// Parser reads the server's messages.
	Parser Parser
	// VAD finds speech starts for barge-in (zero: vad defaults).
	VAD vad.Config
	// Buffer is how many Writes may queue before audio is dropped
	// (default 250: 5 s of 20 ms frames).
	Buffer int
	// DialTimeout bounds connecting (default 10 s).
	DialTimeout time.Duration
	// CloseTimeout bounds how long Close waits for the last results
	// (default 5 s).
	CloseTimeout time.Duration
	// Logger gets failures (default slog.Default()).
	Logger *slog.Logger
	// Label names the stream in logs.
	Label string
}

// Stream is an asr.Stream over one WebSocket.
type Stream struct {
	name     string
	conn     *websocket.Conn
	parser   Parser
	bye      []byte
	keep     []byte
	keepEv   time.Duration
	closeTO  time.Duration
	log      *slog.Logger
	seg      *vad.Segmenter
	ctx      context.Context // the caller's: emitting gives up when it ends
	ictx     context.Context // ends the connection's goroutines
	icancel  context.CancelFunc
	mu       sync.RWMutex // guards closed against sends on in
	closed   bool
	in       chan []int16
	out      chan asr.Result
	done     chan struct{} // closed after out
	wg       sync.WaitGroup
	byeSent  atomic.Bool
	dropped  atomic.Int64
	errMu    sync.Mutex
	err      error
	failedAt atomic.Bool   // Results ended by a failure
	recvDone chan struct{} // closed when receive returns
}

var (
	_ asr.Stream = (*Stream)(nil)
	_ asr.Failer = (*Stream)(nil)
)

// Dial connects to cfg.URL. It is the part of Open that can fail for
// reasons of configuration (bad URL, HTTP 401), reported with the HTTP
// status when there was one.
func Dial(ctx context.Context, cfg Config) (*websocket.Conn, error) {
	to := cfg.DialTimeout
	if to <= 0 {
		to = 10 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, cfg.URL, &websocket.DialOptions{HTTPHeader: cfg.Header})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			err = fmt.Errorf("%s: connect %s: HTTP %d: %w", cfg.Name, redact(cfg.URL), resp.StatusCode, err)
			if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
				err = fmt.Errorf("%w (%w)", err, asr.ErrFatal)
			}
			return nil, err
		}
		return nil, fmt.Errorf("%s: connect %s: %w", cfg.Name, redact(cfg.URL), err)
	}
	conn.SetReadLimit(1 << 20)
	return conn, nil
}

// redact drops the query string, which may hold a token.
func redact(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// Open dials, sends Hello and starts three goroutines (sender, receiver,
// and one that closes Results when both are done); Close stops and waits
// for them. Read Results until it is closed, or cancel ctx.
func Open(ctx context.Context, cfg Config) (*Stream, error) {
	if cfg.Parser == nil {
		return nil, fmt.Errorf("%s: no parser", cfg.Name)
	}
	conn, err := Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Hello != nil {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := conn.Write(wctx, websocket.MessageText, cfg.Hello)
		cancel()
		if err != nil {
			conn.CloseNow()
			return nil, fmt.Errorf("%s: send config: %w", cfg.Name, err)
		}
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 250
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = 5 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Label != "" {
		log = log.With("stream", cfg.Label)
	}
	vc := cfg.VAD
	vc.SampleRate = asr.SampleRate
	ictx, icancel := context.WithCancel(ctx)
	s := &Stream{
		name: cfg.Name, conn: conn, parser: cfg.Parser, bye: cfg.Bye,
		keep: cfg.KeepAlive, keepEv: cfg.KeepAliveEvery, closeTO: cfg.CloseTimeout,
		log: log, seg: vad.New(vc), ctx: ctx, ictx: ictx, icancel: icancel,
		in: make(chan []int16, cfg.Buffer), out: make(chan asr.Result, 64), done: make(chan struct{}),
		recvDone: make(chan struct{}),
	}
	s.wg.Add(2)
	go s.send()
	go s.receive()
	go func() {
		s.wg.Wait()
		s.icancel()
		s.conn.CloseNow()
		close(s.out)
		close(s.done)
	}()
	return s, nil
}

// Write queues audio without blocking; when the connection is behind,
// failed or closed, the audio is dropped and counted in Dropped.
func (s *Stream) Write(pcm []int16) {
	if len(pcm) == 0 {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed || s.ictx.Err() != nil {
		s.dropped.Add(int64(len(pcm)))
		return
	}
	select {
	case s.in <- append([]int16(nil), pcm...):
	default:
		if s.dropped.Add(int64(len(pcm))) == int64(len(pcm)) {
			s.log.Warn(s.name + ": stream is behind, dropping audio")
		}
	}
}

// Feed queues audio, waiting for room instead of dropping it (for whole
// utterances, not the media path).
func (s *Stream) Feed(ctx context.Context, pcm []int16) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("%s: stream closed", s.name)
	}
	select {
	case s.in <- append([]int16(nil), pcm...):
		return nil
	case <-s.ictx.Done():
		if err := s.Err(); err != nil {
			return err
		}
		return fmt.Errorf("%s: stream ended", s.name)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Results delivers SpeechStart, Partial and Final events. It is closed
// after Close, or earlier when the stream failed (see Err).
func (s *Stream) Results() <-chan asr.Result { return s.out }

// Close sends the end of audio, waits up to CloseTimeout for the last
// results and closes Results. It returns Err. Safe to call twice.
func (s *Stream) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.in)
	}
	s.mu.Unlock()
	t := time.NewTimer(s.closeTO)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		s.setErr(fmt.Errorf("%s: no final result within %v of the end of audio", s.name, s.closeTO))
		s.icancel()
		s.conn.CloseNow()
		<-s.done
	}
	return s.Err()
}

// Err returns why audio went untranscribed (the first failure), or nil.
func (s *Stream) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Dropped reports how many samples were dropped because the connection
// was behind or gone.
func (s *Stream) Dropped() int64 { return s.dropped.Load() }

// String describes the stream's stages for logs and tests.
func (s *Stream) String() string { return "VAD -> WebSocket(" + s.name + ")" }

func (s *Stream) setErr(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
}

// fail records err and tears the connection down; Results then closes.
func (s *Stream) fail(err error) {
	s.setErr(err)
	if s.failedAt.CompareAndSwap(false, true) {
		s.log.Warn(s.name+": recogniser failed, ending the stream", "err", err)
	}
	s.icancel()
}

func (s *Stream) emit(r asr.Result) {
	select {
	case s.out <- r:
	case <-s.ctx.Done():
	}
}

// maxBatch bounds how much queued audio goes in one message (200 ms).
const maxBatch = asr.SampleRate / 5

// send owns writes to the connection: audio, keep-alives, then Bye.
func (s *Stream) send() {
	defer s.wg.Done()
	var tick <-chan time.Time
	if s.keep != nil && s.keepEv > 0 {
		t := time.NewTicker(s.keepEv / 2)
		defer t.Stop()
		tick = t.C
	}
	last := time.Now()
	var evs []vad.Event
	buf := make([]byte, 0, 2*maxBatch)
	for {
		select {
		case <-s.ictx.Done():
			return
		case <-tick:
			if time.Since(last) < s.keepEv {
				continue
			}
			if err := s.conn.Write(s.ictx, websocket.MessageText, s.keep); err != nil {
				s.fail(fmt.Errorf("%s: send keep-alive: %w", s.name, err))
				return
			}
			last = time.Now()
		case pcm, ok := <-s.in:
			if !ok {
				s.byeSent.Store(true)
				if err := s.conn.Write(s.ictx, websocket.MessageText, s.bye); err != nil {
					s.fail(fmt.Errorf("%s: send end of audio: %w", s.name, err))
				}
				return
			}
			buf = buf[:0]
			for {
				evs = s.seg.Write(pcm, evs[:0])
				for _, ev := range evs {
					if ev.Kind == vad.SpeechStart {
						s.emit(asr.Result{Kind: asr.SpeechStart, StartMS: ev.StartMS, EndMS: ev.StartMS})
					}
				}
				for _, v := range pcm {
					buf = binary.LittleEndian.AppendUint16(buf, uint16(v))
				}
				if len(buf) >= 2*maxBatch {
					break
				}
				ok = false
				select {
				case pcm, ok = <-s.in: // a closed in is seen again next round
				default:
				}
				if !ok {
					break
				}
			}
			if err := s.conn.Write(s.ictx, websocket.MessageBinary, buf); err != nil {
				// A server that closes the connection with a reason makes
				// the write fail too: let the reader, which gets the
				// reason, say why first.
				select {
				case <-s.recvDone:
				case <-time.After(250 * time.Millisecond):
				}
				if s.ictx.Err() == nil {
					s.fail(fmt.Errorf("%s: connection lost: send audio: %w", s.name, err))
				}
				return
			}
			last = time.Now()
		}
	}
}

// receive reads the server's messages until it closes the connection.
func (s *Stream) receive() {
	defer s.wg.Done()
	defer close(s.recvDone)
	defer func() {
		for _, r := range s.parser.Flush() {
			s.emit(r)
		}
	}()
	for {
		typ, msg, err := s.conn.Read(s.ictx)
		if err != nil {
			switch {
			case s.byeSent.Load() && s.ictx.Err() == nil:
				// The server closes after the last result: done.
				code := websocket.CloseStatus(err)
				if code != -1 && code != websocket.StatusNormalClosure && code != websocket.StatusGoingAway {
					s.setErr(fmt.Errorf("%s: server closed with %v", s.name, err))
				}
				s.icancel()
			case s.ictx.Err() != nil:
				// fail or Close's timeout said why.
			default:
				s.fail(fmt.Errorf("%s: connection lost: %w", s.name, err))
			}
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		rs, err := s.parser.Parse(msg)
		if err != nil {
			s.fail(fmt.Errorf("%s: %w", s.name, err))
			return
		}
		for _, r := range rs {
			s.emit(r)
		}
	}
}

// ErrNoAudio is returned by Recognize for an empty utterance.
var ErrNoAudio = errors.New("asr: no audio")

// Recognize streams one whole utterance through a fresh connection and
// joins the finals into one Result.
func Recognize(ctx context.Context, cfg Config, pcm []int16) (asr.Result, error) {
	if len(pcm) == 0 {
		return asr.Result{}, fmt.Errorf("%s: %w", cfg.Name, ErrNoAudio)
	}
	st, err := Open(ctx, cfg)
	if err != nil {
		return asr.Result{}, err
	}
	collected := make(chan asr.Result, 1)
	go func() {
		var all asr.Result
		n := 0
		for r := range st.Results() {
			if r.Kind != asr.Final || strings.TrimSpace(r.Text) == "" {
				continue
			}
			if n == 0 {
				all.StartMS = r.StartMS
			}
			all.Text = strings.TrimSpace(all.Text + " " + r.Text)
			all.Words = append(all.Words, r.Words...)
			all.Confidence += r.Confidence
			all.EndMS = r.EndMS
			n++
		}
		if n > 0 {
			all.Confidence /= float64(n)
		}
		all.Kind = asr.Final
		collected <- all
	}()
	var feedErr error
	for i := 0; i < len(pcm) && feedErr == nil; i += maxBatch {
		feedErr = st.Feed(ctx, pcm[i:min(i+maxBatch, len(pcm))])
	}
	closeErr := st.Close()
	res := <-collected
	if feedErr != nil {
		return asr.Result{}, feedErr
	}
	if closeErr != nil {
		return asr.Result{}, closeErr
	}
	return res, nil
}
