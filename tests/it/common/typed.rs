//! Shared by the tests of hashes, sets, sorted sets and lists (issue 27):
//! a sequence of commands answered byte for byte as redis-server 7.0
//! answers it, and a restart that keeps what they wrote.
//!
//! A line starting with `~` is compared as a multiset of reply lines: its
//! reply's order is the hash table's (SMEMBERS, HGETALL), which Redis does
//! not fix either.

use super::resp::{redis, words, Resp};
use super::{TempDir, TestServer};

/// The reply, and whether it is compared in any order.
fn call(resp: &mut Resp, line: &str) -> (String, bool) {
    let (line, any_order) = match line.strip_prefix('~') {
        Some(line) => (line, true),
        None => (line, false),
    };
    let reply = String::from_utf8_lossy(&resp.call(&words(line))).into_owned();
    if !any_order {
        return (reply, false);
    }
    let mut lines: Vec<&str> = reply.split("\r\n").collect();
    lines.sort_unstable();
    (lines.join("|"), true)
}

/// Runs `sequence` on percore with `shards` shards and on a redis-server,
/// in RESP2 then RESP3, and asserts every reply equal.
pub fn same_as_redis(shards: &str, sequence: &[&str]) {
    let server = TestServer::builder()
        .services(&["resp"])
        .args(&["--shards", shards])
        .start();
    let redis = redis();
    for proto in ["2", "3"] {
        let mut ours = Resp::connect(server.addr("resp"));
        let mut theirs = Resp::connect(redis.addr);
        ours.call(&[b"HELLO", proto.as_bytes()]);
        theirs.call(&[b"HELLO", proto.as_bytes()]);
        ours.cmd("FLUSHALL");
        theirs.cmd("FLUSHALL");
        for line in sequence {
            let (a, _) = call(&mut ours, line);
            let (b, _) = call(&mut theirs, line);
            assert_eq!(a, b, "RESP{proto}, {shards} shards: {line}");
        }
    }
    server.stop().assert_clean();
}

/// Runs `writes` on a durable percore of 3 shards (`fsync` policy), reads
/// `reads`, stops it (cleanly, or with SIGKILL under `--fsync always`),
/// starts it again on 2 shards and asserts the same replies to `reads`.
pub fn survives_restart(writes: &[&str], reads: &[&str], kill: bool) {
    let dir = TempDir::new();
    let fsync = if kill { "always" } else { "everysec" };
    let start = |shards: usize| {
        TestServer::builder()
            .services(&["resp"])
            .shards(shards)
            .data_dir(&dir.path)
            .args(&["--fsync", fsync])
            .start()
    };
    let server = start(3);
    let mut resp = Resp::connect(server.addr("resp"));
    for line in writes {
        let (reply, _) = call(&mut resp, line);
        assert!(!reply.starts_with('-'), "{line}: {reply}");
    }
    let before: Vec<String> = reads.iter().map(|line| call(&mut resp, line).0).collect();
    drop(resp);
    if kill {
        let mut server = server;
        server.signal(libc::SIGKILL);
        let _ = server.wait();
    } else {
        server.stop().assert_clean();
    }
    let server = start(2);
    let mut resp = Resp::connect(server.addr("resp"));
    for (line, expected) in reads.iter().zip(&before) {
        assert_eq!(
            &call(&mut resp, line).0,
            expected,
            "after the restart: {line}"
        );
    }
    // A compaction writes each type as one record; the next start reads it.
    assert_eq!(resp.cmd("SAVE"), "+OK\r\n");
    drop(resp);
    server.stop().assert_clean();
    let server = start(1);
    let mut resp = Resp::connect(server.addr("resp"));
    for (line, expected) in reads.iter().zip(&before) {
        assert_eq!(
            &call(&mut resp, line).0,
            expected,
            "after SAVE and a restart: {line}"
        );
    }
    drop(resp);
    server.stop().assert_clean();
}
