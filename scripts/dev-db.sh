#!/usr/bin/env bash
# Recreates the database the sqlx query macros check against at compile time
# (only needed when changing SQL; builds use the committed .sqlx/ data).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
URL="${DEV_DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="${DEV_DATABASE_NAME:-leitstand_dev}"
psql "$URL" -qX -v ON_ERROR_STOP=1 -c "drop database if exists $DB with (force)" -c "create database $DB"
for f in "$ROOT"/migrations/*.sql; do
  psql "${URL%/*}/$DB" -qX -v ON_ERROR_STOP=1 -f "$f" >/dev/null
done
echo "DATABASE_URL=${URL%/*}/$DB"
