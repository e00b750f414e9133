//! resp's transactions whose keys live on several shards (issue 26, README
//! "Transactions across shards"), over loopback against the real binary
//! on 2 to 4 shards: replies byte for byte as redis-server 7.0's; transfers
//! between keys of different shards stay atomic under concurrent clients
//! (readers in MULTI always see the same sum; WATCH retries converge); a
//! watched key of another shard aborts EXEC; an error while queuing aborts
//! it whole (EXECABORT); MSET, MSETNX, RENAME and COPY over several shards
//! are atomic.

use std::thread;
use std::time::Instant;

use crate::common::resp::{assert_two_client_sequence_same_as_redis, redis, words, Resp};
use crate::common::{TestServer, DEADLINE};
use percore::cross_shard::owner_of;

/// `n` keys starting with `prefix`, each on a different shard of `shards`
/// (`n <= shards`).
fn keys_on_different_shards(prefix: &str, n: usize, shards: usize) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut i = 0;
    while keys.len() < n {
        let key = format!("{prefix}{i}");
        let owner = owner_of(key.as_bytes(), shards);
        if keys.iter().all(|k| owner_of(k.as_bytes(), shards) != owner) {
            keys.push(key);
        }
        i += 1;
    }
    keys
}

/// The integers of a reply, in order (an EXEC's `:n` and bulk numbers).
fn numbers(reply: &[u8]) -> Vec<i64> {
    String::from_utf8_lossy(reply)
        .split("\r\n")
        .filter_map(|line| line.strip_prefix(':').unwrap_or(line).parse().ok())
        .collect()
}

/// Sends `lines` as one pipelined transaction and returns EXEC's reply,
/// checking the replies before it.
fn transaction(c: &mut Resp, lines: &[String]) -> Vec<u8> {
    c.send(&[b"MULTI"]);
    for line in lines {
        c.send(&words(line));
    }
    c.send(&[b"EXEC"]);
    assert_eq!(c.reply(), b"+OK\r\n");
    for line in lines {
        assert_eq!(c.reply(), b"+QUEUED\r\n", "{line}");
    }
    c.reply()
}

/// Transactions over several shards, in RESP2 and RESP3, answer as
/// redis-server 7.0 does, byte for byte: queued commands over keys of
/// several shards (multi-key ones included), runtime errors inside,
/// EXECABORT, WATCH aborts by a write on another shard.
#[test]
fn transactions_across_shards_reply_as_redis_does() {
    let server = TestServer::builder().services(&["resp"]).shards(4).start();
    let redis = redis();
    let keys = keys_on_different_shards("rk", 4, 4);
    let sequence = [
        "MULTI",
        "SET {a} 1",
        "SET {b} 2",
        "INCR {c}",
        "MSET {a} 10 {b} 20 {c} 30 {d} 40",
        "MGET {a} {b} {c} {d}",
        "DEL {c} {d}",
        "RENAME {a} {d}",
        "COPY {b} {c}",
        "MSETNX {a} 1 {b} 2",
        "INCR {b}",
        "SET {c} notanumber",
        "INCR {c}",
        "EXISTS {a} {b} {c} {d}",
        "EXEC",
        "MGET {a} {b} {c} {d}",
        "MULTI",
        "SET {a} 1",
        "NOSUCHCOMMAND",
        "SET {b} 1",
        "GET",
        "EXEC",
        "MGET {a} {b}",
        "WATCH {a} {b}",
        "other:SET {b} 5",
        "MULTI",
        "SET {a} 9",
        "SET {c} 9",
        "EXEC",
        "MGET {a} {b} {c}",
        "WATCH {a} {d}",
        "other:GET {d}",
        "MULTI",
        "SET {b} 11",
        "INCR {d}",
        "EXEC",
        "MGET {b} {d}",
        "MULTI",
        "FLUSHALL",
        "SET {a} 1",
        "DBSIZE",
        "EXEC",
    ];
    let lines: Vec<String> = sequence
        .iter()
        .map(|line| {
            line.replace("{a}", &keys[0])
                .replace("{b}", &keys[1])
                .replace("{c}", &keys[2])
                .replace("{d}", &keys[3])
        })
        .collect();
    assert_two_client_sequence_same_as_redis(server.addr("resp"), &redis, &lines);
    server.stop().assert_clean();
}

