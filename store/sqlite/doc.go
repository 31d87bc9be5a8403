// Package sqlite is the embedded default store: one SQLite file,
// <dataDir>/contactd.db, through the pure-Go modernc.org/sqlite driver, so
// contactd runs with no outside database.
//
// The file is in WAL mode. Writes go through a pool of exactly one connection
// whose transactions begin IMMEDIATE, so concurrent writers in this process
// queue in Go instead of failing with SQLITE_BUSY; busy_timeout covers other
// processes. Reads use a separate small pool of read-only connections, which
// WAL lets run alongside the writer. Foreign keys are enforced.
package sqlite
