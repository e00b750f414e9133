//! Connections that move between shards (crates/percore/src/server/moving.rs): a shard on
//! a crowded core hands connections of yell, echo and kv, and resp
//! connections that are as new, to a shard with CPU to spare, between two
//! batches. Here every shard hands its connections to
//! the next one every control period (`PERCORE_TEST_MOVE_ALWAYS`, for tests
//! only), and clients that keep pipelines full must see every reply, in
//! order, byte for byte, while their connections bounce between shards.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use crate::common::*;
use percore_protocols::kv::{Reply, Request};

/// How long each client keeps its pipeline full: many control periods
/// (20 ms), so its connection moves many times.
const RUN_FOR: Duration = Duration::from_millis(1500);

fn start_moving(shards: usize) -> Server {
    TestServer::builder()
        .services(&["yell", "echo", "kv", "resp"])
        .shards(shards)
        .env("PERCORE_TEST_MOVE_ALWAYS", "1")
        .start()
}

/// Sends numbered lines in pipelined rounds of `depth` for [`RUN_FOR`] and
/// checks each round's replies; returns how many lines went through.
fn yell_rounds(mut conn: TcpStream, client: usize, depth: usize) -> u64 {
    conn.set_read_timeout(Some(DEADLINE)).unwrap();
    let began = Instant::now();
    let mut sent = 0u64;
    while began.elapsed() < RUN_FOR {
        let mut round = String::new();
        for i in 0..depth {
            round.push_str(&format!("client {client} line {} é\n", sent + i as u64));
        }
        conn.write_all(round.as_bytes()).unwrap();
        let mut reply = vec![0; round.len()];
        conn.read_exact(&mut reply).unwrap();
        assert_eq!(
            String::from_utf8(reply).unwrap(),
            round.to_uppercase(),
            "client {client}: a round came back wrong"
        );
        sent += depth as u64;
    }
    sent
}

fn per_shard_messages(json: &serde_json::Value, service: &str) -> Vec<u64> {
    json["services"][service]["per_shard"]
        .as_array()
        .expect("per-shard rows")
        .iter()
        .map(|row| row["messages"].as_u64().expect("messages"))
        .collect()
}

#[test]
fn one_yell_connection_moving_between_two_shards_keeps_every_line_in_order() {
    let server = start_moving(2);
    let sent = yell_rounds(server.connect("yell"), 0, 64);
    let stopped = server.stop();
    stopped.assert_clean();
    let yell = &stopped.json["services"]["yell"];
    assert_eq!(yell["messages"], sent);
    assert_eq!(yell["connections"], 1, "a move is not an accept");
    assert_eq!(yell["errors"], 0);
    // The one connection was served on both shards: it moved.
    let per_shard = per_shard_messages(&stopped.json, "yell");
    assert!(
        per_shard.iter().all(|&m| m > 0),
        "served on every shard: {per_shard:?}"
    );
}

#[test]
fn many_pipelined_connections_on_four_shards_lose_and_reorder_nothing() {
    let server = start_moving(4);
    let yell = server.addr("yell");
    let echo = server.addr("echo");
    let clients: Vec<_> = (0..8)
        .map(|client| {
            thread::spawn(move || {
                if client % 2 == 0 {
                    yell_rounds(connect(yell), client, 1 + client * 8)
                } else {
                    echo_rounds(connect(echo), client)
                }
            })
        })
        .collect();
    let total: u64 = clients.into_iter().map(|c| c.join().unwrap()).sum();
    assert!(total > 0);
    let stopped = server.stop();
    stopped.assert_clean();
    assert_eq!(stopped.json["services"]["yell"]["connections"], 4);
    assert_eq!(stopped.json["services"]["echo"]["connections"], 4);
}

/// Echo: writes that do not end where a request ends (echo has no frames):
/// whatever was received and not yet read when a connection moves comes
/// back first, on the next shard.
fn echo_rounds(mut conn: TcpStream, client: usize) -> u64 {
    conn.set_read_timeout(Some(DEADLINE)).unwrap();
    let began = Instant::now();
    let mut rounds = 0u64;
    while began.elapsed() < RUN_FOR {
        let payload: Vec<u8> = (0..4096 + client * 1000)
            .map(|i| (i as u64 * 31 + rounds * 7) as u8)
            .collect();
        // In three writes, so that a move can come between them.
        for part in payload.chunks(payload.len() / 3 + 1) {
            conn.write_all(part).unwrap();
        }
        let mut reply = vec![0; payload.len()];
        conn.read_exact(&mut reply).unwrap();
        assert!(reply == payload, "client {client}: echo came back wrong");
        rounds += 1;
    }
    rounds
}

