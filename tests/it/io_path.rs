//! The io_uring data path (vendor/glommio/PATCHES.md): multishot receives
//! into a per-shard ring of provided buffers, and the fallback that glommio
//! 0.9's own recv(2) + POLL_ADD path gives on kernels without them (forced
//! here with `PERCORE_IO_FALLBACK=1`). Both must serve every byte, and
//! neither may buffer without bound for a peer that stops reading.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Instant;

use crate::common::*;

const FALLBACK: (&str, &str) = ("PERCORE_IO_FALLBACK", "1");

const CONNECTIONS: usize = 200;
const LINES_PER_CONNECTION: usize = 500;

/// The builder with `env` set for the server.
fn env_of(env: &[(&str, &str)], builder: Builder) -> Builder {
    env.iter()
        .fold(builder, |b, (key, value)| b.env(key, value))
}

/// A line no other connection sends, with a non-ASCII letter (upper-cased
/// to two bytes) and a length that varies.
fn line(connection: usize, index: usize) -> String {
    format!(
        "conn {connection} line {index} straße {}\n",
        "x".repeat(index % 23)
    )
}

/// 100,000 lines pipelined over 200 connections spread by the kernel over
/// four shards; every reply byte is checked.
fn pipelined_lines_are_all_answered(env: &[(&str, &str)]) {
    let server = env_of(env, TestServer::builder().services(&["yell"]).shards(4)).start();
    let addr = server.addr("yell");
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|connection| {
            thread::spawn(move || {
                let requests: String = (0..LINES_PER_CONNECTION)
                    .map(|index| line(connection, index))
                    .collect();
                let expected = requests.replace('ß', "SS").to_uppercase().into_bytes();
                let mut stream = connect(addr);
                let writer = write_in_background(&stream, requests.into_bytes(), false);
                let replies = read_n(&mut stream, expected.len());
                writer.join().expect("writer");
                assert!(
                    replies == expected,
                    "connection {connection}: replies differ from the upper-cased lines"
                );
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client failed");
    }
    let stopped = server.stop();
    let messages = stopped.json["services"]["yell"]["messages"]
        .as_u64()
        .expect("yell messages in the JSON report");
    assert_eq!(messages, (CONNECTIONS * LINES_PER_CONNECTION) as u64);
}

#[test]
fn pipelined_lines_over_200_connections_on_4_shards_are_all_answered() {
    pipelined_lines_are_all_answered(&[]);
}

#[test]
fn the_forced_fallback_path_answers_every_line_too() {
    pipelined_lines_are_all_answered(&[FALLBACK]);
}

/// Echo clients that send and never read: the server's replies fill their
/// receive buffers, its writes wait, and it must stop receiving, so that the
/// clients' writes are the ones that block. Returns how much the server's
/// RSS grew and checks that a well-behaved client is still served.
fn peers_that_stop_reading_are_held_back(env: &[(&str, &str)]) -> u64 {
    const GREEDY: usize = 16;
    /// Far more than any bound the server may keep per connection.
    const GIVE_UP_AFTER: usize = 256 << 20;
    let server = env_of(env, TestServer::builder().services(&["echo"]).shards(1)).start();
    let addr = server.addr("echo");
    let mut polite = connect(addr);
    assert_eq!(round_trip(&mut polite, b"before", 6), b"before");
    let before = proc_status_bytes(server.pid(), "VmRSS:");

    let chunk = vec![b'e'; 256 * 1024];
    let mut greedy: Vec<TcpStream> = (0..GREEDY).map(|_| connect(addr)).collect();
    for stream in &greedy {
        stream.set_nonblocking(true).expect("nonblocking");
    }
    let mut sent = vec![0usize; GREEDY];
    let began = Instant::now();
    // Until none of them has been writable for half a second.
    loop {
        let mut progressed = false;
        for (stream, sent) in greedy.iter_mut().zip(sent.iter_mut()) {
            if *sent >= GIVE_UP_AFTER {
                continue;
            }
            match stream.write(&chunk) {
                Ok(n) => {
                    *sent += n;
                    progressed = true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("writing to echo: {e}"),
            }
        }
        if !progressed {
            let mut pollfds: Vec<libc::pollfd> = greedy
                .iter()
                .map(|stream| libc::pollfd {
                    fd: std::os::fd::AsRawFd::as_raw_fd(stream),
                    events: libc::POLLOUT,
                    revents: 0,
                })
                .collect();
            // SAFETY: poll on valid descriptors owned by `greedy`.
            let ready = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as _, 500) };
            if ready == 0 {
                break;
            }
        }
        assert!(began.elapsed() < DEADLINE, "the server kept taking data");
    }
    for (i, sent) in sent.iter().enumerate() {
        assert!(
            *sent < GIVE_UP_AFTER,
            "greedy client {i}: the server took {sent} bytes without being read"
        );
    }
    // The shard still serves others: its provided buffers were given back.
    for _ in 0..20 {
        assert_eq!(round_trip(&mut polite, b"during", 6), b"during");
    }
    let grown = proc_status_bytes(server.pid(), "VmRSS:").saturating_sub(before);

    // Reading now gets every byte back, in order.
    for (stream, sent) in greedy.iter_mut().zip(&sent) {
        stream.set_nonblocking(false).expect("blocking");
        stream
            .shutdown(std::net::Shutdown::Write)
            .expect("shutdown");
        stream
            .set_read_timeout(Some(DEADLINE))
            .expect("read timeout");
        let mut echoed = 0usize;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = stream.read(&mut buf).expect("read echoes");
            if n == 0 {
                break;
            }
            assert!(buf[..n].iter().all(|&b| b == b'e'));
            echoed += n;
        }
        assert_eq!(echoed, *sent);
    }
    drop(greedy);
    grown
}

#[test]
fn peers_that_stop_reading_do_not_make_the_shard_buffer_without_bound() {
    let grown = peers_that_stop_reading_are_held_back(&[]);
    // 16 connections × (64 KiB of read-ahead + 1 MiB of pending output) is
    // about 17 MiB; a receive path that kept taking data would pass 256 MiB.
    assert!(grown < 40 << 20, "RSS grew by {grown} bytes");
}

#[test]
fn peers_that_stop_reading_are_held_back_on_the_fallback_path_too() {
    let grown = peers_that_stop_reading_are_held_back(&[FALLBACK]);
    assert!(grown < 40 << 20, "RSS grew by {grown} bytes");
}
