//! The soak run, an ignored test: every service under load at once, for 10
//! minutes (`PERCORE_SOAK_SECS` to change it), while a trickle of hostile
//! clients connects, sends garbage or half a frame, and closes or resets.
//!
//! ```sh
//! cargo test --release --test it soak:: -- --ignored --nocapture
//! ```
//!
//! One `percore serve --shards 2` (unpinned, all services), one `percore
//! load` per service at a fixed open-loop rate, the churn from this process.
//! Every 10 s it samples the server's RSS from /proc and each load's
//! msgs/s from its progress line. At the end it writes `results/soak.md` and
//! `results/soak.json`: RSS at the start and end, errors, msgs/s over time,
//! and the server's final statistics. It fails on any error, panic, or a
//! service that stopped being served.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{env_u64, probe, proc_status_bytes, reset, Listening};

const SERVICES: [&str; 5] = ["yell", "echo", "chat", "mq", "kv"];
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
const STARTUP_DEADLINE: Duration = Duration::from_secs(20);

/// Each service's load: open loop, so that a slowdown shows as latency and
/// a falling rate rather than being absorbed by a closed loop.
fn load_args(service: &str) -> &'static str {
    match service {
        "yell" => "--conns 20 --pipeline 8 --rate 50000 --size 32",
        "echo" => "--conns 20 --pipeline 8 --rate 50000",
        "chat" => "--conns 10 --pipeline 8 --rate 25000",
        "kv" => "--conns 20 --pipeline 8 --rate 50000 --keys 100000 --val-size 100",
        // 5,000 publishes/s to 4 topics, each with 5 subscribers: 25,000
        // checked deliveries/s (35,000 sent: the publishers get their own).
        _ => "--publishers 2 --subscribers 20 --topics 4 --pipeline 64 --rate 5000",
    }
}

#[test]
#[ignore = "10 minutes: cargo test --release --test it soak:: -- --ignored --nocapture"]
fn every_service_at_once_under_load_and_churn() {
    let secs = env_u64("PERCORE_SOAK_SECS").unwrap_or(600);
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    let scratch = std::env::temp_dir().join(format!("percore-soak-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    let stats_json = scratch.join("stats.json");
    let (mut server, addrs) = start_server(&stats_json);
    let pid = server.id() as i32;
    let began = Instant::now();
    let rss_at_start = proc_status_bytes(pid, "VmRSS:");
    println!(
        "soak: {secs} s, server pid {pid}, RSS {} MiB",
        mib(rss_at_start)
    );

    let progress: Arc<Mutex<Progress>> = Arc::default();
    let loads: Vec<(&str, Child, PathBuf)> = SERVICES
        .iter()
        .map(|&service| {
            let json = scratch.join(format!("load-{service}.json"));
            let mut child = Command::new(env!("CARGO_BIN_EXE_percore"))
                .args(["load", service, "--addr", &addrs[service].to_string()])
                .args(["--duration", &secs.to_string(), "--json"])
                .arg(&json)
                .args(load_args(service).split_whitespace())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start percore load");
            let stderr = child.stderr.take().expect("load's stderr");
            let progress = progress.clone();
            thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    match parse_progress(&line) {
                        Some(sample) => {
                            progress.lock().unwrap().insert(service, sample);
                        }
                        None => eprintln!("{service}: {line}"),
                    }
                }
            });
            (service, child, json)
        })
        .collect();

    let stop_churn = Arc::new(AtomicBool::new(false));
    let churned = Arc::new(AtomicU64::new(0));
    let churn = {
        let (addrs, stop, churned) = (addrs.clone(), stop_churn.clone(), churned.clone());
        thread::spawn(move || churn(&addrs, &stop, &churned))
    };

    // Samples until every load has finished.
    let mut samples = Vec::new();
    let mut next_sample = began + SAMPLE_EVERY;
    let mut loads = loads;
    let mut finished = Vec::new();
    while !loads.is_empty() {
        let mut i = 0;
        while i < loads.len() {
            if let Some(status) = loads[i].1.try_wait().expect("wait for a load") {
                let (service, _, json) = loads.swap_remove(i);
                finished.push((service, status, json));
            } else {
                i += 1;
            }
        }
        if Instant::now() >= next_sample {
            let sample = json!({
                "t": began.elapsed().as_secs(),
                "rss_bytes": proc_status_bytes(pid, "VmRSS:"),
                "churned_connections": churned.load(Ordering::Relaxed),
                "msgs_per_sec": progress.lock().unwrap().iter()
                    .map(|(s, (_, rate, _))| (s.to_string(), json!(rate.round())))
                    .collect::<serde_json::Map<_, _>>(),
                "errors": progress.lock().unwrap().iter()
                    .map(|(s, (_, _, errors))| (s.to_string(), json!(errors)))
                    .collect::<serde_json::Map<_, _>>(),
            });
            println!("{sample}");
            samples.push(sample);
            next_sample += SAMPLE_EVERY;
        }
        thread::sleep(Duration::from_millis(100));
    }
    stop_churn.store(true, Ordering::Relaxed);
    churn.join().expect("churn thread");
    let rss_at_end = proc_status_bytes(pid, "VmRSS:");
    let peak_rss = proc_status_bytes(pid, "VmHWM:");

    // Every service still answers, then the server stops cleanly.
    let still_served = SERVICES.iter().all(|s| answers(s, addrs[s]));
    // SAFETY: kill(2) on our own child, not reaped yet.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let status = server.wait().expect("wait for the server");
    let stats: Value = std::fs::read_to_string(&stats_json)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);

    let mut loads_json = serde_json::Map::new();
    let mut load_failed = false;
    for (service, status, json) in &finished {
        load_failed |= !status.success();
        let report: Value = std::fs::read_to_string(json)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null);
        loads_json.insert(service.to_string(), report);
    }
    let server_panics: u64 = SERVICES
        .iter()
        .map(|s| stats["services"][s]["panics"].as_u64().unwrap_or(0))
        .sum();
    let load_errors: u64 = loads_json
        .values()
        .map(|r| r["errors"].as_u64().unwrap_or(0))
        .sum();
    let document = json!({
        "duration_s": secs,
        "shards": 2,
        "load": SERVICES.iter().map(|s| (s.to_string(), json!(load_args(s)))).collect::<serde_json::Map<_, _>>(),
        "rss_bytes_start": rss_at_start,
        "rss_bytes_end": rss_at_end,
        "peak_rss_bytes": peak_rss,
        "churned_connections": churned.load(Ordering::Relaxed),
        "load_errors": load_errors,
        "server_panics": server_panics,
        "still_served": still_served,
        "server_exit": status.code(),
        "samples": samples,
        "loads": loads_json,
        "server_stats": stats,
    });
    std::fs::create_dir_all(&results).expect("results directory");
    std::fs::write(
        results.join("soak.json"),
        serde_json::to_string_pretty(&document).expect("JSON"),
    )
    .expect("write results/soak.json");
    std::fs::write(results.join("soak.md"), markdown(&document)).expect("write results/soak.md");
    let _ = std::fs::remove_dir_all(&scratch);
    println!("soak: wrote results/soak.md and results/soak.json");

    assert!(!load_failed, "a load run failed: {loads_json:?}");
    assert_eq!(load_errors, 0);
    assert_eq!(server_panics, 0);
    assert!(still_served, "a service stopped answering");
    assert!(status.success(), "server exit: {status}");
}

