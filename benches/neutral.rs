//! `cargo bench --bench neutral`: percore judged by a client that is not
//! percore. Drives `../shared/bench/compare.sh` (the neutral `judge`, a mio
//! client that checks every reply, pinned to CPU 1; the server pinned to CPU
//! 0; both SCHED_FIFO) over interleaved rounds of every server in every
//! scenario, and writes the medians to `results/neutral.md` and
//! `results/neutral.json`:
//! - yell 5 × 1 (the Python original's experiment) and 64 × 16 against `raw_epoll` (a
//!   C epoll loop), `raw_uring` (a bare io_uring loop) and tokio;
//! - kv 50 × 1 and 50 × 16, 90 % Get, against redis-server 7 driven by
//!   redis-benchmark (when both are installed).
//!
//! Skipped, with a line saying why, when `../shared/bench` is not beside the
//! project. `PERCORE_BENCH_ROUNDS` (default 3) sets the rounds;
//! `PERCORE_BENCH_BEFORE=PATH` adds another percore binary (e.g. the
//! previous release) as `percore-before`, for before/after figures.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

struct Scenario {
    name: &'static str,
    judge_args: &'static str,
    /// (label, server command with PORT); `{percore}` is the binary.
    servers: Vec<(String, String)>,
    /// redis-benchmark arguments for redis-server's row, if any.
    redis: Option<&'static str>,
}

fn main() {
    let shared = Path::new("../shared/bench");
    if !shared.join("compare.sh").exists() {
        println!("neutral: ../shared/bench/compare.sh not found, skipped");
        return;
    }
    let setup = Command::new(shared.join("setup.sh")).status();
    if !setup.is_ok_and(|s| s.success()) {
        println!("neutral: ../shared/bench/setup.sh failed, skipped");
        return;
    }
    let build = Command::new(env!("CARGO"))
        .args(["build", "--release", "--bin", "percore"])
        .status();
    if !build.is_ok_and(|s| s.success()) {
        println!("neutral: cargo build --release failed, skipped");
        return;
    }
    let rounds: usize = std::env::var("PERCORE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut percores = vec![(
        "percore".to_string(),
        PathBuf::from("target/release/percore"),
    )];
    if let Some(before) = std::env::var_os("PERCORE_BENCH_BEFORE") {
        percores.push(("percore-before".to_string(), PathBuf::from(before)));
    }
    let redis = which("redis-server") && which("redis-benchmark");

    let mut all = Vec::new();
    for scenario in scenarios(&percores, redis) {
        let mut runs: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for round in 0..rounds {
            for (label, server) in &scenario.servers {
                let args: Vec<&str> = scenario.judge_args.split_whitespace().collect();
                for row in compare(label, server, &args) {
                    println!("{} round {round}: {label} {row}", scenario.name);
                    runs.entry(label.clone()).or_default().push(row);
                }
            }
            if let Some(bench) = scenario.redis {
                let server = "redis-server --port PORT --bind 127.0.0.1 --save '' --appendonly no";
                let mut args = vec!["redis-benchmark"];
                args.extend(bench.split_whitespace());
                for row in compare("redis", server, &args) {
                    let label = format!("redis {}", row["test"].as_str().unwrap_or("?"));
                    println!("{} round {round}: {label} {row}", scenario.name);
                    runs.entry(label).or_default().push(row);
                }
            }
        }
        all.push(json!({
            "scenario": scenario.name,
            "judge": scenario.judge_args,
            "medians": runs.iter().map(|(label, rows)| (label.clone(), medians(rows))).collect::<BTreeMap<_, _>>(),
            "runs": runs,
        }));
    }
    std::fs::create_dir_all("results").expect("results/");
    std::fs::write(
        "results/neutral.json",
        serde_json::to_string_pretty(&all).expect("json") + "\n",
    )
    .expect("write results/neutral.json");
    std::fs::write("results/neutral.md", report(&all, rounds)).expect("write results/neutral.md");
    println!("wrote results/neutral.md");
}

/// One shard of each percore binary serving `service` alone on PORT.
fn percore_servers(percores: &[(String, PathBuf)], service: &str) -> Vec<(String, String)> {
    percores
        .iter()
        .map(|(label, bin)| {
            let cmd = format!(
                "{} serve --shards 1 --services {service} --{service} 127.0.0.1:PORT",
                bin.display()
            );
            (label.clone(), cmd)
        })
        .collect()
}

