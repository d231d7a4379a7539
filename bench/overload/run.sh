#!/usr/bin/env bash
# The overload test of docs/reliability.md ("Overload: shed, not suffered"): citybed's own
# open-loop driver offers three times the broker's capacity for 60 s to a `citybed broker`
# started here on loopback, then normal load again, and the figures are checked:
#   - the broker is alive and answers /health after every phase;
#   - its memory is bounded (peak RSS, sampled every 0.2 s, against the unloaded phase);
#   - the p99 latency of the admitted requests (answered 2xx) stays within 5x its unloaded value;
#   - latency is back to normal (p99 of each simulated second within 2x unloaded, no failures)
#     within 5 s after the overload stops.
# Phases, all against the same broker (bench/overload/overload.json; loads set by --speed):
#   unloaded  speed 1 for 70 s: the store fills (10,000 entities), about a third of capacity
#   probe     speed 8 for 15 s: what the broker serves at saturation (ok per wall second)
#   overload  3 x that capacity for 60 s
#   after     speed 1 for 20 s, started as soon as the overload run ends
# Traffic stays on 127.0.0.1; every phase ends by itself (fixed durations, 2 s request timeout).
# Usage: bench/overload/run.sh [OUT_DIR]   (default /tmp/citybed-overload; SHED_LAG=50ms)
# Exit status: 0 when every check holds, 1 when one fails, 2 when the test could not run.
set -euo pipefail
cd "$(dirname "$0")/../.."
CITYBED=${CITYBED:-build/bin/citybed}
OUT=${1:-/tmp/citybed-overload}
SHED_LAG=${SHED_LAG:-50ms}
SCENARIO=bench/overload/overload.json
[[ -x $CITYBED ]] || { echo "overload: $CITYBED not built (make build)" >&2; exit 2; }
mkdir -p "$OUT"
rm -rf "$OUT"/unloaded "$OUT"/probe "$OUT"/overload "$OUT"/after

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
"$CITYBED" broker --port "$port" --shed-lag "$SHED_LAG" --log-level warn > "$OUT/broker.log" 2>&1 &
broker=$!
sampler=
cleanup() {
  [[ -n $sampler ]] && kill "$sampler" 2> /dev/null || true
  kill "$broker" 2> /dev/null || true
  wait "$broker" 2> /dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do
  curl -sf "$url/health" > /dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "$url/health" > /dev/null || { echo "overload: the broker did not start (see $OUT/broker.log)" >&2; exit 2; }

# Resident memory of the broker, every 0.2 s: "phase unix_seconds kib".
phase_file=$OUT/phase
echo start > "$phase_file"
(while kill -0 "$broker" 2> /dev/null; do
   echo "$(cat "$phase_file") $(date +%s.%N) $(awk '/^VmRSS/ {print $2}' "/proc/$broker/status" 2> /dev/null)"
   sleep 0.2
 done) > "$OUT/rss.txt" &
sampler=$!

alive() { curl -sf -m 5 "$url/health" > /dev/null && kill -0 "$broker" 2> /dev/null; }
run_phase() {  # name speed simulated-seconds
  echo "$1" > "$phase_file"
  echo "overload: $1 at speed $2 for $3 s of simulated time" >&2
  local rc=0
  "$CITYBED" run "$SCENARIO" --broker "$url" --speed "$2" --duration "$3s" --out "$OUT/$1" --force --quiet \
    > "$OUT/$1.log" 2>&1 || rc=$?
  date +%s.%N > "$OUT/$1.ended"
  # 1 (an SLO failed) and 3 (an invalid run, e.g. the generator fell behind) still wrote
  # their results; they are read below.
  if [[ $rc -ne 0 && $rc -ne 1 && $rc -ne 3 ]] || [[ ! -f $OUT/$1/summary.json ]]; then
    echo "overload: the $1 run failed (exit $rc, see $OUT/$1.log)" >&2
    exit 2
  fi
  alive || { echo "overload: the broker is gone after the $1 phase" >&2; exit 1; }
}

run_phase unloaded 1 70
run_phase probe 8 120
capacity=$(python3 -c "import json; print(json.load(open('$OUT/probe/summary.json'))['requests']['throughput']['ok_per_wall_s'])")
offered=$(python3 -c "import json; s=json.load(open('$OUT/unloaded/summary.json')); print(s['requests']['throughput']['scheduled_per_simulated_s'])")
speed=$(python3 -c "print(round(3 * $capacity / $offered, 2))")
run_phase overload "$speed" "$(python3 -c "print(round(60 * $speed))")"
run_phase after 1 20
kill "$sampler" 2> /dev/null || true
sampler=
shed=$(curl -sf "$url/metrics" | awk '/^citybed_http_shed_total/ {print $2}')

python3 - "$OUT" "$capacity" "$speed" "${shed:-0}" << 'EOF'
import csv, json, sys
out, capacity, speed, shed = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
s = {p: json.load(open(f"{out}/{p}/summary.json")) for p in ("unloaded", "probe", "overload", "after")}
req = {p: s[p]["requests"] for p in s}
rss = {}
for line in open(f"{out}/rss.txt"):
    f = line.split()
    if len(f) == 3:
        rss.setdefault(f[0], []).append(int(f[2]))
peak = {p: max(v) / 1024 for p, v in rss.items()}
unloaded_p99 = req["unloaded"]["latency_ok_ms"]["p99"]
admitted_p99 = req["overload"]["latency_ok_ms"]["p99"]
# Recovery: the after run's rows (one simulated second each = one wall second at speed 1),
# counted from the overload run's end. A row is normal when its p99 is within 2x the unloaded
# p99 and nothing failed; recovered at the start of the first five normal rows in a row. Rows
# after that which are not normal are counted as relapses (shown, not hidden).
ended = float(open(f"{out}/overload.ended").read())
started = json.load(open(f"{out}/after/manifest.json"))["started_unix_us"] / 1e6
rows = [r for r in csv.DictReader(open(f"{out}/after/timeseries.csv")) if r["drain"] == "0"]
normal = [float(r["p99_ms"]) <= 2 * unloaded_p99 and int(r["failed"]) == 0 for r in rows]
recovered_at, relapses = None, []
for i in range(len(rows) - 4):
    if all(normal[i:i + 5]):
        recovered_at = float(rows[i]["t_s"])
        relapses = [{"t_s": float(r["t_s"]), "p99_ms": float(r["p99_ms"]), "failed": int(r["failed"])}
                    for r, ok in zip(rows[i:], normal[i:]) if not ok]
        break
recovery = None if recovered_at is None else started - ended + recovered_at
figures = {
    "capacity_ok_per_wall_s": capacity,
    "overload_offered_per_wall_s": req["overload"]["throughput"]["scheduled_per_simulated_s"] * speed,
    "overload_speed": speed,
    "overload_ok_per_wall_s": req["overload"]["throughput"]["ok_per_wall_s"],
    "overload_error_rate": req["overload"]["error_rate"],
    "overload_failures": req["overload"]["failures"],
    "overload_valid": s["overload"]["valid"],
    "shed_total": shed,
    "unloaded_ok_p99_ms": unloaded_p99,
    "overload_admitted_p99_ms": admitted_p99,
    "admitted_p99_ratio": admitted_p99 / unloaded_p99,
    "peak_rss_mib": peak,
    "gap_s": started - ended,
    "recovery_s": recovery,
    "relapses_after_recovery": relapses,
    "after_rows": len(rows),
}
checks = {
    "admitted p99 within 5x unloaded": figures["admitted_p99_ratio"] <= 5,
    "memory bounded (peak in overload within 64 MiB of unloaded)": peak.get("overload", 1e9) <= peak["unloaded"] + 64,
    "recovered within 5 s": recovery is not None and recovery <= 5,
    "overload was an overload (shed > 0)": shed > 0,
}
figures["checks"] = checks
json.dump(figures, open(f"{out}/overload.json", "w"), indent=1)
print(json.dumps(figures, indent=1))
for name, ok in checks.items():
    print(("pass  " if ok else "FAIL  ") + name)
sys.exit(0 if all(checks.values()) else 1)
EOF
