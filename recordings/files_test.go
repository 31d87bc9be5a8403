package recordings

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeRec(t *testing.T, dataDir, name string, b []byte) string {
	t.Helper()
	rel := filepath.Join(Dir, name)
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dataDir, rel)), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, rel), b, 0o640); err != nil {
		t.Fatal(err)
	}
	return rel
}

func TestSealOpenRemove(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	f, err := New(dir, key, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("RIFF....WAVEdata"), 10000) // 160 kB: several chunks
	rel := writeRec(t, dir, "c1.wav", plain)
	if err := f.Seal(rel); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, rel)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("plaintext still there: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, rel+EncSuffix))
	if err != nil || !IsEncrypted(raw) || bytes.Contains(raw, []byte("WAVEdata")) {
		t.Fatalf("encrypted file: %d bytes, %v", len(raw), err)
	}
	r, err := f.Open(rel)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Encrypted || r.Size != int64(len(plain)) {
		t.Errorf("open: encrypted %t size %d", r.Encrypted, r.Size)
	}
	if _, err := r.Seek(100000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tail, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(tail, plain[100000:]) {
		t.Fatal("seek and read: wrong bytes")
	}

	// Without the key the recording cannot be read, and says why.
	nokey, _ := New(dir, nil, false, nil)
	if _, err := nokey.Open(rel); !errors.Is(err, ErrKeyRequired) {
		t.Errorf("open without key: %v", err)
	}
	if _, err := New(dir, nil, true, nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("encrypt without a key: %v", err)
	}

	// Paths outside the recordings directory are refused.
	for _, bad := range []string{"", "../etc/passwd", "/etc/passwd", "recordings/../contactd.db", "contactd.db", "recordings/./x.wav"} {
		if _, err := f.Open(bad); err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q): %v", bad, err)
		}
	}

	if ok, err := f.Remove(rel); !ok || err != nil {
		t.Fatalf("remove: %t %v", ok, err)
	}
	if _, err := f.Open(rel); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open after remove: %v", err)
	}
	if ok, err := f.Remove(rel); ok || err != nil {
		t.Errorf("remove twice: %t %v", ok, err)
	}
}

// TestSealPending: what a crash left in plaintext is sealed at start,
// half-written encrypted files are dropped, sealed ones stay readable.
func TestSealPending(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	f, _ := New(dir, key, true, nil)
	done := writeRec(t, dir, "done.wav", []byte("already sealed"))
	if err := f.Seal(done); err != nil {
		t.Fatal(err)
	}
	left := writeRec(t, dir, "left.wav", []byte("left behind by a crash"))
	writeRec(t, dir, "half.wav"+tmpSuffix, []byte("CTDREC partial"))
	// Where Path puts them: under the day and a shard of the ID.
	nested := writeRec(t, dir, "2026-11-22/ab/abcd.wav", []byte("left behind too"))
	writeRec(t, dir, "2026-11-22/ab/abce.wav"+tmpSuffix, []byte("CTDREC partial"))
	n, err := f.SealPending(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("SealPending = %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, Dir, "2026-11-22/ab/abce.wav"+tmpSuffix)); !errors.Is(err, fs.ErrNotExist) {
		t.Error("nested half-written file kept")
	}
	for _, rel := range []string{done, left, nested} {
		r, err := f.Open(rel)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if !r.Encrypted {
			t.Errorf("%s not encrypted", rel)
		}
		r.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, Dir, "half.wav"+tmpSuffix)); !errors.Is(err, fs.ErrNotExist) {
		t.Error("half-written file kept")
	}
	// Plaintext recordings stay readable when encryption is off.
	plainFiles, _ := New(t.TempDir(), nil, false, nil)
	rel := writeRec(t, plainFiles.dataDir, "p.wav", []byte("plain"))
	if err := plainFiles.Seal(rel); err != nil {
		t.Fatal(err)
	}
	r, err := plainFiles.Open(rel)
	if err != nil || r.Encrypted {
		t.Fatalf("plain open: %v", err)
	}
	r.Close()
}

// TestPath: a call's recording goes under its UTC day and a shard of its
// ID, and the path is one Files accepts.
func TestPath(t *testing.T) {
	at := time.Date(2026, 11, 22, 23, 30, 0, 0, time.FixedZone("UTC-2", -2*3600))
	if got, want := Path("9f3a77", at), filepath.Join(Dir, "2026-11-23", "9f", "9f3a77.wav"); got != want {
		t.Fatalf("Path = %q, want %q", got, want)
	}
	if got := Path("x", at); got != filepath.Join(Dir, "2026-11-23", "_", "x.wav") {
		t.Fatalf("short ID: %q", got)
	}
	f, _ := New(t.TempDir(), nil, false, nil)
	for _, id := range []string{"9f3a77", "x"} {
		if _, err := f.abs(Path(id, at)); err != nil {
			t.Errorf("Path(%q) refused: %v", id, err)
		}
	}
}

// Removing a day's last recordings removes their directories too.
func TestRemoveTakesEmptyDirs(t *testing.T) {
	dir := t.TempDir()
	f, _ := New(dir, nil, false, nil)
	a := writeRec(t, dir, "2026-11-22/ab/abcd.wav", []byte("a"))
	b := writeRec(t, dir, "2026-11-22/cd/cdef.wav", []byte("b"))
	if ok, err := f.Remove(a); !ok || err != nil {
		t.Fatalf("Remove(a) = %v, %v", ok, err)
	}
	if _, err := os.Stat(filepath.Join(dir, Dir, "2026-11-22", "ab")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty shard kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, Dir, "2026-11-22")); err != nil {
		t.Errorf("the day with b in it went: %v", err)
	}
	if ok, err := f.Remove(b); !ok || err != nil {
		t.Fatalf("Remove(b) = %v, %v", ok, err)
	}
	if _, err := os.Stat(filepath.Join(dir, Dir, "2026-11-22")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty day kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, Dir)); err != nil {
		t.Errorf("the recordings directory went: %v", err)
	}
}
