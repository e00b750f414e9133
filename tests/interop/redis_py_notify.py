"""redis-py and keyspace notifications: HOST PORT. Turns them on with
CONFIG SET, subscribes to one key's keyspace channel and to the keyevent
channels of a few events by pattern, makes those events on keys spread
over the shards, and prints what arrived (sorted: events of different
keys may come from different shards in any order). The Rust test runs it
against percore and against redis-server and compares the output."""
import sys

import redis

host, port = sys.argv[1], int(sys.argv[2])
r = redis.Redis(host=host, port=port, socket_timeout=10)
print(r.config_set("notify-keyspace-events", "KEA"))
print(r.config_get("notify-keyspace-events"))
p = r.pubsub()
p.subscribe("__keyspace@0__:watched")
p.psubscribe("__keyevent@0__:*")
for _ in range(2):
    print(p.get_message(timeout=5))
r.set("watched", 1)
r.incrby("watched", 5)
r.expire("watched", 100)
r.delete("watched")
expected = 4 + 4
for i in range(10):
    r.set("key%d" % i, i)
    r.delete("key%d" % i)
    expected += 2
got = []
while len(got) < expected:
    message = p.get_message(timeout=5)
    if message is None:
        break
    got.append((message["channel"], message["data"]))
for item in sorted(got):
    print(item)
print(len(got), expected)
print(r.config_set("notify-keyspace-events", ""))
p.close()
