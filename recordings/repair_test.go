package recordings

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/contactd/contactd/media"
)

// crashCut records secs of audio with the real recorder and leaves the
// file as a killed process would: never closed, the header's sizes as of
// the last periodic rewrite, plus the first half of a sample frame.
// rate 0 is a G.711 (µ-law) recording.
func crashCut(t *testing.T, dataDir, name string, secs float64, rate int) string {
	t.Helper()
	rel := filepath.Join(Dir, name)
	if err := os.MkdirAll(filepath.Join(dataDir, Dir), 0o750); err != nil {
		t.Fatal(err)
	}
	var (
		r     *media.Recorder
		err   error
		block = 4
	)
	if rate == 0 {
		r, err = media.NewRecorderG711(filepath.Join(dataDir, rel), false)
		block = 2
	} else {
		r, err = media.NewRecorderRate(filepath.Join(dataDir, rel), rate)
	}
	if err != nil {
		t.Fatal(err)
	}
	frame := media.Tone(440, 20*time.Millisecond, media.SampleRate, 0.3)
	for i := 0; i < int(secs*50); i++ {
		r.WriteCaller(frame)
		r.WriteAgent(frame)
	}
	// The recorder's goroutine writes what it was handed; the last half
	// second or so is still in the recorder.
	written := int64(44 + (int(secs*float64(r.Rate()))/(r.Rate()/2)-1)*(r.Rate()/2)*block)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if st, err := os.Stat(filepath.Join(dataDir, rel)); err == nil && st.Size() >= written {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the recorder wrote less than %d bytes", written)
		}
	}
	f, err := os.OpenFile(filepath.Join(dataDir, rel), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return rel
}

// strictWAV checks that b is a canonical WAV whose sizes match its length
// and returns its seconds of audio.
func strictWAV(t *testing.T, b []byte) float64 {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" || string(b[36:40]) != "data" {
		t.Fatalf("not a WAV (%d bytes)", len(b))
	}
	if got, want := le.Uint32(b[4:]), uint32(len(b)-8); got != want {
		t.Fatalf("RIFF size %d, file says %d", got, want)
	}
	if got, want := le.Uint32(b[40:]), uint32(len(b)-44); got != want || want%uint32(le.Uint16(b[32:])) != 0 {
		t.Fatalf("data size %d, file holds %d", got, want)
	}
	pcm, rate, ch, err := media.ReadWAV(bytes.NewReader(b))
	if err != nil || rate != media.SampleRate && rate != media.NarrowRate || ch != 2 {
		t.Fatalf("ReadWAV: %d Hz, %d ch, %v", rate, ch, err)
	}
	return float64(len(pcm)/2) / float64(rate)
}

func TestRepairCrashCutRecording(t *testing.T) {
	for _, rate := range []int{media.SampleRate, media.NarrowRate, 0} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) { testRepairCrashCut(t, rate) })
	}
}

func testRepairCrashCut(t *testing.T, rate int) {
	dir, key := t.TempDir(), testKey(t)
	f, err := New(dir, key, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	rel := crashCut(t, dir, "cut.wav", 2.7, rate)
	raw, _ := os.ReadFile(filepath.Join(dir, rel))
	if le := binary.LittleEndian.Uint32(raw[40:]); int(le) >= len(raw)-44 {
		t.Fatalf("the crash-cut file's header already covers its data (%d of %d bytes): nothing to test", le, len(raw)-44)
	}

	info, ok, err := f.Repair(rel, "contactd stopped during the call")
	if err != nil || !ok {
		t.Fatalf("Repair: %v %v", ok, err)
	}
	fixed, _ := os.ReadFile(filepath.Join(dir, rel))
	secs := strictWAV(t, fixed)
	// All audio written before the "crash" is kept: only the last half
	// second (still buffered in the recorder) can be missing.
	if secs < 2.2 || secs > 2.7 || info.Seconds != secs || info.HeaderSeconds >= secs {
		t.Fatalf("repaired %.2f s (info %+v), recorded 2.7 s", secs, info)
	}
	got, partial := f.Partial(rel)
	if !partial || got.Reason != "contactd stopped during the call" || got.Seconds != secs {
		t.Fatalf("Partial = %+v, %v", got, partial)
	}
	// Repairing twice changes nothing.
	if _, _, err := f.Repair(rel, "again"); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dir, rel))
	if !bytes.Equal(again, fixed) {
		t.Fatal("a second repair changed the file")
	}

	// Sealed afterwards, it decrypts to the repaired WAV; the flag stays.
	if n, err := f.SealPending(context.Background()); err != nil || n != 1 {
		t.Fatalf("SealPending = %d, %v", n, err)
	}
	r, err := f.Open(rel)
	if err != nil || !r.Encrypted {
		t.Fatalf("open sealed: %v", err)
	}
	plain, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(plain, fixed) {
		t.Fatal("sealed recording differs from the repaired one")
	}
	if _, partial := f.Partial(rel); !partial {
		t.Fatal("partial flag lost when sealing")
	}
	// A sealed recording was finished: nothing to repair.
	if _, ok, err := f.Repair(rel, "x"); ok || err != nil {
		t.Fatalf("Repair of a sealed recording: %v %v", ok, err)
	}
	if removed, err := f.Remove(rel); !removed || err != nil {
		t.Fatal(err)
	}
	if _, partial := f.Partial(rel); partial {
		t.Fatal("partial flag outlived the recording")
	}
}

func TestRepairEdgeCases(t *testing.T) {
	dir := t.TempDir()
	f, _ := New(dir, nil, false, nil)
	// Killed between creating the file and writing its header.
	empty := writeRec(t, dir, "empty.wav", []byte("RIFF"))
	if _, ok, err := f.Repair(empty, "crash"); !ok || err != nil {
		t.Fatalf("Repair(empty): %v %v", ok, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, empty))
	if secs := strictWAV(t, b); secs != 0 {
		t.Fatalf("empty recording has %.2f s", secs)
	}
	// Not the recorder's file: refused, untouched.
	junk := writeRec(t, dir, "junk.wav", bytes.Repeat([]byte("not a wav "), 10))
	if _, ok, err := f.Repair(junk, "crash"); ok || err == nil {
		t.Fatalf("Repair(junk) = %v, %v; want an error", ok, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, junk)); !bytes.Equal(b, bytes.Repeat([]byte("not a wav "), 10)) {
		t.Fatal("junk file changed")
	}
	if _, partial := f.Partial(junk); partial {
		t.Fatal("junk flagged partial")
	}
	// No file (recording off, or never created).
	if _, ok, err := f.Repair(filepath.Join(Dir, "none.wav"), "crash"); ok || err != nil {
		t.Fatalf("Repair(missing) = %v, %v", ok, err)
	}
	if _, _, err := f.Repair("../etc/passwd", "crash"); err == nil {
		t.Fatal("a path outside the recordings was accepted")
	}
}
