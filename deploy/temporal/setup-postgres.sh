#!/bin/sh
# Creates (first start) or upgrades (new server version) Temporal's two PostgreSQL databases with the
# schema tool of the admin-tools image. Idempotent: `create` of an existing database fails harmlessly.
set -eu
PLUGIN=postgres12
HOST=${POSTGRES_HOST:-postgresql}
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12
export SQL_PASSWORD="${POSTGRES_PASSWORD}"

until nc -z -w 5 "$HOST" 5432; do echo "waiting for PostgreSQL at $HOST:5432"; sleep 2; done

for db in temporal temporal_visibility; do
  dir=temporal
  [ "$db" = temporal_visibility ] && dir=visibility
  temporal-sql-tool --plugin "$PLUGIN" --ep "$HOST" -p 5432 -u "$POSTGRES_USER" --db "$db" create || echo "database $db exists"
  # setup-schema -v 0.0 only initialises the version table of an empty database; update-schema does the rest.
  temporal-sql-tool --plugin "$PLUGIN" --ep "$HOST" -p 5432 -u "$POSTGRES_USER" --db "$db" setup-schema -v 0.0 || echo "schema of $db already initialised"
  temporal-sql-tool --plugin "$PLUGIN" --ep "$HOST" -p 5432 -u "$POSTGRES_USER" --db "$db" update-schema -d "$SCHEMA_DIR/$dir/versioned"
done
echo "Temporal schemas are up to date"
