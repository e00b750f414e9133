"""redis-py's BITOP, BITFIELD, BITFIELD_RO, LCS and OBJECT against a resp
server (or redis-server, to compare). Args: host port protocol. Prints what
it saw, one line each."""

import sys

import redis

host, port, proto = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = redis.Redis(host=host, port=port, protocol=proto)
r.delete("py:a", "py:b", "py:d", "py:f", "py:l1", "py:l2")
r.set("py:a", "foobar")
r.set("py:b", "abcdef")
print(r.bitop("XOR", "py:d", "py:a", "py:b"), r.get("py:d"))
print(r.bitop("NOT", "py:d", "py:a"), r.get("py:d"))
field = r.bitfield("py:f", default_overflow="SAT")
field.set("u8", 0, 200).incrby("u8", 0, 100).overflow("FAIL").incrby("i8", "#1", 200).get("i16", 0)
print(field.execute())
print(r.bitfield_ro("py:f", "u8", 0, items=[("u4", 4)]))
r.set("py:l1", "ohmytext")
r.set("py:l2", "mynewtext")
print(r.lcs("py:l1", "py:l2"))
print(r.lcs("py:l1", "py:l2", len=True))
print(r.lcs("py:l1", "py:l2", idx=True, minmatchlen=4, withmatchlen=True))
print(r.object("encoding", "py:a"), r.object("refcount", "py:a"))
r.set("py:a", 42)
print(r.object("encoding", "py:a"), r.object("refcount", "py:a"))
