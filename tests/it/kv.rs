//! kv, docs/PROTOCOLS.md §3.5, on 4 shards: the original Python client unchanged, keys from
//! many connections readable from any, pipelines that cross shards answered
//! in order, every kind of bad request answered with an error map.

use std::io::Write;
use std::sync::mpsc;
use std::thread;

use crate::common::*;
use percore_protocols::kv::{Reply, Request};

fn s(text: &str) -> Reply {
    Reply::Str(text.into())
}

fn keys(list: &[&str]) -> Reply {
    Reply::Keys(list.iter().map(|k| k.to_string()).collect())
}

#[test]
fn the_seed_python_client_runs_its_session_unchanged() {
    let server = TestServer::builder().services(&["kv"]).start();
    let addr = server.addr("kv");
    let args = [addr.ip().to_string(), addr.port().to_string()];
    assert_eq!(
        run_python_client("msgspec_kv_client.py", &args),
        SEED_KV_SESSION
    );
    server.stop().assert_clean();
}

#[test]
fn keys_from_sixteen_connections_are_readable_from_any() {
    let server = TestServer::builder().services(&["kv"]).start();
    let addr = server.addr("kv");
    let (done_tx, done_rx) = mpsc::channel();
    for conn in 0..16 {
        let done = done_tx.clone();
        thread::spawn(move || {
            let mut kv = kv_client(addr);
            // 125 keys each, 25 per pipelined write.
            for chunk in 0..5 {
                let names: Vec<(String, String)> = (0..25)
                    .map(|i| {
                        let n = conn * 125 + chunk * 25 + i;
                        (format!("key:{n:05}"), format!("value of {n}"))
                    })
                    .collect();
                let puts: Vec<Request> = names
                    .iter()
                    .map(|(key, val)| Request::Put { key, val })
                    .collect();
                let replies = kv.pipeline(&puts).expect("puts");
                assert!(replies.iter().all(|r| *r == Reply::Nil), "{replies:?}");
            }
            done.send(()).unwrap();
        });
    }
    for _ in 0..16 {
        done_rx.recv_timeout(DEADLINE).expect("a writer finished");
    }

    let mut all: Vec<String> = (0..2000).map(|n| format!("key:{n:05}")).collect();
    for reader in 0..4 {
        let mut kv = kv_client(addr);
        let gets: Vec<Request> = all.iter().map(|key| Request::Get { key }).collect();
        let replies = kv.pipeline(&gets).expect("gets");
        for (n, reply) in replies.iter().enumerate() {
            assert_eq!(*reply, s(&format!("value of {n}")), "reader {reader}");
        }
    }
    all.sort();
    let listed = kv_client(addr).list_keys().expect("list");
    assert_eq!(listed, Reply::Keys(all));

    let stopped = server.stop();
    let kv = &stopped.json["services"]["kv"];
    // 2000 puts, 4 × 2000 gets, 1 ListKeys.
    assert_eq!(kv["messages"], 10_001);
    assert_eq!(kv["errors"], 0);
    let forwarded = kv["forwarded"].as_u64().expect("forwarded count");
    assert!(forwarded > 0 && forwarded <= 10_001, "{forwarded}");
}

#[test]
fn pipelines_across_shards_keep_request_order() {
    let server = TestServer::builder().services(&["kv"]).start();
    let mut kv = kv_client(server.addr("kv"));
    let keys_by_shard: Vec<String> = (0..8)
        .map(|n| key_on(4, n % 4, &format!("k{n}-")))
        .collect();
    let vals: Vec<(String, String)> = (0..8)
        .map(|n| (format!("old{n}"), format!("new{n}")))
        .collect();
    // One pipeline over keys of every shard: Put, Get, ListKeys, Put, Get,
    // Del, Get; each reply must reflect the requests before it.
    let (mut pipeline, mut expected) = (Vec::new(), Vec::new());
    for (key, (old, _)) in keys_by_shard.iter().zip(&vals) {
        pipeline.push(Request::Put { key, val: old });
        pipeline.push(Request::Get { key });
        expected.push(Reply::Nil);
        expected.push(s(old));
    }
    pipeline.push(Request::ListKeys);
    let mut sorted = keys_by_shard.clone();
    sorted.sort();
    expected.push(Reply::Keys(sorted));
    for (key, (_, new)) in keys_by_shard.iter().zip(&vals) {
        pipeline.push(Request::Put { key, val: new });
        pipeline.push(Request::Get { key });
        pipeline.push(Request::Del { key });
        pipeline.push(Request::Get { key });
        expected.extend([Reply::Nil, s(new), Reply::Nil, Reply::Nil]);
    }
    pipeline.push(Request::Get { key: "never put" });
    pipeline.push(Request::ListKeys);
    expected.extend([Reply::Nil, keys(&[])]);
    assert_eq!(kv.pipeline(&pipeline).expect("pipeline"), expected);
    let stopped = server.stop();
    assert!(stopped.json["services"]["kv"]["forwarded"].as_u64() > Some(0));
}

