//! Shutdown, docs/PROTOCOLS.md §2: SIGINT or SIGTERM stops accepting, answers what was
//! read, closes every connection, reports, and exits 0 within 5 s; a second
//! SIGINT exits at once with status 130.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::*;
use percore_protocols::kv::protocol::push_request_frame;
use percore_protocols::kv::Request;

#[test]
fn sigint_with_a_thousand_open_connections_exits_0_within_5_s() {
    raise_fd_limit();
    let server = TestServer::builder().start();
    let mut conns: Vec<(TcpStream, &str)> = Vec::new();
    for i in 0..1_000 {
        let service = SERVICES[i % 3];
        conns.push((server.connect(service), service));
    }
    // Every connection is accepted and served before the signal.
    for (conn, service) in conns.iter_mut().step_by(50) {
        match *service {
            "yell" => assert_eq!(round_trip(conn, b"up\n", 3), b"UP\n"),
            "echo" => assert_eq!(round_trip(conn, b"up", 2), b"up"),
            _ => assert_eq!(round_trip(conn, b"up\n", 14), b"You sent: up\r\n"),
        }
    }
    let stopped = server.stop();
    assert_eq!(stopped.status.code(), Some(0), "{}", stopped.stderr);
    assert!(
        stopped.elapsed < Duration::from_secs(5),
        "took {:?}",
        stopped.elapsed
    );
    assert!(stopped.stdout.contains("percore report"));
    let total: u64 = SERVICES
        .iter()
        .map(|s| stopped.json["services"][s]["connections"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 1_000);
    for (conn, _) in conns.iter_mut() {
        assert!(is_closed_by_server(conn));
    }
}

#[test]
fn sigterm_stops_gracefully_too() {
    let server = TestServer::builder().services(&["yell"]).start();
    let mut conn = server.connect("yell");
    assert_eq!(round_trip(&mut conn, b"bye\n", 4), b"BYE\n");
    server.signal(libc::SIGTERM);
    let mut server = server;
    let stopped = server.wait();
    assert_eq!(stopped.status.code(), Some(0));
    assert_eq!(stopped.json["services"]["yell"]["messages"], 1);
    assert!(is_closed_by_server(&mut conn));
}

#[test]
fn a_second_sigint_exits_at_once_with_130() {
    let mut server = TestServer::builder().services(&["echo"]).start();
    // A peer that never reads its echo keeps the server draining after the
    // first signal, until its deadline.
    let stuck = server.connect("echo");
    let mut writer = stuck.try_clone().unwrap();
    writer
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let chunk = vec![0u8; 1 << 16];
    // Write until the buffers on both sides are full and the server is
    // blocked writing its echo: then a write of ours makes no progress.
    while writer.write_all(&chunk).is_ok() {}

    let stderr = lines_of(server.take_stderr());
    server.signal(libc::SIGINT);
    // Wait until the first signal was handled: the server says it is stopping.
    wait_for_line(&stderr, "stopping line", |line| {
        line.starts_with("percore: stopping")
    });
    let began = Instant::now();
    server.signal(libc::SIGINT);
    let stopped = server.wait();
    assert_eq!(
        stopped.status.code(),
        Some(130),
        "exited {:?} after the second signal: {}",
        began.elapsed(),
        stopped.stdout
    );
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "took {:?}",
        began.elapsed()
    );
    drop(stuck);
}

#[test]
fn requests_read_before_shutdown_are_all_answered_past_the_output_budget() {
    // 40 Gets of a 900 kB value in one write: 36 MB of replies, far past one
    // batch's output budget, so most are still buffered requests when the
    // signal comes.
    let server = TestServer::builder().services(&["kv"]).shards(1).start();
    let mut client = server.connect("kv");
    let value = "v".repeat(900_000);
    let mut put = Vec::new();
    push_request_frame(
        &mut put,
        &Request::Put {
            key: "big",
            val: &value,
        },
    );
    assert_eq!(round_trip(&mut client, &put, 5), b"\0\0\0\x01\xc0");
    const GETS: usize = 40;
    let mut gets = Vec::new();
    for _ in 0..GETS {
        push_request_frame(&mut gets, &Request::Get { key: "big" });
    }
    client.write_all(&gets).unwrap();
    // The first reply has begun: the server has read the Gets.
    let mut header = [0u8; 4];
    client.read_exact(&mut header).unwrap();
    server.signal(libc::SIGINT);

    let mut body = vec![0u8; 1 << 20];
    for i in 0..GETS {
        if i > 0 {
            client
                .read_exact(&mut header)
                .unwrap_or_else(|e| panic!("reply {i}: {e}"));
        }
        let len = u32::from_be_bytes(header) as usize;
        assert_eq!(len, 5 + value.len(), "reply {i}");
        client.read_exact(&mut body[..len]).unwrap();
    }
    assert!(is_closed_by_server(&mut client));
    let mut server = server;
    let stopped = server.wait();
    assert_eq!(stopped.status.code(), Some(0));
    assert_eq!(stopped.json["services"]["kv"]["messages"], 1 + GETS as u64);
}

