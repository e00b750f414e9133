//! One big value must not stop a shard (docs/PROTOCOLS.md §6.1, last bullet; issue 21
//! item 5): a reply of any size the key space holds, built under the
//! default `--max-frame` by SETRANGE or APPEND, is sent whole while the
//! shard goes on serving its other connections, over resp (GET, MGET,
//! GETRANGE, KEYS) and kv (Get), on 1 and 4 shards; and SIGINT stops a
//! server in the middle of such a reply to a client that does not read.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::common::resp::{connect_on, shard_serving, Resp};
use crate::common::*;
use percore::codec::{body_len, HEADER_LEN};
use percore::cross_shard::owner_of;
use percore_protocols::kv::protocol::{decode_reply, push_request_frame};
use percore_protocols::kv::{Reply, Request};

const MIB: usize = 1 << 20;
/// What APPEND adds at a time: under the default `--max-frame` (1 MiB).
const CHUNK: usize = 512 * 1024;
/// How long another connection's PING may wait while a big reply is sent:
/// generous for a loaded machine, far below the hang it guards against.
const PING_WITHIN: Duration = Duration::from_secs(10);

/// `len` bytes of letters whose period (23) no chunk size divides, so a
/// piece sent twice or out of place shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 23) as u8).collect()
}

fn resp_server(shards: usize, extra: &[&str]) -> Server {
    let shards = shards.to_string();
    let mut args = vec!["--shards", shards.as_str()];
    args.extend_from_slice(extra);
    TestServer::builder()
        .services(&["resp", "kv"])
        .args(&args)
        .start()
}

/// Sets `key` to `value` with APPENDs of at most [`CHUNK`] bytes.
fn append_in_chunks(conn: &mut Resp, key: &str, value: &[u8]) {
    assert_eq!(conn.call(&[b"DEL", key.as_bytes()]).first(), Some(&b':'));
    let mut len = 0;
    for chunk in value.chunks(CHUNK) {
        len += chunk.len();
        let reply = conn.call(&[b"APPEND", key.as_bytes(), chunk]);
        assert_eq!(reply, format!(":{len}\r\n").as_bytes(), "APPEND to {key}");
    }
}

/// What `SETRANGE key (len - 1) x` makes: `len - 1` zero bytes, then `x`.
fn zeros_then_x(len: usize) -> Vec<u8> {
    let mut value = vec![0; len];
    value[len - 1] = b'x';
    value
}

/// Sends `GET key` on `big`, reads the reply's first bytes only, has
/// `other` PING meanwhile (answered within [`PING_WITHIN`]), then reads the
/// rest and checks it is `expected`, whole.
fn get_while_others_are_served(big: &mut Resp, other: &mut Resp, key: &str, expected: &[u8]) {
    big.send(&[b"GET", key.as_bytes()]);
    let header = format!("${}\r\n", expected.len());
    let mut got = vec![0; header.len()];
    big.stream.read_exact(&mut got).expect("the reply's header");
    assert_eq!(String::from_utf8_lossy(&got), header, "GET {key}");

    let asked = Instant::now();
    assert_eq!(other.cmd("PING"), "+PONG\r\n");
    let waited = asked.elapsed();
    assert!(
        waited < PING_WITHIN,
        "PING waited {waited:?} behind a {} byte reply",
        expected.len()
    );

    let mut body = vec![0; expected.len() + 2];
    big.stream
        .read_exact(&mut body)
        .expect("the rest of the reply");
    assert!(
        body.ends_with(b"\r\n"),
        "GET {key}: the reply ends its bulk"
    );
    body.truncate(expected.len());
    assert_same(&body, expected, key);
    // The connection goes on after the big reply.
    assert_eq!(big.cmd("PING"), "+PONG\r\n");
}

/// Compares two (large) byte strings without printing them whole.
fn assert_same(got: &[u8], expected: &[u8], what: &str) {
    if got != expected {
        let at = got.iter().zip(expected).position(|(a, b)| a != b);
        panic!(
            "{what}: {} bytes where {} expected, first difference at {at:?}",
            got.len(),
            expected.len()
        );
    }
}

