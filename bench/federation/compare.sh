#!/usr/bin/env bash
# compare.sh -- runs scenarios/national-federation.json once per topology and prints what users
# got back, side by side: recall, complete answers, partial answers, staleness and latency per
# region-pair class, and the brokers' forwarding traffic (docs/federation.md, docs/performance.md).
#   bench/federation/compare.sh                      # TOPOLOGIES="star hierarchy mesh none"
#   DURATION=4m SPEED=2 bench/federation/compare.sh  # shorter runs, before the fault (4m-7m)
# Needs build/bin/citybed (make build). Each run takes the scenario's duration in wall time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
TOPOLOGIES=${TOPOLOGIES:-"star hierarchy mesh none"}
SCENARIO=${SCENARIO:-$root/scenarios/national-federation.json}
out=${OUT:-$(mktemp -d /tmp/citybed-federation.XXXXXX)}
mkdir -p "$out"
[[ -x $root/build/bin/citybed ]] || { echo "build/bin/citybed missing: run 'make build' first" >&2; exit 1; }
for t in $TOPOLOGIES; do
  python3 - "$SCENARIO" "$t" "$out/$t.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["federation"]["topology"] = sys.argv[2]
d["name"] = d["name"] + "-" + sys.argv[2]
json.dump(d, open(sys.argv[3], "w"), indent=1)
PY
  args=(run "$out/$t.json" --out "$out/$t" --force --quiet)
  [[ -n ${DURATION:-} ]] && args+=(--duration "$DURATION")
  [[ -n ${SPEED:-} ]] && args+=(--speed "$SPEED")
  echo "== $t" >&2
  "$root/build/bin/citybed" "${args[@]}" >&2 || true  # an SLO miss exits 1: still compared
done
python3 - "$out" $TOPOLOGIES <<'PY'
import json, os, sys
out, tops = sys.argv[1], sys.argv[2:]
def g(d, *path, default=None):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return d
print(f"{'topology':10} {'pair':10} {'reads':>6} {'recall':>7} {'complete':>9} {'partial':>8} {'stale p99 s':>11} {'p50 ms':>8} {'p99 ms':>8}")
for t in tops:
    s = json.load(open(os.path.join(out, t, "summary.json")))
    for pair in ("local", "same-block", "national"):
        x = g(s, "interoperability", "by_pair", pair)
        if not x:
            continue
        print(f"{t:10} {pair:10} {x['reads']:>6} {g(x,'recall',default=float('nan')):>7.4f} {g(x,'complete_share',default=float('nan')):>9.4f} "
              f"{x['partial_share']:>8.4f} {g(x,'staleness_s','p99',default=float('nan')):>11.3f} {x['latency_ms']['p50']:>8.2f} {x['latency_ms']['p99']:>8.2f}")
    r = g(s, "federation", "relay", default={})
    print(f"{t:10} relay: {r.get('messages', 0)} messages, {r.get('faulted', 0)} faulted, {r.get('unreachable', 0)} unreachable, "
          f"{(r.get('bytes_forward', 0) + r.get('bytes_back', 0)) / 1e6:.1f} MB; registrations {g(s,'federation','registrations')}; "
          f"valid {s['valid']}")
print(f"(runs in {out})")
PY
