#!/usr/bin/env bash
# run.sh -- citybed's driver (the emulation's open-loop generator) side by side with wrk, against
# the minimal Beast server of ../shared/bench/http and against citybed's broker, in one run.
# Servers pinned to CPU 0; wrk and the driver pinned to CPU 1; loopback only.
#   1. wrk -t1 -c32 on the target: its maximum (closed-loop) rate W.
#   2. The driver at offered rates from LO% to HI% of W in STEP% steps (one-region scenario, no
#      simulated network delay, 10,000 air-quality sources, 32 connections): a rate counts as
#      sustained when the run is valid (p99 executor lag <= 1 ms) and delivers >= 99 % of it
#      without errors. Prints each step and the highest sustained rate and its ratio to W.
#   3. Or, with RATES="5 50 500 5000", those offered rates (low ones show the executor's timing
#      precision when it mostly waits: p99 lag must stay <= 1 ms there too).
#   bench/driver/run.sh        # env DURATION=8 LO=60 HI=110 STEP=5 TARGETS="beast broker" RATES=""
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
anchors=${ANCHORS:-$root/../shared/bench}
DURATION=${DURATION:-8} LO=${LO:-60} HI=${HI:-110} STEP=${STEP:-5} TARGETS=${TARGETS:-"beast broker"}
bin=${BIN:-$root/build/bin/citybed}  # BIN=another build's citybed compares builds side by side
B=${ANCHOR_BUILD:-${TMPDIR:-/tmp}/citybed-anchors}/http
mkdir -p "$B"
[[ "$B/beast_min" -nt "$anchors/http/beast_min.cpp" ]] || g++ -O2 -std=c++20 "$anchors/http/beast_min.cpp" -o "$B/beast_min" -pthread
tmp=$(mktemp -d /tmp/citybed-driver.XXXXXX)
pid=""
stop() { if [[ -n $pid ]]; then kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""; fi; }
trap 'stop; rm -rf "$tmp"' EXIT

up() { curl -s -o /dev/null --max-time 1 "$1"; }
for target in $TARGETS; do
  case $target in
    beast) port=18081; taskset -c 0 "$B/beast_min" $port "$anchors/data/entity400.json" >/dev/null 2>&1 & pid=$!
           lua=$anchors/http/post.lua ;;
    broker) port=19027; taskset -c 0 "$bin" broker --port $port --log-level warn & pid=$!
            lua=$root/bench/broker/upsert.lua ;;
  esac
  for _ in $(seq 100); do up "http://127.0.0.1:$port/version" && break; sleep 0.05; done
  url=http://127.0.0.1:$port
  wrk_rate=$(timeout $((DURATION + 5)) taskset -c 1 wrk -t1 -c32 -d"${DURATION}s" -s "$lua" "$url/ngsi-ld/v1/entityOperations/upsert" |
             awk '/Requests\/sec:/ {print int($2)}')
  echo "== $target: wrk -t1 -c32 upsert: $wrk_rate req/s"
  printf '%-8s %8s %10s %10s %10s %10s %8s %6s %9s\n' target offered delivered p99_lag_ms max_lag_ms p99_lat_ms errors valid exec_cpu%
  best=0
  if [[ -n ${RATES:-} ]]; then steps=$RATES; else steps=$(for pct in $(seq "$LO" "$STEP" "$HI"); do echo $((wrk_rate * pct / 100)); done); fi
  for rate in $steps; do
    pct=$rate
    python3 "$here/scenario.py" "$rate" "$DURATION" 10000 "$url" >"$tmp/s.json"
    taskset -c 1 "$bin" run "$tmp/s.json" --out "$tmp/$target-$pct" --quiet >/dev/null 2>&1
    line=$(python3 - "$tmp/$target-$pct/summary.json" "$rate" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); rate = float(sys.argv[2]); g = s["generator"]; r = s["requests"]
# Summaries before schema citybed-summary/1 (an older BIN) had throughput_per_s and latency_ms at the top.
delivered = r["throughput"]["ok_per_wall_s"] if "throughput" in r else r["throughput_per_s"]
p99 = r["latency_ms"]["p99"] if "latency_ms" in r else s["latency_ms"]["p99"]
ok = s["valid"] and r["failed"] == 0 and delivered >= 0.99 * rate
cpu = 100 * g["cpu_seconds"] / g["wall_seconds"] if "cpu_seconds" in g else float("nan")
print("%d %.0f %.3f %.3f %.3f %d %s %.0f" % (rate, delivered, g["p99_lag_ms"], g["max_lag_ms"], p99, r["failed"],
                                             "yes" if ok else "no", cpu))
PY
)
    set -- $line
    printf '%-8s %8s %10s %10s %10s %10s %8s %6s %9s\n' "$target" "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8"
    [[ $7 == yes ]] && best=$1
  done
  awk -v t="$target" -v b="$best" -v w="$wrk_rate" 'BEGIN { printf "%s: highest sustained driver rate %d req/s = %.2f of wrk (%d req/s)\n", t, b, b / w, w }'
  stop
done
