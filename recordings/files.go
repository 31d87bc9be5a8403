package recordings

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Dir is the recordings' directory inside the data dir.
const Dir = "recordings"

// Path is where the recording of a call that started at started is kept,
// relative to the data dir: recordings/<UTC day>/<first two characters of
// the ID>/<ID>.wav. One directory for every recording made creating a
// file cost more the more there were (on ext4, 17 µs each among 1,000
// files, 130 µs among 30,000: a fifth of the CPU at 800 calls a second);
// a day's recordings spread over up to 256 directories.
func Path(callID string, started time.Time) string {
	shard := "_"
	if len(callID) >= 2 && !strings.ContainsAny(callID[:2], `./\`) {
		shard = callID[:2]
	}
	return filepath.Join(Dir, started.UTC().Format("2006-01-02"), shard, callID+".wav")
}

// Suffixes of the encrypted file and of one being written.
const (
	EncSuffix = ".enc"
	tmpSuffix = ".enc.tmp"
)

// ErrKeyRequired: the recording is encrypted and no key is configured.
var ErrKeyRequired = errors.New("recordings: this recording is encrypted at rest; configure its key (recordings.key_file or " + KeyEnv + ")")

// Files finds, seals, opens and removes recordings under a data dir.
// Recordings are named by their path relative to the data dir as the call
// record keeps it (recordings/<call>.wav); the encrypted form adds ".enc".
type Files struct {
	dataDir string
	key     []byte // nil: no key (plaintext only)
	seal    bool   // encrypt finished recordings
	chunk   int
	log     *slog.Logger
}

// New returns the recordings under dataDir. With key (KeySize bytes)
// encrypted recordings can be read; seal also encrypts finished ones.
func New(dataDir string, key []byte, seal bool, log *slog.Logger) (*Files, error) {
	if key != nil {
		if err := checkKey(key); err != nil {
			return nil, err
		}
	}
	if seal && key == nil {
		return nil, ErrNoKey
	}
	if log == nil {
		log = slog.Default()
	}
	return &Files{dataDir: dataDir, key: key, seal: seal, chunk: DefaultChunkSize, log: log}, nil
}

// Encrypting reports whether finished recordings are encrypted.
func (f *Files) Encrypting() bool { return f != nil && f.seal }

// abs resolves a recording's relative path, refusing anything outside
// the recordings directory.
func (f *Files) abs(rel string) (string, error) {
	clean := filepath.Clean(rel)
	if rel == "" || filepath.IsAbs(rel) || clean != rel || !strings.HasPrefix(clean, Dir+string(filepath.Separator)) ||
		strings.Contains(clean, "..") {
		return "", fmt.Errorf("recordings: bad recording path %q", rel)
	}
	return filepath.Join(f.dataDir, clean), nil
}

// Seal encrypts the finished plaintext recording rel into rel.enc and
// removes the plaintext. The encrypted file is written under a temporary
// name, synced and renamed, so a crash leaves either the plaintext (sealed
// again at the next start) or both (the plaintext is removed then). It is
// a no-op when not encrypting, or when rel has no plaintext.
func (f *Files) Seal(rel string) error {
	if !f.Encrypting() {
		return nil
	}
	src, err := f.abs(rel)
	if err != nil {
		return err
	}
	in, err := os.Open(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recordings: seal: %w", err)
	}
	defer in.Close()
	tmp := src + tmpSuffix
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("recordings: seal: %w", err)
	}
	fail := func(err error) error {
		out.Close()
		os.Remove(tmp)
		return fmt.Errorf("recordings: seal %s: %w", rel, err)
	}
	w, err := NewWriter(out, f.key, f.chunk)
	if err != nil {
		return fail(err)
	}
	if _, err := io.Copy(w, in); err != nil {
		return fail(err)
	}
	if err := w.Close(); err != nil {
		return fail(err)
	}
	if err := out.Sync(); err != nil {
		return fail(err)
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("recordings: seal %s: %w", rel, err)
	}
	if err := os.Rename(tmp, src+EncSuffix); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("recordings: seal %s: %w", rel, err)
	}
	syncDir(filepath.Dir(src))
	in.Close()
	if err := os.Remove(src); err != nil {
		return fmt.Errorf("recordings: remove plaintext %s: %w", rel, err)
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// SealPending encrypts every plaintext recording left under the
// recordings directory (a crash between the end of a call and Seal) and
// removes half-written encrypted files. Run it at start, before calls are
// taken. It returns how many recordings it sealed.
func (f *Files) SealPending(ctx context.Context) (int, error) {
	if !f.Encrypting() {
		return 0, nil
	}
	n := 0
	var errs []error
	err := filepath.WalkDir(filepath.Join(f.dataDir, Dir), func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		name := e.Name()
		switch {
		case e.IsDir():
		case strings.HasSuffix(name, tmpSuffix):
			if err := os.Remove(path); err != nil {
				errs = append(errs, err)
			}
		case strings.HasSuffix(name, ".wav"):
			rel, err := filepath.Rel(f.dataDir, path)
			if err == nil {
				err = f.Seal(rel)
			}
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			n++
		}
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("recordings: %w", err))
	}
	return n, errors.Join(errs...)
}

// Recording is an open recording: plaintext bytes, seekable.
type Recording struct {
	io.ReadSeeker
	Size      int64
	ModTime   time.Time
	Encrypted bool
	file      *os.File
}

// Close closes the file.
func (r *Recording) Close() error { return r.file.Close() }

// Open opens the recording rel, encrypted or not. fs.ErrNotExist when
// neither form exists; ErrKeyRequired, ErrWrongKey or ErrDamaged when an
// encrypted one cannot be read.
func (f *Files) Open(rel string) (*Recording, error) {
	p, err := f.abs(rel)
	if err != nil {
		return nil, err
	}
	if file, err := os.Open(p + EncSuffix); err == nil {
		st, err := file.Stat()
		if err != nil {
			file.Close()
			return nil, fmt.Errorf("recordings: %w", err)
		}
		if f.key == nil {
			file.Close()
			return nil, ErrKeyRequired
		}
		rd, err := NewReader(file, st.Size(), f.key)
		if err != nil {
			file.Close()
			return nil, err
		}
		return &Recording{ReadSeeker: io.NewSectionReader(rd, 0, rd.Size()), Size: rd.Size(), ModTime: st.ModTime(),
			Encrypted: true, file: file}, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	file, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("recordings: %w", err)
	}
	return &Recording{ReadSeeker: file, Size: st.Size(), ModTime: st.ModTime(), file: file}, nil
}

// Remove deletes the recording rel in every form (and its partial flag).
// It reports whether there was anything to delete; a missing recording
// is not an error.
func (f *Files) Remove(rel string) (bool, error) {
	p, err := f.abs(rel)
	if err != nil {
		return false, err
	}
	removed := false
	var errs []error
	for _, name := range []string{p, p + EncSuffix, p + tmpSuffix, p + PartialSuffix} {
		err := os.Remove(name)
		switch {
		case err == nil:
			removed = true
		case !errors.Is(err, fs.ErrNotExist):
			errs = append(errs, err)
		}
	}
	// The shard and day directories (Path) go with their last recording;
	// one that still holds something stays (rmdir refuses).
	top := filepath.Join(f.dataDir, Dir)
	for dir := filepath.Dir(p); removed && dir != top && strings.HasPrefix(dir, top); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return removed, errors.Join(errs...)
}