/// Keys and values of any text (multi-byte UTF-8, empty, control
/// characters, a value of 200,000 bytes) come back intact from whichever
/// shard owns them, pipelined as one write: a request that hops travels
/// in the owner's form (crates/protocols/src/kv/forwarded.rs), not as its
/// MessagePack, and the owner must give back exactly what was put.
#[test]
fn any_text_crosses_shards_intact() {
    let shards = 4;
    let server = TestServer::builder()
        .services(&["kv"])
        .shards(shards)
        .start();
    let mut kv = kv_client(server.addr("kv"));
    let big = "ü".repeat(100_000);
    let mut pairs: Vec<(String, String)> = vec![
        (String::new(), "the empty key".into()),
        ("🔑".into(), String::new()),
        ("k\0e\ty".into(), "v\u{7f}al\n".into()),
        ("big".into(), big),
    ];
    // A key of each shard, in three scripts.
    for shard in 0..shards {
        for prefix in ["ключ-", "键-", "κλειδί-"] {
            let key = key_on(shards, shard, prefix);
            let val = format!("значение of {key} ✓");
            pairs.push((key, val));
        }
    }
    let puts: Vec<Request<'_>> = pairs
        .iter()
        .map(|(key, val)| Request::Put { key, val })
        .collect();
    let gets: Vec<Request<'_>> = pairs.iter().map(|(key, _)| Request::Get { key }).collect();
    let replies = kv.pipeline(&[puts, gets].concat()).expect("replies");
    let want: Vec<Reply> = pairs
        .iter()
        .map(|_| Reply::Nil)
        .chain(pairs.iter().map(|(_, val)| s(val)))
        .collect();
    assert_eq!(replies, want);

    let mut names: Vec<&str> = pairs.iter().map(|(key, _)| key.as_str()).collect();
    names.sort_unstable();
    assert_eq!(kv.list_keys().expect("ListKeys"), keys(&names));

    let dels: Vec<Request<'_>> = pairs.iter().map(|(key, _)| Request::Del { key }).collect();
    let gets: Vec<Request<'_>> = pairs.iter().map(|(key, _)| Request::Get { key }).collect();
    let replies = kv.pipeline(&[dels, gets].concat()).expect("replies");
    assert!(
        replies.iter().all(|reply| *reply == Reply::Nil),
        "{replies:?}"
    );
    assert_eq!(kv.list_keys().expect("ListKeys"), keys(&[]));
    server.stop().assert_clean();
}

/// One shard serves a read's requests in windows whose entries it
/// prefetches before serving any (`kv/mod.rs`, `Ahead`): a pipeline of
/// 150 requests in one write, longer than a window, each Get just after
/// the Put or Del of its key, bad frames among them, and the last frame
/// split over two writes, is answered in order, each reply reflecting the
/// requests before it. The store holds enough keys first that the windows'
/// entries are prefetched (a small store is not).
#[test]
fn one_shard_answers_a_long_pipeline_in_order() {
    answers_a_long_pipeline_in_order(1);
}

/// The same on two shards: half the keys' requests are served by the
/// other shard, a window at a time (`serve_forwarded`), and the replies
/// still come in request order.
#[test]
fn two_shards_answer_a_long_pipeline_in_order() {
    answers_a_long_pipeline_in_order(2);
}

fn answers_a_long_pipeline_in_order(shards: usize) {
    let server = TestServer::builder()
        .services(&["kv"])
        .shards(shards)
        .start();
    let mut kv = kv_client(server.addr("kv"));
    // More keys than the key space's prefetch threshold (4,096), on
    // every shard.
    let mut fill = Vec::new();
    let filler = 5000 * shards;
    for n in 0..filler {
        let key = format!("filler{n}");
        percore_protocols::kv::protocol::push_request_frame(
            &mut fill,
            &Request::Put {
                key: &key,
                val: "x",
            },
        );
    }
    kv.stream().write_all(&fill).unwrap();
    for n in 0..filler {
        assert_eq!(
            kv.read_reply().expect("a filler's reply"),
            Reply::Nil,
            "filler {n}"
        );
    }
    let (mut wire, mut expected) = (Vec::new(), Vec::new());
    let mut model = std::collections::HashMap::new();
    for n in 0..45 {
        let (key, val) = (format!("key{}", n % 7), format!("val{n}"));
        model.insert(key.clone(), val.clone());
        percore_protocols::kv::protocol::push_request_frame(
            &mut wire,
            &Request::Put {
                key: &key,
                val: &val,
            },
        );
        percore_protocols::kv::protocol::push_request_frame(&mut wire, &Request::Get { key: &key });
        expected.extend([Reply::Nil, s(&val)]);
        if n % 5 == 0 {
            wire.extend(frame(b"\xc1"));
            expected.push(Reply::Error(String::new()));
            percore_protocols::kv::protocol::push_request_frame(
                &mut wire,
                &Request::Del { key: &key },
            );
            percore_protocols::kv::protocol::push_request_frame(
                &mut wire,
                &Request::Get { key: &key },
            );
            expected.extend([Reply::Nil, Reply::Nil]);
            model.remove(&key);
        }
    }
    let last = wire.len();
    percore_protocols::kv::protocol::push_request_frame(&mut wire, &Request::Get { key: "key6" });
    expected.push(model.get("key6").map_or(Reply::Nil, |val| s(val)));
    assert!(expected.len() >= 100, "{} requests", expected.len());
    kv.stream().write_all(&wire[..last + 3]).unwrap();
    // Everything but the split frame is answered; then its rest is sent.
    for (n, want) in expected.iter().take(expected.len() - 1).enumerate() {
        let got = kv.read_reply().expect("a reply");
        match (want, &got) {
            (Reply::Error(_), Reply::Error(reason)) => assert!(!reason.is_empty(), "reply {n}"),
            _ => assert_eq!(&got, want, "reply {n}"),
        }
    }
    kv.stream().write_all(&wire[last + 3..]).unwrap();
    assert_eq!(
        kv.read_reply().expect("the last reply"),
        *expected.last().unwrap()
    );
}

