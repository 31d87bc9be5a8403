// Package baresiptest runs baresip (Debian baresip-core) as a real SIP
// phone in tests: it writes the phone's config and accounts files, starts
// it, drives it over its ctrl_tcp socket and shows its output when the
// test fails.
package baresiptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/internal/syncbuf"
	"github.com/contactd/contactd/media"
)

// ModuleDir is where Debian installs baresip's modules.
const ModuleDir = "/usr/lib/baresip/modules"

// Options say what phone to run.
type Options struct {
	// Modules are loaded besides stdio and aufile: the codecs
	// ("g711.so", "g722.so", "opus.so") and extras ("srtp.so",
	// "sndfile.so").
	Modules []string
	// Mic is what the phone's microphone sends, at MicRate with
	// MicChannels (default 1); it must match the codec's rate for
	// baresip's file source (8 kHz for G.711, 16 kHz G.722, 48 kHz
	// stereo Opus).
	Mic         []int16
	MicRate     int
	MicChannels int
	// Account is the accounts file's line, e.g.
	// "<sip:bob@127.0.0.1:5060>;auth_pass=x;regint=600;answermode=auto".
	Account string
	// Config is more config lines (sip_cafile, snd_path, answermode);
	// "{dir}" in them stands for Phone.Dir.
	Config string
	// Control opens the ctrl_tcp socket (Phone.Command).
	Control bool
	// Args are more command-line arguments ("-e", "/dial …", "-t", "20").
	Args []string
}

// Phone is a running baresip.
type Phone struct {
	// Dir holds its config, accounts, mic.wav and what it heard.
	Dir  string
	ctrl string
	out  *syncbuf.Buffer
}

// Need fails the test unless baresip and the named modules are installed.
func Need(t testing.TB, modules ...string) {
	t.Helper()
	if _, err := exec.LookPath("baresip"); err != nil {
		t.Fatal("baresip is needed (make test installs baresip-core)")
	}
	for _, m := range modules {
		if _, err := os.Stat(filepath.Join(ModuleDir, m)); err != nil {
			t.Fatalf("baresip has no %s module", m)
		}
	}
}

// Start writes the phone's files and starts it; it is killed when ctx
// ends or the test is over.
func Start(ctx context.Context, t testing.TB, o Options) *Phone {
	t.Helper()
	Need(t, o.Modules...)
	p := &Phone{Dir: t.TempDir(), out: &syncbuf.Buffer{}}
	mic := filepath.Join(p.Dir, "mic.wav")
	ch := max(o.MicChannels, 1)
	var wav bytes.Buffer
	if err := media.WriteWAV(&wav, o.Mic, o.MicRate, ch); err != nil {
		t.Fatalf("baresip mic: %v", err)
	}
	write(t, mic, wav.Bytes())
	// baresip listens for SIP on UDP and TCP at the port and TLS on the
	// next one: keep the control socket clear of those.
	sipPort := sipPortFree(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, "sip_listen 127.0.0.1:%d\naudio_source aufile,%s\naudio_player aufile,%s\nmodule_path %s\nmodule stdio.so\nmodule aufile.so\n",
		sipPort, mic, filepath.Join(p.Dir, "heard.wav"), ModuleDir)
	for _, m := range o.Modules {
		fmt.Fprintf(&conf, "module %s\n", m)
	}
	conf.WriteString("module_app menu.so\nmodule_app account.so\n")
	if o.Control {
		port := freePort(t, "tcp")
		for port >= sipPort-1 && port <= sipPort+1 {
			port = freePort(t, "tcp")
		}
		p.ctrl = fmt.Sprintf("127.0.0.1:%d", port)
		fmt.Fprintf(&conf, "module_app ctrl_tcp.so\nctrl_tcp_listen %s\n", p.ctrl)
	}
	conf.WriteString(strings.ReplaceAll(o.Config, "{dir}", p.Dir))
	write(t, filepath.Join(p.Dir, "config"), []byte(conf.String()))
	write(t, filepath.Join(p.Dir, "accounts"), []byte(strings.TrimSpace(o.Account)+"\n"))

	cmd := exec.CommandContext(ctx, "baresip", append([]string{"-f", p.Dir}, o.Args...)...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.Stdin = strings.NewReader("")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start baresip: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("baresip (%s):\n%s", o.Account, tail(p.out.String(), 4000))
		}
	})
	if o.Control {
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.Dial("tcp", p.ctrl)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("baresip's control socket %s: %v", p.ctrl, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return p
}

// Output is what baresip printed so far.
func (p *Phone) Output() string { return p.out.String() }

// WaitOutput waits until baresip has printed s.
func (p *Phone) WaitOutput(t testing.TB, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not print %q within %v", s, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Command runs one command over the ctrl_tcp socket (a netstring of
// JSON) and fails the test unless baresip answers ok.
func (p *Phone) Command(t testing.TB, cmd, params string) {
	t.Helper()
	if p.ctrl == "" {
		t.Fatal("baresiptest: Command needs Options.Control")
	}
	c, err := net.DialTimeout("tcp", p.ctrl, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": "t"})
	if _, err := fmt.Fprintf(c, "%d:%s,", len(msg), msg); err != nil {
		t.Fatal(err)
	}
	// Events (calls ringing, SDP) come on the same socket; the answer is
	// the message with "response":true.
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(got, []byte(`"response":true`)) {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("baresip %s: %v (read %s)", cmd, err, got)
		}
		got = append(got, buf[:n]...)
	}
	resp := string(got[bytes.Index(got, []byte(`"response":true`)):])
	if !strings.HasPrefix(resp, `"response":true,"ok":true`) {
		t.Fatalf("baresip %s %s: %s", cmd, params, resp)
	}
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// sipPortFree is a port free for baresip's SIP: UDP and TCP on it and
// TCP (TLS) on the next one. A UDP port the kernel hands out can still be
// taken for TCP, by any client connection's ephemeral port (a test's
// database or HTTP connections), so both are checked.
func sipPortFree(t testing.TB) int {
	t.Helper()
	for range 50 {
		port := freePort(t, "udp")
		ok := true
		for _, p := range []int{port, port + 1} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return port
		}
	}
	t.Fatal("no port free for SIP over UDP, TCP and TLS")
	return 0
}

func freePort(t testing.TB, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
