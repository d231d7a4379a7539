#!/usr/bin/env python3
"""preload.py URL N -- upsert N bench entities (ids 0..N-1) into the broker at URL, 1000 per batch."""
import sys
import urllib.request


def entity(i):
    obs = '"observedAt":"2024-05-01T12:00:00Z"'
    return ('{"id":"urn:ngsi-ld:AirQualityObserved:bench:%06d","type":"AirQualityObserved",'
            '"no2":{"type":"Property","value":%d.5,%s},"pm10":{"type":"Property","value":31.2,%s},'
            '"pm25":{"type":"Property","value":14.8,%s},"o3":{"type":"Property","value":61.3,%s}}'
            % (i, i % 100, obs, obs, obs, obs))


def main():
    url, n = sys.argv[1], int(sys.argv[2])
    for start in range(0, n, 1000):
        body = "[" + ",".join(entity(i) for i in range(start, min(n, start + 1000))) + "]"
        req = urllib.request.Request(url + "/ngsi-ld/v1/entityOperations/upsert", data=body.encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            if r.status not in (201, 204):
                sys.exit("preload: HTTP %d" % r.status)


if __name__ == "__main__":
    main()
