package sip

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var statusLine = regexp.MustCompile(`(?m)^SIP/2\.0 (\d{3}) `)

// exchange sends data on a new connection and returns the status codes
// that come back within wait, stopping at the first final response or
// 180. It never fails the test: it runs in many goroutines at once.
func exchange(network, addr string, data []byte, wait time.Duration) ([]int, error) {
	c, err := net.Dial(network, addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Write(data); err != nil {
		return nil, err
	}
	var got []byte
	buf := make([]byte, 65535)
	deadline := time.Now().Add(wait)
	c.SetReadDeadline(deadline)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		var codes []int
		done := false
		for _, m := range statusLine.FindAllSubmatch(got, -1) {
			code, _ := strconv.Atoi(string(m[1]))
			codes = append(codes, code)
			done = done || code >= 180
		}
		if done || err != nil {
			return codes, nil
		}
	}
}

// options renders our liveness probe for a connection-less send.
func options(network, addr string) []byte {
	c, err := net.Dial(network, addr)
	if err != nil {
		return nil
	}
	defer c.Close()
	rc := &rawConn{network: network, c: c, target: addr}
	return []byte(request("OPTIONS").render(rc, randHex(), randHex()))
}

// TestTorture replays every RFC 4475 torture message (testdata/torture)
// over UDP and TCP, all at once. Invalid messages get 4xx/5xx or nothing,
// never 2xx; valid requests get some response on at least one transport
// (responses follow the messages' own Via, which often names an
// example.com host over UDP, so a single transport may stay silent);
// INVITEs only ring (RingDelay is a minute) and never reach the handler.
// After each message, on a fresh connection, OPTIONS still gets 200.
func TestTorture(t *testing.T) {
	// One server per transport: the UDP and TCP copies of a message share
	// a Via branch, so one server would take the second for a
	// retransmission of the first.
	h := newToneHandler()
	servers := map[string]*Server{
		"udp": startServer(t, Config{RingDelay: time.Minute}, h),
		"tcp": startServer(t, Config{RingDelay: time.Minute}, h),
	}
	files, err := filepath.Glob("testdata/torture/*/*.dat")
	if err != nil || len(files) < 40 {
		t.Fatalf("torture files: %d %v", len(files), err)
	}
	type result struct {
		codes   []int
		err     error
		options []int
	}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		results = map[string]map[string]result{} // file -> network -> result
		sem     = make(chan struct{}, 16)        // a burst, not a flood
	)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		results[f] = map[string]result{}
		mu.Unlock()
		for _, network := range []string{"udp", "tcp"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				var r result
				addr := servers[network].Addr()
				r.codes, r.err = exchange(network, addr, data, 1500*time.Millisecond)
				r.options, _ = exchange(network, addr, options(network, addr), 3*time.Second)
				mu.Lock()
				results[f][network] = r
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	for _, f := range files {
		kind := filepath.Base(filepath.Dir(f))
		name := kind + "/" + strings.TrimSuffix(filepath.Base(f), ".dat")
		t.Run(name, func(t *testing.T) {
			answered := false
			for network, r := range results[f] {
				if r.err != nil {
					t.Errorf("%s: %v", network, r.err)
				}
				if len(r.options) == 0 || r.options[len(r.options)-1] != 200 {
					t.Errorf("%s: OPTIONS afterwards got %v, want 200", network, r.options)
				}
				for _, c := range r.codes {
					if kind == "invalid" && c >= 200 && c < 300 && !mayAccept[filepath.Base(f)] {
						t.Errorf("%s: invalid message got %d", network, c)
					}
				}
				answered = answered || len(r.codes) > 0
				t.Logf("%s: %v", network, r.codes)
			}
			if kind == "valid" && !answered && !noReplyExpected[filepath.Base(f)] {
				t.Errorf("valid message got no response on either transport")
			}
		})
	}
	if len(h.calls) != 0 {
		t.Error("a torture INVITE reached the handler")
	}
}

// noReplyExpected are valid messages that need no response from us.
var noReplyExpected = map[string]bool{
	"noreason.dat": true, "unreason.dat": true, // responses, not requests
	// A REGISTER and an INVITE in one datagram/stream: REGISTER belongs
	// to the registrar (off here) and the INVITE's Via is UDP to
	// 192.0.2.15, so neither answer reaches this socket.
	"dblreq.dat": true,
}

// mayAccept are messages of the "invalid" folder that RFC 4475 lets a UAS
// process normally: a pre-RFC 3261 branch (badbranch), an unknown
// scheme only in To (unkscm), Max-Forwards 0 on a request addressed to us
// (zeromf).
var mayAccept = map[string]bool{"badbranch.dat": true, "unkscm.dat": true, "zeromf.dat": true}
