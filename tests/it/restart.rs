//! Restarts (docs/PROTOCOLS.md §2, issue 22 item 2): an address held only by the closed
//! connections of a server that just stopped (TIME_WAIT, FIN_WAIT_2) is not
//! in use, so the next server binds it at once, as redis-server does; an
//! address a live listener holds is still refused with exit status 2.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::common::*;

const SERVICES: [&str; 3] = ["resp", "kv", "chat"];

/// `percore serve` with resp, kv and chat on `addrs` and the metrics
/// endpoint on `metrics` (port 0 for any); what it said if it ended first.
fn serve_on(addrs: &[(String, SocketAddr)], metrics: SocketAddr) -> Result<Server, Exited> {
    let mut builder = TestServer::builder()
        .services(&SERVICES)
        .shards(2)
        .args(&["--metrics", &metrics.to_string()]);
    for (service, addr) in addrs {
        builder = builder.args(&[format!("--{service}"), addr.to_string()]);
    }
    builder.spawn()
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// The states (as /proc/net/tcp numbers them: 04 FIN_WAIT1, 05 FIN_WAIT2,
/// 06 TIME_WAIT, 0A LISTEN...) of the IPv4 sockets bound to local `port`,
/// listeners left out.
fn lingering(port: u16) -> Vec<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    let wanted = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (local, state) = (fields.get(1)?, fields.get(3)?);
            (local.ends_with(&wanted) && *state != "0A").then(|| state.to_string())
        })
        .collect()
}

/// Leaves connections behind on every port the way a stop does: a resp
/// client sent QUIT, a chat client `.` and a metrics scrape was answered (the
/// server closed each first: TIME_WAIT on its side), and `held`, a kv
/// client, stays open across the stop (the server closes it while stopping:
/// FIN_WAIT_2).
fn leave_closed_connections(server: &Server, metrics: SocketAddr) -> TcpStream {
    let mut resp = server.connect("resp");
    resp.write_all(b"QUIT\r\n").expect("send QUIT");
    assert_eq!(read_to_close(&mut resp), b"+OK\r\n");
    let mut chat = server.connect("chat");
    chat.write_all(b".\r\n").expect("send .");
    read_to_close(&mut chat);
    let mut scrape = connect(metrics);
    scrape
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send a scrape");
    let answer = read_to_close(&mut scrape);
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    let mut held = server.connect("kv");
    let (get, reply) = probe("kv");
    assert_eq!(round_trip(&mut held, &get, reply.len()), reply);
    held
}

#[test]
fn a_restart_binds_at_once_over_the_last_servers_closed_connections() {
    let server = serve_on(&[], loopback(0)).expect("percore starts on port 0");
    let (addrs, metrics) = (server.addrs.clone(), server.metrics_addr());

    let held = leave_closed_connections(&server, metrics);
    server.stop().assert_clean();
    for (service, addr) in addrs.iter().chain([&("metrics".to_string(), metrics)]) {
        let states = lingering(addr.port());
        assert!(
            !states.is_empty(),
            "{service}: no closed connection of the stopped server remains on {addr}, \
             so this test would test nothing"
        );
    }

    // At once: no retry, no wait for the remains to time out.
    let restarted = serve_on(&addrs, metrics).unwrap_or_else(|exited| {
        panic!(
            "the restart ended ({exited:?}) over the stopped server's closed connections \
             (socket states {:?})",
            addrs
                .iter()
                .map(|(_, addr)| lingering(addr.port()))
                .collect::<Vec<_>>()
        )
    });
    let mut resp = restarted.connect("resp");
    assert_eq!(round_trip(&mut resp, b"PING\r\n", 7), b"+PONG\r\n");

    // The live listeners are still the restarted server's alone: another
    // percore on one of its addresses (listening with SO_REUSEADDR and
    // SO_REUSEPORT, as the restarted one does) is refused.
    let resp_addr = restarted.addr("resp").to_string();
    let (output, elapsed) = run_percore(&["serve", "--services", "resp", "--resp", &resp_addr]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert!(
        stderr.contains("resp") && stderr.contains(&resp_addr),
        "{stderr}"
    );
    // And the metrics port, a plain listener, is refused to another too.
    let metrics_addr = metrics.to_string();
    let (output, _) = run_percore(&[
        "serve",
        "--services",
        "resp",
        "--resp",
        "127.0.0.1:0",
        "--metrics",
        &metrics_addr,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&metrics_addr), "{stderr}");
    assert_eq!(round_trip(&mut resp, b"PING\r\n", 7), b"+PONG\r\n");
    restarted.stop().assert_clean();
    drop(held);
}

#[test]
fn a_port_a_live_plain_listener_holds_is_refused_even_with_so_reuseaddr() {
    // std's listener sets SO_REUSEADDR, as the probe does: Linux still lets
    // only one of them listen.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let (output, elapsed) = run_percore(&["serve", "--services", "kv", "--kv", &addr]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert!(stderr.contains("kv") && stderr.contains(&addr), "{stderr}");
    // Nobody took the connections of the one that holds it.
    let mut client = TcpStream::connect(&addr).expect("connect");
    let (mut accepted, _) = taken.accept().expect("accept");
    client.write_all(b"x").expect("write");
    let mut byte = [0u8; 1];
    accepted.read_exact(&mut byte).expect("read");
    assert_eq!(&byte, b"x");
}
