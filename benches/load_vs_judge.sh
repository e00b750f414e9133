#!/bin/bash
# benches/load_vs_judge.sh [ROUNDS]: does `percore load` drive a server as hard as the shared
# yardstick's judge does (issue 25)? raw_epoll (../shared/bench/setup.sh builds it into
# target/bench-peers) on CPU 0; the judge and `percore load` take turns on CPU 1 against it,
# yell 5 x 1, 4 s each, both sides SCHED_FIFO as compare.sh's PRIO=rt. LOADBIN picks the
# percore binary (default target/release/percore). Prints one "judge N  load N" line a round.
# Needs root (chrt).
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
chrt -f 50 taskset -c 0 ${BENCH_OUT:-$PWD/target/bench-peers}/raw_epoll $port >/dev/null 2>&1 & pid=$!
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
json=$(mktemp)
for _ in $(seq 1 "${1:-5}"); do
  j=$(chrt -f 50 taskset -c 1 ${BENCH_OUT:-$PWD/target/bench-peers}/judge yell --conns 5 --pipeline 1 --size 16 --duration 4 --addr 127.0.0.1:$port | python3 -c 'import json,sys;d=json.load(sys.stdin);print(int(d["rps"]))')
  l=$(chrt -f 50 ${LOADBIN:-target/release/percore} load yell --addr 127.0.0.1:$port --conns 5 --pipeline 1 --size 16 --duration 4 --cpus 1 --quiet --json "$json" >/dev/null 2>&1; python3 -c 'import json,sys;d=json.load(open(sys.argv[1]));print(int(d["msgs_per_sec"]))' "$json")
  echo "judge $j  load $l"
done
kill $pid
rm -f "$json"
