//! `percore load` against a real server: every reply checked, and the count
//! the load generator reports is exactly what the server's statistics saw.

use std::process::Output;

use crate::common::*;

fn assert_succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn load(args: &[&str]) -> Output {
    let mut argv = vec!["load"];
    argv.extend_from_slice(args);
    run_percore(&argv).0
}

#[test]
fn exact_request_counts_reach_the_server_with_no_errors() {
    let server = TestServer::builder()
        .services(&["yell", "echo", "chat"])
        .start();
    let dir = TempDir::new();
    let json = dir.path.join("load.json");
    let yell = server.addr("yell").to_string();
    let out = load(&[
        "yell",
        "--addr",
        &yell,
        "--conns",
        "9",
        "--threads",
        "2",
        "--pipeline",
        "8",
        "--requests",
        "20011",
        "--size",
        "24",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_succeeded(&out);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["requests"], 20011);
    assert_eq!(report["errors"], 0);
    assert!(report["latency_us"]["p50"].as_u64().unwrap() >= 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("requests    20011"));

    // Open loop at a modest rate, on echo.
    let echo = server.addr("echo").to_string();
    let out = load(&[
        "echo",
        "--addr",
        &echo,
        "--conns",
        "4",
        "--rate",
        "4000",
        "--requests",
        "2000",
        "--pipeline",
        "4",
        "--quiet",
    ]);
    assert_succeeded(&out);

    // chat, whose replies are longer than the requests.
    let chat = server.addr("chat").to_string();
    let out = load(&[
        "chat",
        "--addr",
        &chat,
        "--conns",
        "3",
        "--pipeline",
        "16",
        "--requests",
        "3001",
        "--quiet",
    ]);
    assert_succeeded(&out);

    let stopped = server.stop();
    assert_eq!(stopped.json["services"]["chat"]["messages"], 3001);
    assert_eq!(
        stopped.json["services"]["chat"]["bytes_out"],
        3001 * (16 + 11)
    );
    assert_eq!(stopped.json["services"]["yell"]["messages"], 20011);
    assert_eq!(stopped.json["services"]["yell"]["bytes_in"], 20011 * 24);
    assert_eq!(stopped.json["services"]["echo"]["bytes_in"], 2000 * 16);
    assert_eq!(stopped.json["services"]["yell"]["errors"], 0);
}

#[test]
fn kv_load_checks_every_value_across_shards() {
    let server = TestServer::builder().services(&["kv"]).start();
    let dir = TempDir::new();
    let json = dir.path.join("load.json");
    let kv = server.addr("kv").to_string();
    // Closed loop, pipelined, then open loop: every Get checked against the
    // value the connection last put, with keys on all 4 shards.
    let out = load(&[
        "kv",
        "--addr",
        &kv,
        "--conns",
        "6",
        "--threads",
        "2",
        "--pipeline",
        "16",
        "--keys",
        "300",
        "--get-ratio",
        "0.7",
        "--val-size",
        "40",
        "--requests",
        "30007",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_succeeded(&out);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["requests"], 30007);
    assert_eq!(report["errors"], 0);
    let out = load(&[
        "kv",
        "--addr",
        &kv,
        "--conns",
        "3",
        "--rate",
        "3000",
        "--requests",
        "1500",
        "--keys",
        "30",
        "--quiet",
    ]);
    assert_succeeded(&out);

    let stopped = server.stop();
    let served = &stopped.json["services"]["kv"];
    assert_eq!(served["messages"], 30007 + 1500);
    assert_eq!(served["errors"], 0);
    assert!(served["forwarded"].as_u64() > Some(0));
}

#[test]
fn resp_load_checks_every_get_across_shards_and_wrong_replies_fail_it() {
    let server = TestServer::builder().services(&["resp", "echo"]).start();
    let dir = TempDir::new();
    let json = dir.path.join("load.json");
    let resp = server.addr("resp").to_string();
    let out = load(&[
        "resp",
        "--addr",
        &resp,
        "--conns",
        "6",
        "--threads",
        "2",
        "--pipeline",
        "16",
        "--keys",
        "300",
        "--get-ratio",
        "0.7",
        "--val-size",
        "40",
        "--requests",
        "20011",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_succeeded(&out);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["requests"], 20011);
    assert_eq!(report["errors"], 0);
    // echo sends each command back: well-formed RESP, but not the reply.
    let echo = server.addr("echo").to_string();
    let out = load(&["resp", "--addr", &echo, "--requests", "10", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong or missing"));

    let stopped = server.stop();
    let served = &stopped.json["services"]["resp"];
    assert!(served["forwarded"].as_u64() > Some(0));
}

#[test]
fn mq_load_checks_every_delivery_across_shards() {
    let server = TestServer::builder().services(&["mq"]).start();
    let dir = TempDir::new();
    let json = dir.path.join("load.json");
    let mq = server.addr("mq").to_string();
    // 2 publishers, each sending 300 messages round-robin over 3 topics;
    // 6 subscribers, 2 per topic: each gets 2 × 100 messages.
    let out = load(&[
        "mq",
        "--addr",
        &mq,
        "--publishers",
        "2",
        "--subscribers",
        "6",
        "--topics",
        "3",
        "--threads",
        "2",
        "--pipeline",
        "8",
        "--requests",
        "600",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_succeeded(&out);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["requests"], 6 * 200);
    assert_eq!(report["errors"], 0);
    assert!(report["latency_us"]["p50"].as_u64().unwrap() >= 1);
    // Open loop: 1 publisher at 2,000 messages/s.
    let out = load(&[
        "mq",
        "--addr",
        &mq,
        "--publishers",
        "1",
        "--subscribers",
        "3",
        "--rate",
        "2000",
        "--requests",
        "400",
        "--json",
        json.to_str().unwrap(),
        "--quiet",
    ]);
    assert_succeeded(&out);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["requests"], 3 * 400);
    assert_eq!(report["errors"], 0);

    let stopped = server.stop();
    let served = &stopped.json["services"]["mq"];
    // Per connection: a subscribe and a hello per topic; then the sends and
    // one end marker per publisher and topic.
    let first = (6 + 2 * 3) * 2 + 600 + 2 * 3;
    let second = (3 + 1) * 2 + 400 + 1;
    assert_eq!(served["messages"], first + second);
    assert_eq!(served["errors"], 0);
    assert_eq!(served["slow_disconnects"], 0);
}

#[test]
fn a_timed_run_prints_progress_and_a_report() {
    let server = TestServer::builder().services(&["yell"]).start();
    let yell = server.addr("yell").to_string();
    let out = load(&[
        "yell",
        "--addr",
        &yell,
        "--duration",
        "1.2",
        "--warmup",
        "0.1",
    ]);
    assert_succeeded(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("percore load t=1s"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for field in ["requests", "errors", "msgs/s", "p99.9"] {
        assert!(stdout.contains(field), "{stdout}");
    }
}

#[test]
fn wrong_replies_are_errors_and_fail_the_run() {
    // chat answers "You sent: ...", which is not what yell's checker expects.
    let server = TestServer::builder().services(&["chat"]).start();
    let chat = server.addr("chat").to_string();
    let out = load(&[
        "yell",
        "--addr",
        &chat,
        "--requests",
        "10",
        "--size",
        "32",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong or missing"));
}

#[test]
fn bad_options_and_unreachable_servers_exit_2_with_one_line() {
    let port = free_port().to_string();
    let addr = format!("127.0.0.1:{port}");
    for args in [
        &["yell", "--conns", "0"][..],
        &["yell", "--pipeline", "0"],
        &["yell", "--threads", "4", "--conns", "2"],
        &["yell", "--size", "1"],
        &["yell", "--rate", "0"],
        &["yell", "--requests", "3", "--conns", "5"],
        &["yell", "--duration", "1", "--requests", "10"],
        &["yell", "--duration", "1", "--warmup", "2"],
        &["kv", "--keys", "0"],
        &["kv", "--get-ratio", "1.5"],
        &["resp", "--keys", "0"],
        &["chat", "--size", "1"],
        &["yell", "--addr", &addr, "--requests", "5"],
    ] {
        let out = load(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.trim().is_empty(), "{args:?}");
    }
}
