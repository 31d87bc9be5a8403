package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"modernc.org/sqlite"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/internal/sqlstore"
)

// FileName is the database file's name inside the data directory.
const FileName = "contactd.db"

// readConns is the size of the read-only pool.
const readConns = 4

//go:embed migrations/*.sql
var migrations embed.FS

// dialect is SQLite's side of the shared SQL.
var dialect = sqlstore.Dialect{
	Name:     "sqlite",
	FTSMatch: `id IN (SELECT ticket_id FROM tickets_fts WHERE tickets_fts MATCH %s)`,
	FTSQuery: ftsQuery,
	// A ticket's document is found by its FTS rowid (tickets_fts_rows):
	// ticket_id is not indexed in the FTS table.
	IndexTicket: func(ctx context.Context, tx sqlstore.DB, id, doc string) error {
		if _, err := tx.Exec(ctx, `DELETE FROM tickets_fts WHERE rowid = (SELECT fts_rowid FROM tickets_fts_rows WHERE ticket_id = $1)`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tickets_fts (ticket_id, doc) VALUES ($1, $2)`, id, doc); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO tickets_fts_rows (ticket_id, fts_rowid) VALUES ($1, last_insert_rowid())
			ON CONFLICT (ticket_id) DO UPDATE SET fts_rowid = excluded.fts_rowid`, id)
		return err
	},
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)))`,
}

// Open opens (creating if needed) <dataDir>/contactd.db and migrates its
// schema. Close the returned Store when done.
func Open(ctx context.Context, dataDir string, log *slog.Logger) (store.Store, error) {
	if dataDir == "" {
		return nil, errors.New("store/sqlite: empty data dir")
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("store/sqlite: create data dir: %w", err)
	}
	return OpenFile(ctx, filepath.Join(dataDir, FileName), log)
}

// OpenFile is Open for an explicit database file path. Switching a new
// file to WAL needs a moment of exclusive access, and SQLite answers a
// concurrent opener SQLITE_BUSY without waiting; such opens are retried.
func OpenFile(ctx context.Context, path string, log *slog.Logger) (store.Store, error) {
	for attempt := 1; ; attempt++ {
		s, err := openFile(ctx, path, log)
		var se *sqlite.Error
		if err == nil || attempt == 20 || !errors.As(err, &se) || se.Code()&0xff != 5 { // SQLITE_BUSY and its extended codes
			return s, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("store/sqlite: %w (after %w)", ctx.Err(), err)
		case <-time.After(time.Duration(attempt) * 25 * time.Millisecond):
		}
	}
}

func openFile(ctx context.Context, path string, log *slog.Logger) (store.Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: %w", err)
	}
	if strings.ContainsAny(abs, "?#") {
		return nil, fmt.Errorf("store/sqlite: database path %q must not contain '?' or '#'", abs)
	}
	const common = "_busy_timeout=10000&_foreign_keys=1&_synchronous=NORMAL"
	w, err := sql.Open("sqlite", "file:"+abs+"?"+common+"&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: open %s: %w", abs, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	// The writer creates the file and switches it to WAL before any reader
	// connects, and the schema exists before anyone reads it.
	db := &db{w: w, r: w}
	if err := sqlstore.Migrate(ctx, db, dialect, mustSub(migrations, "migrations"), log); err != nil {
		w.Close()
		return nil, fmt.Errorf("store/sqlite: %s: %w", abs, err)
	}
	r, err := sql.Open("sqlite", "file:"+abs+"?"+common+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store/sqlite: open %s for reading: %w", abs, err)
	}
	r.SetMaxOpenConns(readConns)
	r.SetMaxIdleConns(readConns)
	db.r = r
	log.Debug("store: opened sqlite", "path", abs)
	return sqlstore.New(db, dialect, func() error {
		return errors.Join(r.Close(), w.Close())
	}), nil
}

// ftsQuery turns search words into an FTS5 query: every word must occur
// (as a prefix), and nothing the user types is FTS5 syntax.
func ftsQuery(q string) string {
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range words {
		words[i] = `"` + w + `"*`
	}
	return strings.Join(words, " ")
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sub
}

// mapErr maps driver errors onto sqlstore's, keeping the original.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", sqlstore.ErrNoRows, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case 2067, 1555: // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
			return fmt.Errorf("%w: %w", sqlstore.ErrUnique, err)
		case 787: // SQLITE_CONSTRAINT_FOREIGNKEY
			return fmt.Errorf("%w: %w", sqlstore.ErrForeignKey, err)
		}
	}
	return err
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// db routes writes and transactions to the single-connection writer pool and
// plain reads to the reader pool.
type db struct {
	w, r *sql.DB
	gate writeGate
}

func (d *db) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	if err := d.gate.acquire(ctx); err != nil {
		return 0, err
	}
	defer d.gate.release()
	return execOn(ctx, d.w, q, args)
}

func (d *db) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	return queryOn(ctx, d.r, q, args)
}

func (d *db) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return row{d.r.QueryRowContext(ctx, q, args...)}
}

func (d *db) InTx(ctx context.Context, fn func(sqlstore.DB) error) error {
	if err := d.gate.acquire(ctx); err != nil {
		return err
	}
	defer d.gate.release()
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	if err := fn(txDB{tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return mapErr(tx.Commit())
}

// txDB runs everything on one transaction.
type txDB struct{ tx *sql.Tx }

func (t txDB) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	return execOn(ctx, t.tx, q, args)
}

func (t txDB) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	return queryOn(ctx, t.tx, q, args)
}

func (t txDB) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return row{t.tx.QueryRowContext(ctx, q, args...)}
}

func (t txDB) InTx(ctx context.Context, fn func(sqlstore.DB) error) error {
	return fn(t) // already in one; SQLite has no nested BEGIN
}

func execOn(ctx context.Context, q querier, query string, args []any) (int64, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n, mapErr(err)
}

func queryOn(ctx context.Context, q querier, query string, args []any) (sqlstore.Rows, error) {
	rs, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	return rows{rs}, nil
}

type rows struct{ rs *sql.Rows }

func (r rows) Next() bool             { return r.rs.Next() }
func (r rows) Scan(dest ...any) error { return mapErr(r.rs.Scan(dest...)) }
func (r rows) Err() error             { return mapErr(r.rs.Err()) }
func (r rows) Close()                 { _ = r.rs.Close() }

type row struct{ r *sql.Row }

func (r row) Scan(dest ...any) error { return mapErr(r.r.Scan(dest...)) }