#[test]
fn kv_pipelines_across_moves_read_their_own_writes() {
    let server = start_moving(2);
    let addr = server.addr("kv");
    let clients: Vec<_> = (0..4)
        .map(|client| {
            thread::spawn(move || {
                let mut kv = kv_client(addr);
                let began = Instant::now();
                let mut round = 0u64;
                while began.elapsed() < RUN_FOR {
                    let keys: Vec<String> = (0..16).map(|k| format!("c{client}k{k}")).collect();
                    let vals: Vec<String> = (0..16).map(|k| format!("r{round}v{k}")).collect();
                    let mut pipeline = Vec::new();
                    let mut expected = Vec::new();
                    for (key, val) in keys.iter().zip(&vals) {
                        pipeline.push(Request::Put { key, val });
                        pipeline.push(Request::Get { key });
                        expected.push(Reply::Nil);
                        expected.push(Reply::Str(val.clone()));
                    }
                    assert_eq!(kv.pipeline(&pipeline).expect("pipeline"), expected);
                    round += 1;
                }
                round
            })
        })
        .collect();
    for client in clients {
        assert!(client.join().unwrap() > 0);
    }
    let stopped = server.stop();
    stopped.assert_clean();
    assert_eq!(stopped.json["services"]["kv"]["connections"], 4);
    assert_eq!(stopped.json["services"]["kv"]["errors"], 0);
    let per_shard = per_shard_messages(&stopped.json, "kv");
    assert!(per_shard.iter().all(|&m| m > 0), "{per_shard:?}");
}

/// A resp connection that only reads and writes keys (as redis-benchmark's
/// and pooled clients' connections do) moves: its pipelines of SET and GET
/// read their own writes, in order, on whichever shard serves them.
#[test]
fn resp_pipelines_across_moves_read_their_own_writes() {
    let server = start_moving(2);
    let addr = server.addr("resp");
    let clients: Vec<_> = (0..1)
        .map(|client| {
            thread::spawn(move || {
                let mut conn = TcpStream::connect(addr).expect("connect");
                conn.set_read_timeout(Some(DEADLINE)).unwrap();
                let began = Instant::now();
                let mut round = 0u64;
                while began.elapsed() < RUN_FOR {
                    let mut pipeline = Vec::new();
                    let mut expected = Vec::new();
                    for k in 0..16 {
                        let (key, val) = (format!("c{client}k{k}"), format!("r{round}v{k}"));
                        pipeline.extend_from_slice(
                            format!(
                                "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{val}\r\n",
                                key.len(),
                                val.len()
                            )
                            .as_bytes(),
                        );
                        pipeline.extend_from_slice(
                            format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).as_bytes(),
                        );
                        expected.extend_from_slice(b"+OK\r\n");
                        expected
                            .extend_from_slice(format!("${}\r\n{val}\r\n", val.len()).as_bytes());
                    }
                    conn.write_all(&pipeline).unwrap();
                    let mut replies = vec![0; expected.len()];
                    conn.read_exact(&mut replies).unwrap();
                    assert!(
                        replies == expected,
                        "client {client} round {round}: {}",
                        String::from_utf8_lossy(&replies)
                    );
                    round += 1;
                }
                round
            })
        })
        .collect();
    for client in clients {
        assert!(client.join().unwrap() > 0);
    }
    let stopped = server.stop();
    stopped.assert_clean();
    assert_eq!(
        stopped.json["services"]["resp"]["connections"], 1,
        "a move is not an accept"
    );
    assert_eq!(stopped.json["services"]["resp"]["errors"], 0);
    // The one connection was served on both shards: it moved.
    let per_shard = per_shard_messages(&stopped.json, "resp");
    assert!(
        per_shard.iter().all(|&m| m > 0),
        "served on every shard: {per_shard:?}"
    );
}

#[test]
fn resp_connections_that_learnt_their_id_stay_where_they_were_accepted() {
    // A resp client that asked its client id (or named itself, switched
    // protocol, subscribed...) keeps its session on its shard: CLIENT ID
    // answers the same id every time.
    let server = start_moving(2);
    let mut conn = server.connect("resp");
    conn.set_read_timeout(Some(DEADLINE)).unwrap();
    let began = Instant::now();
    let mut id_reply = None;
    while began.elapsed() < Duration::from_millis(300) {
        conn.write_all(b"CLIENT ID\r\n").unwrap();
        let mut buf = [0u8; 64];
        let n = conn.read(&mut buf).unwrap();
        let reply = buf[..n].to_vec();
        assert!(reply.starts_with(b":"), "{reply:?}");
        // The same client id every time: the same session on the same shard.
        assert_eq!(*id_reply.get_or_insert_with(|| reply.clone()), reply);
    }
    let stopped = server.stop();
    stopped.assert_clean();
    let per_shard = per_shard_messages(&stopped.json, "resp");
    assert_eq!(
        per_shard.iter().filter(|&&m| m > 0).count(),
        1,
        "{per_shard:?}"
    );
}
