//! resp's BITOP, BITFIELD, BITFIELD_RO, LCS and OBJECT (issue 26): replies
//! byte for byte equal to redis-server 7.0's, in RESP2 and RESP3, with keys
//! on one shard and on several (4 shards); their writes survive a restart;
//! COMMAND knows them; in cluster mode their keys are checked for slots;
//! over keys of other types (issue 27) they answer as Redis.

use crate::common::resp::{assert_same_replies, assert_sequence_same_as_redis, redis, Resp};
use crate::common::*;
use percore::cross_shard::placement::fnv_owner;
use percore_protocols::resp::cluster::slot::key_slot;

/// Commands whose replies do not depend on time, ids or hash order.
const SEQUENCE: &[&str] = &[
    // BITOP: sources of different lengths, missing ones, every operation,
    // over keys that land on one shard and on several.
    "SET s1 foobar",
    "SET s2 abcdefghij",
    "SET s3 \u{0}\u{ff}",
    "BITOP AND d1 s1 s2",
    "GET d1",
    "BITOP OR d2 s1 s2 s3",
    "GET d2",
    "BITOP XOR d3 s1 s2 s3 nokey",
    "GET d3",
    "BITOP NOT d4 s1",
    "GET d4",
    "BITOP and d5 s3 nokey",
    "GET d5",
    "BITOP NOT d6 nokey",
    "EXISTS d6",
    "SET d7 old EX 100",
    "BITOP OR d7 nokey other",
    "EXISTS d7",
    "SET d8 old EX 100",
    "BITOP OR d8 s1",
    "TTL d8",
    "GET d8",
    "BITOP NOT d9 s1 s2",
    "BITOP NOT d9",
    "BITOP NAND d9 s1 s2",
    "BITOP OR s1 s1 s2",
    "GET s1",
    "BITOP XOR {t}a {t}b {t}c",
    "SET {t}b xyz",
    "BITOP XOR {t}a {t}b {t}b",
    "GET {t}a",
    // BITFIELD
    "BITFIELD f1 SET u8 0 255 GET u8 0 GET i8 0",
    "BITFIELD f1 INCRBY u8 0 10 INCRBY i8 0 10",
    "BITFIELD f2 SET i5 7 -9 GET u5 7 GET i5 7",
    "GET f2",
    "BITFIELD f3 OVERFLOW SAT INCRBY u8 0 300 INCRBY i8 8 300 INCRBY i8 8 -1000",
    "BITFIELD f3 OVERFLOW FAIL INCRBY u8 0 1 INCRBY u8 16 100 OVERFLOW WRAP INCRBY u8 0 1",
    "BITFIELD f4 OVERFLOW FAIL SET u2 0 10",
    "GET f4",
    "BITFIELD f5 SET u8 #1 200 SET u8 #3 100 GET u16 #0 GET u8 #3",
    "BITFIELD f5 GET i64 0 SET i64 0 -1 INCRBY i64 0 1",
    "BITFIELD f5 SET i64 0 9223372036854775807 INCRBY i64 0 1 OVERFLOW SAT INCRBY i64 0 1",
    "BITFIELD f5 SET u63 0 -1 GET u63 0",
    "BITFIELD f5 OVERFLOW SAT SET u8 0 -5 SET i8 0 200 GET i8 0",
    "BITFIELD f6",
    "BITFIELD nokey GET u8 0 GET i16 100",
    "EXISTS nokey",
    "BITFIELD f7 GET u64 0",
    "BITFIELD f7 GET x8 0",
    "BITFIELD f7 GET i65 0",
    "BITFIELD f7 GET i0 0",
    "BITFIELD f7 GET u8 -1",
    "BITFIELD f7 GET u8 4294967296",
    "BITFIELD f7 SET u8 0 x",
    "BITFIELD f7 OVERFLOW BAD GET u8 0",
    "BITFIELD f7 BOGUS",
    "BITFIELD f7 GET u8",
    "BITFIELD f7 SET u8 0 1 GET u8 0 BOGUS",
    "EXISTS f7",
    "SET f8 v EX 100",
    "BITFIELD f8 SET u8 100 1",
    "TTL f8",
    "STRLEN f8",
    "BITFIELD_RO f1 GET u8 0 GET i4 4",
    "BITFIELD_RO f1 SET u8 0 1",
    "BITFIELD_RO f1 GET u8 0 INCRBY u8 0 1",
    "BITFIELD_RO nokey GET u8 0",
    "BITFIELD_RO f1",
    // LCS
    "SET l1 ohmytext",
    "SET l2 mynewtext",
    "LCS l1 l2",
    "LCS l1 l2 LEN",
    "LCS l1 l2 IDX",
    "LCS l1 l2 IDX WITHMATCHLEN",
    "LCS l1 l2 IDX MINMATCHLEN 4 WITHMATCHLEN",
    "LCS l1 l2 IDX MINMATCHLEN -5",
    "LCS l1 l2 minmatchlen 2 idx",
    "LCS l1 l2 LEN IDX",
    "LCS l1 l2 MINMATCHLEN x",
    "LCS l1 l2 MINMATCHLEN",
    "LCS l1 l2 BOGUS",
    "LCS l1 nokey",
    "LCS nokey nokey2 IDX",
    "LCS l1 l1 IDX WITHMATCHLEN",
    "SET {l}a ACCGGTCGAGTGCGCGGAAGCCGGCCGAA",
    "SET {l}b GTCGTTCGGAATGCCGTTGCTCTGTAAA",
    "LCS {l}a {l}b",
    "LCS {l}a {l}b IDX WITHMATCHLEN",
    "LCS l1",
    // OBJECT
    "SET o1 12345",
    "SET o2 0",
    "SET o3 hello",
    "SET o4 0123456789012345678901234567890123456789abcd",
    "SET o5 0123456789012345678901234567890123456789abcde",
    "SET o6 -9223372036854775808",
    "SET o7 99999999999999999999",
    "OBJECT ENCODING o1",
    "OBJECT ENCODING o3",
    "OBJECT ENCODING o4",
    "OBJECT ENCODING o5",
    "OBJECT ENCODING o6",
    "OBJECT ENCODING o7",
    "OBJECT encoding nokey",
    "OBJECT REFCOUNT o1",
    "OBJECT REFCOUNT o2",
    "OBJECT REFCOUNT o3",
    "OBJECT REFCOUNT nokey",
    "SET o8 9999",
    "OBJECT REFCOUNT o8",
    "INCR o8",
    "OBJECT REFCOUNT o8",
    "OBJECT FREQ o1",
    "OBJECT FREQ nokey",
    "OBJECT IDLETIME nokey",
    "OBJECT HELP",
    "OBJECT HELP x",
    "OBJECT ENCODING",
    "OBJECT ENCODING o1 o2",
    "OBJECT BOGUS o1",
    "OBJECT",
];

