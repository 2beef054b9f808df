"""Figures of Lighthouse reports, for scripts/lighthouse-compare.sh.

  lighthouse-figures.py run REPORT LABEL   one run's line (and its console errors)
  lighthouse-figures.py summary DIR        medians per variant and page of
                                           DIR/<variant>-<page>-<round>.json;
                                           exits 1 if a variant logged console errors
"""
import collections
import glob
import json
import os
import statistics
import sys

COLUMNS = ["performance", "TBT ms", "script ms", "style+layout ms", "paint ms", "CPU benchmark"]


def figures(path):
    """One report's figures by name, its console errors and the machine's speed."""
    r = json.load(open(path))
    a = r["audits"]
    # Where the main thread's time went (Lighthouse's groups, simulated at 4x):
    # a change to the page's CSS moves style and layout, one to its code script.
    work = {i["group"]: i["duration"] for i in a["mainthread-work-breakdown"]["details"]["items"]}
    return {
        "performance": round(r["categories"]["performance"]["score"] * 100),
        "TBT ms": round(a["total-blocking-time"]["numericValue"]),
        "LCP ms": round(a["largest-contentful-paint"]["numericValue"]),
        "script ms": round(work.get("scriptEvaluation", 0)),
        "style+layout ms": round(work.get("styleLayout", 0)),
        "paint ms": round(work.get("paintCompositeRender", 0)),
        "CPU benchmark": round(r["environment"]["benchmarkIndex"]),
        "console errors": [str(i.get("description", ""))[:200]
                           for i in a["errors-in-console"].get("details", {}).get("items", [])],
    }


def run(path, label):
    f = figures(path)
    print(label, "performance", f["performance"], "TBT", f["TBT ms"], "ms, LCP", f["LCP ms"],
          "ms; main thread: script", f["script ms"], "style+layout", f["style+layout ms"],
          "paint", f["paint ms"], "ms; CPU benchmark", f["CPU benchmark"])
    for error in f["console errors"]:
        print("  console error:", error)


def summary(directory):
    # Per variant and page: each column's runs, and the number of runs with console errors.
    runs = collections.defaultdict(lambda: collections.defaultdict(list))
    errors = collections.Counter()
    for path in glob.glob(f"{directory}/*-*-*.json"):
        name, page, _ = os.path.basename(path)[:-5].rsplit("-", 2)
        f = figures(path)
        for c in COLUMNS:
            runs[(name, page)][c].append(f[c])
        errors[(name, page)] += bool(f["console errors"])
    print("\n| variant | page | " + " | ".join(f"{c}, median (runs)" for c in COLUMNS)
          + " | runs with console errors |\n|---|---|" + "---|" * (len(COLUMNS) + 1))
    for (name, page), columns in sorted(runs.items()):
        cells = [f"{statistics.median(columns[c]):g} ({', '.join(map(str, sorted(columns[c])))})"
                 for c in COLUMNS]
        print(f"| {name} | {page} | " + " | ".join(cells) + f" | {errors[(name, page)]} |")
    # A front end that fails (a panic while hydrating, say) does less work and
    # scores well: its figures are not a result.
    failed = sorted({name for (name, _), count in errors.items() if count})
    if failed:
        print(f"\nconsole errors in variant(s) {', '.join(failed)}: not comparable (see the runs above)")
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "summary":
        summary(sys.argv[2])
    else:
        sys.exit(__doc__)
