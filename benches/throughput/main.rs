//! `cargo bench --bench throughput`: the seed's yell-echo experiment at
//! scale, percore against a minimal epoll reference server, on loopback.
//!
//! Each server runs as a child process on the first CPU (percore with one
//! shard); `percore load` runs on the last CPU with one thread. Scenarios, for
//! yell and echo, 16-byte messages:
//! - seed: 5 connections, one request in flight each (closed loop);
//! - saturation: 64 connections × pipeline 16 (closed loop);
//! - open: 64 connections × pipeline 16, open loop at a fixed rate below
//!   saturation, where the figure that decides is the server's CPU time per
//!   message (from /proc/PID/stat).
//!
//! Writes `results/<service>-<scenario>.json` and `.svg` (latency by
//! percentile), and regenerates `results/README.md`.
//! `PERCORE_BENCH_QUICK=1` runs each scenario for 1 s instead of 5.

mod epoll_reference;

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Set in the environment of the child that runs the reference server:
/// `ADDR,SERVICE`.
const REFERENCE_ENV: &str = "PERCORE_BENCH_REFERENCE";
const SIZE: usize = 16;
const OPEN_RATE: f64 = 1_000_000.0;

struct Scenario {
    name: &'static str,
    title: &'static str,
    conns: usize,
    pipeline: usize,
    rate: Option<f64>,
    /// More `percore load` options (mq's publishers, subscribers, topics).
    extra: &'static [&'static str],
}

const SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "seed",
        title: "the seed's experiment: 5 conns × pipeline 1, closed loop",
        conns: 5,
        pipeline: 1,
        rate: None,
        extra: &[],
    },
    Scenario {
        name: "saturation",
        title: "saturation: 64 conns × pipeline 16, closed loop",
        conns: 64,
        pipeline: 16,
        rate: None,
        extra: &[],
    },
    Scenario {
        name: "open",
        title: "open loop: 64 conns × pipeline 16 at 1,000,000 msgs/s",
        conns: 64,
        pipeline: 16,
        rate: Some(OPEN_RATE),
        extra: &[],
    },
];

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Percore,
    Reference,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Percore => "percore",
            Target::Reference => "epoll reference",
        }
    }
}

fn main() {
    if let Ok(spec) = std::env::var(REFERENCE_ENV) {
        return run_reference(&spec);
    }
    let quick = std::env::var_os("PERCORE_BENCH_QUICK").is_some();
    let seconds = if quick { 1.0 } else { 5.0 };
    let cpus: Vec<usize> = core_affinity::get_core_ids()
        .expect("CPU list")
        .into_iter()
        .map(|c| c.id)
        .collect();
    let (server_cpu, client_cpu) = (cpus[0], *cpus.last().unwrap());
    std::fs::create_dir_all("results").expect("results/");

    let mut all = Vec::new();
    for service in ["yell", "echo"] {
        let mut by_scenario: Vec<Vec<Value>> = vec![Vec::new(); SCENARIOS.len()];
        for target in [Target::Percore, Target::Reference] {
            let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
            let mut server = start_server(target, service, addr);
            for (i, scenario) in SCENARIOS.iter().enumerate() {
                let result = measure(
                    &server,
                    target,
                    service,
                    addr,
                    scenario,
                    seconds,
                    Some(client_cpu),
                );
                println!(
                    "{service:<5} {:<11} {:<16} {:>10.0} msgs/s  p99 {:>6} us  server CPU {:>6.0} ns/msg  errors {}",
                    scenario.name,
                    target.name(),
                    result["msgs_per_sec"].as_f64().unwrap_or(0.0),
                    result["latency_us"]["p99"],
                    result["server_cpu_ns_per_msg"].as_f64().unwrap_or(0.0),
                    result["errors"]
                );
                by_scenario[i].push(result);
            }
            stop_server(target, &mut server);
        }
        for (scenario, results) in SCENARIOS.iter().zip(by_scenario) {
            let doc = json!({
                "service": service,
                "scenario": scenario.name,
                "title": scenario.title,
                "seconds": seconds,
                "server_cpu": server_cpu,
                "client_cpu": client_cpu,
                "results": results,
            });
            all.push(doc);
        }
    }
    all.extend(kv_benchmarks(seconds, server_cpu, client_cpu));
    all.extend(mq_benchmarks(seconds, server_cpu, client_cpu));
    for doc in &all {
        let stem = format!(
            "results/{}-{}",
            doc["service"].as_str().unwrap_or(""),
            doc["scenario"].as_str().unwrap_or("")
        );
        std::fs::write(
            format!("{stem}.json"),
            serde_json::to_string_pretty(doc).unwrap() + "\n",
        )
        .expect("write results json");
        std::fs::write(format!("{stem}.svg"), latency_svg(doc)).expect("write svg");
    }
    std::fs::write("results/README.md", results_readme(&all, quick)).expect("write README");
    println!("wrote results/README.md");
}

