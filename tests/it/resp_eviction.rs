//! Eviction (issue 26, docs/PROTOCOLS.md §7.3): under each
//! `maxmemory-policy` but noeviction, writes past a shard's cap evict keys
//! first and succeed, and memory stays under the cap; volatile-ttl takes
//! the nearest expiry first, volatile-* never a key without a TTL (then
//! writes are refused with Redis's OOM); allkeys-lru keeps keys read
//! recently; evictions publish `evicted` events, touch WATCHed keys,
//! invalidate tracked keys, stay evicted after a restart, and each of 2
//! shards evicts only its own keys.

use std::collections::BTreeSet;
use std::time::Duration;

use percore::cross_shard::owner_of;

use crate::common::resp::Resp;
use crate::common::*;

const OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

/// Sends `SET {prefix}{i} {value}` (with `EX ttl` if given) for every `i`,
/// pipelined, and returns the replies.
fn fill(
    conn: &mut Resp,
    prefix: &str,
    range: std::ops::Range<u64>,
    value: &str,
    ttl: Option<u64>,
) -> Vec<String> {
    for i in range.clone() {
        let key = format!("{prefix}{i}");
        match ttl {
            Some(ttl) => conn.send_cmd(&format!("SET {key} {value} EX {}", ttl + i)),
            None => conn.send_cmd(&format!("SET {key} {value}")),
        }
    }
    range
        .map(|_| String::from_utf8_lossy(&conn.reply()).into_owned())
        .collect()
}

/// A field of INFO's reply, as a number.
fn info(conn: &mut Resp, field: &str) -> u64 {
    let text = conn.cmd("INFO everything");
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO has no {field}: {text}"))
}

/// Which of `{prefix}{i}` exist.
fn alive(conn: &mut Resp, prefix: &str, range: std::ops::Range<u64>) -> BTreeSet<u64> {
    range
        .filter(|i| conn.cmd(&format!("EXISTS {prefix}{i}")) == ":1\r\n")
        .collect()
}

fn all_ok(replies: &[String]) -> bool {
    replies.iter().all(|reply| reply == "+OK\r\n")
}

#[test]
fn every_policy_evicts_so_that_writes_succeed_under_the_cap() {
    let server = TestServer::builder().services(&["resp"]).shards(1).start();
    let mut conn = Resp::connect(server.addr("resp"));
    let cap = 20_000;
    for policy in [
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        conn.cmd("FLUSHALL");
        conn.cmd("CONFIG RESETSTAT");
        conn.cmd("CONFIG SET maxmemory 0");
        assert_eq!(
            conn.cmd(&format!("CONFIG SET maxmemory-policy {policy}")),
            "+OK\r\n"
        );
        assert!(conn
            .cmd("CONFIG GET maxmemory-policy")
            .contains(&format!("\r\n{policy}\r\n")));
        assert_eq!(conn.cmd(&format!("CONFIG SET maxmemory {cap}")), "+OK\r\n");
        // Every key with a TTL, so that the volatile policies may take any.
        let replies = fill(&mut conn, "key", 0..1000, "value", Some(10_000));
        assert!(all_ok(&replies), "{policy}: {replies:?}");
        let used = info(&mut conn, "used_memory");
        let evicted = info(&mut conn, "evicted_keys");
        let keys = conn.cmd("DBSIZE");
        assert!(used <= cap, "{policy}: {used} bytes past the cap {cap}");
        assert!(evicted > 0, "{policy}: nothing evicted");
        assert_eq!(keys, format!(":{}\r\n", 1000 - evicted), "{policy}");
        assert!(conn
            .cmd("INFO memory")
            .contains(&format!("maxmemory_policy:{policy}\r\n")));
    }
    // CONFIG RESETSTAT zeroes the count.
    conn.cmd("CONFIG RESETSTAT");
    assert_eq!(info(&mut conn, "evicted_keys"), 0);
    // noeviction, the default, still refuses.
    conn.cmd("CONFIG SET maxmemory-policy noeviction");
    let replies = fill(&mut conn, "more", 0..200, "value", None);
    assert!(replies.iter().any(|reply| reply == OOM), "{replies:?}");
    assert_eq!(info(&mut conn, "evicted_keys"), 0);
    server.stop().assert_clean();
}

#[test]
fn volatile_policies_never_evict_a_key_without_a_ttl() {
    let server = TestServer::builder().services(&["resp"]).shards(1).start();
    let mut conn = Resp::connect(server.addr("resp"));
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        conn.cmd("FLUSHALL");
        conn.cmd("CONFIG SET maxmemory 0");
        conn.cmd(&format!("CONFIG SET maxmemory-policy {policy}"));
        assert!(all_ok(&fill(&mut conn, "plain", 0..50, "v", None)));
        conn.cmd("CONFIG SET maxmemory 20000");
        assert!(all_ok(&fill(&mut conn, "ttl", 0..500, "v", Some(10_000))));
        assert!(info(&mut conn, "evicted_keys") > 0, "{policy}");
        assert_eq!(alive(&mut conn, "plain", 0..50).len(), 50, "{policy}");
        // Once no key has a TTL, a write is refused as under noeviction.
        let replies = fill(&mut conn, "more", 0..500, "v", None);
        assert!(replies.iter().any(|reply| reply == OOM), "{policy}");
        assert_eq!(alive(&mut conn, "plain", 0..50).len(), 50, "{policy}");
        assert_eq!(alive(&mut conn, "ttl", 0..500).len(), 0, "{policy}");
    }
    server.stop().assert_clean();
}

