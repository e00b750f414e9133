//! resp's hashes (issue 27): HSET HSETNX HGET HMGET HMSET HDEL HLEN HSTRLEN
//! HEXISTS HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN, TYPE,
//! WRONGTYPE, expiry, RENAME/COPY and SCAN TYPE of a hash: replies byte for
//! byte equal to redis-server 7.0's on 1 and 4 shards, RESP2 and RESP3; the
//! hashes survive restarts with another shard count, a kill -9 under
//! `--fsync always`, and a compaction.

use crate::common::resp::Resp;
use crate::common::typed::{same_as_redis, survives_restart};
use crate::common::*;

const SEQUENCE: &[&str] = &[
    "HSET h a 1 b 2 c 3",
    "HSET h a 10 d 4",
    "HSET h a",
    "HMSET h e 5 f",
    "HMSET h e 5",
    "HSETNX h a x",
    "HSETNX h g 7",
    "HGET h a",
    "HGET h nope",
    "HGET nokey a",
    "HMGET h a nope b",
    "HMGET nokey a b",
    "HLEN h",
    "HLEN nokey",
    "HSTRLEN h a",
    "HSTRLEN h nope",
    "HEXISTS h a",
    "HEXISTS h nope",
    "HKEYS h",
    "HVALS h",
    "HGETALL h",
    "HGETALL nokey",
    "HINCRBY h a 5",
    "HINCRBY h new -3",
    "HINCRBY h a x",
    "HINCRBY h a 9223372036854775807",
    "HSET h s abc",
    "HINCRBY h s 1",
    "HINCRBYFLOAT h f 1.5",
    "HINCRBYFLOAT h f -0.25",
    "HINCRBYFLOAT h s 1",
    "HINCRBYFLOAT h f x",
    "HDEL h a nope b",
    "HDEL h nope",
    "HDEL nokey a",
    "~HGETALL h",
    "~HKEYS h",
    "HRANDFIELD nokey",
    "HRANDFIELD nokey 3",
    "HRANDFIELD h 0",
    "HRANDFIELD h 1 foo",
    "HRANDFIELD h x",
    "HSCAN nokey 0",
    "HSCAN h x",
    "HSCAN h 0 COUNT 0",
    "SET str v",
    "HSET str a 1",
    "HGET str a",
    "HGETALL str",
    "TYPE h",
    "TYPE str",
    "GET h",
    "APPEND h x",
    "SET h2 x GET",
    "HSET one f v",
    "RENAME one two",
    "HGETALL two",
    "COPY two three",
    "HGETALL three",
    "EXISTS one two three",
    "EXPIRE two 100",
    "TTL two",
    "PERSIST two",
    "SET three plain",
    "TYPE three",
    "DEL two three h",
    "EXISTS h two",
    "HSET solo f v",
    "HDEL solo f",
    "EXISTS solo",
];

#[test]
fn hash_commands_equal_redis_on_four_shards() {
    same_as_redis("4", SEQUENCE);
}

#[test]
fn hash_commands_equal_redis_on_one_shard() {
    same_as_redis("1", SEQUENCE);
}

/// Every field of a hash over several shards' keys comes back from HSCAN,
/// HRANDFIELD gives distinct fields, SCAN TYPE finds hashes only.
#[test]
fn scans_and_random_fields_cover_the_hash() {
    let server = TestServer::builder().services(&["resp"]).start();
    let mut resp = Resp::connect(server.addr("resp"));
    for i in 0..100 {
        assert_eq!(resp.cmd(&format!("HSET big f{i} v{i}")), ":1\r\n");
        assert_eq!(resp.cmd(&format!("HSET h{i} f v")), ":1\r\n");
        assert_eq!(resp.cmd(&format!("SET s{i} v")), "+OK\r\n");
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = resp.cmd(&format!("HSCAN big {cursor} COUNT 7"));
        let lines: Vec<&str> = reply.split("\r\n").collect();
        cursor = lines[2].to_string();
        seen.extend(
            lines
                .iter()
                .filter(|l| l.starts_with('f'))
                .map(|l| l.to_string()),
        );
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 100);
    let reply = resp.cmd("HRANDFIELD big 50");
    let fields: std::collections::BTreeSet<&str> =
        reply.split("\r\n").filter(|l| l.starts_with('f')).collect();
    assert_eq!(fields.len(), 50, "distinct");
    let mut hashes = 0;
    let mut cursor = "0".to_string();
    loop {
        let reply = resp.cmd(&format!("SCAN {cursor} TYPE hash COUNT 50"));
        let lines: Vec<&str> = reply.split("\r\n").collect();
        cursor = lines[2].to_string();
        assert!(!reply.contains("\r\ns"), "strings filtered out: {reply}");
        hashes += lines
            .iter()
            .filter(|l| l.starts_with('h') || **l == "big")
            .count();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(hashes, 101);
    drop(resp);
    server.stop().assert_clean();
}

const WRITES: &[&str] = &[
    "HSET h a 1 b 2 c 3",
    "HDEL h b",
    "HINCRBY h a 41",
    "HINCRBYFLOAT h f 2.5",
    "HSETNX h c no",
    "HSET e x y",
    "EXPIRE e 1000",
    "HSET gone x y",
    "DEL gone",
    "HSET moved k v",
    "RENAME moved dest",
];

const READS: &[&str] = &[
    "~HGETALL h",
    "HGETALL e",
    "EXISTS gone moved",
    "HGETALL dest",
    "TYPE h",
];

#[test]
fn hashes_survive_a_restart_on_another_shard_count() {
    survives_restart(WRITES, READS, false);
}

#[test]
fn hashes_survive_a_kill_under_fsync_always() {
    survives_restart(WRITES, READS, true);
}

/// `--max-memory` counts every element: a hash that grows past the cap is
/// refused its next field with Redis's OOM error, reads and deletes go on,
/// and MEMORY USAGE grows with the fields.
#[test]
fn the_memory_cap_counts_each_element() {
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(1)
        .args(&["--max-memory", "20000"])
        .start();
    let mut resp = Resp::connect(server.addr("resp"));
    let mut last = 0;
    let mut refused = None;
    for i in 0..1000 {
        let reply = resp.cmd(&format!("HSET big field{i:04} value-of-the-field-{i:04}"));
        if reply.starts_with("-OOM") {
            refused = Some(i);
            break;
        }
        assert_eq!(reply, ":1\r\n");
        let usage = resp.cmd("MEMORY USAGE big");
        let usage: u64 = usage
            .trim_start_matches(':')
            .trim_end()
            .parse()
            .expect("bytes");
        assert!(usage > last, "MEMORY USAGE grows with each field");
        last = usage;
    }
    let refused = refused.expect("the cap refuses a field");
    assert!(refused > 50, "{refused} fields fit in 20,000 bytes");
    assert_eq!(
        resp.cmd("HGET big field0000"),
        "$23\r\nvalue-of-the-field-0000\r\n"
    );
    assert_eq!(
        resp.cmd("SADD other m"),
        "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
    );
    assert_eq!(resp.cmd("HDEL big field0000"), ":1\r\n");
    drop(resp);
    server.stop().assert_clean();
}
