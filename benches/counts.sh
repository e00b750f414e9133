#!/bin/bash
# benches/counts.sh LABEL=BIN...: what a server does per request, counted rather than timed, so
# that the figures hold on a machine other work shares: allocations (malloc, realloc, calloc:
# uprobes on libc), system calls and context switches, from `perf stat -p` on the server
# while a client runs (the judge for yell and kv, redis-benchmark for resp), divided by the
# requests the client counted in that time. Each LABEL=BIN is a percore binary; raw_epoll,
# raw_uring and tokio_yell from ../shared/bench/setup.sh are counted on the yell scenarios too.
#   Scenarios: yell 5x1, yell 64x16, kv 50x16 and 50x1, resp GET/SET -P 1 and -P 16; 1 shard
#   on CPU 0 and 2 shards on CPUs 0,1, the client on CPU 1. SCENARIOS narrows them (a regex).
# Needs root (perf, uprobes). Run from the project root; results/counts.md has figures.
set -u
[ $# -ge 1 ] || { echo "usage: benches/counts.sh LABEL=PERCORE_BIN..." >&2; exit 2; }
peers=${BENCH_OUT:-$PWD/target/bench-peers}
libc=$(ldd "$peers/raw_epoll" 2>/dev/null | awk '/libc.so/ {print $3}')
libc=${libc:-/lib/x86_64-linux-gnu/libc.so.6}
for f in malloc realloc calloc; do
  perf probe -q -x "$libc" -a "$f" 2>/dev/null || perf probe -l 2>/dev/null | grep -q "probe_libc:$f" ||
    { echo "counts.sh: cannot place a uprobe on $f in $libc (root and perf needed)" >&2; exit 1; }
done
events=probe_libc:malloc,probe_libc:realloc,probe_libc:calloc,raw_syscalls:sys_enter,context-switches
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# count LABEL SCENARIO SERVER_CPUS 'SERVER CMD with PORT' CLIENT...: one row of the table.
count() {
  local label=$1 scenario=$2 cpus=$3 cmd=$4; shift 4
  [[ "$scenario" =~ ${SCENARIOS:-.} ]] || return 0
  local port; port=$(free_port)
  taskset -c "$cpus" bash -c "exec ${cmd//PORT/$port}" >/dev/null 2>&1 & local pid=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  local stats; stats=$(mktemp)
  if [ "$1" = redis-benchmark ]; then
    # The whole run is counted: redis-benchmark says how many requests it made.
    perf stat -x, -o "$stats" -e $events -p $pid >/dev/null 2>&1 & local perf=$!
    sleep 0.2
    shift
    local csv; csv=$(taskset -c 1 redis-benchmark -h 127.0.0.1 -p "$port" --csv "$@" 2>/dev/null)
    kill -INT $perf; wait $perf
    local n; n=$(awk -F, -v args="$*" 'NR > 1 {rows++} END {
      split(args, a, " "); for (i = 1; i in a; i++) if (a[i] == "-n") print rows * a[i+1]}' <<<"$csv")
  else
    # The whole judge run, with no warm-up, so that its request count is the
    # window's (a probe's cost slows the server: rates from outside the
    # window would not do).
    perf stat -x, -o "$stats" -e $events -p $pid >/dev/null 2>&1 & local perf=$!
    sleep 0.2
    local out; out=$(taskset -c 1 "$peers/judge" "$@" --duration 3 --warmup 0 --addr 127.0.0.1:$port)
    kill -INT $perf; wait $perf
    local n; n=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["requests"])' "$out")
  fi
  kill -INT $pid 2>/dev/null; for _ in 1 2 3 4 5; do kill -0 $pid 2>/dev/null || break; sleep 0.2; done
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  python3 - "$label" "$scenario" "$n" "$stats" <<'PY'
import sys
label, scenario, n, path = sys.argv[1], sys.argv[2], float(sys.argv[3] or 0), sys.argv[4]
vals = {}
for line in open(path):
    p = line.strip().split(",")
    if len(p) > 2 and p[0].replace(".", "").isdigit():
        vals[p[2].split(":")[-1]] = float(p[0])
allocs = sum(vals.get(k, 0) for k in ("malloc", "realloc", "calloc"))
if n <= 0:
    print(f"| {scenario} | {label} | no requests counted | | |")
else:
    print(f"| {scenario} | {label} | {allocs / n:.4f} | {vals.get('sys_enter', 0) / n:.4f} | "
          f"{vals.get('context-switches', 0) / n:.4f} |")
PY
  rm -f "$stats"
}

echo "| scenario | server | allocations / request | system calls / request | context switches / request |"
echo "|---|---|---|---|---|"
Y5="yell --conns 5 --pipeline 1 --size 16" Y64="yell --conns 64 --pipeline 16 --size 16"
for peer in "raw_epoll|$peers/raw_epoll PORT" "raw_uring|$peers/raw_uring PORT" "tokio|$peers/tokio_yell PORT 1"; do
  count "${peer%%|*}" "yell 5x1" 0 "${peer#*|}" $Y5
  count "${peer%%|*}" "yell 64x16" 0 "${peer#*|}" $Y64
done
for arg in "$@"; do
  label=${arg%%=*} bin=${arg#*=}
  count "$label" "yell 5x1" 0 "$bin serve --shards 1 --services yell --yell 127.0.0.1:PORT" $Y5
  count "$label" "yell 64x16" 0 "$bin serve --shards 1 --services yell --yell 127.0.0.1:PORT" $Y64
  for p in 16 1; do
    K="kv --conns 50 --pipeline $p --keys 10000 --get-ratio 0.9 --size 16"
    count "$label" "kv 50x$p, 1 shard" 0 "$bin serve --shards 1 --services kv --kv 127.0.0.1:PORT" $K
    count "$label" "kv 50x$p, 2 shards" 0,1 "$bin serve --shards 2 --services kv --kv 127.0.0.1:PORT" $K
    R="redis-benchmark -t get,set -c 50 -P $p -n $([ $p = 1 ] && echo 100000 || echo 500000) -r 10000 -d 16"
    count "$label" "resp -P $p, 1 shard" 0 "$bin serve --shards 1 --services resp --resp 127.0.0.1:PORT" $R
    count "$label" "resp -P $p, 2 shards" 0,1 "$bin serve --shards 2 --services resp --resp 127.0.0.1:PORT" $R
  done
done
