#!/bin/bash
# benches/scaling_ab.sh BEFORE_BIN AFTER_BIN: ../shared/bench/scaling.sh's scenarios (yell 64 x 16,
# kv 50 x 16, resp GET/SET -P 16; 1 shard on CPU 0 and 2 shards on CPUs 0,1, the client on CPU 1,
# PRIO=none) with two percore binaries interleaved in one run, plus tokio_yell with 1 and 2
# workers. ROUNDS (3), SECS (3). Raw lines to target/bench-scaling-ab-<time>.txt, then medians.
# Run from the project root after ../shared/bench/setup.sh (results/scaling.md has figures).
set -u
B=${1:?usage: scaling_ab.sh BEFORE_BIN AFTER_BIN} A=${2:?usage: scaling_ab.sh BEFORE_BIN AFTER_BIN}
rounds=${ROUNDS:-3} secs=${SECS:-3}
out=target/bench-scaling-ab-$(date -u +%Y%m%dT%H%M%SZ).txt; mkdir -p target
export PRIO=none JUDGE_CPU=1
run() { ../shared/bench/compare.sh "$@" | tee -a "$out"; }
Y="yell --conns 64 --pipeline 16 --size 16 --duration $secs --warmup 1"
K="kv --conns 50 --pipeline 16 --keys 10000 --get-ratio 0.9 --size 16 --duration $secs --warmup 1"
R="redis-benchmark -t get,set -c 50 -P 16 -n 1500000 -r 10000 -d 16"
for r in $(seq 1 "$rounds"); do
  SERVER_CPU=0,1 run "tokio2|yell64x16" "target/bench-peers/tokio_yell PORT 2" $Y
  SERVER_CPU=0 run "tokio1|yell64x16" "target/bench-peers/tokio_yell PORT 1" $Y
  for who in before after; do
    P=$B; [ $who = after ] && P=$A
    SERVER_CPU=0   run "$who-1|yell64x16" "$P serve --shards 1 --services yell --yell 127.0.0.1:PORT" $Y
    SERVER_CPU=0,1 run "$who-2|yell64x16" "$P serve --shards 2 --services yell --yell 127.0.0.1:PORT" $Y
    SERVER_CPU=0   run "$who-1|kv50x16" "$P serve --shards 1 --services kv --kv 127.0.0.1:PORT" $K
    SERVER_CPU=0,1 run "$who-2|kv50x16" "$P serve --shards 2 --services kv --kv 127.0.0.1:PORT" $K
    SERVER_CPU=0   run "$who-1|respP16" "$P serve --shards 1 --services resp --resp 127.0.0.1:PORT" $R
    SERVER_CPU=0,1 run "$who-2|respP16" "$P serve --shards 2 --services resp --resp 127.0.0.1:PORT" $R
  done
done
python3 - "$out" <<'PY'
import statistics as st, sys
sys.path.insert(0, "benches")
from compare_lines import rows, cpu_us
rows = rows(sys.argv[1])
print("| set-up | scenario | runs | median msgs/s | server CPU µs/request | p50 µs | p99 µs | max busy before |")
print("|---|---|---|---|---|---|---|---|")
for label, ds in sorted(rows.items(), key=lambda kv: (kv[0].split("|")[1], kv[0])):
    who, sc = label.split("|")
    cpu = st.median(cpu_us(d) for d in ds)
    print(f"| {who} | {sc} | {len(ds)} | {st.median(d['rps'] for d in ds):,.0f} | {cpu:.3f} | "
          f"{st.median(d['p50_us'] for d in ds):,.0f} | {st.median(d['p99_us'] for d in ds):,.0f} | "
          f"{max(d.get('pre_busy', 0) for d in ds):.2f} |")
PY
echo "raw: $out"
