package postgres

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// stallProxy forwards TCP connections to a Postgres server; while stalled
// it accepts connections and never answers them (a server half started, a
// proxy in front of one that is down), and it keeps those connections
// open when it forwards again.
type stallProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	stall  bool
	conns  []net.Conn // all, to close: forwarded ones when stalling, the rest at the end
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	return p
}

func (p *stallProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		stall := p.stall
		p.mu.Unlock()
		if !stall {
			go p.forward(c)
		}
	}
}

func (p *stallProxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, s)
	p.mu.Unlock()
	go func() { _, _ = io.Copy(s, c); s.Close() }()
	_, _ = io.Copy(c, s)
	c.Close()
}

// set stalls new connections (cutting the forwarded ones, as a server
// going down does) or forwards them again.
func (p *stallProxy) set(stall bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stall = stall
	if stall {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// TestRecoversAfterStalledConnects: while the server accepts connections
// and never answers, queries fail at their callers' deadlines; once it
// answers again, queries succeed within the connect timeout, though the
// stalled connections are never answered. (Without a connect timeout the
// pool's connects, which a caller's deadline does not cancel, held every
// slot for good.)
func TestRecoversAfterStalledConnects(t *testing.T) {
	u, err := url.Parse(testDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newStallProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	s := open(t, u.String())
	query := func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		_, err := s.CountUsers(ctx)
		return err
	}
	if err := query(5 * time.Second); err != nil {
		t.Fatal(err)
	}

	p.set(true)
	for range 8 { // more than the pool's connections (4 on 2 CPUs)
		if err := query(300 * time.Millisecond); err == nil {
			t.Fatal("query succeeded while the server does not answer")
		}
	}
	p.set(false)
	back := time.Now()
	bound := defaultConnectTimeout + 5*time.Second
	for {
		err := query(time.Second)
		if err == nil {
			break
		}
		if time.Since(back) > bound {
			t.Fatalf("queries still fail %v after the server answers again: %v", bound, err)
		}
	}
	t.Logf("queries succeed again %.1f s after the server answers", time.Since(back).Seconds())
}
