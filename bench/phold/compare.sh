#!/usr/bin/env bash
# compare.sh -- citybed's PHOLD side by side with the anchors of ../shared/bench/phold
# (ns-3's schedulers and the plain std::priority_queue reference), RUNS times each, alternating,
# all pinned to the same core. Prints every run and the medians (and the ratio to cpp20-pq).
#   bench/phold/compare.sh                 # RUNS=5 EVENTS=20000000 CPU=1 SCHEDULERS="map calendar pq"
# Needs: build/bin/phold (make build), libns3-dev (scripts/bootstrap.sh --bench).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
anchors=${ANCHORS:-$root/../shared/bench}
RUNS=${RUNS:-5} EVENTS=${EVENTS:-20000000} CPU=${CPU:-1}
SCHEDULERS=${SCHEDULERS:-"map calendar pq"}
out=${OUT:-$(mktemp -d /tmp/citybed-phold.XXXXXX)}
mkdir -p "$out"
args=(--lps=1000 --epl=16 --events="$EVENTS" --seed=1)

[[ -x $root/build/bin/phold ]] || { echo "build/bin/phold missing: run 'make build' first" >&2; exit 1; }
for i in $(seq "$RUNS"); do
  {
    printf '%-14s %10s %9s %9s %12s\n' engine events seconds Mev/s sim_end_s
    SCHEDULERS=$SCHEDULERS CPU=$CPU EVENTS=$EVENTS "$anchors/phold/run.sh" | tail -n +2
    taskset -c "$CPU" "$root/build/bin/phold" "${args[@]}"
  } | tee "$out/run-$i.txt"
done
echo "== medians of $RUNS runs (raw tables in $out)"
"$anchors/median.sh" -c 4 "$out"/run-*.txt | tee "$out/median.txt"
awk 'NR > 1 { r[$1] = $4 } END { if (r["cpp20-pq"] > 0) printf "citybed / cpp20-pq = %.2f\n", r["citybed"] / r["cpp20-pq"];
     if (r["ns3-pq"] > 0) printf "citybed / ns3-pq   = %.2f\n", r["citybed"] / r["ns3-pq"] }' "$out/median.txt"
