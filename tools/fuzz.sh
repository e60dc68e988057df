#!/usr/bin/env bash
# Runs a libFuzzer target for a while: builds the fuzz targets with clang
# and sanitizers in build-fuzz/, seeds a corpus from the examples, and
# fuzzes. A crash leaves its input in build-fuzz/crashes/ and fails.
#
#   tools/fuzz.sh TARGET SECONDS     TARGET: flow order records config answer wire framing http intake
#   tools/fuzz.sh all SECONDS        each target in turn
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(flow order records config answer wire framing http intake)
if [ $# -ne 2 ]; then
  echo "usage: tools/fuzz.sh TARGET|all SECONDS (targets: ${targets[*]})" >&2
  exit 2
fi
build=build-fuzz
configure() {
  if [ ! -f "$build/build.ninja" ]; then
    CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DBUILD_TESTING=OFF -DORCA_FUZZ=ON >/dev/null
  fi
}

if [ "$1" = all ]; then
  # Every target in one build first: ninja keeps both cores busy across
  # them, where one build after another leaves one core waiting for each
  # target's last steps.
  configure
  if ! out=$(cmake --build "$build" --target "${targets[@]/#/fuzz_}" 2>&1); then
    echo "fuzz: the targets do not build" >&2
    printf '%s\n' "$out" | grep -E 'error|FAILED' | head -20 >&2
    exit 1
  fi
  for t in "${targets[@]}"; do "$0" "$t" "$2"; done
  exit 0
fi
target=$1
seconds=$2
case " ${targets[*]} " in *" $target "*) ;; *)
  echo "error: unknown fuzz target $target (targets: ${targets[*]})" >&2; exit 2;;
esac

configure
# Quiet when it builds; the compiler's errors when it does not.
if ! out=$(cmake --build "$build" --target "fuzz_$target" 2>&1); then
  echo "fuzz $target: the target does not build" >&2
  printf '%s\n' "$out" | grep -E 'error|FAILED' | head -20 >&2
  exit 1
fi

bin=$build/tests/fuzz/fuzz_$target
corpus=$build/corpus/$target
seeds=$build/seeds/$target
mkdir -p "$corpus" "$seeds" "$build/crashes"
case $target in
  flow)   cp flows/examples/*.json "$seeds/" ;;
  order)  split -l 1 flows/examples/orders.jsonl "$seeds/order-" ;;
  config) printf '%s' '{"providers": {"notify": {"kind": "simulated", "fail_when": {"field": "source", "op": "eq", "value": "X"}}, "erp": {"kind": "http", "url": "http://127.0.0.1:8080/orders", "timeout_ms": 2000}, "pay": {"kind": "remote"}}, "limits": {"orders_in_flight": 1000}}' > "$seeds/config.json" ;;
  answer) printf '\000{"fulfillment_orders": [{"source": "WH-SEA", "lines": ["1", "2"]}]}' > "$seeds/dom"
          printf '\001{"invoice_id": "INV-1"}' > "$seeds/billing" ;;
  intake) # mode byte 0: Shopify, unsigned, an order; 1: WooCommerce
          { printf '\000'; cat flows/examples/sources/shopify-order.json; } > "$seeds/shopify"
          { printf '\001'; cat flows/examples/sources/woocommerce-order.json; } > "$seeds/woocommerce" ;;
  records|wire|http) ORCA_FUZZ_SEEDS="$seeds" "$bin" -runs=0 "$seeds" >/dev/null 2>&1 ;;
  framing) # a limit of 256 bytes, then a heartbeat of 4 bytes and a direct
           # message that claims 1 GiB
           printf '\000\377\006\000\000\000\000\000\000\004%024d%s\002\000\000\000\100\000\000\000%024d' 0 abcd 0 > "$seeds/two" ;;
esac

# Inputs that once found a bug stay seeds for good.
cp tests/fuzz/regressions/"$target"-* "$seeds/" 2>/dev/null || true

log=$build/fuzz_$target.log
set +e
UBSAN_OPTIONS=halt_on_error=1 "$bin" -max_total_time="$seconds" \
  -rss_limit_mb=2048 -max_len=1048576 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$build/crashes/$target-" "$corpus" "$seeds" >"$log" 2>&1
rc=$?
set -e
execs=$( (grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" || true) \
         | grep -o '[0-9]*$' || true)
if [ $rc -ne 0 ]; then
  echo "fuzz $target: FAILED after ${seconds}s (see $log and $build/crashes/)"
  grep -E 'ERROR|SUMMARY' "$log" | head -5
  exit 1
fi
echo "fuzz $target: ${execs:-?} executions in ${seconds}s, crashes: 0"
