//! DUMP and RESTORE (README "DUMP and RESTORE") against redis-server 7.0:
//! every type moves from redis to percore and back through the payloads,
//! in the encodings redis picks for small and large values; RESTORE's
//! options and errors answer as redis's do, byte for byte; a restored key
//! survives a restart.

use crate::common::resp::{redis, words, Resp};
use crate::common::*;

/// Writes that give every encoding redis 7.0 dumps: strings kept as
/// integers and LZF-compressed, lists as quicklists, sets as intsets and
/// hash tables, hashes and sorted sets as listpacks and hash tables.
fn fill(redis: &mut Resp) -> Vec<(&'static str, &'static str)> {
    let long = "ab".repeat(100);
    for line in [
        "SET str hello",
        "SET int 12345",
        "SET neg -70000",
        &format!("SET long {long}"),
        "RPUSH list a 1 -300 70000 bb",
        "SADD ints 1 2 -3 100000",
        "SADD strs x y z",
        "HSET hash f v n 7",
        "ZADD zset 1.5 a 2 b -inf c 1e100 d",
    ] {
        assert!(!redis.cmd(line).starts_with('-'), "{line}");
    }
    for i in 0..300 {
        redis.cmd(&format!("RPUSH biglist item-{i}-{long}"));
        redis.cmd(&format!("SADD bigset m{i}"));
        redis.cmd(&format!("SADD bigints {}", i * 1_000_003));
        redis.cmd(&format!("HSET bighash f{i} v{i}"));
        redis.cmd(&format!("ZADD bigzset {} m{i}", i as f64 / 7.0));
    }
    vec![
        ("str", "GET"),
        ("int", "GET"),
        ("neg", "GET"),
        ("long", "GET"),
        ("list", "LRANGE"),
        ("biglist", "LRANGE"),
        ("ints", "SMEMBERS"),
        ("strs", "SMEMBERS"),
        ("bigset", "SMEMBERS"),
        ("bigints", "SMEMBERS"),
        ("hash", "HGETALL"),
        ("bighash", "HGETALL"),
        ("zset", "ZRANGE"),
        ("bigzset", "ZRANGE"),
    ]
}

/// The bytes of a bulk-string reply.
fn bulk(reply: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(reply);
    assert!(reply.starts_with(b"$"), "a bulk string: {text}");
    let end = reply.iter().position(|&b| b == b'\r').expect("a header");
    let len: usize = text[1..end].parse().expect("a length");
    reply[end + 2..end + 2 + len].to_vec()
}

/// The key's contents, read with `how`, in an order that does not depend
/// on the server (sets and hashes sorted).
fn contents(resp: &mut Resp, key: &str, how: &str) -> Vec<u8> {
    let reply = match how {
        "LRANGE" => resp.call(&[b"LRANGE", key.as_bytes(), b"0", b"-1"]),
        "ZRANGE" => resp.call(&[b"ZRANGE", key.as_bytes(), b"0", b"-1", b"WITHSCORES"]),
        how => resp.call(&[how.as_bytes(), key.as_bytes()]),
    };
    if how == "SMEMBERS" || how == "HGETALL" {
        let mut lines: Vec<&[u8]> = reply.split(|&b| b == b'\n').collect();
        let step = if how == "HGETALL" { 4 } else { 2 };
        let mut items: Vec<Vec<u8>> = lines
            .split_off(1)
            .chunks(step)
            .map(|chunk| chunk.concat())
            .collect();
        items.sort();
        return [lines.concat(), items.concat()].concat();
    }
    reply
}

#[test]
fn every_type_moves_from_redis_to_percore_and_back() {
    let server = TestServer::builder().services(&["resp"]).shards(3).start();
    let redis = redis();
    let mut ours = Resp::connect(server.addr("resp"));
    let mut theirs = Resp::connect(redis.addr);
    for (key, how) in fill(&mut theirs) {
        let payload = bulk(&theirs.call(&[b"DUMP", key.as_bytes()]));
        let restored = ours.call(&[b"RESTORE", key.as_bytes(), b"0", &payload]);
        assert_eq!(restored, b"+OK\r\n", "RESTORE of redis's {key}");
        let expected = contents(&mut theirs, key, how);
        assert_eq!(contents(&mut ours, key, how), expected, "{key} in percore");
        // And back: percore's payload into redis, under another name.
        let back = format!("{key}-back");
        let payload = bulk(&ours.call(&[b"DUMP", key.as_bytes()]));
        let restored = theirs.call(&[b"RESTORE", back.as_bytes(), b"0", &payload]);
        assert_eq!(restored, b"+OK\r\n", "RESTORE of percore's {key} in redis");
        assert_eq!(
            contents(&mut theirs, &back, how),
            expected,
            "{key} back in redis"
        );
    }
}