/// `percore serve` with every service on free ports, plus `extra`, with
/// `env`: the child, its stdout lines, and its stderr (read to the end).
fn spawn_serve(
    extra: &[&str],
    env: &[(&str, &str)],
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<String>,
    std::sync::mpsc::Receiver<String>,
) {
    let mut cmd = percore();
    cmd.arg("serve");
    for service in SERVICES {
        cmd.arg(format!("--{service}")).arg("127.0.0.1:0");
    }
    cmd.args(extra)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn percore");
    let stdout = lines_of(child.stdout.take().expect("stdout"));
    let stderr = lines_of(child.stderr.take().expect("stderr"));
    (child, stdout, stderr)
}

/// Waits until the process has a thread whose name starts with `prefix`
/// (`signals`: its signal handlers are installed).
fn wait_for_thread(pid: u32, prefix: &str) {
    wait_until(&format!("a thread {prefix}*"), || {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the process runs");
        tasks.flatten().any(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.starts_with(prefix))
        })
    });
}

fn drain(lines: &std::sync::mpsc::Receiver<String>) -> String {
    let mut text = String::new();
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(5)) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

#[test]
fn a_start_that_never_ends_stops_on_one_signal_with_its_report() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let dir = TempDir::new();
        let json = dir.path.join("stats.json");
        // Shard 1 never starts its services; shard 0 waits for it at the
        // mesh's barrier: no listening line ever comes.
        let (mut child, stdout, stderr) = spawn_serve(
            &["--shards", "2", "--stats-json", json.to_str().unwrap()],
            &[("PERCORE_TEST_STALL_START", "1")],
        );
        wait_for_thread(child.id(), "signals");
        wait_for_thread(child.id(), "shard-1");
        // SAFETY: kill(2) with the pid of a child not yet reaped.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        let began = Instant::now();
        let status = wait_with_deadline(&mut child, DEADLINE);
        let elapsed = began.elapsed();
        let (stdout, stderr) = (drain(&stdout), drain(&stderr));
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(0),
            "signal {signal}: {stderr}"
        );
        assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
        assert!(!stdout.contains("percore listening"), "{stdout}");
        assert!(stdout.contains("percore report"), "{stdout}");
        assert!(
            stderr.contains("percore: stopping while starting: 0 of 2 shards had started"),
            "{stderr}"
        );
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("--stats-json written"))
                .expect("JSON");
        assert_eq!(report["services"]["kv"]["connections"], 0);
    }
}

#[test]
fn a_stop_stuck_writing_its_statistics_still_exits() {
    // --stats-json names a FIFO nobody reads: writing it blocks for ever.
    let dir = TempDir::new();
    let fifo = dir.path.join("stats.fifo");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) with a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let (mut child, stdout, stderr) = spawn_serve(
        &["--shards", "1", "--stats-json", fifo.to_str().unwrap()],
        &[],
    );
    wait_for_line(&stdout, "listening line", |line| {
        line.starts_with("percore listening")
    });
    // SAFETY: kill(2) with the pid of a child not yet reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let began = Instant::now();
    let status = wait_with_deadline(&mut child, DEADLINE);
    let elapsed = began.elapsed();
    let stderr = drain(&stderr);
    assert_eq!(status.and_then(|s| s.code()), Some(130), "{stderr}");
    assert!(elapsed < Duration::from_secs(12), "took {elapsed:?}");
    assert!(drain(&stdout).contains("percore report"));
    assert!(
        stderr.contains("still running 8 s after the stop signal: exiting with 130"),
        "{stderr}"
    );
}

#[test]
fn more_than_four_shards_per_cpu_are_a_usage_error() {
    // SAFETY: sched_getaffinity(2) on a zeroed set of our own.
    let cpus = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        assert_eq!(
            libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set),
            0
        );
        libc::CPU_COUNT(&set) as usize
    };
    let asked = (4 * cpus + 1).to_string();
    let (output, elapsed) = run_percore(&[
        "serve",
        "--services",
        "kv",
        "--kv",
        "127.0.0.1:0",
        "--shards",
        &asked,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(
        stderr.contains(&format!(
            "--shards {asked}: at most {} on {cpus} CPUs",
            4 * cpus
        )),
        "{stderr}"
    );
}
