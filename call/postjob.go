package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"time"

	"github.com/contactd/contactd/outbox"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/transcript"
)

// PostJob is one ended call's post-call work as the outbox keeps it: the
// call record, its IVR visits and (redacted) transcript, and the steps
// already done when an earlier attempt failed part way.
type PostJob struct {
	Call       store.Call            `json:"call"`
	Visits     []store.IVRVisit      `json:"visits,omitempty"`
	Transcript transcript.Transcript `json:"transcript"`
	Done       []string              `json:"done,omitempty"`
	Queued     time.Time             `json:"queued"`
	// Interrupted: the call was cut by a crash (live.go); the job only
	// closes its stored record.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Post-call steps, in order. The call record is marked ended only once
// its transcript and IVR visits are stored, so that a client that sees
// ended_at through the API also sees the transcript.
const (
	stepSegments = "segments"
	stepVisits   = "visits"
	stepCall     = "call" // the record: ended_at, disposition, quality
	stepPost     = "post" // ticket and evaluation
)

// Observer is told how calls go, for metrics; Options.Observer may be nil.
type Observer interface {
	// QueueWait is one wait in queue: answered by an agent, or not (the
	// caller hung up).
	QueueWait(queue string, wait time.Duration, answered bool)
	// CallEnded is the final record of a call.
	CallEnded(c store.Call)
}

type nopObserver struct{}

func (nopObserver) QueueWait(string, time.Duration, bool) {}
func (nopObserver) CallEnded(store.Call)                  {}

func (m *Manager) observer() Observer {
	if m.opts.Observer == nil {
		return nopObserver{}
	}
	return m.opts.Observer
}

// postCallWork stores the ended call and runs the post-call pipeline,
// here and now. With an outbox the job is written there (fsync'd) first
// and removed when done, so what fails now (the database is down) or is
// cut short (a crash) is done later by RunOutbox.
func (m *Manager) postCallWork(ctx context.Context, job *PostJob, log *slog.Logger) (Result, error) {
	kept, err := m.keepPostJob(job, log)
	if err != nil {
		return Result{}, err
	}
	return m.doPostJob(ctx, job, kept, log)
}

// keepPostJob claims the job's ID and writes the job to the outbox; kept
// is false when there is no outbox or it could not be written (the work
// is then done without a safety net). The claim is released by doPostJob.
func (m *Manager) keepPostJob(job *PostJob, log *slog.Logger) (kept bool, err error) {
	box, id := m.opts.Outbox, job.Call.ID
	if box == nil {
		return false, nil
	}
	job.Queued = time.Now()
	if !box.Claim(id) {
		return false, fmt.Errorf("call: post-call work for %s is already running", id)
	}
	if err := box.Put(id, job); err != nil {
		log.Error("outbox: cannot keep the post-call work; doing it without a safety net", "err", err)
		return false, nil
	}
	m.unmarkLive(id, log) // the outbox has it now
	return true, nil
}

// doPostJob runs a job keepPostJob took: removed from the outbox when
// done, updated there (the steps done) when not.
func (m *Manager) doPostJob(ctx context.Context, job *PostJob, kept bool, log *slog.Logger) (Result, error) {
	box, id := m.opts.Outbox, job.Call.ID
	if box != nil {
		defer box.Release(id)
	}
	res, err := m.runPostJob(ctx, job, false)
	if !kept {
		return res, err
	}
	if err != nil {
		if perr := box.Put(id, job); perr != nil { // keep the steps done
			log.Error("outbox: update job", "err", perr)
		}
		// The deferred Release wakes RunOutbox, which may have skipped the
		// job while this attempt held it. (A Kick here, before Release, was
		// lost when RunOutbox's pass came in between.)
		log.Warn("post-call work failed; kept in the outbox and retried", "err", err, "done", job.Done)
		return res, &retriedError{err}
	}
	if err := box.Done(id); err != nil {
		log.Warn("outbox: remove finished job", "err", err)
	}
	return res, nil
}

// Post-call workers. An ended call's work, once safe in the outbox, is
// done by a few workers instead of the call's own goroutine: the call
// (and its SIP slot, counted against max_calls) ends as soon as its work
// is kept, and a surge of hang-ups, or a slow database, queues that work
// instead of running hundreds of pipelines at once against the new
// calls' set-up and the one SQLite writer.
const maxPostQueue = 4096 // beyond this the outbox's runner picks jobs up

type postTask struct {
	job   *PostJob
	log   *slog.Logger
	after func(Result, error) // told how it went (the first attempt)
}

// postLater does the job's post-call work in a worker, then calls after;
// without an outbox (or when it cannot be written) it does it here.
func (m *Manager) postLater(job *PostJob, log *slog.Logger, after func(Result, error)) {
	kept, err := m.keepPostJob(job, log)
	if err != nil {
		after(Result{}, err)
		return
	}
	if !kept {
		ctx, cancel := context.WithTimeout(context.Background(), postTimeout)
		defer cancel()
		after(m.doPostJob(ctx, job, false, log))
		return
	}
	m.mu.Lock()
	if len(m.postQ) >= maxPostQueue {
		first := !m.postBehind
		m.postBehind = true
		m.mu.Unlock()
		m.opts.Outbox.Release(job.Call.ID) // wakes RunOutbox, which does it
		if first {
			log.Warn("post-call workers far behind: further calls' work waits in the outbox", "queued", maxPostQueue)
		}
		after(Result{}, &retriedError{errors.New("call: post-call workers busy")})
		return
	}
	m.postQ = append(m.postQ, postTask{job: job, log: log, after: after})
	start := m.postWorkers < m.postWorkerCap()
	if start {
		m.postWorkers++
		m.wg.Add(1) // the caller's call still counts: Wait cannot have returned
	}
	m.mu.Unlock()
	if start {
		go m.postWorker()
	}
}

// postTimeout bounds one attempt at a call's post-call work, from when a
// worker takes it.
const postTimeout = 10 * time.Second

func (m *Manager) postWorkerCap() int {
	if m.opts.PostWorkers > 0 {
		return m.opts.PostWorkers
	}
	return max(1, runtime.GOMAXPROCS(0)/2)
}

// postWorker does queued post-call work until the queue is empty.
func (m *Manager) postWorker() {
	defer m.wg.Done()
	for {
		m.mu.Lock()
		if len(m.postQ) == 0 {
			m.postWorkers--
			m.postQ = nil // let a surge's backing array go
			caughtUp := m.postBehind && m.postWorkers == 0
			if caughtUp {
				m.postBehind = false
			}
			m.mu.Unlock()
			if caughtUp {
				m.opts.Log.Info("post-call workers caught up")
			}
			return
		}
		t := m.postQ[0]
		m.postQ[0] = postTask{}
		m.postQ = m.postQ[1:]
		m.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), postTimeout)
		res, err := m.doPostJob(ctx, t.job, true, t.log)
		cancel()
		t.after(res, err)
	}
}

