// Package outbox is a durable queue of jobs that must not be lost, kept
// in one append-only journal per box (<dir>/journal): each Put appends
// the job as a line of JSON, each Done a line saying it is done. An
// index in memory says where each pending job's latest version is; the
// journal is rewritten with only the pending jobs once it is mostly done
// ones. Run retries what is pending, with backoff, until it succeeds —
// across restarts, since the journal stays.
//
// contactd puts each ended call's post-call work (call record,
// transcript, ticket, evaluation) here before doing it, so a database
// outage or a crash delays that work instead of losing it; a second box
// (NoSync) keeps a marker per call in progress.
//
// One journal instead of a file per job: creating, renaming and removing
// two files per call (and fsyncing the directory) was a third of the CPU
// at a few hundred calls a second. A Put is one write; a durable Put
// waits for an fsync that it shares with every Put written meanwhile
// (group commit).
package outbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

const (
	journalName = "journal"
	ext         = ".json" // legacy job files, and quarantined jobs
	tmpExt      = ".tmp"
	// badDir keeps jobs that cannot be decoded, out of the retry loop.
	badDir = "unreadable"
	// The journal is rewritten (compacted) once it is at least
	// compactMin bytes and at most a quarter of it is pending jobs.
	compactMin = 4 << 20
)

// ErrUnreadable: a stored job cannot be decoded (Quarantine it).
var ErrUnreadable = errors.New("outbox: job unreadable")

// Box is a journal of pending jobs. Its methods are safe for concurrent
// use; a job is run by one goroutine at a time (Claim).
type Box struct {
	dir string
	log *slog.Logger

	noSync bool // Put does not fsync (NoSync)

	mu    sync.Mutex // the journal file, its size and the index
	f     *os.File
	size  int64
	live  int64 // bytes of the lines of pending jobs
	seq   uint64
	index map[string]entry

	syncMu sync.Mutex // one fsync at a time; synced is what it covered
	synced uint64

	claimMu sync.Mutex
	claimed map[string]bool
	kick    chan struct{}
}

// entry is where a pending job's latest version is in the journal.
type entry struct {
	line    int64 // offset of its line
	lineLen int
	job     int64 // offset of the job's JSON within the file
	jobLen  int
	seq     uint64 // when it was put: Pending's order
}

// NoSync makes Put skip its fsyncs and returns b: a job then survives a
// crash of the process (the kernel holds it) but not a crash of the
// machine. It is for markers whose loss in a power cut costs little —
// the live-call markers written as each call starts.
func (b *Box) NoSync() *Box {
	b.noSync = true
	return b
}

// Open returns the box in dir, creating it: it reads the journal (a line
// torn by a crash mid-write is cut off), takes in the job files an older
// contactd left (one <id>.json per job) and drops temporary files.
func Open(dir string, log *slog.Logger) (*Box, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, "*"+tmpExt))
	for _, t := range tmps {
		_ = os.Remove(t)
	}
	f, err := os.OpenFile(filepath.Join(dir, journalName), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	b := &Box{dir: dir, log: log, f: f, index: map[string]entry{}, claimed: map[string]bool{}, kick: make(chan struct{}, 1)}
	size, torn, err := scan(f, func(id string, e entry, done bool) { b.apply(id, e, done) }, log)
	if err == nil && torn {
		err = f.Truncate(size)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("outbox: %s: %w", f.Name(), err)
	}
	b.size = size
	if err := b.importFiles(); err != nil {
		f.Close()
		return nil, err
	}
	if b.size >= compactMin && b.live*4 <= b.size {
		if err := b.compact(); err != nil {
			log.Warn("outbox: journal not compacted", "dir", dir, "err", err)
		}
	}
	return b, nil
}

// Close closes the journal.
func (b *Box) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.f.Close()
}

// Dir is the box's directory.
func (b *Box) Dir() string { return b.dir }

// line is one line of the journal as written: a job put, or done.
type line struct {
	ID   string          `json:"id"`
	Job  json.RawMessage `json:"job,omitempty"`
	Done bool            `json:"done,omitempty"`
}

// jobPrefix is what a put line has before the job's JSON.
func jobPrefix(id string) []byte {
	q, _ := json.Marshal(id)
	return append(append([]byte(`{"id":`), q...), `,"job":`...)
}

