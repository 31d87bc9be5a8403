package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
)

// AuditOwner is the role that owns the hardened audit log: NOLOGIN, and
// the application's role must not be a member of it.
const AuditOwner = "contactd_audit"

// AuditSchema holds the audit log once it is hardened. The store puts it
// on its connections' search_path, so queries find audit_log there.
const AuditSchema = "audit"

// Harden takes the audit log out of the application's hands. The
// migrations create audit_log with triggers that refuse UPDATE, DELETE
// and TRUNCATE, but the application's role owns it (and owns the public
// schema), so it could disable the triggers or drop the table. Harden,
// run by a database administrator against the application's database
// after the migrations, moves the table and its trigger function into a
// schema owned by a NOLOGIN role (AuditOwner) and leaves the application
// only USAGE on the schema and SELECT, INSERT on the table.
//
// adminURL must point at the application's database as a role that may
// create roles and change owners (a superuser, typically postgres).
// appRole is the role contactd connects as. Harden is idempotent.
func Harden(ctx context.Context, adminURL, appRole string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if appRole == "" {
		return errors.New("store/postgres: harden: no application role given")
	}
	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		return errors.New("store/postgres: harden: invalid admin database URL")
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("store/postgres: harden: connect to %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	defer conn.Close(context.Background())

	var appSuper, exists bool
	if err := conn.QueryRow(ctx, `SELECT true, rolsuper FROM pg_roles WHERE rolname = $1`, appRole).Scan(&exists, &appSuper); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("store/postgres: harden: role %q does not exist", appRole)
		}
		return fmt.Errorf("store/postgres: harden: %w", err)
	}
	if appSuper {
		return fmt.Errorf("store/postgres: harden: role %q is a superuser, which can change anything; run contactd as an ordinary role", appRole)
	}
	if appRole == AuditOwner {
		return fmt.Errorf("store/postgres: harden: the application cannot connect as %q", AuditOwner)
	}
	// The migrations put audit_log in the first schema of the
	// application's search_path (public unless its URL sets another).
	var where string
	rows, err := conn.Query(ctx, `SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relname = 'audit_log' AND c.relkind = 'r'`)
	if err != nil {
		return fmt.Errorf("store/postgres: harden: %w", err)
	}
	schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("store/postgres: harden: %w", err)
	}
	switch {
	case len(schemas) == 0:
		return fmt.Errorf("store/postgres: harden: database %q has no audit_log: start contactd on it once (it runs the migrations), then harden", cfg.Database)
	case len(schemas) > 1:
		return fmt.Errorf("store/postgres: harden: database %q has audit_log in several schemas (%v); harden one database per contactd installation", cfg.Database, schemas)
	}
	where = schemas[0]
	from := pgx.Identifier{where}.Sanitize()

	// CREATE ROLE is cluster-wide and has no IF NOT EXISTS; another
	// database's harden may create it at the same moment.
	if _, err := conn.Exec(ctx, `DO $$BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '`+AuditOwner+`') THEN
			CREATE ROLE `+AuditOwner+` NOLOGIN;
		END IF;
	EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
	END$$`); err != nil {
		return fmt.Errorf("store/postgres: harden: create role %s: %w", AuditOwner, err)
	}
	app := pgx.Identifier{appRole}.Sanitize()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store/postgres: harden: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	steps := []string{
		// Nobody but the owner role may act as it.
		`ALTER ROLE ` + AuditOwner + ` NOLOGIN`,
		`REVOKE ` + AuditOwner + ` FROM ` + app,
		`CREATE SCHEMA IF NOT EXISTS ` + AuditSchema + ` AUTHORIZATION ` + AuditOwner,
		`ALTER SCHEMA ` + AuditSchema + ` OWNER TO ` + AuditOwner,
	}
	if where != AuditSchema {
		steps = append(steps,
			`ALTER TABLE `+from+`.audit_log SET SCHEMA `+AuditSchema,
			`ALTER FUNCTION `+from+`.audit_log_append_only() SET SCHEMA `+AuditSchema)
	}
	steps = append(steps,
		`ALTER TABLE `+AuditSchema+`.audit_log OWNER TO `+AuditOwner,
		`ALTER FUNCTION `+AuditSchema+`.audit_log_append_only() OWNER TO `+AuditOwner,
		`REVOKE ALL ON SCHEMA `+AuditSchema+` FROM PUBLIC`,
		`GRANT USAGE ON SCHEMA `+AuditSchema+` TO `+app,
		`REVOKE ALL ON `+AuditSchema+`.audit_log FROM PUBLIC`,
		`REVOKE ALL ON `+AuditSchema+`.audit_log FROM `+app,
		`GRANT SELECT, INSERT ON `+AuditSchema+`.audit_log TO `+app,
		`REVOKE ALL ON FUNCTION `+AuditSchema+`.audit_log_append_only() FROM PUBLIC`,
	)
	for _, q := range steps {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("store/postgres: harden: %s: %w", q, err)
		}
	}
	var member bool
	if err := tx.QueryRow(ctx, `SELECT pg_has_role($1, $2, 'MEMBER')`, appRole, AuditOwner).Scan(&member); err != nil {
		return fmt.Errorf("store/postgres: harden: check membership: %w", err)
	}
	if member {
		return fmt.Errorf("store/postgres: harden: role %q can act as %s (through another role it belongs to); revoke that membership first", appRole, AuditOwner)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store/postgres: harden: %w", err)
	}
	log.Info("store: audit log hardened", "database", cfg.Database, "owner", AuditOwner, "schema", AuditSchema, "app_role", appRole)
	return nil
}
