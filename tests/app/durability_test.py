#!/usr/bin/env python3
"""kill -9 under load: every write the broker acknowledged is there after a restart.

usage: durability_test.py CITYBED [--rounds N] [--seed S] [--engine rocksdb|lmdb|sqlite ...]

For each engine, on one store directory: start `citybed broker --store DIR` on a free loopback
port; writer threads create new entities and update one counter entity each (through NGSI-LD
and NGSI-v2), writer 0 now and then a subscription, and log every acknowledgement; at a random
moment (seeded) the broker is killed with SIGKILL; it is started again on the same store and
every acknowledged write is checked: each created entity and subscription exists, each counter
holds at least the last value acknowledged for it. Rounds accumulate on the same store. Loopback only; bounded: every wait has a deadline.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

WRITERS = 4


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, store, engine, port):
    proc = subprocess.Popen([binary, "broker", "--port", str(port), "--store", store, "--store-engine", engine,
                             "--log-level", "warn"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("broker exited at start: " + proc.stderr.read().decode(errors="replace"))
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("broker did not answer /health within 60 s")


def writer(port, round_no, w, stop, acks):
    """Alternates creations and counter updates until `stop` or the connection dies."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    i = 0
    while not stop.is_set():
        i += 1
        value = round_no * 1_000_000 + i
        if w == 0 and i % 50 == 0:  # now and then a subscription
            eid = f"urn:ngsi-ld:Subscription:{round_no}-{i}"
            path, ok = "/ngsi-ld/v1/subscriptions", {201}
            body = {"id": eid, "type": "Subscription", "entities": [{"type": "Nothing"}],
                    "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}}}
            kind = ("sub", eid)
        elif i % 3 == 0:  # NGSI-v2 creation
            eid = f"v2-{round_no}-{w}-{i}"
            path, body, ok = "/v2/entities", {"id": eid, "type": "K", "n": {"type": "Number", "value": value}}, {201}
            kind = ("v2", eid)
        elif i % 3 == 1:  # NGSI-LD creation
            eid = f"urn:ngsi-ld:K:{round_no}-{w}-{i}"
            path, body, ok = "/ngsi-ld/v1/entities", {"id": eid, "type": "K", "n": {"type": "Property", "value": value}}, {201}
            kind = ("ld", eid)
        else:  # counter update (an upsert that replaces)
            eid = f"urn:ngsi-ld:Counter:{w}"
            path = "/ngsi-ld/v1/entityOperations/upsert"
            body, ok = [{"id": eid, "type": "Counter", "n": {"type": "Property", "value": value}}], {201, 204}
            kind = ("counter", eid)
        try:
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException):
            return  # the broker was killed
        if r.status in ok:
            acks.append((kind, value))
        else:
            sys.stderr.write(f"unexpected {r.status} for {path}\n")
            acks.append((("error", path), r.status))
            return


def check(port, acks):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    last_counter = {}
    missing = []
    for (kind, eid), value in acks:
        if kind == "error":
            missing.append(f"the broker answered {value} to a write of {eid}")
        elif kind == "counter":
            last_counter[eid] = max(last_counter.get(eid, 0), value)
        else:
            path = {"v2": f"/v2/entities/{eid}", "sub": f"/ngsi-ld/v1/subscriptions/{eid}"}.get(
                kind, f"/ngsi-ld/v1/entities/{eid}")
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                missing.append(f"{kind} {eid}: {r.status}")
    for eid, value in last_counter.items():
        conn.request("GET", f"/ngsi-ld/v1/entities/{eid}?options=keyValues")
        r = conn.getresponse()
        body = r.read()
        got = json.loads(body).get("n", -1) if r.status == 200 else -1
        if got < value:
            missing.append(f"{eid}: holds {got}, {value} was acknowledged")
    return missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("citybed")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seed", type=int, default=20261130)
    ap.add_argument("--engine", action="append")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    failures = 0
    for engine in args.engine or ["rocksdb", "lmdb", "sqlite"]:
        store = tempfile.mkdtemp(prefix=f"citybed-kill-{engine}-")
        all_acks = []
        try:
            for round_no in range(1, args.rounds + 1):
                port = free_port()
                proc = start(args.citybed, store, engine, port)
                # What the previous rounds acknowledged survived the previous kill.
                lost = check(port, all_acks)
                stop = threading.Event()
                acks = []
                threads = [threading.Thread(target=writer, args=(port, round_no, w, stop, acks)) for w in range(WRITERS)]
                for t in threads:
                    t.start()
                time.sleep(rng.uniform(0.3, 1.5))
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
                stop.set()
                for t in threads:
                    t.join(timeout=30)
                all_acks += acks
                print(f"{engine} round {round_no}: {len(acks)} writes acknowledged before kill -9; "
                      f"{len(lost)} of the earlier {len(all_acks) - len(acks)} missing")
                for m in lost[:20]:
                    print("  MISSING " + m)
                failures += len(lost)
            port = free_port()
            proc = start(args.citybed, store, engine, port)
            lost = check(port, all_acks)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            print(f"{engine} final: {len(all_acks)} acknowledged writes checked, {len(lost)} missing")
            for m in lost[:20]:
                print("  MISSING " + m)
            failures += len(lost)
            if not all_acks:
                print(f"{engine}: no write was acknowledged: the test measured nothing")
                failures += 1
        finally:
            shutil.rmtree(store, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
