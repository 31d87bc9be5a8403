package call

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactd/contactd/outbox"
)

// logRecords keeps every record logged through it.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r.Clone())
	return nil
}
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecords) WithGroup(string) slog.Handler      { return l }

// postCall returns the levels of the records about post-call work.
func (l *logRecords) postCall() []slog.Level {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lv []slog.Level
	for _, r := range l.recs {
		if strings.HasPrefix(r.Message, "post-call") {
			lv = append(lv, r.Level)
		}
	}
	return lv
}

// TestPostCallFailureLogLevel: a call whose post-call work fails (the
// database is down) is logged at WARN when the outbox keeps the work for
// a retry, and at ERROR only when nothing keeps it.
func TestPostCallFailureLogLevel(t *testing.T) {
	for _, withOutbox := range []bool{true, false} {
		name := "no outbox"
		if withOutbox {
			name = "outbox"
		}
		t.Run(name, func(t *testing.T) {
			logs := &logRecords{}
			var st *flakyStore
			f := newLiveFixture(t, nil, func(o *Options) {
				st = &flakyStore{Store: o.Store}
				o.Store, o.Log, o.DrainWait = st, slog.New(logs), time.Second
				if withOutbox {
					box, err := outbox.Open(filepath.Join(t.TempDir(), "outbox"), nil)
					if err != nil {
						t.Fatal(err)
					}
					o.Outbox = box
				}
			})
			st.set(true)
			f.hangup(t)
			var warn, errs int
			for _, lv := range logs.postCall() {
				switch lv {
				case slog.LevelWarn:
					warn++
				case slog.LevelError:
					errs++
				}
			}
			if withOutbox && (errs != 0 || warn == 0) {
				t.Errorf("retried post-call work: %d ERROR, %d WARN records; want 0 and some", errs, warn)
			}
			if !withOutbox && errs != 1 {
				t.Errorf("lost post-call work: %d ERROR records, want 1", errs)
			}
		})
	}
}
