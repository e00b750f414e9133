//! A plain RESP client for tests (commands out, whole replies back as the
//! server sent them, byte for byte), and a redis-server to compare with.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use percore_protocols::resp::protocol::{encode_command, reply_len};

use super::{connect, free_port, DEADLINE};

/// One RESP connection.
pub struct Resp {
    pub stream: TcpStream,
    buffered: Vec<u8>,
}

impl Resp {
    pub fn connect(addr: SocketAddr) -> Resp {
        Resp {
            stream: connect(addr),
            buffered: Vec::new(),
        }
    }

    /// Sends one command (as a multibulk) and returns its whole reply.
    pub fn call(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send(args);
        self.reply()
    }

    /// Like [`Resp::call`], with the arguments as words of one string.
    pub fn cmd(&mut self, line: &str) -> String {
        let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        String::from_utf8_lossy(&self.call(&words)).into_owned()
    }

    pub fn send(&mut self, args: &[&[u8]]) {
        let mut wire = Vec::new();
        encode_command(args.iter().copied(), &mut wire);
        self.stream.write_all(&wire).expect("send a command");
    }

    /// The next whole reply, within the deadline.
    pub fn reply(&mut self) -> Vec<u8> {
        let give_up = Instant::now() + DEADLINE;
        loop {
            if let Ok(Some(len)) = reply_len(&self.buffered) {
                return self.buffered.drain(..len).collect();
            }
            assert!(Instant::now() < give_up, "no whole reply in {DEADLINE:?}");
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read a reply");
            assert!(
                n > 0,
                "closed before a whole reply: {:?}",
                String::from_utf8_lossy(&self.buffered)
            );
            self.buffered.extend_from_slice(&chunk[..n]);
        }
    }

    /// Everything until the server closes the connection.
    pub fn rest_until_closed(&mut self) -> Vec<u8> {
        let mut all = std::mem::take(&mut self.buffered);
        self.stream
            .set_read_timeout(Some(DEADLINE))
            .expect("read timeout");
        let _ = self.stream.read_to_end(&mut all);
        all
    }
}

/// A redis-server 7.0 on a free port, for byte-for-byte comparisons; None
/// when the machine has none (`.ci/run` installs it).
pub struct RedisServer {
    child: Child,
    pub addr: SocketAddr,
}

impl RedisServer {
    pub fn start() -> Option<RedisServer> {
        RedisServer::start_on(free_port(), &[])
    }

    /// A redis-server on `port` with `extra` options (a cluster node's).
    pub fn start_on(port: u16, extra: &[&str]) -> Option<RedisServer> {
        let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
            .into_iter()
            .find(|path| Path::new(path).exists())?;
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            // percore serves one database (docs/PROTOCOLS.md §6.2: SELECT 0 only).
            .args(["--databases", "1"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let give_up = Instant::now() + DEADLINE;
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < give_up, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(10));
        }
        Some(RedisServer { child, addr })
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command line's words, split at single spaces, as the byte-for-byte
/// comparisons with redis-server send them.
/// Sends each of `lines` (words split on spaces) to both servers and
/// asserts the replies are the same bytes; `context` names the case.
#[allow(dead_code)]
/// Runs `lines` on the percore at `ours` and on `redis`, in RESP2 then in
/// RESP3, each time from an empty key space, and asserts that every reply
/// is the same, byte for byte.
pub fn assert_sequence_same_as_redis(ours: SocketAddr, redis: &RedisServer, lines: &[&str]) {
    for proto in ["2", "3"] {
        let mut our_conn = Resp::connect(ours);
        let mut their_conn = Resp::connect(redis.addr);
        our_conn.call(&[b"HELLO", proto.as_bytes()]);
        their_conn.call(&[b"HELLO", proto.as_bytes()]);
        our_conn.cmd("FLUSHALL");
        their_conn.cmd("FLUSHALL");
        let context = format!("RESP{proto}: ");
        assert_same_replies(&mut our_conn, &mut their_conn, lines, &context);
    }
}

pub fn assert_same_replies(ours: &mut Resp, theirs: &mut Resp, lines: &[&str], context: &str) {
    for line in lines {
        assert_eq!(
            String::from_utf8_lossy(&ours.call(&words(line))),
            String::from_utf8_lossy(&theirs.call(&words(line))),
            "{context}{line}"
        );
    }
}

pub fn words(line: &str) -> Vec<&[u8]> {
    line.split(' ').map(str::as_bytes).collect()
}

/// A connection that shard `shard` of `shards` serves (a client id tells
/// its shard: connections are dealt to shards by the kernel, so it retries).
pub fn connect_on(shards: usize, addr: SocketAddr, shard: usize) -> Resp {
    let give_up = Instant::now() + DEADLINE;
    loop {
        let mut resp = Resp::connect(addr);
        let id = resp.cmd("CLIENT ID");
        let id: u64 = id.trim_start_matches(':').trim().parse().expect("an id");
        if percore_protocols::resp::client::shard_of(id, shards) == shard {
            return resp;
        }
        assert!(Instant::now() < give_up, "no connection on shard {shard}");
    }
}

/// A key that shard `shard` of `shards` owns, named `prefix` and a number.
pub fn key_on(shards: usize, shard: usize, prefix: &str) -> String {
    (0..)
        .map(|i| format!("{prefix}{i}"))
        .find(|key| percore::cross_shard::owner_of(key.as_bytes(), shards) == shard)
        .expect("a key")
}

/// Waits until INFO counts `n` blocked clients.
pub fn wait_blocked(resp: &mut Resp, n: usize) {
    let give_up = Instant::now() + DEADLINE;
    let want = format!("blocked_clients:{n}\r\n");
    while !resp.cmd("INFO clients").contains(&want) {
        assert!(Instant::now() < give_up, "never {n} blocked clients");
        std::thread::yield_now();
    }
}
