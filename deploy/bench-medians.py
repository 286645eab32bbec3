#!/usr/bin/env python3
"""Medians of a series of deploy/bench.sh runs (bench.sh --runs N calls it).

Reads each run's JSON lines (one file per run, in run order) and prints Markdown: every row's
median with each run's value in brackets, then the CPU per request, the restart case and the idle
memory the same way. The issue's targets are medians of 3 runs; this is that, computed.
"""

import json
import statistics
import sys


def load(path):
    rows = []
    with open(path) as lines:
        for line in lines:
            if line.startswith("{"):
                rows.append(json.loads(line))
    return rows


def label(row):
    if row["mode"] == "open":
        return f'{row["offered_per_s"]}/s open-loop'
    return f'closed-loop ×{row["concurrency"]}'


def cell(values, digits=0):
    """The median, then every run's value: `123 [120, 123, 130]`; blank if no run had it."""
    present = [v for v in values if v is not None]
    if not present:
        return ""
    def show(v):
        return "–" if v is None else f"{v:,.{digits}f}"
    return f"{show(statistics.median(present))} [{', '.join(show(v) for v in values)}]"


def main(paths):
    runs = [load(path) for path in paths]
    keys = []  # (bench, load) in the order the first runs list them
    for rows in runs:
        for row in rows:
            if "mode" in row and (row["bench"], label(row)) not in keys:
                keys.append((row["bench"], label(row)))

    def find(rows, key):
        return next((r for r in rows if "mode" in r and (r["bench"], label(r)) == key), None)

    out = [f"Medians of {len(runs)} runs (each run's value in brackets, in run order; the other tables are the last run's):", ""]
    out += ["| path | load | achieved /s | p50 µs | p99 µs | errors |", "|---|---|---|---|---|---|"]
    for key in keys:
        found = [find(rows, key) for rows in runs]
        def values(field):
            return [None if r is None else r[field] for r in found]
        out.append(
            f"| {key[0]} | {key[1]} | {cell(values('achieved_per_s'))} | {cell(values('p50_us'))} | "
            f"{cell(values('p99_us'))} | {cell(values('errors'))} |")

    columns = ["client", "engine", "engine-loop", "ops", "grpc-engine", "tcp-echo"]
    cpu_rows = []
    for key in keys:
        found = [find(rows, key) for rows in runs]
        per = [None if r is None else r.get("cpu_us_per_request") for r in found]
        if not any(per):
            continue
        cells = [cell([None if p is None else p.get(c) for p in per], 1) for c in columns]
        cpu_rows.append(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    if cpu_rows:
        out += ["", "CPU µs per request, medians:", ""]
        out += ["| path | load | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
        out += cpu_rows

    failures = []
    for key in keys:
        for index, rows in enumerate(runs, start=1):
            row = find(rows, key)
            if row and row.get("errors"):
                kinds = ", ".join(f"{kind} ×{count:,}" for kind, count in (row.get("error_kinds") or {}).items())
                failures.append(f"- {key[0]} {key[1]}, run {index}: {row['errors']:,} failed ({kinds or 'kinds not recorded'})")
    if failures:
        out += ["", "Failed requests:", ""] + failures

    restarts = [next((r.get("median_ms") for r in rows if r.get("bench") == "engine-restart"), None) for rows in runs]
    rss = [next((r for r in rows if r.get("bench") == "idle-rss"), None) for rows in runs]
    out.append("")
    if any(v is not None for v in restarts):
        out.append(f"- engine restart to READY=1 (each run's median of 3), ms: {cell(restarts)}")
    if any(rss):
        engine = [None if r is None else r["engine_mb"] for r in rss]
        ops = [None if r is None else r["ops_mb"] for r in rss]
        out.append(f"- idle RSS, MB: engine-paper {cell(engine, 1)}, ops {cell(ops, 1)}")
    print("\n".join(out))
    print()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: bench-medians.py RUN1.jsonl [RUN2.jsonl ...]")
    main(sys.argv[1:])
