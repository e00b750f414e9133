//! mq, docs/PROTOCOLS.md §3.4, against the real server with 4 shards: connections land on
//! whichever shard the kernel picks, so subscribers and senders are spread
//! over shards and the cross-shard paths are exercised.

use crate::common::mq::Client;
use crate::common::*;

#[test]
fn the_seed_session_delivers_the_line_byte_for_byte() {
    let server = TestServer::builder().services(&["mq"]).start();
    let mut subscriber = Client::connect(&server);
    subscriber.subscribe("foo", "subscriber");
    let mut sender = Client::connect(&server);
    let seed_line = b"{'command':'send', 'topic':'foo', 'msg':'blah'}\n";
    sender.send_raw(seed_line);
    assert_eq!(subscriber.read_line().as_bytes(), seed_line);
    // A \r\n ending is passed on as it came.
    sender.send_raw(b"{\"command\": \"send\", \"topic\": \"foo\", \"msg\": \"crlf\"}\r\n");
    assert_eq!(
        subscriber.read_line(),
        "{\"command\": \"send\", \"topic\": \"foo\", \"msg\": \"crlf\"}\r\n"
    );
    // The sender is not subscribed: it got nothing before its quit.
    sender.send_raw(b"quit\n");
    assert_eq!(read_to_close(sender.reader.get_mut()), b"");
    let stopped = server.stop();
    let mq = &stopped.json["services"]["mq"];
    // subscribe, its handshake send, and two sends.
    assert_eq!(mq["messages"], 4);
    assert_eq!(mq["deliveries"], 3);
    assert_eq!(mq["errors"], 0);
    assert_eq!(mq["subscribers"], 1);
    assert_eq!(mq["topics"], 1);
    assert_eq!(mq["slow_disconnects"], 0);
}