#[test]
fn restore_options_and_errors_equal_redis() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let redis = redis();
    let mut ours = Resp::connect(server.addr("resp"));
    let mut theirs = Resp::connect(redis.addr);
    theirs.cmd("RPUSH source a b c");
    let good = bulk(&theirs.call(&[b"DUMP", b"source"]));
    let mut corrupt = good.clone();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0x55;
    let cases: &[(&str, &[u8])] = &[
        ("DUMP nokey", b""),
        ("RESTORE k 0 _", &good),
        ("RESTORE k 0 _", &good),
        ("RESTORE k 0 _ REPLACE", &good),
        ("RESTORE k -1 _ REPLACE", &good),
        ("RESTORE k x _ REPLACE", &good),
        ("RESTORE k 0 _ REPLACE", &corrupt),
        ("RESTORE k 0 _ REPLACE", b"short"),
        ("RESTORE k 0 _ REPLACE IDLETIME -1", &good),
        ("RESTORE k 0 _ REPLACE IDLETIME x", &good),
        ("RESTORE k 0 _ REPLACE FREQ 256", &good),
        ("RESTORE k 0 _ REPLACE IDLETIME 10 FREQ 5", &good),
        ("RESTORE k 0 _ REPLACE FREQ 5 IDLETIME 10", &good),
        ("RESTORE k 0 _ REPLACE IDLETIME 1000", &good),
        ("RESTORE k 0 _ REPLACE FREQ 100", &good),
        ("RESTORE k 0 _ REPLACE BOGUS", &good),
        ("RESTORE k 0 _ REPLACE IDLETIME", &good),
        ("LRANGE k 0 -1", b""),
        ("RESTORE k 1 _ REPLACE ABSTTL", &good),
        ("EXISTS k", b""),
        ("RESTORE k 1 _ ABSTTL", &good),
        ("EXISTS k", b""),
        ("RESTORE k 0 _ ABSTTL", &good),
        ("TTL k", b""),
        ("RESTORE k 4102444800000 _ REPLACE ABSTTL", &good),
        ("PEXPIRETIME k", b""),
        ("SET s v", b""),
        ("RESTORE s 0 _", &good),
        ("RESTORE", b""),
        ("RESTORE k 0", b""),
    ];
    for (line, payload) in cases {
        let args: Vec<&[u8]> = words(line)
            .into_iter()
            .map(|word| if word == b"_" { *payload } else { word })
            .collect();
        let (a, b) = (ours.call(&args), theirs.call(&args));
        assert_eq!(
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b),
            "{line}"
        );
    }
    // A relative TTL: the key expires that far from now.
    assert_eq!(ours.call(&[b"RESTORE", b"t", b"100000", &good]), b"+OK\r\n");
    let pttl = String::from_utf8(ours.call(&[b"PTTL", b"t"])).expect("text");
    let pttl: i64 = pttl
        .trim_start_matches(':')
        .trim_end()
        .parse()
        .expect("a TTL");
    assert!((90_000..=100_000).contains(&pttl), "PTTL {pttl}");
}

#[test]
fn restored_keys_survive_a_restart() {
    let dir = TempDir::new();
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(3)
        .data_dir(&dir.path)
        .start();
    let mut resp = Resp::connect(server.addr("resp"));
    let mut expected = Vec::new();
    for line in [
        "RPUSH l a b c",
        "SADD s x y",
        "HSET h f v",
        "ZADD z 1 m 2 n",
        "SET v text",
    ] {
        resp.cmd(line);
        let key = line.split(' ').nth(1).expect("a key");
        let payload = bulk(&resp.call(&[b"DUMP", key.as_bytes()]));
        let copy = format!("{key}-copy");
        let ttl: &[u8] = if key == "v" { b"1000000" } else { b"0" };
        assert_eq!(
            resp.call(&[b"RESTORE", copy.as_bytes(), ttl, &payload]),
            b"+OK\r\n"
        );
        expected.push((copy, payload));
    }
    drop(resp);
    server.stop().assert_clean();
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(2)
        .data_dir(&dir.path)
        .start();
    let mut resp = Resp::connect(server.addr("resp"));
    for (copy, payload) in expected {
        let dumped = bulk(&resp.call(&[b"DUMP", copy.as_bytes()]));
        assert_eq!(dumped, payload, "{copy} after the restart");
    }
    let ttl = resp.cmd("TTL v-copy");
    let ttl: i64 = ttl
        .trim_start_matches(':')
        .trim_end()
        .parse()
        .expect("a TTL");
    assert!((990..=1000).contains(&ttl), "TTL {ttl} after the restart");
    drop(resp);
    server.stop().assert_clean();
}
