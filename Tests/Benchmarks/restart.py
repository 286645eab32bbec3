#!/usr/bin/env python3
"""Engine restart after SIGKILL with a large ledger, timed to READY=1 (sd_notify).

Fills an engine-paper ledger with --orders orders through the real RPC (fleet-bench submit),
then three times: SIGKILL the engine, start it again with NOTIFY_SOCKET pointing at a datagram
socket of ours, and time from exec to the READY=1 it sends once recovery and reconciliation are
done. Prints one JSON line and one markdown row with the median, like fleet-bench.

  restart.py --engine BIN --bench BIN --data-dir DIR --config FILE --port P --metrics-port M --orders N
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request


def start(args, notify_path=None):
    env = dict(os.environ)
    log = open(os.path.join(args.data_dir, "engine.log"), "a")
    if notify_path:
        env["NOTIFY_SOCKET"] = notify_path
    return subprocess.Popen(
        [args.engine, "--id", "restart-1", "--listen", f"127.0.0.1:{args.port}",
         "--metrics-listen", f"127.0.0.1:{args.metrics_port}", "--data-dir", args.data_dir,
         "--config", args.config, "--log-level", "warning"],
        env=env, stdout=log, stderr=log)


def wait_ready_http(args, engine, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine.poll() is not None:
            sys.exit(f"restart: engine exited with {engine.returncode}; see {args.data_dir}/engine.log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.metrics_port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.05)
    sys.exit("restart: engine did not become ready")


def ledger_orders(args):
    # The engine's own count, over its metrics endpoint would need a metric; ask SQLite directly.
    import sqlite3
    path = os.path.join(args.data_dir, "restart-1.ledger.sqlite")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM orders").fetchone()[0]
    finally:
        db.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("engine", "bench", "data-dir", "config"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--metrics-port", type=int, required=True)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.makedirs(args.data_dir, exist_ok=True)

    engine = start(args)
    wait_ready_http(args, engine)
    print(f"restart: filling the ledger with {args.orders} orders...", file=sys.stderr, flush=True)
    subprocess.run(
        [args.bench, "submit", "--port", str(args.port), "--concurrency", "256", "--count", str(args.orders),
         "--duration", "100000", "--warmup", "0"], check=True, stdout=subprocess.DEVNULL)
    timings = []
    for _ in range(args.runs):
        engine.send_signal(signal.SIGKILL)  # no shutdown path: whatever was in flight is cut
        engine.wait()
        notify_path = os.path.join(args.data_dir, "notify.sock")
        if os.path.exists(notify_path):
            os.unlink(notify_path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(notify_path)
        sock.settimeout(60)
        began = time.monotonic()
        engine = start(args, notify_path)
        while True:
            message = sock.recv(4096).decode(errors="replace")
            if "READY=1" in message.split("\n"):
                break
        timings.append((time.monotonic() - began) * 1000)
        sock.close()
    orders = ledger_orders(args)
    engine.send_signal(signal.SIGTERM)
    engine.wait()
    median = statistics.median(timings)
    print(json.dumps({"bench": "engine-restart", "orders_in_ledger": orders, "runs_ms": [round(t, 1) for t in timings],
                      "median_ms": round(median, 1)}))
    print(f"| engine-restart | SIGKILL, {orders:,} orders in ledger, to READY=1 | median of {len(timings)} "
          f"| {median:.0f} ms | runs: {', '.join(f'{t:.0f}' for t in timings)} ms | | 0 |")


if __name__ == "__main__":
    main()
