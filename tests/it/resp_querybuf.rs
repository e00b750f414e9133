//! Per-connection query buffers (issue 26, docs/ARCHITECTURE.md "Input
//! buffers"), against the real binary over loopback: CLIENT LIST's `qbuf=`
//! and `qbuf-free=` are the connection's real input buffer; a fresh one is
//! 16 KiB, an idle one gives it back (0) within a few seconds and still
//! serves pipelines and split frames afterwards (over TLS too), and one
//! grown for a 400 kB SET shrinks back once small commands follow
//! (Redis 7.0's tests/unit/querybuf.tcl).

use std::io::{Read, Write};
use std::time::Instant;

use percore_protocols::resp::protocol::{encode_command, reply_len};

use crate::common::certs::{tls_connect, Certs, TlsClient};
use crate::common::resp::{words, Resp};
use crate::common::*;

/// `(qbuf, qbuf-free)` of the connection named `name`, from CLIENT LIST.
fn buffer_of(admin: &mut Resp, name: &str) -> (usize, usize) {
    let list = admin.cmd("CLIENT LIST");
    let line = list
        .lines()
        .find(|line| line.contains(&format!(" name={name} ")))
        .unwrap_or_else(|| panic!("no client named {name}: {list}"));
    let field = |key: &str| -> usize {
        line.split(' ')
            .find_map(|word| word.strip_prefix(key))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {line}"))
    };
    (field("qbuf="), field("qbuf-free="))
}

/// `qbuf + qbuf-free`: the buffer's allocation.
fn allocation(admin: &mut Resp, name: &str) -> usize {
    let (queued, free) = buffer_of(admin, name);
    queued + free
}

fn wait_released(admin: &mut Resp, name: &str) {
    wait_until(&format!("{name}'s input buffer released"), || {
        allocation(admin, name) == 0
    });
}

/// Checks that `conn`, once released, serves a pipelined batch (longer
/// than the first read of a released connection) and, released again, a
/// frame split across two reads, the first half of which the server holds.
fn serves_pipelines_and_split_frames(admin: &mut Resp, conn: &mut Resp, name: &str) {
    wait_released(admin, name);
    for i in 0..50 {
        conn.send_cmd(&format!("SET {name}:{i} v{i}"));
        conn.send_cmd(&format!("GET {name}:{i}"));
    }
    for i in 0..50 {
        assert_eq!(conn.reply(), b"+OK\r\n");
        let value = format!("v{i}");
        let expected = format!("${}\r\n{value}\r\n", value.len());
        assert_eq!(conn.reply(), expected.as_bytes());
    }
    wait_released(admin, name);
    let mut wire = Vec::new();
    encode_command(words(&format!("SET {name}:split halves")), &mut wire);
    let (first, second) = wire.split_at(wire.len() / 2);
    conn.stream.write_all(first).expect("send half a frame");
    wait_until("the first half held", || {
        buffer_of(admin, name) == (first.len(), 16_384 - first.len())
    });
    conn.stream.write_all(second).expect("send the rest");
    assert_eq!(conn.reply(), b"+OK\r\n");
    assert_eq!(conn.cmd(&format!("GET {name}:split")), "$6\r\nhalves\r\n");
}

#[test]
fn a_fresh_buffer_is_16_kib_an_idle_one_is_released_and_comes_back_on_input() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let mut admin = Resp::connect(server.addr("resp"));
    let mut conn = Resp::connect(server.addr("resp"));
    assert_eq!(conn.cmd("CLIENT SETNAME idler"), "+OK\r\n");
    // The caller's own line shows the command it is running, as redis's.
    assert!(conn
        .cmd("CLIENT INFO")
        .contains(" qbuf=26 qbuf-free=16358 "));
    assert_eq!(allocation(&mut admin, "idler"), 16_384);
    let started = Instant::now();
    wait_released(&mut admin, "idler");
    // Idle for 2 s first (the sweep looks once a second).
    assert!(
        started.elapsed().as_millis() >= 1_000,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(conn.cmd("PING"), "+PONG\r\n");
    assert_eq!(allocation(&mut admin, "idler"), 16_384);
    serves_pipelines_and_split_frames(&mut admin, &mut conn, "idler");
}

