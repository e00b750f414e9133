//! resp's string and key commands that Redis's own test suite reaches for
//! (issue 26): INCRBYFLOAT, GETSET, SETBIT, GETBIT, BITCOUNT, BITPOS, TOUCH,
//! EXPIRETIME, PEXPIRETIME, RENAME, RENAMENX, COPY, and FUNCTION FLUSH/LIST as a server with no
//! functions. Replies byte for byte equal to redis-server 7.0's on 4 shards,
//! in RESP2 and RESP3; their writes survive a restart; COMMAND knows them.

use crate::common::resp::{assert_same_replies, assert_sequence_same_as_redis, redis, Resp};
use crate::common::*;

/// Commands whose replies do not depend on time, ids or hash order.
const SEQUENCE: &[&str] = &[
    "FUNCTION FLUSH",
    "FUNCTION FLUSH ASYNC",
    "FUNCTION FLUSH SYNC",
    "FUNCTION LIST",
    // INCRBYFLOAT
    "INCRBYFLOAT f 10.5",
    "INCRBYFLOAT f 0.25",
    "INCRBYFLOAT f -10.75",
    "SET f 17179869184",
    "INCRBYFLOAT f 1.5",
    "INCRBYFLOAT f 17179869184",
    "SET f 1.5e3",
    "INCRBYFLOAT f 2",
    "INCRBYFLOAT f x",
    "INCRBYFLOAT f +inf",
    "INCRBYFLOAT f nan",
    "SET f abc",
    "INCRBYFLOAT f 1",
    "SET f 0",
    "INCRBYFLOAT f 5",
    "INCRBYFLOAT f -5",
    "GET f",
    "INCRBYFLOAT f",
    // GETSET
    "GETSET g one",
    "GETSET g two",
    "GET g",
    "SET g v EX 100",
    "GETSET g w",
    "TTL g",
    // SETBIT and GETBIT
    "SETBIT b 7 1",
    "GET b",
    "SETBIT b 7 1",
    "SETBIT b 7 0",
    "SETBIT b 100 1",
    "STRLEN b",
    "GETBIT b 100",
    "GETBIT b 99",
    "GETBIT b 100000",
    "GETBIT nokey 3",
    "SETBIT b -1 1",
    "SETBIT b 4294967296 1",
    "SETBIT b x 1",
    "SETBIT b 1 2",
    "SETBIT b 1 -1",
    "GETBIT b -1",
    "SET b2 foo EX 100",
    "SETBIT b2 0 1",
    "TTL b2",
    // BITCOUNT
    "SET c foobar",
    "BITCOUNT c",
    "BITCOUNT c 0 0",
    "BITCOUNT c 1 1",
    "BITCOUNT c 1 -2",
    "BITCOUNT c -100 100",
    "BITCOUNT c 5 1",
    "BITCOUNT c -6 -7",
    "BITCOUNT c -6 -15 BIT",
    "BITCOUNT c -1 -1",
    "BITCOUNT c 5 30 BIT",
    "BITCOUNT c 1 1 BIT",
    "BITCOUNT c 0 -1 BIT",
    "BITCOUNT c 7 7 BIT",
    "BITCOUNT c 0 0 BYTE",
    "BITCOUNT c 0 0 WORD",
    "BITCOUNT c 0",
    "BITCOUNT c a b",
    "BITCOUNT nokey",
    "BITCOUNT nokey 0",
    // BITPOS
    "SET p \u{0}\u{ff}\u{f0}",
    "BITPOS p 1",
    "BITPOS p 0",
    "BITPOS p 1 2",
    "BITPOS p 0 1",
    "BITPOS p 0 1 1",
    "BITPOS p 1 2 -1 BYTE",
    "BITPOS p 1 7 15 BIT",
    "BITPOS p 0 8 15 BIT",
    "BITPOS p 0 8 -1 BIT",
    "BITPOS p 1 5 3",
    "BITPOS p 2",
    "BITPOS p x",
    "BITPOS p 1 0 0 WORD",
    "BITPOS p 1 a",
    "BITPOS nokey 1",
    "BITPOS nokey 0",
    "SET ones \u{ff}\u{ff}",
    "BITPOS ones 0",
    "BITPOS ones 0 0 -1",
    "SET empty x",
    "GETDEL empty",
    // TOUCH, EXPIRETIME, PEXPIRETIME
    "TOUCH f g b c p nokey",
    "TOUCH nokey",
    "EXPIRETIME nokey",
    "EXPIRETIME g",
    "PEXPIRETIME g",
    "EXPIREAT g 4102444800",
    "EXPIRETIME g",
    "PEXPIRETIME g",
    "PEXPIREAT g 4102444800123",
    "EXPIRETIME g",
    "PEXPIRETIME g",
    "EXPIRETIME",
    // RENAME, RENAMENX, COPY: over keys on one shard and on two (4
    // shards: some of these pairs are split, some not).
    "SET r1 v1 EX 1000",
    "RENAME r1 r2",
    "GET r1",
    "GET r2",
    "TTL r2",
    "RENAME r1 r3",
    "RENAME r2 r2",
    "RENAMENX r2 r2",
    "SET a1 x",
    "SET a2 y",
    "SET a3 z",
    "SET a4 w",
    "RENAMENX a1 a2",
    "RENAMENX a1 a3",
    "RENAMENX a1 a4",
    "RENAMENX a1 a5",
    "RENAMENX a1 a6",
    "EXISTS a1 a5",
    "RENAME a2 a7",
    "RENAME a3 a8",
    "RENAME a4 a9",
    "MGET a2 a3 a4 a7 a8 a9",
    "COPY a7 a8",
    "COPY a7 a9 REPLACE",
    "COPY a7 a10",
    "COPY a7 a11 DB 0",
    "COPY a7 a12 DB 1",
    "COPY a7 a13 DB x",
    "COPY a7 a14 BOGUS",
    "COPY a7 a7",
    "COPY nokey a15",
    "MGET a7 a8 a9 a10 a11 a12",
    "SET e1 v PX 100000000",
    "COPY e1 e2",
    "COPY e1 e3",
    "COPY e1 e4",
    "TTL e2",
    "TTL e3",
    "TTL e4",
    "RENAME nokey x",
    "RENAMENX nokey x",
    // MGET over keys of several shards (and of several types): nil for a
    // value that is not a string, as on one shard.
    "RPUSH mg-l1 a",
    "SADD mg-s1 a",
    "SET mg-1 one",
    "SET mg-2 two",
    "MGET mg-1 mg-l1 mg-2 mg-s1 mg-nokey mg-1",
    "MGET mg-l1",
];