#[test]
fn volatile_ttl_evicts_the_nearest_expiry_first() {
    let server = TestServer::builder().services(&["resp"]).shards(1).start();
    let mut conn = Resp::connect(server.addr("resp"));
    conn.cmd("CONFIG SET maxmemory-policy volatile-ttl");
    // t{i} expires in 10000 + i seconds: t0 first.
    assert!(all_ok(&fill(&mut conn, "t", 0..100, "v", Some(10_000))));
    let used = info(&mut conn, "used_memory");
    conn.cmd(&format!("CONFIG SET maxmemory {}", used + 1000));
    assert!(all_ok(&fill(&mut conn, "plain", 0..100, "v", None)));
    let left = alive(&mut conn, "t", 0..100);
    let evicted = info(&mut conn, "evicted_keys");
    assert!(evicted > 10, "{evicted}");
    // The survivors are exactly the latest expiries.
    assert_eq!(left, (evicted..100).collect::<BTreeSet<u64>>());
    server.stop().assert_clean();
}

#[test]
fn allkeys_lru_keeps_keys_read_recently_over_keys_never_read() {
    let server = TestServer::builder().services(&["resp"]).shards(1).start();
    let mut conn = Resp::connect(server.addr("resp"));
    conn.cmd("CONFIG SET maxmemory-policy allkeys-lru");
    // 10 samples: a hot key goes only if all 10 picks are keys accessed
    // within the last second, while at least 330 of the 450 keys are
    // idle longer (at most 50 evictions): (120/450)^10 < 1e-5 a pick.
    conn.cmd("CONFIG SET maxmemory-samples 10");
    assert!(all_ok(&fill(&mut conn, "old", 0..400, "value", None)));
    let per_key = info(&mut conn, "used_memory") / 400;
    conn.cmd(&format!("CONFIG SET maxmemory {}", per_key * 420));
    // The old keys' clock is at least 2 seconds behind (seconds
    // resolution, as Redis's): waited for by reading their idle time,
    // which OBJECT does not change.
    assert!(poll_until(Duration::from_secs(10), || {
        let idle = conn.cmd("OBJECT IDLETIME old399");
        idle.trim_start_matches(':')
            .trim()
            .parse::<u64>()
            .unwrap_or(0)
            >= 2
    }));
    // The 20 hot keys are read now.
    for i in 0..20 {
        assert_eq!(conn.cmd(&format!("GET old{i}")), "$5\r\nvalue\r\n");
        assert_eq!(conn.cmd(&format!("OBJECT IDLETIME old{i}")), ":0\r\n");
    }
    assert!(all_ok(&fill(&mut conn, "new", 0..50, "value", None)));
    let evicted = info(&mut conn, "evicted_keys");
    assert!(evicted >= 20, "{evicted}");
    assert_eq!(alive(&mut conn, "old", 0..20).len(), 20, "a hot key went");
    assert!(alive(&mut conn, "old", 20..400).len() < 380 - 10);
    server.stop().assert_clean();
}

#[test]
fn evictions_publish_evicted_events_and_touch_watched_keys() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let addr = server.addr("resp");
    let mut conn = Resp::connect(addr);
    let mut watcher = Resp::connect(addr);
    let mut subscriber = Resp::connect(addr);
    conn.cmd("CONFIG SET notify-keyspace-events Ee");
    conn.cmd("CONFIG SET maxmemory-policy allkeys-random");
    subscriber.cmd("PSUBSCRIBE *");
    conn.cmd("SET foo bar");
    conn.cmd("SET other 1");
    watcher.cmd("WATCH foo");
    // The pubsub suite's test: a lower cap evicts at once.
    assert_eq!(conn.cmd("CONFIG SET maxmemory 1"), "+OK\r\n");
    let mut events = BTreeSet::new();
    for _ in 0..2 {
        let reply = String::from_utf8_lossy(&subscriber.reply()).into_owned();
        let parts: Vec<&str> = reply.split("\r\n").collect();
        assert_eq!(parts.get(6), Some(&"__keyevent@0__:evicted"), "{reply}");
        events.insert(parts.get(8).map(|s| s.to_string()).unwrap_or_default());
    }
    assert_eq!(events, BTreeSet::from(["foo".into(), "other".into()]));
    assert_eq!(conn.cmd("DBSIZE"), ":0\r\n");
    assert_eq!(info(&mut conn, "evicted_keys"), 2);
    // The watched key changed: EXEC fails (once memory is not full, where
    // MULTI would refuse the transaction first, as Redis does).
    conn.cmd("CONFIG SET maxmemory 0");
    watcher.cmd("MULTI");
    watcher.cmd("PING");
    assert_eq!(watcher.cmd("EXEC"), "*-1\r\n");
    server.stop().assert_clean();
}

