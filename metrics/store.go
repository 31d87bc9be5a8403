package metrics

import (
	"errors"
	"time"

	"github.com/contactd/contactd/store"
)

//go:generate go run gen_store.go

// Store wraps st so that every method observes
// contactd_db_operation_seconds{op=<method>} and failures count in
// contactd_db_errors_total. Methods added to store.Store after
// store_gen.go was generated pass through untimed until it is run again.
func (m *Metrics) Store(st store.Store) store.Store { return &meteredStore{Store: st, m: m} }

type meteredStore struct {
	store.Store
	m *Metrics
}

func (m *Metrics) observeDB(op string, start time.Time, err *error) {
	m.dbLatency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if e := *err; e != nil && !errors.Is(e, store.ErrNotFound) && !errors.Is(e, store.ErrConflict) {
		m.dbErrors.WithLabelValues(op).Inc()
	}
}