#[test]
fn bit_lcs_and_object_commands_equal_redis_byte_for_byte() {
    let server = TestServer::builder().start();
    let redis = redis();
    assert_sequence_same_as_redis(server.addr("resp"), &redis, SEQUENCE);
    server.stop().assert_clean();
}

/// COMMAND INFO and COMMAND GETKEYS know them, as redis does.
#[test]
fn command_info_and_getkeys_equal_redis() {
    let server = TestServer::builder().start();
    let redis = redis();
    let mut ours = Resp::connect(server.addr("resp"));
    let mut theirs = Resp::connect(redis.addr);
    assert_same_replies(
        &mut ours,
        &mut theirs,
        &[
            "COMMAND INFO bitop bitfield bitfield_ro lcs",
            "COMMAND INFO object|encoding object|help object|freq object|refcount object|idletime",
            "COMMAND GETKEYS BITOP AND d a b c",
            "COMMAND GETKEYS BITFIELD k GET u8 0",
            "COMMAND GETKEYS BITFIELD_RO k GET u8 0",
            "COMMAND GETKEYS LCS a b IDX",
            "COMMAND DOCS lcs",
        ],
        "",
    );
    server.stop().assert_clean();
}

/// BITOP's destination and BITFIELD's writes go through the log: they are
/// there after a restart with another shard count, BITOP's sources on
/// several shards or on one.
#[test]
fn their_writes_survive_a_restart() {
    let dir = TempDir::new();
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(3)
        .data_dir(&dir.path)
        .start();
    let mut resp = Resp::connect(server.addr("resp"));
    for i in 0..8 {
        assert_eq!(resp.cmd(&format!("SET a{i} abc{i}")), "+OK\r\n");
        assert_eq!(resp.cmd(&format!("SET b{i} x")), "+OK\r\n");
        assert_eq!(resp.cmd(&format!("BITOP OR d{i} a{i} b{i}")), ":4\r\n");
        assert_eq!(resp.cmd(&format!("SET e{i} gone")), "+OK\r\n");
        assert_eq!(resp.cmd(&format!("BITOP AND e{i} nokey")), ":0\r\n");
    }
    assert_eq!(
        resp.cmd("BITFIELD f SET u8 8 65 INCRBY u8 0 66"),
        "*2\r\n:0\r\n:66\r\n"
    );
    drop(resp);
    server.stop().assert_clean();
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(2)
        .data_dir(&dir.path)
        .start();
    let mut resp = Resp::connect(server.addr("resp"));
    for i in 0..8 {
        let want = [b'a' | b'x', b'b', b'c', b'0' + i];
        let want = format!("$4\r\n{}\r\n", String::from_utf8_lossy(&want));
        assert_eq!(resp.cmd(&format!("GET d{i}")), want);
        assert_eq!(resp.cmd(&format!("EXISTS e{i}")), ":0\r\n");
    }
    assert_eq!(resp.cmd("GET f"), "$2\r\nBA\r\n");
    drop(resp);
    server.stop().assert_clean();
}

