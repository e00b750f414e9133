//! `cargo bench --bench throughput`: the Python original's yell-echo experiment at
//! scale, percore against a minimal epoll reference server, on loopback;
//! then kv against redis-server and mq's fan-outs, each also on two shards.
//!
//! Each server runs as a child process on the first CPU (percore with one
//! shard); `percore load` runs on the last CPU with one thread. What runs is
//! in `scenarios.rs`; this file only runs it and writes the results:
//! `results/<service>-<scenario>.json` and `.svg` (`plots.rs`), and
//! `results/README.md` (`readme.rs`). `PERCORE_BENCH_QUICK=1` runs each
//! scenario for 1 s instead of 5. `PERCORE_BENCH_REPLOT=1` measures nothing:
//! it draws the `.svg` plots again from the `.json` results already there,
//! for when the plots change.

mod epoll_reference;
mod measure;
mod plots;
mod process;
mod readme;
mod redis_benchmark;
mod scenarios;

use std::net::SocketAddr;

use serde_json::{json, Value};

use measure::{measure, print_result};
use process::{free_port, start_percore, start_server, stop_server, Target};
use redis_benchmark::{redis_available, redis_benchmark, start_redis, Run};
use scenarios::{KV_SCENARIOS, KV_TWO_SHARD_SCENARIOS, LINE_SCENARIOS, MQ_SCENARIOS};

fn main() {
    // The same binary serves as the reference server's process.
    if let Ok(spec) = std::env::var(process::REFERENCE_ENV) {
        return process::run_reference(&spec);
    }
    if std::env::var_os("PERCORE_BENCH_REPLOT").is_some() {
        return replot();
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

    let mut all = line_benchmarks(seconds, server_cpu, client_cpu);
    all.extend(kv_benchmarks(seconds, server_cpu, client_cpu));
    all.extend(mq_benchmarks(seconds, server_cpu, client_cpu));
    all.extend(resp_benchmarks(seconds, server_cpu, client_cpu));
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
        std::fs::write(format!("{stem}.svg"), plots::scenario_svg(doc)).expect("write svg");
    }
    std::fs::write("results/README.md", readme::results_readme(&all, quick)).expect("write README");
    println!("wrote results/README.md");
}

/// The plots of every scenario, from its `results/<service>-<scenario>.json`.
fn replot() {
    let lines = ["yell", "echo"]
        .into_iter()
        .flat_map(|service| LINE_SCENARIOS.iter().map(move |s| (service, s.name)));
    let kv = KV_SCENARIOS
        .iter()
        .chain(&KV_TWO_SHARD_SCENARIOS)
        .map(|s| ("kv", s.name));
    let mq = MQ_SCENARIOS.iter().map(|s| ("mq", s.name));
    for (service, scenario) in lines.chain(kv).chain(mq) {
        let stem = format!("results/{service}-{scenario}");
        let Ok(text) = std::fs::read_to_string(format!("{stem}.json")) else {
            println!("no {stem}.json: not plotted");
            continue;
        };
        let doc: Value = serde_json::from_str(&text).expect("results json");
        std::fs::write(format!("{stem}.svg"), plots::scenario_svg(&doc)).expect("write svg");
        println!("wrote {stem}.svg");
    }
}

/// resp (issue 15): redis-benchmark `-c 50 -r 100000 -d 16` GET and SET at
/// pipeline 1 and 16 against percore's resp (one shard) and redis-server,
/// each pinned to the server CPU in turn, redis-benchmark to the client
/// CPU: the same client for both. One document per test and pipeline, so
/// that each table's ratio is percore against redis.
fn resp_benchmarks(seconds: f64, server_cpu: usize, client_cpu: usize) -> Vec<Value> {
    if !redis_available() {
        println!("resp: redis-server or redis-benchmark missing: not measured");
        return Vec::new();
    }
    let mut docs = Vec::new();
    for pipeline in [1usize, 16] {
        // Requests for about `seconds` at the rates seen on this machine.
        let per_second = if pipeline == 1 { 60_000.0 } else { 500_000.0 };
        let requests = (per_second * seconds) as u64;
        let mut rows: Vec<Vec<Value>> = vec![Vec::new(), Vec::new()];
        for target in ["percore resp (1 shard)", "redis-server"] {
            let port = free_port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let mut server = if target == "redis-server" {
                start_redis(port, server_cpu)
            } else {
                start_percore("resp", addr, &["--shards", "1"], Some(server_cpu))
            };
            for (i, test) in ["set", "get"].into_iter().enumerate() {
                let run = Run {
                    port,
                    server_pid: server.id(),
                    test,
                    pipeline,
                    requests,
                    client_cpu,
                    keys: 100_000,
                    value_size: 16,
                };
                if let Some(row) = run.measure(target) {
                    print_result("resp", &format!("{test}-p{pipeline}"), &row);
                    rows[i].push(row);
                }
            }
            if target == "redis-server" {
                stop_server(Target::Reference, &mut server);
            } else {
                stop_server(Target::Percore, &mut server);
            }
        }
        for (test, results) in ["set", "get"].into_iter().zip(rows) {
            docs.push(json!({
                "service": "resp",
                "scenario": format!("{test}-p{pipeline}"),
                "title": format!("redis-benchmark -t {test} -c 50 -r 100000 -d 16 -P {pipeline}"),
                "seconds": seconds,
                "server_cpu": server_cpu,
                "client_cpu": client_cpu,
                "redis": true,
                "results": results,
            }));
        }
    }
    docs
}

