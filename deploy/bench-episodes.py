#!/usr/bin/env python3
"""When a run's tail happened: reads a `fleet-bench --latency-log FILE` and prints its episodes.

An episode is a run of requests slower than --over (ms) whose due times lie within --join (ms) of
each other. For each: when it began (ms into the measured window), its worst latency and how many
requests it held, then the gaps between episodes. A fixed gap points at something periodic (a
checkpoint interval, a timer); gaps all over the place at a high load point at queueing.

    python3 deploy/bench-episodes.py /tmp/signals-2000.txt --over 8
"""

import argparse
import sys


def load(path):
    entries = []
    try:
        lines = open(path)
    except OSError as error:
        sys.exit(f"{path}: {error.strerror}")
    with lines:
        for number, line in enumerate(lines, 1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.split()
            if len(fields) != 2:
                sys.exit(f"{path}:{number}: expected '<due ns> <latency ns>', got {line.strip()!r}")
            try:
                entries.append((int(fields[0]), int(fields[1])))
            except ValueError:
                sys.exit(f"{path}:{number}: not two integers: {line.strip()!r}")
    return sorted(entries)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("log", help="a file written by fleet-bench --latency-log")
    parser.add_argument("--over", type=float, default=None,
                        help="slow means above this many ms (default: the run's p99)")
    parser.add_argument("--join", type=float, default=30.0,
                        help="slow requests due within this many ms of each other are one episode (default 30)")
    args = parser.parse_args()

    entries = load(args.log)
    if not entries:
        print(f"{args.log}: no request succeeded, so there is no latency to place")
        return
    latencies = sorted(latency for _, latency in entries)
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    threshold = args.over * 1e6 if args.over is not None else p99
    print(f"{len(entries)} requests, p50 {p50 / 1e6:.2f} ms, p99 {p99 / 1e6:.2f} ms; "
          f"episodes above {threshold / 1e6:.2f} ms:")

    episodes = []  # [start, last, worst, count]
    for due, latency in entries:
        if latency <= threshold:
            continue
        if episodes and due - episodes[-1][1] <= args.join * 1e6:
            episode = episodes[-1]
            episode[1] = due
            episode[2] = max(episode[2], latency)
            episode[3] += 1
        else:
            episodes.append([due, due, latency, 1])

    for start, _, worst, count in episodes:
        print(f"  at {start / 1e6:8.0f} ms  worst {worst / 1e6:7.2f} ms  {count:5d} requests")
    gaps = [(b[0] - a[0]) / 1e6 for a, b in zip(episodes, episodes[1:])]
    if gaps:
        print("gaps (ms): " + " ".join(f"{gap:.0f}" for gap in gaps))


if __name__ == "__main__":
    main()
