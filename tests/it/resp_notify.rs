//! Keyspace notifications (issue 26, part B) on 4 shards, so that keys,
//! channels and subscribers span shards: the events of the string and key
//! commands, and of the one-key commands of hashes, sets, sorted sets and
//! lists, equal redis-server 7.0's for a recorded sequence, flags mask
//! them as in Redis, expired keys are announced by the active expiry,
//! PUBSUB counts a notification channel once, mq subscribers get them too,
//! and redis-py sees the same as against redis-server.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;

use crate::common::resp::{redis, Resp};
use crate::common::*;

/// The commands of the recorded sequence, each with its keys on whatever
/// shard they hash to.
const SEQUENCE: &[&str] = &[
    "SET foo bar",
    "SET foo bar",
    "SET bar 1 EX 100",
    "SET foo x NX",
    "SET nothere x XX",
    "SET foo y XX GET",
    "INCR counter",
    "INCRBY counter 5",
    "DECR counter",
    "INCRBYFLOAT float 1.5",
    "APPEND foo tail",
    "APPEND newappend x",
    "SETRANGE foo 1 yy",
    "SETRANGE empty 0 ",
    "SETBIT bits 3 1",
    "SETBIT bits 3 1",
    "SETBIT bits 100 0",
    "BITFIELD bf SET u8 0 5",
    "BITFIELD bf SET u8 0 5",
    "BITFIELD bf INCRBY u8 0 0 GET u8 0",
    "BITFIELD bf OVERFLOW FAIL INCRBY u8 0 300",
    "BITFIELD bf OVERFLOW FAIL INCRBY u2 200 8",
    "BITFIELD bf GET u8 0 SET u8 100 0",
    "BITFIELD bf3 OVERFLOW FAIL INCRBY u2 0 8",
    "BITFIELD_RO bf GET u8 0",
    "BITOP OR bo bits bf",
    "BITOP AND bo nokey",
    "EXPIRE foo 100",
    "PERSIST foo",
    "PERSIST foo",
    "PEXPIRE foo 100000",
    "EXPIRE foo -1",
    "DEL foo",
    "DEL bar counter nokey",
    "MSET a 1 b 2 c 3",
    "MSETNX a 1 d 4",
    "MSETNX d 4 e 5",
    "GETSET a 9",
    "GETDEL a",
    "GETDEL a",
    "GETEX b EX 100",
    "GETEX b PERSIST",
    "GETEX b",
    "SETNX b x",
    "SETNX f x",
    "SETEX g 100 v",
    "PSETEX h 100000 v",
    "RENAME g g2",
    "RENAMENX h g2",
    "RENAMENX h h2",
    "COPY h2 h3",
    "INCR foo2",
    "UNLINK f h3",
    "GET nothing",
    "TTL h2",
    // Hashes, sets, sorted sets, lists (issue 27), and the generic events
    // of keys of those types.
    "HSET th a 1 b 2",
    "HSET th a 1",
    "HSETNX th a x",
    "HSETNX th c x",
    "HDEL th zz",
    "HDEL th a b c",
    "HINCRBY th2 f 3",
    "HINCRBYFLOAT th2 g 1.5",
    "HMSET th2 x y",
    "SADD ts a b",
    "SADD ts a",
    "SREM ts zz",
    "SREM ts a",
    "SPOP ts",
    "SPOP ts",
    "ZADD tz 1 a 2 b",
    "ZADD tz 1 a",
    "ZADD tz INCR 5 a",
    "ZADD tz NX INCR 5 a",
    "ZINCRBY tz 1 b",
    "ZREM tz x",
    "ZREM tz a",
    "ZPOPMAX tz 0",
    "ZPOPMIN tz",
    "ZADD tz 1 a 2 b 3 c",
    "ZREMRANGEBYRANK tz 0 0",
    "ZREMRANGEBYSCORE tz 10 20",
    "ZREMRANGEBYSCORE tz 0 10",
    "ZADD tzl 0 a 0 b",
    "ZREMRANGEBYLEX tzl - +",
    "LPUSH tl a b",
    "RPUSH tl c",
    "LPUSHX nolist a",
    "RPUSHX tl d",
    "LPOP tl",
    "RPOP tl 0",
    "RPOP tl 1",
    "LSET tl 0 Z",
    "LINSERT tl BEFORE nope x",
    "LINSERT tl BEFORE Z y",
    "LREM tl 0 nope",
    "LREM tl 1 y",
    "LTRIM tl 0 0",
    "LTRIM tl 5 6",
    "LPOP nolist",
    "SADD ts2 x",
    "EXPIRE ts2 100",
    "PERSIST ts2",
    "RENAME ts2 ts3",
    "COPY ts3 ts4",
    "DEL ts3 ts4",
    "SET tstr v",
    "SADD tstr x",
];