/// kv (issue 4): 50 connections, 90% Get over 10,000 16-byte keys with
/// 32-byte values. One shard pinned against redis-server pinned the same way
/// (when redis-server and redis-benchmark are installed), at pipeline 1 and
/// 16, plus an open-loop run for CPU per request; then two shards to show
/// what the cross-shard hop costs.
fn kv_benchmarks(seconds: f64, server_cpu: usize, client_cpu: usize) -> Vec<Value> {
    const CONNS: usize = 50;
    const KV_RATE: f64 = 400_000.0;
    let scenarios = [
        ("p1", "50 conns × pipeline 1, 90% Get, closed loop", 1, None),
        (
            "p16",
            "50 conns × pipeline 16, 90% Get, closed loop",
            16,
            None,
        ),
        (
            "open",
            "open loop: 50 conns × pipeline 16, 90% Get, at 400,000 requests/s",
            16,
            Some(KV_RATE),
        ),
    ];
    let mut docs = Vec::new();
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut server = start_kv(addr, &["--shards", "1"], Some(server_cpu));
    let mut measured = Vec::new();
    for (name, _, pipeline, rate) in scenarios {
        let scenario = Scenario {
            name,
            title: "",
            conns: CONNS,
            pipeline,
            rate,
            extra: &[],
        };
        let result = measure(
            &server,
            Target::Percore,
            "kv",
            addr,
            &scenario,
            seconds,
            Some(client_cpu),
        );
        print_result("kv", name, &result);
        measured.push(result);
    }
    stop_server(Target::Percore, &mut server);
    let redis = redis_available();
    for ((name, title, pipeline, rate), percore) in scenarios.into_iter().zip(measured) {
        let mut results = vec![percore];
        if redis && rate.is_none() {
            results.extend(redis_benchmark(pipeline, seconds, server_cpu, client_cpu));
        }
        docs.push(json!({
            "service": "kv",
            "scenario": name,
            "title": title,
            "seconds": seconds,
            "server_cpu": server_cpu,
            "client_cpu": client_cpu,
            "redis": redis,
            "results": results,
        }));
    }

    // Two shards on both CPUs, the load generator unpinned beside them.
    for (name, title, pipeline) in [
        ("2shards-p1", "2 shards, 50 conns × pipeline 1, 90% Get", 1),
        (
            "2shards-p16",
            "2 shards, 50 conns × pipeline 16, 90% Get",
            16,
        ),
    ] {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let stats =
            std::env::temp_dir().join(format!("percore-bench-kv-{}.json", std::process::id()));
        let mut server = start_kv(
            addr,
            &["--shards", "2", "--stats-json", stats.to_str().unwrap()],
            None,
        );
        let scenario = Scenario {
            name,
            title,
            conns: CONNS,
            pipeline,
            rate: None,
            extra: &[],
        };
        let mut result = measure(
            &server,
            Target::Percore,
            "kv",
            addr,
            &scenario,
            seconds,
            None,
        );
        stop_server(Target::Percore, &mut server);
        let served: Value = std::fs::read_to_string(&stats)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null);
        let kv = &served["services"]["kv"];
        let share =
            kv["forwarded"].as_f64().unwrap_or(0.0) / kv["messages"].as_f64().unwrap_or(f64::NAN);
        result["target"] = json!("percore, 2 shards");
        result["forwarded_share"] = json!(share);
        print_result("kv", name, &result);
        docs.push(json!({
            "service": "kv",
            "scenario": name,
            "title": title,
            "seconds": seconds,
            "server_cpu": "0-1",
            "client_cpu": "unpinned",
            "results": [result],
        }));
    }
    docs
}