// scan reads the journal from the start, calling fn for each well-formed
// line; it returns the length of the whole lines and whether a torn last
// line follows them. A malformed whole line (damage in the middle) is
// logged and skipped.
func scan(r io.Reader, fn func(id string, e entry, done bool), log *slog.Logger) (size int64, torn bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		raw, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return size, len(raw) > 0, nil
		}
		if err != nil {
			return size, false, err
		}
		var l line
		e := entry{line: size, lineLen: len(raw)}
		if jerr := json.Unmarshal(raw, &l); jerr != nil || l.ID == "" || (len(l.Job) == 0) == !l.Done {
			log.Error("outbox: damaged journal line skipped", "offset", size, "err", jerr)
		} else {
			if !l.Done {
				p := jobPrefix(l.ID)
				if !bytes.HasPrefix(raw, p) {
					log.Error("outbox: journal line not in the written form, skipped", "offset", size)
					size += int64(len(raw))
					continue
				}
				e.job, e.jobLen = size+int64(len(p)), len(l.Job)
			}
			fn(l.ID, e, l.Done)
		}
		size += int64(len(raw))
	}
}

// apply updates the index with a line; under mu (or before b is shared).
func (b *Box) apply(id string, e entry, done bool) {
	if old, ok := b.index[id]; ok {
		b.live -= int64(old.lineLen)
		delete(b.index, id)
	}
	if done {
		return
	}
	b.seq++
	e.seq = b.seq
	b.index[id] = e
	b.live += int64(e.lineLen)
}

// importFiles takes in the job files of the one-file-per-job outbox
// (oldest first), then removes them; a file that is not JSON goes to
// unreadable/.
func (b *Box) importFiles() error {
	files, _ := filepath.Glob(filepath.Join(b.dir, "*"+ext))
	if len(files) == 0 {
		return nil
	}
	type old struct {
		path string
		at   time.Time
	}
	var olds []old
	for _, p := range files {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			olds = append(olds, old{p, st.ModTime()})
		}
	}
	sort.Slice(olds, func(i, j int) bool { return olds[i].at.Before(olds[j].at) })
	for _, o := range olds {
		id := strings.TrimSuffix(filepath.Base(o.path), ext)
		data, err := os.ReadFile(o.path)
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		var compact bytes.Buffer // one line in the journal
		if validID(id) != nil || json.Compact(&compact, data) != nil {
			if err := b.setAside(id, data); err != nil {
				return err
			}
		} else if _, err := b.append(id, compact.Bytes()); err != nil {
			return err
		}
	}
	if err := b.f.Sync(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	for _, o := range olds {
		_ = os.Remove(o.path)
	}
	return nil
}

// validID refuses job IDs that could not name a file (unreadable/<id>.json)
// or a journal line.
func validID(id string) error {
	if id == "" || strings.ContainsAny(id, "/\\\n") || strings.HasPrefix(id, ".") || len(id) > 200 {
		return fmt.Errorf("outbox: bad job id %q", id)
	}
	return nil
}

// append writes a put line for id and indexes it; it returns the line's
// sequence number, for syncTo. Not under mu.
func (b *Box) append(id string, data json.RawMessage) (uint64, error) {
	p := jobPrefix(id)
	buf := make([]byte, 0, len(p)+len(data)+2)
	buf = append(append(append(buf, p...), data...), "}\n"...)
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.writeLocked(id, buf, entry{jobLen: len(data)}, len(p), false)
	return b.seq, err
}

// writeLocked appends one line and applies it to the index; under mu.
func (b *Box) writeLocked(id string, buf []byte, e entry, prefix int, done bool) error {
	n, err := b.f.Write(buf)
	if err != nil {
		if n > 0 { // a partial line: cut it off so the journal stays whole
			_ = b.f.Truncate(b.size)
		}
		return fmt.Errorf("outbox: write %s: %w", id, err)
	}
	e.line, e.lineLen = b.size, len(buf)
	e.job = b.size + int64(prefix)
	b.size += int64(len(buf))
	b.apply(id, e, done)
	return nil
}

// Put stores the job under id, replacing one stored before. When it
// returns nil the job survives a crash or power loss (a crash of the
// process only, after NoSync).
func (b *Box) Put(id string, job any) error {
	if err := validID(id); err != nil {
		return err
	}
	data, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("outbox: encode %s: %w", id, err)
	}
	seq, err := b.append(id, data)
	if err != nil {
		return err
	}
	if !b.noSync {
		if err := b.syncTo(seq); err != nil {
			return err
		}
	}
	b.maybeCompact()
	return nil
}