/// Whether `command` touches one key (its events then come in order).
fn one_key(command: &str) -> bool {
    let name = command.split(' ').next().unwrap_or_default();
    !matches!(
        name,
        "DEL" | "UNLINK" | "MSET" | "MSETNX" | "RENAME" | "RENAMENX" | "COPY"
    )
}

fn pmessage(reply: &[u8]) -> String {
    // *4 pmessage pattern channel message: channel and message.
    let text = String::from_utf8_lossy(reply);
    let parts: Vec<&str> = text.split("\r\n").collect();
    format!(
        "{} {}",
        parts.get(6).unwrap_or(&""),
        parts.get(8).unwrap_or(&"")
    )
}

/// On redis-server: each command's events, learned by publishing a marker
/// after it (redis orders everything).
fn events_on_redis(addr: SocketAddr) -> Vec<Vec<String>> {
    let mut conn = Resp::connect(addr);
    let mut subscriber = Resp::connect(addr);
    assert_eq!(conn.cmd("CONFIG SET notify-keyspace-events KEA"), "+OK\r\n");
    subscriber.cmd("PSUBSCRIBE *");
    SEQUENCE
        .iter()
        .map(|command| {
            conn.cmd(command);
            conn.cmd("PUBLISH marker x");
            let mut events = Vec::new();
            loop {
                let event = pmessage(&subscriber.reply());
                if event == "marker x" {
                    break events;
                }
                events.push(event);
            }
        })
        .collect()
}

/// On percore: each command's events, as many as redis gave (read with
/// the deadline), in order for a command of one key.
fn events_on_percore(addr: SocketAddr, counts: &[usize]) -> Vec<Vec<String>> {
    let mut conn = Resp::connect(addr);
    let mut subscriber = Resp::connect(addr);
    assert_eq!(conn.cmd("CONFIG SET notify-keyspace-events KEA"), "+OK\r\n");
    subscriber.cmd("PSUBSCRIBE *");
    SEQUENCE
        .iter()
        .zip(counts)
        .map(|(command, &count)| {
            conn.cmd(command);
            (0..count).map(|_| pmessage(&subscriber.reply())).collect()
        })
        .collect()
}

#[test]
fn string_and_key_commands_notify_as_redis_across_shards() {
    let server = TestServer::builder().services(&["resp"]).start();
    let redis = redis();
    let theirs = events_on_redis(redis.addr);
    let counts: Vec<usize> = theirs.iter().map(Vec::len).collect();
    let ours = events_on_percore(server.addr("resp"), &counts);
    for ((command, mut a), mut b) in SEQUENCE.iter().zip(ours).zip(theirs) {
        if !one_key(command) {
            a.sort();
            b.sort();
        }
        assert_eq!(a, b, "{command}");
    }
    // Nothing more came: a last event is the next one.
    let mut conn = Resp::connect(server.addr("resp"));
    let mut subscriber = Resp::connect(server.addr("resp"));
    subscriber.cmd("PSUBSCRIBE __keyevent@0__:*");
    conn.cmd("SET last 1");
    assert_eq!(pmessage(&subscriber.reply()), "__keyevent@0__:set last");
    server.stop().assert_clean();
}

#[test]
fn flags_choose_the_events_and_channels() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let mut conn = Resp::connect(addr);
    let mut subscriber = Resp::connect(addr);
    subscriber.cmd("PSUBSCRIBE *");
    // Generic events only, on keyevent channels: SET is not one.
    assert_eq!(conn.cmd("CONFIG SET notify-keyspace-events Eg"), "+OK\r\n");
    conn.cmd("SET k v");
    conn.cmd("EXPIRE k 100");
    assert_eq!(pmessage(&subscriber.reply()), "__keyevent@0__:expire k");
    // New keys only.
    assert_eq!(conn.cmd("CONFIG SET notify-keyspace-events En"), "+OK\r\n");
    conn.cmd("SET k v2");
    conn.cmd("SET k2 v");
    assert_eq!(pmessage(&subscriber.reply()), "__keyevent@0__:new k2");
    // Keyspace channel only; then off: the next event is after it is on.
    assert_eq!(conn.cmd("CONFIG SET notify-keyspace-events K$"), "+OK\r\n");
    conn.cmd("INCR n");
    assert_eq!(pmessage(&subscriber.reply()), "__keyspace@0__:n incrby");
    assert_eq!(conn.cmd("CONFIG SET notify-keyspace-events \"\""), "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n");
    conn.call(&[b"CONFIG", b"SET", b"notify-keyspace-events", b""]);
    conn.cmd("INCR n");
    conn.cmd("CONFIG SET notify-keyspace-events KA");
    conn.cmd("INCR n");
    assert_eq!(pmessage(&subscriber.reply()), "__keyspace@0__:n incrby");
    server.stop().assert_clean();
}

