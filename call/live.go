package call

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/contactd/contactd/outbox"
	"github.com/contactd/contactd/store"
)

// DispositionInterrupted is how a call cut short by a crash of contactd
// (kill -9, power loss) is closed at the next start.
const DispositionInterrupted = "interrupted: contactd stopped during the call"

// Live-call markers. With Options.Live set, each call in progress has a
// marker there (its record as it began, fsync'd), written when the call
// starts and removed once its post-call work is safely in the outbox. A
// marker found at start is a call the last process never finished:
// RecoverInterrupted closes it.
type liveMarker struct {
	Call store.Call `json:"call"`
}

func (m *Manager) markLive(c store.Call, log *slog.Logger) {
	if m.opts.Live == nil {
		return
	}
	if err := m.opts.Live.Put(c.ID, liveMarker{Call: c}); err != nil {
		log.Warn("live-call marker not written: a crash now would leave this call open", "err", err)
	}
}

func (m *Manager) unmarkLive(id string, log *slog.Logger) {
	if m.opts.Live == nil {
		return
	}
	if err := m.opts.Live.Done(id); err != nil {
		log.Warn("live-call marker not removed", "err", err)
	}
}

// RepairFunc fixes the recording (relative to the data dir) of a call a
// crash cut short and flags it partial; repaired is false when there was
// nothing to repair (no recording, or a finished, sealed one).
type RepairFunc func(rel string) (repaired bool, err error)

// RecoverInterrupted closes the calls the last run of the process left
// in progress (their live markers are still there): each one's recording
// is repaired and flagged partial (repair), and a job that closes its
// record — ended at the recording's last write, with
// DispositionInterrupted — goes into the outbox, where RunOutbox does it
// (at once, or when the database is back). Their transcripts died with
// the process: they get no ticket or evaluation. A call whose post-call
// work already waits in the outbox ended before the crash and is left to
// it. Run it at start, before calls are taken and before plaintext
// recordings are sealed. It returns how many calls it closed.
func (m *Manager) RecoverInterrupted(ctx context.Context, repair RepairFunc) (int, error) {
	live, box, log := m.opts.Live, m.opts.Outbox, m.opts.Log
	if live == nil {
		return 0, nil
	}
	ids, err := live.Pending()
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, id := range ids {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		clog := log.With("call_id", id)
		var mk liveMarker
		if err := live.Load(id, &mk); err != nil {
			if errors.Is(err, outbox.ErrUnreadable) {
				clog.Error("unreadable live-call marker set aside", "dir", live.Dir(), "err", err)
				errs = append(errs, live.Quarantine(id))
				continue
			}
			errs = append(errs, err)
			continue
		}
		if box != nil && hasJob(box, id) { // it ended; its work is queued
			errs = append(errs, live.Done(id))
			continue
		}
		job := m.interruptedJob(mk.Call, repair, clog)
		if box == nil {
			jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := m.runPostJob(jctx, job, true)
			cancel()
			if err != nil {
				errs = append(errs, fmt.Errorf("call: close interrupted call %s: %w", id, err))
				continue
			}
		} else if err := box.Put(id, job); err != nil {
			errs = append(errs, err)
			continue
		}
		clog.Warn("call cut short by the last run's crash; closing it", "from", mk.Call.From,
			"started", mk.Call.StartedAt.Format(time.RFC3339), "ended", job.Call.EndedAt.Format(time.RFC3339))
		if err := live.Done(id); err != nil {
			errs = append(errs, err)
		}
		n++
	}
	return n, errors.Join(errs...)
}

// interruptedJob repairs the call's recording and returns the job that
// closes its record (and does nothing else).
func (m *Manager) interruptedJob(c store.Call, repair RepairFunc, log *slog.Logger) *PostJob {
	c.EndedAt = c.StartedAt
	if c.RecordingPath != "" {
		// The recording was written until the process died: its last
		// write is the best end time there is.
		if st, err := os.Stat(filepath.Join(m.opts.DataDir, c.RecordingPath)); err == nil && st.ModTime().After(c.EndedAt) {
			c.EndedAt = st.ModTime()
		}
		if repair != nil {
			if _, err := repair(c.RecordingPath); err != nil {
				log.Error("recording of an interrupted call not repaired", "recording", c.RecordingPath, "err", err)
			}
		}
	}
	c.Disposition = DispositionInterrupted
	return &PostJob{Call: c, Interrupted: true, Done: []string{stepSegments, stepVisits, stepPost}, Queued: time.Now()}
}

// hasJob reports whether the outbox holds a job for id.
func hasJob(box *outbox.Box, id string) bool {
	var raw json.RawMessage
	err := box.Load(id, &raw)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// closeInterrupted ends the stored record of an interrupted call: what
// the record says (intent, queue, agent, answer time: set while the call
// ran) is kept. A record that is already ended is left alone; a missing
// one (the database was down all call long) is created from the marker.
func (m *Manager) closeInterrupted(ctx context.Context, c store.Call) error {
	st := m.opts.Store
	cur, err := st.Call(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return st.CreateCall(ctx, c)
	}
	if err != nil {
		return err
	}
	if !cur.EndedAt.IsZero() {
		return nil
	}
	cur.EndedAt, cur.Disposition = c.EndedAt, c.Disposition
	if cur.RecordingPath == "" {
		cur.RecordingPath = c.RecordingPath
	}
	return st.UpdateCall(ctx, cur)
}
