package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/contactd/contactd/store/postgres"
)

// dbHarden takes the audit log out of the application role's hands
// (postgres.Harden). A database administrator runs it once after the
// first start, and again after upgrades that add migrations.
func dbHarden(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("db-harden", flag.ContinueOnError)
	adminURL := fs.String("admin-url", "", "URL of the application's database as a superuser (required)")
	appURL := fs.String("database-url", envOr("CONTACTD_DATABASE_URL", ""), "the URL contactd connects with (env CONTACTD_DATABASE_URL); its user is the application role")
	appRole := fs.String("app-role", "", "the role contactd connects as (default: the user in -database-url)")
	logLevel := fs.String("log-level", envOr("CONTACTD_LOG_LEVEL", "info"), "log level")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: contactd db-harden --admin-url postgres://postgres@host/db [--app-role ROLE]

Moves the audit log into schema "audit" owned by the NOLOGIN role
"contactd_audit" and leaves the application role only SELECT and INSERT
on it, so contactd (or anyone holding its password) cannot change, delete
or drop audit entries. Postgres only; idempotent.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *adminURL == "" {
		fs.Usage()
		return errors.New("db-harden: --admin-url is required")
	}
	role := *appRole
	if role == "" {
		if *appURL == "" {
			return errors.New("db-harden: give --app-role, or --database-url / CONTACTD_DATABASE_URL to take it from")
		}
		u, err := url.Parse(*appURL)
		if err != nil || u.User == nil || u.User.Username() == "" {
			return errors.New("db-harden: the database URL names no user; give --app-role")
		}
		role = u.User.Username()
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := postgres.Harden(ctx, *adminURL, role, newLogger(*logLevel)); err != nil {
		return err
	}
	fmt.Fprintf(out, "audit log hardened: schema %s owned by %s; role %s may only read and append\n", postgres.AuditSchema, postgres.AuditOwner, role)
	return nil
}
