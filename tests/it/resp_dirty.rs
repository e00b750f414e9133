//! INFO's `rdb_changes_since_last_save` (Redis's dirty count, issue 26:
//! unit/bitops reads it) and `CONFIG SET maxmemory` below one byte a shard,
//! on 2 shards, against redis-server 7.0 doing the same.

use crate::common::resp::{redis, words, Resp};
use crate::common::*;

/// The server's dirty count now.
fn changes(conn: &mut Resp) -> i64 {
    let info = conn.cmd("INFO persistence");
    info.lines()
        .find_map(|line| line.trim_end().strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no rdb_changes_since_last_save in {info}"))
}

#[test]
fn writes_that_change_a_key_count_as_redis_counts_them() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let redis = redis();
    let mut ours = Resp::connect(server.addr("resp"));
    let mut theirs = Resp::connect(redis.addr);
    // Each step: commands, then the count's rise expected on both servers.
    let steps: &[(&[&str], i64)] = &[
        // A new key always counts (unit/bitops, "SETBIT/BITFIELD only
        // increase dirty when the value changed").
        (&["SETBIT foo 0 0", "BITFIELD foo2 SET i5 0 0"], 2),
        // The same bits again: no change.
        (&["SETBIT foo 0 0", "BITFIELD foo2 SET i5 0 0"], 0),
        (
            &[
                "SETBIT foo 0 1",
                "SETBIT foo 0 1",
                "SETBIT foo 0 0",
                "SETBIT foo 0 0",
                "BITFIELD foo2 SET i5 0 1",
                "BITFIELD foo2 SET i5 0 1",
                "BITFIELD foo2 SET i5 0 0",
                "BITFIELD foo2 SET i5 0 0",
            ],
            4,
        ),
        (
            &["BITFIELD foo3 INCRBY i5 0 1", "BITFIELD foo3 INCRBY i5 0 1"],
            2,
        ),
        // Growing the string counts.
        (&["SETBIT foo 90 0", "BITFIELD foo2 SET i5 90 0"], 2),
        (&["SET a 1", "SET b 2", "GET a", "EXISTS b"], 2),
    ];
    for (commands, rise) in steps {
        let (ours_before, theirs_before) = (changes(&mut ours), changes(&mut theirs));
        for line in *commands {
            ours.call(&words(line));
            theirs.call(&words(line));
        }
        assert_eq!(
            changes(&mut ours) - ours_before,
            *rise,
            "percore: {commands:?}"
        );
        assert_eq!(
            changes(&mut theirs) - theirs_before,
            *rise,
            "redis: {commands:?}"
        );
    }
    // SAVE starts the count again, on every shard.
    assert_eq!(ours.cmd("SAVE"), "+OK\r\n");
    assert_eq!(changes(&mut ours), 0);
}

#[test]
fn maxmemory_of_one_byte_refuses_writes_on_every_shard() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let mut conn = Resp::connect(server.addr("resp"));
    assert_eq!(conn.cmd("CONFIG SET maxmemory 1"), "+OK\r\n");
    // Keys on both shards (their owners differ for some of these names).
    for key in ["a", "b", "c", "d", "e", "f"] {
        let reply = conn.call(&[b"SET", key.as_bytes(), b"1"]);
        assert!(
            String::from_utf8_lossy(&reply).starts_with("-OOM command not allowed"),
            "SET {key}: {}",
            String::from_utf8_lossy(&reply)
        );
    }
    assert_eq!(conn.cmd("CONFIG SET maxmemory 0"), "+OK\r\n");
    assert_eq!(conn.cmd("SET a 1"), "+OK\r\n");
}