fn scenarios(percores: &[(String, PathBuf)], redis: bool) -> Vec<Scenario> {
    let peers = "target/bench-peers";
    let yell = |name, judge_args| {
        let mut servers = percore_servers(percores, "yell");
        servers.push(("raw_epoll".into(), format!("{peers}/raw_epoll PORT")));
        servers.push(("raw_uring".into(), format!("{peers}/raw_uring PORT")));
        servers.push(("tokio".into(), format!("{peers}/tokio_yell PORT 1")));
        Scenario {
            name,
            judge_args,
            servers,
            redis: None,
        }
    };
    let kv = |name, judge_args, bench| Scenario {
        name,
        judge_args,
        servers: percore_servers(percores, "kv"),
        redis: redis.then_some(bench),
    };
    vec![
        yell(
            "yell 5x1",
            "yell --conns 5 --pipeline 1 --duration 3 --warmup 1",
        ),
        yell(
            "yell 64x16",
            "yell --conns 64 --pipeline 16 --duration 3 --warmup 1",
        ),
        kv(
            "kv 50x1",
            "kv --conns 50 --pipeline 1 --keys 10000 --get-ratio 0.9 --size 16 --duration 3 --warmup 1",
            "-t get,set -c 50 -P 1 -n 300000 -r 10000 -d 16",
        ),
        kv(
            "kv 50x16",
            "kv --conns 50 --pipeline 16 --keys 10000 --get-ratio 0.9 --size 16 --duration 3 --warmup 1",
            "-t get,set -c 50 -P 16 -n 4500000 -r 10000 -d 16",
        ),
    ]
}

/// One `compare.sh` run; its JSON rows (one, or one per redis-benchmark test).
fn compare(label: &str, server: &str, args: &[&str]) -> Vec<Value> {
    let output = Command::new("../shared/bench/compare.sh")
        .arg(label)
        .arg(server)
        .args(args)
        .output();
    let Ok(output) = output else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once(' '))
        .filter_map(|(_, row)| serde_json::from_str::<Value>(row).ok())
        .filter(|row| row.get("rps").is_some())
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n => values[n / 2],
    }
}

fn medians(rows: &[Value]) -> Value {
    let field = |name: &str| median(rows.iter().filter_map(|r| r[name].as_f64()).collect());
    let cpu_us = median(
        rows.iter()
            .filter_map(|r| Some(r["server_cpu"].as_f64()? / r["rps"].as_f64()? * 1e6))
            .collect(),
    );
    json!({
        "rounds": rows.len(),
        "rps": field("rps"),
        "p50_us": field("p50_us"),
        "p99_us": field("p99_us"),
        "server_cpu_us_per_msg": cpu_us,
        "errors": rows.iter().filter_map(|r| r["errors"].as_u64()).sum::<u64>(),
    })
}

fn report(all: &[Value], rounds: usize) -> String {
    let mut md = String::from("# percore judged by a neutral client\n\n");
    let _ = writeln!(
        md,
        "`cargo bench --bench neutral`: `../shared/bench/compare.sh`, server on CPU 0, \
         client on CPU 1, both SCHED_FIFO, {rounds} interleaved rounds of 3 s; medians. \
         CPU per message is the server's CPU time over the messages it answered. \
         Compare figures within one run only.\n"
    );
    for scenario in all {
        let _ = writeln!(
            md,
            "## {}\n\n`judge {}`\n",
            scenario["scenario"].as_str().unwrap_or(""),
            scenario["judge"].as_str().unwrap_or("")
        );
        md.push_str("| server | msgs/s | p50 µs | p99 µs | server CPU µs/msg | errors |\n");
        md.push_str("|---|---:|---:|---:|---:|---:|\n");
        if let Some(medians) = scenario["medians"].as_object() {
            for (label, m) in medians {
                let _ = writeln!(
                    md,
                    "| {label} | {:.0} | {:.1} | {:.1} | {:.3} | {} |",
                    m["rps"].as_f64().unwrap_or(f64::NAN),
                    m["p50_us"].as_f64().unwrap_or(f64::NAN),
                    m["p99_us"].as_f64().unwrap_or(f64::NAN),
                    m["server_cpu_us_per_msg"].as_f64().unwrap_or(f64::NAN),
                    m["errors"]
                );
            }
        }
        md.push('\n');
    }
    md
}

fn which(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null")])
        .status()
        .is_ok_and(|s| s.success())
}
