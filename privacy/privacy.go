// Package privacy applies the data-protection rules to stored calls:
// retention per queue (a background Sweeper deletes recordings after N
// days and transcripts after M) and erasure of one customer
// (EraseCustomer). Both delete recording files through recordings.Files
// and the rest through the store, and leave an audit entry.
package privacy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/contactd/contactd/recordings"
	"github.com/contactd/contactd/store"
)

// Audit actions.
const (
	AuditSweep = "retention.sweep"
	AuditErase = "customer.erase"
	// Actor is the audit actor of the sweeper.
	Actor = "system"
)

// Policy is how long one queue's calls keep their recording and
// transcript, in days after the call; 0 keeps them.
type Policy struct {
	RecordingDays  int
	TranscriptDays int
}

// Retention is the default policy and the queues that have their own.
type Retention struct {
	Default Policy
	Queues  map[string]Policy
}

// Empty reports whether nothing is ever deleted.
func (r Retention) Empty() bool {
	if r.Default != (Policy{}) {
		return false
	}
	for _, p := range r.Queues {
		if p != (Policy{}) {
			return false
		}
	}
	return true
}

// scopes turns the retention of one kind (days picks recording or
// transcript days) into store scopes: one per distinct number of days
// among the queues with their own policy, and one for every other queue.
func (r Retention) scopes(now time.Time, days func(Policy) int) []store.RetentionScope {
	byDays := map[int][]string{}
	own := make([]string, 0, len(r.Queues))
	for q, p := range r.Queues {
		own = append(own, q)
		if d := days(p); d > 0 {
			byDays[d] = append(byDays[d], q)
		}
	}
	slices.Sort(own)
	var out []store.RetentionScope
	ds := make([]int, 0, len(byDays))
	for d := range byDays {
		ds = append(ds, d)
	}
	slices.Sort(ds)
	for _, d := range ds {
		qs := byDays[d]
		slices.Sort(qs)
		out = append(out, store.RetentionScope{Queues: qs, Before: now.AddDate(0, 0, -d)})
	}
	if d := days(r.Default); d > 0 {
		out = append(out, store.RetentionScope{Queues: own, Except: true, Before: now.AddDate(0, 0, -d)})
	}
	return out
}

// Sweeper deletes what retention says has expired.
type Sweeper struct {
	Store     store.Store
	Files     *recordings.Files
	Retention Retention
	Log       *slog.Logger
	// Every is the time between sweeps (default an hour); Batch the calls
	// handled per store round trip (default 200).
	Every time.Duration
	Batch int
	Now   func() time.Time
}

// SweepResult counts what one sweep deleted.
type SweepResult struct {
	Recordings  int   `json:"recordings"`
	Transcripts int   `json:"transcripts"`
	Segments    int64 `json:"segments"`
	Failed      int   `json:"failed"` // recordings that could not be deleted (tried again next sweep)
}

