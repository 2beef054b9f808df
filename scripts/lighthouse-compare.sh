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
      python3 - "$report" "$name $page round $round, load $(cut -d' ' -f1 /proc/loadavg):" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); a = r["audits"]
# Where the main thread's time went (Lighthouse's groups, simulated at 4x):
# a change to the page's CSS moves style and layout, one to its code script.
work = {i["group"]: i["duration"] for i in a["mainthread-work-breakdown"]["details"]["items"]}
print(sys.argv[2], "performance", round(r["categories"]["performance"]["score"] * 100),
      "TBT", round(a["total-blocking-time"]["numericValue"]), "ms, LCP",
      round(a["largest-contentful-paint"]["numericValue"]), "ms; main thread: script",
      round(work.get("scriptEvaluation", 0)), "style+layout", round(work.get("styleLayout", 0)),
      "paint", round(work.get("paintCompositeRender", 0)), "ms; CPU benchmark",
      round(r["environment"]["benchmarkIndex"]))
for item in a["errors-in-console"].get("details", {}).get("items", []):
    print("  console error:", str(item.get("description", ""))[:200])
PY
    done
    stop_server
  done
done

python3 - "$OUT" <<'PY'
import collections, glob, json, os, statistics, sys
# Per variant and page: each run's figures by name, and the runs with console errors.
runs = collections.defaultdict(lambda: (collections.defaultdict(list), [0]))
for f in glob.glob(f"{sys.argv[1]}/*-*-*.json"):
    name, page, _ = os.path.basename(f)[:-5].rsplit("-", 2)
    r = json.load(open(f)); a = r["audits"]
    work = {i["group"]: i["duration"] for i in a["mainthread-work-breakdown"]["details"]["items"]}
    figures, errors = runs[(name, page)]
    figures["performance"].append(round(r["categories"]["performance"]["score"] * 100))
    figures["TBT ms"].append(round(a["total-blocking-time"]["numericValue"]))
    figures["script ms"].append(round(work.get("scriptEvaluation", 0)))
    figures["style+layout ms"].append(round(work.get("styleLayout", 0)))
    errors[0] += a["errors-in-console"]["score"] != 1
columns = ["performance", "TBT ms", "script ms", "style+layout ms"]
print("\n| variant | page | " + " | ".join(f"{c}, median (runs)" for c in columns)
      + " | runs with console errors |\n|---|---|" + "---|" * (len(columns) + 1))
for (name, page), (figures, errors) in sorted(runs.items()):
    cells = [f"{statistics.median(figures[c]):g} ({', '.join(map(str, sorted(figures[c])))})" for c in columns]
    print(f"| {name} | {page} | " + " | ".join(cells) + f" | {errors[0]} |")
# A front end that fails (a panic while hydrating, say) does less work and
# scores well: its figures are not a result.
failed = sorted({name for (name, _), (_, errors) in runs.items() if errors[0]})
if failed:
    print(f"\nconsole errors in variant(s) {', '.join(failed)}: not comparable (see the runs above)")
    sys.exit(1)
PY
