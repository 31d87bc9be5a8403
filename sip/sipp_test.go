package sip

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// TestSIPp runs SIPp's built-in UAC scenario (INVITE, 100/180/200, ACK,
// BYE) three times against the server: a third-party stack must agree
// with ours on every message.
func TestSIPp(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("sipp not installed (Debian package sip-tester); skipping interop test")
	}
	h := newToneHandler()
	s := startServer(t, Config{}, h)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp,
		"-sn", "uac", "-s", "support",
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)), "-mp", strconv.Itoa(freeUDPPort(t)),
		"-m", "3", "-l", "1", "-d", "300",
		"-timeout", "20s", "-timeout_error", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		s.Addr())
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		t.Fatalf("sipp: %v\nerrors:\n%s\noutput tail:\n%s", err, errs, tail(out, 3000))
	}
	for i := 0; i < 3; i++ {
		c := recv(t, "sipp call", h.calls)
		if c.Codec.Name != "PCMU" || c.To != "support" {
			t.Errorf("call %d: %+v", i, c)
		}
	}
	for i := 0; i < 3; i++ {
		if cause := recv(t, "sipp call end", h.causes); !errors.Is(cause, ErrRemoteHangup) {
			t.Errorf("call %d ended with %v, want ErrRemoteHangup (sipp's BYE)", i, cause)
		}
	}
	waitFor(t, "no active calls", func() bool { return s.ActiveCalls() == 0 })
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