#[test]
fn eight_subscribers_on_all_shards_each_get_every_message_once() {
    let server = TestServer::builder().services(&["mq"]).start();
    let mut subscribers: Vec<Client> = (0..8).map(|_| Client::connect(&server)).collect();
    for (i, subscriber) in subscribers.iter_mut().enumerate() {
        subscriber.subscribe("news", &format!("subscriber {i}"));
    }
    let mut sender = Client::connect(&server);
    for i in 0..100 {
        sender.send("news", &format!("item {i}"));
    }
    for subscriber in &mut subscribers {
        let mut seen = [false; 100];
        for _ in 0..100 {
            let msg = subscriber.next_message();
            let item: usize = msg["msg"].as_str().unwrap()[5..].parse().unwrap();
            assert!(!seen[item], "item {item} delivered twice");
            seen[item] = true;
        }
    }
    // Exactly once: a marker sent last is the next line everyone sees.
    sender.send("news", "the end");
    for subscriber in &mut subscribers {
        assert_eq!(subscriber.next_message()["msg"], "the end");
    }
    let stopped = server.stop();
    let per_shard = stopped.json["services"]["mq"]["per_shard"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(per_shard.len(), 4);
    // The kernel spread the 9 connections: all on one shard has odds of
    // 4 in 4^9, and would not exercise the cross-shard path.
    let busy = per_shard.iter().filter(|s| s["connections"] != 0).count();
    assert!(busy >= 2, "{per_shard:?}");
}

#[test]
fn a_thousand_sends_arrive_in_order_at_every_subscriber() {
    let server = TestServer::builder().services(&["mq"]).start();
    let mut subscribers: Vec<Client> = (0..4).map(|_| Client::connect(&server)).collect();
    for (i, subscriber) in subscribers.iter_mut().enumerate() {
        subscriber.subscribe("ordered", &format!("subscriber {i}"));
    }
    let mut sender = Client::connect(&server);
    // One write carrying every line: the server reads them in batches.
    let lines: String = (0..1000)
        .map(|i| format!("{{\"command\":\"send\",\"topic\":\"ordered\",\"msg\":\"{i}\"}}\n"))
        .collect();
    sender.send_raw(lines.as_bytes());
    for subscriber in &mut subscribers {
        for expected in 0..1000 {
            assert_eq!(subscriber.next_message()["msg"], expected.to_string());
        }
    }
}

#[test]
fn unsubscribe_stops_delivery() {
    let server = TestServer::builder().services(&["mq"]).start();
    let mut leaving = Client::connect(&server);
    leaving.subscribe("t", "leaving");
    let mut staying = Client::connect(&server);
    staying.subscribe("t", "staying");
    let mut sender = Client::connect(&server);

    leaving.unsubscribe("t");
    // Sent after the unsubscribe on the same connection: the owner has
    // processed the unsubscribe before this line.
    leaving.send("t", "left");
    assert_eq!(staying.next_message()["msg"], "left");
    for i in 0..10 {
        sender.send("t", &format!("while away {i}"));
    }
    for i in 0..10 {
        assert_eq!(staying.next_message()["msg"], format!("while away {i}"));
    }
    // Back again: the first line is the new handshake, nothing from before.
    leaving.subscribe("t", "back");
    sender.send("t", "welcome back");
    assert_eq!(leaving.next_message()["msg"], "welcome back");
    let stopped = server.stop();
    assert_eq!(stopped.json["services"]["mq"]["errors"], 0);
}

#[test]
fn a_subscriber_that_closes_is_dropped_and_disturbs_no_one() {
    let mut server = TestServer::builder()
        .services(&["mq"])
        .args(&["--stats-interval", "0.1"])
        .start();
    let stderr = lines_of(server.take_stderr());
    let mut closing = Client::connect(&server);
    closing.subscribe("t", "closing");
    let mut staying = Client::connect(&server);
    staying.subscribe("t", "staying");
    drop(closing);
    // The stats line shows the closed connection's subscription gone.
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        let wait = deadline.saturating_duration_since(std::time::Instant::now());
        let line = stderr
            .recv_timeout(wait)
            .expect("a stats line with 1 subscriber");
        if line.contains("percore_mq_subscribers 1") {
            break;
        }
    }
    let mut sender = Client::connect(&server);
    for i in 0..200 {
        sender.send("t", &i.to_string());
    }
    for i in 0..200 {
        assert_eq!(staying.next_message()["msg"], i.to_string());
    }
    let stopped = server.stop();
    let mq = &stopped.json["services"]["mq"];
    assert_eq!(mq["panics"], 0);
    assert_eq!(mq["subscribers"], 1);
    assert_eq!(mq["topics"], 1);
    // The handshakes (the closing one's own; the staying one's to itself and
    // perhaps to the closing one, if written before it closed), then the
    // 200 sends to the one left.
    let deliveries = mq["deliveries"].as_u64().unwrap();
    assert!((202..=203).contains(&deliveries), "{deliveries}");
}

/// The most the kernel can hold for a subscriber that does not read: the
/// server's send buffer and the subscriber's receive buffer, each at most
/// its largest autotuned size.
fn largest_socket_buffers() -> usize {
    let largest = |file: &str| -> usize {
        std::fs::read_to_string(format!("/proc/sys/net/ipv4/{file}"))
            .ok()
            .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
            .unwrap_or(8 << 20)
    };
    largest("tcp_wmem") + largest("tcp_rmem")
}

#[test]
fn a_subscriber_that_never_reads_is_disconnected_past_the_cap() {
    let cap = 64 * 1024;
    let server = TestServer::builder()
        .services(&["mq"])
        .args(&["--mq-queue-bytes", &cap.to_string()])
        .start();
    let mut sleeper = Client::connect(&server);
    sleeper.subscribe("firehose", "sleeper");
    let mut reader = Client::connect(&server);
    reader.subscribe("firehose", "reader");
    let mut sender = Client::connect(&server);

    // More than the kernel can buffer for the sleeper, plus the cap, in
    // rounds small enough that the reader's queue never nears the cap. A
    // round's bytes count against the cap until the server has seen its
    // write complete, which under load can be after the reader has read
    // them and the next round is queued: two rounds must fit (2 × 16 KiB).
    let msg = "x".repeat(1000);
    let round = 16;
    let rounds = (largest_socket_buffers() + cap + (2 << 20)) / 1000 / round + 1;
    for r in 0..rounds {
        let lines: String = (0..round)
            .map(|i| {
                format!(
                    "{{\"command\":\"send\",\"topic\":\"firehose\",\"msg\":\"{r}.{i} {msg}\"}}\n"
                )
            })
            .collect();
        sender.send_raw(lines.as_bytes());
        for i in 0..round {
            let got = reader.next_message();
            let text = got["msg"].as_str().unwrap();
            assert!(
                text.starts_with(&format!("{r}.{i} ")),
                "{r}.{i}: {}",
                &text[..20]
            );
        }
    }

    // The sleeper finds its connection closed, short of everything sent.
    let received = read_to_close(sleeper.reader.get_mut()).len();
    assert!(received < rounds * round * 1000, "{received} bytes");
    let stopped = server.stop();
    let mq = &stopped.json["services"]["mq"];
    assert_eq!(mq["slow_disconnects"], 1);
    assert_eq!(mq["subscribers"], 1);
}

