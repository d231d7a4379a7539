#!/usr/bin/env bash
# durable.sh -- the cost of durability: single-entity upsert throughput of the broker in memory
# and with `--store` on each engine, interleaved, side by side in one run (bench/broker/run.sh
# with UPSERT_ONLY=1: broker and its committer pinned to CPU 0, wrk to CPU 1, loopback only).
#   bench/broker/durable.sh                 # env ROUNDS=3 CONNLIST="32 128" DURATION=6
#                                           #     CFGS="memory rocksdb lmdb sqlite" STORE_ROOT=/tmp
# Prints one line per run: connections, round, configuration, then run.sh's columns.
# Needs: make build, wrk, python3 (scripts/bootstrap.sh --bench).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${ROUNDS:-3} CONNLIST=${CONNLIST:-32 128} DURATION=${DURATION:-6}
CFGS=${CFGS:-memory rocksdb lmdb sqlite} STORE_ROOT=${STORE_ROOT:-/tmp}
for conns in $CONNLIST; do
  for ((i = 1; i <= ROUNDS; i++)); do
    for cfg in $CFGS; do
      dir=$STORE_ROOT/citybed-durable-bench-$cfg
      rm -rf "$dir"
      args=""
      [[ $cfg != memory ]] && args="--store $dir --store-engine $cfg"
      line=$(CONNS=$conns DURATION=$DURATION ANCHOR=0 UPSERT_ONLY=1 BROKER_ARGS="$args" "$here/run.sh" 2>&1 | grep -E "citybed-upsert")
      echo "c$conns $i $cfg $line"
      rm -rf "$dir"
    done
  done
done
