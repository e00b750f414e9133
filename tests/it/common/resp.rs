//! A plain RESP client for tests (commands out, whole replies back as the
//! server sent them, byte for byte), and a redis-server to compare with.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use percore_protocols::resp::protocol::{encode_command, reply_len};

use super::{connect, free_port, poll_until, wait_until, DEADLINE};

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
        String::from_utf8_lossy(&self.call(&words(line))).into_owned()
    }

    /// Like [`Resp::send`], with the arguments as words of one string; the
    /// reply is left to come.
    pub fn send_cmd(&mut self, line: &str) {
        self.send(&words(line));
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
    /// A redis-server on a free port; `None` when none is installed.
    pub fn start() -> Option<RedisServer> {
        // A port free a moment ago can be taken before redis-server binds
        // it (another test's listener or connection): then it exits, and
        // another port is tried.
        for _ in 0..5 {
            if let Ok(server) = RedisServer::try_start_on(free_port(), &[])? {
                return Some(server);
            }
        }
        panic!("redis-server could not bind a free port in 5 tries");
    }

    /// A redis-server on `port` with `extra` options (a cluster node's).
    pub fn start_on(port: u16, extra: &[&str]) -> Option<RedisServer> {
        let started = RedisServer::try_start_on(port, extra)?;
        Some(started.unwrap_or_else(|why| panic!("redis-server on port {port}: {why}")))
    }

    /// Starts redis-server and waits until it answers a PING (a connect
    /// alone can reach another listener, or the socket itself when the
    /// kernel picks the port as the connection's own); `Err` when it exits
    /// first (the port was taken), `None` when none is installed.
    fn try_start_on(port: u16, extra: &[&str]) -> Option<Result<RedisServer, String>> {
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
        let mut server = RedisServer { child, addr };
        let mut exited = None;
        let ready = poll_until(DEADLINE, || {
            exited = server.child.try_wait().ok().flatten();
            exited.is_some() || answers_ping(addr)
        });
        if let Some(status) = exited {
            return Some(Err(format!("exited ({status}) before answering")));
        }
        assert!(
            ready,
            "redis-server answering a PING on {addr} within {DEADLINE:?}"
        );
        Some(Ok(server))
    }
}

/// Whether the server at `addr` answers a PING as Redis does (`+PONG`, or
/// `-NOAUTH` when it wants a password first).
fn answers_ping(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    if stream.set_read_timeout(Some(DEADLINE)).is_err() || stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 64];
    match stream.read(&mut reply) {
        Ok(n) => reply[..n].starts_with(b"+PONG") || reply[..n].starts_with(b"-NOAUTH"),
        Err(_) => false,
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The redis-server the byte-for-byte comparisons run against; panics
/// when there is none (`scripts/test` installs it).
pub fn redis() -> RedisServer {
    RedisServer::start().expect("redis-server is installed (scripts/test installs it)")
}

/// Runs `lines` on the percore at `ours` and on `redis`, in RESP2 then in
/// RESP3, each time from an empty key space, and asserts that every reply
/// is the same, byte for byte (see [`reply_text`] for a line that starts
/// with `~`).
pub fn assert_sequence_same_as_redis(ours: SocketAddr, redis: &RedisServer, lines: &[&str]) {
    assert_sequence_same_as_redis_in("", ours, redis, lines);
}

/// [`assert_sequence_same_as_redis`], with `context` (e.g. the shard
/// count) in front of what a failure says.
pub fn assert_sequence_same_as_redis_in(
    context: &str,
    ours: SocketAddr,
    redis: &RedisServer,
    lines: &[&str],
) {
    for proto in ["2", "3"] {
        let mut our_conn = Resp::connect(ours);
        let mut their_conn = Resp::connect(redis.addr);
        our_conn.call(&[b"HELLO", proto.as_bytes()]);
        their_conn.call(&[b"HELLO", proto.as_bytes()]);
        our_conn.cmd("FLUSHALL");
        their_conn.cmd("FLUSHALL");
        let context = format!("{context}RESP{proto}: ");
        assert_same_replies(&mut our_conn, &mut their_conn, lines, &context);
    }
}

/// Like [`assert_sequence_same_as_redis`], with a second connection to
/// each server: a line `other:CMD` sends CMD on it (a WATCHed key changed
/// by another client). After RESET the first connections say HELLO again,
/// since RESET resets the protocol too.
pub fn assert_two_client_sequence_same_as_redis(
    ours: SocketAddr,
    redis: &RedisServer,
    lines: &[String],
) {
    for proto in ["2", "3"] {
        let mut our_conn = Resp::connect(ours);
        let mut their_conn = Resp::connect(redis.addr);
        let mut our_other = Resp::connect(ours);
        let mut their_other = Resp::connect(redis.addr);
        our_conn.call(&[b"HELLO", proto.as_bytes()]);
        their_conn.call(&[b"HELLO", proto.as_bytes()]);
        our_conn.cmd("FLUSHALL");
        their_conn.cmd("FLUSHALL");
        for line in lines {
            let (a, b) = match line.strip_prefix("other:") {
                Some(rest) => (our_other.call(&words(rest)), their_other.call(&words(rest))),
                None => (our_conn.call(&words(line)), their_conn.call(&words(line))),
            };
            assert_eq!(
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b),
                "RESP{proto}: {line}"
            );
            if line == "RESET" {
                our_conn.call(&[b"HELLO", proto.as_bytes()]);
                their_conn.call(&[b"HELLO", proto.as_bytes()]);
            }
        }
    }
}