/// mq (issue 5): deliveries per second and publish→delivery latency for
/// two fan-outs, closed loop (each publisher keeps 64 messages in flight)
/// and open loop at a fixed publish rate; each with 1 shard pinned (load
/// generator on the other CPU) and with 2 shards (load generator unpinned),
/// which shows what the cross-shard hop costs.
fn mq_benchmarks(seconds: f64, server_cpu: usize, client_cpu: usize) -> Vec<Value> {
    const ONE_TOPIC: &[&str] = &["--publishers", "1", "--subscribers", "10", "--topics", "1"];
    const TEN_TOPICS: &[&str] = &[
        "--publishers",
        "1",
        "--subscribers",
        "100",
        "--topics",
        "10",
    ];
    let scenario = |name, title, extra, rate| Scenario {
        name,
        title,
        conns: 0,
        pipeline: 64,
        rate,
        extra,
    };
    let scenarios = [
        scenario(
            "1x10-closed",
            "1 publisher → 10 subscribers on one topic, closed loop, 64 messages in flight",
            ONE_TOPIC,
            None,
        ),
        scenario(
            "1x10-open",
            "1 publisher → 10 subscribers on one topic, open loop at 20,000 publishes/s",
            ONE_TOPIC,
            Some(20_000.0),
        ),
        scenario(
            "10x10-closed",
            "1 publisher over 10 topics × 10 subscribers each, closed loop, 64 in flight",
            TEN_TOPICS,
            None,
        ),
        scenario(
            "10x10-open",
            "1 publisher over 10 topics × 10 subscribers each, open loop at 20,000 publishes/s",
            TEN_TOPICS,
            Some(20_000.0),
        ),
    ];
    let mut docs = Vec::new();
    for scenario in &scenarios {
        let name = scenario.name;
        let mut results = Vec::new();
        for shards in [1, 2] {
            let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
            let pinned = (shards == 1).then_some(server_cpu);
            let shard_count = shards.to_string();
            let mut server = start_percore("mq", addr, &["--shards", &shard_count], pinned);
            let client = (shards == 1).then_some(client_cpu);
            let mut result = measure(
                &server,
                Target::Percore,
                "mq",
                addr,
                scenario,
                seconds,
                client,
            );
            stop_server(Target::Percore, &mut server);
            if shards == 2 {
                result["target"] = json!("percore, 2 shards");
            }
            print_result("mq", name, &result);
            results.push(result);
        }
        docs.push(json!({
            "service": "mq",
            "scenario": name,
            "title": scenario.title,
            "seconds": seconds,
            "server_cpu": server_cpu,
            "client_cpu": client_cpu,
            "results": results,
        }));
    }
    docs
}

fn print_result(service: &str, scenario: &str, result: &Value) {
    println!(
        "{service:<5} {scenario:<11} {:<16} {:>10.0} msgs/s  p99 {:>6} us  server CPU {:>6.0} ns/msg  errors {}",
        result["target"].as_str().unwrap_or(""),
        result["msgs_per_sec"].as_f64().unwrap_or(0.0),
        result["latency_us"]["p99"],
        result["server_cpu_ns_per_msg"].as_f64().unwrap_or(0.0),
        result["errors"]
    );
}

fn start_kv(addr: SocketAddr, args: &[&str], cpu: Option<usize>) -> Child {
    start_percore("kv", addr, args, cpu)
}

/// `percore serve` with one service on `addr`, pinned to `cpu` if given.
fn start_percore(service: &str, addr: SocketAddr, args: &[&str], cpu: Option<usize>) -> Child {
    let mut command = match cpu {
        Some(cpu) => {
            let mut taskset = Command::new("taskset");
            taskset
                .args(["-c", &cpu.to_string()])
                .arg(env!("CARGO_BIN_EXE_percore"));
            taskset
        }
        None => Command::new(env!("CARGO_BIN_EXE_percore")),
    };
    command
        .args(["serve", "--services", service])
        .arg(format!("--{service}"))
        .arg(addr.to_string())
        .args(args)
        .stderr(Stdio::null());
    spawn_until_listening(&mut command)
}

