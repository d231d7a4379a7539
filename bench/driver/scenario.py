#!/usr/bin/env python3
"""scenario.py RATE DURATION [SOURCES] [BROKER_URL] -- a driver benchmark scenario on stdout:
one region without simulated network delay, SOURCES air-quality sources (default 10,000) whose
periodic reports add up to RATE requests per second, run for DURATION seconds."""
import json
import sys

rate = float(sys.argv[1])
duration = float(sys.argv[2])
sources = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
sources = max(1, min(sources, int(rate * 60)))  # at low rates, fewer sources (periods up to a minute)
url = sys.argv[4] if len(sys.argv) > 4 else "embedded"
period_s = sources / rate
print(json.dumps({
    "name": "driver-bench",
    "description": "citybed driver benchmark: %g requests/s from %d sources" % (rate, sources),
    "seed": 1,
    "duration": "%gs" % duration,
    "warmup": "2s",
    "broker": {"url": url, "connections": 32, "timeout": "10s"},
    "regions": [{"id": "bench", "lat": 35.68, "lon": 139.77, "population": 1000000, "radius_km": 10}],
    "network": {"nodes": [{"id": "gw"}, {"id": "dc"}], "links": [{"from": "gw", "to": "dc", "latency": "0s"}],
                "broker_node": "dc", "access": {"default": {"node": "gw", "latency": "0s", "bandwidth": "1Tbps"}}},
    "sources": [{"kind": "air-quality", "count": sources,
                 "arrival": {"process": "periodic", "period": "%.6fs" % period_s, "jitter": "%.6fs" % (period_s / 10)}}],
    "generator": {"lag_bound": "1ms", "lag_percentile": 99},
    "outputs": {"report": False},
}, indent=1))