#[test]
fn the_active_expiry_announces_expired_keys() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let mut conn = Resp::connect(addr);
    let mut subscriber = Resp::connect(addr);
    conn.cmd("CONFIG SET notify-keyspace-events Ex");
    subscriber.cmd("PSUBSCRIBE *");
    let mut expected = Vec::new();
    for i in 0..8 {
        conn.cmd(&format!("PSETEX soon{i} 50 v"));
        expected.push(format!("__keyevent@0__:expired soon{i}"));
    }
    // Nobody reads them: the sweep frees them and says so.
    let mut got: Vec<String> = (0..8).map(|_| pmessage(&subscriber.reply())).collect();
    got.sort();
    assert_eq!(got, expected);
    server.stop().assert_clean();
}

#[test]
fn a_notification_channel_is_counted_once_and_reaches_mq_too() {
    let server = TestServer::builder().start();
    let addr = server.addr("resp");
    let mut conn = Resp::connect(addr);
    let mut subscriber = Resp::connect(addr);
    subscriber.cmd("SUBSCRIBE __keyspace@0__:watched");
    assert_eq!(
        conn.cmd("PUBSUB NUMSUB __keyspace@0__:watched"),
        "*2\r\n$22\r\n__keyspace@0__:watched\r\n:1\r\n"
    );
    assert_eq!(
        conn.cmd("PUBSUB CHANNELS __key*"),
        "*1\r\n$22\r\n__keyspace@0__:watched\r\n"
    );
    let info = conn.cmd("INFO stats");
    assert!(info.contains("pubsub_channels:1\r\n"), "{info}");
    // An mq subscriber of the keyevent topic, on the same brokers.
    let mq = connect(server.addr("mq"));
    let mut mq_writer = mq.try_clone().expect("clone");
    mq_writer
        .write_all(b"{\"command\": \"subscribe\", \"topic\": \"__keyevent@0__:set\"}\n")
        .expect("subscribe");
    let mut mq_lines = BufReader::new(mq);
    conn.cmd("CONFIG SET notify-keyspace-events KE$");
    // mq subscriptions are not acknowledged: set until the line comes.
    let mut line = String::new();
    let mut messages = VecDeque::new();
    mq_lines
        .get_mut()
        .set_read_timeout(Some(std::time::Duration::from_millis(200)))
        .expect("timeout");
    let give_up = std::time::Instant::now() + DEADLINE;
    while line.is_empty() {
        assert!(std::time::Instant::now() < give_up, "no mq line");
        conn.cmd("SET watched v");
        messages.push_back(String::from_utf8_lossy(&subscriber.reply()).into_owned());
        let _ = mq_lines.read_line(&mut line);
    }
    assert_eq!(
        line,
        "{\"command\": \"send\", \"topic\": \"__keyevent@0__:set\", \"msg\": \"watched\"}\n"
    );
    assert_eq!(
        messages[0],
        "*3\r\n$7\r\nmessage\r\n$22\r\n__keyspace@0__:watched\r\n$3\r\nset\r\n"
    );
    server.stop().assert_clean();
}

#[test]
fn redis_py_gets_the_notifications_redis_sends() {
    let server = TestServer::builder().services(&["resp"]).start();
    let redis = redis();
    let run = |addr: SocketAddr| {
        run_python_client(
            "redis_py_notify.py",
            &[addr.ip().to_string(), addr.port().to_string()],
        )
    };
    let (ours, theirs) = (run(server.addr("resp")), run(redis.addr));
    assert_eq!(ours, theirs);
    assert!(
        ours.contains("(b'__keyspace@0__:watched', b'incrby')"),
        "{ours}"
    );
    assert!(ours.contains("28 28\n"), "{ours}");
    server.stop().assert_clean();
}
