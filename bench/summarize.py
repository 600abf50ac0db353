#!/usr/bin/env python3
"""Summarize bench/run.sh sweeps: for each configuration and run, the highest offered
REGISTER rate with 0 failed calls and rtd1 p99 < --p99 ms (and SIPp starting at least 95 %
of the offered rate), then the median over runs.

Usage: summarize.py [--p99 20] NAME=FILE.jsonl[,FILE.jsonl...] ...
       summarize.py --gobench FILE     (go test -bench output: medians per benchmark)
Prints a markdown table.
"""
import argparse, json, re, statistics, sys


def gobench(path):
    runs = {}
    for line in open(path):
        m = re.match(r"^(Benchmark\S+)\s+\d+\s+(.*)$", line)
        if not m:
            continue
        vals = dict((unit, float(v)) for v, unit in re.findall(r"([\d.]+) (\S+)", m.group(2)))
        runs.setdefault(m.group(1), []).append(vals)
    print("| benchmark | runs | ns/op (median) | B/op | allocs/op |")
    print("|---|---|---|---|---|")
    for name, vs in runs.items():
        med = lambda k: statistics.median(v[k] for v in vs) if all(k in v for v in vs) else float("nan")
        print(f"| {name} | {len(vs)} | {med('ns/op'):,.0f} | {med('B/op'):,.0f} | {med('allocs/op'):,.0f} |")


def best(path, p99):
    top = None
    try:
        rows = [json.loads(line) for line in open(path) if line.strip()]
    except OSError:
        return None, None, 0
    repeated = sum(1 for r in rows if r.get("repeated"))
    rows = [r for r in rows if not r.get("repeated")]
    for r in rows:
        good = (r["rc"] == 0 and r["failed"] == 0 and r["ok"] == r["calls"]
                and r["p99"] is not None and r["p99"] < p99
                and r["achieved"] >= 0.95 * r["rate"])
        if good and (top is None or r["rate"] > top["rate"]):
            top = r
    return top, rows, repeated


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--p99", type=float, default=20)
    ap.add_argument("--gobench")
    ap.add_argument("configs", nargs="*")
    a = ap.parse_args()
    if a.gobench:
        return gobench(a.gobench)
    print(f"| configuration | best rate per run (REGISTER/s; 0 failures, p99 < {a.p99:g} ms) | median | server CPU at that rate (% of one core, per run) | steps repeated (missed once, or SIPp stalled) |")
    print("|---|---|---|---|---|")
    for spec in a.configs:
        name, files = spec.rsplit("=", 1)
        rates, cpus, stalled = [], [], 0
        for f in files.split(","):
            top, rows, repeated = best(f, a.p99)
            if rows is None:
                continue
            stalled += repeated
            rates.append(top["rate"] if top else 0)
            cpus.append(f"{top['cpu']:.0f}" if top and top["cpu"] is not None else "-")
        if not rates:
            print(f"| {name} | not measured | - | - | - |")
            continue
        print(f"| {name} | {', '.join(f'{r:,}' for r in rates)} | **{statistics.median(rates):,.0f}** | {', '.join(cpus)} | {stalled} |")


if __name__ == "__main__":
    sys.exit(main())
