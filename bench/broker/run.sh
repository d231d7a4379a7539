#!/usr/bin/env bash
# run.sh -- citybed's broker under wrk, side by side with the minimal Beast server of
# ../shared/bench/http in the same run. Server pinned to CPU 0, wrk to CPU 1, loopback only.
# Prints one line per target, in the anchors' columns:
#   target  req/s  p50_us  p99_us  requests  errors  srv_cpu%  srv_us/req
# then the broker's memory per stored entity. The NGSI-v2 rows run against the same broker and
# entities as the NGSI-LD rows before them: v2-update (POST /v2/op/update of one ~400-byte
# entity), v2-update590 (the same information as the NGSI-LD entity, ~590 bytes), v2-GET.
# Every wrk call is bounded by `timeout`.
#   bench/broker/run.sh            # env DURATION=10 CONNS=32 SRV_CPU=0 WRK_CPU=1 ANCHOR=1 QUERY_N=100000
#                                  #     BROKER_ARGS="--no-service-metrics" UPSERT_ONLY=1
# Needs: make build, wrk, python3, and for the anchor: g++ and Boost (scripts/bootstrap.sh --bench).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
anchors=${ANCHORS:-$root/../shared/bench}
DURATION=${DURATION:-10} CONNS=${CONNS:-32} SRV_CPU=${SRV_CPU:-0} WRK_CPU=${WRK_CPU:-1}
ANCHOR=${ANCHOR:-1} QUERY_N=${QUERY_N:-100000} PORT=${PORT:-19026}
bin=$root/build/bin/citybed
[[ -x $bin ]] || { echo "build/bin/citybed missing: run 'make build' first" >&2; exit 1; }
url=http://127.0.0.1:$PORT

pid=""
stop() { if [[ -n $pid ]]; then kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""; fi; }
trap stop EXIT
trap 'exit 130' INT TERM

start_broker() {
  if curl -s -o /dev/null --max-time 1 "$url/health"; then echo "port $PORT is in use" >&2; exit 1; fi
  # shellcheck disable=SC2086
  taskset -c "$SRV_CPU" "$bin" broker --port "$PORT" --threads 1 --log-level warn --max-limit 1000 ${BROKER_ARGS:-} &
  pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null --max-time 1 "$url/health" && return 0; sleep 0.05; done
  echo "broker did not come up" >&2; exit 1
}
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }

# load NAME PATH [wrk args]: one wrk run against the broker; summary line in the anchors' format.
load() {
  local name=$1 path=$2; shift 2
  local t0; t0=$(ticks)
  timeout $((DURATION + 5)) taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$url$path" \
    >"/tmp/citybed-bench-$name.txt" 2>&1
  awk -v t="$name" -v ticks=$(( $(ticks) - t0 )) -v hz="$(getconf CLK_TCK)" -v dur="$DURATION" -v mult="${MULT:-1}" '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1e3; if (v ~ /s$/) return v * 1e6; return -1 }
    $1 == "50%" { p50 = us($2) }   $1 == "99%" { p99 = us($2) }
    /Requests\/sec:/ { rps = $2 }  / requests in / { n = $1 }
    /Socket errors:/ { err += $4 + $6 + $8 + $10 }  /Non-2xx/ { err += $NF }
    END { printf "%-16s %10.0f %8.0f %8.0f %9d %6d %8.1f %10.2f\n", t, rps * mult, p50, p99, n, err,
                 100 * ticks / hz / dur, n ? 1e6 * ticks / hz / n : 0 }' "/tmp/citybed-bench-$name.txt"
}

printf '%-16s %10s %8s %8s %9s %6s %8s %10s\n' target req/s p50_us p99_us requests errors srv_cpu% srv_us/req
if [[ $ANCHOR == 1 ]]; then
  SERVERS=beast DURATION=$DURATION CONNS=$CONNS SRV_CPU=$SRV_CPU WRK_CPU=$WRK_CPU "$anchors/http/run.sh" | tail -n +2
fi

start_broker
python3 "$here/preload.py" "$url" 10000
load citybed-upsert /ngsi-ld/v1/entityOperations/upsert -s "$here/upsert.lua"
if [[ ${UPSERT_ONLY:-0} == 1 ]]; then stop; exit 0; fi
load citybed-GET /ngsi-ld/v1/entities/x -s "$here/get.lua"
load citybed-v2-update /v2/op/update -s "$here/v2_update.lua"
V2_FULL=1 load citybed-v2-update590 /v2/op/update -s "$here/v2_update.lua"
load citybed-v2-GET /v2/entities/x -s "$here/get.lua"
MULT=100 load citybed-batch100 /ngsi-ld/v1/entityOperations/upsert -s "$here/batch100.lua"
echo "  (citybed-batch100 req/s column is entities/s: requests x 100)"
stop

# Query over QUERY_N entities (type + q, 20 results) and memory per stored entity.
start_broker
rss0=$(rss_kib)
python3 "$here/preload.py" "$url" "$QUERY_N"
rss1=$(rss_kib)
load citybed-query '/ngsi-ld/v1/entities?type=AirQualityObserved&q=no2%3E=90'
stop
awk -v a="$rss0" -v b="$rss1" -v n="$QUERY_N" 'BEGIN { printf "memory: %.0f bytes per stored ~400-byte entity (RSS %d -> %d KiB for %d entities)\n", (b - a) * 1024 / n, a, b, n }'
