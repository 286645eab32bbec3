#!/usr/bin/env bash
# Installs what the tests need and runs every test: unit, multi-process integration (the real
# binaries), the C interop client; then the benchmark harness in its quick mode. .ci/run calls
# exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh --test
make -s -C Tests/CClient
swift build --build-tests 2>&1 | grep -vE "^(\[[0-9]+/[0-9]+\]|Building for|Compiling|Write|Fetching|Computing|Computed|Creating|Working copy|Build complete)" || true
swift build --build-tests >/dev/null  # fail here if the build failed
set +e
swift test --skip-build 2>&1 | tee .build/test-output.txt
status=${PIPESTATUS[0]}
set -e
passed=$(grep -E '^✔ Test .* passed' .build/test-output.txt | grep -vc '^✔ Test run' || true)
failed=$(grep -E '^✘ Test .* failed' .build/test-output.txt | grep -vc '^✘ Test run' || true)
echo "$passed passed, $failed failed"
[ "$status" = 0 ] || exit "$status"
# The benchmark harness, briefly and small (debug build: the numbers mean nothing, it shows it runs).
bash deploy/bench.sh --quick
