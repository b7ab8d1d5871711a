#!/usr/bin/env bash
# Installs the Debian packages Tocsin builds and tests with (as root, only what is missing),
# and fetches the real peers (Prometheus, node_exporter, VictoriaMetrics, Alertmanager) unpacked into .cache/peers, never
# installed as services. Usage: scripts/deps.sh [--peers] (--peers: also what the tests need)
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(build-essential cmake ninja-build ccache clang libclang-rt-14-dev pkg-config git curl ca-certificates openssl
      libboost-dev libboost-program-options-dev libyaml-cpp-dev libcurl4-openssl-dev libre2-dev
      libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev libdeflate-dev libsnappy-dev librocksdb-dev nlohmann-json3-dev python3 docker-compose)
# For the tests only: the browser the web UI test drives (packages without services).
[[ ${1:-} == --peers ]] && PKGS+=(chromium chromium-driver)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
updated=0
if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "deps: missing packages: ${missing[*]} (run as root or: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  echo "deps: installing ${missing[*]}"
  apt-get update -q >/dev/null && updated=1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ ${1:-} == --peers ]]; then
  peers=.cache/peers
  if [[ ! -x $peers/root/usr/bin/prometheus || ! -x $peers/root/usr/bin/prometheus-node-exporter ||
        ! -x $peers/root/usr/bin/victoria-metrics || ! -x $peers/root/usr/bin/prometheus-alertmanager ]]; then
    echo "deps: fetching prometheus, prometheus-node-exporter, victoria-metrics and prometheus-alertmanager (unpacked into $peers, not installed)"
    mkdir -p "$peers"
    ((updated)) || apt-get update -q >/dev/null || true
    (cd "$peers" && apt-get download prometheus prometheus-node-exporter victoria-metrics prometheus-alertmanager >/dev/null &&
      for f in *.deb; do dpkg -x "$f" root; done && rm -f ./*.deb)
  fi
fi
