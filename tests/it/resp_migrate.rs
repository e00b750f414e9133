//! MIGRATE (README "MIGRATE") between two percore servers on loopback, and
//! from percore to redis-server 7.0: strings, hashes and TTLs arrive,
//! COPY keeps and REPLACE overwrites, the KEYS form moves keys of several
//! shards, NOKEY, AUTH2 to a server with a password, a target that is down;
//! and MONITOR's redaction of MIGRATE's, AUTH's and HELLO's credentials.

use std::net::SocketAddr;

use crate::common::resp::{RedisServer, Resp};
use crate::common::*;

/// `MIGRATE` to `to` with the words of `rest` after the port.
fn migrate(from: &mut Resp, to: SocketAddr, rest: &str) -> String {
    let port = to.port().to_string();
    let mut args: Vec<&[u8]> = vec![b"MIGRATE", b"127.0.0.1", port.as_bytes()];
    args.extend(
        rest.split(' ')
            .map(|w| if w == "\"\"" { &b""[..] } else { w.as_bytes() }),
    );
    String::from_utf8_lossy(&from.call(&args)).into_owned()
}

fn resp_server(shards: usize, extra: &[&str]) -> Server {
    TestServer::builder()
        .services(&["resp"])
        .shards(shards)
        .args(extra)
        .start()
}

#[test]
fn keys_move_between_two_percores() {
    let source = resp_server(2, &[]);
    let target = resp_server(2, &[]);
    let (mut from, mut to) = (
        Resp::connect(source.addr("resp")),
        Resp::connect(target.addr("resp")),
    );
    let dest = target.addr("resp");
    from.cmd("SET str hello");
    from.cmd("HSET hash f v g w");
    from.cmd("SET ttl x PX 100000");

    assert_eq!(migrate(&mut from, dest, "str 0 5000"), "+OK\r\n");
    assert_eq!(from.cmd("EXISTS str"), ":0\r\n");
    assert_eq!(to.cmd("GET str"), "$5\r\nhello\r\n");

    assert_eq!(migrate(&mut from, dest, "hash 0 5000"), "+OK\r\n");
    assert_eq!(to.cmd("HGET hash g"), "$1\r\nw\r\n");
    assert_eq!(to.cmd("HLEN hash"), ":2\r\n");

    assert_eq!(migrate(&mut from, dest, "ttl 0 5000"), "+OK\r\n");
    let pttl: i64 = to.cmd("PTTL ttl")[1..].trim().parse().expect("a TTL");
    assert!(pttl > 90_000 && pttl <= 100_000, "{pttl}");

    // Nothing there: NOKEY, before any connection.
    assert_eq!(migrate(&mut from, dest, "str 0 5000"), "+NOKEY\r\n");

    // COPY keeps the key here; without REPLACE an existing key is refused.
    from.cmd("SET str again");
    assert_eq!(
        migrate(&mut from, dest, "str 0 5000 COPY"),
        "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n"
    );
    assert_eq!(
        migrate(&mut from, dest, "str 0 5000 COPY REPLACE"),
        "+OK\r\n"
    );
    assert_eq!(from.cmd("GET str"), "$5\r\nagain\r\n");
    assert_eq!(to.cmd("GET str"), "$5\r\nagain\r\n");
    assert_eq!(migrate(&mut from, dest, "str 0 5000 REPLACE"), "+OK\r\n");
    assert_eq!(from.cmd("EXISTS str"), ":0\r\n");

    // The KEYS form, one key on each shard and one missing.
    let (a, b) = (key_on(2, 0, "k"), key_on(2, 1, "k"));
    from.cmd(&format!("SET {a} 1"));
    from.cmd(&format!("SET {b} 2"));
    let keys = format!("\"\" 0 5000 KEYS {a} missing {b}");
    assert_eq!(migrate(&mut from, dest, &keys), "+OK\r\n");
    assert_eq!(from.cmd(&format!("EXISTS {a} {b}")), ":0\r\n");
    assert_eq!(
        to.cmd(&format!("MGET {a} {b}")),
        "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        migrate(&mut from, dest, "\"\" 0 5000 KEYS nope"),
        "+NOKEY\r\n"
    );

    // To itself: redis's answer once its own reply never comes, at once,
    // and the key stays.
    let own = source.addr("resp");
    from.cmd("SET mine v");
    assert_eq!(
        migrate(&mut from, own, "mine 0 5000 REPLACE"),
        "-IOERR error or timeout reading to target instance\r\n"
    );
    assert_eq!(from.cmd("GET mine"), "$1\r\nv\r\n");

    // Not inside MULTI (README).
    assert_eq!(from.cmd("MULTI"), "+OK\r\n");
    let queued = migrate(&mut from, dest, "str 0 5000");
    assert!(
        queued.starts_with("-ERR percore does not run 'migrate' inside MULTI"),
        "{queued}"
    );
    from.cmd("DISCARD");

    // Errors of the arguments, as redis words them.
    assert_eq!(
        migrate(&mut from, dest, "k 0 5000 KEYS a"),
        "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string\r\n"
    );
    assert_eq!(
        migrate(&mut from, dest, "k 0 5000 AUTH"),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        migrate(&mut from, dest, "k x 5000"),
        "-ERR value is not an integer or out of range\r\n"
    );
}

