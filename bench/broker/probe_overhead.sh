#!/usr/bin/env bash
# probe_overhead.sh -- what the per-class service metrics cost (issue 12: ≤ 3 % of upsert
# throughput): the broker's single-entity upsert rate under wrk with the metrics on and off
# (--no-service-metrics), alternated RUNS times in one sitting; prints each run, the medians and
# their ratio. Server on CPU 0, wrk on CPU 1, loopback only; every run bounded by run.sh.
#   bench/broker/probe_overhead.sh        # env RUNS=5 DURATION=8
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-5} DURATION=${DURATION:-8}
on=() off=()
rate() { ANCHOR=0 UPSERT_ONLY=1 DURATION=$DURATION BROKER_ARGS="$1" "$here/run.sh" | awk '$1 == "citybed-upsert" { print $2 }'; }
for i in $(seq "$RUNS"); do
  a=$(rate "") b=$(rate "--no-service-metrics")
  echo "run $i: metrics on $a req/s, off $b req/s"
  on+=("$a") off+=("$b")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m_on=$(median "${on[@]}") m_off=$(median "${off[@]}")
awk -v a="$m_on" -v b="$m_off" 'BEGIN { printf "median: on %.0f, off %.0f req/s; on/off %.3f (cost %.1f %%)\n", a, b, a / b, 100 * (1 - a / b) }'
