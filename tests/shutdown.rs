//! Shutdown, SPEC 2: SIGINT or SIGTERM stops accepting, answers what was
//! read, closes every connection, reports, and exits 0 within 5 s; a second
//! SIGINT exits at once with status 130.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use percore::services::kv::protocol::push_request_frame;
use percore::services::kv::Request;

#[test]
fn sigint_with_a_thousand_open_connections_exits_0_within_5_s() {
    raise_fd_limit();
    let server = Server::start(&[]);
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
    let server = Server::start(&[]);
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
    let mut server = Server::start(&[]);
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
    let deadline = Instant::now() + DEADLINE;
    loop {
        let line = stderr
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a stopping line before the deadline");
        if line.starts_with("percore: stopping") {
            break;
        }
    }
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
    let server = Server::start_with(&["--shards", "1"]);
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
