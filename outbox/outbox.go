// Package outbox is a durable, file-based queue of jobs that must not be
// lost: one JSON file per job in a directory (written to a temporary
// name, fsync'd, renamed, directory fsync'd), removed once the job is
// done. Run retries what is pending, with backoff, until it succeeds —
// across restarts, since the files stay.
//
// contactd puts each ended call's post-call work (call record,
// transcript, ticket, evaluation) here before doing it, so a database
// outage or a crash delays that work instead of losing it.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

const (
	ext    = ".json"
	tmpExt = ".tmp"
	// badDir keeps files that cannot be decoded, out of the retry loop.
	badDir = "unreadable"
)

// ErrUnreadable: a stored job cannot be decoded (Quarantine it).
var ErrUnreadable = errors.New("outbox: job unreadable")

// Box is a directory of pending jobs. Its methods are safe for concurrent
// use; a job is run by one goroutine at a time (Claim).
type Box struct {
	dir string
	log *slog.Logger

	noSync bool // Put does not fsync (NoSync)

	mu      sync.Mutex
	claimed map[string]bool
	kick    chan struct{}
}

// NoSync makes Put skip its fsyncs and returns b: a job then survives a
// crash of the process (the kernel holds it) but not a crash of the
// machine. It is for markers whose loss in a power cut costs little —
// the live-call markers written as each call starts, where two fsyncs
// per call cost more than the rest of the call's set-up at a few hundred
// calls a second.
func (b *Box) NoSync() *Box {
	b.noSync = true
	return b
}

// Open returns the box in dir, creating it, and drops the temporary files
// a crash left.
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
	return &Box{dir: dir, log: log, claimed: map[string]bool{}, kick: make(chan struct{}, 1)}, nil
}

// Dir is the box's directory.
func (b *Box) Dir() string { return b.dir }

func (b *Box) path(id string) (string, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") || len(id) > 200 {
		return "", fmt.Errorf("outbox: bad job id %q", id)
	}
	return filepath.Join(b.dir, id+ext), nil
}

// Put stores the job durably under id, replacing one stored before.
// When it returns nil the job survives a crash or power loss (a crash of
// the process only, after NoSync).
func (b *Box) Put(id string, job any) error {
	p, err := b.path(id)
	if err != nil {
		return err
	}
	data, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("outbox: encode %s: %w", id, err)
	}
	tmp := p + tmpExt
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	_, err = f.Write(data)
	if err == nil && !b.noSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("outbox: write %s: %w", id, err)
	}
	if b.noSync {
		return nil
	}
	if d, err := os.Open(b.dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("outbox: sync %s: %w", b.dir, err)
		}
	}
	return nil
}

// Load decodes the job id into v.
func (b *Box) Load(id string, v any) error {
	p, err := b.path(id)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrUnreadable, id, err)
	}
	return nil
}

// Done removes the finished job.
func (b *Box) Done(id string) error {
	p, err := b.path(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// Pending lists the stored jobs, oldest first.
func (b *Box) Pending() ([]string, error) {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	type job struct {
		id string
		at time.Time
	}
	var jobs []job
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ext) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		jobs = append(jobs, job{strings.TrimSuffix(name, ext), info.ModTime()})
	}
	sort.Slice(jobs, func(i, j int) bool {
		if !jobs[i].at.Equal(jobs[j].at) {
			return jobs[i].at.Before(jobs[j].at)
		}
		return jobs[i].id < jobs[j].id
	})
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.id
	}
	return ids, nil
}

// Claim marks id as being run; false when it already is. Release it after.
func (b *Box) Claim(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.claimed[id] {
		return false
	}
	b.claimed[id] = true
	return true
}

// Release ends a Claim.
func (b *Box) Release(id string) {
	b.mu.Lock()
	delete(b.claimed, id)
	b.mu.Unlock()
}

// Kick makes Run try the pending jobs soon (a job was just left for it).
func (b *Box) Kick() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Quarantine moves a job that cannot be decoded out of the way (to
// unreadable/), so that it is kept for a person but not retried.
func (b *Box) Quarantine(id string) error {
	p, err := b.path(id)
	if err != nil {
		return err
	}
	dir := filepath.Join(b.dir, badDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := os.Rename(p, filepath.Join(dir, id+ext)); err != nil {
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
			continue // its first run is still going
		}
		err := h(ctx, id)
		if err == nil {
			err = b.Done(id)
		}
		b.Release(id)
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
