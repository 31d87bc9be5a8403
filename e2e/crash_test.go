package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/outbox"
	"github.com/contactd/contactd/sip"
)

// TestKillDuringCalls kills contactd with SIGKILL while it has calls in
// every state, and restarts it on the same data dir and database:
//
//   - A ended normally before the kill: its ticket and evaluation exist;
//   - B and C ended just before the kill while the database held their
//     post-call work back (the test locks the tickets table, as a slow
//     or stuck database would): the work waits in the outbox on disk;
//   - D and E were waiting in a queue, the callers talking, when the
//     process died: their recordings are WAVs cut mid-write.
//
// After the restart B and C get their ticket and evaluation from the
// outbox (one each, no duplicates); D and E are closed as interrupted,
// their recordings repaired (the header's sizes match the audio, which
// runs until the kill), flagged partial and encrypted like the rest. Every
// recording is a valid WAV; none is left in plaintext.
func TestKillDuringCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	if os.Getenv("CONTACTD_SKIP_POSTGRES") == "1" {
		t.Skip("needs Postgres: the test holds a table lock to keep post-call work pending at the kill")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	keyFile := filepath.Join(t.TempDir(), "recording.key")
	must(t, os.WriteFile(keyFile, []byte(strings.Repeat("5a", 32)+"\n"), 0o600))
	bin := buildBinary(t)
	s := startServerWith(t, bin, func(y string) string {
		return dtmfOnly(t, y) + fmt.Sprintf("\nrecordings: {encrypt: true, key_file: %q}\n", keyFile)
	})

	// A: a whole call.
	a := dialCaller(ctx, t, s, "+15550161")
	a.toQueue(t)
	time.Sleep(time.Second)
	a.hangup(t)
	aID := s.endedCallOf(t, "+15550161").ID
	waitUntil(t, "A's ticket", 20*time.Second, func() bool { return s.count(t, "tickets", aID) == 1 })

	// D and E wait in a queue, talking.
	d, e := dialCaller(ctx, t, s, "+15550164"), dialCaller(ctx, t, s, "+15550165")
	d.toQueue(t)
	e.toQueue(t)
	// B and C are in the IVR when the database stalls on tickets.
	b, c := dialCaller(ctx, t, s, "+15550162"), dialCaller(ctx, t, s, "+15550163")
	b.waitGreeting(t)
	c.waitGreeting(t)
	waitUntil(t, "D and E in a queue", 20*time.Second, func() bool { return s.waiting(t) == 2 })
	bID, cID := s.callOf(t, "+15550162").ID, s.callOf(t, "+15550163").ID
	dID, eID := s.callOf(t, "+15550164").ID, s.callOf(t, "+15550165").ID
	// From here on, until the kill, nothing that reads tickets answers
	// (the API's caller history does): the test only looks at files.
	unlock := lockTable(ctx, t, s.dbURL, "tickets")
	defer unlock()
	time.Sleep(time.Second)
	b.hangup(t)
	c.hangup(t)
	box := filepath.Join(s.dataDir, "outbox")
	waitUntil(t, "B's and C's post-call work in the outbox", 15*time.Second, func() bool {
		return inBox(t, box, bID) && inBox(t, box, cID)
	})

	// kill -9, with D and E a few seconds into their calls (their
	// recordings' headers are rewritten every second, the audio every
	// quarter second).
	time.Sleep(time.Until(d.answered.Add(4*time.Second + 600*time.Millisecond)))
	must(t, s.cmd.Process.Signal(syscall.SIGKILL))
	killed := time.Now()
	<-s.exited
	unlock()
	for _, lc := range []*liveCaller{d, e} {
		lc.stopTalking()
	}
	recDir := filepath.Join(s.dataDir, "recordings")
	for _, id := range []string{dID, eID} {
		raw, err := os.ReadFile(recFile(s, id))
		if err != nil {
			t.Fatalf("the interrupted call's recording: %v", err)
		}
		t.Logf("%s at the kill: %d bytes of audio, the header says %d", id, len(raw)-44, binary.LittleEndian.Uint32(raw[40:]))
	}
	for _, id := range []string{bID, cID} {
		if !exists(recFile(s, id) + ".enc") {
			t.Errorf("B/C's recording was not sealed when the call ended")
		}
	}

	// Restart on the same data dir and database.
	s.logs.Write([]byte("\n===== restart after SIGKILL =====\n"))
	s.launch(t, bin, s.cmd.Env)
	for _, lc := range []*liveCaller{d, e} { // their calls died with the process
		lc.hangup(t)
	}
	for _, id := range []string{bID, cID} {
		waitUntil(t, "the outbox's ticket and evaluation for "+id, 30*time.Second, func() bool {
			return s.count(t, "tickets", id) == 1 && s.count(t, "qa/evaluations", id) == 1
		})
	}
	for _, id := range []string{aID, bID, cID} {
		if nt, ne := s.count(t, "tickets", id), s.count(t, "qa/evaluations", id); nt != 1 || ne != 1 {
			t.Errorf("call %s: %d tickets, %d evaluations; want one each", id, nt, ne)
		}
		cl := s.call(t, id)
		if cl.EndedAt == nil || strings.Contains(cl.Disposition, "interrupted") {
			t.Errorf("call %s that ended before the kill: %+v", id, cl)
		}
		secs := s.recording(t, id)
		if secs < 1 {
			t.Errorf("call %s: recording of %.2f s", id, secs)
		}
		if exists(recFile(s, id) + ".partial") {
			t.Errorf("call %s: a finished recording flagged partial", id)
		}
	}
	for _, lc := range []*liveCaller{d, e} {
		id := s.callOf(t, lc.from).ID
		if id != dID && id != eID {
			t.Fatalf("the newest call from %s is %s, not one of D and E", lc.from, id)
		}
		cl := s.call(t, id)
		if cl.EndedAt == nil || !strings.HasPrefix(cl.Disposition, "interrupted") || cl.Queue == "" {
			t.Errorf("interrupted call %s: %+v", id, cl)
		}
		if cl.EndedAt != nil && (cl.EndedAt.Before(killed.Add(-2*time.Second)) || cl.EndedAt.After(killed)) {
			t.Errorf("interrupted call %s ended at %v; killed at %v", id, cl.EndedAt, killed)
		}
		if n := s.count(t, "tickets", id); n != 0 {
			t.Errorf("interrupted call %s has %d tickets", id, n)
		}
		if !exists(recFile(s, id) + ".partial") {
			t.Errorf("interrupted call %s: recording not flagged partial", id)
		}
		// The audio runs until the kill: the recorder loses at most the
		// quarter second it had not written yet.
		secs, talked := s.recording(t, id), killed.Sub(lc.answered).Seconds()
		t.Logf("interrupted call %s: %.2f s recorded, %.2f s from answer to kill", id, secs, talked)
		if secs < talked-1.5 || secs > talked+1 {
			t.Errorf("interrupted call %s: %.2f s recorded, the caller talked %.2f s", id, secs, talked)
		}
	}
	for _, dir := range []string{"outbox", "live"} {
		waitUntil(t, dir+" to be empty", 10*time.Second, func() bool {
			ids, err := outbox.PendingIn(filepath.Join(s.dataDir, dir))
			return err == nil && len(ids) == 0
		})
	}
	if m, _ := filepath.Glob(filepath.Join(recDir, "*", "*", "*.wav")); len(m) != 0 {
		t.Errorf("plaintext recordings left: %v", m)
	}
	if !strings.Contains(s.logs.String(), "post-call work done from the outbox") {
		t.Error("the log does not say the outbox did the work")
	}
}