// syncTo returns once the journal is fsync'd past the write numbered
// seq: the first caller to get here fsyncs for everyone who wrote before
// it started (group commit).
func (b *Box) syncTo(seq uint64) error {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	if b.synced >= seq {
		return nil
	}
	b.mu.Lock()
	upTo, f := b.seq, b.f
	b.mu.Unlock()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("outbox: sync %s: %w", b.dir, err)
	}
	b.synced = upTo
	return nil
}

// maybeCompact rewrites the journal when it is mostly done jobs.
func (b *Box) maybeCompact() {
	b.mu.Lock()
	due := b.size >= compactMin && b.live*4 <= b.size
	b.mu.Unlock()
	if due {
		if err := b.compact(); err != nil {
			b.log.Warn("outbox: journal not compacted", "dir", b.dir, "err", err)
		}
	}
}

// compact writes the pending jobs to a new journal, fsyncs it (unless
// NoSync) and puts it in place of the old one.
func (b *Box) compact() error {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.size < compactMin || b.live*4 > b.size {
		return nil // another Put compacted it meanwhile
	}
	ids := b.pendingLocked()
	name := filepath.Join(b.dir, journalName)
	nf, err := os.OpenFile(name+tmpExt, os.O_CREATE|os.O_TRUNC|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(nf, 256<<10)
	index, size := make(map[string]entry, len(ids)), int64(0)
	buf := []byte(nil)
	for _, id := range ids {
		e := b.index[id]
		if cap(buf) < e.lineLen {
			buf = make([]byte, e.lineLen)
		}
		if _, err = b.f.ReadAt(buf[:e.lineLen], e.line); err != nil {
			break
		}
		if _, err = w.Write(buf[:e.lineLen]); err != nil {
			break
		}
		index[id] = entry{line: size, lineLen: e.lineLen, job: size + (e.job - e.line), jobLen: e.jobLen, seq: e.seq}
		size += int64(e.lineLen)
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil && !b.noSync {
		err = nf.Sync()
	}
	if err == nil {
		err = os.Rename(name+tmpExt, name)
	}
	if err != nil {
		nf.Close()
		os.Remove(name + tmpExt)
		return err
	}
	if !b.noSync {
		syncDir(b.dir)
	}
	b.f.Close()
	b.f, b.index, b.size, b.live, b.synced = nf, index, size, size, b.seq
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Load decodes the job id into v. A job that is not there is an error
// wrapping fs.ErrNotExist.
func (b *Box) Load(id string, v any) error {
	data, err := b.raw(id)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrUnreadable, id, err)
	}
	return nil
}

// raw is the stored JSON of job id.
func (b *Box) raw(id string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.index[id]
	if !ok {
		return nil, fmt.Errorf("outbox: job %s: %w", id, fs.ErrNotExist)
	}
	data := make([]byte, e.jobLen)
	if _, err := b.f.ReadAt(data, e.job); err != nil {
		return nil, fmt.Errorf("outbox: read %s: %w", id, err)
	}
	return data, nil
}

// Done removes the finished job (a job that is not there is no error).
// The line saying so is not fsync'd: a crash can bring the job back, and
// running it twice must be harmless (call.PostJob is).
func (b *Box) Done(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.index[id]; !ok {
		return nil
	}
	q, _ := json.Marshal(id)
	buf := append(append(append(make([]byte, 0, len(q)+20), `{"id":`...), q...), `,"done":true}`+"\n"...)
	return b.writeLocked(id, buf, entry{}, 0, true)
}

// Pending lists the stored jobs, oldest (last put) first.
func (b *Box) Pending() ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pendingLocked(), nil
}

func (b *Box) pendingLocked() []string {
	ids := make([]string, 0, len(b.index))
	for id := range b.index {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return b.index[ids[i]].seq < b.index[ids[j]].seq })
	return ids
}

// PendingIn lists the pending jobs of the box in dir without opening it
// for writing (for tests and tools looking at a running server's box).
func PendingIn(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, journalName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer f.Close()
	b := &Box{index: map[string]entry{}}
	if _, _, err := scan(f, func(id string, e entry, done bool) { b.apply(id, e, done) }, slog.New(slog.DiscardHandler)); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return b.pendingLocked(), nil
}