#[test]
fn values_around_one_mib_and_of_4_mib_are_read_back_while_others_are_served() {
    for shards in [1, 4] {
        let server = resp_server(shards, &[]);
        let addr = server.addr("resp");
        let mut big = Resp::connect(addr);
        let mut other = connect_on(shards, addr, shard_serving(&mut big, shards));
        for (n, len) in [MIB - 1, MIB, MIB + 1].into_iter().enumerate() {
            // Keys over several shards: some are forwarded.
            let key = format!("range-{n}");
            let offset = (len - 1).to_string();
            let reply = big.call(&[b"SETRANGE", key.as_bytes(), offset.as_bytes(), b"x"]);
            assert_eq!(reply, format!(":{len}\r\n").as_bytes());
            let expected = zeros_then_x(len);
            get_while_others_are_served(&mut big, &mut other, &key, &expected);
        }
        for (n, len) in [MIB - 1, MIB + 1, 4 * MIB].into_iter().enumerate() {
            let key = format!("append-{n}");
            let expected = pattern(len);
            append_in_chunks(&mut big, &key, &expected);
            get_while_others_are_served(&mut big, &mut other, &key, &expected);
        }
        server.stop().assert_clean();
    }
}

#[test]
fn a_64_mib_value_is_read_back_while_others_are_served() {
    // Built by APPEND under the default --max-frame, on one shard.
    let server = resp_server(1, &[]);
    let addr = server.addr("resp");
    let mut big = Resp::connect(addr);
    let mut other = connect_on(1, addr, shard_serving(&mut big, 1));
    let expected = pattern(64 * MIB);
    append_in_chunks(&mut big, "big", &expected);
    get_while_others_are_served(&mut big, &mut other, "big", &expected);
    server.stop().assert_clean();

    // Set whole with --max-frame raised, on 4 shards: from every shard's
    // connections, so that the reply is both made here and forwarded.
    let server = resp_server(4, &["--max-frame", &(65 * MIB).to_string()]);
    let addr = server.addr("resp");
    let mut big = Resp::connect(addr);
    assert_eq!(big.call(&[b"SET", b"big", &expected]), b"+OK\r\n");
    for _ in 0..2 {
        let mut big = Resp::connect(addr);
        let mut other = connect_on(4, addr, shard_serving(&mut big, 4));
        get_while_others_are_served(&mut big, &mut other, "big", &expected);
    }
    server.stop().assert_clean();
}

#[test]
fn mget_getrange_and_keys_send_replies_past_the_output_budget() {
    for shards in [1, 4] {
        let server = resp_server(shards, &[]);
        let addr = server.addr("resp");
        let mut conn = Resp::connect(addr);
        // Three 2 MiB values, on distinct shards where there are several.
        let keys: Vec<String> = (0..)
            .map(|i| format!("mget-{i}"))
            .scan(Vec::new(), |owners: &mut Vec<usize>, key| {
                let owner = owner_of(key.as_bytes(), shards);
                let fresh = shards == 1 || !owners.contains(&owner);
                owners.push(owner);
                Some(fresh.then_some(key))
            })
            .flatten()
            .take(3)
            .collect();
        let values: Vec<Vec<u8>> = (0..3).map(|i| pattern(2 * MIB + i)).collect();
        for (key, value) in keys.iter().zip(&values) {
            append_in_chunks(&mut conn, key, value);
        }
        let mut mget: Vec<&[u8]> = vec![b"MGET"];
        mget.extend(keys.iter().map(|key| key.as_bytes()));
        let mut expected = b"*3\r\n".to_vec();
        for value in &values {
            expected.extend_from_slice(format!("${}\r\n", value.len()).as_bytes());
            expected.extend_from_slice(value);
            expected.extend_from_slice(b"\r\n");
        }
        assert_same(&conn.call(&mget), &expected, "MGET");
        // Two big replies in one read: both come, in order.
        conn.send(&mget);
        conn.send(&[b"GETRANGE", keys[1].as_bytes(), b"0", b"-1"]);
        assert_same(&conn.reply(), &expected, "pipelined MGET");
        let mut range = format!("${}\r\n", values[1].len()).into_bytes();
        range.extend_from_slice(&values[1]);
        range.extend_from_slice(b"\r\n");
        assert_same(&conn.reply(), &range, "GETRANGE");

        // KEYS of more than a budget's worth of names.
        let name = |i: usize| format!("{i:0>60}");
        for first in (0..20_000).step_by(1000) {
            let names: Vec<String> = (first..first + 1000).map(name).collect();
            let mut mset: Vec<&[u8]> = vec![b"MSET"];
            for key in &names {
                mset.extend([key.as_bytes(), b"v"]);
            }
            assert_eq!(conn.call(&mset), b"+OK\r\n");
        }
        let keys_reply = conn.call(&[b"KEYS", b"0*"]);
        assert!(keys_reply.len() > MIB, "KEYS: {} bytes", keys_reply.len());
        assert!(
            keys_reply.starts_with(b"*20000\r\n"),
            "KEYS counts every name"
        );
        assert_eq!(conn.cmd("PING"), "+PONG\r\n");
        server.stop().assert_clean();
    }
}