#[test]
fn string_and_key_commands_equal_redis_byte_for_byte() {
    let server = TestServer::builder().services(&["resp"]).start();
    let redis = redis();
    assert_sequence_same_as_redis(server.addr("resp"), &redis, SEQUENCE);
    // Scripting is not served: Redis runs FUNCTION RESTORE, percore refuses
    // it with the error that says so.
    let refused = Resp::connect(server.addr("resp")).cmd("FUNCTION RESTORE x");
    assert!(
        refused.starts_with("-ERR") && refused.contains("scripts"),
        "{refused}"
    );
    server.stop().assert_clean();
}

/// COMMAND INFO and COMMAND GETKEYS know every one of them, as redis does.
#[test]
fn command_info_and_getkeys_equal_redis() {
    let server = TestServer::builder().services(&["resp"]).start();
    let redis = redis();
    let mut ours = Resp::connect(server.addr("resp"));
    let mut theirs = Resp::connect(redis.addr);
    assert_same_replies(
        &mut ours,
        &mut theirs,
        &[
            "COMMAND INFO incrbyfloat getset setbit getbit bitcount bitpos",
            "COMMAND INFO touch expiretime pexpiretime",
            "COMMAND INFO rename renamenx copy",
            "COMMAND GETKEYS COPY a b REPLACE",
            "COMMAND GETKEYS RENAME a b",
            "COMMAND GETKEYS TOUCH a b c",
            "COMMAND GETKEYS SETBIT a 1 1",
            "COMMAND GETKEYS BITPOS a 1",
            "COMMAND GETKEYS EXPIRETIME a",
        ],
        "",
    );
    server.stop().assert_clean();
}

