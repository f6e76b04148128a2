#!/usr/bin/env bash
# Local PostgreSQL for the Postgres/Hyperdrive tests: install (Debian) if missing, start the
# cluster, create the role and the database if missing. Idempotent; meant for root (CI, dev box).
#   PG_USER / PG_PASSWORD / PG_DB / PG_PORT override the defaults (app / app / app_test / 5432).
# Prints the connection string on the last line.
set -euo pipefail

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  echo
  echo "Usage: bash scripts/pg-local.sh   (as root)"
  exit 0
fi

PG_USER="${PG_USER:-app}"
PG_PASSWORD="${PG_PASSWORD:-app}"
PG_DB="${PG_DB:-app_test}"
PG_PORT="${PG_PORT:-5432}"

if [ "$(id -u)" -ne 0 ]; then
  echo "pg-local.sh: run as root (it uses apt-get and pg_ctlcluster)" >&2
  exit 1
fi

# Installed means a server binary, not only a cluster listed: after `apt-get remove postgresql-15`
# the cluster's configuration stays (and pg_lsclusters still lists it) while the server is gone.
server_installed() { compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; }
if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(pg_lsclusters -h 2>/dev/null)" ] || ! server_installed; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's postgresql package creates and starts-on-boot cluster "<ver> main".
  apt-get install -y -qq postgresql >/dev/null
fi

# First cluster listed (Debian creates exactly one: "<version> main").
read -r PG_VERSION PG_CLUSTER _ < <(pg_lsclusters -h | head -n 1)
if [ -z "${PG_VERSION:-}" ]; then
  echo "pg-local.sh: no cluster found; create one with pg_createcluster" >&2
  exit 1
fi

status="$(pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {print $4}')"
if [ "$status" != "online" ]; then
  # --skip-systemctl-redirect: there is no systemd in containers/CI.
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start
fi

# Wait until it accepts connections (pg_ctlcluster normally waits already).
for _ in $(seq 1 30); do
  if su postgres -c "pg_isready -q -p $PG_PORT"; then break; fi
  sleep 1
done
su postgres -c "pg_isready -p $PG_PORT" >/dev/null

psql_su() { su postgres -c "psql -p $PG_PORT -v ON_ERROR_STOP=1 -qAtX $*"; }

# Role: create if missing, always (re)set the password so the script converges.
if [ "$(psql_su "-c \"SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'\"")" != "1" ]; then
  psql_su "-c \"CREATE ROLE \\\"$PG_USER\\\" LOGIN CREATEDB PASSWORD '$PG_PASSWORD'\""
else
  psql_su "-c \"ALTER ROLE \\\"$PG_USER\\\" LOGIN CREATEDB PASSWORD '$PG_PASSWORD'\""
fi

if [ "$(psql_su "-c \"SELECT 1 FROM pg_database WHERE datname = '$PG_DB'\"")" != "1" ]; then
  psql_su "-c \"CREATE DATABASE \\\"$PG_DB\\\" OWNER \\\"$PG_USER\\\"\""
fi

# Debian's default pg_hba.conf already allows md5/scram password auth for host 127.0.0.1/32 and ::1.
# Check that TCP + password really works.
PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -qAtX -c 'SELECT 1' >/dev/null

echo "postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
