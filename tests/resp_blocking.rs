//! resp's blocking list and sorted set commands (issue 27): BLPOP, BRPOP,
//! BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP. Replies equal to
//! redis-server 7.0's where nothing waits; a blocked client is woken by a
//! push from a connection of another shard, and under load (many blockers
//! and pushers over 4 shards) every element is popped exactly once.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::resp::Resp;
use common::typed::same_as_redis;
use common::*;

const SEQUENCE: &[&str] = &[
    "RPUSH l1 a b c",
    "BLPOP nokey l1 1",
    "BRPOP l1 nokey 1",
    "BLMOVE l1 l2 LEFT RIGHT 1",
    "BRPOPLPUSH l2 l1 1",
    "LRANGE l1 0 -1",
    "BLMPOP 1 2 nokey l1 RIGHT COUNT 5",
    "ZADD z 1 a 2 b 3 c",
    "BZPOPMIN nokey z 1",
    "BZPOPMAX z 1",
    "BZMPOP 1 1 z MIN COUNT 3",
    "SET str v",
    "BLPOP str 1",
    "BZPOPMIN str 1",
    "BLPOP l1 -1",
    "BLPOP l1 x",
    "BLMOVE l1 l2 UP RIGHT 1",
    "BLMPOP 1 0 l1 LEFT",
    "BZMPOP 1 1 z MIDDLE",
    "BLPOP nokey 0.01",
    "BZPOPMIN nokey 0.01",
    "BLMOVE nokey l2 LEFT LEFT 0.01",
    "BLMPOP 0.01 1 nokey LEFT",
    "MULTI",
    "BLPOP nokey 0",
    "EXEC",
];

#[test]
fn blocking_commands_equal_redis_when_nothing_waits() {
    same_as_redis("4", SEQUENCE);
}

/// A BLPOP blocked on a key is woken by an RPUSH from another connection,
/// and INFO counts it blocked meanwhile.
#[test]
fn a_push_wakes_a_blocked_client() {
    let server = Server::start(&["--services", "resp"]);
    let addr = server.addr("resp");
    let waiter = std::thread::spawn(move || {
        let mut resp = Resp::connect(addr);
        resp.cmd("BLPOP q 20")
    });
    let mut resp = Resp::connect(addr);
    let give_up = Instant::now() + DEADLINE;
    while !resp.cmd("INFO clients").contains("blocked_clients:1") {
        assert!(Instant::now() < give_up, "the client never blocked");
        std::thread::yield_now();
    }
    assert_eq!(resp.cmd("RPUSH q hello"), ":1\r\n");
    let woke = Instant::now();
    assert_eq!(
        waiter.join().expect("the waiter"),
        "*2\r\n$1\r\nq\r\n$5\r\nhello\r\n"
    );
    assert!(woke.elapsed() < Duration::from_secs(2));
    assert_eq!(resp.cmd("EXISTS q"), ":0\r\n");
    drop(resp);
    server.stop().assert_clean();
}

/// BRPOPLPUSH blocked on an empty source whose destination is a string
/// (Redis checks the destination only once there is something to move):
/// the push it waits for is answered WRONGTYPE and stays in the source.
#[test]
fn a_blocked_move_to_a_key_of_another_type_is_refused_when_woken() {
    let server = Server::start(&["--services", "resp"]);
    let addr = server.addr("resp");
    let mut resp = Resp::connect(addr);
    assert_eq!(resp.cmd("SET target nolist"), "+OK\r\n");
    let waiter = std::thread::spawn(move || Resp::connect(addr).cmd("BRPOPLPUSH blist target 0"));
    let give_up = Instant::now() + DEADLINE;
    while !resp.cmd("INFO clients").contains("blocked_clients:1") {
        assert!(Instant::now() < give_up, "the client never blocked");
        std::thread::yield_now();
    }
    assert_eq!(resp.cmd("RPUSH blist foo"), ":1\r\n");
    let woken = waiter.join().expect("the waiter");
    assert!(woken.starts_with("-WRONGTYPE"), "{woken}");
    assert_eq!(resp.cmd("LRANGE blist 0 -1"), "*1\r\n$3\r\nfoo\r\n");
    drop(resp);
    server.stop().assert_clean();
}

