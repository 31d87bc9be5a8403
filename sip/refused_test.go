package sip

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestOnInviteRefused: a draining server's 503 to an INVITE reaches the
// metrics hook; OPTIONS and answered calls do not.
func TestOnInviteRefused(t *testing.T) {
	var mu sync.Mutex
	var codes []int
	s := startServer(t, Config{OnInviteRefused: func(code int) {
		mu.Lock()
		codes = append(codes, code)
		mu.Unlock()
	}}, newToneHandler())
	s.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Dial(ctx, dialCfg(s, "udp", "PCMU"))
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 503 {
		t.Fatalf("dial a draining server: %v, want 503", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(codes) != 1 || codes[0] != 503 {
		t.Fatalf("hook saw %v, want [503]", codes)
	}
}
