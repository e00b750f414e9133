//! The framework as a user meets it (docs/PROTOCOLS.md §10): the examples, built by
//! `cargo test`, run as their own programs over real sockets, with every
//! service the framework gives (shards, limits, the Ctrl-C report).

use std::io::{BufReader, Write};
use std::net::TcpStream;

use crate::common::*;

#[test]
fn json_echo_answers_each_document_with_its_shard_and_survives_garbage() {
    let server = TestServer::builder().example("json_echo").start();
    let mut conn = server.connect("json");
    conn.write_all(b"{\"id\": 1, \"tags\": [\"a\", \"b\"]}\nnot json\n[1, 2.5, null]\n")
        .unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let first: serde_json::Value = serde_json::from_str(&read_line(&mut reader)).unwrap();
    assert_eq!(
        first["request"],
        serde_json::json!({"id": 1, "tags": ["a", "b"]})
    );
    let shards = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    assert!(
        first["shard"].as_u64().is_some_and(|shard| shard < shards),
        "{first}"
    );
    let garbage: serde_json::Value = serde_json::from_str(&read_line(&mut reader)).unwrap();
    assert!(
        garbage["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{garbage}"
    );
    // The connection stayed open: the third document is answered too.
    let third: serde_json::Value = serde_json::from_str(&read_line(&mut reader)).unwrap();
    assert_eq!(third["request"], serde_json::json!([1, 2.5, null]));

    // Pipelined requests from many connections, every reply checked.
    let mut conns: Vec<TcpStream> = (0..8).map(|_| server.connect("json")).collect();
    for (i, conn) in conns.iter_mut().enumerate() {
        let batch: String = (0..100)
            .map(|j| format!("{{\"c\": {i}, \"n\": {j}}}\n"))
            .collect();
        conn.write_all(batch.as_bytes()).unwrap();
    }
    for (i, conn) in conns.into_iter().enumerate() {
        let mut reader = BufReader::new(conn);
        for j in 0..100 {
            let reply: serde_json::Value = serde_json::from_str(&read_line(&mut reader)).unwrap();
            assert_eq!(reply["request"], serde_json::json!({"c": i, "n": j}));
        }
    }

    let stopped = server.stop();
    assert_eq!(stopped.status.code(), Some(0), "{}", stopped.stderr);
    assert!(
        stopped.stdout.contains("percore report"),
        "{}",
        stopped.stdout
    );
    assert!(
        stopped.stdout.contains("json on 127.0.0.1:"),
        "{}",
        stopped.stdout
    );
    assert!(
        stopped.stdout.contains("messages     802"),
        "{}",
        stopped.stdout
    );
}

#[test]
fn greeter_greets_waits_for_a_name_within_its_deadline_and_ticks() {
    // A short deadline for the test's sake: 1 s.
    let server = TestServer::builder().example("greeter").arg("1").start();
    let mut named = BufReader::new(server.connect("greeter"));
    let greeting = read_line(&mut named);
    assert!(greeting.starts_with("hello from shard "), "{greeting}");
    assert!(greeting.ends_with("who are you?\n"), "{greeting}");
    named.get_mut().write_all(b"ada\n").unwrap();
    let reply = read_line(&mut named);
    assert!(reply.starts_with("hi ada, tick "), "{reply}");

    // Silent past the deadline: told so, then closed.
    let mut silent = BufReader::new(server.connect("greeter"));
    read_line(&mut silent);
    assert_eq!(read_line(&mut silent), "too slow, bye\n");
    assert_eq!(read_line(&mut silent), "", "closed after the deadline");

    // Named in time, the deadline no longer applies: still served after it.
    named.get_mut().write_all(b"grace\n").unwrap();
    let later = read_line(&mut named);
    assert!(later.starts_with("hi grace, tick "), "{later}");
    let tick = |reply: &str| -> u64 {
        reply
            .split("tick ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(
        tick(&later) > tick(&reply),
        "the shard's ticker runs: {reply} then {later}"
    );

    let stopped = server.stop();
    assert_eq!(stopped.status.code(), Some(0), "{}", stopped.stderr);
    assert!(stopped.stdout.contains("ticks"), "{}", stopped.stdout);
}

#[test]
fn json_echo_starts_without_a_warning_under_a_low_open_files_limit() {
    // The builder's default --max-conns (65,536 per shard) needs far more
    // than 4,096 descriptors: it is fitted to the limit, silently.
    let server = TestServer::builder()
        .example("json_echo")
        .shell("ulimit -n 4096")
        .start();
    let mut reader = BufReader::new(server.connect("json"));
    reader.get_mut().write_all(b"[1]\n").unwrap();
    assert!(read_line(&mut reader).contains("\"request\":[1]"));
    let stopped = server.stop();
    assert_eq!(stopped.status.code(), Some(0), "{}", stopped.stderr);
    assert!(
        !stopped.stderr.contains("warning"),
        "json_echo warned: {}",
        stopped.stderr
    );
}
