//! resp's BITOP, BITFIELD, BITFIELD_RO, LCS and OBJECT (issue 26): replies
//! byte for byte equal to redis-server 7.0's, in RESP2 and RESP3, with keys
//! on one shard and on several (4 shards); their writes survive a restart;
//! COMMAND knows them; in cluster mode their keys are checked for slots.

mod common;

use common::resp::{RedisServer, Resp};
use common::*;

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

fn words(line: &str) -> Vec<&[u8]> {
    line.split(' ').map(str::as_bytes).collect()
}

#[test]
fn bit_lcs_and_object_commands_equal_redis_byte_for_byte() {
    let server = Server::start(&[]);
    let redis = RedisServer::start().expect("redis-server is installed (.ci/run installs it)");
    for proto in ["2", "3"] {
        let mut ours = Resp::connect(server.addr("resp"));
        let mut theirs = Resp::connect(redis.addr);
        ours.call(&[b"HELLO", proto.as_bytes()]);
        theirs.call(&[b"HELLO", proto.as_bytes()]);
        ours.cmd("FLUSHALL");
        theirs.cmd("FLUSHALL");
        for line in SEQUENCE {
            let (a, b) = (ours.call(&words(line)), theirs.call(&words(line)));
            assert_eq!(
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b),
                "RESP{proto}: {line}"
            );
        }
    }
    server.stop().assert_clean();
}
