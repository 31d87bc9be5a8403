#!/usr/bin/env bash
# test-postgres.sh — make sure a local PostgreSQL is running and has a role
# and database the tests may use, then print the URL for
# CONTACTD_TEST_DATABASE_URL. Works on a machine whose Postgres trusts local
# connections and on a fresh Debian install (peer/scram auth).
#
# With --admin it prints a superuser's URL instead (for
# CONTACTD_TEST_ADMIN_DATABASE_URL: the db-harden tests act as the DBA):
# the postgres role where local TCP trusts it, else a test-only superuser
# contactd_dba that it creates (as root).
set -euo pipefail
mode=${1:-}
url="postgres://contactd:contactd@127.0.0.1:5432/contactd?sslmode=disable"
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    ver=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 || true
  fi
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "PostgreSQL is not running on 127.0.0.1:5432 and could not be started" >&2
  exit 1
fi
if ! psql "$url" -Atqc 'select 1' >/dev/null 2>&1; then
  psql_admin=(psql -v ON_ERROR_STOP=1 -Atq -d postgres)
  if [ "$(id -u)" -ne 0 ]; then psql_admin=(psql -v ON_ERROR_STOP=1 -Atq -h 127.0.0.1 -U postgres -d postgres); fi
  as_postgres "${psql_admin[@]}" -c "DO \$\$BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='contactd') THEN
      CREATE ROLE contactd LOGIN CREATEDB PASSWORD 'contactd';
    ELSE ALTER ROLE contactd LOGIN CREATEDB PASSWORD 'contactd'; END IF; END\$\$;" >&2
  if [ -z "$(as_postgres "${psql_admin[@]}" -c "SELECT 1 FROM pg_database WHERE datname='contactd'")" ]; then
    as_postgres "${psql_admin[@]}" -c "CREATE DATABASE contactd OWNER contactd" >&2
  fi
fi
psql "$url" -Atqc 'select 1' >/dev/null
if [ "$mode" = "--admin" ]; then
  admin="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
  if ! psql "$admin" -Atqc 'select 1' >/dev/null 2>&1; then
    admin="postgres://contactd_dba:contactd_dba@127.0.0.1:5432/postgres?sslmode=disable"
    if ! psql "$admin" -Atqc 'select 1' >/dev/null 2>&1; then
      psql_admin=(psql -v ON_ERROR_STOP=1 -Atq -d postgres)
      as_postgres "${psql_admin[@]}" -c "DO \$\$BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='contactd_dba') THEN
          CREATE ROLE contactd_dba LOGIN SUPERUSER PASSWORD 'contactd_dba';
        ELSE ALTER ROLE contactd_dba LOGIN SUPERUSER PASSWORD 'contactd_dba'; END IF; END\$\$;" >&2
    fi
  fi
  psql "$admin" -Atqc 'select 1' >/dev/null
  echo "$admin"
  exit 0
fi
echo "$url"
