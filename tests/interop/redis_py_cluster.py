"""redis-py's RedisCluster against percore nodes in cluster mode (SPEC 6.4):
HOST PORT PROTOCOL (2 or 3), PORT any one node's. Prints one line per
result; the Rust test (tests/it/cluster.rs) compares the whole output."""
import sys

import redis
from redis.cluster import RedisCluster

host, port, protocol = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rc = RedisCluster(host=host, port=port, protocol=protocol, socket_timeout=10)


def field(mapping, name):
    """A map's field, whether the parser left its keys as bytes or str."""
    for key in (name, name.encode()):
        if key in mapping:
            return mapping[key]
    raise KeyError(name)


def text(value):
    return value.decode() if isinstance(value, bytes) else value


# The cluster as redis-py's own parsers read it: CLUSTER SLOTS, SHARDS, NODES.
slots = rc.cluster_slots()
ranges = sorted((start, end, tuple(map(text, v["primary"]))) for (start, end), v in slots.items())
for start, end, (ip, node_port) in ranges:
    print("slots", start, end, f"{ip}:{node_port}")
shards = []
for shard in rc.cluster_shards():
    flat = []
    for item in field(shard, "slots"):
        flat.extend(item if isinstance(item, (list, tuple)) else [item])
    shards.append((flat, field(shard, "nodes")))
for flat, (node,) in sorted(shards):
    print(
        "shard",
        *flat,
        f"{text(field(node, 'ip'))}:{field(node, 'port')}",
        text(field(node, "role")),
        text(field(node, "health")),
        len(text(field(node, "id"))),
    )
nodes = rc.cluster_nodes()
for addr, node in sorted(nodes.items(), key=lambda n: int(n[1]["slots"][0][0])):
    flags = node["flags"].replace("myself,", "")
    print("node", addr.split("@")[0], flags, node["connected"], node["slots"])
print("myself", sum("myself" in node["flags"] for node in nodes.values()))

# 10,000 keys written and read through the cluster client, pipelined: the
# client groups the commands by node from the slot map.
count = 10_000
pipe = rc.pipeline()
for i in range(count):
    pipe.set(f"key:{i}", i)
print("set", sum(1 for ok in pipe.execute() if ok is True))
pipe = rc.pipeline()
for i in range(count):
    pipe.get(f"key:{i}")
print("get", sum(1 for i, value in enumerate(pipe.execute()) if value == str(i).encode()))
print("one", rc.set("foo", "bar"), rc.get("foo"), rc.delete("foo"))

# Each key lives on the node whose slots cover it: ask each node directly.
for start, end, (ip, node_port) in ranges:
    node = redis.Redis(host=ip, port=int(node_port), protocol=protocol, socket_timeout=10)
    here = node.keys("key:*")
    owned = [k for k in here if start <= rc.keyslot(k) <= end]
    print("keys", start, end, len(here), len(owned))
print("dbsize", rc.dbsize(target_nodes=RedisCluster.PRIMARIES))

# Hash tags keep related keys on one node, where multi-key commands work.
print("tags", rc.mset({"{user:1}:name": "ann", "{user:1}:mail": "ann@example.org"}))
print("tags", rc.mget("{user:1}:name", "{user:1}:mail"))
print("tags", rc.delete("{user:1}:name", "{user:1}:mail"))

# What a plain client sees: a cross-slot MSET, a key of another node.
first = redis.Redis(host=ranges[0][2][0], port=int(ranges[0][2][1]), protocol=protocol)
try:
    first.mset({"a": 1, "b": 2})
except redis.ResponseError as error:
    print("mset", type(error).__name__, error)
try:
    first.get("foo")
except redis.ResponseError as error:
    print("get", type(error).__name__, error)
print("keyslot", rc.keyslot("foo"), first.cluster("KEYSLOT", "foo"))
rc.close()
