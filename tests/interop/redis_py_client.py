"""redis-py against percore's resp service: HOST PORT PROTOCOL (2 or 3).
Prints one line per result; the Rust test compares the whole output."""
import sys

import redis

host, port, protocol = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = redis.Redis(host=host, port=port, protocol=protocol, socket_timeout=10)
r.flushdb()
print(r.set("foo", "bar"))
print(r.get("foo"))
print(r.get("missing"))
r.mset({"a": 1, "b": 2})
print(r.mget("a", "b", "nope"))
print(r.delete("a", "b", "nope"))
print(r.incrby("n", 11))
print(r.expire("n", 100))
pipe = r.pipeline(transaction=False)
pipe.set("p1", "1").set("p2", "2")
print(len(pipe.execute()))
print(r.type("foo"))
print(r.ttl("n") in (99, 100))
print(r.ping())
r.mset({"x": 1, "y": 2})
print(sorted(k.decode() for k in r.scan_iter(match="[xy]", count=2)))
print(r.dbsize())
