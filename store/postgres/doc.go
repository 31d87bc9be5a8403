// Package postgres is the production store: Postgres through pgx's
// connection pool, required when several contactd nodes share one database.
//
// Open migrates the schema inside one transaction that first takes a
// transaction-scoped advisory lock, so nodes starting together apply each
// migration exactly once. The database URL may carry pgx pool settings
// (pool_max_conns, …) and search_path to put the tables in their own schema.
package postgres
