"""redis-py's pub/sub against a server: HOST PORT PROTOCOL (2 or 3).
Prints one line per result; the Rust test runs it against percore and
against redis-server and compares the whole output."""
import sys

import redis

host, port, protocol = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = redis.Redis(host=host, port=port, protocol=protocol, socket_timeout=10)
p = r.pubsub()
p.subscribe("ch")
print(p.get_message(timeout=5))
print(r.publish("ch", "hi"))
print(p.get_message(timeout=5))
p.psubscribe("c*")
print(p.get_message(timeout=5))
print(r.publish("ch", "again"))
print(p.get_message(timeout=5))
print(p.get_message(timeout=5))
print(r.pubsub_numsub("ch", "other"))
print(r.pubsub_numpat())
print(r.pubsub_channels())
print(r.publish("cx", b"\xff\x00bin"))
print(p.get_message(timeout=5))
p.unsubscribe("ch")
print(p.get_message(timeout=5))
p.punsubscribe()
print(p.get_message(timeout=5))
print(r.publish("ch", "nobody"))
p.close()
# A callback-driven subscriber, as applications write them.
got = []
p = r.pubsub(ignore_subscribe_messages=True)
p.subscribe(news=lambda message: got.append(message["data"]))
p.get_message(timeout=5)
for i in range(3):
    r.publish("news", "item %d" % i)
while len(got) < 3:
    p.get_message(timeout=5)
print(got)
p.close()
