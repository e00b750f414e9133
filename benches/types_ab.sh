#!/usr/bin/env bash
# benches/types_ab.sh BIN...: resp's data-type commands under redis-benchmark,
# several percore binaries in interleaved rounds (results/counts.md, "The key
# space's hash"). Each round and binary: `BIN serve --shards 1 --services resp`
# pinned to CPU 0, redis-benchmark pinned to CPU 1, `-c 50 -r 100000 -P 16`.
# Prints redis-benchmark's CSV rows prefixed with the round and the binary's
# name, then the median requests/s per test and binary.
# Environment: T (tests, default hset,sadd,zadd,lpush,get,set), ROUNDS (3), N (400000).
set -euo pipefail
tests=${T:-hset,sadd,zadd,lpush,get,set}
out=$(mktemp)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
for round in $(seq "${ROUNDS:-3}"); do
  for bin in "$@"; do
    port=$(free_port)
    taskset -c 0 "$bin" serve --shards 1 --services resp --resp "127.0.0.1:$port" > /dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do redis-cli -p "$port" ping > /dev/null 2>&1 && break; sleep 0.1; done
    taskset -c 1 redis-benchmark -p "$port" -t "$tests" -c 50 -r 100000 -P 16 -n "${N:-400000}" --csv -q 2>/dev/null |
      sed "s|^|$round,$(basename "$bin"),|" | tee -a "$out"
    kill -INT "$pid"; wait "$pid" || true
  done
done
python3 - "$out" <<'PY'
import csv, statistics, sys
rows = {}
for r in csv.reader(open(sys.argv[1])):
    if len(r) < 4 or r[2] == "test":
        continue
    rows.setdefault((r[2], r[1]), []).append(float(r[3]))
for (test, bin), rps in sorted(rows.items()):
    print(f"{test} {bin} rounds {[round(x) for x in rps]} median {statistics.median(rps):,.0f}")
PY
rm -f "$out"