#[test]
fn a_buffer_grown_for_a_big_set_shrinks_back_to_its_recent_peak() {
    let server = TestServer::builder().services(&["resp"]).shards(1).start();
    let mut admin = Resp::connect(server.addr("resp"));
    let mut conn = Resp::connect(server.addr("resp"));
    assert_eq!(conn.cmd("CLIENT SETNAME big"), "+OK\r\n");
    let value = vec![b'A'; 400_000];
    assert_eq!(conn.call(&[b"SET", b"x", &value]), b"+OK\r\n");
    let grown = allocation(&mut admin, "big");
    assert!(grown > 400_000, "{grown}");
    // Small commands keep it busy: no release, but the peak is small now.
    wait_until("the grown buffer shrunk", || {
        assert_eq!(conn.cmd("SET x small"), "+OK\r\n");
        allocation(&mut admin, "big") < grown
    });
    assert_eq!(allocation(&mut admin, "big"), 16_384);
    assert_eq!(conn.call(&[b"SET", b"x", &value]), b"+OK\r\n");
    assert_eq!(conn.cmd("STRLEN x"), ":400000\r\n");
    serves_pipelines_and_split_frames(&mut admin, &mut conn, "big");
}

/// One command over TLS, its whole reply back.
fn tls_cmd(conn: &mut TlsClient, line: &str) -> String {
    let mut wire = Vec::new();
    encode_command(words(line), &mut wire);
    conn.write_all(&wire).expect("send over TLS");
    let mut reply = Vec::new();
    let give_up = Instant::now() + DEADLINE;
    while !matches!(reply_len(&reply), Ok(Some(_))) {
        assert!(Instant::now() < give_up, "no reply over TLS");
        let mut chunk = [0u8; 4096];
        let n = conn.read(&mut chunk).expect("read over TLS");
        assert!(n > 0, "TLS connection closed");
        reply.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&reply).into_owned()
}

#[test]
fn a_released_tls_connection_serves_on() {
    let certs = Certs::new();
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(1)
        .listen("resp", "tls://127.0.0.1:0")
        .tls(&certs)
        .start();
    let mut admin = Resp::connect(server.addr("resp"));
    let mut conn =
        tls_connect(server.tls_addr("resp"), &certs.path("ca.pem"), None).expect("a TLS handshake");
    assert_eq!(tls_cmd(&mut conn, "CLIENT SETNAME secret"), "+OK\r\n");
    assert_eq!(allocation(&mut admin, "secret"), 16_384);
    wait_released(&mut admin, "secret");
    assert_eq!(tls_cmd(&mut conn, "SET k over-tls"), "+OK\r\n");
    assert_eq!(tls_cmd(&mut conn, "GET k"), "$8\r\nover-tls\r\n");
    assert_eq!(allocation(&mut admin, "secret"), 16_384);
}

/// Input that keeps arriving, in pieces that split frames, while the sweep
/// shrinks the buffer (the connection drops its pending read to resize and
/// reads again): every byte is served, in order.
#[test]
fn no_byte_is_lost_while_the_buffer_shrinks_under_a_stream_of_split_frames() {
    let server = TestServer::builder().services(&["resp"]).shards(1).start();
    let mut admin = Resp::connect(server.addr("resp"));
    let mut conn = Resp::connect(server.addr("resp"));
    assert_eq!(conn.cmd("CLIENT SETNAME streamer"), "+OK\r\n");
    assert_eq!(conn.call(&[b"SET", b"big", &[b'B'; 400_000]]), b"+OK\r\n");
    let grown = allocation(&mut admin, "streamer");
    assert!(grown > 400_000, "{grown}");

    let mut wire = Vec::new();
    encode_command(words("INCR counter"), &mut wire);
    let frame = wire.len();
    let mut writer = conn.stream.try_clone().expect("clone the stream");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    // Pieces of 7 bytes: most frames arrive in two or three reads.
    let sender = std::thread::spawn(move || {
        let mut sent = 0u64;
        let mut pending: Vec<u8> = Vec::new();
        while !stopped.load(std::sync::atomic::Ordering::Relaxed) || !pending.is_empty() {
            if pending.len() < 7 {
                pending.extend_from_slice(&wire);
                sent += 1;
            }
            let piece: Vec<u8> = pending.drain(..7.min(pending.len())).collect();
            writer.write_all(&piece).expect("send a piece");
            // Pacing, so that the server's read is often pending when the
            // sweep comes.
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        sent
    });
    let mut replies = 0u64;
    wait_until("the buffer shrunk under the stream", || {
        allocation(&mut admin, "streamer") < grown
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = sender.join().expect("the sender");
    assert!(sent as usize * frame > 7);
    while replies < sent {
        replies += 1;
        assert_eq!(conn.reply(), format!(":{replies}\r\n").as_bytes());
    }
    assert_eq!(
        conn.cmd("GET counter"),
        format!("${}\r\n{sent}\r\n", sent.to_string().len())
    );
}
