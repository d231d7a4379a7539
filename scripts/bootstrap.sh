#!/usr/bin/env bash
# bootstrap.sh [--bench] -- install the Debian 12 packages citybed needs, and only those missing.
#
# Idempotent: when everything is present it prints one line and changes nothing.
#   --bench   also the tools of the side-by-side benchmarks (wrk, nginx, ns-3, linux-perf).
# Needs root (or password-less sudo) only when something is missing.
set -euo pipefail

build_pkgs=(g++ cmake make ninja-build git pkg-config ca-certificates curl python3 python3-jsonschema
            libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libeigen3-dev nlohmann-json3-dev catch2 libbenchmark-dev
            libcli11-dev libgoogle-perftools-dev libssl-dev libre2-dev librocksdb-dev liblmdb-dev libsqlite3-dev
            clang libclang-rt-14-dev)  # the last two: libFuzzer and the sanitizers (scripts/fuzz.sh)
bench_pkgs=(wrk nginx-light libns3-dev libsimdjson-dev util-linux procps)

want=("${build_pkgs[@]}")
[[ ${1:-} == --bench ]] && want+=("${bench_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if (( ${#missing[@]} == 0 )); then
  echo "bootstrap: all ${#want[@]} packages present"
  exit 0
fi

echo "bootstrap: installing ${#missing[@]} missing package(s): ${missing[*]}"
if (( EUID == 0 )); then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "bootstrap: not root and no password-less sudo; please run as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Try without refreshing the package lists first (fast when they are recent), then refresh.
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "bootstrap: done"
