//! The framework owns the process's open-file limit: started under the
//! common default soft limit of 1,024, the server raises it to what its
//! connections need (up to the hard limit), so 2,000 clients are all served
//! instead of a thousand, the rest left in the backlog.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::common::*;

const CLIENTS: usize = 2_000;

#[test]
fn two_thousand_clients_are_served_under_a_soft_limit_of_1024() {
    // This test process's own sockets: its soft limit goes to the hard one.
    if raise_fd_limit() < CLIENTS as u64 + 512 {
        eprintln!("skipped: the hard open-files limit is below {CLIENTS} clients");
        return;
    }
    let server = TestServer::builder()
        .services(&["yell"])
        .shards(1)
        .shell("ulimit -Sn 1024")
        .start();

    let mut clients: Vec<TcpStream> = (0..CLIENTS).map(|_| server.connect("yell")).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .write_all(format!("client {i}\n").as_bytes())
            .unwrap();
    }
    for (i, client) in clients.iter_mut().enumerate() {
        let expected = format!("CLIENT {i}\n");
        let mut reply = vec![0; expected.len()];
        client
            .read_exact(&mut reply)
            .unwrap_or_else(|e| panic!("client {i}: {e}"));
        assert_eq!(reply, expected.as_bytes());
    }
    drop(clients);

    let stopped = server.stop();
    assert_eq!(stopped.status.code(), Some(0), "{}", stopped.stderr);
    assert!(
        !stopped.stderr.contains("Too many open files"),
        "{}",
        stopped.stderr
    );
    assert_eq!(stopped.json["services"]["yell"]["messages"], CLIENTS as u64);
}

/// `percore serve ARGS` with every service on port 0, under an open files
/// limit of `limit` (soft and hard: the server cannot raise it).
fn start_under_limit(limit: u32, args: &[&str]) -> Server {
    TestServer::builder()
        .shards_per_cpu()
        .shell(&format!("ulimit -n {limit}"))
        .args(args)
        .start()
}

/// resp's `CONFIG GET maxclients`: `--max-conns` × shards, as the server
/// runs with it.
fn max_clients(server: &Server) -> u64 {
    let mut resp = crate::common::resp::Resp::connect(server.addr("resp"));
    let reply = resp.cmd("CONFIG GET maxclients");
    reply
        .lines()
        .nth(4)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("CONFIG GET maxclients: {reply:?}"))
}

#[test]
fn a_default_start_fits_its_connections_to_the_limit_without_a_warning() {
    // 65,536 connections per shard on 2 shards need far more than 4,096.
    let server = start_under_limit(4096, &["--shards", "2"]);
    let clients = max_clients(&server);
    assert!(
        (1_000..=4_096).contains(&clients),
        "maxclients {clients}: the default --max-conns was not fitted to 4096 open files"
    );
    let stopped = server.stop();
    stopped.assert_clean();
    assert!(
        !stopped.stderr.contains("warning"),
        "a default start warned: {}",
        stopped.stderr
    );
}

#[test]
fn an_explicit_max_conns_the_limit_cannot_hold_is_warned_about() {
    let server = start_under_limit(4096, &["--shards", "2", "--max-conns", "10000"]);
    // Asked for: kept as given.
    assert_eq!(max_clients(&server), 20_000);
    let stopped = server.stop();
    stopped.assert_clean();
    assert!(
        stopped
            .stderr
            .contains("warning: the open files limit is 4096")
            && stopped.stderr.contains("--max-conns"),
        "no warning: {}",
        stopped.stderr
    );
}
