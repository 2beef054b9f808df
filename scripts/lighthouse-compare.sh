#!/usr/bin/env bash
# Compares front ends: Lighthouse (as bench-lighthouse.sh: 12.2.3, mobile
# emulation, simulated throttling, demo data, signed in) on the Dashboard,
# Events and Backups pages, with the given site roots (each a release
# front end, e.g. `cargo leptos build --release --precompress --split --frontend-only`
# with LEPTOS_SITE_ROOT set) served in turn by the release server, for
# ROUNDS rounds, so that every variant sees the same machine. Prints each
# run and the medians; appends nothing. (Not a `bench-*.sh`: `make bench`
# runs every one of those, and this one needs its variants named.)
# A variant that logs an error to the console on some page (a panic while
# hydrating does less work and scores well) fails the comparison.
#
# A variant whose server side differs too (the lazy functions' names, which
# the server reads to list a page's chunks) names its own server binary
# after a comma; the others use target/release/leitstand.
#
#   scripts/with-test-pg.sh scripts/lighthouse-compare.sh 3 new=target/site old=/tmp/site-old,/tmp/leitstand-old
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-bench.sh"
FIGURES="$(dirname "${BASH_SOURCE[0]}")/lighthouse-figures.py"

[ $# -ge 2 ] || { echo "usage: $0 ROUNDS NAME=SITE_ROOT..." >&2; exit 2; }
ROUNDS="$1"; shift
# The variants, read once: NAME=SITE[,BIN]. Each site a release front end:
# a debug build (what `make test` leaves in target/site) is several times
# slower and not what users get. A release build is precompressed; a debug
# build is not.
NAMES=(); SITES=(); BINS=()
for spec in "$@"; do
  site="${spec#*=}"; server="$BIN"
  case "$site" in *,*) server="${site#*,}"; site="${site%%,*}";; esac
  [ -f "$site/pkg/leitstand.wasm.br" ] || {
    echo "$site is not a release front end (no pkg/leitstand.wasm.br): build one with 'make build'" >&2; exit 2; }
  NAMES+=("${spec%%=*}"); SITES+=("$site"); BINS+=("$server")
done
lighthouse_ready
DB="$(new_db)"
URL="$(bench_db_url "$DB")"
OUT="$(mktemp -d)"
trap 'stop_server; drop_db "$DB"; rm -rf "$OUT"' EXIT

demo_server_signed_in "$URL"
stop_server
for round in $(seq 1 "$ROUNDS"); do
  for i in "${!NAMES[@]}"; do
    name="${NAMES[$i]}"
    BIN="${BINS[$i]}" LEITSTAND_SITE_ROOT="${SITES[$i]}" start_server "$URL"
    lighthouse_signed_in "$OUT"
    for page in $LH_PAGES; do
      report="$OUT/$name-$page-$round.json"
      lighthouse_run "$page" "$report" performance,best-practices
      python3 "$FIGURES" run "$report" "$name $page round $round, load $(cut -d' ' -f1 /proc/loadavg):"
    done
    stop_server
  done
done

python3 "$FIGURES" summary "$OUT"
