#!/bin/bash
# Many orcactl processes submitting to one orcad at once: counts requests
# that got no answer. Usage: tools/wire_stress.sh [ROUNDS] [CLIENTS]
# (defaults 60 and 6: 360 submissions of 100 orders each). Each orcactl
# has 10 s; one that takes longer is counted as unanswered. Run it beside
# other work (or two of it at once) to see how the node fares on a busy
# machine. Needs a build in build/.
set -u
rounds=${1:-60}
clients=${2:-6}
bin=$(cd "$(dirname "$0")/.." && pwd)/build/tools
dir=$(mktemp -d /tmp/orca-wire-stress.XXXXXX)
trap 'kill $node 2>/dev/null; rm -rf "$dir"' EXIT
echo '{"providers": {"notify": {"kind": "simulated"}}}' > "$dir/node.json"
"$bin/orcad" --data "$dir/data" --listen 127.0.0.1:0 --config "$dir/node.json" \
  2> "$dir/log" &
node=$!
for _ in $(seq 50); do
  grep -q "listening on" "$dir/log" && break
  sleep 0.1
done
address=$(grep -o "listening on [0-9.:]*" "$dir/log" | awk '{print $3}')
flow=$(dirname "$0")/../flows/examples/order-to-invoice.json
"$bin/orcactl" --node "$address" flow create "$flow" > /dev/null
"$bin/orcactl" --node "$address" flow publish "Order to invoice" > /dev/null
orders=$(dirname "$0")/../flows/examples/orders.jsonl
python3 - "$dir" "$rounds" "$clients" "$orders" <<'PY'
import json, sys
d, rounds, clients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
order = json.loads(open(sys.argv[4]).readline())
for c in range(clients):
    for r in range(rounds):
        with open(f"{d}/batch-{c}-{r}.jsonl", "w") as f:
            for i in range(100):
                order["id"] = f"S-{c}-{r}-{i}"
                f.write(json.dumps(order) + "\n")
PY
SECONDS=0
for c in $(seq 0 $((clients - 1))); do
  (
    for r in $(seq 0 $((rounds - 1))); do
      timeout 10 "$bin/orcactl" --node "$address" order submit \
        "$dir/batch-$c-$r.jsonl" > /dev/null 2>&1 || echo unanswered
    done
  ) > "$dir/client-$c" &
done
wait $(jobs -p | grep -v "^$node$")
unanswered=$(cat "$dir"/client-* | wc -l)
echo "$((rounds * clients)) submissions from $clients orcactl processes at once" \
  "in $SECONDS s: $unanswered unanswered"
[ "$unanswered" -eq 0 ]