#[test]
fn auth2_reaches_a_server_with_a_password_and_a_dead_target_keeps_the_key() {
    let source = resp_server(2, &[]);
    let target = resp_server(1, &["--requirepass", "sesame"]);
    let dest = target.addr("resp");
    let mut from = Resp::connect(source.addr("resp"));
    from.cmd("SET k v");

    let refused = migrate(&mut from, dest, "k 0 5000");
    assert!(
        refused.starts_with("-ERR Target instance replied with error: NOAUTH"),
        "{refused}"
    );
    let wrong = migrate(&mut from, dest, "k 0 5000 AUTH2 default nope");
    assert!(
        wrong.starts_with("-ERR Target instance replied with error: WRONGPASS"),
        "{wrong}"
    );
    assert_eq!(from.cmd("GET k"), "$1\r\nv\r\n");

    assert_eq!(
        migrate(&mut from, dest, "k 0 5000 AUTH2 default sesame"),
        "+OK\r\n"
    );
    assert_eq!(from.cmd("EXISTS k"), ":0\r\n");
    let mut to = Resp::connect(dest);
    to.cmd("AUTH sesame");
    assert_eq!(to.cmd("GET k"), "$1\r\nv\r\n");

    // A port nobody listens on: redis's IOERR, and the key stays.
    from.cmd("SET k v");
    let down = SocketAddr::from(([127, 0, 0, 1], free_port()));
    assert_eq!(
        migrate(&mut from, down, "k 0 1000"),
        "-IOERR error or timeout writing to target instance\r\n"
    );
    assert_eq!(from.cmd("GET k"), "$1\r\nv\r\n");

    // A target that takes the connection and never answers: the reading
    // IOERR once the timeout has passed, and the key stays.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent = silent.local_addr().expect("its address");
    let began = std::time::Instant::now();
    assert_eq!(
        migrate(&mut from, silent, "k 0 200"),
        "-IOERR error or timeout reading to target instance\r\n"
    );
    assert!(began.elapsed() >= std::time::Duration::from_millis(200));
    assert_eq!(from.cmd("GET k"), "$1\r\nv\r\n");
}

#[test]
fn keys_move_from_percore_to_redis() {
    let Some(redis) = RedisServer::start() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let source = resp_server(2, &[]);
    let mut from = Resp::connect(source.addr("resp"));
    let mut to = Resp::connect(redis.addr);
    from.cmd("SET s hello");
    from.cmd("RPUSH l a b c");
    from.cmd("ZADD z 1 a 2 b");
    from.cmd("SET t x PX 100000");
    let keys = "\"\" 0 5000 KEYS s l z t";
    assert_eq!(migrate(&mut from, redis.addr, keys), "+OK\r\n");
    assert_eq!(to.cmd("GET s"), "$5\r\nhello\r\n");
    assert_eq!(
        to.cmd("LRANGE l 0 -1"),
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(to.cmd("ZSCORE z b"), "$1\r\n2\r\n");
    let pttl: i64 = to.cmd("PTTL t")[1..].trim().parse().expect("a TTL");
    assert!(pttl > 90_000, "{pttl}");
    assert_eq!(from.cmd("DBSIZE"), ":0\r\n");
    // COMMAND GETKEYS and INFO as redis's (introspection-2's movablekeys).
    let probes: [&[&[u8]]; 4] = [
        &[
            b"COMMAND", b"GETKEYS", b"MIGRATE", b"h", b"1", b"k", b"0", b"5", b"COPY",
        ],
        &[
            b"COMMAND", b"GETKEYS", b"MIGRATE", b"h", b"1", b"", b"0", b"5", b"AUTH", b"p",
            b"KEYS", b"a", b"b",
        ],
        &[
            b"COMMAND",
            b"GETKEYSANDFLAGS",
            b"MIGRATE",
            b"h",
            b"1",
            b"k",
            b"0",
            b"5",
        ],
        &[b"COMMAND", b"INFO", b"MIGRATE"],
    ];
    for probe in probes {
        assert_eq!(from.call(probe), to.call(probe), "{probe:?}");
    }

    // redis's own error passed back: a db it does not have.
    from.cmd("SET s again");
    assert_eq!(
        migrate(&mut from, redis.addr, "s 5 5000"),
        "-ERR Target instance replied with error: ERR DB index is out of range\r\n"
    );
    assert_eq!(from.cmd("GET s"), "$5\r\nagain\r\n");
}

#[test]
fn monitor_redacts_credentials() {
    let server = resp_server(2, &[]);
    let addr = server.addr("resp");
    let mut monitor = Resp::connect(addr);
    assert_eq!(monitor.cmd("MONITOR"), "+OK\r\n");
    let mut resp = Resp::connect(addr);
    assert_eq!(migrate(&mut resp, addr, "key 9 5000"), "+NOKEY\r\n");
    migrate(&mut resp, addr, "key 9 5000 AUTH user");
    migrate(&mut resp, addr, "key 9 5000 AUTH2 user password");
    resp.cmd("AUTH not-real");
    resp.cmd("AUTH not-real not-a-password");
    resp.cmd("HELLO 2 AUTH not-real not-a-password");
    let mut line = || String::from_utf8_lossy(&monitor.reply()).into_owned();
    let port = addr.port();
    let first = line();
    assert!(
        first.ends_with(&format!(
            "\"MIGRATE\" \"127.0.0.1\" \"{port}\" \"key\" \"9\" \"5000\"\r\n"
        )),
        "{first}"
    );
    assert!(line().ends_with("\"5000\" \"AUTH\" \"(redacted)\"\r\n"));
    assert!(line().ends_with("\"5000\" \"AUTH2\" \"(redacted)\" \"(redacted)\"\r\n"));
    assert!(line().ends_with("\"AUTH\" \"(redacted)\"\r\n"));
    assert!(line().ends_with("\"AUTH\" \"(redacted)\" \"(redacted)\"\r\n"));
    let hello = line();
    assert!(
        hello.ends_with("\"HELLO\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\"\r\n"),
        "{hello}"
    );
}
