//! resp's lists (issue 27): LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP (count)
//! LLEN LINDEX LSET LRANGE LTRIM LREM LINSERT LPOS LMOVE RPOPLPUSH LMPOP:
//! replies byte for byte equal to redis-server 7.0's on 1 and 4 shards
//! (LMOVE's keys then on two shards), RESP2 and RESP3; durable.

use crate::common::typed::{same_as_redis, survives_restart};

const SEQUENCE: &[&str] = &[
    "RPUSH L a b c d a b",
    "LPUSH L x y",
    "LPUSHX nokey a",
    "RPUSHX L z",
    "LLEN L",
    "LLEN nokey",
    "LRANGE L 0 -1",
    "LRANGE L -3 -1",
    "LRANGE L 5 2",
    "LRANGE L x 2",
    "LINDEX L 0",
    "LINDEX L -1",
    "LINDEX L 100",
    "LINDEX L x",
    "LSET L 1 Y",
    "LSET L 100 Y",
    "LSET nokey 0 x",
    "LREM L 1 a",
    "LREM L -1 b",
    "LREM L 0 zz",
    "LRANGE L 0 -1",
    "LINSERT L BEFORE c C",
    "LINSERT L AFTER c D",
    "LINSERT L AFTER nope D",
    "LINSERT nokey AFTER c D",
    "LINSERT L MIDDLE c D",
    "LPOS L c",
    "LPOS L d RANK -1",
    "LPOS L a COUNT 0",
    "LPOS L nope",
    "LPOS L a RANK 0",
    "LPOS L a COUNT -1",
    "LPOS L a MAXLEN -1",
    "LPOS L a FOO 1",
    "LPOP L",
    "RPOP L",
    "LPOP L 2",
    "RPOP L 0",
    "LPOP L -1",
    "LPOP nokey",
    "LPOP nokey 2",
    "LPOP L 1 1",
    "RPOP L 2 2",
    "LTRIM L 1 2",
    "LRANGE L 0 -1",
    "LTRIM L 5 1",
    "EXISTS L",
    "RPUSH s1 a b c",
    "RPUSH s2 x",
    "LMOVE s1 s2 LEFT RIGHT",
    "LMOVE s1 s2 MIDDLE RIGHT",
    "RPOPLPUSH s1 s2",
    "LRANGE s2 0 -1",
    "LMOVE nokey s2 LEFT LEFT",
    "SET str v",
    "LMOVE s1 str LEFT LEFT",
    "LMOVE str s1 LEFT LEFT",
    "LMOVE nokey str LEFT LEFT",
    "RPOPLPUSH nokey str",
    "LMPOP 2 nokey s2 LEFT COUNT 2",
    "LMPOP 2 nokey nokey2 LEFT",
    "LMPOP 0 s2 LEFT",
    "LMPOP 1 s2 LEFT COUNT 0",
    "LMPOP 1 str LEFT",
    "LRANGE s2 0 -1",
    "LPUSH str a",
    "TYPE s2",
    "RPUSH self a b c",
    "LMOVE self self LEFT RIGHT",
    "LRANGE self 0 -1",
];

#[test]
fn list_commands_equal_redis_on_four_shards() {
    same_as_redis("4", SEQUENCE);
}

#[test]
fn list_commands_equal_redis_on_one_shard() {
    same_as_redis("1", SEQUENCE);
}

const WRITES: &[&str] = &[
    "RPUSH L a b c d e f",
    "LPUSH L z",
    "LPOP L",
    "RPOP L 2",
    "LSET L 0 A",
    "LINSERT L AFTER b B",
    "LREM L 0 c",
    "LTRIM L 0 2",
    "RPUSH m 1 2 3",
    "LMOVE m L RIGHT LEFT",
    "RPUSH e x",
    "EXPIRE e 1000",
];

const READS: &[&str] = &["LRANGE L 0 -1", "LRANGE m 0 -1", "LRANGE e 0 -1", "TYPE L"];

#[test]
fn lists_survive_a_restart_on_another_shard_count() {
    survives_restart(WRITES, READS, false);
}

#[test]
fn lists_survive_a_kill_under_fsync_always() {
    survives_restart(WRITES, READS, true);
}

/// redis-py's hash, set, sorted set and list calls, blocking ones and a
/// transaction included (tests/interop/redis_py_types.py asserts each).
#[test]
fn redis_py_types_work_in_resp2_and_resp3() {
    let server = crate::common::TestServer::builder().start();
    let addr = server.addr("resp");
    let out = crate::common::run_python_client(
        "redis_py_types.py",
        &[addr.ip().to_string(), addr.port().to_string()],
    );
    assert_eq!(out, "redis-py RESP2 ok\nredis-py RESP3 ok\n");
    server.stop().assert_clean();
}
