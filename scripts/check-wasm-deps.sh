#!/usr/bin/env bash
# The browser bundle stays lean.
#
#   scripts/check-wasm-deps.sh          no server-only crate is compiled into
#                                       the wasm (cargo tree; no build needed)
#   scripts/check-wasm-deps.sh --size   after a release build (make build):
#                                       what a first Dashboard view transfers
#                                       (main wasm + its JS, brotli) stays
#                                       within WASM_FIRST_LOAD_BUDGET_KB
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Brotli bytes for the first Dashboard view; the Dashboard is in the main
# module, every other page a lazy chunk (app/src/routes.rs).
BUDGET_KB="${WASM_FIRST_LOAD_BUDGET_KB:-250}"

if [ "${1:-}" = "--size" ]; then
  pkg="target/site/pkg"
  for f in leitstand.wasm.br leitstand.js.br; do
    [ -f "$pkg/$f" ] || { echo "no $pkg/$f: run 'make build' (release, precompressed) first" >&2; exit 2; }
  done
  wasm=$(stat -c %s "$pkg/leitstand.wasm.br")
  js=$(stat -c %s "$pkg/leitstand.js.br")
  raw=$(stat -c %s "$pkg/leitstand.wasm")
  chunks=$(find "$pkg" -maxdepth 1 -name '*.wasm' ! -name leitstand.wasm | wc -l)
  lazy=$(find "$pkg" -maxdepth 1 -name '*.wasm.br' ! -name leitstand.wasm.br -printf '%s\n' | awk '{s+=$1} END {print s+0}')
  total=$(( (wasm + js + 1023) / 1024 ))
  echo "first Dashboard view: wasm $((wasm / 1024)) KB + js $((js / 1024)) KB brotli = ${total} KB (budget ${BUDGET_KB} KB); main module ${raw} bytes raw; ${chunks} lazy chunks, $((lazy / 1024)) KB brotli, loaded by the pages that need them"
  if [ "$total" -gt "$BUDGET_KB" ]; then
    echo "the first load is over its budget of ${BUDGET_KB} KB brotli" >&2
    exit 1
  fi
  exit 0
fi

tree="$(cargo tree -p frontend --target wasm32-unknown-unknown -e normal --prefix none --format '{p}')"
forbidden='^(sqlx|sqlx-core|sqlx-postgres|tokio|axum|hyper|tower-http|leptos_axum|argon2|zstd|reqwest|mio|socket2|utoipa|utoipa-gen|utoipa-axum|metrics|metrics-exporter-prometheus|metrics-process|jsonschema|proptest|tikv-jemallocator|tikv-jemalloc-sys) '
if bad="$(grep -E "$forbidden" <<<"$tree" | sort -u)"; [ -n "$bad" ]; then
  echo "server-only crates reach the wasm build:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "wasm dependency check: $(sort -u <<<"$tree" | wc -l) crates, none server-only"

# Resources decode with the same JSON reader as server functions
# (app/src/resource.rs); Leptos' default resource would compile every
# Deserialize impl a second time.
if stray="$(grep -rnE '\bResource::new(_[a-z]+)?\(|[^A-Za-z_]Resource<' app/src --include='*.rs' | grep -v '^app/src/resource.rs:')"; then
  echo "a resource with Leptos' default codec (use crate::resource::resource / JsonResource, or page_resource):" >&2
  echo "$stray" >&2
  exit 1
fi
