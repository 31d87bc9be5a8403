package recordings

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"
)

func testKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func encrypt(t *testing.T, key, plain []byte, chunk int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, key, chunk)
	if err != nil {
		t.Fatal(err)
	}
	// Odd-sized writes cross chunk boundaries.
	for p := plain; len(p) > 0; {
		n := min(len(p), 7)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTripAndRandomAccess(t *testing.T) {
	key := testKey(t)
	for _, size := range []int{0, 1, 63, 64, 65, 128, 1000} {
		plain := make([]byte, size)
		_, _ = rand.Read(plain)
		ct := encrypt(t, key, plain, 64)
		if bytes.Contains(ct, plain[:min(size, 16)]) && size >= 16 {
			t.Fatalf("size %d: plaintext visible in the ciphertext", size)
		}
		rd, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if rd.Size() != int64(size) {
			t.Fatalf("size %d: Size() = %d", size, rd.Size())
		}
		got, err := io.ReadAll(io.NewSectionReader(rd, 0, rd.Size()))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("size %d: read back %d bytes, err %v", size, len(got), err)
		}
		// Random access across chunks, as HTTP range requests do.
		for _, r := range [][2]int{{0, 10}, {60, 70}, {size / 2, size}, {size - 1, size}} {
			if r[0] < 0 || r[1] > size || r[0] >= r[1] {
				continue
			}
			p := make([]byte, r[1]-r[0])
			if n, err := rd.ReadAt(p, int64(r[0])); n != len(p) || (err != nil && err != io.EOF) || !bytes.Equal(p, plain[r[0]:r[1]]) {
				t.Fatalf("size %d: ReadAt %v = %d, %v", size, r, n, err)
			}
		}
	}
}

func TestTamperingIsDetected(t *testing.T) {
	key := testKey(t)
	plain := bytes.Repeat([]byte("0123456789abcdef"), 40) // 640 bytes: 10 chunks of 64
	ct := encrypt(t, key, plain, 64)
	chunk := 64 + tagSize
	readAll := func(b []byte) error {
		rd, err := NewReader(bytes.NewReader(b), int64(len(b)), key)
		if err != nil {
			return err
		}
		_, err = io.ReadAll(io.NewSectionReader(rd, 0, rd.Size()))
		return err
	}
	cases := map[string][]byte{
		// Cut at a chunk boundary: the new last chunk lacks the last-chunk flag.
		"truncated at a chunk boundary": ct[:headerSize+5*chunk],
		"truncated mid-chunk":           ct[:len(ct)-10],
		"header only":                   ct[:headerSize],
	}
	swapped := bytes.Clone(ct)
	copy(swapped[headerSize:headerSize+chunk], ct[headerSize+chunk:headerSize+2*chunk])
	copy(swapped[headerSize+chunk:headerSize+2*chunk], ct[headerSize:headerSize+chunk])
	cases["chunks swapped"] = swapped
	flipped := bytes.Clone(ct)
	flipped[headerSize+3*chunk+5] ^= 1
	cases["one bit flipped"] = flipped
	hdr := bytes.Clone(ct)
	hdr[30] ^= 1 // the salt: every chunk fails
	cases["salt changed"] = hdr
	dropped := append(bytes.Clone(ct[:headerSize+2*chunk]), ct[headerSize+3*chunk:]...)
	cases["chunk dropped"] = dropped
	other := encrypt(t, key, plain, 64)
	spliced := bytes.Clone(ct)
	copy(spliced[headerSize+chunk:headerSize+2*chunk], other[headerSize+chunk:headerSize+2*chunk])
	cases["chunk from another file"] = spliced
	for name, b := range cases {
		if err := readAll(b); !errors.Is(err, ErrDamaged) {
			t.Errorf("%s: err = %v, want ErrDamaged", name, err)
		}
	}
	if err := readAll(ct); err != nil {
		t.Fatalf("untouched file: %v", err)
	}
	if _, err := NewReader(bytes.NewReader(ct), int64(len(ct)), testKey(t)); !errors.Is(err, ErrWrongKey) {
		t.Errorf("other key: %v, want ErrWrongKey", err)
	}
	if _, err := NewWriter(io.Discard, key[:16], 0); err == nil {
		t.Error("16-byte key accepted")
	}
}

func TestParseKey(t *testing.T) {
	for _, s := range []string{
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
	} {
		k, err := ParseKey(s)
		if err != nil || len(k) != KeySize || k[31] != 31 {
			t.Errorf("ParseKey(%q) = %x, %v", s, k, err)
		}
	}
	for _, s := range []string{"", "00ff", "AAECAwQFBgcICQoLDA0ODw==", "not a key at all, just words"} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
	if k, err := LoadKey("", ""); k != nil || err != nil {
		t.Errorf("no key: %x, %v", k, err)
	}
}
