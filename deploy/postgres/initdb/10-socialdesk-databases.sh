#!/bin/sh
# Runs once, on an empty data directory (the postgres image's /docker-entrypoint-initdb.d).
# One database and one login role per service, named alike; no service can connect to
# another's database ("no service reads another service's database", enforced here).
# The same statements work against a managed PostgreSQL: run this with psql's env set.
set -eu
: "${SOCIALDESK_DB_PASSWORD:?set SOCIALDESK_DB_PASSWORD}"

for db in ingest classifier assigner sla_monitor notifier; do
  psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
       -v db="$db" -v pw="$SOCIALDESK_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'db', :'pw')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'db') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'db')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"db";
SQL
done
