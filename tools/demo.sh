#!/usr/bin/env bash
# The main job: builds Orca, starts an orcad node on a fresh LMDB directory
# (./data/demo), publishes the example flows, submits the example orders,
# sends the shipping events, takes a signed Shopify webhook, shows the
# journeys, a picture of the flow and what a hook received, and stops the
# node.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target orcad orcactl

data=data/demo
rm -rf "$data"
mkdir -p "$data"
# The example node config: a notify provider, and the Shopify and
# WooCommerce sources with their jq transforms (flows/examples/sources);
# here with a hook on every journey end, to a receiver of the demo's own.
export SHOPIFY_SECRET=demo-shopify-secret WOOCOMMERCE_SECRET=demo-woo-secret
hook_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$hook_port" > "$data/hook-deliveries.jsonl" <<'PY' &
import http.server, sys
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        sys.stdout.write(body.decode() + "\n")
        sys.stdout.flush()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
PY
receiver_pid=$!
python3 - "$hook_port" > "$data/node.json" <<'PY'
import json, sys
config = json.load(open("flows/examples/sources/node.json"))
for source in config["sources"].values():
    source["transform"] = "../../flows/examples/sources/" + source["transform"]
config["hooks"] = {"demo": {"url": f"http://127.0.0.1:{sys.argv[1]}/orca",
                            "on": ["journey_ended"]}}
print(json.dumps(config, indent=1))
PY

log="$data/orcad.log"
./build/tools/orcad --data "$data/lmdb" --listen 127.0.0.1:0 \
  --http 127.0.0.1:0 --config "$data/node.json" 2> "$log" &
node_pid=$!
trap 'kill -TERM $node_pid $receiver_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$log" && break
  sleep 0.1
done
address=$(grep -o 'listening on [^ ]*' "$log" | head -1 | cut -d' ' -f3)
http=$(grep -o 'http api on [^ ]*' "$log" | head -1 | cut -d' ' -f4)
ctl() { ./build/tools/orcactl --node "$address" "$@"; }
step() { printf '\n\033[1m$ orcactl %s\033[0m\n' "$*"; ctl "$@"; }

echo "orcad is listening on $address (HTTP API on $http), data in $data/lmdb"
step flow create flows/examples/order-to-invoice.json
step flow publish "Order to invoice"
step flow create flows/examples/test-order-flow-sample.json
step flow publish "Test Order flow sample"
step flow list
step order submit flows/examples/orders.jsonl --wait --timeout 30
for order in SO-1001 SO-1002 SO-1004; do
  step order event "$order" fulfillment_shipped
done
# A Shopify order webhook, signed as Shopify signs it, through the HTTP API.
payload=flows/examples/sources/shopify-order.json
signature=$(openssl dgst -sha256 -hmac "$SHOPIFY_SECRET" -binary "$payload" | base64)
printf '\n\033[1m$ curl -s http://%s/v1/intake/shopify -H "X-Shopify-Topic: orders/create" -H "X-Shopify-Hmac-Sha256: %s" --data-binary @%s\033[0m\n' \
  "$http" "$signature" "$payload"
curl -s "http://$http/v1/intake/shopify" -H "X-Shopify-Topic: orders/create" \
  -H "X-Shopify-Hmac-Sha256: $signature" --data-binary "@$payload"
echo
sleep 0.5
step journey list
# The same node over HTTP: the completed journeys, one JSON record each.
printf '\n\033[1m$ curl -s "http://%s/v1/journeys?state=completed&limit=3"\033[0m\n' "$http"
curl -s "http://$http/v1/journeys?state=completed&limit=3"
echo
step journey show SO-1001 --flow "Order to invoice"
step flow export "Order to invoice" --format dot
step node status
step hook list
printf '\n\033[1m$ head -c 600 %s\033[0m  (what the hook receiver got)\n' "$data/hook-deliveries.jsonl"
head -c 600 "$data/hook-deliveries.jsonl"
echo
# The web console is served by the same node, on the HTTP port.
printf '\n\033[1m$ curl -s http://%s/ | grep "<title>"\033[0m\n' "$http"
curl -s "http://$http/" | grep "<title>"
echo "The web console of this node: http://$http/"
if [ "${ORCA_DEMO_KEEP:-}" = 1 ]; then
  echo "The node keeps running for the console (ORCA_DEMO_KEEP=1); Ctrl-C stops it."
  wait "$node_pid" || true
fi

kill -TERM "$node_pid"
wait "$node_pid"
kill -TERM "$receiver_pid" 2>/dev/null || true
trap - EXIT
echo
echo "orcad stopped; its log:"
cat "$log"