/// Frames a raw payload as the wire does.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

#[test]
fn each_bad_request_gets_an_error_and_the_connection_stays_usable() {
    let server = TestServer::builder().services(&["kv"]).start();
    let mut kv = kv_client(server.addr("kv"));
    let bad: [(&str, &[u8]); 10] = [
        ("garbage", b"\xc1\xc1garbage"),
        ("msgpack int", b"\x2a"),
        ("map without type", b"\x81\xa3key\xa3foo"),
        ("unknown type", b"\x82\xa4type\xa3Pop\xa3key\xa3foo"),
        ("Get with int key", b"\x82\xa4type\xa3Get\xa3key\x07"),
        ("Put missing val", b"\x82\xa4type\xa3Put\xa3key\xa3foo"),
        ("bin key", b"\x82\xa4type\xa3Get\xa3key\xc4\x03foo"),
        ("invalid UTF-8", b"\x82\xa4type\xa3Get\xa3key\xa2\xc3\x28"),
        ("bytes after the map", b"\x81\xa4type\xa8ListKeys\xc0"),
        ("empty frame", b""),
    ];
    for (what, payload) in bad {
        kv.stream().write_all(&frame(payload)).unwrap();
        match kv.read_reply() {
            Ok(Reply::Error(reason)) => assert!(!reason.is_empty(), "{what}"),
            other => panic!("{what}: {other:?}"),
        }
        assert_eq!(kv.put("after", what).unwrap(), Reply::Nil, "{what}");
        assert_eq!(kv.get("after").unwrap(), s(what), "{what}");
    }
    let stopped = server.stop();
    assert_eq!(stopped.json["services"]["kv"]["errors"], 10);
    assert_eq!(stopped.json["services"]["kv"]["messages"], 20);
}

#[test]
fn an_oversized_frame_gets_an_error_then_the_connection_closes() {
    let server = TestServer::builder()
        .services(&["kv"])
        .args(&["--max-frame", "1024"])
        .start();
    let mut kv = kv_client(server.addr("kv"));
    assert_eq!(kv.put("small", &"x".repeat(900)).unwrap(), Reply::Nil);
    // Only the header of the huge frame is sent: it is refused on sight.
    kv.stream().write_all(&1025u32.to_be_bytes()).unwrap();
    match kv.read_reply() {
        Ok(Reply::Error(reason)) => assert!(reason.contains("max-frame"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(is_closed_by_server(kv.stream()));
    let mut other = kv_client(server.addr("kv"));
    assert_eq!(other.get("small").unwrap(), s(&"x".repeat(900)));
    let stopped = server.stop();
    assert_eq!(stopped.json["services"]["kv"]["errors"], 1);
}

#[test]
fn percore_kv_prints_replies_like_redis_cli() {
    let server = TestServer::builder().services(&["kv"]).start();
    let addr = server.addr("kv").to_string();
    let kv = |args: &[&str]| {
        let mut argv = vec!["kv", "--addr", &addr];
        argv.extend_from_slice(args);
        let (output, _) = run_percore(&argv);
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    assert_eq!(kv(&["put", "foo", "bar"]), (Some(0), "OK\n".into()));
    assert_eq!(kv(&["put", "fizz", "buzz"]), (Some(0), "OK\n".into()));
    assert_eq!(kv(&["get", "foo"]), (Some(0), "\"bar\"\n".into()));
    assert_eq!(kv(&["get", "nope"]), (Some(0), "(nil)\n".into()));
    assert_eq!(kv(&["list"]), (Some(0), "1) \"fizz\"\n2) \"foo\"\n".into()));
    assert_eq!(kv(&["del", "fizz"]), (Some(0), "OK\n".into()));
    assert_eq!(kv(&["list"]), (Some(0), "1) \"foo\"\n".into()));
    drop(server);
    let unreachable = format!("127.0.0.1:{}", free_port());
    let (output, _) = run_percore(&["kv", "--addr", &unreachable, "get", "foo"]);
    assert_eq!(output.status.code(), Some(2));
}
