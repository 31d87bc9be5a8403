package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"
)

// rtpengine's ng control protocol: "<cookie> <bencoded dictionary>" over
// UDP, the reply echoing the cookie.

// bencode encodes strings, ints, lists and string-keyed dictionaries.
func bencode(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case string:
		buf.WriteString(strconv.Itoa(len(x)))
		buf.WriteByte(':')
		buf.WriteString(x)
	case []byte:
		buf.WriteString(strconv.Itoa(len(x)))
		buf.WriteByte(':')
		buf.Write(x)
	case int:
		fmt.Fprintf(buf, "i%de", x)
	case []string:
		buf.WriteByte('l')
		for _, s := range x {
			_ = bencode(buf, s)
		}
		buf.WriteByte('e')
	case []any:
		buf.WriteByte('l')
		for _, e := range x {
			if err := bencode(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte('e')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteByte('d')
		for _, k := range keys {
			_ = bencode(buf, k)
			if err := bencode(buf, x[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('e')
	default:
		return fmt.Errorf("bencode: unsupported %T", v)
	}
	return nil
}

var errBdecode = errors.New("bdecode: malformed input")

// bdecode decodes one value: string, int64, []any or map[string]any.
func bdecode(b []byte) (any, []byte, error) {
	if len(b) == 0 {
		return nil, nil, errBdecode
	}
	switch c := b[0]; {
	case c == 'i':
		end := bytes.IndexByte(b, 'e')
		if end < 0 {
			return nil, nil, errBdecode
		}
		n, err := strconv.ParseInt(string(b[1:end]), 10, 64)
		if err != nil {
			return nil, nil, errBdecode
		}
		return n, b[end+1:], nil
	case c == 'l':
		var out []any
		b = b[1:]
		for len(b) > 0 && b[0] != 'e' {
			v, rest, err := bdecode(b)
			if err != nil {
				return nil, nil, err
			}
			out, b = append(out, v), rest
		}
		if len(b) == 0 {
			return nil, nil, errBdecode
		}
		return out, b[1:], nil
	case c == 'd':
		out := map[string]any{}
		b = b[1:]
		for len(b) > 0 && b[0] != 'e' {
			k, rest, err := bdecode(b)
			if err != nil {
				return nil, nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, nil, errBdecode
			}
			v, rest, err := bdecode(rest)
			if err != nil {
				return nil, nil, err
			}
			out[ks], b = v, rest
		}
		if len(b) == 0 {
			return nil, nil, errBdecode
		}
		return out, b[1:], nil
	case c >= '0' && c <= '9':
		colon := bytes.IndexByte(b, ':')
		if colon < 0 {
			return nil, nil, errBdecode
		}
		n, err := strconv.Atoi(string(b[:colon]))
		if err != nil || n < 0 || colon+1+n > len(b) {
			return nil, nil, errBdecode
		}
		return string(b[colon+1 : colon+1+n]), b[colon+1+n:], nil
	}
	return nil, nil, errBdecode
}

// ngClient talks to one rtpengine control socket.
type ngClient struct {
	conn    *net.UDPConn
	mu      sync.Mutex
	waiting map[string]chan map[string]any
	done    chan struct{}
}

func dialNG(addr string) (*ngClient, error) {
	ra, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.DialUDP("udp", nil, ra)
	if err != nil {
		return nil, err
	}
	_ = c.SetReadBuffer(4 << 20)
	n := &ngClient{conn: c, waiting: map[string]chan map[string]any{}, done: make(chan struct{})}
	go n.read()
	return n, nil
}

func (n *ngClient) read() {
	defer close(n.done)
	buf := make([]byte, 65536)
	for {
		k, err := n.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		sp := bytes.IndexByte(buf[:k], ' ')
		if sp < 0 {
			continue
		}
		v, _, err := bdecode(buf[sp+1 : k])
		d, ok := v.(map[string]any)
		if err != nil || !ok {
			continue
		}
		n.mu.Lock()
		ch := n.waiting[string(buf[:sp])]
		n.mu.Unlock()
		if ch != nil {
			select {
			case ch <- d:
			default:
			}
		}
	}
}

func (n *ngClient) close() {
	n.conn.Close()
	<-n.done
}

// call sends one command (retrying every second, 5 times) and returns the
// reply, an error if its result is not "ok".
func (n *ngClient) call(ctx context.Context, cmd map[string]any) (map[string]any, error) {
	cookie := strconv.FormatUint(rand.Uint64(), 36)
	var buf bytes.Buffer
	buf.WriteString(cookie)
	buf.WriteByte(' ')
	if err := bencode(&buf, cmd); err != nil {
		return nil, err
	}
	ch := make(chan map[string]any, 1)
	n.mu.Lock()
	n.waiting[cookie] = ch
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		delete(n.waiting, cookie)
		n.mu.Unlock()
	}()
	for try := 0; try < 5; try++ {
		if _, err := n.conn.Write(buf.Bytes()); err != nil {
			return nil, fmt.Errorf("ng %v: %w", cmd["command"], err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case d := <-ch:
			if r, _ := d["result"].(string); r != "ok" {
				reason, _ := d["error-reason"].(string)
				return d, fmt.Errorf("ng %v: result %q %s", cmd["command"], r, reason)
			}
			return d, nil
		case <-time.After(time.Second):
		}
	}
	return nil, fmt.Errorf("ng %v: no reply", cmd["command"])
}
