package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// Adapter errors. A DB maps its driver's errors onto these (wrapping the
// original) so the shared code can classify them.
var (
	// ErrNoRows is returned by Row.Scan when the query matched nothing.
	ErrNoRows = errors.New("no rows")
	// ErrUnique is a unique or primary key violation.
	ErrUnique = errors.New("unique violation")
	// ErrForeignKey is a foreign key violation.
	ErrForeignKey = errors.New("foreign key violation")
)

// DB is the part of a SQL connection pool the store needs. Implementations
// map driver errors onto ErrNoRows, ErrUnique and ErrForeignKey, and convert
// Time arguments to their native column type.
type DB interface {
	// Exec runs a statement and returns the number of rows it affected.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a query returning rows; the caller closes them.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query expected to return at most one row.
	QueryRow(ctx context.Context, query string, args ...any) Row
	// InTx runs fn in a transaction, committing when it returns nil and
	// rolling back otherwise. fn must use only the DB it is given.
	InTx(ctx context.Context, fn func(tx DB) error) error
}

// Rows is a result set being read.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result; Scan returns ErrNoRows (wrapped) when empty.
type Row interface {
	Scan(dest ...any) error
}

// Time is a time argument. Adapters store it at millisecond precision and
// store the zero time as NULL.
type Time time.Time

// Millis returns t as Unix milliseconds and whether it is set.
func (t Time) Millis() (int64, bool) {
	if time.Time(t).IsZero() {
		return 0, false
	}
	return time.Time(t).UnixMilli(), true
}

// Truncated returns t truncated to milliseconds in UTC and whether it is set.
func (t Time) Truncated() (time.Time, bool) {
	ms, ok := t.Millis()
	if !ok {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}

// NullTime is a scan destination for a Time column: it accepts NULL (the zero
// time), integer milliseconds (SQLite) or a time.Time (Postgres).
type NullTime struct{ T *time.Time }

// Scan implements sql.Scanner.
func (n NullTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.T = time.Time{}
	case int64:
		*n.T = time.UnixMilli(v).UTC()
	case time.Time:
		*n.T = time.UnixMilli(v.UnixMilli()).UTC()
	default:
		return fmt.Errorf("scan time: unsupported type %T", src)
	}
	return nil
}

var _ interface{ Scan(any) error } = NullTime{}

// Value implements driver.Valuer with integer milliseconds; adapters that
// store times natively convert Time arguments before they reach the driver.
func (t Time) Value() (driver.Value, error) {
	if ms, ok := t.Millis(); ok {
		return ms, nil
	}
	return nil, nil
}