/// Transfers between keys of different shards (MULTI; DECRBY a; INCRBY b;
/// EXEC) from many clients, while readers read every key in MULTI: every
/// read sees the same sum. Check-and-set movers (WATCH, GET, MULTI, SET,
/// SET, EXEC) over keys of two shards converge. On 2 and on 3 shards.
#[test]
fn transfers_across_shards_are_atomic_under_load() {
    for shards in [2, 3] {
        transfers_on(shards);
    }
}

fn transfers_on(shards: usize) {
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(shards)
        .start();
    let addr = server.addr("resp");
    let accounts = keys_on_different_shards("acct", shards, shards);
    const TOTAL: i64 = 1_000_000;
    let mut setup = Resp::connect(addr);
    for (i, key) in accounts.iter().enumerate() {
        let start = if i == 0 { TOTAL } else { 0 };
        assert_eq!(setup.cmd(&format!("SET {key} {start}")), "+OK\r\n");
    }
    let mut threads = Vec::new();
    for t in 0..4 {
        let accounts = accounts.clone();
        threads.push(thread::spawn(move || {
            let mut c = Resp::connect(addr);
            for i in 0..100 {
                let amount = (t * 7 + i) % 13 + 1;
                let from = &accounts[(t + i) % accounts.len()];
                let to = &accounts[(t + i + 1) % accounts.len()];
                let exec = transaction(
                    &mut c,
                    &[
                        format!("DECRBY {from} {amount}"),
                        format!("INCRBY {to} {amount}"),
                    ],
                );
                assert!(
                    exec.starts_with(b"*2\r\n:"),
                    "{}",
                    String::from_utf8_lossy(&exec)
                );
            }
        }));
    }
    for _ in 0..2 {
        let accounts = accounts.clone();
        threads.push(thread::spawn(move || {
            let mut c = Resp::connect(addr);
            let gets: Vec<String> = accounts.iter().map(|k| format!("GET {k}")).collect();
            for _ in 0..100 {
                let exec = transaction(&mut c, &gets);
                let seen = numbers(&exec);
                assert_eq!(seen.len(), accounts.len(), "{seen:?}");
                assert_eq!(seen.iter().sum::<i64>(), TOTAL, "{seen:?}");
            }
        }));
    }
    // Check-and-set movers: each makes 25 moves of 1 from accounts[1] to
    // accounts[0], two keys of different shards.
    for _ in 0..3 {
        let (a, b) = (accounts[0].clone(), accounts[1].clone());
        threads.push(thread::spawn(move || {
            let mut c = Resp::connect(addr);
            let give_up = Instant::now() + DEADLINE * 3;
            let mut done = 0;
            while done < 25 {
                assert!(Instant::now() < give_up, "WATCH retries did not converge");
                assert_eq!(c.cmd(&format!("WATCH {a} {b}")), "+OK\r\n");
                let va = numbers(&c.call(&words(&format!("GET {a}"))))[0];
                let vb = numbers(&c.call(&words(&format!("GET {b}"))))[0];
                let exec = transaction(
                    &mut c,
                    &[format!("SET {a} {}", va + 1), format!("SET {b} {}", vb - 1)],
                );
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
    let sum: i64 = accounts
        .iter()
        .map(|k| numbers(&setup.call(&words(&format!("GET {k}"))))[0])
        .sum();
    assert_eq!(sum, TOTAL, "on {shards} shards");
    server.stop().assert_clean();
}

/// WATCH aborts EXEC when a watched key changed, whichever shard it lives
/// on and whichever shard the transaction's keys live on; unchanged, EXEC
/// runs. Nothing of an aborted transaction runs.
#[test]
fn watch_aborts_exec_across_shards() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let addr = server.addr("resp");
    let keys = keys_on_different_shards("wk", 2, 2);
    let (a, b) = (&keys[0], &keys[1]);
    let mut client = Resp::connect(addr);
    let mut other = Resp::connect(addr);
    assert_eq!(client.cmd(&format!("SET {a} 1")), "+OK\r\n");
    // Watched a, changed by another client; the transaction writes b.
    assert_eq!(client.cmd(&format!("WATCH {a}")), "+OK\r\n");
    assert_eq!(other.cmd(&format!("INCR {a}")), ":2\r\n");
    assert_eq!(
        transaction(&mut client, &[format!("SET {b} x")]),
        b"*-1\r\n"
    );
    assert_eq!(client.cmd(&format!("EXISTS {b}")), ":0\r\n");
    // A watched key deleted elsewhere, the transaction on both shards.
    assert_eq!(client.cmd(&format!("WATCH {a} {b}")), "+OK\r\n");
    assert_eq!(other.cmd(&format!("DEL {a}")), ":1\r\n");
    let exec = transaction(&mut client, &[format!("SET {a} y"), format!("SET {b} y")]);
    assert_eq!(exec, b"*-1\r\n");
    assert_eq!(client.cmd(&format!("EXISTS {a} {b}")), ":0\r\n");
    // Unchanged (only read meanwhile): EXEC runs.
    assert_eq!(client.cmd(&format!("WATCH {a} {b}")), "+OK\r\n");
    assert_eq!(other.cmd(&format!("GET {a}")), "$-1\r\n");
    let exec = transaction(&mut client, &[format!("SET {a} z"), format!("SET {b} z")]);
    assert_eq!(exec, b"*2\r\n+OK\r\n+OK\r\n");
    assert_eq!(
        client.cmd(&format!("MGET {a} {b}")),
        "*2\r\n$1\r\nz\r\n$1\r\nz\r\n"
    );
    server.stop().assert_clean();
}

/// An error while queuing (unknown command, wrong arity) makes EXEC answer
/// EXECABORT, and none of the transaction's commands runs on any shard.
#[test]
fn errors_while_queuing_abort_exec_across_shards() {
    let server = TestServer::builder().services(&["resp"]).shards(3).start();
    let keys = keys_on_different_shards("ek", 3, 3);
    let mut c = Resp::connect(server.addr("resp"));
    for bad in ["NOSUCH x", "SET onlykey", "GET"] {
        assert_eq!(c.cmd("MULTI"), "+OK\r\n");
        assert_eq!(c.cmd(&format!("SET {} 1", keys[0])), "+QUEUED\r\n");
        assert!(c.cmd(bad).starts_with("-ERR"), "{bad}");
        assert_eq!(
            c.cmd(&format!("MSET {} 2 {} 2", keys[1], keys[2])),
            "+QUEUED\r\n"
        );
        assert_eq!(
            c.cmd("EXEC"),
            "-EXECABORT Transaction discarded because of previous errors.\r\n"
        );
        let exists = format!("EXISTS {} {} {}", keys[0], keys[1], keys[2]);
        assert_eq!(c.cmd(&exists), ":0\r\n", "{bad}");
    }
    server.stop().assert_clean();
}

/// MSET in MULTI over keys of several shards is atomic: while writers set
/// every key to one number, readers (MGET in MULTI) never see two numbers
/// at once. RENAME back and forth between two shards: a reader in MULTI
/// sees exactly one of the two names. MSETNX sets all or none.
#[test]
fn mset_msetnx_rename_and_copy_across_shards_are_atomic() {
    let server = TestServer::builder().services(&["resp"]).shards(4).start();
    let addr = server.addr("resp");
    let keys = keys_on_different_shards("mk", 4, 4);
    let (r1, r2) = ("rn-src".to_string(), {
        let src = owner_of(b"rn-src", 4);
        (0..)
            .map(|i| format!("rn-dst{i}"))
            .find(|k| owner_of(k.as_bytes(), 4) != src)
            .expect("a key on another shard")
    });
    let mut setup = Resp::connect(addr);
    assert_eq!(setup.cmd(&format!("SET {r1} v")), "+OK\r\n");
    let mset = |n: usize| {
        let pairs: Vec<String> = keys.iter().map(|k| format!("{k} {n}")).collect();
        format!("MSET {}", pairs.join(" "))
    };
    assert_eq!(setup.cmd(&mset(0)), "+OK\r\n");
    let mut threads = Vec::new();
    for w in 0..2 {
        let lines: Vec<String> = (1..=150).map(|i| mset(w * 1000 + i)).collect();
        threads.push(thread::spawn(move || {
            let mut c = Resp::connect(addr);
            for line in &lines {
                // Alone, MSET over several shards is atomic per shard only
                // (README "What differs from Redis").
                let exec = transaction(&mut c, std::slice::from_ref(line));
                assert_eq!(exec, b"*1\r\n+OK\r\n");
            }
        }));
    }
    {
        let (r1, r2) = (r1.clone(), r2.clone());
        threads.push(thread::spawn(move || {
            let mut c = Resp::connect(addr);
            for i in 0..150 {
                let (from, to) = if i % 2 == 0 { (&r1, &r2) } else { (&r2, &r1) };
                assert_eq!(c.cmd(&format!("RENAME {from} {to}")), "+OK\r\n");
            }
        }));
    }
    for _ in 0..2 {
        let (keys, r1, r2) = (keys.clone(), r1.clone(), r2.clone());
        threads.push(thread::spawn(move || {
            let mut c = Resp::connect(addr);
            let mget = format!("MGET {}", keys.join(" "));
            for _ in 0..150 {
                let exec = transaction(&mut c, &[mget.clone(), format!("EXISTS {r1} {r2}")]);
                let seen = numbers(&exec);
                // The 4 values, then EXISTS's count.
                assert_eq!(seen.len(), 5, "{seen:?}");
                assert!(seen[..4].iter().all(|&n| n == seen[0]), "{seen:?}");
                assert_eq!(seen[4], 1, "one name of the renamed key: {seen:?}");
            }
        }));
    }
    for thread in threads {
        thread.join().expect("a client thread");
    }
    // MSETNX across shards: all or none.
    let (a, b, c) = (&keys[0], &keys[1], &keys[2]);
    assert_eq!(setup.cmd(&format!("DEL {a} {b} {c}")), ":3\r\n");
    assert_eq!(setup.cmd(&format!("SET {c} here")), "+OK\r\n");
    assert_eq!(setup.cmd(&format!("MSETNX {a} 1 {b} 1 {c} 1")), ":0\r\n");
    assert_eq!(setup.cmd(&format!("EXISTS {a} {b}")), ":0\r\n");
    assert_eq!(setup.cmd(&format!("MSETNX {a} 1 {b} 1")), ":1\r\n");
    assert_eq!(setup.cmd(&format!("EXISTS {a} {b}")), ":2\r\n");
    // COPY across shards, with its expiry.
    assert_eq!(setup.cmd(&format!("DEL {}", keys[3])), ":1\r\n");
    assert_eq!(setup.cmd(&format!("SET {c} v EX 100")), "+OK\r\n");
    assert_eq!(setup.cmd(&format!("COPY {c} {}", keys[3])), ":1\r\n");
    assert_eq!(setup.cmd(&format!("GET {}", keys[3])), "$1\r\nv\r\n");
    assert_eq!(setup.cmd(&format!("COPY {c} {}", keys[3])), ":0\r\n");
    let ttl = numbers(&setup.call(&words(&format!("TTL {}", keys[3]))))[0];
    assert!((1..=100).contains(&ttl), "{ttl}");
    server.stop().assert_clean();
}

/// What transactions across shards wrote is on disk under `--fsync always`
/// once EXEC (or MSET, RENAME) answered: it survives a kill -9, and a
/// restart on another shard count.
#[test]
fn transactions_across_shards_survive_a_kill_under_fsync_always() {
    const WRITES: &[&str] = &[
        "MULTI",
        "SET dur-a 1",
        "SET dur-b 2",
        "RPUSH dur-list x y z",
        "INCRBY dur-c 7",
        "RENAME dur-a dur-renamed",
        "EXEC",
        "MSET dur-m1 1 dur-m2 2 dur-m3 3 dur-m4 4",
        "RENAME dur-m1 dur-m5",
        "COPY dur-list dur-list-copy",
    ];
    const READS: &[&str] = &[
        "MGET dur-a dur-b dur-c dur-renamed dur-m1 dur-m2 dur-m3 dur-m4 dur-m5",
        "LRANGE dur-list 0 -1",
        "LRANGE dur-list-copy 0 -1",
    ];
    crate::common::typed::survives_restart(WRITES, READS, true);
}