/// yell and echo: each server is started once per service and runs every
/// scenario, percore first.
fn line_benchmarks(seconds: f64, server_cpu: usize, client_cpu: usize) -> Vec<Value> {
    let mut docs = Vec::new();
    for service in ["yell", "echo"] {
        let mut by_scenario: Vec<Vec<Value>> = vec![Vec::new(); LINE_SCENARIOS.len()];
        for target in [Target::Percore, Target::Reference] {
            let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
            let mut server = start_server(target, service, addr);
            for (i, scenario) in LINE_SCENARIOS.iter().enumerate() {
                let result = measure(
                    &server,
                    target,
                    service,
                    addr,
                    scenario,
                    seconds,
                    Some(client_cpu),
                );
                print_result(service, scenario.name, &result);
                by_scenario[i].push(result);
            }
            stop_server(target, &mut server);
        }
        for (scenario, results) in LINE_SCENARIOS.iter().zip(by_scenario) {
            docs.push(json!({
                "service": service,
                "scenario": scenario.name,
                "title": scenario.title,
                "seconds": seconds,
                "server_cpu": server_cpu,
                "client_cpu": client_cpu,
                "results": results,
            }));
        }
    }
    docs
}

/// kv (issue 4): one shard pinned against redis-server pinned the same way
/// (when redis-server and redis-benchmark are installed), at pipeline 1 and
/// 16, plus an open-loop run for CPU per request; then two shards to show
/// what the cross-shard hop costs.
fn kv_benchmarks(seconds: f64, server_cpu: usize, client_cpu: usize) -> Vec<Value> {
    let mut docs = Vec::new();
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut server = start_percore("kv", addr, &["--shards", "1"], Some(server_cpu));
    let mut measured = Vec::new();
    for scenario in &KV_SCENARIOS {
        let result = measure(
            &server,
            Target::Percore,
            "kv",
            addr,
            scenario,
            seconds,
            Some(client_cpu),
        );
        print_result("kv", scenario.name, &result);
        measured.push(result);
    }
    stop_server(Target::Percore, &mut server);
    // redis runs once percore is stopped, on the CPU percore had; the
    // open-loop scenario has no redis row (redis-benchmark has no open loop).
    let redis = redis_available();
    for (scenario, percore) in KV_SCENARIOS.iter().zip(measured) {
        let mut results = vec![percore];
        if redis && scenario.rate.is_none() {
            results.extend(redis_benchmark(
                scenario.pipeline,
                seconds,
                server_cpu,
                client_cpu,
            ));
        }
        docs.push(json!({
            "service": "kv",
            "scenario": scenario.name,
            "title": scenario.title,
            "seconds": seconds,
            "server_cpu": server_cpu,
            "client_cpu": client_cpu,
            "redis": redis,
            "results": results,
        }));
    }

    // Two shards on both CPUs, the load generator unpinned beside them. The
    // server's own statistics say how many requests were forwarded.
    for scenario in &KV_TWO_SHARD_SCENARIOS {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let stats =
            std::env::temp_dir().join(format!("percore-bench-kv-{}.json", std::process::id()));
        let mut server = start_percore(
            "kv",
            addr,
            &["--shards", "2", "--stats-json", stats.to_str().unwrap()],
            None,
        );
        let mut result = measure(
            &server,
            Target::Percore,
            "kv",
            addr,
            scenario,
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
        print_result("kv", scenario.name, &result);
        docs.push(json!({
            "service": "kv",
            "scenario": scenario.name,
            "title": scenario.title,
            "seconds": seconds,
            "server_cpu": "0-1",
            "client_cpu": "unpinned",
            "results": [result],
        }));
    }
    docs
}

/// mq (issue 5): deliveries per second and publish→delivery latency for
/// each scenario, with 1 shard pinned (load generator on the other CPU) and
/// with 2 shards (load generator unpinned), which shows what the
/// cross-shard hop costs.
fn mq_benchmarks(seconds: f64, server_cpu: usize, client_cpu: usize) -> Vec<Value> {
    let mut docs = Vec::new();
    for scenario in &MQ_SCENARIOS {
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
            print_result("mq", scenario.name, &result);
            results.push(result);
        }
        docs.push(json!({
            "service": "mq",
            "scenario": scenario.name,
            "title": scenario.title,
            "seconds": seconds,
            "server_cpu": server_cpu,
            "client_cpu": client_cpu,
            "results": results,
        }));
    }
    docs
}
