package sip

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/internal/syncbuf"
)

// SIPVicious (Debian package sipvicious) is what attackers scan SIP
// servers with: svwar guesses extensions, svcrack guesses passwords.

func sipvicious(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s is needed (make test installs the Debian package sipvicious): %v", tool, err)
	}
	return p
}

// runSV runs a SIPVicious tool against s over UDP from 127.0.0.1 and
// returns what it printed.
func runSV(t *testing.T, s *Server, tool string, args ...string) string {
	t.Helper()
	return runSVUntil(t, s, tool, "", args...)
}

// runSVUntil is runSV that ends the tool once it has printed until (the
// rest would only be its ten-second wait for a last answer).
func runSVUntil(t *testing.T, s *Server, tool, until string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipvicious(t, tool), append(append([]string{
		"-x", "127.0.0.1", // our address in Via/Contact (not the host's name)
		"-P", strconv.Itoa(freeUDPPort(t)),
	}, args...), "udp://"+s.Addr())...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // it keeps sessions under ~/.sipvicious
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	stopped := false
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-time.After(50 * time.Millisecond):
			if until != "" && !stopped && strings.Contains(out.String(), until) {
				stopped = true
				time.Sleep(200 * time.Millisecond)
				_ = cmd.Process.Kill()
			}
		}
	}
	t.Logf("%s %s: %.1f s", tool, strings.Join(args, " "), time.Since(t0).Seconds())
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish: %s", tool, out)
	}
	if err != nil && !stopped {
		t.Fatalf("%s: %v\n%s", tool, err, out)
	}
	return out.String()
}

func wordlist(t *testing.T, words ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "words.txt")
	if err := os.WriteFile(p, []byte(strings.Join(words, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSVWarFindsNoExtensions: svwar, over a list holding the real users
// among common guesses, finds no extension. Its REGISTER scan gives up at
// its first probe: a made-up user is challenged (401) exactly like a real
// one, so there is no "unknown user" answer to tell them apart by (forced
// on, it stops at the first guess for the same reason). Its OPTIONS scan
// runs through the whole list and every guess gets the same answer. The
// guard is on, as deployed, and lets the paced scans through.
func TestSVWarFindsNoExtensions(t *testing.T) {
	t.Parallel()
	s := startServer(t, Config{Registrar: true, Credentials: testCredentials(), DigestAlgorithms: []string{"MD5"},
		Guard: GuardConfig{Enabled: true}}, newToneHandler())
	guesses := []string{"100", "101", "1000", "admin", "alice", "operator", "bob", "test", "mallory", "200", "support", "guest"}
	list := wordlist(t, guesses...)
	for _, run := range []struct {
		name  string
		args  []string
		want  string // in the output
		until string // the scan is over (the rest is a wait for stray answers)
	}{
		{"REGISTER", nil, "replied with an authentication request for an unknown extension", ""},
		{"REGISTER forced", []string{"--force"}, "Bad user = SIP/2.0 401", "We got an unknown response"},
		{"OPTIONS forced", []string{"--force", "-m", "OPTIONS"}, "", ""},
	} {
		out := runSVUntil(t, s, "svwar", run.until, append(run.args, "--debug", "-t", "0.05", "--maximumtime", "3", "-d", list)...)
		if (run.until == "" && !strings.Contains(out, "found nothing")) || strings.Contains(out, "exists") || !strings.Contains(out, run.want) {
			t.Errorf("svwar %s:\n%s", run.name, out)
		}
		if run.name == "OPTIONS forced" {
			// Every guess was answered: nothing was found because the
			// answers say nothing, not because the scan was cut off.
			if n := strings.Count(out, "SIP/2.0 200 OK"); n < len(guesses)+1 {
				t.Errorf("svwar %s: %d answers to %d guesses and a probe\n%s", run.name, n, len(guesses), out)
			}
		}
	}
	if st := s.GuardStats(); st.Bans != 0 {
		t.Errorf("the paced scans were banned: %+v", st)
	}
}

// TestSVCrackGetsBanned: svcrack guessing alice's password from a list
// that holds it finds it when the guard is off (so the tool works
// against our registrar), but with the guard on the source is banned
// after a few failures and never gets that far: it stops getting answers
// at all, while other sources are still served.
func TestSVCrackGetsBanned(t *testing.T) {
	t.Parallel()
	list := wordlist(t, "123456", "password", "alice", "alice1", "qwerty", "letmein", "secret", "welcome", "1234", "alice123",
		testUsers["alice"], "trustno1")

	open := startServer(t, Config{Registrar: true, Credentials: testCredentials(), DigestAlgorithms: []string{"MD5"}}, newToneHandler())
	out := runSV(t, open, "svcrack", "-u", "alice", "-d", list, "-t", "0.02", "--maximumtime", "3")
	cracked := regexp.MustCompile(`\|\s*alice\s*\|\s*` + testUsers["alice"] + `\s*\|`)
	if !cracked.MatchString(out) {
		t.Fatalf("without the guard svcrack did not find the password: the test proves nothing\n%s", out)
	}

	s := startServer(t, Config{Registrar: true, Credentials: testCredentials(), DigestAlgorithms: []string{"MD5"},
		Guard: GuardConfig{Enabled: true, AuthFailures: 5}}, newToneHandler()) // no exempt sources
	out = runSVUntil(t, s, "svcrack", "since we last received a response", "-u", "alice", "-d", list, "-t", "0.02", "--maximumtime", "2")
	if cracked.MatchString(out) || strings.Contains(out, "Password") {
		t.Fatalf("svcrack found the password through the guard:\n%s", out)
	}
	if !strings.Contains(out, "since we last received a response") {
		t.Errorf("svcrack did not run out of answers:\n%s", out)
	}
	st := s.GuardStats()
	if st.Bans != 1 || st.Banned != 1 || st.AuthFailures != 5 || st.Dropped == 0 {
		t.Errorf("guard: %+v; want one ban after 5 failures, the rest dropped", st)
	}
	if res := dialRawFrom(t, "udp", "127.0.0.1", s.Addr()).do(request("OPTIONS"), time.Second); res != nil {
		t.Errorf("the banned source is still answered: %+v", res)
	}
	if res := dialRawFrom(t, "udp", "127.0.0.2", s.Addr()).do(request("OPTIONS"), 3*time.Second); res == nil || res.Code != 200 {
		t.Errorf("another source is not served: %+v", res)
	}
}