// retriedError is post-call work that failed but is kept in the outbox,
// which retries it until it is done: it is late, not lost (a database
// outage, or work behind under overload hitting its deadline).
type retriedError struct{ err error }

func (e *retriedError) Error() string { return e.err.Error() }
func (e *retriedError) Unwrap() error { return e.err }

// runPostJob does job's steps that are not done yet. A retry (the job
// comes back from the outbox) first checks what an earlier attempt may
// have stored without recording it: the transcript, and the ticket and
// evaluation (PostCall.ProcessOnce).
func (m *Manager) runPostJob(ctx context.Context, job *PostJob, retry bool) (Result, error) {
	ctx = store.Background(ctx) // new calls' writes go first
	o := m.opts
	id := job.Call.ID
	res := Result{CallID: id}
	var took []any // each step's time, for the debug log
	defer func() {
		if len(took) > 0 && o.Log != nil {
			o.Log.Debug("post-call steps", append([]any{"call_id", id}, took...)...)
		}
	}()
	step := func(name string, fn func() error) error {
		if slices.Contains(job.Done, name) {
			return nil
		}
		start := time.Now()
		err := fn()
		took = append(took, name+"_ms", time.Since(start).Milliseconds())
		if err != nil {
			return fmt.Errorf("call: post-call %s: %w", name, err)
		}
		job.Done = append(job.Done, name)
		return nil
	}
	if err := step(stepSegments, func() error {
		if retry {
			if have, err := o.Store.Segments(ctx, id); err != nil || len(have) > 0 {
				return err
			}
		}
		err := o.Store.AddSegments(ctx, id, job.Transcript.Segments)
		if err != nil && !job.Interrupted {
			// The database was down when the call began: no record for the
			// segments to belong to yet. Store it still open, then retry.
			if _, gerr := o.Store.Call(ctx, id); errors.Is(gerr, store.ErrNotFound) {
				open := job.Call
				open.EndedAt, open.Disposition = time.Time{}, ""
				if cerr := o.Store.CreateCall(ctx, open); cerr != nil {
					return errors.Join(err, cerr)
				}
				err = o.Store.AddSegments(ctx, id, job.Transcript.Segments)
			}
		}
		return err
	}); err != nil {
		return res, err
	}
	if err := step(stepVisits, func() error { return o.Store.AddIVRVisits(ctx, job.Visits) }); err != nil {
		return res, err
	}
	if err := step(stepCall, func() error {
		if job.Interrupted {
			return m.closeInterrupted(ctx, job.Call)
		}
		err := o.Store.UpdateCall(ctx, job.Call)
		if errors.Is(err, store.ErrNotFound) { // the database was down when the call began
			err = o.Store.CreateCall(ctx, job.Call)
		}
		return err
	}); err != nil {
		return res, err
	}
	err := step(stepPost, func() error {
		if o.Post == nil {
			return nil
		}
		var err error
		if retry {
			res, err = o.Post.ProcessOnce(ctx, job.Transcript)
		} else {
			res, err = o.Post.Process(ctx, job.Transcript)
		}
		return err
	})
	return res, err
}

// RunOutbox does the post-call work left in the outbox — by this run's
// failures, or by the last run of the process (a database outage, a
// crash) — retrying with backoff until ctx ends. Start it before taking
// calls.
func (m *Manager) RunOutbox(ctx context.Context) {
	box := m.opts.Outbox
	if box == nil {
		return
	}
	box.Run(ctx, func(ctx context.Context, id string) error {
		var job PostJob
		if err := box.Load(id, &job); err != nil {
			if errors.Is(err, outbox.ErrUnreadable) {
				m.opts.Log.Error("outbox: unreadable post-call job set aside", "call_id", id, "dir", box.Dir(), "err", err)
				return box.Quarantine(id)
			}
			return err
		}
		log := m.opts.Log.With("call_id", id)
		jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		res, err := m.runPostJob(jctx, &job, true)
		if err != nil {
			if perr := box.Put(id, &job); perr != nil {
				log.Error("outbox: update job", "err", perr)
			}
			return err
		}
		args := []any{"ticket", res.TicketID, "evaluation", res.EvaluationID}
		if job.Interrupted {
			args = []any{"closed", DispositionInterrupted}
		}
		if !job.Queued.IsZero() {
			args = append(args, "waited", time.Since(job.Queued).Round(time.Second))
		}
		log.Info("post-call work done from the outbox", args...)
		return nil
	}, outbox.RunOptions{IDKey: "call_id"})
}
