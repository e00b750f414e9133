"""redis-py's transactions against a resp server: a MULTI/EXEC pipeline and
a WATCH check-and-set with `Redis.transaction`. Args: host port protocol key1
key2 (two keys one shard owns). Prints what it saw, one line each."""

import sys

import redis

host, port, proto, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
r = redis.Redis(host=host, port=port, protocol=proto)
r.delete(a, b)
pipe = r.pipeline(transaction=True)
pipe.set(a, 10).incrby(a, 5).get(a).set(b, 1)
print(pipe.execute())


def move(p):
    va = int(p.get(a))
    vb = int(p.get(b))
    p.multi()
    p.set(a, va - 1)
    p.set(b, vb + 1)


print(r.transaction(move, a, b))
print(r.mget(a, b))
try:
    pipe = r.pipeline(transaction=True)
    pipe.set(a, "x").incr(a)
    pipe.execute()
except redis.ResponseError as error:
    print("ResponseError", error)
print(r.get(a))