#[test]
fn kv_gets_values_above_max_frame_and_forwards_big_puts() {
    for shards in [1, 4] {
        let server = resp_server(shards, &[]);
        let mut resp = Resp::connect(server.addr("resp"));
        let kv = || kv_client(server.addr("kv"));
        let (mut big, mut other) = (kv(), kv());
        // A key on every shard: a connection's own and forwarded ones.
        for n in 0..shards {
            let key = (0..)
                .map(|i| format!("kv-{n}-{i}"))
                .find(|key| owner_of(key.as_bytes(), shards) == n)
                .expect("a key for every shard");
            let value = pattern(3 * MIB + n);
            append_in_chunks(&mut resp, &key, &value);

            // The Get's reply begins; the other connection is served
            // before the rest is read (on one shard, the same shard).
            let mut request = Vec::new();
            push_request_frame(&mut request, &Request::Get { key: &key });
            big.stream().write_all(&request).expect("send a Get");
            let mut first = [0; 64];
            big.stream()
                .read_exact(&mut first)
                .expect("the reply's start");
            let asked = Instant::now();
            assert_eq!(other.get("absent").expect("Get"), Reply::Nil);
            assert!(
                asked.elapsed() < PING_WITHIN,
                "Get waited {:?}",
                asked.elapsed()
            );
            let mut rest = first.to_vec();
            let total = HEADER_LEN + body_len(first[..HEADER_LEN].try_into().expect("a header"));
            rest.resize(total, 0);
            big.stream()
                .read_exact(&mut rest[64..])
                .expect("the rest of the reply");
            match decode_reply(&rest[HEADER_LEN..]).expect("a kv reply") {
                Reply::Str(text) => assert_same(text.as_bytes(), &value, &key),
                reply => panic!("Get {key}: {reply:?}"),
            }

            // A Put as big as --max-frame lets a request be, forwarded
            // to the key's owner from most connections.
            let put = String::from_utf8(pattern(MIB - 64)).expect("letters");
            let reply = big.put(&key, &put).expect("kv Put near --max-frame");
            assert!(!matches!(reply, Reply::Error(_)), "Put {key}: {reply:?}");
            assert_eq!(other.get(&key).expect("Get"), Reply::Str(put));
        }
        server.stop().assert_clean();
    }
}

#[test]
fn sigint_stops_a_server_sending_64_mib_to_a_client_that_does_not_read() {
    let server = resp_server(1, &[]);
    let mut conn = Resp::connect(server.addr("resp"));
    assert_eq!(conn.cmd("SETRANGE big 67108863 x"), ":67108864\r\n");
    conn.send(&[b"GET", b"big"]);
    // The reply has begun; from now on nothing more is read.
    let mut header = [0; 11];
    conn.stream
        .read_exact(&mut header)
        .expect("the reply's header");
    assert_eq!(&header, b"$67108864\r\n");
    conn.stream.flush().expect("flush");

    let mut server = server;
    server.signal(libc::SIGINT);
    let stopped = server.wait();
    stopped.assert_clean();
    assert!(
        stopped.elapsed < Duration::from_secs(5),
        "stopped in {:?}",
        stopped.elapsed
    );
    drop(conn);
}
