#!/usr/bin/env bash
# sweep.sh -- find a broker's latency knee with a real scenario: run it again and again at a rising
# speed (so a rising offered load) and tabulate what the broker delivered and at what latency.
#   bench/knee/sweep.sh [SCENARIO]        # default scenarios/super-city.json
# env: SPEEDS="20 50 100 ..." (speed factors), WALL=20 (wall seconds per step), BROKER=URL (drive
# that broker instead of starting citybed's on CPU 0), THREADS=1 (threads of the started broker),
# OUT=DIR (keeps every run folder and writes knee.csv there).
# citybed's broker is pinned to CPU 0 and the emulation to CPU 1, so that the generator's own
# limit shows as invalid runs rather than as broker latency. Loopback only; every step ends by
# itself after WALL seconds plus drain.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$root/build/bin/citybed
scenario=${1:-$root/scenarios/super-city.json}
SPEEDS=${SPEEDS:-"20 50 100 200 300 350 400 450 500"}
WALL=${WALL:-20}
THREADS=${THREADS:-1}
OUT=${OUT:-$(mktemp -d /tmp/citybed-knee.XXXXXX)}
mkdir -p "$OUT"
pid=""
stop() { if [[ -n $pid ]]; then kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""; fi; }
trap stop EXIT
pin_broker="" pin_run=""
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then pin_broker="taskset -c 0"; pin_run="taskset -c 1"; fi
url=${BROKER:-}
if [[ -z $url ]]; then
  port=$((20000 + RANDOM % 20000))
  $pin_broker "$bin" broker --host 127.0.0.1 --port $port --threads "$THREADS" --log-level warn & pid=$!
  url=http://127.0.0.1:$port
  for _ in $(seq 200); do curl -s -o /dev/null --max-time 1 "$url/version" && break; sleep 0.05; done
fi
echo "# knee sweep of $(basename "$scenario") against $url; $WALL s of wall time per step"
csv=$OUT/knee.csv
echo "speed,offered_per_s,delivered_per_s,p50_ms,p99_ms,p999_ms,error_rate,valid,p99_lag_ms,broker_cpu,conn_wait_p99_ms,notifications_per_s" > "$csv"
printf '%6s %10s %10s %9s %9s %9s %8s %6s %9s %7s %9s %8s\n' speed offered/s ok/s p50_ms p99_ms p99.9_ms errors valid lag_p99 broker conn_wait notif/s
# CPU seconds the started broker has used so far (utime + stime of /proc/PID/stat); empty for BROKER=URL.
cpu() { [[ -n $pid && -r /proc/$pid/stat ]] && awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$pid/stat"; }
for s in $SPEEDS; do
  dur=$(awk -v w="$WALL" -v s="$s" 'BEGIN {printf "%ds", w * s}')
  c0=$(cpu); t0=$(date +%s.%N)
  $pin_run "$bin" run "$scenario" --broker "$url" --speed "$s" --duration "$dur" --out "$OUT/speed-$s" --quiet >/dev/null 2>&1
  c1=$(cpu); t1=$(date +%s.%N)
  busy=$(awk -v a="${c0:-}" -v b="${c1:-}" -v t0="$t0" -v t1="$t1" 'BEGIN {print (a == "" ? "" : (b - a) / (t1 - t0))}')
  python3 - "$OUT/speed-$s/summary.json" "$s" "$csv" "$busy" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
speed = float(sys.argv[2])
busy = sys.argv[4]  # the broker's CPU share over the whole step (including set-up and drain)
r, g = s["requests"], s["generator"]
l = r["latency_ms"]  # every request scheduled in the window, failures at their latency
wall = s["window"]["wall_s"]
offered = r["scheduled"] / wall           # requests per wall second
delivered = r["throughput"]["ok_per_wall_s"]
notified = s["notifications"]["in_window"] / wall
row = [speed, offered, delivered, l["p50"], l["p99"], l["p999"], r["error_rate"], s["valid"], g["p99_lag_ms"], busy,
       s["connections"]["wait_p99_ms"], notified]
print("%6g %10.0f %10.0f %9.2f %9.2f %9.2f %7.2f%% %6s %9.3f %7s %9.2f %8.0f" % (row[0], row[1], row[2], row[3], row[4],
      row[5], 100 * row[6], "yes" if row[7] else "NO", row[8], "%.0f%%" % (100 * float(busy)) if busy else "-", row[10], row[11]))
open(sys.argv[3], "a").write(",".join(str(x) for x in row) + "\n")
PY
done
echo "# table: $csv; run folders: $OUT"
