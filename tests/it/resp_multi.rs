//! resp's MULTI / EXEC / DISCARD / WATCH / UNWATCH (issue 26) on 4 shards:
//! replies byte for byte as redis-server 7.0's (queuing, EXECABORT, runtime
//! errors, nested MULTI, WATCH aborts, RESET), atomic transfers under load
//! with readers and WATCH retries. Transactions over several shards:
//! `resp_multi_across.rs`.

use std::thread;
use std::time::Instant;

use crate::common::resp::{assert_two_client_sequence_same_as_redis, redis, words, Resp};
use crate::common::{wait_until, TestServer, DEADLINE};
use percore::cross_shard::owner_of;

const SHARDS: usize = 4;

/// `n` key names that one shard owns, starting with `prefix`.
fn keys_on_one_shard(prefix: &str, n: usize) -> Vec<String> {
    let first = format!("{prefix}0");
    let owner = owner_of(first.as_bytes(), SHARDS);
    let mut keys = vec![first];
    let mut i = 1;
    while keys.len() < n {
        let key = format!("{prefix}{i}");
        if owner_of(key.as_bytes(), SHARDS) == owner {
            keys.push(key);
        }
        i += 1;
    }
    keys
}

/// The sequence both servers get; `{a}` and `{b}` are two keys one shard
/// owns. Lines starting `other:` go through a second connection.
const SEQUENCE: &[&str] = &[
    "MULTI",
    "MULTI",
    "WATCH {a}",
    "SET {a} 1",
    "INCR {a}",
    "EXEC",
    "EXEC",
    "DISCARD",
    "MULTI",
    "FOO bar",
    "SET {a} 2",
    "EXEC",
    "GET {a}",
    "MULTI",
    "GET",
    "EXEC",
    "MULTI",
    "PING",
    "ECHO hi",
    "PING x",
    "SET {a} notanumber",
    "INCR {a}",
    "GET {a}",
    "MGET {a} {b}",
    "DEL {b}",
    "EXEC",
    "MULTI",
    "SET {a} 3",
    "DISCARD",
    "GET {a}",
    "MULTI",
    "EXEC",
    "WATCH {a} {b}",
    "other:SET {a} 4",
    "MULTI",
    "SET {b} 5",
    "EXEC",
    "GET {b}",
    "WATCH {a}",
    "other:GET {a}",
    "MULTI",
    "SET {b} 6",
    "EXEC",
    "GET {b}",
    "WATCH {b}",
    "UNWATCH",
    "other:SET {b} 7",
    "MULTI",
    "GET {b}",
    "EXEC",
    "WATCH {a}",
    "other:DEL {a}",
    "MULTI",
    "GET {a}",
    "EXEC",
    "WATCH {a}",
    "other:SET {a} 8",
    "RESET",
    "MULTI",
    "GET {a}",
    "EXEC",
    "MULTI",
    "SET {a} 9",
    "RESET",
    "EXEC",
    "GET {a}",
    "WATCH {b}",
    "other:FLUSHALL",
    "MULTI",
    "GET {b}",
    "EXEC",
];

#[test]
fn transaction_replies_equal_redis_byte_for_byte_in_resp2_and_resp3() {
    let server = TestServer::builder().services(&["resp"]).start();
    let redis = redis();
    let keys = keys_on_one_shard("tk", 2);
    let lines: Vec<String> = SEQUENCE
        .iter()
        .map(|line| line.replace("{a}", &keys[0]).replace("{b}", &keys[1]))
        .collect();
    assert_two_client_sequence_same_as_redis(server.addr("resp"), &redis, &lines);
    server.stop().assert_clean();
}

/// A watched key that expires aborts EXEC, as in redis 7.0.
#[test]
fn a_watched_key_that_expires_aborts_exec() {
    let server = TestServer::builder().services(&["resp"]).start();
    let mut client = Resp::connect(server.addr("resp"));
    assert_eq!(client.cmd("SET wk v PX 200"), "+OK\r\n");
    assert_eq!(client.cmd("WATCH wk"), "+OK\r\n");
    let mut other = Resp::connect(server.addr("resp"));
    wait_until("wk expired", || other.cmd("EXISTS wk") == ":0\r\n");
    assert_eq!(client.cmd("MULTI"), "+OK\r\n");
    assert_eq!(client.cmd("SET wk w"), "+QUEUED\r\n");
    assert_eq!(client.cmd("EXEC"), "*-1\r\n");
    assert_eq!(client.cmd("GET wk"), "$-1\r\n");
    server.stop().assert_clean();
}

