//! CLIENT TRACKING (Redis 7.0's client-side caching;
//! crates/protocols/src/resp/tracking.rs) on 4 shards: a write on any shard
//! of a key the client read (default mode, OPTIN/OPTOUT) or of a tracked
//! prefix (BCAST) reaches the tracking client as a RESP3 `invalidate` push,
//! or its REDIRECT target as a `__redis__:invalidate` message; the replies
//! and errors of CLIENT TRACKING, TRACKINGINFO, GETREDIR and CACHING are
//! redis-server 7.0's, byte for byte.

use crate::common::resp::{assert_sequence_same_as_redis, connect_on, redis, Resp};
use crate::common::*;

const SHARDS: usize = 4;

/// A RESP3 `invalidate` push of one key, as Redis writes it.
fn invalidate_push(key: &str) -> Vec<u8> {
    format!(
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n${}\r\n{key}\r\n",
        key.len()
    )
    .into_bytes()
}

/// A RESP2 `__redis__:invalidate` message of one key, as Redis writes it.
fn invalidate_message(key: &str) -> Vec<u8> {
    format!(
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n${}\r\n{key}\r\n",
        key.len()
    )
    .into_bytes()
}

/// The next `n` pushes, sorted (shards send theirs independently).
fn next_sorted(conn: &mut Resp, n: usize) -> Vec<Vec<u8>> {
    let mut got: Vec<Vec<u8>> = (0..n).map(|_| conn.reply()).collect();
    got.sort();
    got
}

#[test]
fn a_write_on_any_shard_invalidates_a_tracked_prefix_in_resp3() {
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(SHARDS)
        .start();
    let addr = server.addr("resp");
    let mut tracker = connect_on(SHARDS, addr, 0);
    assert!(tracker.cmd("HELLO 3").starts_with('%'));
    assert_eq!(
        tracker.cmd("CLIENT TRACKING on BCAST PREFIX t: PREFIX s:"),
        "+OK\r\n"
    );
    let mut writer = connect_on(SHARDS, addr, 1);
    // A key of each shard with a tracked prefix, and one without.
    let tracked: Vec<String> = (0..SHARDS).map(|s| key_on(SHARDS, s, "t:")).collect();
    for key in &tracked {
        assert_eq!(writer.cmd(&format!("SET {key} v")), "+OK\r\n");
        assert_eq!(writer.cmd(&format!("SET u{key} v")), "+OK\r\n");
    }
    let mut want: Vec<Vec<u8>> = tracked.iter().map(|k| invalidate_push(k)).collect();
    want.sort();
    assert_eq!(next_sorted(&mut tracker, SHARDS), want);

    // Other writes invalidate too (DEL, INCR, a hash), and the second
    // prefix is tracked as well.
    let other = key_on(SHARDS, 3, "s:");
    writer.cmd(&format!("HSET {other} f v"));
    writer.cmd(&format!("DEL {}", tracked[2]));
    let mut want = vec![invalidate_push(&other), invalidate_push(&tracked[2])];
    want.sort();
    assert_eq!(next_sorted(&mut tracker, 2), want);

    // Tracking off, acknowledged by every shard: no push after it. The
    // connection's replies come in order after any push sent before.
    assert_eq!(tracker.cmd("CLIENT TRACKING off"), "+OK\r\n");
    for key in &tracked {
        writer.cmd(&format!("SET {key} w"));
    }
    assert_eq!(tracker.cmd("PING"), "+PONG\r\n");
    assert_eq!(tracker.cmd("CLIENT GETREDIR"), ":-1\r\n");
    server.stop().assert_clean();
}

