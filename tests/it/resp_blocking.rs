//! resp's blocking list and sorted set commands (issue 27): BLPOP, BRPOP,
//! BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP. Replies equal to
//! redis-server 7.0's where nothing waits; a blocked client is woken by a
//! push from a connection of another shard, in the order clients blocked,
//! exactly once, or answered null at its timeout. The stress tests (many
//! blockers and pushers over 4 shards) are in `resp_blocking_load.rs`.

use std::time::{Duration, Instant};

use crate::common::resp::{connect_on, wait_blocked, Resp};
use crate::common::typed::same_as_redis;
use crate::common::*;

/// `TestServer::builder()`'s default shard count.
const SHARDS: usize = 4;

fn bulks(items: &[&str]) -> String {
    let mut out = format!("*{}\r\n", items.len());
    for item in items {
        out += &format!("${}\r\n{item}\r\n", item.len());
    }
    out
}

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
    // A move that may not block answers a null bulk, a pop a null array,
    // whether its keys share a shard or not.
    "MULTI",
    "BLMOVE nokey l2 LEFT LEFT 0",
    "BRPOPLPUSH nokey nokey 0",
    "BLMOVE {t}a {t}b LEFT LEFT 0",
    "BLPOP {t}a 0",
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
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let waiter = std::thread::spawn(move || {
        let mut resp = Resp::connect(addr);
        resp.cmd("BLPOP q 20")
    });
    let mut resp = Resp::connect(addr);
    wait_blocked(&mut resp, 1);
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
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let mut resp = Resp::connect(addr);
    assert_eq!(resp.cmd("SET target nolist"), "+OK\r\n");
    let waiter = std::thread::spawn(move || Resp::connect(addr).cmd("BRPOPLPUSH blist target 0"));
    wait_blocked(&mut resp, 1);
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
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let mut resp = Resp::connect(addr);
    let mut blocked = Resp::connect(addr);
    blocked.send(&[b"BLPOP", b"nothing", b"0"]);
    wait_blocked(&mut resp, 1);
    drop(blocked);
    wait_blocked(&mut resp, 0);
    drop(resp);
    server.stop().assert_clean();
}

/// Five clients on shards 1 to 3 block in turn on a key shard 0 owns; one
/// RPUSH of three elements and two of one serve them first blocked first
/// served, each its own element, and the list is empty after.
#[test]
fn blocked_clients_are_served_in_the_order_they_blocked() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let key = key_on(SHARDS, 0, "fifo");
    let mut control = Resp::connect(addr);
    let mut blockers = Vec::new();
    for (n, shard) in [1, 2, 3, 1, 2].into_iter().enumerate() {
        let mut blocker = connect_on(SHARDS, addr, shard);
        blocker.send(&[b"BLPOP", key.as_bytes(), b"0"]);
        wait_blocked(&mut control, n + 1);
        blockers.push(blocker);
    }
    let mut pusher = connect_on(SHARDS, addr, 3);
    // Redis serves after the whole command: RPUSH answers the length it made.
    assert_eq!(pusher.cmd(&format!("RPUSH {key} e0 e1 e2")), ":3\r\n");
    assert_eq!(pusher.cmd(&format!("RPUSH {key} e3")), ":1\r\n");
    assert_eq!(pusher.cmd(&format!("RPUSH {key} e4")), ":1\r\n");
    for (n, blocker) in blockers.iter_mut().enumerate() {
        let got = String::from_utf8_lossy(&blocker.reply()).into_owned();
        assert_eq!(got, bulks(&[&key, &format!("e{n}")]), "blocker {n}");
    }
    assert_eq!(control.cmd(&format!("LLEN {key}")), ":0\r\n");
    wait_blocked(&mut control, 0);
    drop((control, pusher, blockers));
    server.stop().assert_clean();
}