/// In MULTI, BITOP, BITFIELD, LCS and OBJECT over keys of one shard run
/// in the transaction, with the replies they give outside it.
#[test]
fn they_run_in_a_transaction_on_one_shard() {
    let server = TestServer::builder().start();
    let mut resp = Resp::connect(server.addr("resp"));
    // Four keys that the 4 shards' placement puts on one shard.
    let key = |i: usize| {
        (0..)
            .map(|n| format!("k{n}"))
            .filter(|k| fnv_owner(k.as_bytes(), 4) == 0)
            .nth(i)
            .expect("keys enough")
    };
    let (a, b, c, d) = (key(0), key(1), key(2), key(3));
    assert_eq!(resp.cmd(&format!("SET {a} ohmytext")), "+OK\r\n");
    assert_eq!(resp.cmd(&format!("SET {b} mynewtext")), "+OK\r\n");
    assert_eq!(resp.cmd("MULTI"), "+OK\r\n");
    for line in [
        format!("BITOP XOR {c} {a} {b}"),
        format!("BITFIELD {d} SET u8 0 7"),
        format!("LCS {a} {b}"),
        format!("OBJECT ENCODING {a}"),
        "OBJECT HELP".to_string(),
    ] {
        assert_eq!(resp.cmd(&line), "+QUEUED\r\n", "{line}");
    }
    let exec = resp.cmd("EXEC");
    assert!(
        exec.starts_with("*5\r\n:9\r\n*1\r\n:0\r\n$6\r\nmytext\r\n$6\r\nembstr\r\n*15\r\n"),
        "{exec}"
    );
    assert_eq!(resp.cmd(&format!("STRLEN {c}")), ":9\r\n");
    server.stop().assert_clean();
}