// dtmfOnly turns speech recognition off (the IVR takes keys): quicker
// starts and light calls.
func dtmfOnly(t *testing.T, y string) string {
	t.Helper()
	const old = "asr:\n  provider: sphinx"
	if !strings.Contains(y, old) {
		t.Fatalf("the demo config lacks %q", old)
	}
	return strings.Replace(y, old, "asr:\n  provider: none", 1)
}

// liveCaller is a SIP caller that talks (a 440 Hz tone) from the answer
// until stopped, and listens.
type liveCaller struct {
	from     string
	c        *sip.OutboundCall
	ear      *ear
	answered time.Time
	stop     context.CancelFunc
	done     chan struct{}
}

func dialCaller(ctx context.Context, t *testing.T, s *server, from string) *liveCaller {
	t.Helper()
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + s.sipAddr, From: from, Codecs: []string{"PCMU"}})
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	lc := &liveCaller{from: from, c: c, ear: &ear{}, answered: time.Now(), done: make(chan struct{})}
	t.Cleanup(func() { lc.hangup(t) })
	go lc.ear.run(c.Leg())
	tctx, stop := context.WithCancel(ctx)
	lc.stop = stop
	tone := media.Tone(440, time.Second, media.SampleRate, 0.3)
	go func() {
		defer close(lc.done)
		for media.Play(tctx, c.Leg(), tone) == nil {
		}
	}()
	return lc
}

func (lc *liveCaller) waitGreeting(t *testing.T) {
	t.Helper()
	waitUntil(t, lc.from+" to hear the greeting", 20*time.Second, func() bool { return len(lc.ear.bursts(time.Second)) > 0 })
}

// toQueue asks for a person (0), which puts the caller in a queue.
func (lc *liveCaller) toQueue(t *testing.T) {
	t.Helper()
	lc.waitGreeting(t)
	must(t, lc.c.SendDTMF('0'))
}

func (lc *liveCaller) stopTalking() {
	lc.stop()
	<-lc.done
}

func (lc *liveCaller) hangup(t *testing.T) {
	lc.stopTalking()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = lc.c.Hangup(ctx)
}

