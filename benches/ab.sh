#!/bin/bash
# benches/ab.sh OUT ROUNDS 'LABEL|SHARDS|SERVICE|JUDGE-ARGS' ...: two percore binaries, $A and
# $B (paths; a wrapper script that sets an environment variable and execs a binary works too),
# interleaved over ROUNDS rounds of each scenario with ../shared/bench/compare.sh (PRIO=none
# unless set; the judge on CPU 1; 1 shard on CPU 0, more on CPUs 0,1). SERVICE is also the
# address flag (--kv, --resp, --yell); JUDGE-ARGS as compare.sh takes them (judge or
# redis-benchmark). Raw lines are appended to OUT, then one line of medians per binary and
# scenario: msgs/s, server CPU µs per request, and every round's CPU figure.
#   A=/tmp/before B=/tmp/after benches/ab.sh /tmp/ab.txt 5 \
#     "kv2|2|kv|kv --conns 50 --pipeline 16 --keys 10000 --get-ratio 0.9 --size 16 --duration 3 --warmup 1"
set -u
out=${1:?usage: ab.sh OUT ROUNDS SCENARIO...} rounds=${2:?usage: ab.sh OUT ROUNDS SCENARIO...}
shift 2
: "${A:?set A and B to the binaries}" "${B:?set A and B to the binaries}"
export PRIO=${PRIO:-none} JUDGE_CPU=1
for r in $(seq "$rounds"); do
  for spec in "$@"; do
    IFS='|' read -r label shards svc args <<<"$spec"
    cpus=0; [ "$shards" -gt 1 ] && cpus=0,1
    for who in A B; do
      bin=${!who}
      # shellcheck disable=SC2086 # the judge's arguments are words
      SERVER_CPU=$cpus ../shared/bench/compare.sh "$who-$label" \
        "$bin serve --shards $shards --services $svc --$svc 127.0.0.1:PORT" $args | tee -a "$out"
    done
  done
done
python3 - "$out" <<'PY'
import statistics as st, sys
sys.path.insert(0, "benches")
from compare_lines import rows, cpu_us
rows = rows(sys.argv[1])
for label in sorted(rows, key=lambda l: (l[2:], l[0])):
    ds = rows[label]
    cpu = [cpu_us(d) for d in ds]
    print(f"{label:28} n={len(ds)} rps={st.median([d['rps'] for d in ds]):>10,.0f} "
          f"cpu_us={st.median(cpu):.3f} all={[round(c, 3) for c in cpu]}")
PY
