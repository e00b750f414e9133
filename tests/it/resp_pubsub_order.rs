//! What a PUBLISH counts and when a command's keyspace events are placed,
//! across shards (issue 26; docs/PROTOCOLS.md "PUBLISH counts and keyspace
//! events across shards"): as in Redis, once a command's reply is sent,
//! what it published is in every subscriber's output, and a subscriber
//! whose shard has read its UNSUBSCRIBE is not counted.
//!
//! - an UNSUBSCRIBE whose reply is left unread, then a PUBLISH from another
//!   connection: 0 (Redis's `PUBLISH/SUBSCRIBE after UNSUBSCRIBE without
//!   arguments`), for channels, patterns and shard channels, 2 and 4 shards;
//! - keyspace `new` events of keys spread over 4 shards arrive in the order
//!   of the commands (Redis's `Keyspace notifications: new key test`);
//! - PUBLISH counts channel and pattern subscribers on every shard.

use std::net::SocketAddr;

use crate::common::resp::{connect_on, Resp};
use crate::common::*;

/// The three kinds: subscribe, unsubscribe, publish, and how a round's
/// names and the published channel are made from its number.
const KINDS: [(&str, &str, &str); 3] = [
    ("SUBSCRIBE", "UNSUBSCRIBE", "PUBLISH"),
    ("PSUBSCRIBE", "PUNSUBSCRIBE", "PUBLISH"),
    ("SSUBSCRIBE", "SUNSUBSCRIBE", "SPUBLISH"),
];

/// Reads replies until `n` confirmations of `kind` have come, skipping
/// messages (which a wrongly counted PUBLISH would have delivered).
fn read_confirmations(conn: &mut Resp, kind: &str, n: usize) {
    let want = format!("${}\r\n{}\r\n", kind.len(), kind.to_ascii_lowercase());
    let mut seen = 0;
    while seen < n {
        let reply = conn.reply();
        if String::from_utf8_lossy(&reply).starts_with(&format!("*3\r\n{want}")) {
            seen += 1;
        }
    }
}

/// `rounds` rounds of each kind on a server of `shards` shards; returns how
/// many PUBLISHes counted the subscriber that had unsubscribed.
fn unread_unsubscribe_rounds(shards: usize, rounds: usize) -> usize {
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(shards)
        .start();
    let addr = server.addr("resp");
    // A subscriber and a publisher on each shard: the rounds take every
    // pair of them, and the channels' owners vary with the names.
    let mut subscribers: Vec<Resp> = (0..shards).map(|s| connect_on(shards, addr, s)).collect();
    let mut publishers: Vec<Resp> = (0..shards).map(|s| connect_on(shards, addr, s)).collect();
    let mut miscounted = 0;
    for round in 0..rounds {
        let subscriber = &mut subscribers[round % shards];
        let publisher = &mut publishers[(round / shards) % shards];
        for (subscribe, unsubscribe, publish) in KINDS {
            let names: Vec<String> = (1..=3)
                .map(|i| match subscribe {
                    "PSUBSCRIBE" => format!("u{round}:{i}*"),
                    _ => format!("u{round}:{i}"),
                })
                .collect();
            subscriber.send_cmd(&format!("{subscribe} {}", names.join(" ")));
            read_confirmations(subscriber, subscribe, 3);
            // Sent, not read: the reply is what the suite's helper skips.
            subscriber.send_cmd(unsubscribe);
            let reply = publisher.cmd(&format!("{publish} u{round}:1 hello"));
            if reply != ":0\r\n" {
                miscounted += 1;
                let channel = format!("u{round}:1");
                eprintln!(
                    "{shards} shards, round {round}: {publish} counted {reply:?} (subscriber on {}, publisher on {}, channel's owner {})",
                    round % shards,
                    (round / shards) % shards,
                    percore::cross_shard::owner_of(channel.as_bytes(), shards)
                );
            }
            read_confirmations(subscriber, unsubscribe, 3);
        }
    }
    miscounted
}

#[test]
fn a_publish_after_an_unread_unsubscribe_counts_nobody_on_2_and_4_shards() {
    for shards in [2, 4] {
        let rounds = 200;
        let miscounted = unread_unsubscribe_rounds(shards, rounds);
        eprintln!(
            "{shards} shards: {miscounted} of {} PUBLISHes counted an unsubscribed client",
            rounds * KINDS.len()
        );
        // What remains is a subscriber's shard that has not yet read the
        // UNSUBSCRIBE from its socket when the message comes (descheduled:
        // here 4 shards share 2 cores), which also Redis would count. Seen
        // at 0-3 of 600 on 2 shards and 1-12 of 600 on 4 (debug build, 2
        // busy cores); before reports, 129-149 of 600 on 2 shards and 226
        // on 4.
        assert!(
            miscounted * 20 < rounds * KINDS.len(),
            "{shards} shards: {miscounted} counted"
        );
    }
}

/// Turns keyspace `new` events on for every shard.
fn notify_new(addr: SocketAddr) {
    let mut admin = Resp::connect(addr);
    assert_eq!(admin.cmd("CONFIG SET notify-keyspace-events En"), "+OK\r\n");
}

