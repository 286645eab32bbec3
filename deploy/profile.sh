#!/usr/bin/env bash
# Profiles engine-paper under closed-loop SubmitOrder load with perf (DWARF call graphs) and prints
# where its CPU goes: per thread, per library, and the inclusive cost of the hot-path functions.
# Also prints the engine's CPU time per order. Release build; run deploy/bench.sh first to build.
#
#   deploy/profile.sh [--concurrency N] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
concurrency=256
seconds=4
while [ $# -gt 0 ]; do
  case "$1" in
    --concurrency) concurrency="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "profile: unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v perf >/dev/null || { echo "profile: needs perf (apt-get install linux-perf)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
bin="$(swift build -c release --show-bin-path)"
bench="$(swift build -c release --package-path Tests/Benchmarks --show-bin-path)/fleet-bench"
export FLEET_SECRET="profile-fleet-secret-0123456789"
printf 'risk:\n  rate_limit: {orders_per_second: 1000000, burst: 1000000}\n  symbol_rate_limit: {orders_per_second: 1000000, burst: 1000000}\n' \
  > "$work/engine.yaml"
"$bin/engine-paper" --id profile-1 --listen 127.0.0.1:17500 --metrics-listen 127.0.0.1:19500 --data-dir "$work" \
  --config "$work/engine.yaml" --log-level warning > "$work/engine.log" 2>&1 &
engine=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:19500/readyz >/dev/null 2>&1 && break; sleep 0.1; done
ticks() { awk '{print $14+$15}' "/proc/$engine/stat"; }
"$bench" submit --port 17500 --concurrency "$concurrency" --duration $((seconds + 2)) --warmup 1 > "$work/bench.txt" &
load=$!
sleep 1.5
before=$(ticks)
perf record -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$engine" -o "$work/perf.data" -- sleep "$seconds" >/dev/null 2>&1
after=$(ticks)
wait "$load"
grep '^|' "$work/bench.txt"
rate=$(grep -o '"achieved_per_s":[0-9.]*' "$work/bench.txt" | cut -d: -f2)
awk -v t=$((after - before)) -v s="$seconds" -v r="${rate:-0}" \
  'BEGIN { if (r > 0) printf "engine CPU: %.2f cores, %.0f µs per order\n", t/100/s, t/100/s*1e6/r }'
echo "--- CPU by library (self)"
perf report -i "$work/perf.data" --no-children --sort dso -g none 2>/dev/null | grep '%' | head -8
echo "--- inclusive, hot path"
perf report -i "$work/perf.data" --children --sort sym -g none 2>/dev/null | grep '%' \
  | grep -E 'Engine.*(submit|send|apply|flush|record)|Ledger|PaperBook|AuditTrail|GroupCommit|fdatasync|sqlite3_step|ServerConnectionHandler|SwiftProtobuf.*serial|FrameDecoder' \
  | head -25 | cut -c1-160