// lockTable holds an exclusive lock on table (every read and write of it
// waits) until unlock, which is safe to call twice.
func lockTable(ctx context.Context, t *testing.T, dbURL, table string) (unlock func()) {
	t.Helper()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	done := false
	return func() {
		if done {
			return
		}
		done = true
		_ = tx.Rollback(context.Background())
		_ = conn.Close(context.Background())
	}
}

// recFile is where the recording of call id is (recordings.Path: under
// its day and a shard of its ID), its plaintext name.
func recFile(s *server, id string) string {
	found, _ := filepath.Glob(filepath.Join(s.dataDir, "recordings", "*", "*", id+".wav*"))
	if len(found) == 0 {
		return filepath.Join(s.dataDir, "recordings", "none", id+".wav")
	}
	return filepath.Join(filepath.Dir(found[0]), id+".wav")
}

// inBox reports whether the outbox journal in dir has a pending job id
// (read while the server writes it).
func inBox(t *testing.T, dir, id string) bool {
	t.Helper()
	ids, err := outbox.PendingIn(dir)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(ids, id)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

type historyCall struct {
	ID      string     `json:"id"`
	EndedAt *time.Time `json:"ended_at"`
}

// callOf is the newest call from number.
func (s *server) callOf(t *testing.T, number string) historyCall {
	t.Helper()
	var h struct {
		Calls []historyCall `json:"calls"`
	}
	waitUntil(t, "a call from "+number, 10*time.Second, func() bool {
		s.api(t, s.adminTok, "GET", "/api/v1/callers/"+strings.ReplaceAll(number, "+", "%2B")+"/history", nil, &h)
		return len(h.Calls) > 0
	})
	return h.Calls[0]
}

// endedCallOf waits for the newest call from number to have ended.
func (s *server) endedCallOf(t *testing.T, number string) historyCall {
	t.Helper()
	var c historyCall
	waitUntil(t, "the call from "+number+" to end", 15*time.Second, func() bool {
		c = s.callOf(t, number)
		return c.EndedAt != nil
	})
	return c
}

type storedCall struct {
	callJSON
	Queue string `json:"queue"`
}

func (s *server) call(t *testing.T, id string) storedCall {
	t.Helper()
	var c storedCall
	if st := s.api(t, s.adminTok, "GET", "/api/v1/calls/"+id, nil, &c); st != 200 {
		t.Fatalf("call %s: %d", id, st)
	}
	return c
}

// count is how many tickets or qa/evaluations the call has.
func (s *server) count(t *testing.T, what, id string) int {
	t.Helper()
	var out map[string][]any
	if st := s.api(t, s.adminTok, "GET", "/api/v1/"+what+"?call_id="+id, nil, &out); st != 200 {
		return -1
	}
	for _, v := range out {
		return len(v)
	}
	return 0
}

// waiting is how many callers wait in all queues.
func (s *server) waiting(t *testing.T) int {
	t.Helper()
	var out struct {
		Queues []struct {
			Waiting int `json:"waiting_count"`
		} `json:"queues"`
	}
	s.api(t, s.adminTok, "GET", "/api/v1/queues", nil, &out)
	n := 0
	for _, q := range out.Queues {
		n += q.Waiting
	}
	return n
}

// recording downloads the call's recording (decrypted by the server),
// checks that it is a canonical stereo 16 kHz WAV whose header sizes match
// its length, and returns its length in seconds.
func (s *server) recording(t *testing.T, id string) float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", s.httpURL+"/api/v1/calls/"+id+"/recording?download=1", nil)
	req.Header.Set("Authorization", "Bearer "+s.adminTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("recording of %s: %d %s", id, resp.StatusCode, b)
	}
	le := binary.LittleEndian
	switch {
	case len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" || string(b[36:40]) != "data":
		t.Fatalf("recording of %s is not a WAV (%d bytes)", id, len(b))
	case le.Uint32(b[4:]) != uint32(len(b)-8) || le.Uint32(b[40:]) != uint32(len(b)-44) || (len(b)-44)%4 != 0:
		t.Fatalf("recording of %s: header sizes %d/%d for %d bytes", id, le.Uint32(b[4:]), le.Uint32(b[40:]), len(b))
	}
	pcm, rate, ch, err := media.ReadWAV(bytes.NewReader(b))
	if err != nil || rate != media.NarrowRate || ch != 2 { // G.711 calls: 8 kHz
		t.Fatalf("recording of %s: %d Hz, %d channels, %v", id, rate, ch, err)
	}
	// The caller's tone is on the left channel, to the end.
	n := len(pcm) / 2
	left := make([]int16, 0, rate)
	for i := max(0, n-rate/2); i < n; i++ {
		left = append(left, pcm[2*i])
	}
	if n > rate && media.RMS(left) < 1000 {
		t.Errorf("recording of %s: the caller's last half second is silent (RMS %.0f)", id, media.RMS(left))
	}
	return float64(n) / float64(rate)
}
