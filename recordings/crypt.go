package recordings

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Format constants.
const (
	KeySize          = 32       // AES-256
	DefaultChunkSize = 64 << 10 // plaintext bytes per chunk
	maxChunkSize     = 16 << 20 // refuse absurd headers
	headerSize       = 8 + 4 + 8 + 32
	tagSize          = 16
	version          = 1
	magic            = "CTDREC"
	fileKeyInfo      = "contactd recording v1"
	keyIDLabel       = "contactd recording key id"
)

// Errors of the encrypted format.
var (
	// ErrWrongKey: the file was encrypted with another key.
	ErrWrongKey = errors.New("recordings: encrypted with a different key")
	// ErrDamaged: the file is not a complete recording in this format (cut
	// short, altered, or not one at all).
	ErrDamaged = errors.New("recordings: encrypted recording is damaged or truncated")
)

// keyID identifies key without revealing it.
func keyID(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(keyIDLabel))
	return m.Sum(nil)[:8]
}

func checkKey(key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("recordings: key is %d bytes, want %d", len(key), KeySize)
	}
	return nil
}

// fileAEAD derives the file key from key and the header's salt.
func fileAEAD(key, salt []byte) (cipher.AEAD, error) {
	fk, err := hkdf.Key(sha256.New, key, salt, fileKeyInfo, KeySize)
	if err != nil {
		return nil, fmt.Errorf("recordings: derive file key: %w", err)
	}
	b, err := aes.NewCipher(fk)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func nonce(i uint64, last bool) []byte {
	var n [12]byte
	binary.BigEndian.PutUint64(n[:8], i)
	if last {
		n[11] = 1
	}
	return n[:]
}

// Writer encrypts a stream into the chunked format. Close writes the last
// chunk; without it the output is incomplete (and fails to open).
type Writer struct {
	w      io.Writer
	aead   cipher.AEAD
	header []byte
	buf    []byte // plaintext of the chunk being filled
	chunk  int
	index  uint64
	out    []byte
	err    error
	closed bool
}

// NewWriter writes the header to w and returns a Writer encrypting with
// key (KeySize bytes) in chunks of chunkSize plaintext bytes
// (DefaultChunkSize when ≤ 0).
func NewWriter(w io.Writer, key []byte, chunkSize int) (*Writer, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if chunkSize <= 0 {
		chunkSize = DefaultChunkSize
	}
	if chunkSize > maxChunkSize {
		return nil, fmt.Errorf("recordings: chunk size %d over %d", chunkSize, maxChunkSize)
	}
	h := make([]byte, headerSize)
	copy(h, magic)
	h[6] = version
	binary.BigEndian.PutUint32(h[8:12], uint32(chunkSize))
	copy(h[12:20], keyID(key))
	if _, err := rand.Read(h[20:52]); err != nil {
		return nil, fmt.Errorf("recordings: salt: %w", err)
	}
	aead, err := fileAEAD(key, h[20:52])
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(h); err != nil {
		return nil, fmt.Errorf("recordings: write header: %w", err)
	}
	return &Writer{w: w, aead: aead, header: h, buf: make([]byte, 0, chunkSize), chunk: chunkSize,
		out: make([]byte, 0, chunkSize+tagSize)}, nil
}

// Write encrypts p. A full chunk is held back until more data (or Close)
// shows whether it is the last.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, errors.New("recordings: write after close")
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == w.chunk {
			if err := w.seal(false); err != nil {
				return n, err
			}
		}
		k := copy(w.buf[len(w.buf):w.chunk], p)
		w.buf = w.buf[:len(w.buf)+k]
		p, n = p[k:], n+k
	}
	return n, nil
}

func (w *Writer) seal(last bool) error {
	w.out = w.aead.Seal(w.out[:0], nonce(w.index, last), w.buf, w.header)
	if _, err := w.w.Write(w.out); err != nil {
		w.err = fmt.Errorf("recordings: write chunk %d: %w", w.index, err)
		return w.err
	}
	w.index++
	w.buf = w.buf[:0]
	return nil
}