/// Each load's latest progress line: (t, msgs/s, errors so far).
type Progress = BTreeMap<&'static str, (f64, f64, u64)>;

/// `percore serve` with every service on port 0; the process and the
/// addresses its listening line names.
fn start_server(stats_json: &Path) -> (Child, BTreeMap<&'static str, SocketAddr>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_percore"));
    command.args(["serve", "--shards", "2", "--stats-json"]);
    command.arg(stats_json);
    for service in SERVICES {
        command.arg(format!("--{service}")).arg("127.0.0.1:0");
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start percore serve");
    let stdout = child.stdout.take().expect("server's stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(listening) = Listening::parse(&line) {
                let _ = tx.send(listening);
            }
        }
    });
    let listening = rx
        .recv_timeout(STARTUP_DEADLINE)
        .expect("percore serve prints its listening line");
    let addrs = SERVICES
        .iter()
        .map(|&service| {
            let (_, addr) = listening
                .plain
                .iter()
                .find(|(name, _)| name == service)
                .expect("every service is listed");
            (service, *addr)
        })
        .collect();
    (child, addrs)
}

fn churn(addrs: &BTreeMap<&str, SocketAddr>, stop: &AtomicBool, churned: &AtomicU64) {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let addrs: Vec<SocketAddr> = addrs.values().copied().collect();
    while !stop.load(Ordering::Relaxed) {
        let addr = addrs[(random() % addrs.len() as u64) as usize];
        if let Ok(mut conn) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            let garbage: Vec<u8> = (0..random() % 512).map(|_| random() as u8).collect();
            let half_frame: &[u8] = match random() % 3 {
                0 => b"\x00\x00\x10\x00\x82\xa4type",
                1 => b"{'command': 'subscribe', 'topic': 'churn'}\n{'command': 'se",
                _ => b"an unterminated line",
            };
            let _ = conn.write_all(&garbage);
            let _ = conn.write_all(half_frame);
            match random() % 3 {
                0 => reset(conn),
                1 => {
                    let _ = conn.shutdown(std::net::Shutdown::Write);
                }
                _ => drop(conn),
            }
            churned.fetch_add(1, Ordering::Relaxed);
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// One request on a new connection, and its reply, within 5 s.
fn answers(service: &str, addr: SocketAddr) -> bool {
    let (request, reply) = probe(service);
    let Ok(mut conn) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut got = vec![0; reply.len()];
    conn.write_all(&request).is_ok()
        && std::io::Read::read_exact(&mut conn, &mut got).is_ok()
        && got == reply
}

/// `percore load t=12s 99998 msgs/s, p99 87 us, 0 errors` → (12, 99998, 0).
fn parse_progress(line: &str) -> Option<(f64, f64, u64)> {
    let rest = line.strip_prefix("percore load t=")?;
    let (t, rest) = rest.split_once("s ")?;
    let (rate, rest) = rest.split_once(" msgs/s")?;
    let errors = rest.rsplit_once(", ")?.1.strip_suffix(" errors")?;
    Some((t.parse().ok()?, rate.parse().ok()?, errors.parse().ok()?))
}

fn markdown(doc: &Value) -> String {
    let mut md = String::new();
    let secs = doc["duration_s"].as_u64().unwrap_or(0);
    let _ = writeln!(md, "# Soak: every service at once, {secs} s\n");
    let _ = writeln!(
        md,
        "`PERCORE_SOAK_SECS={secs} cargo test --release --test it soak:: -- --ignored --nocapture`: `percore serve --shards 2` \
         (unpinned, 2 CPUs), one `percore load` per service at a fixed open-loop rate, and \
         about 100 hostile connections a second (garbage, half a frame, then a close, a \
         reset or a half-close) spread over the services.\n"
    );
    let _ = writeln!(md, "| service | load |\n|---|---|");
    for service in SERVICES {
        let _ = writeln!(
            md,
            "| {service} | `{}` |",
            doc["load"][service].as_str().unwrap_or("")
        );
    }
    let _ = writeln!(md, "\n## Outcome\n");
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(
        md,
        "| server RSS at start (before load) | {} MiB |",
        mib_of(&doc["rss_bytes_start"])
    );
    let _ = writeln!(
        md,
        "| server RSS at end (load done) | {} MiB |",
        mib_of(&doc["rss_bytes_end"])
    );
    let _ = writeln!(
        md,
        "| server peak RSS (VmHWM) | {} MiB |",
        mib_of(&doc["peak_rss_bytes"])
    );
    let _ = writeln!(md, "| errors seen by the loads | {} |", doc["load_errors"]);
    let _ = writeln!(md, "| panics | {} |", doc["server_panics"]);
    let _ = writeln!(
        md,
        "| hostile connections | {} |",
        doc["churned_connections"]
    );
    let _ = writeln!(
        md,
        "| every service answers a new client at the end | {} |",
        doc["still_served"]
    );
    let _ = writeln!(
        md,
        "| server exit status on SIGINT | {} |",
        doc["server_exit"]
    );

    let _ = writeln!(md, "\n## Per service (load reports, server statistics)\n");
    let _ = writeln!(
        md,
        "| service | requests | errors | msgs/s | p50 µs | p99 µs | p99.9 µs | max µs | server messages | server errors | connections |\n|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for service in SERVICES {
        let load = &doc["loads"][service];
        let server = &doc["server_stats"]["services"][service];
        let _ = writeln!(
            md,
            "| {service} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} |",
            load["requests"],
            load["errors"],
            load["msgs_per_sec"].as_f64().unwrap_or(0.0),
            load["latency_us"]["p50"],
            load["latency_us"]["p99"],
            load["latency_us"]["p999"],
            load["latency_us"]["max"],
            server["messages"],
            server["errors"],
            server["connections"],
        );
    }
    let _ = writeln!(
        md,
        "\nFor mq, the load's requests, msgs/s and latency are checked deliveries (latency from \
         publish to delivery); the server's messages are the publishes and subscribes.\n\n\
         ## Over time (every {} s)\n",
        SAMPLE_EVERY.as_secs()
    );
    let _ = writeln!(
        md,
        "| t s | RSS MiB | yell msgs/s | echo | chat | mq deliveries/s | kv | hostile conns so far |\n|---|---|---|---|---|---|---|---|"
    );
    for sample in doc["samples"].as_array().into_iter().flatten() {
        let rate = |s: &str| sample["msgs_per_sec"][s].as_f64().unwrap_or(0.0);
        let _ = writeln!(
            md,
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
            sample["t"],
            mib_of(&sample["rss_bytes"]),
            rate("yell"),
            rate("echo"),
            rate("chat"),
            rate("mq"),
            rate("kv"),
            sample["churned_connections"],
        );
    }
    md
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1 << 20) as f64)
}

fn mib_of(value: &Value) -> String {
    mib(value.as_u64().unwrap_or(0))
}
