//! What the statistics say about the key space, against the real binary:
//! every refusal a client sees is counted in its service's `errors`,
//! whichever shard decided it (docs/PROTOCOLS.md §5, §7.3), and the key gauges say what
//! each shard holds after every write it applied, forwarded or not (docs/PROTOCOLS.md §8).

use crate::common::http::scrape_sum;
use crate::common::resp::Resp;
use crate::common::*;
use percore_protocols::kv::Reply;

/// Writes 1 kB values over one connection until 30 in a row were refused,
/// then 2 more; returns how many replies were refusals.
fn fill_until_refused(mut put: impl FnMut(u32) -> bool) -> u64 {
    let (mut refused, mut in_a_row) = (0, 0);
    let mut i = 0;
    while in_a_row < 30 {
        assert!(i < 100_000, "the cap was never reached");
        if put(i) {
            in_a_row = 0;
        } else {
            refused += 1;
            in_a_row += 1;
        }
        i += 1;
    }
    for _ in 0..2 {
        assert!(!put(i), "a write past the cap was taken");
        refused += 1;
        i += 1;
    }
    refused
}

#[test]
fn every_out_of_memory_reply_is_counted_whichever_shard_refused_it() {
    let server = TestServer::builder()
        .services(&["kv", "resp"])
        .shards(2)
        .args(&["--max-memory", "1000000"])
        .start();
    let value = "v".repeat(1000);
    let mut kv = kv_client(server.addr("kv"));
    let kv_refused = fill_until_refused(|i| match kv.put(&format!("kv-{i}"), &value).unwrap() {
        Reply::Nil => true,
        Reply::Error(reason) => {
            assert_eq!(reason, "out of memory");
            false
        }
        other => panic!("{other:?}"),
    });
    // The cap is reached: resp's writes are refused from the start, on
    // both shards.
    let mut resp = Resp::connect(server.addr("resp"));
    let resp_refused = fill_until_refused(|i| {
        let reply = resp.call(&[b"SET", format!("resp-{i}").as_bytes(), value.as_bytes()]);
        match reply.as_slice() {
            b"+OK\r\n" => true,
            _ => {
                assert!(reply.starts_with(b"-OOM "), "{reply:?}");
                false
            }
        }
    });
    drop(kv);
    drop(resp);
    let stopped = server.stop();
    stopped.assert_clean();
    let errors = |service: &str| stopped.json["services"][service]["errors"].as_u64();
    assert_eq!(errors("kv"), Some(kv_refused), "kv's errors");
    assert_eq!(errors("resp"), Some(resp_refused), "resp's errors");
}

#[test]
fn key_gauges_count_forwarded_writes_in_the_next_scrape() {
    let server = TestServer::builder()
        .services(&["kv"])
        .shards(2)
        .args(&["--metrics", "127.0.0.1:0"])
        .start();
    let metrics = server.metrics_addr();
    let mut kv = kv_client(server.addr("kv"));
    for i in 0..123 {
        assert_eq!(kv.put(&format!("k{i}"), "v").unwrap(), Reply::Nil);
    }
    for i in 0..20 {
        assert_eq!(kv.delete(&format!("k{i}")).unwrap(), Reply::Nil);
    }
    // Every write was answered: the owners applied them, and the first
    // scrape says so.
    assert_eq!(scrape_sum(metrics, "percore_keys", None), 103.0);
    let memory = scrape_sum(metrics, "percore_memory_bytes", None);
    assert!(memory > 0.0, "{memory}");
    drop(kv);
    server.stop().assert_clean();
}

/// A refused MSET on one shard sets none of its keys (Redis refuses a whole
/// command for OOM; the crash campaign saw the first pairs of a refused
/// MSET set), and a fitting one sets them all.
#[test]
fn an_mset_refused_for_memory_sets_none_of_its_keys() {
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(1)
        .args(&["--max-memory", "20000"])
        .start();
    let mut resp = Resp::connect(server.addr("resp"));
    let value = vec![b'v'; 3000];
    // Room for a few 3 kB values, not for six more.
    let mut stored = 0;
    while resp.call(&[b"SET", format!("fill-{stored}").as_bytes(), &value]) == b"+OK\r\n" {
        stored += 1;
        assert!(stored < 100, "the cap was never reached");
    }
    for i in 0..2 {
        assert_eq!(
            resp.call(&[b"DEL", format!("fill-{i}").as_bytes()]),
            b":1\r\n"
        );
    }
    let names: Vec<String> = (0..6).map(|i| format!("m{i}")).collect();
    let mut mset: Vec<&[u8]> = vec![b"MSET"];
    for name in &names {
        mset.push(name.as_bytes());
        mset.push(&value);
    }
    let reply = resp.call(&mset);
    assert!(reply.starts_with(b"-OOM "), "{reply:?}");
    for name in &names {
        assert_eq!(
            resp.call(&[b"EXISTS", name.as_bytes()]),
            b":0\r\n",
            "{name} was set"
        );
    }
    // Two pairs fit where two values were deleted: both are set.
    let reply = resp.call(&[b"MSET", b"m0", &value[..100], b"m1", &value[..100]]);
    assert_eq!(reply, b"+OK\r\n");
    assert_eq!(resp.call(&[b"EXISTS", b"m0", b"m1"]), b":2\r\n");
    drop(resp);
    server.stop().assert_clean();
}