/// A client that disconnects while blocked (timeout 0) is blocked no more:
/// INFO stops counting it.
#[test]
fn a_client_gone_while_blocked_is_forgotten() {
    let server = Server::start(&["--services", "resp"]);
    let addr = server.addr("resp");
    let mut resp = Resp::connect(addr);
    let mut blocked = Resp::connect(addr);
    blocked.send(&[b"BLPOP", b"nothing", b"0"]);
    let give_up = Instant::now() + DEADLINE;
    while !resp.cmd("INFO clients").contains("blocked_clients:1") {
        assert!(Instant::now() < give_up, "the client never blocked");
        std::thread::yield_now();
    }
    drop(blocked);
    while !resp.cmd("INFO clients").contains("blocked_clients:0") {
        assert!(
            Instant::now() < give_up,
            "the blocked client was never forgotten"
        );
        std::thread::yield_now();
    }
    drop(resp);
    server.stop().assert_clean();
}

/// 16 blockers on 8 keys spread over 4 shards, 4 pushers of 2,000 distinct
/// elements: every element is popped once, none lost, none twice.
#[test]
fn many_blockers_and_pushers_lose_and_duplicate_nothing() {
    let server = Server::start(&["--services", "resp"]);
    let addr = server.addr("resp");
    const PUSHERS: usize = 4;
    const EACH: usize = 500;
    const TOTAL: usize = PUSHERS * EACH;
    let keys: Vec<String> = (0..8).map(|k| format!("queue{k}")).collect();
    let popped = Arc::new(AtomicUsize::new(0));
    let blockers: Vec<_> = (0..16)
        .map(|b| {
            let (keys, popped) = (keys.clone(), popped.clone());
            std::thread::spawn(move || {
                let mut resp = Resp::connect(addr);
                let mut got = Vec::new();
                // Each blocker lists the keys from its own start.
                let mut order: Vec<&str> = keys.iter().map(String::as_str).collect();
                order.rotate_left(b % keys.len());
                let line = format!("BLPOP {} 1", order.join(" "));
                while popped.load(Ordering::SeqCst) < TOTAL {
                    let reply = resp.cmd(&line);
                    if reply.starts_with("*2") {
                        let item = reply.split("\r\n").nth(4).expect("an item").to_string();
                        got.push(item);
                        popped.fetch_add(1, Ordering::SeqCst);
                    } else {
                        assert_eq!(reply, "*-1\r\n", "a timeout, or an item");
                    }
                }
                got
            })
        })
        .collect();
    let pushers: Vec<_> = (0..PUSHERS)
        .map(|p| {
            let keys = keys.clone();
            std::thread::spawn(move || {
                let mut resp = Resp::connect(addr);
                for i in 0..EACH {
                    let key = &keys[(p * 7 + i * 3) % keys.len()];
                    let reply = resp.cmd(&format!("RPUSH {key} p{p}-{i}"));
                    assert!(reply.starts_with(':'), "{reply}");
                }
            })
        })
        .collect();
    for pusher in pushers {
        pusher.join().expect("a pusher");
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for blocker in blockers {
        for item in blocker.join().expect("a blocker") {
            *seen.entry(item).or_default() += 1;
        }
    }
    assert_eq!(seen.len(), TOTAL, "every element popped");
    assert!(seen.values().all(|&n| n == 1), "none popped twice");
    let mut resp = Resp::connect(addr);
    for key in &keys {
        assert_eq!(resp.cmd(&format!("LLEN {key}")), ":0\r\n");
    }
    drop(resp);
    server.stop().assert_clean();
}
