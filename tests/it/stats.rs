//! Statistics, docs/PROTOCOLS.md §5: exact counts in `--stats-json`, per-shard figures that
//! add up, the final table on stdout and the `--stats-interval` line.

use std::io::Write;

use crate::common::*;

#[test]
fn json_counts_exactly_what_was_served() {
    let server = TestServer::builder().start();
    // 12 connections, so the kernel spreads them over the 4 shards.
    let mut yell_lines = 0u64;
    let mut yell_bytes = 0u64;
    for conn_no in 0..12 {
        let mut conn = server.connect("yell");
        let lines = 10 + conn_no;
        let request: Vec<u8> = (0..lines)
            .flat_map(|_| b"abc\r\n".iter().copied())
            .collect();
        assert_eq!(
            round_trip(&mut conn, &request, request.len()),
            request.to_ascii_uppercase()
        );
        yell_lines += lines as u64;
        yell_bytes += request.len() as u64;
    }
    let mut chat = server.connect("chat");
    assert_eq!(round_trip(&mut chat, b"x\n", 13), b"You sent: x\r\n");
    chat.write_all(b".\n").unwrap();
    assert_eq!(read_to_close(&mut chat), b"");

    let stopped = server.stop();
    assert!(
        stopped.status.success(),
        "{:?}: {}",
        stopped.status,
        stopped.stderr
    );
    let json = &stopped.json;
    assert_eq!(json["shards"], 4);
    assert!(json["uptime_s"].as_f64().unwrap() > 0.0);

    let yell = &json["services"]["yell"];
    assert_eq!(yell["messages"], yell_lines);
    assert_eq!(yell["connections"], 12);
    assert_eq!(yell["rejected_connections"], 0);
    assert_eq!(yell["bytes_in"], yell_bytes);
    assert_eq!(yell["bytes_out"], yell_bytes);
    assert_eq!(yell["errors"], 0);
    let per_shard = yell["per_shard"].as_array().unwrap();
    assert_eq!(per_shard.len(), 4);
    for (i, shard) in per_shard.iter().enumerate() {
        assert_eq!(shard["shard"], i);
    }
    let sum = |field: &str| {
        per_shard
            .iter()
            .map(|s| s[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum("messages"), yell_lines);
    assert_eq!(sum("connections"), 12);
    let latency = &yell["latency_us"];
    assert!(latency["p50"].as_u64().unwrap() >= 1);
    assert!(latency["p50"].as_u64() <= latency["max"].as_u64());
    assert!(yell["peak_msgs_per_sec"].as_f64().unwrap() >= 1.0);

    // The '.' counts in neither messages nor errors.
    assert_eq!(json["services"]["chat"]["messages"], 1);
    assert_eq!(json["services"]["chat"]["errors"], 0);
    assert_eq!(json["services"]["echo"]["messages"], 0);
    assert_eq!(
        json["services"]["echo"]["per_shard"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // The final table names every service with its totals.
    assert!(
        stopped.stdout.contains("percore report"),
        "{}",
        stopped.stdout
    );
    for service in SERVICES {
        assert!(stopped.stdout.contains(&format!("{service} on 127.0.0.1:")));
    }
    assert!(stopped
        .stdout
        .contains(&format!("messages     {yell_lines}")));
}

#[test]
fn stats_interval_prints_a_line_per_interval_on_stderr() {
    let mut server = TestServer::builder()
        .args(&["--stats-interval", "0.2"])
        .start();
    let stderr = lines_of(server.take_stderr());
    let mut conn = server.connect("yell");
    assert_eq!(round_trip(&mut conn, b"tick\n", 5), b"TICK\n");
    let line = wait_for_line(&stderr, "stats line", |line| {
        line.starts_with("percore stats") && line.contains("percore_messages_total 1,")
    });
    for service in SERVICES {
        assert!(line.contains(&format!("{service}:")), "{line}");
    }
    assert!(line.contains("percore_connections_open 1,"), "{line}");
    drop(stderr);
}
