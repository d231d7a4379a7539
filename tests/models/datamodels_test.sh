#!/usr/bin/env bash
# datamodels_test.sh CITYBED ROOT -- every entity type citybed's sources emit validates: the
# Smart Data Models (../shared/datamodels) and citybed's own (models/datamodels), checked with
# ../shared/tools/validate-entities.py in the normalized form with strict date-times. Entities
# come from every source kind, in calm weather and during each event kind.
set -uo pipefail
bin=$1 root=$2
shared=${SHARED:-$root/../shared}
if [[ ! -f $shared/tools/validate-entities.py || ! -d $shared/datamodels ]]; then
  echo "SKIP: $shared/tools/validate-entities.py or $shared/datamodels is not here"; exit 77
fi
tmp=$(mktemp -d /tmp/citybed-models.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# One models folder with both sets of schemas.
mkdir -p "$tmp/models"
cp -r "$shared/datamodels/." "$tmp/models/"
cp -r "$root/models/datamodels/"*/ "$tmp/models/"
cp "$root/models/datamodels/common/"*.json "$tmp/models/common/"
kinds=$("$bin" sources | awk 'NR > 1 {print $1}')
python3 - "$tmp/s.json" $kinds <<'PY'
import json, sys
out, kinds = sys.argv[1], sys.argv[2:]
json.dump({"name": "all-kinds", "duration": "3h", "seed": 3,
           "regions": [{"id": "a", "lat": 35.68, "lon": 139.77, "population": 100000},
                       {"id": "b", "lat": 34.70, "lon": 135.50, "population": 50000}],
           "sources": [{"kind": k, "count": 4, "arrival": {"process": "periodic", "period": "20m"}} for k in kinds],
           "events": [{"kind": "heavy-rain", "at": "20m", "regions": ["a"]}, {"kind": "earthquake", "at": "40m", "regions": ["b"]}]},
          open(out, "w"))
PY
"$bin" entities "$tmp/s.json" --sample 4 --reports 8 >"$tmp/entities.ndjson" || exit 1
types=$(python3 -c "import json,sys; print(len({json.loads(l)['type'] for l in open(sys.argv[1])}))" "$tmp/entities.ndjson")
echo "$(wc -l <"$tmp/entities.ndjson") entities of $types types from $(echo $kinds | wc -w) source kinds"
/usr/bin/python3 "$shared/tools/validate-entities.py" --models "$tmp/models" --format normalized --strict-formats \
  "$tmp/entities.ndjson"
rc=$?
[[ $rc -eq 0 ]] || exit $rc
# The NGSI-v2 rendering of the same reports: every attribute is {"type", "value", "metadata"}
# with a v2 type, and its values (keyValues) validate against the same schemas.
"$bin" entities "$tmp/s.json" --sample 4 --reports 8 --api ngsi-v2 >"$tmp/entities-v2.ndjson" || exit 1
python3 - "$tmp/entities-v2.ndjson" "$tmp/keyvalues.ndjson" <<'PY' || exit 1
import json, sys
v2types = {"Number", "Text", "Boolean", "StructuredValue", "DateTime", "geo:json", "Relationship"}
with open(sys.argv[2], "w") as out:
    for line in open(sys.argv[1]):
        e = json.loads(line)
        kv = {"id": e["id"], "type": e["type"]}
        for name, a in e.items():
            if name in ("id", "type"):
                continue
            if set(a) != {"type", "value", "metadata"} or a["type"] not in v2types:
                sys.exit(f"{e['id']}: attribute {name} is not a v2 normalized attribute: {a}")
            kv[name] = a["value"]
        out.write(json.dumps(kv) + "\n")
PY
/usr/bin/python3 "$shared/tools/validate-entities.py" --models "$tmp/models" --format keyValues --strict-formats \
  "$tmp/keyvalues.ndjson"
