package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockKey is the advisory lock key serialising migrations
// (an arbitrary constant: "contactd" in ASCII, truncated to 63 bits).
const migrationLockKey = 0x636f6e7461637464

var dialect = sqlstore.Dialect{
	Name:      "postgres",
	NullsLast: " NULLS LAST",
	ForUpdate: " FOR UPDATE",
	FTSMatch:  `search @@ plainto_tsquery('english', %s)`,
	IndexTicket: func(ctx context.Context, tx sqlstore.DB, id, doc string) error {
		_, err := tx.Exec(ctx, `UPDATE tickets SET search = to_tsvector('english', $2) WHERE id = $1`, id, doc)
		return err
	},
	TextCast:      "::text",
	MigrationLock: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLockKey),
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
}

// defaultConnectTimeout bounds each new connection (dial, startup and
// authentication) when the URL sets no connect_timeout. The pool makes a
// connection apart from the caller's context (a caller that gives up does
// not cancel it), so without a bound a server that accepts and never
// answers — one half started, a proxy in front of one that is down, a
// lost network — holds a pool slot for as long as the TCP connection
// lives; once every slot is held so, every query waits out its caller's
// deadline even after the server is back (post-call work retried from
// the outbox, for one).
const defaultConnectTimeout = 5 * time.Second

// Open connects to the database at url (postgres:// or postgresql://),
// checks it is reachable and migrates the schema. Close the returned Store
// when done.
func Open(ctx context.Context, url string, log *slog.Logger) (store.Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may echo the URL, password included; keep it out.
		return nil, errors.New("store/postgres: invalid database URL")
	}
	// A hardened audit log (Harden) lives in its own schema; put it last
	// on the search_path so unqualified audit_log finds it.
	sp := cfg.ConnConfig.RuntimeParams["search_path"]
	if sp == "" {
		sp = `"$user", public`
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = sp + ", " + AuditSchema
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store/postgres: connect to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("store/postgres: %w", err)
	}
	d := &db{q: pool, pool: pool}
	if err := sqlstore.Migrate(ctx, d, dialect, sub, log); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store/postgres: %w", err)
	}
	log.Debug("store: opened postgres", "host", cfg.ConnConfig.Host, "database", cfg.ConnConfig.Database)
	return sqlstore.New(d, dialect, func() error { pool.Close(); return nil }), nil
}

// mapErr maps pgx errors onto sqlstore's, keeping the original.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", sqlstore.ErrNoRows, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %w", sqlstore.ErrUnique, err)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: %w", sqlstore.ErrForeignKey, err)
		}
	}
	return err
}

// convArgs turns sqlstore.Time into what a timestamptz parameter takes.
func convArgs(args []any) []any {
	for i, a := range args {
		if t, ok := a.(sqlstore.Time); ok {
			if tt, set := t.Truncated(); set {
				args[i] = tt
			} else {
				args[i] = nil
			}
		}
	}
	return args
}

// querier is what *pgxpool.Pool and pgx.Tx share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type db struct {
	q    querier
	pool *pgxpool.Pool // nil inside a transaction
	tx   pgx.Tx
}

func (d *db) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := d.q.Exec(ctx, q, convArgs(args)...)
	if err != nil {
		return 0, mapErr(err)
	}
	return tag.RowsAffected(), nil
}

func (d *db) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	rs, err := d.q.Query(ctx, q, convArgs(args)...)
	if err != nil {
		return nil, mapErr(err)
	}
	return rows{rs}, nil
}

func (d *db) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return row{d.q.QueryRow(ctx, q, convArgs(args)...)}
}

func (d *db) InTx(ctx context.Context, fn func(sqlstore.DB) error) error {
	if d.pool == nil {
		return fn(d)
	}
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		return fn(&db{q: tx, tx: tx})
	})
	return mapErr(err)
}

type rows struct{ rs pgx.Rows }

func (r rows) Next() bool             { return r.rs.Next() }
func (r rows) Scan(dest ...any) error { return mapErr(r.rs.Scan(dest...)) }
func (r rows) Err() error             { return mapErr(r.rs.Err()) }
func (r rows) Close()                 { r.rs.Close() }

type row struct{ r pgx.Row }

func (r row) Scan(dest ...any) error { return mapErr(r.r.Scan(dest...)) }