/// SUBSTR (GETRANGE's old name, served from one registry row): replies,
/// errors and COMMAND's view of it as redis-server 7.0's, in RESP2 and
/// RESP3, over keys on every shard.
#[test]
fn substr_equals_redis() {
    let server = TestServer::builder().services(&["resp"]).start();
    let redis = redis();
    for proto in ["2", "3"] {
        let mut ours = Resp::connect(server.addr("resp"));
        let mut theirs = Resp::connect(redis.addr);
        ours.call(&[b"HELLO", proto.as_bytes()]);
        theirs.call(&[b"HELLO", proto.as_bytes()]);
        ours.cmd("FLUSHALL");
        theirs.cmd("FLUSHALL");
        assert_same_replies(
            &mut ours,
            &mut theirs,
            &[
                "SET s1 Hello,World",
                "SET s2 0123456789",
                "SUBSTR s1 0 4",
                "SUBSTR s1 -5 -1",
                "substr s2 3 100",
                "SUBSTR s2 5 2",
                "SUBSTR s2 -100 -50",
                "SUBSTR nokey 0 -1",
                "SUBSTR s1 x 1",
                "SUBSTR s1 0",
                "SUBSTR s1 0 1 2",
                "RPUSH l a",
                "SUBSTR l 0 1",
                "COMMAND INFO substr",
                "COMMAND DOCS substr",
                "COMMAND GETKEYS SUBSTR s1 0 1",
            ],
            &format!("RESP{proto}: "),
        );
    }
    server.stop().assert_clean();
}

/// Their writes go through the log: what they wrote is there after a
/// restart with another shard count.
#[test]
fn their_writes_survive_a_restart() {
    let dir = TempDir::new();
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(3)
        .data_dir(&dir.path)
        .start();
    let mut resp = Resp::connect(server.addr("resp"));
    assert_eq!(resp.cmd("INCRBYFLOAT f 2.5"), "$3\r\n2.5\r\n");
    assert_eq!(resp.cmd("SET g old EX 1000"), "+OK\r\n");
    assert_eq!(resp.cmd("GETSET g new"), "$3\r\nold\r\n");
    assert_eq!(resp.cmd("SETBIT b 9 1"), ":0\r\n");
    for i in 0..8 {
        assert_eq!(resp.cmd(&format!("SET s{i} v{i}")), "+OK\r\n");
        assert_eq!(resp.cmd(&format!("RENAME s{i} d{i}")), "+OK\r\n");
        assert_eq!(resp.cmd(&format!("COPY d{i} c{i}")), ":1\r\n");
    }
    drop(resp);
    server.stop().assert_clean();
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(2)
        .data_dir(&dir.path)
        .start();
    let mut resp = Resp::connect(server.addr("resp"));
    assert_eq!(resp.cmd("GET f"), "$3\r\n2.5\r\n");
    assert_eq!(resp.cmd("GET g"), "$3\r\nnew\r\n");
    assert_eq!(resp.cmd("TTL g"), ":-1\r\n");
    assert_eq!(resp.cmd("GET b"), "$2\r\n\u{0}@\r\n");
    assert_eq!(resp.cmd("BITCOUNT b"), ":1\r\n");
    for i in 0..8 {
        assert_eq!(resp.cmd(&format!("EXISTS s{i}")), ":0\r\n");
        let value = format!("$2\r\nv{i}\r\n");
        assert_eq!(resp.cmd(&format!("GET d{i}")), value);
        assert_eq!(resp.cmd(&format!("GET c{i}")), value);
    }
    drop(resp);
    server.stop().assert_clean();
}
