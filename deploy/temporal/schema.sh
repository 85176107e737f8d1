#!/bin/sh
# Temporal's schema job: creates, or upgrades to the version the server needs, the two PostgreSQL
# databases (the default store and SQL visibility) with the server's own SQL tool and the schemas
# embedded in it. Safe to run on every start: existing databases are kept and only upgraded.
# Run by the native cluster (src/dev/cluster.ts) and by compose's temporal-schema service.
# Reads the SQL tool's variables (SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD) and
# DBNAME, VISIBILITY_DBNAME; TEMPORAL_SQL_TOOL names the tool when it is not on PATH.
set -eu

tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"

prepare() {
  db="$1"
  schema="$2"
  # create-database has no "if not exists": an existing database is the one outcome to accept.
  if ! out=$(SQL_DATABASE="$db" "$tool" create-database 2>&1); then
    case "$out" in
      *"already exists"*) ;;
      *) printf '%s\n' "$out" >&2; exit 1 ;;
    esac
  fi
  # setup-schema -v 0.0 only creates the version tables; it never lowers a newer version.
  SQL_DATABASE="$db" "$tool" setup-schema -v 0.0
  SQL_DATABASE="$db" "$tool" update-schema --schema-name "$schema"
  echo "schema: $db is at the version $schema needs"
}

prepare "${DBNAME:-temporal}" postgresql/v12/temporal
prepare "${VISIBILITY_DBNAME:-temporal_visibility}" postgresql/v12/visibility
