//! resp's blocking commands under load (issue 27): many blockers and
//! pushers over 4 shards, with timeouts short enough that serving and
//! timing out race all the time, and every element received exactly once,
//! none lost, none twice.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::resp::{words, Resp};
use crate::common::*;
use percore_protocols::resp::protocol::{parse_reply, Value};

/// The elements of a blocking pop's reply (BLPOP's `[key, item]`,
/// BLMPOP's `[key, [items]]`, BLMOVE's item); none for a timeout.
fn items_of(reply: &[u8]) -> Vec<String> {
    let text = |v: &Value<'_>| match v {
        Value::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("not an item: {other:?}"),
    };
    match parse_reply(reply) {
        Ok(Some((Value::Array(None) | Value::Bulk(None), _))) => Vec::new(),
        Ok(Some((Value::Bulk(Some(item)), _))) => vec![String::from_utf8_lossy(item).into()],
        Ok(Some((Value::Array(Some(parts)), _))) => match parts.get(1) {
            Some(Value::Array(Some(items))) => items.iter().map(text).collect(),
            Some(item) => vec![text(item)],
            None => panic!("a short reply: {reply:?}"),
        },
        other => panic!("not a pop's reply: {other:?}"),
    }
}

/// `pushers` connections each push `each` distinct elements, `RPUSH` onto
/// `keys` in turn.
fn push_all(addr: SocketAddr, keys: &[String], pushers: usize, each: usize) {
    let threads: Vec<_> = (0..pushers)
        .map(|p| {
            let keys = keys.to_vec();
            std::thread::spawn(move || {
                let mut resp = Resp::connect(addr);
                for i in 0..each {
                    let key = &keys[(p * 7 + i * 3) % keys.len()];
                    let reply = resp.cmd(&format!("RPUSH {key} p{p}-{i}"));
                    assert!(reply.starts_with(':'), "{reply}");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a pusher");
    }
}

/// Runs `line(b)` on blocker `b`'s connection, again and again, until
/// `done` reaches `total`; what each blocker received.
fn blockers(
    addr: SocketAddr,
    n: usize,
    total: usize,
    done: &Arc<AtomicUsize>,
    line: impl Fn(usize) -> String,
) -> Vec<std::thread::JoinHandle<Vec<String>>> {
    (0..n)
        .map(|b| {
            let (line, done) = (line(b), done.clone());
            std::thread::spawn(move || {
                let mut resp = Resp::connect(addr);
                let mut got = Vec::new();
                while done.load(Ordering::SeqCst) < total {
                    let items = items_of(&resp.call(&words(&line)));
                    done.fetch_add(items.len(), Ordering::SeqCst);
                    got.extend(items);
                }
                got
            })
        })
        .collect()
}

/// Every element of `received` once, `total` of them.
fn assert_exactly_once(received: Vec<Vec<String>>, total: usize, who: &str) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for item in received.into_iter().flatten() {
        *seen.entry(item).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).collect();
    assert!(twice.is_empty(), "{who}: popped twice: {twice:?}");
    assert_eq!(seen.len(), total, "{who}: every element popped");
}

/// 16 blockers (BLPOP, BRPOP and BLMPOP COUNT 3 over 8 keys spread over 4
/// shards, each from its own first key, timeouts of 50 ms), 4 pushers of
/// 2,000 distinct elements.
#[test]
fn many_blockers_and_pushers_lose_and_duplicate_nothing() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    const PUSHERS: usize = 4;
    const EACH: usize = 500;
    const TOTAL: usize = PUSHERS * EACH;
    let keys: Vec<String> = (0..8).map(|k| format!("queue{k}")).collect();
    let popped = Arc::new(AtomicUsize::new(0));
    let lines = keys.clone();
    let handles = blockers(addr, 16, TOTAL, &popped, move |b| {
        let mut order = lines.clone();
        let first = b % order.len();
        order.rotate_left(first);
        let order = order.join(" ");
        match b % 3 {
            0 => format!("BLPOP {order} 0.05"),
            1 => format!("BRPOP {order} 0.05"),
            _ => format!("BLMPOP 0.05 {} {order} LEFT COUNT 3", lines.len()),
        }
    });
    push_all(addr, &keys, PUSHERS, EACH);
    let received = handles.into_iter().map(|h| h.join().expect("a blocker"));
    assert_exactly_once(received.collect(), TOTAL, "blockers");
    let mut resp = Resp::connect(addr);
    for key in &keys {
        assert_eq!(resp.cmd(&format!("LLEN {key}")), ":0\r\n");
    }
    drop(resp);
    server.stop().assert_clean();
}

/// A pipeline over shards: pushers fill 4 `in` keys, 8 movers BLMOVE from
/// them to 4 `out` keys (most of them on other shards), 8 consumers BLPOP
/// the `out` keys; timeouts of 20 ms. Every element reaches a consumer
/// once.
#[test]
fn blmove_pipelines_across_shards_lose_and_duplicate_nothing() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    const PUSHERS: usize = 4;
    const EACH: usize = 250;
    const TOTAL: usize = PUSHERS * EACH;
    let ins: Vec<String> = (0..4).map(|k| format!("in{k}")).collect();
    let outs: Vec<String> = (0..4).map(|k| format!("out{k}")).collect();
    let moved = Arc::new(AtomicUsize::new(0));
    let consumed = Arc::new(AtomicUsize::new(0));
    let (i, o) = (ins.clone(), outs.clone());
    let movers = blockers(addr, 8, TOTAL, &moved, move |b| {
        format!("BLMOVE {} {} LEFT RIGHT 0.02", i[b % 4], o[(b / 2) % 4])
    });
    let o = outs.clone();
    let consumers = blockers(addr, 8, TOTAL, &consumed, move |b| {
        format!("BLPOP {} {} 0.02", o[b % 4], o[(b + 1) % 4])
    });
    push_all(addr, &ins, PUSHERS, EACH);
    let moved: Vec<_> = movers
        .into_iter()
        .map(|h| h.join().expect("a mover"))
        .collect();
    assert_exactly_once(moved, TOTAL, "movers");
    let received = consumers.into_iter().map(|h| h.join().expect("a consumer"));
    assert_exactly_once(received.collect(), TOTAL, "consumers");
    let mut resp = Resp::connect(addr);
    for key in ins.iter().chain(&outs) {
        assert_eq!(resp.cmd(&format!("LLEN {key}")), ":0\r\n");
    }
    drop(resp);
    server.stop().assert_clean();
}
