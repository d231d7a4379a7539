#!/usr/bin/env bash
# check.sh CITYBED [--update] -- the golden run: runs tests/golden/golden.json against the
# embedded broker and compares the summary's counts (what the scenario and seed fix: requests
# scheduled per operation, region and domain, sources, users, entities written, subscriptions,
# gets skipped) with tests/golden/expected.json. Timings are not compared. --update rewrites
# the expectation.
set -uo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/citybed-golden.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$bin" run "$here/golden.json" --out "$tmp/run" --quiet >"$tmp/out.txt" 2>&1
rc=$?
if [[ ! -s $tmp/run/summary.json ]]; then
  echo "FAIL golden run wrote no summary (exit $rc)"; cat "$tmp/out.txt"; exit 1
fi
python3 - "$tmp/run/summary.json" "$here/expected.json" "${2:-}" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
counts = {
    "sources": s["sources"], "users": s["users"], "entities": s["entities"],
    "scheduled": s["requests"]["scheduled"],
    "operations": {k: v["scheduled"] for k, v in s["operations"].items()},
    "regions": {k: v["scheduled"] for k, v in s["regions"].items()},
    "domains": {k: v["scheduled"] for k, v in s["domains"].items()},
    "subscriptions": s["notifications"]["subscriptions"],
    "requests_emitted": s["generator"]["requests_emitted"],
    "skipped": s["generator"]["skipped"],
}
if sys.argv[3] == "--update":
    json.dump(counts, open(sys.argv[2], "w"), indent=2, sort_keys=True)
    open(sys.argv[2], "a").write("\n")
    print("updated", sys.argv[2]); sys.exit(0)
want = json.load(open(sys.argv[2]))
if counts != want:
    print("FAIL golden run: the counts differ from tests/golden/expected.json")
    for k in sorted(set(want) | set(counts)):
        if want.get(k) != counts.get(k): print("  %s: expected %s, got %s" % (k, want.get(k), counts.get(k)))
    sys.exit(1)
# Against a healthy embedded broker every scheduled request succeeds.
assert s["requests"]["ok"] == s["requests"]["scheduled"], s["requests"]
print("ok   golden run: %d requests scheduled, counts as expected" % counts["scheduled"])
PY
