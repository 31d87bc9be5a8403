// Package sqlstore is the store.Store written once for both SQL dialects.
//
// The SQLite and Postgres packages each provide a DB (a thin adapter over
// database/sql or pgxpool) and a Dialect (the few places where the SQL must
// differ); everything else — queries, JSON encoding of nested fields, time
// handling, error wrapping and the migration runner — lives here so the two
// implementations cannot drift apart.
//
// Queries are written with Postgres placeholders ($1, $2, …), which the
// modernc SQLite driver also binds by number. Times travel as
// Time values so each adapter can store them natively (INTEGER milliseconds in
// SQLite, timestamptz in Postgres); the zero time is stored as NULL.
package sqlstore
