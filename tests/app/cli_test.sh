#!/usr/bin/env bash
# cli_test.sh CITYBED -- checks the CLI's contract: help, version, exit codes, error messages.
set -u
bin=$1
fail=0
root=$(cd "$(dirname "$0")/../.." && pwd)
expect() {  # expect NAME WANT_RC REGEX -- CMD...
  local name=$1 want=$2 regex=$3; shift 4
  local out rc
  out=$("$@" 2>&1); rc=$?
  if ! [[ $rc =~ ^($want)$ ]]; then echo "FAIL $name: exit $rc, want $want"; echo "$out"; fail=1; return; fi
  if ! grep -qE -- "$regex" <<<"$out"; then echo "FAIL $name: output does not match /$regex/"; echo "$out"; fail=1; return; fi
  echo "ok   $name"
}
expect "--version prints version and commit" 0 '^citybed [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]{7,}|unknown' -- "$bin" --version
expect "--help lists the commands"           0 'Subcommands:' -- "$bin" --help
expect "--help documents exit codes"         0 'Exit codes' -- "$bin" --help
expect "unknown option exits 2"              2 'not expected: --bogus' -- "$bin" --bogus
expect "unknown command exits 2"             2 "unknown command 'frobnicate'" -- "$bin" frobnicate
expect "a mistyped command gets a hint"      2 "unknown command 'rn' — did you mean 'run'\\?" -- "$bin" rn
expect "a mistyped option gets a hint"       2 "unknown option '--sped' of 'citybed run' — did you mean '--speed'\\?" -- "$bin" run "$root/scenarios/quickstart.json" --sped 2
expect "range errors give plain numbers"     2 '^citybed: error: --speed: must be greater than 0 \(got 0\)$' -- "$bin" run "$root/scenarios/quickstart.json" --speed 0
expect "ranges in help are plain numbers"    0 'INT:\[100 to 100000000\]=100000' -- "$bin" demo --help
expect "run --help shows every default"      0 'default: the scenario.s speed' -- "$bin" run --help
expect "no command exits 2"                  2 'no command given' -- "$bin"
expect "bad option value exits 2"            2 'utilization' -- "$bin" demo --utilization 7
expect "demo compares with theory"           0 'theory' -- "$bin" demo --replications 2 --customers 1000