#[test]
fn a_read_key_written_on_any_shard_is_invalidated_once_in_the_default_mode() {
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(SHARDS)
        .start();
    let addr = server.addr("resp");
    let mut writer = connect_on(SHARDS, addr, 1);
    let keys: Vec<String> = (0..SHARDS).map(|s| key_on(SHARDS, s, "d")).collect();
    for key in &keys {
        writer.cmd(&format!("SET {key} v"));
    }
    let mut tracker = connect_on(SHARDS, addr, 0);
    assert!(tracker.cmd("HELLO 3").starts_with('%'));
    assert_eq!(tracker.cmd("CLIENT TRACKING on"), "+OK\r\n");
    // Each key read (one of them twice, one with MGET on its shard alone),
    // and one key not read: written, only the read ones are invalidated,
    // each once.
    for key in &keys[..SHARDS - 1] {
        assert_eq!(tracker.cmd(&format!("GET {key}")), "$1\r\nv\r\n");
    }
    tracker.cmd(&format!("MGET {}", keys[0]));
    for key in &keys {
        writer.cmd(&format!("SET {key} w"));
        writer.cmd(&format!("SET {key} x"));
    }
    let mut want: Vec<Vec<u8>> = keys[..SHARDS - 1]
        .iter()
        .map(|k| invalidate_push(k))
        .collect();
    want.sort();
    assert_eq!(next_sorted(&mut tracker, SHARDS - 1), want);
    // Nothing more came: the next reply is PING's.
    assert_eq!(tracker.cmd("PING"), "+PONG\r\n");
    // Read again, tracked again.
    tracker.cmd(&format!("STRLEN {}", keys[3]));
    writer.cmd(&format!("APPEND {} y", keys[3]));
    assert_eq!(tracker.reply(), invalidate_push(&keys[3]));

    // OPTIN: only the read right after CLIENT CACHING yes is tracked.
    assert_eq!(tracker.cmd("CLIENT TRACKING off"), "+OK\r\n");
    assert_eq!(tracker.cmd("CLIENT TRACKING on OPTIN"), "+OK\r\n");
    tracker.cmd(&format!("GET {}", keys[1]));
    assert_eq!(tracker.cmd("CLIENT CACHING yes"), "+OK\r\n");
    tracker.cmd(&format!("GET {}", keys[2]));
    writer.cmd(&format!("SET {} z", keys[1]));
    writer.cmd(&format!("SET {} z", keys[2]));
    assert_eq!(tracker.reply(), invalidate_push(&keys[2]));
    assert_eq!(tracker.cmd("PING"), "+PONG\r\n");
    // OPTOUT: every read but the one after CLIENT CACHING no.
    assert_eq!(tracker.cmd("CLIENT TRACKING off"), "+OK\r\n");
    assert_eq!(tracker.cmd("CLIENT TRACKING on OPTOUT"), "+OK\r\n");
    assert_eq!(tracker.cmd("CLIENT CACHING no"), "+OK\r\n");
    tracker.cmd(&format!("GET {}", keys[1]));
    tracker.cmd(&format!("GET {}", keys[2]));
    writer.cmd(&format!("SET {} q", keys[1]));
    writer.cmd(&format!("SET {} q", keys[2]));
    assert_eq!(tracker.reply(), invalidate_push(&keys[2]));
    assert_eq!(tracker.cmd("PING"), "+PONG\r\n");
    // Off: a key read before is not invalidated any more.
    tracker.cmd(&format!("GET {}", keys[0]));
    assert_eq!(tracker.cmd("CLIENT TRACKING off"), "+OK\r\n");
    writer.cmd(&format!("SET {} gone", keys[0]));
    assert_eq!(tracker.cmd("PING"), "+PONG\r\n");
    server.stop().assert_clean();
}