// Claim marks id as being run; false when it already is. Release it after.
func (b *Box) Claim(id string) bool {
	b.claimMu.Lock()
	defer b.claimMu.Unlock()
	if b.claimed[id] {
		return false
	}
	b.claimed[id] = true
	return true
}

// Release ends a Claim. When the job is still pending (its run failed,
// or it was claimed only to be queued) Release wakes Run as Kick does: a
// pass that ran while the job was claimed skipped it, and would otherwise
// leave it until the next Kick, which may never come.
func (b *Box) Release(id string) {
	b.release(id)
	b.mu.Lock()
	_, pending := b.index[id]
	b.mu.Unlock()
	if pending {
		b.Kick()
	}
}

// release ends a Claim without waking Run (Run's own: it retries what
// failed after its backoff).
func (b *Box) release(id string) {
	b.claimMu.Lock()
	delete(b.claimed, id)
	b.claimMu.Unlock()
}

// Kick makes Run try the pending jobs soon (a job was just left for it).
func (b *Box) Kick() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Quarantine moves a job that cannot be decoded out of the way (to
// unreadable/<id>.json), so that it is kept for a person but not retried.
func (b *Box) Quarantine(id string) error {
	data, err := b.raw(id)
	if err != nil {
		return err
	}
	if err := b.setAside(id, data); err != nil {
		return err
	}
	return b.Done(id)
}

// setAside writes a job's bytes to unreadable/.
func (b *Box) setAside(id string, data []byte) error {
	dir := filepath.Join(b.dir, badDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	name := strings.NewReplacer("/", "_", "\\", "_", "\n", "_").Replace(id)
	if strings.HasPrefix(name, ".") || name == "" {
		name = "_" + name
	}
	if err := os.WriteFile(filepath.Join(dir, name+ext), data, 0o600); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// Handler runs one job; nil means done (Run removes it).
type Handler func(ctx context.Context, id string) error

// RunOptions tune Run's retries.
type RunOptions struct {
	MinBackoff time.Duration // after the first failure (default 1s)
	MaxBackoff time.Duration // cap (default 15 s: post-call work lands soon after the database is back)
	// IDKey names the job ID in log lines (default "job"; "call_id" for
	// post-call work).
	IDKey string
}

// Run tries every pending job at once (jobs left by the last run of the
// process), then again whenever Kick is called or the backoff after a
// failure ends, until ctx ends. A job that fails stays pending; its
// error is logged. Jobs run one after the other, oldest first; a pass
// stops after three failures in a row (the database is likely down for
// all), while one job that keeps failing does not hold up the others.
func (b *Box) Run(ctx context.Context, h Handler, o RunOptions) {
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 15 * time.Second
	}
	if o.IDKey == "" {
		o.IDKey = "job"
	}
	backoff := time.Duration(0)
	for {
		failed := b.pass(ctx, h, o.IDKey)
		var wait <-chan time.Time
		switch {
		case failed:
			backoff = min(max(2*backoff, o.MinBackoff), o.MaxBackoff)
			wait = time.After(backoff)
		default:
			backoff = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
			if failed { // a new job while failing: wait the backoff out
				select {
				case <-ctx.Done():
					return
				case <-wait:
				}
			}
		case <-wait:
		}
	}
}

// pass runs the pending jobs once; it reports whether one failed.
func (b *Box) pass(ctx context.Context, h Handler, idKey string) bool {
	ids, err := b.Pending()
	if err != nil {
		b.log.Error("outbox: list pending jobs", "dir", b.dir, "err", err)
		return true
	}
	failed, inARow := false, 0
	for _, id := range ids {
		if ctx.Err() != nil || inARow == 3 {
			break
		}
		if !b.Claim(id) {
			continue // its first run is still going; its Release wakes Run
		}
		err := h(ctx, id)
		if err == nil {
			err = b.Done(id)
		}
		b.release(id)
		if err != nil {
			b.log.Warn("outbox: job failed; will retry", idKey, id, "err", err)
			failed = true
			inARow++
			continue
		}
		inARow = 0
		b.log.Info("outbox: job done", idKey, id)
	}
	return failed
}
