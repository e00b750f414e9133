#!/usr/bin/env bash
# resp's cluster mode against standalone mode, under redis-benchmark
# (results/cluster.md). Three set-ups on the same two cores:
#   standalone-1x2   one node, 2 shards, no cluster; plain redis-benchmark
#   cluster-1x2      one node owning every slot, 2 shards; plain client: every
#                    command pays the MOVED check and none is moved (what a
#                    cluster client sends to a one-node cluster; redis-benchmark
#                    --cluster itself refuses a cluster of one node)
#   cluster-2x1-c    two nodes of 1 shard each, redis-benchmark --cluster (the
#                    client routes each key to its node)
#   shard-aware-1x2-c one node of 2 shards with --cluster-shard-aware, each
#                    shard a cluster node on its own port, redis-benchmark
#                    --cluster (the client routes each key to its shard)
# Each round runs every set-up once per pipeline depth, interleaved, so that
# drift on a shared machine hits all of them alike; the summary is the median
# over the rounds. Run from the repository root, after cargo build --release:
#   benches/cluster.sh                 # ROUNDS=3, writes results/cluster.csv
# The server side gets the same two CPUs in every set-up (CPUS, default
# "0 1"): the one node's two shards, or one CPU per node (a one-shard node
# pins its shard to the first CPU it may use, so each node is started under
# taskset); redis-benchmark is not pinned and runs two threads (as
# --cluster does with two nodes). A multi-threaded redis-benchmark notices
# the end of a test on a 250 ms timer, so its elapsed time is rounded up to
# 250 ms: rps is a lower bound, the closer the longer a test runs.
# Environment: PERCORE, ROUNDS, CLIENTS, REQUESTS_P1, REQUESTS_P16, CSV, CPUS,
# SETUPS (default: all four, in the order above).
set -euo pipefail
cd "$(dirname "$0")/.."

PERCORE=${PERCORE:-target/release/percore}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-50}
REQUESTS_P1=${REQUESTS_P1:-300000}
REQUESTS_P16=${REQUESTS_P16:-3000000}
CSV=${CSV:-results/cluster.csv}
KEYS=100000
read -r CPU_A CPU_B <<<"${CPUS:-0 1}"
SETUPS=${SETUPS:-standalone-1x2 cluster-1x2 cluster-2x1-c shard-aware-1x2-c}
# Each set-up gets fresh ports: the last one's may still be held by
# connections in TIME_WAIT.
NEXT_PORT=${FIRST_PORT:-17301}

pids=()
stop_nodes() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=()
}
trap stop_nodes EXIT

# start_node CPUS PORT SHARDS [cluster options...]: a resp-only node on
# CPUS, once it answers PING.
start_node() {
    local cpus=$1 port=$2 shards=$3
    shift 3
    taskset -c "$cpus" "$PERCORE" serve --services resp --shards "$shards" \
        --resp "127.0.0.1:$port" "$@" >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 1 500); do
        if [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ]; then return 0; fi
        sleep 0.01
    done
    echo "node on $port did not start" >&2
    exit 1
}

start_setup() {
    PORT_A=$NEXT_PORT
    PORT_B=$((NEXT_PORT + 1))
    # A shard-aware node of 2 shards also takes PORT_A + 1 and + 2.
    NEXT_PORT=$((NEXT_PORT + 3))
    CLIENT_PORT=$PORT_A
    local both="a=127.0.0.1:$PORT_A,b=127.0.0.1:$PORT_B"
    case $1 in
        standalone-1x2) start_node "$CPU_A,$CPU_B" "$PORT_A" 2 ;;
        cluster-1x2)
            start_node "$CPU_A,$CPU_B" "$PORT_A" 2 \
                --cluster-nodes "a=127.0.0.1:$PORT_A" --cluster-id a ;;
        cluster-2x1-c)
            start_node "$CPU_A" "$PORT_A" 1 --cluster-nodes "$both" --cluster-id a
            start_node "$CPU_B" "$PORT_B" 1 --cluster-nodes "$both" --cluster-id b ;;
        shard-aware-1x2-c)
            start_node "$CPU_A,$CPU_B" "$PORT_A" 2 --cluster-shard-aware
            # Shard 0's own port: the client learns the two shard-nodes there.
            CLIENT_PORT=$((PORT_A + 1)) ;;
    esac
}

echo "setup,pipeline,round,test,rps,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms" >"$CSV"
for round in $(seq 1 "$ROUNDS"); do
    for pipeline in 1 16; do
        requests=$REQUESTS_P1
        [ "$pipeline" = 16 ] && requests=$REQUESTS_P16
        for setup in $SETUPS; do
            start_setup "$setup"
            cluster=()
            case $setup in *-c) cluster=(--cluster) ;; esac
            # Two client threads everywhere: --cluster runs one per node.
            redis-benchmark "${cluster[@]}" -p "$CLIENT_PORT" -t set,get -n "$requests" \
                -c "$CLIENTS" -P "$pipeline" -r "$KEYS" --threads 2 --csv 2>&1 |
                { grep -E '^"(SET|GET)"' || echo "$setup: redis-benchmark gave no figures" >&2; } |
                tr -d '"' | sed "s/^/$setup,$pipeline,$round,/" >>"$CSV"
            stop_nodes
            tail -n 2 "$CSV"
        done
    done
done

echo
echo "medians over $ROUNDS rounds: setup pipeline test rps p50_ms p99_ms"
tail -n +2 "$CSV" | sort -t, -k1,1 -k2,2n -k4,4 | awk -F, -v rounds="$ROUNDS" '
    function median(list, n,    sorted, i, j, t) {
        split(list, sorted, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
            if (sorted[j] + 0 < sorted[i] + 0) { t = sorted[i]; sorted[i] = sorted[j]; sorted[j] = t }
        return sorted[int((n + 1) / 2)]
    }
    { key = $1 " " $2 " " $4; rps[key] = rps[key] " " $5; p50[key] = p50[key] " " $8;
      p99[key] = p99[key] " " $10; n[key]++; if (!(key in seen)) { seen[key] = 1; order[++k] = key } }
    END { for (i = 1; i <= k; i++) { key = order[i];
            printf "%s %s %s %s\n", key, median(rps[key], n[key]), median(p50[key], n[key]), median(p99[key], n[key]) } }'