#[test]
fn an_eviction_invalidates_a_tracked_key() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let addr = server.addr("resp");
    let mut tracker = Resp::connect(addr);
    let mut conn = Resp::connect(addr);
    assert!(tracker.cmd("HELLO 3").starts_with('%'));
    assert_eq!(tracker.cmd("CLIENT TRACKING on"), "+OK\r\n");
    conn.cmd("SET tracked v");
    assert_eq!(tracker.cmd("GET tracked"), "$1\r\nv\r\n");
    conn.cmd("CONFIG SET maxmemory-policy allkeys-random");
    conn.cmd("CONFIG SET maxmemory 1");
    assert_eq!(
        String::from_utf8_lossy(&tracker.reply()),
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n$7\r\ntracked\r\n"
    );
    conn.cmd("CONFIG SET maxmemory 0");
    server.stop().assert_clean();
}

#[test]
fn an_evicted_key_stays_gone_after_a_restart() {
    let dir = TempDir::new();
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(2)
        .data_dir(&dir.path)
        .start();
    let mut conn = Resp::connect(server.addr("resp"));
    conn.cmd("CONFIG SET maxmemory-policy allkeys-lru");
    conn.cmd("CONFIG SET maxmemory 20000");
    assert!(all_ok(&fill(&mut conn, "key", 0..500, "value", None)));
    let kept = alive(&mut conn, "key", 0..500);
    assert!(kept.len() < 500 && !kept.is_empty(), "{}", kept.len());
    server.stop().assert_clean();

    let restarted = TestServer::builder()
        .services(&["resp"])
        .shards(2)
        .data_dir(&dir.path)
        .start();
    let mut conn = Resp::connect(restarted.addr("resp"));
    assert_eq!(alive(&mut conn, "key", 0..500), kept);
    restarted.stop().assert_clean();
}

#[test]
fn two_shards_each_evict_their_own_keys() {
    let shards = 2;
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(shards)
        .start();
    let mut conn = Resp::connect(server.addr("resp"));
    let owned = |shard: usize, n: usize| -> Vec<String> {
        (0..)
            .map(|i| format!("k{i}"))
            .filter(|key| owner_of(key.as_bytes(), shards) == shard)
            .take(n)
            .collect()
    };
    let (zero, one) = (owned(0, 600), owned(1, 20));
    conn.cmd("CONFIG SET maxmemory-policy allkeys-lru");
    for key in &one {
        assert_eq!(conn.cmd(&format!("SET {key} value")), "+OK\r\n");
    }
    let cap = 40_000;
    conn.cmd(&format!("CONFIG SET maxmemory {cap}"));
    for key in &zero {
        assert_eq!(conn.cmd(&format!("SET {key} value")), "+OK\r\n");
    }
    assert!(info(&mut conn, "evicted_keys") > 0);
    // Shard 1's keys, under its share, all stay; shard 0's stay under its.
    for key in &one {
        assert_eq!(conn.cmd(&format!("EXISTS {key}")), ":1\r\n", "{key}");
    }
    let used_zero: u64 = zero
        .iter()
        .filter_map(|key| {
            conn.cmd(&format!("MEMORY USAGE {key}"))
                .trim_start_matches(':')
                .trim()
                .parse::<u64>()
                .ok()
        })
        .sum();
    assert!(used_zero <= cap / 2, "{used_zero}");
    assert!(info(&mut conn, "used_memory") <= cap);
    server.stop().assert_clean();
}

#[test]
fn multi_at_the_cap_is_not_refused_when_eviction_makes_room() {
    let server = TestServer::builder().services(&["resp"]).shards(1).start();
    let mut conn = Resp::connect(server.addr("resp"));
    conn.cmd("CONFIG SET maxmemory 5000");
    assert!(fill(&mut conn, "key", 0..200, "value", None).contains(&OOM.to_string()));
    // Full under noeviction: MULTI refuses what may add data, as Redis.
    conn.cmd("MULTI");
    assert!(conn.cmd("SET x 1").starts_with("-OOM"));
    assert!(conn.cmd("EXEC").starts_with("-EXECABORT"));
    // Under allkeys-lru a write evicts first, as Redis evicts before it
    // compares its memory with the cap.
    conn.cmd("CONFIG SET maxmemory-policy allkeys-lru");
    conn.cmd("MULTI");
    assert_eq!(conn.cmd("SET x 1"), "+QUEUED\r\n");
    assert_eq!(conn.cmd("EXEC"), "*1\r\n+OK\r\n");
    assert_eq!(conn.cmd("GET x"), "$1\r\n1\r\n");
    server.stop().assert_clean();
}
