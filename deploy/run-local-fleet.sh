#!/usr/bin/env bash
# The main job on one machine with no accounts: builds in release, starts OPS, paper engines and the
# bundled demo strategy, prints where the dashboard/API is, and a PnL summary when it stops.
#
#   deploy/run-local-fleet.sh [--duration SECONDS] [--engines N] [--rate SIGNALS_PER_SECOND] [--port PORT]
#
# Ctrl-C (or the end of --duration) stops the strategy, prints the PnL, and stops OPS and the engines
# cleanly. State is kept in ./run/ so a second run resumes where the first stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=0
engines=2
rate=5
port=8080
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --engines) engines="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run-local-fleet: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$engines" =~ ^[1-9][0-9]?$ ]] || { echo "run-local-fleet: --engines must be 1-99" >&2; exit 2; }

bash deploy/install-deps.sh
echo "run-local-fleet: building (release)..."
run="$PWD/run"
mkdir -p "$run/logs"
for product in engine-paper ops demo-strategy; do
  swift build -c release --product "$product" > "$run/logs/build.log" 2>&1 || {
    grep -E "error" "$run/logs/build.log" | head -20 >&2; echo "run-local-fleet: build failed (run/logs/build.log)" >&2; exit 1; }
done
bin="$(swift build -c release --show-bin-path)"
export FLEET_SECRET="${FLEET_SECRET:-$(cat "$run/fleet-secret" 2>/dev/null || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | tee "$run/fleet-secret")}"
export OPS_API_TOKEN="${OPS_API_TOKEN:-$(cat "$run/ops-token" 2>/dev/null || head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' | tee "$run/ops-token")}"

# Each engine is one venue account; the demo's two models trade on different accounts.
models=("momentum-v1" "meanrev-v2")
{
  echo "engines:"
  for i in $(seq 1 "$engines"); do
    printf '  - id: paper-%d\n    venue: PAPER\n    address: 127.0.0.1:%d\n' "$i" $((7100 + i))
    if [ "$i" -le 2 ]; then printf '    models: [%s]\n' "${models[$((i - 1))]}"; fi
  done
} > "$run/fleet.yaml"
[ -f "$run/strategy_weights.json" ] || echo '{"demo": {"momentum-v1": 3, "meanrev-v2": 1}}' > "$run/strategy_weights.json"

pids=()
stop() {
  trap - INT TERM
  trap '' PIPE  # if our output pipe died with the Ctrl-C, still stop everything
  # Background jobs of a script ignore SIGINT, so the strategy is stopped with SIGTERM.
  [ -n "${strategy_pid:-}" ] && kill -TERM "$strategy_pid" 2>/dev/null && wait "$strategy_pid" 2>/dev/null || true
  echo
  echo "== PnL by model and venue (GET /dash/pnl) =="
  "$bin/ops" pnl --url "http://127.0.0.1:$port" || echo "(OPS did not answer)"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "run-local-fleet: stopped; logs in run/logs/, state in run/"
}
trap 'stop; exit 0' INT TERM

for i in $(seq 1 "$engines"); do
  setsid "$bin/engine-paper" --id "paper-$i" --listen "127.0.0.1:$((7100 + i))" --metrics-listen "127.0.0.1:$((9100 + i))" \
    --data-dir "$run/paper-$i" --seed "$i" > "$run/logs/paper-$i.log" 2>&1 &
  pids+=($!)
done
setsid "$bin/ops" serve --config "$run/fleet.yaml" --listen "127.0.0.1:$port" --state-dir "$run/ops" > "$run/logs/ops.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 100); do
  up=$(curl -s "http://127.0.0.1:$port/status" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["engines_up"])' 2>/dev/null || echo 0)
  [ "$up" = "$engines" ] && break
  sleep 0.2
done
if [ "${up:-0}" != "$engines" ]; then
  echo "run-local-fleet: the fleet did not come up; see run/logs/" >&2
  tail -5 "$run"/logs/*.log >&2
  stop
  exit 1
fi

cat <<INFO
run-local-fleet: OPS and $engines paper engine(s) are up.
  API:        http://127.0.0.1:$port   (GET /status, /engines, /dash/pnl, /metrics)
  token:      OPS_API_TOKEN=$OPS_API_TOKEN  (for POST /strategy/signal, /kill, /resume)
  engines:    metrics on http://127.0.0.1:9101/metrics ... ; ledgers in run/paper-*/
  strategy:   demo-strategy posting $rate signal(s)/s$( [ "$duration" != 0 ] && echo " for ${duration}s" )
Press Ctrl-C to stop.
INFO

"$bin/demo-strategy" --url "http://127.0.0.1:$port" --rate "$rate" --duration "$duration" \
  --symbols "BTCUSDT.PAPER,ETHUSDT.PAPER,SOLUSDT.PAPER" &
strategy_pid=$!
wait "$strategy_pid" || true
strategy_pid=""
stop
