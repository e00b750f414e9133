#!/bin/bash
# benches/neutral_ab.sh BASE_BIN FINAL_BIN: two percore binaries beside the shared yardstick's peers in
# one interleaved run, then benches/scaling_ab.sh on the same two. Each round: yell 5 x 1 and
# 64 x 16 against raw_epoll, raw_uring, tokio_yell (1 worker) and both binaries; kv 50 x 1 and
# 50 x 16, resp -P 16 and -P 1 (redis-benchmark GET/SET) on both binaries; 1 shard on CPU 0, the
# client on CPU 1, compare.sh's default PRIO=rt. ROUNDS (3). Raw lines to
# target/bench-neutral-ab-<time>.txt, then a table of medians. Run from the project root after
# ../shared/bench/setup.sh (results/scaling.md has figures).
set -u
B=${1:?usage: neutral_ab.sh BASE_BIN FINAL_BIN} F=${2:?usage: neutral_ab.sh BASE_BIN FINAL_BIN}
mkdir -p target
out=target/bench-neutral-ab-$(date -u +%Y%m%dT%H%M%SZ).txt; : > $out
for r in $(seq 1 "${ROUNDS:-3}"); do
  for who in epoll uring tokio base final; do
    case $who in
      epoll) cmd="target/bench-peers/raw_epoll PORT";;
      uring) cmd="target/bench-peers/raw_uring PORT";;
      tokio) cmd="target/bench-peers/tokio_yell PORT 1";;
      base) cmd="$B serve --shards 1 --services yell --yell 127.0.0.1:PORT";;
      final) cmd="$F serve --shards 1 --services yell --yell 127.0.0.1:PORT";;
    esac
    ../shared/bench/compare.sh "$who|yell5x1" "$cmd" yell --conns 5 --pipeline 1 --size 16 --duration 3 --warmup 1 >> $out
    ../shared/bench/compare.sh "$who|yell64x16" "$cmd" yell --conns 64 --pipeline 16 --size 16 --duration 3 --warmup 1 >> $out
  done
  for who in base final; do P=$B; [ $who = final ] && P=$F
    ../shared/bench/compare.sh "$who|kv50x1" "$P serve --shards 1 --services kv --kv 127.0.0.1:PORT" kv --conns 50 --pipeline 1 --keys 10000 --get-ratio 0.9 --size 16 --duration 3 --warmup 1 >> $out
    ../shared/bench/compare.sh "$who|kv50x16" "$P serve --shards 1 --services kv --kv 127.0.0.1:PORT" kv --conns 50 --pipeline 16 --keys 10000 --get-ratio 0.9 --size 16 --duration 3 --warmup 1 >> $out
    ../shared/bench/compare.sh "$who|respP16" "$P serve --shards 1 --services resp --resp 127.0.0.1:PORT" redis-benchmark -t get,set -c 50 -P 16 -n 1000000 -r 10000 -d 16 >> $out
    ../shared/bench/compare.sh "$who|respP1" "$P serve --shards 1 --services resp --resp 127.0.0.1:PORT" redis-benchmark -t get,set -c 50 -P 1 -n 150000 -r 10000 -d 16 >> $out
  done
done
python3 - $out <<'PY'
import statistics as st, sys
sys.path.insert(0, "benches")
from compare_lines import rows, cpu_us
rows = rows(sys.argv[1])
print("| scenario | server | runs | median msgs/s | server CPU µs/msg | rounds msgs/s |")
print("|---|---|---|---|---|---|")
for label in sorted(rows, key=lambda l:(l.split("|")[1],l)):
    ds=rows[label]; who,sc=label.split("|")
    print(f"| {sc} | {who} | {len(ds)} | {st.median(d['rps'] for d in ds):,.0f} | {st.median(cpu_us(d) for d in ds):.3f} | {', '.join(f'{d[chr(114)+chr(112)+chr(115)]/1000:,.0f}k' for d in ds)} |")
PY
echo "raw: $out"
benches/scaling_ab.sh "$B" "$F"