#[test]
fn keyspace_events_of_keys_on_4_shards_arrive_in_command_order() {
    let shards = 4;
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(shards)
        .start();
    let addr = server.addr("resp");
    notify_new(addr);
    // A subscriber on every shard, and a writer on each in turn, so that
    // the writer's, each key's and the subscriber's shards vary.
    let mut subscribers: Vec<Resp> = (0..shards).map(|s| connect_on(shards, addr, s)).collect();
    for subscriber in &mut subscribers {
        assert!(subscriber.cmd("PSUBSCRIBE *").ends_with(":1\r\n"));
    }
    for writer_shard in 0..shards {
        let mut writer = connect_on(shards, addr, writer_shard);
        let keys: Vec<String> = (0..200)
            .map(|i| {
                key_on(
                    shards,
                    (i * 7 + i / 3) % shards,
                    &format!("o{writer_shard}:{i}:"),
                )
            })
            .collect();
        for key in &keys {
            assert_eq!(writer.cmd(&format!("SET {key} v")), "+OK\r\n");
        }
        for (sub_shard, subscriber) in subscribers.iter_mut().enumerate() {
            for (i, key) in keys.iter().enumerate() {
                let event = subscriber.reply();
                let want = format!("${}\r\n{key}\r\n", key.len());
                assert!(
                    String::from_utf8_lossy(&event).ends_with(&want),
                    "writer on shard {writer_shard}, subscriber on shard {sub_shard}: event {i} is {:?}, not for {key}",
                    String::from_utf8_lossy(&event)
                );
            }
        }
    }
}

#[test]
fn publish_counts_channel_and_pattern_subscribers_on_every_shard() {
    let shards = 4;
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(shards)
        .start();
    let addr = server.addr("resp");
    let mut subscribers = Vec::new();
    for shard in 0..shards {
        // A channel subscriber, a pattern subscriber, and one of both
        // (counted twice, as by Redis) on each shard.
        let mut channel = connect_on(shards, addr, shard);
        assert!(channel.cmd("SUBSCRIBE counted").ends_with(":1\r\n"));
        let mut pattern = connect_on(shards, addr, shard);
        assert!(pattern.cmd("PSUBSCRIBE count*").ends_with(":1\r\n"));
        let mut both = connect_on(shards, addr, shard);
        assert!(both.cmd("SUBSCRIBE counted").ends_with(":1\r\n"));
        assert!(both.cmd("PSUBSCRIBE c*d").ends_with(":2\r\n"));
        // Per round of one publisher, the messages each gets: 10 to
        // `counted` (once, or twice for both) and 1 to `countless`.
        subscribers.extend([(channel, 10), (pattern, 11), (both, 20)]);
    }
    let total = shards * 4;
    for shard in 0..shards {
        let mut publisher = connect_on(shards, addr, shard);
        for round in 0..20 {
            assert_eq!(
                publisher.cmd(&format!("PUBLISH counted m{round}")),
                format!(":{total}\r\n"),
                "from shard {shard}"
            );
            // Pipelined: each reply counts the same.
            for _ in 0..8 {
                publisher.send_cmd("PUBLISH counted p");
            }
            for _ in 0..8 {
                assert_eq!(publisher.reply(), format!(":{total}\r\n").as_bytes());
            }
            assert_eq!(publisher.cmd("PUBLISH countless x"), ":4\r\n");
            // Inside MULTI: counted by the owner's figures, which agree.
            assert_eq!(publisher.cmd("MULTI"), "+OK\r\n");
            assert_eq!(publisher.cmd("PUBLISH counted t"), "+QUEUED\r\n");
            assert_eq!(
                publisher.cmd("EXEC"),
                format!("*1\r\n:{total}\r\n"),
                "from shard {shard}"
            );
        }
    }
    // Every message reached every subscription, and no more came.
    for (conn, per_round) in &mut subscribers {
        for _ in 0..shards * 20 * *per_round {
            conn.reply();
        }
        assert_eq!(conn.cmd("PING"), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    }
}

#[test]
fn a_pipelined_batch_of_writes_on_4_shards_places_every_event_once() {
    let shards = 4;
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(shards)
        .start();
    let addr = server.addr("resp");
    notify_new(addr);
    let mut subscriber = connect_on(shards, addr, 0);
    assert!(subscriber.cmd("PSUBSCRIBE *").ends_with(":1\r\n"));
    let mut writer = connect_on(shards, addr, 1);
    let keys: Vec<String> = (0..400).map(|i| format!("piped:{i}")).collect();
    // One write of 400 SETs: each round waits once for its events, not
    // once per command; every reply comes, in order.
    let mut wire = Vec::new();
    for key in &keys {
        percore_protocols::resp::protocol::encode_command(
            [&b"SET"[..], key.as_bytes(), b"v"],
            &mut wire,
        );
    }
    std::io::Write::write_all(&mut writer.stream, &wire).expect("send the pipeline");
    for _ in &keys {
        assert_eq!(writer.reply(), b"+OK\r\n");
    }
    // The last reply came once every event was placed: all are there.
    let mut seen: Vec<String> = (0..keys.len())
        .map(|_| {
            let event = String::from_utf8_lossy(&subscriber.reply()).into_owned();
            let key = event.rsplit("\r\n").nth(1).unwrap_or_default().to_string();
            key
        })
        .collect();
    seen.sort();
    let mut want = keys.clone();
    want.sort();
    assert_eq!(seen, want);
    assert_eq!(subscriber.cmd("PING"), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}