/// Starts a `percore serve` command and waits for its listening line.
fn spawn_until_listening(command: &mut Command) -> Child {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .expect("start percore");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("percore listening:"), "{line}");
    child
}

fn redis_available() -> bool {
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
/// test runs about as long as a percore scenario.
fn redis_benchmark(
    pipeline: usize,
    seconds: f64,
    server_cpu: usize,
    client_cpu: usize,
) -> Vec<Value> {
    let port = free_port();
    let mut server = Command::new("taskset")
        .args(["-c", &server_cpu.to_string(), "redis-server"])
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
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Requests for about `seconds` at the rates seen here.
    let per_second = if pipeline == 1 {
        150_000.0
    } else {
        1_000_000.0
    };
    let requests = (per_second * seconds) as u64;
    let mut results = Vec::new();
    for test in ["set", "get"] {
        let cpu_before = cpu_time(server.id());
        let output = Command::new("taskset")
            .args(["-c", &client_cpu.to_string(), "redis-benchmark"])
            .args([
                "-p",
                &port.to_string(),
                "-c",
                "50",
                "-d",
                "32",
                "-r",
                "10000",
            ])
            .args(["-P", &pipeline.to_string(), "-n", &requests.to_string()])
            .args(["-t", test, "--csv", "-q"])
            .output()
            .expect("run redis-benchmark");
        let cpu = cpu_time(server.id()) - cpu_before;
        let text = String::from_utf8_lossy(&output.stdout);
        // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        let Some(row) = text.lines().nth(1) else {
            continue;
        };
        let cells: Vec<f64> = row
            .split(',')
            .skip(1)
            .map(|cell| cell.trim_matches('"').parse().unwrap_or(f64::NAN))
            .collect();
        let us = |i: usize| (cells.get(i).copied().unwrap_or(0.0) * 1000.0).round() as u64;
        results.push(json!({
            "target": format!("redis-server ({} only)", test.to_uppercase()),
            "msgs_per_sec": cells.first(),
            "requests": requests,
            "errors": 0,
            "latency_us": {"p50": us(3), "p90": null, "p99": us(5), "p999": null, "max": us(6)},
            "server_cpu_ns_per_msg": cpu.as_nanos() as f64 / requests as f64,
        }));
    }
    let _ = server.kill();
    let _ = server.wait();
    results
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_server(target: Target, service: &str, addr: SocketAddr) -> Child {
    match target {
        Target::Percore => spawn_until_listening(
            Command::new(env!("CARGO_BIN_EXE_percore"))
                .args(["serve", "--shards", "1", "--services", service])
                .arg(format!("--{service}"))
                .arg(addr.to_string()),
        ),
        Target::Reference => {
            let child = Command::new(std::env::current_exe().unwrap())
                .env(REFERENCE_ENV, format!("{addr},{service}"))
                .spawn()
                .expect("start the reference server");
            let deadline = Instant::now() + Duration::from_secs(10);
            while TcpStream::connect(addr).is_err() {
                assert!(Instant::now() < deadline, "reference server did not start");
                std::thread::sleep(Duration::from_millis(10));
            }
            child
        }
    }
}

fn stop_server(target: Target, server: &mut Child) {
    let signal = match target {
        Target::Percore => libc::SIGINT,
        Target::Reference => libc::SIGKILL,
    };
    // SAFETY: signalling our own child.
    unsafe { libc::kill(server.id() as i32, signal) };
    let _ = server.wait();
}

fn run_reference(spec: &str) {
    let (addr, service) = spec.split_once(',').expect("ADDR,SERVICE");
    let cpu = core_affinity::get_core_ids().expect("CPU list")[0];
    core_affinity::set_for_current(cpu);
    epoll_reference::serve(addr.parse().expect("address"), service == "echo");
}

/// One `percore load` run against a running server, with the server's CPU
/// time around it.
fn measure(
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
    if service == "kv" {
        load.args(["--keys", "10000", "--get-ratio", "0.9", "--val-size", "32"]);
    } else if service == "mq" {
        load.args(["--size", "32"]).args(scenario.extra);
    } else {
        load.args(["--size", &SIZE.to_string()]);
    }
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

/// User plus system CPU time of a process, from /proc/PID/stat.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 after the name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_nanos((ticks(11) + ticks(12)) * 1_000_000_000 / hz)
}

/// Latency by percentile, percentile on a log axis (1 / (1 - p)), one line
/// per target, as HdrHistogram's plots draw it.
fn latency_svg(doc: &Value) -> String {
    let (width, height, left, bottom, top, right) = (720.0, 420.0, 70.0, 50.0, 40.0, 20.0);
    let x_of = |p: f64| (1.0 / (1.0 - (p / 100.0).min(0.999_999))).log10();
    let x_max = x_of(99.9999);
    let results = doc["results"].as_array().cloned().unwrap_or_default();
    let y_max = results
        .iter()
        .flat_map(|r| r["latency_curve"].as_array().cloned().unwrap_or_default())
        .filter_map(|point| point[1].as_f64())
        .fold(1.0, f64::max);
    let px = |p: f64| left + x_of(p) / x_max * (width - left - right);
    let py = |us: f64| height - bottom - us / y_max * (height - bottom - top);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = write!(
        svg,
        r#"<text x="{left}" y="20" font-size="14">{} {}: latency by percentile (µs)</text>"#,
        doc["service"].as_str().unwrap_or(""),
        doc["title"].as_str().unwrap_or("")
    );
    for (p, label) in [
        (0.0, "0%"),
        (90.0, "90%"),
        (99.0, "99%"),
        (99.9, "99.9%"),
        (99.99, "99.99%"),
        (99.999, "99.999%"),
        (99.9999, "99.9999%"),
    ] {
        let x = px(p);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
            height - bottom,
            height - bottom + 18.0
        );
    }
    for i in 0..=4 {
        let us = y_max * i as f64 / 4.0;
        let y = py(us);
        let _ = write!(
            svg,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{us:.0}</text>"##,
            width - right,
            left - 6.0,
            y + 4.0
        );
    }
    for (i, result) in results.iter().enumerate() {
        let color = ["#1f77b4", "#ff7f0e", "#2ca02c"][i % 3];
        let points: Vec<String> = result["latency_curve"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|point| Some((point[0].as_f64()?, point[1].as_f64()?)))
            .map(|(p, us)| format!("{:.1},{:.1}", px(p), py(us)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        );
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" fill="{color}">{}</text>"#,
            left + 10.0,
            top + 16.0 + 16.0 * i as f64,
            result["target"].as_str().unwrap_or("")
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn results_readme(docs: &[Value], quick: bool) -> String {
    let mut text = String::from("# Benchmark results\n\n");
    let _ = writeln!(
        text,
        "Generated by `{}cargo bench --bench throughput` ({} s per scenario after a 0.5 s warm-up). Do not edit by hand.\n",
        if quick { "PERCORE_BENCH_QUICK=1 " } else { "" },
        docs.first().and_then(|d| d["seconds"].as_f64()).unwrap_or(0.0)
    );
    let _ = writeln!(
        text,
        "Machine: {}, {} CPUs, Linux {}.\n",
        cpu_model(),
        num_cpus(),
        kernel()
    );
    let _ = writeln!(
        text,
        "Server (percore with 1 shard, or the minimal epoll reference in `benches/throughput/epoll_reference.rs`) pinned to CPU {}; `percore load` with one thread pinned to CPU {}; {SIZE}-byte messages; every reply checked. Latency is the client's: closed loop from write to reply, open loop from each request's intended send time. Server CPU is user + system time from /proc/PID/stat over the run, divided by the messages served.\n",
        docs.first().map(|d| d["server_cpu"].clone()).unwrap_or_default(),
        docs.first().map(|d| d["client_cpu"].clone()).unwrap_or_default()
    );
    // The figures that decide percore's speed come from the neutral judge
    // (`cargo bench --bench neutral`, results/neutral.md): shown first.
    if let Ok(neutral) = std::fs::read_to_string("results/neutral.md") {
        let body = neutral.split_once('\n').map_or("", |(_, rest)| rest);
        let body = body.replace("\n## ", "\n### ");
        let _ = writeln!(text, "## Judged by a neutral client\n{body}");
        text.push_str("## Under `percore load`\n\n");
    }
    let mut kv_said = false;
    let mut mq_said = false;
    for doc in docs {
        let service = doc["service"].as_str().unwrap_or("");
        let scenario = doc["scenario"].as_str().unwrap_or("");
        if service == "kv" && !kv_said {
            kv_said = true;
            let _ = writeln!(
                text,
                "## kv\n\n`percore load kv`: 50 connections, 90% Get and 10% Put over 10,000 keys (16-byte keys, 32-byte values), every reply checked against the value the connection last put. One shard pinned to CPU {0}, the load generator pinned to CPU {1}. {2}The 2-shard runs put a shard on each CPU with the load generator unpinned beside them, so three busy threads share two CPUs: they show what the cross-shard hop costs, not a scaling figure.\n",
                doc["server_cpu"],
                doc["client_cpu"],
                if doc["redis"].as_bool() == Some(true) {
                    "redis-server 7 (Debian's package) runs pinned to the same CPU against `redis-benchmark -c 50 -d 32 -r 10000 -P <pipeline> -t set|get`, pinned like the load generator; redis-benchmark cannot mix Gets and Puts, so SET and GET are separate rows. "
                } else {
                    "redis-server and redis-benchmark were not installed, so the redis rows are missing. "
                }
            );
        }
        if service == "mq" && !mq_said {
            mq_said = true;
            let _ = writeln!(
                text,
                "## mq\n\n`percore load mq`: every subscriber checks that each publisher's messages arrive exactly once and in order; latency runs from the publish (open loop: its intended time) to the delivery, and msgs/s counts deliveries to subscribers. Publishers subscribe to their topics and use their own copies as acknowledgements: in the closed loop each keeps 64 messages in flight. The 1-shard row runs the server pinned to CPU {0} and the load generator pinned to CPU {1}; the 2-shard row puts a shard on each CPU with the load generator unpinned beside them, so three busy threads share two CPUs, and topics, publishers and subscribers land on either shard: the ratio is what the cross-shard hop costs here, not a scaling figure. Server CPU is per delivery.\n",
                doc["server_cpu"], doc["client_cpu"]
            );
        }
        let _ = writeln!(
            text,
            "## {service}: {}\n",
            doc["title"].as_str().unwrap_or("")
        );
        let _ = writeln!(
            text,
            "| server | msgs/s | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | server CPU ns/msg | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        let results = doc["results"].as_array().cloned().unwrap_or_default();
        for r in &results {
            let l = &r["latency_us"];
            let cell = |v: &Value| {
                if v.is_null() {
                    "–".to_string()
                } else {
                    v.to_string()
                }
            };
            let (p50, p90, p99, p999, max) = (
                cell(&l["p50"]),
                cell(&l["p90"]),
                cell(&l["p99"]),
                cell(&l["p999"]),
                cell(&l["max"]),
            );
            let _ = writeln!(
                text,
                "| {} | {:.0} | {} | {} | {} | {} | {} | {:.0} | {} |",
                r["target"].as_str().unwrap_or(""),
                r["msgs_per_sec"].as_f64().unwrap_or(0.0),
                p50,
                p90,
                p99,
                p999,
                max,
                r["server_cpu_ns_per_msg"].as_f64().unwrap_or(0.0),
                r["errors"]
            );
        }
        if let [ours, others @ ..] = &results[..] {
            for reference in others {
                let ratio = |field: &str| {
                    ours[field].as_f64().unwrap_or(0.0)
                        / reference[field].as_f64().unwrap_or(f64::NAN)
                };
                let _ = writeln!(
                    text,
                    "\npercore / {}: throughput {:.2}×, server CPU per message {:.2}×, p99 {:.2}×.",
                    reference["target"].as_str().unwrap_or("reference"),
                    ratio("msgs_per_sec"),
                    ratio("server_cpu_ns_per_msg"),
                    ours["latency_us"]["p99"].as_f64().unwrap_or(0.0)
                        / reference["latency_us"]["p99"].as_f64().unwrap_or(f64::NAN)
                );
            }
            if let Some(share) = ours["forwarded_share"].as_f64() {
                let _ = writeln!(
                    text,
                    "\nRequests forwarded to the other shard: {:.1}%.",
                    share * 100.0
                );
            }
        }
        let _ = writeln!(
            text,
            "\n![{service} {scenario}]({service}-{scenario}.svg)\n"
        );
    }
    text
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string()
}