#[test]
fn redirected_invalidations_reach_a_resp2_subscriber_on_another_shard() {
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(SHARDS)
        .start();
    let addr = server.addr("resp");
    let mut target = connect_on(SHARDS, addr, 2);
    let target_id = target.cmd("CLIENT ID");
    let target_id = target_id.trim_start_matches(':').trim();
    target.cmd("SUBSCRIBE __redis__:invalidate");
    let mut tracker = connect_on(SHARDS, addr, 1);
    assert_eq!(
        tracker.cmd(&format!("CLIENT TRACKING on BCAST REDIRECT {target_id}")),
        "+OK\r\n"
    );
    // A default-mode client of a third shard, redirecting there too.
    let mut reader = connect_on(SHARDS, addr, 0);
    assert_eq!(
        reader.cmd(&format!("CLIENT TRACKING on REDIRECT {target_id}")),
        "+OK\r\n"
    );
    let read = key_on(SHARDS, 3, "r");
    reader.cmd(&format!("GET {read}"));
    assert_eq!(tracker.cmd("CLIENT GETREDIR"), format!(":{target_id}\r\n"));
    let mut writer = connect_on(SHARDS, addr, 3);
    let keys: Vec<String> = (0..SHARDS).map(|s| key_on(SHARDS, s, "k")).collect();
    for key in &keys {
        writer.cmd(&format!("SET {key} v"));
    }
    let mut want: Vec<Vec<u8>> = keys.iter().map(|k| invalidate_message(k)).collect();
    want.sort();
    assert_eq!(next_sorted(&mut target, SHARDS), want);
    // The default-mode read key: its owner tells the reader's shard, which
    // passes it on to the target's (and the BCAST tracker's every-key
    // prefix matches it too: two messages).
    writer.cmd(&format!("SET {read} v"));
    assert_eq!(target.reply(), invalidate_message(&read));
    assert_eq!(target.reply(), invalidate_message(&read));
    drop(reader);

    // The tracking client closes: its registration is withdrawn from every
    // shard, so the writes after that reach no one. A PUBLISH afterwards is
    // the next message the target gets.
    drop(tracker);
    let give_up = std::time::Instant::now() + DEADLINE;
    // The withdrawal travels one way: wait until a write reaches no one by
    // writing, then publishing a marker, until the marker comes first.
    loop {
        writer.cmd(&format!("SET {} w", keys[0]));
        writer.cmd("PUBLISH __redis__:invalidate marker");
        let got = target.reply();
        if got.ends_with(b"$6\r\nmarker\r\n") {
            break;
        }
        // An invalidation sent before the withdrawal arrived: then the marker.
        assert_eq!(got, invalidate_message(&keys[0]));
        assert!(target.reply().ends_with(b"$6\r\nmarker\r\n"));
        assert!(std::time::Instant::now() < give_up, "never withdrawn");
    }
    server.stop().assert_clean();
}

#[test]
fn tracking_replies_and_errors_equal_redis_byte_for_byte() {
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(SHARDS)
        .start();
    let redis = redis();
    assert_sequence_same_as_redis(
        server.addr("resp"),
        &redis,
        &[
            "CLIENT TRACKINGINFO",
            "CLIENT GETREDIR",
            "CLIENT CACHING yes",
            "CLIENT TRACKING maybe",
            "CLIENT TRACKING on BCAST FOO",
            "CLIENT TRACKING on PREFIX x",
            "CLIENT TRACKING on BCAST OPTIN",
            "CLIENT TRACKING on OPTIN OPTOUT",
            "CLIENT TRACKING on BCAST PREFIX c PREFIX cd",
            "CLIENT TRACKING on BCAST REDIRECT 987654",
            "CLIENT TRACKING on BCAST PREFIX a PREFIX b",
            "CLIENT TRACKINGINFO",
            "CLIENT GETREDIR",
            "CLIENT TRACKING on BCAST PREFIX ab",
            "CLIENT TRACKING on BCAST PREFIX c",
            "CLIENT TRACKINGINFO",
            "CLIENT TRACKING on",
            "CLIENT CACHING yes",
            "CLIENT CACHING no",
            "CLIENT CACHING maybe",
            "CLIENT TRACKING off",
            "CLIENT TRACKINGINFO",
            "CLIENT TRACKING on BCAST",
            "CLIENT TRACKINGINFO",
            "CLIENT TRACKING off",
            "CLIENT GETREDIR",
            "CLIENT TRACKING on OPTIN",
            "CLIENT TRACKINGINFO",
            "CLIENT CACHING yes",
            "CLIENT TRACKINGINFO",
            "CLIENT CACHING no",
            "CLIENT TRACKING on OPTOUT",
            "CLIENT TRACKING on BCAST",
            "CLIENT TRACKING on",
            "CLIENT TRACKINGINFO",
            "CLIENT TRACKING off",
            "CLIENT TRACKING on OPTOUT",
            "CLIENT CACHING no",
            "CLIENT TRACKINGINFO",
            "CLIENT TRACKING off",
        ],
    );
    server.stop().assert_clean();
}

