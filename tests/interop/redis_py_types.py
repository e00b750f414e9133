"""redis-py's hash, set, sorted set and list calls (issue 27) against
percore's resp service: HOST PORT. Asserts each result, in RESP2 and RESP3
(where redis-py shapes a reply differently by protocol, either shape is
redis-server's too); prints one line per protocol."""
import sys

import redis

host, port = sys.argv[1], int(sys.argv[2])
for proto in (2, 3):
    r = redis.Redis(host=host, port=port, protocol=proto, socket_timeout=10)
    r.flushall()
    assert r.hset("h", mapping={"a":1,"b":2})==2
    assert r.hgetall("h")=={b"a":b"1",b"b":b"2"}
    assert r.hincrbyfloat("h","a",1.5)==2.5
    assert sorted(r.hkeys("h"))==[b"a",b"b"]
    assert r.sadd("s","x","y","z")==3
    assert r.smembers("s")=={b"x",b"y",b"z"}
    assert r.sinter("s","s")=={b"x",b"y",b"z"}
    assert r.zadd("z",{"a":1,"b":2.5})==2
    assert [tuple(x) for x in r.zrange("z",0,-1,withscores=True)]==[(b"a",1.0),(b"b",2.5)]
    assert r.zscore("z","b")==2.5
    z=r.zpopmin("z"); assert z in ([(b"a",1.0)], [b"a",1.0], [[b"a",1.0]]), z
    assert r.rpush("l","a","b","c")==3
    assert r.lrange("l",0,-1)==[b"a",b"b",b"c"]
    assert r.lpop("l",2)==[b"a",b"b"]
    b=r.blpop(["l"],timeout=1); assert list(b)==[b"l",b"c"], b
    assert r.blpop(["l"],timeout=0.1) is None
    assert tuple(r.bzpopmin("z",timeout=1))==(b"z",b"b",2.5)
    p=r.pipeline(transaction=True); p.sadd("t{x}","a"); p.scard("t{x}"); assert p.execute()==[1,1]
    assert r.type("h")==b"hash" and r.type("s")==b"set"
    assert r.memory_usage("h")>0
    print("redis-py RESP%d ok"%proto)
