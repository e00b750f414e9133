//! Stop cycles (issue 21 item 4): a server stopped by SIGINT exits 0, always.
//! Each cycle starts `percore serve` with every service on free ports, 2-4
//! shards, `--data-dir`, `--metrics` and `--stats-json`, loads every service
//! (kv and resp keys spread over all shards, so most requests are forwarded;
//! mq subscribers and publishers; a metrics scrape), sends SIGINT at a random
//! moment (right after the listening line, during the load's start, or under
//! full load), and records the exit status and stderr. The summary counts
//! each status and each distinct stderr line (digits folded to `#`).
//!
//! On demand, not in CI (it takes about a second a cycle):
//! `STOP_CYCLES=1000 STOP_SEED=7 cargo test --release --test it stop_cycles:: -- --ignored --nocapture`
//! `STOP_CYCLES_BIN=PATH` runs another build of percore.
//! It fails if any cycle exits non-zero or takes longer than docs/PROTOCOLS.md §2's 5 s
//! (plus slack for a loaded machine) to stop.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::rng::Rng;
use crate::common::*;
use percore_protocols::kv::protocol::push_request_frame;
use percore_protocols::kv::Request;
use percore_protocols::resp::protocol::encode_command;

/// How long a stop may take before the cycle counts as a hang: the 5 s of docs/PROTOCOLS.md §2,
/// plus slack for a machine shared with other builds.
const STOP_LIMIT: Duration = Duration::from_secs(12);

/// What one cycle ended with.
struct Outcome {
    /// `exit N`, `signal N`, `hang`, or `no listening line`.
    status: String,
    stderr: String,
    /// The cycle's shards, I/O mode and moment of the signal.
    setup: String,
}

#[test]
#[ignore = "a campaign run on demand: STOP_CYCLES=N cargo test --release --test it stop_cycles:: -- --ignored"]
fn sigint_at_any_moment_exits_0() {
    raise_fd_limit();
    let cycles: u64 = env_u64("STOP_CYCLES").unwrap_or(1000);
    let seed: u64 = env_u64("STOP_SEED").unwrap_or(0x5eed);
    println!("stop cycles: {cycles} cycles, seed {seed} (STOP_SEED={seed} replays)");
    let mut rng = Rng::new(seed);
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    let mut lines: BTreeMap<String, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    let began = Instant::now();
    for cycle in 0..cycles {
        let outcome = one_cycle(&mut rng);
        if outcome.status != "exit 0" && !outcome.status.contains("not counted") {
            eprintln!(
                "cycle {cycle} ({}): {}\n{}",
                outcome.setup,
                outcome.status,
                indent(&outcome.stderr)
            );
            failures.push(cycle);
        }
        *statuses.entry(outcome.status).or_default() += 1;
        for line in outcome.stderr.lines() {
            // --stats-interval lines differ in every figure: one kind.
            if line.starts_with("percore stats t=") {
                *lines
                    .entry("percore stats t=... (interval lines)".into())
                    .or_default() += 1;
                continue;
            }
            let folded: String = line
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect();
            *lines.entry(folded).or_default() += 1;
        }
        if (cycle + 1) % 50 == 0 {
            println!(
                "{} cycles in {:.0?}: {statuses:?}",
                cycle + 1,
                began.elapsed()
            );
        }
    }
    println!("stop cycles: {cycles} cycles in {:.0?}", began.elapsed());
    println!("exit statuses:");
    for (status, count) in &statuses {
        println!("  {count:6}  {status}");
    }
    println!("distinct stderr lines:");
    for (line, count) in &lines {
        println!("  {count:6}  {line}");
    }
    assert!(
        failures.is_empty(),
        "cycles {failures:?} did not exit 0 in time"
    );
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

fn one_cycle(rng: &mut Rng) -> Outcome {
    let dir = TempDir::new();
    let shards = 2 + rng.below(3);
    // Distinct ports: `free_port` may hand out one port twice.
    let mut ports: Vec<u16> = Vec::new();
    while ports.len() <= SERVICES.len() {
        let port = free_port();
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    let at = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let addrs: Vec<(&str, SocketAddr)> = SERVICES
        .iter()
        .zip(&ports)
        .map(|(s, p)| (*s, at(*p)))
        .collect();
    let metrics = at(ports[SERVICES.len()]);
    // STOP_CYCLES_BIN runs another build (e.g. a copy of main's) for a
    // before/after comparison.
    let mut cmd = match std::env::var_os("STOP_CYCLES_BIN") {
        Some(bin) => std::process::Command::new(bin),
        None => percore(),
    };
    cmd.arg("serve").args(["--shards", &shards.to_string()]);
    for (service, addr) in &addrs {
        cmd.arg(format!("--{service}")).arg(addr.to_string());
    }
    cmd.arg("--data-dir")
        .arg(dir.path.join("data"))
        .arg("--stats-json")
        .arg(dir.path.join("stats.json"))
        .arg("--metrics")
        .arg(metrics.to_string());
    if rng.below(2) == 0 {
        cmd.args(["--fsync", "always"]);
    }
    if rng.below(2) == 0 {
        cmd.args(["--stats-interval", "1"]);
    }
    // The signal's moment: right after the listening line (0), as the load
    // begins (1), or under full load (2, 3).
    let moment = rng.below(4);
    let wait = match moment {
        0 => Duration::ZERO,
        1 => Duration::from_millis(rng.below(50)),
        _ => Duration::from_millis(100 + rng.below(1_000)),
    };
    // CI runs both I/O modes: half the cycles run the fallback one.
    let fallback = rng.below(2) == 0;
    if fallback {
        cmd.env("PERCORE_IO_FALLBACK", "1");
    }
    let setup = format!(
        "{shards} shards, {} I/O, SIGINT after {wait:?}{}",
        if fallback { "fallback" } else { "default" },
        if moment == 0 { "" } else { " of load" }
    );
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn percore");
    let stdout = lines_of(child.stdout.take().expect("stdout"));
    let stderr_pipe = child.stderr.take().expect("stderr");
    let (stderr_tx, stderr_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut text = String::new();
        let _ = { stderr_pipe }.read_to_string(&mut text);
        let _ = stderr_tx.send(text);
    });
    let stderr = move || {
        stderr_rx
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default()
    };

    let listening = loop {
        match stdout.recv_timeout(DEADLINE) {
            Ok(line) if line.starts_with("percore listening:") => break true,
            Ok(_) => continue,
            Err(_) => break false,
        }
    };
    if !listening {
        let status = match wait_with_deadline(&mut child, Duration::from_secs(1)) {
            Some(status) => describe(status),
            None => "no listening line".to_string(),
        };
        let _ = child.kill();
        let _ = child.wait();
        let stderr = stderr();
        // A port taken between the probe and the start: not this campaign's
        // subject.
        if status == "exit 2" && stderr.contains("in use") {
            return Outcome {
                status: "exit 2 (port taken, not counted)".into(),
                stderr: String::new(),
                setup,
            };
        }
        return Outcome {
            status,
            stderr,
            setup,
        };
    }

    let done = Arc::new(AtomicBool::new(false));
    let mut loads = Vec::new();
    if moment > 0 {
        for (service, addr) in addrs.iter().copied() {
            for k in 0..2 {
                let done = done.clone();
                let salt = rng.next();
                loads.push(thread::spawn(move || {
                    let _ = load(service, addr, k, salt, &done);
                }));
            }
        }
        let done = done.clone();
        loads.push(thread::spawn(move || {
            let _ = scrape(metrics, &done);
        }));
    }
    thread::sleep(wait);
    // SAFETY: kill(2) with the pid of a child not yet reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = wait_with_deadline(&mut child, STOP_LIMIT);
    done.store(true, Ordering::Relaxed);
    let status = match status {
        Some(status) => describe(status),
        None => {
            let _ = child.kill();
            "hang".to_string()
        }
    };
    let _ = child.wait();
    for load in loads {
        let _ = load.join();
    }
    Outcome {
        status,
        stderr: stderr(),
        setup,
    }
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        _ => format!("{status}"),
    }
}