#[test]
fn noloop_spares_the_writer_and_bcast_sends_a_prefix_s_keys_together() {
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(SHARDS)
        .start();
    let addr = server.addr("resp");
    let mut tracker = connect_on(SHARDS, addr, 0);
    assert!(tracker.cmd("HELLO 3").starts_with('%'));
    let mut writer = connect_on(SHARDS, addr, 1);
    // Default mode, NOLOOP: the tracker's own write of a key it read, on
    // another shard, tells it nothing; another client's write does.
    assert_eq!(tracker.cmd("CLIENT TRACKING on NOLOOP"), "+OK\r\n");
    let mine = key_on(SHARDS, 2, "n");
    let theirs = key_on(SHARDS, 3, "n");
    tracker.cmd(&format!("MGET {mine}"));
    tracker.cmd(&format!("GET {theirs}"));
    assert_eq!(tracker.cmd(&format!("SET {mine} 1")), "+OK\r\n");
    writer.cmd(&format!("SET {theirs} 1"));
    assert_eq!(tracker.reply(), invalidate_push(&theirs));
    assert_eq!(tracker.cmd("PING"), "+PONG\r\n");

    // BCAST, NOLOOP: an MSET of three keys of one shard is one message.
    assert_eq!(tracker.cmd("CLIENT TRACKING off"), "+OK\r\n");
    assert_eq!(tracker.cmd("CLIENT TRACKING on BCAST NOLOOP"), "+OK\r\n");
    let keys: Vec<String> = ["ma", "mb", "mc"]
        .iter()
        .map(|p| key_on(SHARDS, 2, p))
        .collect();
    writer.cmd(&format!("MSET {} 1 {} 2 {} 3", keys[0], keys[1], keys[2]));
    let mut want = b">2\r\n$10\r\ninvalidate\r\n*3\r\n".to_vec();
    for key in &keys {
        want.extend_from_slice(format!("${}\r\n{key}\r\n", key.len()).as_bytes());
    }
    assert_eq!(tracker.reply(), want);
    tracker.cmd(&format!("SET {} mine", keys[0]));
    assert_eq!(tracker.cmd("PING"), "+PONG\r\n");
    server.stop().assert_clean();
}

#[test]
fn flushall_tells_each_tracking_client_once_and_a_gone_target_is_reported() {
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(SHARDS)
        .start();
    let addr = server.addr("resp");
    let mut tracker = connect_on(SHARDS, addr, 0);
    assert!(tracker.cmd("HELLO 3").starts_with('%'));
    assert_eq!(tracker.cmd("CLIENT TRACKING on"), "+OK\r\n");
    let mut writer = connect_on(SHARDS, addr, 1);
    // FLUSHALL runs on every shard; the tracker hears of it once.
    writer.cmd("FLUSHALL");
    assert_eq!(
        tracker.reply(),
        b">2\r\n$10\r\ninvalidate\r\n_\r\n".to_vec()
    );
    assert_eq!(tracker.cmd("PING"), "+PONG\r\n");

    // A REDIRECT target that closes: the next invalidation is reported to
    // the tracking client as `tracking-redir-broken`.
    let mut target = connect_on(SHARDS, addr, 2);
    let target_id = target.cmd("CLIENT ID");
    let target_id = target_id.trim_start_matches(':').trim().to_string();
    assert_eq!(
        tracker.cmd(&format!("CLIENT TRACKING on REDIRECT {target_id}")),
        "+OK\r\n"
    );
    let key = key_on(SHARDS, 3, "g");
    tracker.cmd(&format!("GET {key}"));
    target.cmd("QUIT");
    drop(target);
    // Until the server has seen the close, an invalidation still reaches
    // the target: write until the report comes.
    let give_up = std::time::Instant::now() + DEADLINE;
    let want = format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{target_id}\r\n").into_bytes();
    let mut reported = false;
    while !reported {
        writer.cmd(&format!("SET {key} v"));
        tracker.send(&[b"GET", key.as_bytes()]);
        tracker.send(&[b"PING"]);
        loop {
            let got = tracker.reply();
            if got == b"+PONG\r\n" {
                break;
            }
            reported |= got == want;
        }
        assert!(std::time::Instant::now() < give_up, "never reported");
    }
    server.stop().assert_clean();
}