/// A client on shard 1 blocked on shard 2's key is served while shard 3's
/// connection pushes: the element is gone from the list before RPUSH
/// answers (no polling), and the reply follows at once.
#[test]
fn a_push_on_another_shard_wakes_the_blocked_client_at_once() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let key = key_on(SHARDS, 2, "prompt");
    let mut control = Resp::connect(addr);
    let mut blocker = connect_on(SHARDS, addr, 1);
    let mut pusher = connect_on(SHARDS, addr, 3);
    for round in 0..20 {
        blocker.send(&[b"BRPOP", key.as_bytes(), b"10"]);
        wait_blocked(&mut control, 1);
        let item = format!("r{round}");
        assert_eq!(pusher.cmd(&format!("LPUSH {key} {item}")), ":1\r\n");
        let pushed = Instant::now();
        assert_eq!(pusher.cmd(&format!("LLEN {key}")), ":0\r\n");
        let got = String::from_utf8_lossy(&blocker.reply()).into_owned();
        assert_eq!(got, bulks(&[&key, &item]));
        let waited = pushed.elapsed();
        assert!(waited < Duration::from_secs(1), "woken after {waited:?}");
        wait_blocked(&mut control, 0);
    }
    drop((control, blocker, pusher));
    server.stop().assert_clean();
}

/// Timeouts: a null reply after the time asked (RESP2 and RESP3), the
/// client no longer blocked, and an element pushed after it is left alone.
#[test]
fn a_blocked_client_times_out_and_takes_nothing_after() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let (list, zset) = (key_on(SHARDS, 2, "tl"), key_on(SHARDS, 3, "tz"));
    let mut control = Resp::connect(addr);
    let mut blocker = connect_on(SHARDS, addr, 1);
    for (line, null) in [
        (format!("BLPOP {list} 0.2"), "*-1\r\n"),
        (format!("BZPOPMIN {zset} 0.2"), "*-1\r\n"),
        // Redis 7.0 answers a timed out BLMOVE with a null array too.
        (format!("BLMOVE {list} {zset} LEFT LEFT 0.2"), "*-1\r\n"),
        (format!("BLMPOP 0.2 2 {list} {zset} LEFT"), "*-1\r\n"),
    ] {
        let began = Instant::now();
        assert_eq!(blocker.cmd(&line), null, "{line}");
        let waited = began.elapsed();
        assert!(waited >= Duration::from_millis(200), "{line}: {waited:?}");
        assert!(waited < Duration::from_secs(5), "{line}: {waited:?}");
    }
    assert!(blocker.cmd("HELLO 3").starts_with('%'));
    assert_eq!(blocker.cmd(&format!("BZPOPMAX {zset} 0.05")), "_\r\n");
    wait_blocked(&mut control, 0);
    assert_eq!(control.cmd(&format!("RPUSH {list} x")), ":1\r\n");
    assert_eq!(control.cmd(&format!("LRANGE {list} 0 -1")), bulks(&["x"]));
    drop((control, blocker));
    server.stop().assert_clean();
}

/// BLMOVE from shard 1's key to shard 2's, with a client BLPOPing the
/// destination: the push serves the mover, whose push serves the popper.
/// BRPOPLPUSH to a destination of another type on another shard is refused
/// and the source keeps its elements in order.
#[test]
fn blmove_across_shards_serves_the_chain_and_refuses_a_wrong_destination() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let (src, dst) = (key_on(SHARDS, 1, "src"), key_on(SHARDS, 2, "dst"));
    let mut control = Resp::connect(addr);
    let mut popper = connect_on(SHARDS, addr, 3);
    popper.send(&[b"BLPOP", dst.as_bytes(), b"0"]);
    wait_blocked(&mut control, 1);
    let mut mover = connect_on(SHARDS, addr, 0);
    let line = format!("BLMOVE {src} {dst} RIGHT LEFT 0");
    mover.send_cmd(&line);
    wait_blocked(&mut control, 2);
    assert_eq!(control.cmd(&format!("RPUSH {src} a b")), ":2\r\n");
    assert_eq!(mover.reply(), b"$1\r\nb\r\n");
    assert_eq!(popper.reply(), bulks(&[&dst, "b"]).as_bytes());
    assert_eq!(control.cmd(&format!("LRANGE {src} 0 -1")), bulks(&["a"]));
    assert_eq!(control.cmd(&format!("EXISTS {dst}")), ":0\r\n");

    let target = key_on(SHARDS, 2, "target");
    let blist = key_on(SHARDS, 1, "blist");
    assert_eq!(control.cmd(&format!("SET {target} nolist")), "+OK\r\n");
    mover.send_cmd(&format!("BRPOPLPUSH {blist} {target} 0"));
    wait_blocked(&mut control, 1);
    assert_eq!(control.cmd(&format!("RPUSH {blist} a b c")), ":3\r\n");
    let refused = String::from_utf8_lossy(&mover.reply()).into_owned();
    assert!(refused.starts_with("-WRONGTYPE"), "{refused}");
    let kept = control.cmd(&format!("LRANGE {blist} 0 -1"));
    assert_eq!(kept, bulks(&["a", "b", "c"]));
    drop((control, popper, mover));
    server.stop().assert_clean();
}

