//! kv's peer: redis-server driven by redis-benchmark, when both are
//! installed. Their figures are turned into results shaped like `percore
//! load`'s (msgs/s, p50, p99, max, server CPU per request), so the README's
//! tables and the plots take them as they take percore's.

use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::process::{cpu_time, free_port, wait_until_accepting};

/// Whether redis-server, redis-benchmark and taskset (which pins them) all run.
pub fn redis_available() -> bool {
    ["redis-server", "redis-benchmark", "taskset"]
        .iter()
        .all(|tool| {
            Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok()
        })
}

/// redis-server pinned to the server CPU, redis-benchmark to the client
/// CPU, 50 clients, SET and GET of 32-byte values over 10,000 keys. Each
/// test runs about as long as a percore scenario. redis-benchmark cannot mix
/// Gets and Puts, so SET and GET are two results.
pub fn redis_benchmark(
    pipeline: usize,
    seconds: f64,
    server_cpu: usize,
    client_cpu: usize,
) -> Vec<Value> {
    let port = free_port();
    let mut server = start_redis(port, server_cpu);
    // redis-benchmark runs a number of requests, not a duration: requests
    // for about `seconds` at the rates seen here.
    let per_second = if pipeline == 1 {
        150_000.0
    } else {
        1_000_000.0
    };
    let requests = (per_second * seconds) as u64;
    let mut results = Vec::new();
    for test in ["set", "get"] {
        let target = format!("redis-server ({} only)", test.to_uppercase());
        let run = Run {
            port,
            server_pid: server.id(),
            test,
            pipeline,
            requests,
            client_cpu,
            keys: 10_000,
            value_size: 32,
        };
        results.extend(run.measure(&target));
    }
    let _ = server.kill();
    let _ = server.wait();
    results
}

/// One redis-benchmark test against a server already listening.
pub struct Run<'a> {
    pub port: u16,
    /// The server's process, whose CPU time is measured.
    pub server_pid: u32,
    /// `set` or `get`.
    pub test: &'a str,
    pub pipeline: usize,
    pub requests: u64,
    pub client_cpu: usize,
    /// `-r`: keys in play.
    pub keys: u64,
    /// `-d`: bytes per value.
    pub value_size: usize,
}

impl Run<'_> {
    /// Runs it with 50 clients, redis-benchmark pinned to the client CPU;
    /// the figures as a result row named `target` (None if it printed none).
    pub fn measure(&self, target: &str) -> Option<Value> {
        let cpu_before = cpu_time(self.server_pid);
        let output = Command::new("taskset")
            .args(["-c", &self.client_cpu.to_string(), "redis-benchmark"])
            .args(["-p", &self.port.to_string(), "-c", "50"])
            .args(["-d", &self.value_size.to_string()])
            .args(["-r", &self.keys.to_string()])
            .args(["-P", &self.pipeline.to_string()])
            .args(["-n", &self.requests.to_string()])
            .args(["-t", self.test, "--csv", "-q"])
            .output()
            .expect("run redis-benchmark");
        let cpu = cpu_time(self.server_pid) - cpu_before;
        let text = String::from_utf8_lossy(&output.stdout);
        // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        let row = text.lines().nth(1)?;
        let cells: Vec<f64> = row
            .split(',')
            .skip(1)
            .map(|cell| cell.trim_matches('"').parse().unwrap_or(f64::NAN))
            .collect();
        let us = |i: usize| (cells.get(i).copied().unwrap_or(0.0) * 1000.0).round() as u64;
        // redis-benchmark has no p90 or p99.9: null, shown as "–".
        Some(json!({
            "target": target,
            "msgs_per_sec": cells.first(),
            "requests": self.requests,
            "errors": 0,
            "latency_us": {"p50": us(3), "p90": null, "p99": us(5), "p999": null, "max": us(6)},
            "server_cpu_ns_per_msg": cpu.as_nanos() as f64 / self.requests as f64,
        }))
    }
}

/// redis-server without persistence on `port`, pinned to `cpu`, accepting.
pub fn start_redis(port: u16, cpu: usize) -> std::process::Child {
    let server = Command::new("taskset")
        .args(["-c", &cpu.to_string(), "redis-server"])
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("start redis-server");
    wait_until_accepting(("127.0.0.1", port), "redis-server");
    server
}
