#!/usr/bin/env bash
# Configures, builds and runs every test, then runs each fuzz target
# briefly. Build output goes to ./build (and ./build-fuzz for the fuzz
# targets).
set -euo pipefail
cd "$(dirname "$0")/.."
# The code's layout first: it takes a second.
tools/format.sh --check
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON
cmake --build build
ctest --test-dir build --output-on-failure --timeout 600 "$@"
# Every entrance's fuzz target, for a few seconds each (tools/fuzz.sh runs
# them as long as asked).
tools/fuzz.sh all "${ORCA_FUZZ_SECONDS:-10}"
