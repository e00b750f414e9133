//! What Redis refuses inside MULTI before a command runs (issue 26,
//! unit/multi): every command but EXEC and DISCARD while memory is full,
//! EXEC of a queue holding a command that may add data (`EXECABORT ...
//! OOM`), and SAVE and SHUTDOWN (`no_multi`); on 2 shards, against
//! redis-server 7.0 doing the same.

use crate::common::resp::{redis, words, Resp};
use crate::common::*;

#[test]
fn multi_refuses_what_may_add_data_while_memory_is_full_as_redis() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let redis = redis();
    // (connection 1 or 2, command): unit/multi's OOM tests, on each server.
    let steps: &[(u8, &str)] = &[
        (1, "MULTI"),
        (1, "SET foo1 bar1"),
        (2, "CONFIG SET maxmemory 1"),
        (1, "LPUSH mylist myvalue"),
        (1, "GET foo1"),
        (2, "CONFIG SET maxmemory 0"),
        (1, "SET foo2 bar2"),
        (1, "EXEC"),
        (1, "EXISTS foo1"),
        (1, "MULTI"),
        (1, "SET x 1"),
        (1, "GET x"),
        (2, "CONFIG SET maxmemory 1"),
        (1, "EXEC"),
        (1, "MULTI"),
        (1, "GET x"),
        (1, "PING"),
        (1, "EXEC"),
        (1, "MULTI"),
        (1, "SET x 1"),
        (1, "DISCARD"),
        (2, "CONFIG SET maxmemory 0"),
        (1, "PING"),
    ];
    let mut replies = Vec::new();
    for addr in [server.addr("resp"), redis.addr] {
        let mut one = Resp::connect(addr);
        let mut two = Resp::connect(addr);
        let got: Vec<String> = steps
            .iter()
            .map(|(conn, line)| {
                let conn = if *conn == 1 { &mut one } else { &mut two };
                String::from_utf8_lossy(&conn.call(&words(line))).into_owned()
            })
            .collect();
        replies.push(got);
    }
    for (i, (ours, theirs)) in replies[0].iter().zip(&replies[1]).enumerate() {
        assert_eq!(ours, theirs, "{:?}", steps[i]);
    }
}

#[test]
fn save_and_shutdown_are_refused_inside_multi_as_redis() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let redis = redis();
    crate::common::resp::assert_sequence_same_as_redis(
        server.addr("resp"),
        &redis,
        &[
            "MULTI",
            "SET foo bar",
            "SAVE",
            "EXEC",
            "GET foo",
            "MULTI",
            "SHUTDOWN",
            "EXEC",
            "PING",
        ],
    );
}