/// Sends each of `lines` (see [`words`]) to both servers and asserts the
/// replies are the same bytes; `context` names the case.
pub fn assert_same_replies(ours: &mut Resp, theirs: &mut Resp, lines: &[&str], context: &str) {
    for line in lines {
        assert_eq!(
            reply_text(ours, line),
            reply_text(theirs, line),
            "{context}{line}"
        );
    }
}

/// `line`'s reply on `conn`, as text. A line that starts with `~` is sent
/// without it, and its reply's lines are sorted: a reply in hash-table
/// order (SMEMBERS, HGETALL), which Redis does not fix either, compared as
/// a multiset of lines.
pub fn reply_text(conn: &mut Resp, line: &str) -> String {
    let (line, any_order) = match line.strip_prefix('~') {
        Some(line) => (line, true),
        None => (line, false),
    };
    let reply = String::from_utf8_lossy(&conn.call(&words(line))).into_owned();
    if !any_order {
        return reply;
    }
    let mut lines: Vec<&str> = reply.split("\r\n").collect();
    lines.sort_unstable();
    lines.join("|")
}

/// A command line's words, split at single spaces, as the byte-for-byte
/// comparisons with redis-server send them.
pub fn words(line: &str) -> Vec<&[u8]> {
    line.split(' ').map(str::as_bytes).collect()
}

/// The shard of `shards` that serves `resp`'s connection (its CLIENT ID
/// tells: `percore_protocols::resp::client::shard_of`).
pub fn shard_serving(resp: &mut Resp, shards: usize) -> usize {
    let reply = resp.cmd("CLIENT ID");
    let id: u64 = reply
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("CLIENT ID answered {reply:?}"));
    percore_protocols::resp::client::shard_of(id, shards)
}

/// A connection that shard `shard` of `shards` serves (connections are
/// dealt to shards by the kernel, so it retries).
pub fn connect_on(shards: usize, addr: SocketAddr, shard: usize) -> Resp {
    let give_up = Instant::now() + DEADLINE;
    loop {
        let mut resp = Resp::connect(addr);
        if shard_serving(&mut resp, shards) == shard {
            return resp;
        }
        assert!(Instant::now() < give_up, "no connection on shard {shard}");
    }
}

/// Waits until INFO counts `n` blocked clients.
pub fn wait_blocked(resp: &mut Resp, n: usize) {
    let want = format!("blocked_clients:{n}\r\n");
    wait_until(&format!("{n} blocked clients"), || {
        resp.cmd("INFO clients").contains(&want)
    });
}
