//! One measurement: a `percore load` run against a server already started,
//! with the server's CPU time read around it, as one JSON result (the load
//! generator's own report plus the server's CPU figures), and the line
//! printed for it.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::process::{cpu_time, Target};
use crate::scenarios::{workload_args, Scenario};

/// One `percore load` run against a running server, with the server's CPU
/// time around it. The load runs 0.5 s longer than `seconds` and leaves that
/// first half second out of its figures (`--warmup`); the server's CPU time
/// covers the whole run, so CPU per message divides by the requests of both.
pub fn measure(
    server: &Child,
    target: Target,
    service: &str,
    addr: SocketAddr,
    scenario: &Scenario,
    seconds: f64,
    client_cpu: Option<usize>,
) -> Value {
    let report_path =
        std::env::temp_dir().join(format!("percore-bench-{}.json", std::process::id()));
    let mut load = Command::new(env!("CARGO_BIN_EXE_percore"));
    load.args(["load", service, "--quiet", "--threads", "1"])
        .args(["--addr", &addr.to_string()])
        .args(["--conns", &scenario.conns.to_string()])
        .args(["--pipeline", &scenario.pipeline.to_string()]);
    if let Some(cpu) = client_cpu {
        load.args(["--cpus", &cpu.to_string()]);
    }
    load.args(workload_args(service, scenario));
    load.args([
        "--warmup",
        "0.5",
        "--duration",
        &(seconds + 0.5).to_string(),
    ])
    .arg("--json")
    .arg(&report_path)
    .stdout(Stdio::null());
    if let Some(rate) = scenario.rate {
        load.args(["--rate", &rate.to_string()]);
    }
    let cpu_before = cpu_time(server.id());
    let status = load.status().expect("run percore load");
    let cpu = cpu_time(server.id()) - cpu_before;
    let mut report: Value = std::fs::read_to_string(&report_path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    let served =
        report["requests"].as_u64().unwrap_or(0) + report["warmup_requests"].as_u64().unwrap_or(0);
    report["target"] = json!(target.name());
    report["load_status"] = json!(status.code());
    report["server_cpu_s"] = json!(cpu.as_secs_f64());
    report["server_cpu_ns_per_msg"] = json!(cpu.as_nanos() as f64 / served.max(1) as f64);
    report
}

/// One line per result on stdout, as the bench goes.
pub fn print_result(service: &str, scenario: &str, result: &Value) {
    println!(
        "{service:<5} {scenario:<11} {:<16} {:>10.0} msgs/s  p99 {:>6} us  server CPU {:>6.0} ns/msg  errors {}",
        result["target"].as_str().unwrap_or(""),
        result["msgs_per_sec"].as_f64().unwrap_or(0.0),
        result["latency_us"]["p99"],
        result["server_cpu_ns_per_msg"].as_f64().unwrap_or(0.0),
        result["errors"]
    );
}
