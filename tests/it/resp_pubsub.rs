//! resp's pub/sub (docs/PROTOCOLS.md §6.2) on 4 shards, so that channels, patterns and
//! connections span shards: replies byte for byte equal to redis-server
//! 7.0's for a recorded sequence in RESP2 and RESP3, the subscribe
//! acknowledgement, redis-py, and the figures of INFO and CLIENT LIST. One
//! set of topics with mq is `resp_pubsub_mq.rs`.

use crate::common::resp::{redis, words, Resp};
use crate::common::*;

/// The recorded sequence: `S:` the subscriber's commands, `P:` a second
/// connection's, `S< n` reads n messages pushed to the subscriber, `S2:`
/// a command only run in RESP2 (its RESP3 reply names the connection).
const SEQUENCE: &[&str] = &[
    "S: SUBSCRIBE a b",
    "S: PSUBSCRIBE p* a*",
    "S: SSUBSCRIBE s1",
    "S: SUBSCRIBE b",
    "S: GET x",
    "S: CONFIG GET maxmemory",
    "S2: CLIENT ID",
    "S2: CLIENT NOSUCH",
    "S: PING",
    "S: PING hi",
    "P: PUBLISH a hello",
    "S< 2",
    "P: PUBLISH pq x",
    "S< 1",
    "P: PUBLISH nobody x",
    "P: SPUBLISH s1 y",
    "S< 1",
    "P: SPUBLISH a y",
    "P: PUBSUB NUMSUB a b c",
    "P: PUBSUB NUMPAT",
    "P: PUBSUB CHANNELS a",
    "P: PUBSUB CHANNELS z*",
    "P: PUBSUB SHARDCHANNELS",
    "P: PUBSUB SHARDNUMSUB s1 s2",
    "P: PUBSUB SHARDNUMSUB",
    "P: PUBSUB NUMSUB",
    "P: PUBSUB FOO",
    "P: PUBSUB NUMPAT x",
    "P: PUBSUB CHANNELS a b",
    "P: PUBSUB HELP",
    "P: PUBSUB",
    "P: PUBLISH a",
    "P: SUBSCRIBE",
    "S: UNSUBSCRIBE a",
    "P: PUBLISH a again",
    "S< 1",
    "S: PUNSUBSCRIBE a* zz",
    "P: PUBSUB NUMPAT",
    "P: PUBLISH a gone",
    "S: UNSUBSCRIBE zz",
    "S: SUNSUBSCRIBE",
    "S: SUNSUBSCRIBE",
    "S: PUNSUBSCRIBE",
    "S: PUNSUBSCRIBE",
    "S: UNSUBSCRIBE",
    "S: UNSUBSCRIBE",
    "S: PING",
    "S: SUBSCRIBE c",
    "S: PSUBSCRIBE c*",
    "P: PUBLISH c z",
    "S< 2",
    "S: RESET",
    "P: PUBSUB NUMSUB c",
    "P: PUBSUB NUMPAT",
    "P: PUBLISH c z",
    "S: PING",
    "S: GET x",
];

/// How many replies a command gets: one per name for the (un)subscribe
/// commands (the sequence unsubscribes from everything only when one name
/// or none is held), else one.
fn replies_to(line: &str) -> usize {
    let words = words(line);
    let name = String::from_utf8_lossy(words[0]).to_ascii_lowercase();
    if name.ends_with("subscribe") {
        (words.len() - 1).max(1)
    } else {
        1
    }
}

/// Runs the sequence on a server, the subscriber speaking `proto`: every
/// reply and message, labelled with its step.
fn recorded(addr: std::net::SocketAddr, proto: &str) -> Vec<(String, String)> {
    let mut subscriber = Resp::connect(addr);
    let mut other = Resp::connect(addr);
    subscriber.call(&[b"HELLO", proto.as_bytes()]);
    let mut seen = Vec::new();
    for step in SEQUENCE {
        let (who, what) = step.split_at(2);
        let what = what.trim_start_matches(':').trim();
        let (conn, replies) = match who {
            "S<" => (&mut subscriber, what.parse().expect("a count")),
            "S2" if proto != "2" => continue,
            "S:" | "S2" => {
                subscriber.send(&words(what));
                (&mut subscriber, replies_to(what))
            }
            _ => {
                other.send(&words(what));
                (&mut other, replies_to(what))
            }
        };
        for _ in 0..replies {
            let reply = conn.reply();
            seen.push((
                step.to_string(),
                String::from_utf8_lossy(&reply).into_owned(),
            ));
        }
    }
    seen
}

#[test]
fn pubsub_replies_equal_redis_byte_for_byte_in_resp2_and_resp3() {
    let server = TestServer::builder().services(&["resp"]).start();
    let redis = redis();
    for proto in ["2", "3"] {
        let ours = recorded(server.addr("resp"), proto);
        let theirs = recorded(redis.addr, proto);
        assert_eq!(ours.len(), theirs.len());
        for ((step, a), (_, b)) in ours.iter().zip(&theirs) {
            assert_eq!(a, b, "RESP{proto}: {step}");
        }
    }
    let stopped = server.stop();
    stopped.assert_clean();
    assert_eq!(stopped.json["services"]["resp"]["slow_disconnects"], 0);
}

