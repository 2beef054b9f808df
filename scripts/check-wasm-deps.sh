#!/usr/bin/env bash
# Fails when a server-only crate would be compiled into the browser bundle.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tree="$(cargo tree -p frontend --target wasm32-unknown-unknown -e normal --prefix none --format '{p}')"
forbidden='^(sqlx|sqlx-core|sqlx-postgres|tokio|axum|hyper|tower-http|leptos_axum|argon2|zstd|reqwest|mio|socket2|utoipa|utoipa-gen|utoipa-axum|metrics|metrics-exporter-prometheus|metrics-process|jsonschema) '
if bad="$(grep -E "$forbidden" <<<"$tree" | sort -u)"; [ -n "$bad" ]; then
  echo "server-only crates reach the wasm build:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "wasm dependency check: $(sort -u <<<"$tree" | wc -l) crates, none server-only"
