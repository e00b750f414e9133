"""1 publisher, SUBS subscribers of one channel: deliveries per second.
usage: fanout.py PORT SUBS MESSAGES"""
import selectors, socket, sys, time
port, subs, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
payload = b"x" * 16
frame = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$16\r\n" + payload + b"\r\n"
sel = selectors.DefaultSelector()
conns = []
for _ in range(subs):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"SUBSCRIBE ch\r\n")
    ack = b""
    while not ack.endswith(b":1\r\n"):
        ack += s.recv(100)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, [0])
    conns.append(s)
pub = socket.create_connection(("127.0.0.1", port))
cmd = b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$16\r\n" + payload + b"\r\n"
want = n * len(frame)
start = time.time()
sent = 0
batch = 100
done = 0
pending_replies = 0
pub.setblocking(False)
sel.register(pub, selectors.EVENT_READ, [-1])
while done < subs:
    if sent < n and pending_replies < 2000:
        k = min(batch, n - sent)
        pub.setblocking(True); pub.sendall(cmd * k); pub.setblocking(False)
        sent += k; pending_replies += k
    for key, _ in sel.select(timeout=0.01):
        data = key.fileobj.recv(1 << 20)
        if key.data[0] == -1:
            pending_replies -= data.count(b"\r\n")
            continue
        key.data[0] += len(data)
        if key.data[0] >= want and len(data) > 0 and key.data[0] - len(data) < want:
            done += 1
elapsed = time.time() - start
print(f"{subs * n / elapsed:.0f} deliveries/s ({subs} subscribers, {n} messages, {elapsed:.2f} s)")
