//! Shared by the tests of hashes, sets, sorted sets and lists (issue 27):
//! a sequence of commands answered byte for byte as redis-server 7.0
//! answers it, and a restart that keeps what they wrote.
//!
//! A line starting with `~` is compared as a multiset of reply lines
//! ([`super::resp::reply_text`]).

use super::resp::{assert_sequence_same_as_redis_in, redis, reply_text, Resp};
use super::{TempDir, TestServer};

/// Runs `sequence` on percore with `shards` shards and on a redis-server,
/// in RESP2 then RESP3, and asserts every reply equal.
pub fn same_as_redis(shards: &str, sequence: &[&str]) {
    let server = TestServer::builder()
        .services(&["resp"])
        .args(&["--shards", shards])
        .start();
    let context = format!("{shards} shards, ");
    assert_sequence_same_as_redis_in(&context, server.addr("resp"), &redis(), sequence);
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
        let reply = reply_text(&mut resp, line);
        assert!(!reply.starts_with('-'), "{line}: {reply}");
    }
    let before: Vec<String> = reads
        .iter()
        .map(|line| reply_text(&mut resp, line))
        .collect();
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
            &reply_text(&mut resp, line),
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
            &reply_text(&mut resp, line),
            expected,
            "after SAVE and a restart: {line}"
        );
    }
    drop(resp);
    server.stop().assert_clean();
}