#[test]
fn malformed_lines_get_the_error_line_and_the_connection_stays() {
    let server = TestServer::builder().services(&["mq"]).start();
    let mut conn = Client::connect(&server);
    for bad in [
        &b"hello\n"[..],
        b"[1, 2]\n",
        b"{\"topic\": \"t\"}\n",
        b"{\"command\": \"dance\", \"topic\": \"t\"}\n",
        b"{\"command\": 7, \"topic\": \"t\"}\n",
        b"{\"command\": \"subscribe\"}\n",
        b"{'command': 'subscribe', 'topic': 3}\n",
        b"{\"command\": \"send\", \"topic\": \"t\"}\n",
        b"{'command': 'send', 'topic': 't', 'msg': None}\n",
        b"{\"command\": \"send\", \"topic\": \"\xff\", \"msg\": \"m\"}\n",
    ] {
        conn.send_raw(bad);
        let reply = conn.read_line();
        assert!(
            reply.starts_with("{\"error\": \"") && reply.ends_with("\"}\n"),
            "{:?} -> {reply:?}",
            String::from_utf8_lossy(bad)
        );
        let reason: serde_json::Value = serde_json::from_str(&reply).unwrap();
        assert!(!reason["error"].as_str().unwrap().is_empty());
    }
    // Empty lines are ignored; the connection still works.
    conn.send_raw(b"\n\r\n");
    conn.subscribe("t", "survivor");
    let stopped = server.stop();
    let mq = &stopped.json["services"]["mq"];
    assert_eq!(mq["errors"], 10);
    assert_eq!(mq["messages"], 2);
}

#[test]
fn quit_closes_and_a_too_long_line_closes_with_its_error() {
    let server = TestServer::builder()
        .services(&["mq"])
        .args(&["--max-frame", "64"])
        .start();
    let mut quitter = Client::connect(&server);
    quitter.send_raw(b"quit\r\n{\"command\": \"subscribe\", \"topic\": \"t\"}\n");
    assert_eq!(read_to_close(quitter.reader.get_mut()), b"");
    let mut long = Client::connect(&server);
    long.send_raw(
        format!(
            "{{'command': 'send', 'topic': 't', 'msg': '{}'}}\n",
            "y".repeat(100)
        )
        .as_bytes(),
    );
    assert_eq!(
        read_to_close(long.reader.get_mut()),
        b"{\"error\": \"line too long\"}\n"
    );
    let stopped = server.stop();
    let mq = &stopped.json["services"]["mq"];
    assert_eq!(mq["messages"], 0);
    assert_eq!(mq["errors"], 1);
}

#[test]
fn a_listening_subscriber_is_not_idle_but_a_silent_one_is() {
    let server = TestServer::builder()
        .services(&["mq"])
        .args(&["--idle-timeout", "1"])
        .start();
    let mut listener = Client::connect(&server);
    listener.subscribe("radio", "listener");
    let mut silent = Client::connect(&server);
    let mut sender = Client::connect(&server);
    // The listener never sends again, but is sent something every 100 ms
    // for three idle timeouts; the sender and the silent one are idle.
    let talker = std::thread::spawn(move || {
        for i in 0..30 {
            sender.send("radio", &i.to_string());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
    for i in 0..30 {
        assert_eq!(listener.next_message()["msg"], i.to_string());
    }
    talker.join().unwrap();
    assert!(is_closed_by_server(silent.reader.get_mut()));
    let stopped = server.stop();
    let mq = &stopped.json["services"]["mq"];
    // The silent connection, and perhaps the sender once it stopped.
    assert!(mq["idle_closes"].as_u64().unwrap() >= 1);
}
