package sip

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
)

// allowed is our Allow header.
const allowed = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, REFER, NOTIFY"

// validateTransports checks the TLS and WebSocket settings.
func (c Config) validateTransports() error {
	if c.TLSAddr != "" {
		if _, _, err := net.SplitHostPort(c.TLSAddr); err != nil {
			return fmt.Errorf("%w: tls_addr %q: %w", ErrBadConfig, c.TLSAddr, err)
		}
		if c.TLSCert == "" || c.TLSKey == "" {
			return fmt.Errorf("%w: tls_addr needs tls_cert and tls_key", ErrBadConfig)
		}
	}
	if c.WSAddr != "" {
		if _, _, err := net.SplitHostPort(c.WSAddr); err != nil {
			return fmt.Errorf("%w: ws_addr %q: %w", ErrBadConfig, c.WSAddr, err)
		}
	}
	return nil
}

// serveExtraTransports starts the TLS and WebSocket listeners that are
// configured; stop closes them (the serve goroutines then end on wg).
func (s *Server) serveExtraTransports(srv *sipgo.Server, wg *sync.WaitGroup) (stop func(), err error) {
	var lns []net.Listener
	stop = func() {
		for _, l := range lns {
			l.Close()
		}
	}
	if s.cfg.TLSAddr != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			return stop, fmt.Errorf("sip tls: load %s / %s: %w", s.cfg.TLSCert, s.cfg.TLSKey, err)
		}
		ln, err := tls.Listen("tcp", s.cfg.TLSAddr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		if err != nil {
			return stop, fmt.Errorf("sip listen tls %s: %w", s.cfg.TLSAddr, err)
		}
		lns = append(lns, ln)
		a := ln.Addr().String()
		s.tlsAddr.Store(&a)
		wg.Add(1)
		go func() { defer wg.Done(); _ = srv.ServeTLS(ln) }()
	}
	if s.cfg.WSAddr != "" {
		ln, err := net.Listen("tcp", s.cfg.WSAddr)
		if err != nil {
			stop()
			return func() {}, fmt.Errorf("sip listen ws %s: %w", s.cfg.WSAddr, err)
		}
		lns = append(lns, ln)
		a := ln.Addr().String()
		s.wsAddr.Store(&a)
		wg.Add(1)
		go func() { defer wg.Done(); _ = srv.ServeWS(ln) }()
	}
	return stop, nil
}

// TLSAddr is the bound SIP over TLS address, valid after Ready; empty when
// TLS is off.
func (s *Server) TLSAddr() string {
	if p := s.tlsAddr.Load(); p != nil {
		return *p
	}
	return ""
}

// WSAddr is the bound SIP over WebSocket address, valid after Ready; empty
// when WebSocket is off.
func (s *Server) WSAddr() string {
	if p := s.wsAddr.Load(); p != nil {
		return *p
	}
	return ""
}

// portFor is our listening port for a transport name (UDP, TCP, TLS, WS).
func (s *Server) portFor(transport string) int {
	a := s.Addr()
	switch strings.ToLower(transport) {
	case "tls":
		a = s.TLSAddr()
	case "ws":
		a = s.WSAddr()
	}
	_, p, _ := net.SplitHostPort(a)
	port, _ := strconv.Atoi(p)
	return port
}

// watchTick is how often the call watchdog looks: once a second, more
// often when the timeouts are short (tests).
func (s *Server) watchTick() time.Duration {
	tick := time.Second
	if s.cfg.RTPTimeout > 0 {
		tick = min(tick, s.cfg.RTPTimeout/5)
	}
	if s.cfg.SessionExpires > 0 {
		tick = min(tick, s.cfg.MinSE/10)
	}
	return max(tick, 20*time.Millisecond)
}

var errNoTLSConfig = errors.New("tls transport needs DialConfig.TLSConfig")