/// Cluster mode: their keys are checked as redis checks them (CROSSSLOT
/// for keys in several slots, MOVED to the slot's node; OBJECT's key is
/// its third argument).
#[test]
fn in_cluster_mode_their_keys_are_checked_for_slots() {
    let nodes = crate::common::cluster::Nodes::cluster(2, 2);
    let crossslot = "-CROSSSLOT Keys in request don't hash to the same slot\r\n";
    // foo is slot 12182.
    let foo = crate::common::cluster::owner(12182, 2);
    let mut here = Resp::connect(nodes.addr(foo));
    let mut there = Resp::connect(nodes.addr(1 - foo));
    assert_eq!(here.cmd("BITOP AND foo a b"), crossslot);
    assert_eq!(here.cmd("LCS foo bar"), crossslot);
    assert_eq!(here.cmd("SET foo 12"), "+OK\r\n");
    assert_eq!(here.cmd("OBJECT ENCODING foo"), "$3\r\nint\r\n");
    assert_eq!(here.cmd("BITFIELD foo GET u8 0"), "*1\r\n:49\r\n");
    let moved = format!("-MOVED 12182 127.0.0.1:{}\r\n", nodes.ports[foo]);
    assert_eq!(there.cmd("OBJECT ENCODING foo"), moved);
    assert_eq!(there.cmd("BITFIELD_RO foo GET u8 0"), moved);
    assert!(there.cmd("OBJECT HELP").starts_with("*15\r\n"));
    let tagged = crate::common::cluster::owner(key_slot(b"t"), 2);
    let mut tag_node = Resp::connect(nodes.addr(tagged));
    assert_eq!(tag_node.cmd("SET {t}a abc"), "+OK\r\n");
    assert_eq!(tag_node.cmd("BITOP NOT {t}b {t}a"), ":3\r\n");
    assert_eq!(tag_node.cmd("LCS {t}a {t}b LEN"), ":0\r\n");
}

/// redis-py sees the same replies from percore as from redis-server, in
/// RESP2 and RESP3 (its BITFIELD builder, `lcs`, `object`).
#[test]
fn redis_py_sees_what_it_sees_from_redis() {
    let server = TestServer::builder().start();
    let redis = redis();
    for proto in ["2", "3"] {
        let run = |addr: std::net::SocketAddr| {
            crate::common::run_python_client(
                "redis_py_bits.py",
                &[
                    addr.ip().to_string(),
                    addr.port().to_string(),
                    proto.to_string(),
                ],
            )
        };
        let (ours, theirs) = (run(server.addr("resp")), run(redis.addr));
        assert_eq!(ours, theirs, "RESP{proto}");
        assert!(ours.contains("b'mytext'"), "{ours}");
    }
    server.stop().assert_clean();
}

/// Keys of other types (issue 27) met by the commands of issue 26: BITOP's
/// sources and BITFIELD answer WRONGTYPE, LCS its own error, BITOP's
/// destination is overwritten, OBJECT reports Redis's encodings; over
/// keys on one shard and on several.
#[test]
fn they_meet_hashes_sets_sorted_sets_and_lists_as_redis() {
    let keys = ["s", "h", "a", "b", "c", "d", "e"];
    let owners: Vec<usize> = keys.iter().map(|k| fnv_owner(k.as_bytes(), 4)).collect();
    assert!(
        owners.iter().any(|&o| o != owners[0]),
        "keys on several shards"
    );
    let big = "x".repeat(65);
    let hset_big = format!("HSET hb f {big}");
    let zadd_big = format!("ZADD zb 1 {big}");
    let sequence = [
        "SET s abc",
        "HSET h f v",
        "BITOP AND d s h",
        "BITOP OR d a b c h",
        "BITOP XOR d h",
        "BITOP NOT d h",
        "SET e xyz",
        "BITOP AND h s e",
        "TYPE h",
        "GET h",
        "DEL h",
        "HSET h f v",
        "LCS s h",
        "LCS h s",
        "LCS h e BADOPT",
        "LCS s e LEN",
        "BITFIELD h GET u8 0",
        "BITFIELD h SET u8 0 1",
        "BITFIELD_RO h GET u8 0",
        "OBJECT ENCODING h",
        "OBJECT REFCOUNT h",
        "OBJECT IDLETIME h",
        "OBJECT FREQ h",
        &hset_big,
        "OBJECT ENCODING hb",
        "SADD a 1 2 3",
        "OBJECT ENCODING a",
        "SADD a 007",
        "OBJECT ENCODING a",
        "ZADD b 1 m",
        "OBJECT ENCODING b",
        &zadd_big,
        "OBJECT ENCODING zb",
        "RPUSH c x",
        "OBJECT ENCODING c",
        "OBJECT ENCODING nokey",
    ];
    for shards in ["1", "4"] {
        crate::common::typed::same_as_redis(shards, &sequence);
    }
}