/// A client blocked on four keys, one per shard, while four connections
/// push to all four at once: it takes exactly one element, the other three
/// stay. BZPOPMIN passes over a key of another type and waits on.
#[test]
fn a_client_blocked_on_every_shard_is_served_once() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let mut control = Resp::connect(addr);
    let mut blocker = connect_on(SHARDS, addr, 0);
    let mut pushers: Vec<Resp> = (0..SHARDS).map(|s| connect_on(SHARDS, addr, s)).collect();
    for round in 0..10 {
        let keys: Vec<String> = (0..SHARDS)
            .map(|s| key_on(SHARDS, s, &format!("r{round}k")))
            .collect();
        blocker.send_cmd(&format!("BLPOP {} 0", keys.join(" ")));
        wait_blocked(&mut control, 1);
        let threads: Vec<_> = std::mem::take(&mut pushers)
            .into_iter()
            .zip(keys.clone())
            .map(|(mut pusher, key)| {
                std::thread::spawn(move || {
                    assert!(pusher.cmd(&format!("RPUSH {key} {key}")).starts_with(':'));
                    pusher
                })
            })
            .collect();
        pushers = threads
            .into_iter()
            .map(|t| t.join().expect("a pusher"))
            .collect();
        let got = String::from_utf8_lossy(&blocker.reply()).into_owned();
        let left: usize = keys
            .iter()
            .map(|key| control.cmd(&format!("LLEN {key}")))
            .filter(|len| len == ":1\r\n")
            .count();
        assert_eq!(left, SHARDS - 1, "one taken: {got}");
        let taken = keys
            .iter()
            .find(|k| got == bulks(&[k.as_str(), k.as_str()]));
        assert!(taken.is_some(), "{got}");
        wait_blocked(&mut control, 0);
    }
    let z = key_on(SHARDS, 1, "typed");
    blocker.send_cmd(&format!("BZPOPMIN {z} 0"));
    wait_blocked(&mut control, 1);
    assert_eq!(control.cmd(&format!("LPUSH {z} item")), ":1\r\n");
    assert_eq!(control.cmd(&format!("DEL {z}")), ":1\r\n");
    assert_eq!(control.cmd(&format!("ZADD {z} 1 m")), ":1\r\n");
    assert_eq!(blocker.reply(), bulks(&[&z, "m", "1"]).as_bytes());
    drop((control, blocker, pushers));
    server.stop().assert_clean();
}

/// CLIENT UNBLOCK from a connection of another shard: null as at a
/// timeout, or UNBLOCKED with ERROR; 0 for a client that does not block.
#[test]
fn client_unblock_reaches_a_client_blocked_on_another_shard() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let mut control = connect_on(SHARDS, addr, 2);
    let mut blocker = connect_on(SHARDS, addr, 1);
    let id = blocker.cmd("CLIENT ID");
    let id = id.trim_start_matches(':').trim();
    let key = key_on(SHARDS, 3, "unblocked");
    for (how, reply) in [
        ("", "*-1\r\n"),
        (" TIMEOUT", "*-1\r\n"),
        (
            " ERROR",
            "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n",
        ),
    ] {
        blocker.send_cmd(&format!("BLPOP {key} 0"));
        wait_blocked(&mut control, 1);
        assert_eq!(control.cmd(&format!("CLIENT UNBLOCK {id}{how}")), ":1\r\n");
        assert_eq!(String::from_utf8_lossy(&blocker.reply()), reply);
        wait_blocked(&mut control, 0);
    }
    assert_eq!(control.cmd(&format!("CLIENT UNBLOCK {id}")), ":0\r\n");
    assert_eq!(control.cmd(&format!("RPUSH {key} x")), ":1\r\n");
    assert_eq!(blocker.cmd(&format!("BLPOP {key} 0")), bulks(&[&key, "x"]));
    drop((control, blocker));
    server.stop().assert_clean();
}