/// Transfers between two keys (MULTI; DECRBY a; INCRBY b; EXEC) from many
/// clients, on connections spread over the shards, while readers read
/// both keys in MULTI: every read sees the same sum. WATCH retries
/// (check-and-set) converge: each client makes its moves in the end.
#[test]
fn transfers_are_atomic_under_load_and_watch_retries_converge() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let keys = keys_on_one_shard("acct", 2);
    let (a, b) = (keys[0].clone(), keys[1].clone());
    const TOTAL: i64 = 1_000_000;
    let mut setup = Resp::connect(addr);
    assert_eq!(setup.cmd(&format!("SET {a} {TOTAL}")), "+OK\r\n");
    assert_eq!(setup.cmd(&format!("SET {b} 0")), "+OK\r\n");
    let mut threads = Vec::new();
    for t in 0..4 {
        let (a, b) = (a.clone(), b.clone());
        threads.push(thread::spawn(move || {
            let mut c = Resp::connect(addr);
            for i in 0..150 {
                let amount = (t * 7 + i) % 13 + 1;
                c.send(&[b"MULTI"]);
                c.send(&words(&format!("DECRBY {a} {amount}")));
                c.send(&words(&format!("INCRBY {b} {amount}")));
                c.send(&[b"EXEC"]);
                assert_eq!(c.reply(), b"+OK\r\n");
                assert_eq!(c.reply(), b"+QUEUED\r\n");
                assert_eq!(c.reply(), b"+QUEUED\r\n");
                let exec = c.reply();
                assert!(
                    exec.starts_with(b"*2\r\n:"),
                    "{}",
                    String::from_utf8_lossy(&exec)
                );
            }
        }));
    }
    for _ in 0..2 {
        let (a, b) = (a.clone(), b.clone());
        threads.push(thread::spawn(move || {
            let mut c = Resp::connect(addr);
            for _ in 0..150 {
                c.send(&[b"MULTI"]);
                c.send(&words(&format!("GET {a}")));
                c.send(&words(&format!("GET {b}")));
                c.send(&[b"EXEC"]);
                for _ in 0..3 {
                    c.reply();
                }
                let exec = String::from_utf8_lossy(&c.reply()).into_owned();
                let numbers: Vec<i64> = exec
                    .split("\r\n")
                    .filter_map(|line| line.parse().ok())
                    .collect();
                assert_eq!(numbers.len(), 2, "{exec}");
                assert_eq!(numbers[0] + numbers[1], TOTAL, "{exec}");
            }
        }));
    }
    // Check-and-set movers: each makes 40 moves of 1 from b to a.
    for _ in 0..3 {
        let (a, b) = (a.clone(), b.clone());
        threads.push(thread::spawn(move || {
            let mut c = Resp::connect(addr);
            let give_up = Instant::now() + DEADLINE * 3;
            let mut done = 0;
            while done < 40 {
                assert!(Instant::now() < give_up, "WATCH retries did not converge");
                assert_eq!(c.cmd(&format!("WATCH {a} {b}")), "+OK\r\n");
                let get = |c: &mut Resp, k: &str| -> i64 {
                    let reply = c.cmd(&format!("GET {k}"));
                    reply
                        .split("\r\n")
                        .nth(1)
                        .and_then(|n| n.parse().ok())
                        .expect("a number")
                };
                let (va, vb) = (get(&mut c, &a), get(&mut c, &b));
                c.send(&[b"MULTI"]);
                c.send(&words(&format!("SET {a} {}", va + 1)));
                c.send(&words(&format!("SET {b} {}", vb - 1)));
                c.send(&[b"EXEC"]);
                for _ in 0..3 {
                    c.reply();
                }
                let exec = c.reply();
                if exec == b"*2\r\n+OK\r\n+OK\r\n" {
                    done += 1;
                } else {
                    assert_eq!(exec, b"*-1\r\n");
                }
            }
        }));
    }
    for thread in threads {
        thread.join().expect("a client thread");
    }
    let sum: i64 = [&a, &b]
        .iter()
        .map(|k| {
            let reply = setup.cmd(&format!("GET {k}"));
            reply
                .split("\r\n")
                .nth(1)
                .and_then(|n| n.parse::<i64>().ok())
                .expect("a number")
        })
        .sum();
    assert_eq!(sum, TOTAL);
    server.stop().assert_clean();
}

/// redis-py's transactions (a MULTI/EXEC pipeline, `Redis.transaction`
/// with WATCH) work, in RESP2 and RESP3.
#[test]
fn redis_py_transactions_work_in_resp2_and_resp3() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let keys = keys_on_one_shard("py", 2);
    for proto in ["2", "3"] {
        let out = crate::common::run_python_client(
            "redis_py_multi.py",
            &[
                addr.ip().to_string(),
                addr.port().to_string(),
                proto.to_string(),
                keys[0].clone(),
                keys[1].clone(),
            ],
        );
        assert_eq!(
            out,
            "[True, 15, b'15', True]\n[True, True]\n[b'14', b'2']\nResponseError Command # 2 (INCRBY py0 1) of pipeline caused error: value is not an integer or out of range\nb'x'\n",
            "RESP{proto}"
        );
    }
    server.stop().assert_clean();
}