// Close writes the last chunk (possibly empty). It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return nil
	}
	w.closed = true
	return w.seal(true)
}

// Reader decrypts an encrypted recording with random access.
type Reader struct {
	r      io.ReaderAt
	aead   cipher.AEAD
	header []byte
	chunk  int64 // plaintext bytes per chunk
	chunks int64
	size   int64 // plaintext size

	// The last chunk decrypted, for sequential reads.
	cached int64
	plain  []byte
	ct     []byte
}

// NewReader opens the encrypted recording in r (size bytes long) with key.
// It checks the header and authenticates the last chunk, so a file cut
// short is refused here rather than mid-stream.
func NewReader(r io.ReaderAt, size int64, key []byte) (*Reader, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	h := make([]byte, headerSize)
	if size < headerSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the header", ErrDamaged, size)
	}
	if _, err := r.ReadAt(h, 0); err != nil {
		return nil, fmt.Errorf("recordings: read header: %w", err)
	}
	if string(h[:6]) != magic {
		return nil, fmt.Errorf("%w: not an encrypted recording", ErrDamaged)
	}
	if h[6] != version {
		return nil, fmt.Errorf("recordings: format version %d not supported (want %d)", h[6], version)
	}
	cs := int64(binary.BigEndian.Uint32(h[8:12]))
	if cs <= 0 || cs > maxChunkSize {
		return nil, fmt.Errorf("%w: chunk size %d", ErrDamaged, cs)
	}
	if !hmac.Equal(h[12:20], keyID(key)) {
		return nil, ErrWrongKey
	}
	aead, err := fileAEAD(key, h[20:52])
	if err != nil {
		return nil, err
	}
	body := size - headerSize
	n := (body + cs + tagSize - 1) / (cs + tagSize)
	if n == 0 || body-(n-1)*(cs+tagSize) < tagSize {
		return nil, fmt.Errorf("%w: %d bytes of chunks", ErrDamaged, body)
	}
	rd := &Reader{r: r, aead: aead, header: h, chunk: cs, chunks: n, size: body - n*tagSize, cached: -1,
		ct: make([]byte, cs+tagSize)}
	if _, err := rd.load(n - 1); err != nil {
		return nil, err
	}
	return rd, nil
}

// Size is the plaintext size.
func (rd *Reader) Size() int64 { return rd.size }

// load decrypts chunk i into rd.plain.
func (rd *Reader) load(i int64) ([]byte, error) {
	if i == rd.cached {
		return rd.plain, nil
	}
	off := headerSize + i*(rd.chunk+tagSize)
	n := rd.chunk + tagSize
	if i == rd.chunks-1 {
		n = rd.size - i*rd.chunk + tagSize
	}
	ct := rd.ct[:n]
	if m, err := rd.r.ReadAt(ct, off); m < len(ct) {
		return nil, fmt.Errorf("recordings: read chunk %d: %w", i, err)
	}
	plain, err := rd.aead.Open(rd.plain[:0], nonce(uint64(i), i == rd.chunks-1), ct, rd.header)
	if err != nil {
		rd.cached = -1
		return nil, fmt.Errorf("%w (chunk %d of %d)", ErrDamaged, i+1, rd.chunks)
	}
	rd.plain, rd.cached = plain, i
	return plain, nil
}

// ReadAt implements io.ReaderAt over the plaintext. It is not safe for
// concurrent use (it caches the last chunk).
func (rd *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("recordings: negative offset")
	}
	n := 0
	for len(p) > 0 {
		if off >= rd.size {
			return n, io.EOF
		}
		i := off / rd.chunk
		plain, err := rd.load(i)
		if err != nil {
			return n, err
		}
		k := copy(p, plain[off-i*rd.chunk:])
		p, n, off = p[k:], n+k, off+int64(k)
	}
	return n, nil
}

// IsEncrypted reports whether the first bytes of a file are this format's
// header.
func IsEncrypted(head []byte) bool { return bytes.HasPrefix(head, []byte(magic)) }
