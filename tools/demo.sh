#!/usr/bin/env bash
# The main job: builds Orca and validates and prints the example flows.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target orcactl
for flow in flows/examples/*.json; do
  ./build/tools/orcactl flow validate "$flow"
  echo
done
