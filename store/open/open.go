// Package open picks a store implementation from configuration. It is apart
// from package store so that store (imported by everyone for its types) does
// not import the SQL drivers, and so the implementations can import store.
package open

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/postgres"
	"github.com/contactd/contactd/store/sqlite"
)

// Open returns the store configured by databaseURL: an empty URL is the
// embedded SQLite file in dataDir, a postgres:// or postgresql:// URL is
// Postgres. Anything else is an error. The schema is migrated before Open
// returns.
func Open(ctx context.Context, databaseURL, dataDir string, log *slog.Logger) (store.Store, error) {
	switch u := strings.TrimSpace(databaseURL); {
	case u == "":
		return sqlite.Open(ctx, dataDir, log)
	case hasScheme(u, "postgres://"), hasScheme(u, "postgresql://"):
		return postgres.Open(ctx, u, log)
	default:
		scheme, _, _ := strings.Cut(u, ":")
		return nil, fmt.Errorf("store: unsupported database URL scheme %q (want empty for SQLite, or postgres://)", scheme)
	}
}

func hasScheme(u, scheme string) bool {
	return len(u) >= len(scheme) && strings.EqualFold(u[:len(scheme)], scheme)
}