func (s *Sweeper) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sweeper) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Run sweeps now and then every s.Every until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	every := s.Every
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log().Error("retention sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep deletes every expired recording and transcript once, and appends
// one audit entry saying what went.
func (s *Sweeper) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	now := s.now()
	batch := s.Batch
	if batch <= 0 {
		batch = 200
	}
	var errs []error
	for _, sc := range s.Retention.scopes(now, func(p Policy) int { return p.RecordingDays }) {
		// A recording that cannot go stays in the store, oldest first:
		// each query asks for that many more, so it never blocks the rest.
		failed := map[string]bool{}
		for ctx.Err() == nil {
			sc.Limit = batch + len(failed)
			cs, err := s.Store.ExpiredRecordings(ctx, sc)
			if err != nil {
				errs = append(errs, err)
				break
			}
			for _, c := range cs {
				if failed[c.ID] {
					continue
				}
				if _, err := s.Files.Remove(c.RecordingPath); err != nil {
					s.log().Error("retention: delete recording", "call_id", c.ID, "path", c.RecordingPath, "err", err)
					failed[c.ID] = true
					res.Failed++
					continue
				}
				if err := s.Store.ClearRecording(ctx, c.ID); err != nil {
					errs = append(errs, err)
					failed[c.ID] = true
					continue
				}
				res.Recordings++
			}
			if len(cs) < sc.Limit {
				break
			}
		}
	}
	for _, sc := range s.Retention.scopes(now, func(p Policy) int { return p.TranscriptDays }) {
		sc.Limit = batch
		for ctx.Err() == nil {
			n, segs, err := s.Store.PurgeTranscripts(ctx, sc)
			if err != nil {
				errs = append(errs, err)
				break
			}
			res.Transcripts += n
			res.Segments += segs
			if n < batch {
				break
			}
		}
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	detail := fmt.Sprintf("recordings=%d transcripts=%d segments=%d failed=%d", res.Recordings, res.Transcripts, res.Segments, res.Failed)
	if len(errs) > 0 {
		detail += " incomplete"
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.Store.AppendAudit(actx, store.AuditEntry{At: now, Actor: Actor, Action: AuditSweep, Detail: detail}); err != nil {
		errs = append(errs, fmt.Errorf("audit the sweep: %w", err))
	}
	if res != (SweepResult{}) || len(errs) > 0 {
		s.log().Info("retention sweep", "recordings", res.Recordings, "transcripts", res.Transcripts, "segments", res.Segments,
			"failed", res.Failed, "errors", len(errs))
	}
	return res, errors.Join(errs...)
}

// Erasure is what EraseCustomer removed.
type Erasure struct {
	store.Erasure
	RecordingFiles int `json:"recording_files"` // files deleted
}

// maxCalls bounds the calls of one number looked up before erasure.
const maxCalls = 100000

// Callbacks stops pending callbacks (call.Manager).
type Callbacks interface {
	// CancelCallbacks stops the callbacks to number waiting in this
	// process and returns their IDs.
	CancelCallbacks(number string) []string
	// WithdrawCallbacks takes the callbacks with these IDs out of the
	// routing queues, wherever they wait (nodes share the queues).
	WithdrawCallbacks(ids []string)
}

// EraseCustomer deletes the recordings of the calls from number, then
// has the store erase the rest (store.Store.EraseCustomer), pending
// callbacks to the number included. Recordings go first: when one cannot
// be deleted nothing else is touched and the error says which, so the
// erasure can be run again once it is fixed. Callbacks waiting in armed
// (may be nil) are stopped before the store's erasure, so that no agent
// takes one meanwhile; the stored ones the store deleted are then
// withdrawn from the queues, for those armed on other nodes. The audit entry names the calls, not the number
// (that is what was erased).
func EraseCustomer(ctx context.Context, st store.Store, files *recordings.Files, armed Callbacks, number, actor, ip string, now time.Time) (Erasure, error) {
	number = strings.TrimSpace(number)
	if number == "" || number == store.Erased {
		return Erasure{}, errors.New("privacy: erase: empty number")
	}
	cs, err := st.CallsByCaller(ctx, number, maxCalls)
	if err != nil {
		return Erasure{}, fmt.Errorf("privacy: erase: %w", err)
	}
	var out Erasure
	for _, c := range cs {
		if c.RecordingPath == "" {
			continue
		}
		ok, err := files.Remove(c.RecordingPath)
		if err != nil {
			return out, fmt.Errorf("privacy: erase: delete the recording of call %s: %w", c.ID, err)
		}
		if ok {
			out.RecordingFiles++
		}
	}
	var stopped []string
	if armed != nil {
		stopped = armed.CancelCallbacks(number)
	}
	e, err := st.EraseCustomer(ctx, number, now)
	if err != nil {
		return out, fmt.Errorf("privacy: erase: %w", err)
	}
	if armed != nil {
		// Stored callbacks armed on another node leave the shared queues.
		armed.WithdrawCallbacks(e.Callbacks)
	}
	// A callback stopped in memory that was never stored counts too.
	for _, id := range stopped {
		if !slices.Contains(e.Callbacks, id) {
			e.Callbacks = append(e.Callbacks, id)
		}
	}
	slices.Sort(e.Callbacks)
	out.Erasure = e
	for _, rel := range e.Recordings { // a call that began meanwhile
		if ok, err := files.Remove(rel); err != nil {
			return out, fmt.Errorf("privacy: erase: delete recording %s: %w", rel, err)
		} else if ok {
			out.RecordingFiles++
		}
	}
	detail := fmt.Sprintf("calls=%d recordings=%d segments=%d tickets=%d notes=%d evaluations=%d callbacks=%d call_ids=%s",
		len(e.Calls), out.RecordingFiles, e.Segments, e.Tickets, e.Notes, e.Evaluations, len(e.Callbacks), strings.Join(firstN(e.Calls, 50), ","))
	if err := st.AppendAudit(ctx, store.AuditEntry{At: now, Actor: actor, Action: AuditErase, Target: "customer:" + store.Erased,
		Detail: detail, IP: ip}); err != nil {
		return out, fmt.Errorf("privacy: erase: done, but the audit entry failed: %w", err)
	}
	return out, nil
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(slices.Clone(s[:n]), "…")
	}
	return s
}
