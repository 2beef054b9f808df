#!/usr/bin/env bash
# Regenerates .sqlx/ (the offline data the sqlx query macros compile
# against) from a scratch database migrated with migrations/*.sql.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
eval "export $("$ROOT/scripts/dev-db.sh" | tail -n1)"
rm -rf .sqlx && mkdir -p .sqlx
# Force the crates holding queries to recompile so every macro writes its file.
touch app/src/lib.rs server/src/lib.rs
SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$ROOT/.sqlx" cargo check --workspace --all-targets --quiet
echo "wrote $(ls .sqlx | wc -l) query files to .sqlx/"
