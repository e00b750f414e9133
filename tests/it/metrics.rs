//! Live metrics (docs/PROTOCOLS.md §8) from the real binary: the exposition checked with
//! Prometheus's Python parser, exact counts after exact traffic, /health,
//! 404, a scrape under full load, and a hostile client on the metrics port.

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::http::http_get;
use crate::common::*;

/// Parses the exposition with prometheus_client's parser; returns every
/// sample as (name, labels, value).
fn parse(exposition: &str) -> Vec<(String, HashMap<String, String>, f64)> {
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append([s.name, s.labels, s.value])
print(json.dumps(out))
"#;
    let mut child = Command::new(python_with_msgspec())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the parser");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the parser refused it: {}\n{exposition}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice::<Vec<(String, HashMap<String, String>, f64)>>(&output.stdout)
        .expect("parsed samples")
}

fn sum(samples: &[(String, HashMap<String, String>, f64)], name: &str, service: &str) -> f64 {
    samples
        .iter()
        .filter(|(n, labels, _)| {
            n == name && labels.get("service").map(String::as_str) == Some(service)
        })
        .map(|(_, _, v)| v)
        .sum()
}

#[test]
fn the_exposition_parses_and_counts_exactly() {
    // Every service: the key space's and mq's metrics are exported too.
    let server = TestServer::builder()
        .args(&["--metrics", "127.0.0.1:0"])
        .start();
    let metrics = server.metrics_addr();
    let mut yell = server.connect("yell");
    let request: Vec<u8> = (0..50).flat_map(|_| b"ping\n".iter().copied()).collect();
    assert_eq!(
        round_trip(&mut yell, &request, request.len()),
        request.to_ascii_uppercase()
    );
    let mut echo = server.connect("echo");
    assert_eq!(round_trip(&mut echo, b"x", 1), b"x");
    let second = server.connect("yell");

    // A shard counts a message once its reply's write completes and a
    // connection once it accepts it, both of which may follow what the
    // client saw by a moment: scrape until the figures settle, then check
    // them exactly.
    let settled = |samples: &[(String, HashMap<String, String>, f64)]| {
        sum(samples, "percore_messages_total", "yell") == 50.0
            && sum(samples, "percore_messages_total", "echo") == 1.0
            && sum(samples, "percore_connections_open", "yell") == 2.0
    };
    let give_up = Instant::now() + DEADLINE;
    let scraped = loop {
        let scraped = http_get(metrics, "/metrics");
        if settled(&parse(&scraped.body)) || Instant::now() >= give_up {
            break scraped;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(scraped.status, "HTTP/1.1 200 OK");
    let samples = parse(&scraped.body);
    assert_eq!(sum(&samples, "percore_messages_total", "yell"), 50.0);
    assert_eq!(sum(&samples, "percore_messages_total", "echo"), 1.0);
    assert_eq!(
        sum(&samples, "percore_request_duration_seconds_count", "yell"),
        50.0
    );
    assert_eq!(sum(&samples, "percore_connections_open", "yell"), 2.0);
    for name in [
        "percore_uptime_seconds",
        "percore_keys",
        "percore_memory_bytes",
        "percore_mq_deliveries_total",
        "percore_forwarded_total",
        "percore_tls_errors_total",
    ] {
        assert!(
            samples.iter().any(|(n, _, _)| n == name),
            "{name} is exported"
        );
    }

    // The gauge follows closes.
    drop(second);
    drop(yell);
    wait_until("open connections back to 0", || {
        sum(
            &parse(&http_get(metrics, "/metrics").body),
            "percore_connections_open",
            "yell",
        ) == 0.0
    });

    let health = http_get(metrics, "/health");
    assert_eq!(
        (health.status.as_str(), health.body.as_str()),
        ("HTTP/1.1 200 OK", "ok\n")
    );
    assert_eq!(http_get(metrics, "/other").status, "HTTP/1.1 404 Not Found");
    server.stop().assert_clean();
}

#[test]
fn a_scrape_under_full_load_and_a_hostile_client_disturb_nothing() {
    let server = TestServer::builder()
        .services(&["yell", "echo"])
        .args(&["--metrics", "127.0.0.1:0"])
        .start();
    let metrics = server.metrics_addr();
    // A slowloris on the metrics port, and garbage.
    let mut slow = TcpStream::connect(metrics).unwrap();
    slow.write_all(b"GET /met").unwrap();
    let mut garbage = TcpStream::connect(metrics).unwrap();
    garbage.write_all(&[0xff; 20_000]).ok();

    let yell = server.addr("yell").to_string();
    let mut load = percore()
        .args([
            "load",
            "yell",
            "--addr",
            &yell,
            "--conns",
            "16",
            "--pipeline",
            "16",
            "--duration",
            "3",
            "--quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("percore load");
    // Scrapes while the load runs (once it has begun), with the slowloris
    // still holding its connection: each must be answered (a stalled one
    // would time out). How fast a scrape is belongs to benchmarks.
    let give_up = Instant::now() + DEADLINE;
    let mut answered_under_load = 0;
    while answered_under_load < 5 {
        let scraped = http_get(metrics, "/metrics");
        assert_eq!(scraped.status, "HTTP/1.1 200 OK");
        // The deadline bounds the wait for the load to show, not the
        // scrapes after it (each parse starts Python: slow on a busy box).
        if sum(&parse(&scraped.body), "percore_messages_total", "yell") > 0.0 {
            answered_under_load += 1;
        } else {
            assert!(
                Instant::now() < give_up,
                "the load never showed in a scrape"
            );
        }
    }
    let status = wait_with_deadline(&mut load, DEADLINE).expect("load finished");
    assert!(status.success());
    assert_eq!(http_get(metrics, "/health").status, "HTTP/1.1 200 OK");
    drop(slow);
    let stopped = server.stop();
    stopped.assert_clean();
    assert_eq!(stopped.json["services"]["yell"]["panics"], 0);
}
