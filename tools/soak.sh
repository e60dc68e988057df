#!/usr/bin/env bash
# Soak: the crash test for longer. Runs the SIGKILL crash test ROUNDS times
# (default 10), each with a new seed, ORDERS orders (default 50000) and KILLS
# kills (default 100). Each kill lands while a run takes orders, events and
# cancels; after each, the store is checked to hold everything acknowledged
# so far. Stops at the first failure.
#
#   tools/soak.sh [ROUNDS] [ORDERS] [KILLS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
orders=${2:-50000}
kills=${3:-100}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target orca_durability_tests orca_crash_worker
# Copies of the programs, so that the build directory may change meanwhile.
bin=$(mktemp -d)
log=$bin/log
trap 'rm -rf "$bin"' EXIT
cp build/tests/orca_durability_tests build/tests/orca_crash_worker "$bin"/
for round in $(seq 1 "$rounds"); do
  seed=$(( $(date +%s) + round ))
  echo "soak round $round/$rounds: $orders orders, $kills kills, seed $seed"
  # The round's data directories are kept when it fails, to be looked into.
  if ! ORCA_KEEP_TEST_DIRS=1 ORCA_CRASH_ORDERS=$orders ORCA_CRASH_KILLS=$kills \
       ORCA_CRASH_SEED=$seed ORCA_CRASH_WORKER=$bin/orca_crash_worker \
       "$bin"/orca_durability_tests 2>"$log"; then
    cat "$log"
    echo "soak: round $round failed; its directories are kept (above)"
    exit 1
  fi
  sed -n 's/^kept //p' "$log" | xargs -r rm -rf
done
echo "soak: $rounds rounds passed"