/// The shard a resp connection is on: CLIENT ID is `n * shards + shard + 1`.
fn shard_of(conn: &mut Resp) -> u64 {
    let reply = conn.cmd("CLIENT ID");
    let id: u64 = reply[1..].trim().parse().expect("an id");
    (id - 1) % 4
}

#[test]
fn a_subscribe_reply_means_every_shard_publishes_to_it() {
    // resp alone: its brokers are its own.
    let server = TestServer::builder()
        .services(&["resp"])
        .services(&["resp"])
        .start();
    let addr = server.addr("resp");
    // Subscribers and publishers on every shard.
    let mut conns: Vec<(u64, Resp)> = Vec::new();
    let mut tries = 0;
    while (0..4).any(|s| conns.iter().filter(|(shard, _)| *shard == s).count() < 2) {
        tries += 1;
        assert!(tries < 400, "connections never landed on every shard");
        let mut conn = Resp::connect(addr);
        let shard = shard_of(&mut conn);
        if conns.iter().filter(|(s, _)| *s == shard).count() < 2 {
            conns.push((shard, conn));
        }
    }
    let kinds = [
        ("SUBSCRIBE", "UNSUBSCRIBE", "PUBLISH"),
        ("PSUBSCRIBE", "PUNSUBSCRIBE", "PUBLISH"),
        ("SSUBSCRIBE", "SUNSUBSCRIBE", "SPUBLISH"),
    ];
    for round in 0..120 {
        let (subscribe, unsubscribe, publish) = kinds[round % 3];
        let channel = format!("ack:{round}:x");
        let name = if subscribe == "PSUBSCRIBE" {
            format!("ack:{round}:*")
        } else {
            channel.clone()
        };
        let (sub_shard, mut subscriber) = conns.remove(round % conns.len());
        let reply = subscriber.cmd(&format!("{subscribe} {name}"));
        assert!(reply.ends_with(":1\r\n"), "{reply}");
        // At once, from every other shard.
        for (shard, publisher) in conns.iter_mut().filter(|(s, _)| *s != sub_shard) {
            let msg = format!("from-{shard}");
            assert_eq!(
                publisher.cmd(&format!("{publish} {channel} {msg}")),
                ":1\r\n",
                "round {round}"
            );
            let got = subscriber.reply();
            assert!(
                got.ends_with(format!("{msg}\r\n").as_bytes()),
                "round {round}"
            );
        }
        let reply = subscriber.cmd(&format!("{unsubscribe} {name}"));
        assert!(reply.ends_with(":0\r\n"), "{reply}");
        // And the unsubscribe is acknowledged as well.
        for (_, publisher) in conns.iter_mut().filter(|(s, _)| *s != sub_shard) {
            assert_eq!(
                publisher.cmd(&format!("{publish} {channel} late")),
                ":0\r\n"
            );
        }
        conns.push((sub_shard, subscriber));
    }
    let stopped = server.stop();
    stopped.assert_clean();
}

#[test]
fn redis_py_pubsub_works_as_against_redis_in_resp2_and_resp3() {
    let server = TestServer::builder().services(&["resp"]).start();
    let redis = redis();
    for proto in ["2", "3"] {
        let run = |addr: std::net::SocketAddr| {
            let args = [
                addr.ip().to_string(),
                addr.port().to_string(),
                proto.to_string(),
            ];
            run_python_client("redis_py_pubsub.py", &args)
        };
        let (ours, theirs) = (run(server.addr("resp")), run(redis.addr));
        assert_eq!(ours, theirs, "RESP{proto}");
        assert!(
            ours.contains(
                "'type': 'pmessage', 'pattern': b'c*', 'channel': b'ch', 'data': b'again'"
            ),
            "{ours}"
        );
        assert!(
            ours.ends_with("[b'item 0', b'item 1', b'item 2']\n"),
            "{ours}"
        );
    }
    server.stop().assert_clean();
}

#[test]
fn info_and_client_list_count_subscriptions() {
    let server = TestServer::builder().services(&["resp"]).start();
    let mut subscriber = Resp::connect(server.addr("resp"));
    subscriber.cmd("HELLO 3");
    for line in ["SUBSCRIBE a b c", "PSUBSCRIBE x* y*", "SSUBSCRIBE s"] {
        subscriber.send(&words(line));
        for _ in 0..replies_to(line) {
            subscriber.reply();
        }
    }
    let mut other = Resp::connect(server.addr("resp"));
    let info = other.cmd("INFO stats");
    assert!(
        info.contains("pubsub_channels:3\r\npubsub_patterns:2\r\npubsubshard_channels:1\r\n"),
        "{info}"
    );
    let list = other.cmd("CLIENT LIST");
    assert!(list.contains("flags=P db=0 sub=3 psub=2 ssub=1"), "{list}");
    subscriber.cmd("RESET");
    let info = other.cmd("INFO stats");
    assert!(
        info.contains("pubsub_channels:0\r\npubsub_patterns:0\r\npubsubshard_channels:0\r\n"),
        "{info}"
    );
    assert!(other
        .cmd("CLIENT LIST")
        .contains("flags=N db=0 sub=0 psub=0 ssub=0"));
    server.stop().assert_clean();
}
