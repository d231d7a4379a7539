#!/usr/bin/env bash
# run.sh -- every benchmark suite of docs/performance.md, one after the other, with short defaults
# (make bench). The figures in docs/performance.md come from the individual commands it names,
# with more repetitions; this is the quick way to see them all on a new machine.
#   bench/run.sh                # env QUICK=0 for the documented durations
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=$root/build/bin
quick=${QUICK:-1}
"$root/scripts/bootstrap.sh" --bench || exit 1
section() { printf '\n== %s\n' "$*"; }
rc=0
section "engine micro-benchmarks"
taskset -c 1 "$bin/sim_bench" --benchmark_min_time=$([[ $quick = 1 ]] && echo 0.1 || echo 0.3) || rc=1
section "PHOLD: citybed against ns-3 and a plain priority queue"
RUNS=$([[ $quick = 1 ]] && echo 1 || echo 3) "$here/phold/compare.sh" || rc=1
section "broker against the minimal Beast server (wrk)"
DURATION=$([[ $quick = 1 ]] && echo 4 || echo 10) "$here/broker/run.sh" || rc=1
section "driver against wrk"
DURATION=$([[ $quick = 1 ]] && echo 4 || echo 8) LO=80 HI=100 STEP=10 "$here/driver/run.sh" || rc=1
section "simulator memory and set-up: the rollout-100 scenario (about a million sources)"
"$bin/setup_bench" "$root/scenarios/rollout-100.json" || rc=1
section "latency knee of the super-city scenario"
SPEEDS=$([[ $quick = 1 ]] && echo "50 200 400" || echo "20 50 100 150 200 250 300 350 400") WALL=$([[ $quick = 1 ]] && echo 8 || echo 20) \
  "$here/knee/sweep.sh" "$root/scenarios/super-city.json" || rc=1
section "overload: three times the broker's capacity for 60 s (docs/reliability.md)"
"$here/overload/run.sh" "${TMPDIR:-/tmp}/citybed-overload" || rc=1
exit $rc
