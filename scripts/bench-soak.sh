#!/usr/bin/env bash
# The soak: BENCH_SOAK_MINUTES (default 30) of mixed load on the release
# server — 1 000 events/s (half single requests, half batches of 50), 200
# open live streams, 10 dashboard users refreshing every 5 s, a scheduled
# backup every 10 minutes. Sampled each minute: resident memory, open files
# and database connections of the server, p99 of ingest and dashboard, error
# answers. Targets: memory and open files flat after warm-up (growth < 10 %
# over the last 20 minutes, or the last two thirds of a shorter run), ingest
# p99 ≤ 50 ms and dashboard p99 ≤ 100 ms in every minute, no errors.
# Appends to BENCHMARKS.md and writes the series as an SVG beside it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-bench.sh"

MINUTES="${BENCH_SOAK_MINUTES:-30}"
DB="$(new_db)"
URL="$(bench_db_url "$DB")"
OUT="$(mktemp)"
cleanup() { stop_server; drop_db "$DB"; rm -f "$OUT"; }
trap cleanup EXIT

DATABASE_URL="$URL" "$BIN" migrate >/dev/null
KEY="$(DATABASE_URL="$URL" "$BIN" key create --name soak --scopes ingest,read --quiet)"
LEITSTAND_BACKUP_SCHEDULE="every 10m" LEITSTAND_MAX_CONNECTIONS_PER_IP=0 start_server "$URL"
echo "soak: $MINUTES min against $SERVER_URL (pid $SERVER_PID)…"
"$BENCH_BIN" soak --url "$SERVER_URL" --key "$KEY" --database-url "$URL" \
  --server-pid "$SERVER_PID" --minutes "$MINUTES" | tee "$OUT"

STAMP="$(date -u +%Y%m%dT%H%MZ)"
SVG="bench-soak-$STAMP.svg"
bench_header "Soak ($MINUTES min)"
python3 - "$OUT" "$ROOT/$SVG" "$SVG" >> "$ROOT/BENCHMARKS.md" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
mins = [r for r in rows if r["kind"] == "soak_minute"]
summary = next(r for r in rows if r["kind"] == "soak_summary")
n = len(mins)
# Warm-up: the first third of the run (10 of 30 minutes).
tail = mins[n // 3:] if n >= 3 else mins
def growth(key):
    first, last = tail[0][key], tail[-1][key]
    return (last - first) / first * 100 if first else float("nan")
ok = lambda b: "met" if b else "MISSED"
worst_ingest = max(m["ingest_p99_ms"] for m in mins)
worst_dash = max(m["dashboard_p99_ms"] for m in mins)
errors = sum(m["errors"] for m in mins)
print(f"1 000 events/s (8 clients sending single events, 2 sending batches of 50), 200 live streams, 10 dashboard users every 5 s, a backup every 10 min; {n} one-minute samples. Plot: [{sys.argv[3]}]({sys.argv[3]}).")
print()
print("| target | measured | |")
print("|---|---|---|")
print(f"| RSS growth after warm-up < 10 % | {growth('rss_kb'):+.1f} % ({tail[0]['rss_kb']/1024:.0f} → {tail[-1]['rss_kb']/1024:.0f} MB) | {ok(growth('rss_kb') < 10)} |")
print(f"| open files growth after warm-up < 10 % | {growth('fds'):+.1f} % ({tail[0]['fds']} → {tail[-1]['fds']}) | {ok(growth('fds') < 10)} |")
print(f"| ingest p99 ≤ 50 ms every minute | worst minute {worst_ingest:.1f} ms, whole run {summary['ingest_p99_ms']:.1f} ms | {ok(worst_ingest <= 50)} |")
print(f"| dashboard p99 ≤ 100 ms every minute | worst minute {worst_dash:.1f} ms, whole run {summary['dashboard_p99_ms']:.1f} ms | {ok(worst_dash <= 100)} |")
print(f"| no error answers | {errors} | {ok(errors == 0)} |")
print()
print(f"Events stored: {summary['events_stored']}; database connections {min(m['db_connections'] for m in mins)}–{max(m['db_connections'] for m in mins)}; scheduled backups that succeeded: {mins[-1]['backups_ok']}.")

# The plot: four panels, minute on the x axis.
W, H, P = 900, 170, 45
series = [("RSS (MB)", [m["rss_kb"] / 1024 for m in mins], "#2563eb"),
          ("open files", [m["fds"] for m in mins], "#7c3aed"),
          ("ingest p99 (ms)", [m["ingest_p99_ms"] for m in mins], "#059669"),
          ("dashboard p99 (ms)", [m["dashboard_p99_ms"] for m in mins], "#d97706")]
parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H * len(series)}" font-family="sans-serif" font-size="12">',
         f'<rect width="100%" height="100%" fill="#fff"/>']
for i, (label, ys, colour) in enumerate(series):
    top = i * H
    hi = max(ys) * 1.1 or 1
    x = lambda k: P + (W - 2 * P) * (k / max(n - 1, 1))
    y = lambda v: top + H - 25 - (H - 45) * (v / hi)
    parts.append(f'<text x="{P}" y="{top + 15}" fill="#111">{label} — max {max(ys):.1f}</text>')
    parts.append(f'<line x1="{P}" y1="{top + H - 25}" x2="{W - P}" y2="{top + H - 25}" stroke="#999"/>')
    parts.append(f'<text x="{P - 5}" y="{y(hi / 1.1) + 4}" text-anchor="end" fill="#555">{hi / 1.1:.0f}</text>')
    parts.append(f'<text x="{P - 5}" y="{top + H - 21}" text-anchor="end" fill="#555">0</text>')
    pts = " ".join(f"{x(k):.1f},{y(v):.1f}" for k, v in enumerate(ys))
    parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
    for k in range(0, n, max(n // 10, 1)):
        parts.append(f'<text x="{x(k):.1f}" y="{top + H - 8}" text-anchor="middle" fill="#555">{mins[k]["minute"]}</text>')
parts.append("</svg>")
open(sys.argv[2], "w").write("\n".join(parts))
PY
echo "appended to BENCHMARKS.md; plot in $SVG"
