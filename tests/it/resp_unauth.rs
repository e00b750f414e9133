//! resp before AUTH (docs/PROTOCOLS.md §6.1, §6.5; issue 22 item 4): with `--requirepass`,
//! a client that has not authenticated gets redis 7.0's limits, a multibulk
//! of at most 10 elements and bulks of at most 16 KiB, refused from their
//! headers (nothing is buffered for them) with redis' error, and closed.
//! Compared byte for byte with redis-server when it is installed.

use std::io::Write;
use std::net::SocketAddr;

use crate::common::resp::{RedisServer, Resp};
use crate::common::*;

const PASS: &str = "s3cret";
const MULTIBULK: &[u8] = b"-ERR Protocol error: unauthenticated multibulk length\r\n";
const BULK: &[u8] = b"-ERR Protocol error: unauthenticated bulk length\r\n";
const NOAUTH: &[u8] = b"-NOAUTH Authentication required.\r\n";

/// The command `name` with `count - 1` arguments, each `len` bytes long.
fn command(name: &str, count: usize, len: usize) -> Vec<u8> {
    let mut wire = format!("*{count}\r\n${}\r\n{name}\r\n", name.len()).into_bytes();
    for _ in 1..count {
        wire.extend_from_slice(format!("${len}\r\n").as_bytes());
        wire.extend(std::iter::repeat_n(b'a', len));
        wire.extend_from_slice(b"\r\n");
    }
    wire
}

/// The exchanges checked, each on a new connection: a name, what is sent,
/// what comes back, and whether the server then closes (else the
/// connection must still be open).
fn cases() -> Vec<(&'static str, Vec<u8>, Vec<u8>, bool)> {
    let mut after_auth = format!("AUTH {PASS}\r\n").into_bytes();
    after_auth.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n");
    after_auth.extend(std::iter::repeat_n(b'v', 20000));
    after_auth.extend_from_slice(b"\r\nDEL k a b c d e f g h i\r\n");
    after_auth.extend_from_slice(&command("DEL", 11, 1));
    vec![
        ("*100 alone", b"*100\r\n".to_vec(), MULTIBULK.to_vec(), true),
        (
            "a 100 kB bulk's header",
            b"*1\r\n$100000\r\n".to_vec(),
            BULK.to_vec(),
            true,
        ),
        (
            "a 16385-byte bulk after a command",
            [
                command("GET", 2, 1),
                b"*2\r\n$3\r\nGET\r\n$16385\r\n".to_vec(),
            ]
            .concat(),
            [NOAUTH, BULK].concat(),
            true,
        ),
        (
            "a wrong AUTH, then *11",
            [b"AUTH nope\r\n".as_slice(), b"*11\r\n"].concat(),
            [
                b"-WRONGPASS invalid username-password pair or user is disabled.\r\n".as_slice(),
                MULTIBULK,
            ]
            .concat(),
            true,
        ),
        ("10 elements", command("DEL", 10, 1), NOAUTH.to_vec(), false),
        (
            "a 16384-byte bulk",
            command("GET", 2, 16384),
            NOAUTH.to_vec(),
            false,
        ),
        // Authenticated earlier in the same write: the usual limits.
        (
            "AUTH first",
            after_auth,
            [b"+OK\r\n+OK\r\n:1\r\n".as_slice(), b":0\r\n"].concat(),
            false,
        ),
    ]
}

/// What `addr` answers `request`: all of it up to the close when `closes`,
/// else the first `expected_len` bytes, after which the connection must
/// still be open (QUIT, allowed before AUTH, is answered).
fn exchange(addr: SocketAddr, request: &[u8], expected_len: usize, closes: bool) -> Vec<u8> {
    let mut stream = connect(addr);
    stream.write_all(request).expect("send");
    if closes {
        return read_to_close(&mut stream);
    }
    let answer = read_n(&mut stream, expected_len);
    assert_eq!(
        round_trip(&mut stream, b"QUIT\r\n", 5),
        b"+OK\r\n",
        "still open after {:?}",
        String::from_utf8_lossy(&answer)
    );
    answer
}

#[test]
fn unauthenticated_clients_get_redis_limits_and_are_closed() {
    let server = TestServer::builder()
        .services(&["resp"])
        .args(&["--shards", "2", "--requirepass", PASS])
        .start();
    for (name, request, expected, closes) in cases() {
        let answer = exchange(server.addr("resp"), &request, expected.len(), closes);
        assert_eq!(
            String::from_utf8_lossy(&answer),
            String::from_utf8_lossy(&expected),
            "{name}"
        );
    }
    // Without --requirepass nobody gets those limits.
    let open = TestServer::builder().services(&["resp"]).shards(2).start();
    let mut resp = Resp::connect(open.addr("resp"));
    let mut big = command("GET", 2, 100_000);
    big.extend_from_slice(&command("DEL", 100, 1));
    resp.stream.write_all(&big).expect("send");
    assert_eq!(resp.reply(), b"$-1\r\n");
    assert_eq!(resp.reply(), b":0\r\n");
}

#[test]
fn unauthenticated_limits_match_redis_byte_for_byte() {
    let port = free_port();
    let Some(redis) = RedisServer::start_on(port, &["--requirepass", PASS]) else {
        eprintln!("no redis-server here: comparison skipped (.ci/run installs it)");
        return;
    };
    let server = TestServer::builder()
        .services(&["resp"])
        .args(&["--shards", "2", "--requirepass", PASS])
        .start();
    for (name, request, expected, closes) in cases() {
        let ours = exchange(server.addr("resp"), &request, expected.len(), closes);
        let theirs = exchange(redis.addr, &request, expected.len(), closes);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs),
            "{name}"
        );
    }
}
