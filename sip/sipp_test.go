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

	"github.com/contactd/contactd/media"
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

// TestSIPpPCAP runs SIPp's built-in uac_pcap scenario: a PCMA call whose
// RTP is SIPp replaying a recorded stream (Debian's g711a.pcap, about 8 s)
// and then an RFC 2833 digit 1 from a capture. Our leg must take the
// stream (packets in, nothing undecodable) and report the digit.
func TestSIPpPCAP(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp is needed (make test installs sip-tester)")
	}
	pcaps, _ := filepath.Glob("/usr/share/sip-tester/*.pcap")
	if len(pcaps) == 0 {
		t.Fatal("sip-tester's pcap files are missing from /usr/share/sip-tester")
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "pcap"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range pcaps {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "pcap", filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := newToneHandler()
	s := startServer(t, Config{}, h)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp,
		"-sn", "uac_pcap", "-s", "support",
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)), "-mp", strconv.Itoa(freeUDPPort(t)),
		"-m", "1", "-l", "1",
		"-timeout", "30s", "-timeout_error", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		s.Addr())
	cmd.Dir = dir
	done := make(chan error, 1)
	var out []byte
	go func() {
		var err error
		out, err = cmd.CombinedOutput()
		done <- err
	}()
	c := recv(t, "sipp call", h.calls)
	if c.Codec.Name != "PCMA" || !c.DTMF {
		t.Errorf("codec %s, telephone-event %v; want PCMA with DTMF", c.Codec.Name, c.DTMF)
	}
	select {
	case d := <-h.digits:
		if d != '1' {
			t.Errorf("digit %q, want 1", d)
		}
	case <-time.After(20 * time.Second):
		t.Error("no RFC 2833 digit from the capture")
	}
	if err := <-done; err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		t.Fatalf("sipp: %v\nerrors:\n%s\noutput tail:\n%s", err, errs, tail(out, 3000))
	}
	if cause := recv(t, "sipp call end", h.causes); !errors.Is(cause, ErrRemoteHangup) {
		t.Errorf("call ended with %v, want ErrRemoteHangup", cause)
	}
	st := c.Leg.(interface{ Stats() media.Stats }).Stats()
	// The capture holds 236 audio packets (7 s, 30 ms each), the digit more.
	if st.PacketsIn < 236 || st.DecodeErrors > 0 {
		t.Errorf("leg stats %+v: want the capture's 236 packets and more in, no decode errors", st)
	}
}