fx=$(cd "$(dirname "$0")" && pwd)/fixtures
tmp=$(mktemp -d /tmp/citybed-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# The durable store's directory problems stop the broker at start, with the reason (docs/reliability.md).
expect "broker: a store that cannot be a directory exits 4" 4 'cannot create the store directory' -- "$bin" broker --port 0 --store /proc/citybed-no-such-dir
expect "broker: an unknown store engine exits 2"           2 'leveldb not in' -- "$bin" broker --port 0 --store-engine leveldb
mkdir -p "$tmp/store-lmdb" && echo lmdb > "$tmp/store-lmdb/engine"
expect "broker: a store made by another engine is refused" 4 'was made with the lmdb engine; open it with --store-engine lmdb' -- "$bin" broker --port 0 --store "$tmp/store-lmdb"
expect "broker: a bad --shed-lag names the mistake"        2 'duration "abc": expected a number' -- "$bin" broker --port 0 --shed-lag abc
printf '{"keys": [{"key": "short", "tenants": ["*"]}]}' >"$tmp/keys.json"
expect "broker: a bad --auth key file names the mistake"   2 '/keys/0/key: must be a string of at least 16' -- "$bin" broker --port 0 --auth "$tmp/keys.json"
expect "broker: a missing --auth key file exits 2"        2 'cannot read the key file' -- "$bin" broker --port 0 --auth "$tmp/no-such-keys.json"
shipped=("$root"/scenarios/*.json)
expect "validate accepts the shipped scenarios"   0 'valid' -- "$bin" validate "${shipped[@]}"
expect "validate names every mistake by pointer"  2 'broken.json#/regions/0/population: must be > 0' -- "$bin" validate "$fx/broken.json"
expect "validate gives did-you-mean hints"        2 'did you mean "air-quality"' -- "$bin" validate "$fx/broken.json"
expect "validate reports all mistakes at once"    2 '4 mistakes' -- "$bin" validate "$fx/broken.json"
expect "run refuses an invalid scenario"          2 'nothing was run' -- "$bin" run "$fx/broken.json" --out "$tmp/never"
[[ ! -e $tmp/never ]] || { echo "FAIL run on an invalid scenario created results"; fail=1; }
expect "entities prints NDJSON entities"          0 '^\{"id":"urn:ngsi-ld:AirQualityObserved:a:aq-000000"' -- "$bin" entities "$fx/tiny.json" --sample 2
expect "validate prints the offered load"        0 'mean 22.0 \(sources 20.0, users 2.0, crowds 0.0\)' -- "$bin" validate "$fx/tiny.json"
expect "validate prints it per operation"        0 'by operation: upsert 20.0 query 2.0' -- "$bin" validate "$fx/tiny.json"
expect "validate prints it per kind"             0 'by kind: air-quality 20.0 dashboard 2.0' -- "$bin" validate "$fx/tiny.json"
expect "regions prints generated regions as CSV"  0 '^r100,' -- "$bin" regions "$root/scenarios/rollout-100.json"
if "$bin" regions "$root/scenarios/rollout-100.json" 2>&1 >/dev/null | grep -qE '^100 regions, .* diameter [0-9.]+ms, mean path to the broker'; then
  echo "ok   regions reports the network on stderr"
else echo "FAIL regions reports the network on stderr"; fail=1; fi
[[ $("$bin" regions "$root/scenarios/rollout-100.json" 2>/dev/null | wc -l) -eq 101 ]] && echo "ok   regions prints a header and 100 rows" \
  || { echo "FAIL regions prints a header and 100 rows"; fail=1; }
expect "sources lists the catalog"                0 'air-quality +AirQualityObserved' -- "$bin" sources
expect "run: a valid run with SLOs met exits 0"   0 'valid run of tiny' -- "$bin" run "$fx/tiny.json" --out "$tmp/run" --quiet
for f in manifest.json summary.json timeseries.csv report.html; do
  [[ -s $tmp/run/$f ]] || { echo "FAIL run did not write $f"; fail=1; }
done
python3 -c "import json,sys; s=json.load(open('$tmp/run/summary.json')); sys.exit(0 if s['valid'] and s['requests']['sent'] > 0 and s['slo_pass'] else 1)" \
  || { echo "FAIL summary.json is not a valid, passing run"; fail=1; }
python3 - "$tmp/run/summary.json" <<'PY' || { echo "FAIL summary.json: entities by domain, region and type do not add up"; fail=1; }
import json, sys
s = json.load(open(sys.argv[1]))
n = s["entities"]
assert 0 < n <= s["sources"], (n, s["sources"])
assert sum(d["entities"] for d in s["domains"].values()) == n
assert sum(r["entities"] for r in s["regions"].values()) == n
assert sum(t["entities"] for t in s["entity_types"].values()) == n
PY
python3 -c "import json,sys; m=json.load(open('$tmp/run/manifest.json')); sys.exit(0 if len(m['scenario']['sha256']) == 64 and m['machine']['cores'] > 0 else 1)" \
  || { echo "FAIL manifest.json lacks the scenario hash or machine"; fail=1; }
# --request-log: every sample, and the summary's figures recomputed from them.
expect "run: --request-log writes every sample"   0 'samples: [0-9]+ requests' -- "$bin" run "$fx/tiny.json" --out "$tmp/samples" --quiet --request-log
python3 - "$tmp/samples" <<'PY' || { echo "FAIL requests.csv does not give the summary's figures"; fail=1; }
import csv, json, math, os, sys
d = sys.argv[1]
s = json.load(open(f"{d}/summary.json"))
assert not os.path.exists(f"{d}/requests.csv.partial")
rows = list(csv.DictReader(open(f"{d}/requests.csv")))
assert len(rows) == s["generator"]["requests_emitted"], (len(rows), s["generator"]["requests_emitted"])
w = [r for r in rows if r["in_window"] == "1"]
assert len(w) == s["requests"]["scheduled"] and sum(r["outcome"] == "ok" for r in w) == s["requests"]["ok"]
lat = sorted(int(r["latency_ns"]) for r in w)
assert abs(lat[-1] / 1e6 - s["requests"]["latency_ms"]["max"]) <= 0.0005
p99 = lat[math.ceil(0.99 * len(lat)) - 1] / 1e6
assert abs(p99 - s["requests"]["latency_ms"]["p99"]) <= p99 / 256 + 0.001, (p99, s["requests"]["latency_ms"]["p99"])
notes = [r for r in csv.DictReader(open(f"{d}/notifications.csv")) if r["in_window"] == "1"]
assert len(notes) == s["notifications"]["in_window"]
PY
# A run replacing it without the flag leaves no sample files of the old run behind.
"$bin" run "$fx/tiny.json" --out "$tmp/samples" --quiet --force > /dev/null 2>&1 || true
[[ ! -e $tmp/samples/requests.csv ]] && echo "ok   run --force removes the replaced run's samples" \
  || { echo "FAIL run --force left the replaced run's requests.csv"; fail=1; }
expect "run: a failed SLO exits 1"                1 'SLO FAIL' -- "$bin" run "$fx/tight_slo.json" --out "$tmp/tight" --quiet
expect "run: an unreachable broker exits 3"       3 'does not answer' -- "$bin" run "$fx/tiny.json" --broker http://127.0.0.1:9 --out "$tmp/dead" --quiet
# Ctrl-C: the run ends cleanly within bounded time and writes partial results marked incomplete.
timeout --preserve-status -s INT 2 "$bin" run "$fx/tiny.json" --duration 60s --out "$tmp/interrupted" --quiet >/dev/null 2>&1
rc=$?
if [[ $rc -ne 3 ]]; then echo "FAIL interrupted run: exit $rc, want 3"; fail=1; else echo "ok   interrupted run exits 3"; fi
python3 -c "import json,sys; s=json.load(open('$tmp/interrupted/summary.json')); sys.exit(0 if not s['complete'] and not s['valid'] and any('interrupted' in r for r in s['invalid_reasons']) else 1)" \
  && echo "ok   interrupted run writes partial results marked incomplete" || { echo "FAIL interrupted run summary"; fail=1; }
expect "run: bad overrides exit 2"                2 'duration' -- "$bin" run "$fx/tiny.json" --duration soon --out "$tmp/x"

# Fail fast: the results folder is checked before anything runs.
mkdir -p "$tmp/readonly" && chmod 555 "$tmp/readonly"
if [[ $(id -u) -ne 0 ]]; then
  start=$(date +%s)
  expect "run: an unwritable --out fails before the run" 4 'cannot' -- "$bin" run "$fx/tiny.json" --duration 60s --out "$tmp/readonly/r" --quiet
  (( $(date +%s) - start < 10 )) || { echo "FAIL an unwritable --out was reported only after the run"; fail=1; }
fi
touch "$tmp/not-a-folder"
start=$(date +%s)
expect "run: an --out that is a file fails before the run" 4 'is not a folder' -- "$bin" run "$fx/tiny.json" --duration 60s --out "$tmp/not-a-folder" --quiet
(( $(date +%s) - start < 10 )) || { echo "FAIL a bad --out was reported only after the run"; fail=1; }
expect "run: --out holding a run is refused"      2 'already holds a run' -- "$bin" run "$fx/tiny.json" --out "$tmp/run" --quiet
expect "run: --force replaces it"                 0 'valid run of tiny' -- "$bin" run "$fx/tiny.json" --out "$tmp/run" --quiet --force

# A run that measured nothing gives no SLO verdicts, and its report says why.
"$bin" run "$fx/tiny.json" --broker http://127.0.0.1:9 --out "$tmp/dead2" --quiet >"$tmp/dead2.txt" 2>&1
if grep -q "SLO" "$tmp/dead2.txt"; then echo "FAIL an unmeasured run printed SLO verdicts"; cat "$tmp/dead2.txt"; fail=1; else echo "ok   an unmeasured run prints no SLO verdict"; fi
grep -q "Nothing was measured" "$tmp/dead2/report.html" && ! grep -q "SLOs met" "$tmp/dead2/report.html" \
  && echo "ok   its report says nothing was measured" || { echo "FAIL the unmeasured run's report"; fail=1; }

# The CSV carries the embedded broker's CPU share per interval.
python3 - "$tmp/run/timeseries.csv" <<'PY' && echo "ok   the CSV has the embedded broker's CPU per interval" || { echo "FAIL broker_cpu column"; fail=1; }
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
vals = [float(r["broker_cpu"]) for r in rows if r["broker_cpu"]]
assert vals and all(0 <= v <= 64 for v in vals), vals
PY
# The report: its sections are there and its numbers are the summary's.
python3 - "$tmp/run/summary.json" "$tmp/run/report.html" <<'PY' && echo "ok   the report shows the summary's numbers and every section" || { echo "FAIL report sections or numbers"; fail=1; }
import json, re, sys
s = json.load(open(sys.argv[1])); html = open(sys.argv[2]).read()
for section in ["Summary", "Service-level objectives", "Load over time", "Latency over time", "Latency by operation",
                "Response-time distribution", "Errors", "Notifications", "Regions", "Who was slow"]:
    assert "<h2>" + section in html, section
r = s["requests"]
def thousands(n): return "{:,}".format(n)
row = re.search(r"<h2>Summary</h2><table>.*?</table>", html, re.S).group(0)
for v in [thousands(r["scheduled"]), thousands(r["ok"]), "%.1f" % r["throughput"]["ok_per_simulated_s"],
          "%.1f" % r["throughput"]["ok_per_wall_s"], "%.2f" % r["latency_ms"]["p50"], "%.2f" % r["latency_ms"]["p99"],
          thousands(r["latency_ms"]["count"])]:
    assert ">" + v + "<" in row, v
assert 'class="threshold"' in html  # the SLO bound is drawn on the latency chart
assert "embedded broker&#39;s CPU" in html or "embedded broker's CPU" in html
assert "<script" not in html and not re.search(r'(src|href)="https?:', html)  # self-contained: nothing to fetch
PY
# The adapter presents an NGSI-v2 broker as an NGSI-LD context source (docs/federation.md):
# an NGSI-v2 entity comes back as NGSI-LD, and what NGSI-v2 cannot say is refused. Loopback
# only; every wait is bounded.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
up=$(free_port); ad=$(free_port)
"$bin" broker --port "$up" --log-level warn & bpid=$!
"$bin" adapter --upstream "http://127.0.0.1:$up" --port "$ad" --log-level warn & apid=$!
python3 - "$up" "$ad" <<'PY' && echo "ok   adapter serves an NGSI-v2 broker's entities as NGSI-LD" || { echo "FAIL adapter"; fail=1; }
import json, sys, time, urllib.request, urllib.error
up, ad = sys.argv[1], sys.argv[2]
def call(url, body=None):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)
deadline = time.time() + 10
while True:
    try:
        call(f"http://127.0.0.1:{up}/version"); call(f"http://127.0.0.1:{ad}/version"); break
    except (urllib.error.URLError, ConnectionError):
        if time.time() > deadline: raise
        time.sleep(0.05)
v2 = {"id": "Spot1", "type": "ParkingSpot",
      "status": {"type": "Text", "value": "free", "metadata": {"observedAt": {"type": "DateTime", "value": "2026-07-01T10:00:00Z"}}}}
assert call(f"http://127.0.0.1:{up}/v2/entities", json.dumps(v2).encode())[0] == 201
status, body, headers = call(f"http://127.0.0.1:{ad}/ngsi-ld/v1/entities?type=ParkingSpot&count=true")
assert status == 200, body
got = json.loads(body)
assert got == [{"id": "urn:ngsi-v2:Spot1", "type": "ParkingSpot",
                "status": {"type": "Property", "value": "free", "observedAt": "2026-07-01T10:00:00Z"}}], got
assert headers.get("NGSILD-Results-Count") == "1", headers
assert call(f"http://127.0.0.1:{ad}/ngsi-ld/v1/entities/urn:ngsi-v2:Spot1")[0] == 200
assert call(f"http://127.0.0.1:{ad}/ngsi-ld/v1/entities/urn:ngsi-v2:None")[0] == 404
status, body, _ = call(f"http://127.0.0.1:{ad}/ngsi-ld/v1/entities?type=ParkingSpot&q=status%3D%3D%22a%22%7Cstatus%3D%3D%22b%22")
assert status == 400 and "BadRequestData" in body, body
PY
kill "$bpid" "$apid"; wait "$bpid" "$apid" 2>/dev/null

# At its file-descriptor limit the broker waits to accept rather than spinning (docs/reliability.md):
# a broker with 64 descriptors, 150 connections held open; its CPU over the next second stays low,
# and once they close it serves again and counts the failed accepts.
fdport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
( ulimit -n 64; exec "$bin" broker --port "$fdport" --log-level error ) & fdpid=$!
python3 - "$fdport" "$fdpid" <<'PY' && echo "ok   out of descriptors, the broker waits instead of spinning, then serves again" || { echo "FAIL broker at its descriptor limit"; fail=1; }
import os, socket, sys, time, urllib.request
port, pid = int(sys.argv[1]), int(sys.argv[2])
def up():
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=2).read(); return True
    except Exception:
        return False
deadline = time.time() + 10
while not up():
    assert time.time() < deadline, "the broker did not start"
    time.sleep(0.05)
held = []
for _ in range(150):
    s = socket.create_connection(("127.0.0.1", port), timeout=5); held.append(s)
def ticks():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
time.sleep(0.5)  # let the broker reach its limit
t0, w0 = ticks(), time.time()
time.sleep(1.0)  # the window the CPU is measured over
cpu = (ticks() - t0) / os.sysconf("SC_CLK_TCK") / (time.time() - w0)
assert cpu < 0.3, f"the broker used {cpu:.2f} of a core while out of descriptors"
for s in held: s.close()
deadline = time.time() + 10
while not up():
    assert time.time() < deadline, "the broker does not serve again"
    time.sleep(0.05)
metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
line = [l for l in metrics.splitlines() if l.startswith("citybed_http_accept_failures_total ")][0]
assert float(line.split()[1]) > 0, line
PY
kill "$fdpid"; wait "$fdpid" 2>/dev/null

# Model mode (docs/capacity.md): calibrate the embedded broker on the quickstart's workload (a
# short version of every step), run the scenario in model mode, validate, and check what the
# files say. Bounded: a few seconds of load in all.
cal=$tmp/calibration.json
expect "calibrate writes a calibration" 0 '^written: .*calibration.json \(sha256 [0-9a-f]{64}\)' -- \
  "$bin" calibrate --scenario "$root/scenarios/quickstart.json" --out "$cal" --per-class 100 --step 0.3s \
  --max-concurrency 8 --open-loop 0.1,0.3 --window 1s
expect "calibrate refuses to overwrite" 2 'exists \(use --force' -- "$bin" calibrate --scenario "$root/scenarios/quickstart.json" --out "$cal"
python3 - "$cal" <<'PY' && echo "ok   the calibration holds classes, a sweep, a fit and open-loop points" || { echo "FAIL calibration contents"; fail=1; }
import json, sys
c = json.load(open(sys.argv[1]))
assert c["format"] == "citybed-calibration/1"
assert c["confidence"] == "broker-metrics", c["confidence"]
for cls in ("batch-upsert", "get", "query", "geo-query"):
    k = c["classes"][cls]
    assert k["service"]["samples"] > 0 and k["service"]["mean_s"] > 0, cls
    assert abs(sum(k["statuses"].values()) - 1) < 1e-9, cls
assert len(c["sweep"]) >= 2 and all(p["throughput"] > 0 for p in c["sweep"])
assert c["capacity_rps"] > 0 and c["usl"]["gamma"] > 0
assert c["overhead_s"] >= 0 and 0 <= c["notifications"]["selectivity"] <= 1
assert len(c["open_loop"]) >= 1 and c["open_loop"][0]["cpu_per_request_s"] > 0
PY
expect "run --model is stamped not validated" '[01]' 'model mode: not validated calibration' -- \
  "$bin" run "$root/scenarios/quickstart.json" --model "$cal" --out "$tmp/model-run" --quiet
python3 - "$tmp/model-run" "$cal" <<'PY' && echo "ok   a model-mode run records its mode and calibration" || { echo "FAIL model-mode files"; fail=1; }
import hashlib, json, sys
m = json.load(open(sys.argv[1] + "/manifest.json"))
s = json.load(open(sys.argv[1] + "/summary.json"))
sha = hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
assert m["mode"] == "model" and s["mode"] == "model"
assert m["model"]["calibration"]["sha256"] == sha, (m["model"]["calibration"], sha)
assert m["model"]["calibrated"] == "not validated"
assert s["requests"]["scheduled"] > 1000 and s["requests"]["ok"] > 0
assert s["notifications"]["received"] > 0 if "received" in s["notifications"] else True
PY
expect "validate-model prints the table and stamps the file" '[013]' 'stamped: .* is now "(validated|uncalibrated)"' -- \
  "$bin" validate-model --calibration "$cal" --scenario "$root/scenarios/quickstart.json" --loads 0.3 --window 1s --replications 1
expect "a run then says where the calibration stands" '[01]' 'model mode: (validated|uncalibrated) calibration' -- \
  "$bin" run "$root/scenarios/quickstart.json" --model "$cal" --out "$tmp/model-run-2" --quiet
expect "model-mode replications give means with intervals" '[01]' 'throughput \(ok per simulated s\) +[0-9.]+ ± [0-9.]+ req/s' -- \
  "$bin" run "$root/scenarios/quickstart.json" --model "$cal" --replications 3 --out "$tmp/reps" --quiet
python3 - "$tmp/reps" <<'PY' && echo "ok   replications.json holds every replication's seed and the figures" || { echo "FAIL replications.json"; fail=1; }
import json, os, sys
r = json.load(open(sys.argv[1] + "/replications.json"))
assert len(r["seeds"]) == 3 and len(set(r["seeds"])) == 3 and r["valid_replications"] == [0, 1, 2], r
f = r["aggregate"]["figures"]["/requests/scheduled"]
assert f["n"] == 3 and len(f["values"]) == 3 and f["ci95"] is not None
for i in range(3):
    assert json.load(open(f"{sys.argv[1]}/rep-{i}/manifest.json"))["scenario"]["seed"] == r["seeds"][i]
PY
echo '{"format": "citybed-calibration/1", "broker": {"threads": 1}, "classes": {"upsertz": {}}}' >"$tmp/bad-cal.json"
expect "a broken calibration is refused with its pointer" 2 '/classes/upsertz: not an operation class' -- \
  "$bin" run "$root/scenarios/quickstart.json" --model "$tmp/bad-cal.json" --out "$tmp/never"

# citybed capacity (docs/capacity.md, sections 6–9): the search in model mode on the quickstart,
# its files, resuming, refusals. Model mode only (no emulation): seconds.
expect "capacity finds λ* in model mode and writes the report" '[01]' 'model +K=1 +λ\* ×[0-9.]+ += +[0-9]+ req/s offered' -- \
  "$bin" capacity "$root/scenarios/quickstart.json" --model "$cal" --no-emulation --out "$tmp/cap" --quiet --max-replications 4
python3 - "$tmp/cap" <<'PY' && echo "ok   capacity.json holds λ*, its bracket, the probes and the plan" || { echo "FAIL capacity.json"; fail=1; }
import json, os, sys
d = sys.argv[1]
c = json.load(open(d + "/capacity.json"))
assert c["schema"] == "citybed-capacity/1"
s = c["searches"][0]
assert s["mode"] == "model" and s["instances"] == 1 and s["found"], s.get("note")
lam, fail = s["lambda"]["multiplier"], s["lambda"]["first_fail_multiplier"]
assert 0 < lam < fail <= lam * 1.02 + 1e-9 or not s["confirmed"], (lam, fail)
passes = [p["multiplier"] for p in s["probes"] if p["verdict"] == "pass"]
fails = [p["multiplier"] for p in s["probes"] if p["verdict"] != "pass" and p["phase"] not in ("spectrum", "saturation")]
assert lam in passes and fail in fails and all(m <= lam or m >= fail for m in passes + fails)
for p in s["probes"]:
    for r in range(p["replications"]):
        assert os.path.exists(f'{d}/model-k1/x{p["multiplier"]:.6g}/rep-{r}/summary.json'), (p["multiplier"], r)
assert c["headline"]["lambda_rps"] > 0 and c["planner"]["instances_for_rollout"] >= 2
assert c["verdict"]["exit_code"] in (0, 1) and "binding_resource" in s
st = c["settings"]["settling"]
assert st["settle_s"] > 0 and st["added_s"] > 0, st
probe = json.load(open(d + "/scenario.json"))
assert probe["outputs"]["report"] is False and probe["start"] < "2026-04-01T08:00:00+09:00", probe["start"]
assert "batch-upsert" in c["calibration"]["classes"]
html = open(d + "/report.html").read()
assert "Capacity of quickstart" in html and "<svg" in html and "9. Manifest" in html
PY
before=$(find "$tmp/cap" -name summary.json | wc -l)
expect "capacity resumes from its folder without rerunning probes" '[01]' 'resuming the search' -- \
  "$bin" capacity "$root/scenarios/quickstart.json" --model "$cal" --no-emulation --out "$tmp/cap" --max-replications 4
after=$(find "$tmp/cap" -name summary.json | wc -l)
if [[ $before == "$after" ]]; then echo "ok   the resumed search ran no new probe ($after)"; else echo "FAIL resumed search ran probes: $before -> $after"; fail=1; fi
expect "capacity refuses a folder holding another search" 2 'holds another capacity search' -- \
  "$bin" capacity "$root/scenarios/quickstart.json" --model "$cal" --no-emulation --out "$tmp/cap" --seed 7
expect "capacity: a bad instance list exits 2" 2 'not a range' -- \
  "$bin" capacity "$root/scenarios/quickstart.json" --model "$cal" --instances 3..1 --out "$tmp/never"
expect "capacity: --min-replications above --max-replications exits 2" 2 'is above --max-replications' -- \
  "$bin" capacity "$root/scenarios/quickstart.json" --model "$cal" --min-replications 5 --max-replications 3 --out "$tmp/never"
expect "capacity: a bad --slo is named by its pointer" 2 'scenario.json#/slo/latency/upsert' -- \
  "$bin" capacity "$root/scenarios/quickstart.json" --model "$cal" --slo upsert:p99=soon --out "$tmp/never2"
expect "capacity: two instances are a projection" '[01]' 'model +K=2 .*\[projection\]' -- \
  "$bin" capacity "$root/scenarios/quickstart.json" --model "$cal" --no-emulation --instances 1,2 --out "$tmp/cap2" --quiet \
  --max-replications 3 --slo upsert:p99=50ms --slo error-rate=1%

# Broker instances (docs/capacity.md, "Many instances"): the regions of one broker spread over two
# embedded brokers, placed by demand; the manifest records the split. Refused with a federation,
# and when the URLs and --instances disagree.
expect "run: regions on two embedded broker instances" '[03]' '2 embedded broker instances, regions placed balanced: #0 1 region 54 %, #1 2 regions 46 %' -- \
  "$bin" run "$fx/instances.json" --instances 2 --placement balanced --out "$tmp/inst"
python3 - "$tmp/inst/manifest.json" <<'PY' && echo "ok   run: the manifest records the instances and the placement" || { echo "FAIL manifest of a run on instances"; fail=1; }
import json, sys
b = json.load(open(sys.argv[1]))["broker"]["instances"]
assert b["count"] == 2 and b["placement"] == "balanced", b
assert b["instance_of_region"] == {"big": 0, "mid": 1, "small": 1}, b
assert len(b["urls"]) == 2 and b["urls"][0] != b["urls"][1], b
assert abs(sum(b["demand_share"]) - 1) < 1e-3, b
PY
expect "run: instances are refused with a federation" 2 'federates brokers' -- \
  "$bin" run "$root/scenarios/national-federation.json" --instances 2 --out "$tmp/never-inst"
expect "run: --instances must match the broker URLs" 2 '--instances 3, but 2 broker URLs' -- \
  "$bin" run "$fx/instances.json" --broker http://127.0.0.1:9,http://127.0.0.1:10 --instances 3 --out "$tmp/never-inst2"

# A federation whose Tokyo broker citybed does not start (federation.external): the run writes
# Tokyo's sources to that broker, registers it at the hub, and the manifest names it.
# start_broker LOG ARGS...: a `citybed broker --port 0 ARGS` in the background; sets
# started_pid, and started_url from the line of its log that names it (read as it is written,
# through a FIFO: no polling; at most 10 s). The rest of its log is copied to LOG.
start_broker() {
  local log=$1; shift
  local fifo="$log.fifo" line
  rm -f "$fifo"; mkfifo "$fifo"
  "$bin" broker --port 0 "$@" >"$fifo" 2>&1 &
  started_pid=$!
  started_url=""
  exec 7<"$fifo"
  : >"$log"
  while IFS= read -r -t 10 -u 7 line; do
    printf '%s\n' "$line" >>"$log"
    started_url=$(grep -oE 'listening on http://[0-9.]+:[0-9]+' <<<"$line" | sed 's/listening on //')
    [[ -n $started_url ]] && break
  done
  cat <&7 >>"$log" &  # keeps draining the broker's output until it exits
  exec 7<&-
}
start_broker "$tmp/ext.log"
ext_pid=$started_pid ext_url=$started_url
if [[ -z $ext_url ]]; then echo "FAIL the external broker did not start"; cat "$tmp/ext.log"; fail=1
else
  sed "s|EXTERNAL_URL|$ext_url|" "$fx/fed_external.json" >"$tmp/fed_external.json"
  expect "run: a federation with an external site" '[013]' '3 embedded and 1 external' -- "$bin" run "$tmp/fed_external.json" --out "$tmp/fedext"
  python3 - "$tmp/fedext/manifest.json" "$tmp/fedext/summary.json" "$ext_url" <<'PY' && echo "ok   the external broker holds Tokyo's sources and the hub's registration of it" || { echo "FAIL external federation site"; fail=1; }
import json, sys, urllib.request
m = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2])); url = sys.argv[3]
assert m["broker"]["external_sites"]["region-tokyo"]["url"] == url, m["broker"]
assert s["federation"]["registrations"] == 3, s["federation"]
got = json.load(urllib.request.urlopen(url + "/ngsi-ld/v1/entities?type=ParkingSpot&local=true&limit=100", timeout=5))
assert got and all(":tokyo:" in e["id"] for e in got), [e["id"] for e in got][:5]
PY
fi
kill "$ext_pid" 2>/dev/null; wait "$ext_pid" 2>/dev/null

# A broker that needs an access key: the run sends the key named by broker.token_env.
printf '{"keys": [{"name": "driver", "key": "driver-key-0123456789", "tenants": ["*"], "access": "write"}]}' >"$tmp/run-keys.json"
start_broker "$tmp/keyed.log" --auth "$tmp/run-keys.json"
keyed_pid=$started_pid keyed_url=$started_url
if [[ -z $keyed_url ]]; then echo "FAIL the keyed broker did not start"; cat "$tmp/keyed.log"; fail=1
else
  python3 - "$fx/tiny.json" "$tmp/keyed.json" "$keyed_url" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["broker"] = {"url": sys.argv[3], "token_env": "CITYBED_TEST_KEY"}
json.dump(s, open(sys.argv[2], "w"))
PY
  expect "run: broker.token_env unset is refused before anything runs" 2 'names CITYBED_TEST_KEY, which is not set' -- \
    env -u CITYBED_TEST_KEY "$bin" run "$tmp/keyed.json" --out "$tmp/keyed-none" --quiet
  [[ ! -e $tmp/keyed-none ]] && echo "ok   ... and writes no results folder" || { echo "FAIL a refused run wrote $tmp/keyed-none"; fail=1; }
  # (Whether a run is valid — exit 0 or 1 — or invalid — 3, the generator lagged — depends on
  # this machine's load; what these checks look at does not.)
  expect "run: the key reaches a broker that needs one" '[013]' 'run of tiny' -- \
    env CITYBED_TEST_KEY=driver-key-0123456789 "$bin" run "$tmp/keyed.json" --out "$tmp/keyed-run" --quiet
  python3 -c "import json,sys; s=json.load(open('$tmp/keyed-run/summary.json')); r=s['requests']; sys.exit(0 if r['ok'] > 0 and r['failed'] == 0 else 1)" \
    && echo "ok   ... every request of the right key succeeded" || { echo "FAIL right key: requests failed"; fail=1; }
  expect "run: a wrong key is a failed run, every request 401" '[0-9]+' '' -- \
    env CITYBED_TEST_KEY=wrong-key-0123456789 "$bin" run "$tmp/keyed.json" --out "$tmp/keyed-wrong" --quiet
  python3 -c "import json,sys; s=json.load(open('$tmp/keyed-wrong/summary.json')); sys.exit(0 if s['requests']['ok'] == 0 and s['requests']['failed'] > 0 else 1)" \
    && echo "ok   ... no request of the wrong key succeeded" || { echo "FAIL wrong key: requests succeeded"; fail=1; }
  expect "conformance: --token-env reaches a broker behind keys" 0 'of [0-9]+ supported cases pass \(100.0 %\)' -- \
    env CITYBED_TEST_KEY=driver-key-0123456789 "$bin" conformance --broker "$keyed_url" --only '^entity-create/' --token-env CITYBED_TEST_KEY
  expect "conformance: without the key every case fails" 1 ' 0 of [0-9]+ supported cases pass' -- \
    "$bin" conformance --broker "$keyed_url" --only '^entity-create/'
fi
kill "$keyed_pid" 2>/dev/null; wait "$keyed_pid" 2>/dev/null

# Per-tenant rate limits (docs/reliability.md): two requests at once per tenant, then one per 100 s;
# the third is 429 with Retry-After, another tenant is still served; a bad limit stops the start.
expect "broker: a bad --tenant-rate exits 2" 2 'the burst must be' -- "$bin" broker --port 0 --tenant-rate 10/0
start_broker "$tmp/rate.log" --tenant-rate 0.01/2
rate_pid=$started_pid rate_url=$started_url
if [[ -z $rate_url ]]; then echo "FAIL the rate-limited broker did not start"; cat "$tmp/rate.log"; fail=1
else
  python3 - "$rate_url" <<'PY' && echo "ok   broker: --tenant-rate answers 429 with Retry-After beyond a tenant's limit" || { echo "FAIL --tenant-rate"; fail=1; }
import json, sys, urllib.request, urllib.error
url = sys.argv[1]
def get(tenant):
    req = urllib.request.Request(url + "/ngsi-ld/v1/types", headers={"NGSILD-Tenant": tenant})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
codes = [get("osaka")[0] for _ in range(2)]
assert all(c != 429 for c in codes), codes
status, headers, body = get("osaka")
assert status == 429, status
assert int(headers["Retry-After"]) >= 90, headers
assert json.loads(body)["title"] == "Too Many Requests", body
assert get("kobe")[0] != 429
PY
fi
kill "$rate_pid" 2>/dev/null; wait "$rate_pid" 2>/dev/null

exit $fail