/// One client of `service` until `done` or the server closes: pipelined
/// batches, replies read as they come (the content is other tests' subject).
fn load(
    service: &str,
    addr: SocketAddr,
    k: u64,
    salt: u64,
    done: &AtomicBool,
) -> std::io::Result<()> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    conn.set_read_timeout(Some(Duration::from_millis(200)))?;
    conn.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut batch = Vec::new();
    let mut sink = vec![0u8; 1 << 16];
    let mut round = 0u64;
    if service == "mq" && k == 0 {
        for topic in 0..4 {
            let line = serde_json::json!({"command": "subscribe", "topic": format!("t{topic}")});
            conn.write_all(format!("{line}\n").as_bytes())?;
        }
    }
    while !done.load(Ordering::Relaxed) {
        batch.clear();
        for i in 0..16u64 {
            let n = salt.wrapping_add(round * 16 + i) % 10_000;
            let key = format!("key{n}");
            match service {
                "yell" => batch.extend_from_slice(b"stop cycles\n"),
                "echo" => batch.extend_from_slice(&[b'e'; 512]),
                "chat" => batch.extend_from_slice(b"hello all\n"),
                "mq" => {
                    let line = serde_json::json!({"command": "send", "topic": format!("t{}", n % 4), "msg": key});
                    batch.extend_from_slice(format!("{line}\n").as_bytes());
                }
                "kv" => {
                    let value = format!("value{n}");
                    let request = match i % 3 {
                        0 => Request::Put {
                            key: &key,
                            val: &value,
                        },
                        1 => Request::Get { key: &key },
                        _ => Request::Del { key: &key },
                    };
                    push_request_frame(&mut batch, &request);
                }
                _ => {
                    let other = format!("key{}", n + 1);
                    let args: Vec<&[u8]> = match i % 4 {
                        0 => vec![&b"SET"[..], key.as_bytes(), &b"v"[..]],
                        1 => vec![&b"GET"[..], key.as_bytes()],
                        2 => vec![
                            &b"MSET"[..],
                            key.as_bytes(),
                            &b"1"[..],
                            other.as_bytes(),
                            &b"2"[..],
                        ],
                        _ => vec![&b"INCR"[..], other.as_bytes()],
                    };
                    encode_command(args, &mut batch);
                }
            }
        }
        conn.write_all(&batch)?;
        match conn.read(&mut sink) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
        round += 1;
    }
    Ok(())
}

/// Scrapes `/metrics` until `done` or the server is gone.
fn scrape(metrics: SocketAddr, done: &AtomicBool) -> std::io::Result<()> {
    while !done.load(Ordering::Relaxed) {
        let mut conn = TcpStream::connect_timeout(&metrics, Duration::from_secs(2))?;
        conn.set_read_timeout(Some(Duration::from_secs(2)))?;
        conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
        let mut body = Vec::new();
        conn.read_to_end(&mut body)?;
        thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}
