#!/usr/bin/env bash
# Installs every Debian 12 package that Orca's build, tests and tools need.
# Non-interactive and safe to run again: apt-get skips what is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libcaf-dev                 # C++ Actor Framework 0.17: core, io (middleman), openssl
  libboost-dev               # Boost 1.74 headers: MSM (journey lifecycle), Beast + Asio (http provider)
  libcereal-dev              # snapshot and record serialisation
  rapidjson-dev              # JSON for flows, orders, configs and records
  liblmdb-dev lmdb-utils     # the embedded store
  libdeflate-dev             # CRC-32 of every stored record
  libre2-dev                 # linear-time regular expressions for the matches op
  clang libfuzzer-14-dev     # libFuzzer targets (tools/fuzz.sh)
  clang-format               # the layout of the code (tools/format.sh)
  catch2                     # tests (v2)
  libcli11-dev               # command-line parsing for orcad, orcactl, orca-bench
  libfmt-dev                 # formatting
  libspdlog-dev              # orcad's logging to stderr
  libssl-dev openssl         # TLS between node and clients; certificates in tests
  libgoogle-perftools-dev    # tcmalloc, the allocator of orcad and orca-bench
  python3 curl               # the HTTP API's tests (Python's standard library) and examples
  prometheus-cpp-dev         # the node's metrics in Prometheus' text format
  prometheus                 # promtool, which checks that text in the tests
  libjq-dev                  # jq programs that map shops' webhooks to orders
  libgraphviz-dev            # flow pictures as SVG (libgvc, in process)
  chromium chromium-driver   # the web console's tests, in a real browser
  python3-selenium           # drives it (through chromedriver)
  fonts-liberation           # the console's screenshots have readable text
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
