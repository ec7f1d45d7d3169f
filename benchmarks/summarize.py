#!/usr/bin/env python3
"""summarize.py: the tables of docs/PERFORMANCE.md from a JMH JSON result (benchmarks/run.sh writes one).

    benchmarks/summarize.py [benchmarks/target/jmh-result.json]

For each benchmark: the mean with JMH's 99.9 % error, the median and the best iteration (on a shared machine the best
iteration is the one least disturbed by other processes), and for migrations the rate in GB/s and the ratio of the
migration rate to the raw-copy rate of the same run. Scores of MigrateBenchmark and DispatchBenchmark are ns per 4 KiB
page; GB/s = 4096 / (ns per page).
"""
import json
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "benchmarks/target/jmh-result.json"
results = json.load(open(path))


def key(r):
    name = r["benchmark"].rsplit(".", 2)
    params = ",".join(f"{k}={v}" for k, v in sorted((r.get("params") or {}).items()))
    return f"{name[-2]}.{name[-1]}" + (f" [{params}]" if params else "")


def iterations(r):
    return [x for fork in r["primaryMetric"]["rawData"] for x in fork]


rows = {}
for r in results:
    its = sorted(iterations(r))
    pm = r["primaryMetric"]
    rows[key(r)] = {
        "mean": pm["score"], "err": pm["scoreError"], "unit": pm["scoreUnit"], "n": len(its),
        "median": its[len(its) // 2] if its else float("nan"), "best": its[0] if its else float("nan"),
        "secondary": {k: v["score"] for k, v in (r.get("secondaryMetrics") or {}).items()},
    }

print("| benchmark | mean ± 99.9 % | median | best | unit | n |")
print("| --- | ---: | ---: | ---: | --- | ---: |")
for k, v in rows.items():
    err = "" if v["err"] != v["err"] else f" ± {v['err']:.1f}"
    print(f"| {k} | {v['mean']:.1f}{err} | {v['median']:.1f} | {v['best']:.1f} | {v['unit']} | {v['n']} |")


def gbps(ns):
    return 4096 / ns


pairs = []
for k in rows:
    if k.startswith("MigrateBenchmark.anon4k") and "RawCopy" not in k:
        pairs.append((k, "MigrateBenchmark.anon4kRawCopy"))
    if k.startswith("MigrateBenchmark.thp") and "RawCopy" not in k:
        pairs.append((k, "MigrateBenchmark.thpRawCopy"))
if pairs:
    print()
    print("| migration | ns/page (median / best) | GB/s (median / best) | raw copy GB/s (median / best) "
          "| ratio to raw copy (median / best) | TLB flushes per batch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for k, raw in pairs:
        if raw not in rows:
            continue
        m, r = rows[k], rows[raw]
        s = m["secondary"]
        flushes = f"{s['tlbFlushes'] / s['batches']:.2f}" if s.get("batches") else "-"
        print(f"| {k} | {m['median']:.0f} / {m['best']:.0f} | {gbps(m['median']):.2f} / {gbps(m['best']):.2f} "
              f"| {gbps(r['median']):.2f} / {gbps(r['best']):.2f} "
              f"| {r['median'] / m['median']:.2f} / {r['best'] / m['best']:.2f} | {flushes} |")

a = rows.get("MigrateBenchmark.anon4kAsync [trace=on]")
for direct, dispatched in (("direct", "dispatched"), ("callOnly", "dispatchOnly")):
    d, dd = rows.get("DispatchBenchmark." + direct), rows.get("DispatchBenchmark." + dispatched)
    if not (d and dd):
        continue
    print()
    for what in ("median", "best"):
        cost = dd[what] - d[what]
        line = f"dispatch cost, {dispatched} - {direct} ({what}): {dd[what]:.1f} - {d[what]:.1f} = {cost:.1f} ns per folio"
        if a:
            line += f" = {100 * cost / a[what]:.1f} % of a 4 KiB ASYNC migration ({a[what]:.0f} ns)"
        print(line)
