//! resp's sets (issue 27): SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS
//! SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SUNION SDIFF and the STORE
//! forms, SSCAN: replies equal to redis-server 7.0's on 1 and 4 shards
//! (the multi-key ones then span shards), RESP2 and RESP3; durable.

use crate::common::resp::Resp;
use crate::common::typed::{same_as_redis, survives_restart};
use crate::common::*;

const SEQUENCE: &[&str] = &[
    "SADD s1 a b c d",
    "SADD s1 a e",
    "SADD s2 c d x",
    "SADD s3 d y",
    "SREM s1 zz",
    "SREM s1 e zz",
    "SREM nokey a",
    "SCARD s1",
    "SCARD nokey",
    "SISMEMBER s1 a",
    "SISMEMBER s1 zz",
    "SMISMEMBER s1 a zz b",
    "SMISMEMBER nokey a",
    "~SMEMBERS s1",
    "SMEMBERS nokey",
    "~SINTER s1 s2",
    "SINTER s1 s2 s3",
    "SINTER s1 nokey",
    "~SUNION s1 s2 s3",
    "~SDIFF s1 s2",
    "SDIFF nokey s1",
    "SINTERCARD 2 s1 s2",
    "SINTERCARD 2 s1 s2 LIMIT 1",
    "SINTERCARD 0 s1",
    "SINTERCARD 5 s1",
    "SINTERCARD 1 s1 LIMIT -1",
    "SINTERCARD 1 s1 foo 1",
    "SINTERSTORE d1 s1 s2",
    "~SMEMBERS d1",
    "SUNIONSTORE d2 s1 s2 s3",
    "SCARD d2",
    "SDIFFSTORE d3 s1 s2 s3",
    "~SMEMBERS d3",
    "SINTERSTORE d3 s1 nokey",
    "EXISTS d3",
    "SMOVE s1 s3 a",
    "SMOVE s1 s3 a",
    "SISMEMBER s3 a",
    "SMOVE s3 s3 a",
    "SMOVE nokey s3 a",
    "SET str v",
    "SADD str a",
    "SINTER s1 str",
    "SINTER nokey str",
    "SUNIONSTORE d4 s1 str",
    "SUNIONSTORE str s1",
    "TYPE str",
    "SMOVE str s1 a",
    "SMOVE s1 str b",
    "SPOP nokey",
    "SPOP nokey 2",
    "SPOP s1 -1",
    "SPOP s1 0",
    "SRANDMEMBER nokey",
    "SRANDMEMBER nokey 3",
    "SRANDMEMBER s1 0",
    "SRANDMEMBER s1 x",
    "SSCAN nokey 0",
    "SSCAN s1 x",
    "SADD single only",
    "SPOP single",
    "EXISTS single",
    "SADD p a b c",
    "~SPOP p 3",
    "EXISTS p",
];

#[test]
fn set_commands_equal_redis_on_four_shards() {
    same_as_redis("4", SEQUENCE);
}

#[test]
fn set_commands_equal_redis_on_one_shard() {
    same_as_redis("1", SEQUENCE);
}

/// SPOP and SRANDMEMBER take distinct members; SSCAN sees every member.
#[test]
fn pops_and_scans_cover_the_set() {
    let server = TestServer::builder().services(&["resp"]).start();
    let mut resp = Resp::connect(server.addr("resp"));
    for i in 0..100 {
        assert_eq!(resp.cmd(&format!("SADD big m{i}")), ":1\r\n");
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = resp.cmd(&format!("SSCAN big {cursor} COUNT 9"));
        let lines: Vec<&str> = reply.split("\r\n").collect();
        cursor = lines[2].to_string();
        seen.extend(
            lines
                .iter()
                .filter(|l| l.starts_with('m'))
                .map(|l| l.to_string()),
        );
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 100);
    let reply = resp.cmd("SRANDMEMBER big 30");
    let some: std::collections::BTreeSet<&str> =
        reply.split("\r\n").filter(|l| l.starts_with('m')).collect();
    assert_eq!(some.len(), 30);
    let reply = resp.cmd("SPOP big 60");
    let popped: std::collections::BTreeSet<&str> =
        reply.split("\r\n").filter(|l| l.starts_with('m')).collect();
    assert_eq!(popped.len(), 60);
    assert_eq!(resp.cmd("SCARD big"), ":40\r\n");
    for member in popped {
        assert_eq!(resp.cmd(&format!("SISMEMBER big {member}")), ":0\r\n");
    }
    drop(resp);
    server.stop().assert_clean();
}

const WRITES: &[&str] = &[
    "SADD s a b c d",
    "SREM s b",
    "SADD t c d e",
    "SINTERSTORE i s t",
    "SUNIONSTORE u s t",
    "SMOVE s t a",
    "SPOP u",
    "SADD e x",
    "PEXPIRE e 1000000",
];

const READS: &[&str] = &[
    "~SMEMBERS s",
    "~SMEMBERS t",
    "~SMEMBERS i",
    "SCARD u",
    "SMEMBERS e",
    "TYPE i",
];

#[test]
fn sets_survive_a_restart_on_another_shard_count() {
    survives_restart(WRITES, READS, false);
}

#[test]
fn sets_survive_a_kill_under_fsync_always() {
    survives_restart(WRITES, READS, true);
}
