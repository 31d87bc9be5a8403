package main

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/metrics"
	"github.com/contactd/contactd/outbox"
	"github.com/contactd/contactd/privacy"
	"github.com/contactd/contactd/recordings"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/store"
)

// OutboxDir is the post-call outbox inside the data dir; LiveDir holds a
// marker per call in progress (call.Options.Live).
const (
	OutboxDir = "outbox"
	LiveDir   = "live"
)

// dataProtection loads the recording key (recordings.key_file or
// CONTACTD_RECORDING_KEY) and opens the post-call outbox and the
// live-call markers. It returns the recordings, the key (nil without one),
// the outbox and the markers. recoverAtStart does the rest once the call
// manager exists.
func dataProtection(cfg *config.Config, log *slog.Logger) (*recordings.Files, []byte, *outbox.Box, *outbox.Box, error) {
	key, err := recordings.LoadKey(cfg.Recordings.KeyFile, cfg.Recordings.Key)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	files, err := recordings.New(cfg.DataDir, key, cfg.Recordings.Encrypt, log)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	box, err := outbox.Open(filepath.Join(cfg.DataDir, OutboxDir), log)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	live, err := outbox.Open(filepath.Join(cfg.DataDir, LiveDir), log)
	if err != nil {
		box.Close()
		return nil, nil, nil, nil, err
	}
	live.NoSync() // written as each call starts; see outbox.Box.NoSync
	return files, key, box, live, nil
}

// recoverAtStart cleans up after a crash of the last run, before calls
// are taken: the calls it left in progress are closed as interrupted and
// their recordings repaired and flagged partial (call.RecoverInterrupted),
// then the recordings left in plaintext are encrypted. The outbox, run by
// startOps, does the post-call work left pending.
func recoverAtStart(ctx context.Context, manager *call.Manager, files *recordings.Files, box *outbox.Box, log *slog.Logger) {
	n, err := manager.RecoverInterrupted(ctx, func(rel string) (bool, error) {
		_, ok, err := files.Repair(rel, call.DispositionInterrupted)
		return ok, err
	})
	if err != nil {
		log.Error("closing the calls the last run left in progress", "err", err)
	}
	if n > 0 {
		log.Warn("calls cut short by the last run's crash closed as interrupted", "calls", n)
	}
	if files.Encrypting() {
		n, err := files.SealPending(ctx)
		if err != nil {
			log.Error("recordings: some plaintext recordings could not be encrypted", "err", err)
		}
		log.Info("recordings are encrypted at rest", "sealed_at_start", n)
	}
	if ids, err := box.Pending(); err == nil && len(ids) > 0 {
		log.Info("post-call work left by the last run; doing it now", "jobs", len(ids))
	}
}

// urlKey is the key that signs recording URLs: derived from the recording
// key when there is one (links survive a restart and work on every node
// sharing it), else nil (the web server picks a random one).
func urlKey(recordingKey []byte) []byte {
	if recordingKey == nil {
		return nil
	}
	k, err := hkdf.Key(sha256.New, recordingKey, nil, "contactd signed recording urls", 32)
	if err != nil {
		return nil
	}
	return k
}

// retention turns the config into the sweeper's policy.
func retention(cfg *config.Config) privacy.Retention {
	var r privacy.Retention
	r.Default.RecordingDays, r.Default.TranscriptDays = (*config.Retention)(nil).Days(cfg.Retention)
	for _, q := range cfg.Queues {
		if q.Retention == nil {
			continue
		}
		if r.Queues == nil {
			r.Queues = map[string]privacy.Policy{}
		}
		rec, tr := q.Retention.Days(cfg.Retention)
		r.Queues[q.Name] = privacy.Policy{RecordingDays: rec, TranscriptDays: tr}
	}
	return r
}

// startOps starts what runs beside the calls: the outbox's retries, the
// retention sweeper (hourly, and once now), and the gauges read at each
// scrape. The returned function stops the background work.
func startOps(ctx context.Context, cfg *config.Config, log *slog.Logger, st store.Store, files *recordings.Files,
	box *outbox.Box, manager *call.Manager, router interface{ Queues() []routing.QueueView }, obs *metrics.Metrics) func() {
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); manager.RunOutbox(bg) }()
	if r := retention(cfg); !r.Empty() {
		sw := &privacy.Sweeper{Store: st, Files: files, Retention: r, Log: log}
		wg.Add(1)
		go func() { defer wg.Done(); sw.Run(bg) }()
		log.Info("retention on", "recording_days", r.Default.RecordingDays, "transcript_days", r.Default.TranscriptDays,
			"queues_with_their_own", len(r.Queues))
	}
	obs.GaugeFunc("contactd_calls_active", "Calls in progress on this node.", func() float64 { return float64(manager.Active()) })
	obs.GaugeFunc("contactd_outbox_pending", "Ended calls whose post-call work waits in the outbox (the database was unreachable).",
		func() float64 {
			ids, err := box.Pending()
			if err != nil {
				return -1
			}
			return float64(len(ids))
		})
	obs.Queues(func() []metrics.QueueSize {
		qs := router.Queues()
		out := make([]metrics.QueueSize, 0, len(qs))
		for _, q := range qs {
			out = append(out, metrics.QueueSize{Name: q.Name, Waiting: q.WaitingCount,
				LongestWait: time.Duration(q.LongestWaitMS) * time.Millisecond})
		}
		return out
	})
	return func() {
		stop()
		wg.Wait()
	}
}
