//! HTTP requests to data ports (docs/PROTOCOLS.md §3.4, §3.5, §6.1; issue 22 item 3): a web
//! page can make a browser send one to any local port, body included. None
//! may run a command: resp closes on a `POST` or `Host:` command, as redis
//! does; mq closes on an HTTP request line or `Host:` header; kv refuses
//! the first four bytes as a frame length far past `--max-frame`.

use std::io::Write;
use std::net::TcpStream;

use crate::common::mq::Client;
use crate::common::resp::{RedisServer, Resp};
use crate::common::*;
use percore_protocols::kv::protocol::push_request_frame;
use percore_protocols::kv::{Reply, Request};

/// A browser's POST with `body` (as a `text/plain` form sends it).
fn http_post(body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// Sends `request` in one write and returns all the server answers before
/// it closes the connection (a test that hangs here found it left open).
fn answer_then_close(stream: &mut TcpStream, request: &[u8]) -> Vec<u8> {
    stream.write_all(request).expect("send the request");
    read_to_close(stream)
}

/// What a resp server answers `PING`, then an HTTP POST whose body sets a
/// key, all in one write; and then whether the key is set.
fn resp_post(addr: std::net::SocketAddr) -> (Vec<u8>, Vec<u8>) {
    let mut request = b"PING\r\n".to_vec();
    request.extend_from_slice(&http_post(b"SET pwned 1\r\n"));
    let mut stream = connect(addr);
    let answer = answer_then_close(&mut stream, &request);
    let mut check = Resp::connect(addr);
    (answer, check.call(&[b"GET", b"pwned"]))
}

#[test]
fn an_http_post_to_resp_closes_the_connection_and_runs_nothing() {
    let server = TestServer::builder()
        .services(&["resp", "kv", "mq"])
        .shards(2)
        .start();
    let addr = server.addr("resp");
    let (answer, pwned) = resp_post(addr);
    // The PING before the request keeps its reply; nothing after POST runs.
    assert_eq!(String::from_utf8_lossy(&answer), "+PONG\r\n");
    assert_eq!(pwned, b"$-1\r\n");
    // `Host:` as a multibulk command does the same, and the server serves on.
    let mut host = connect(addr);
    let answer = answer_then_close(
        &mut host,
        b"*2\r\n$5\r\nHost:\r\n$1\r\nx\r\n*3\r\n$3\r\nSET\r\n$5\r\npwned\r\n$1\r\n2\r\n",
    );
    assert_eq!(answer, b"");
    let mut check = Resp::connect(addr);
    assert_eq!(check.call(&[b"GET", b"pwned"]), b"$-1\r\n");

    let stopped = server.stop();
    stopped.assert_clean();
    // Each counts as an error; the warning is written once a minute at most.
    assert!(
        stopped.json["services"]["resp"]["errors"].as_u64() >= Some(2),
        "{}",
        stopped.json
    );
    let warnings = stopped
        .stderr
        .matches("Possible SECURITY ATTACK detected")
        .count();
    assert_eq!(warnings, 1, "{}", stopped.stderr);
}

#[test]
fn resp_and_redis_answer_an_http_post_alike() {
    let Some(redis) = RedisServer::start() else {
        eprintln!("no redis-server here: comparison skipped (.ci/run installs it)");
        return;
    };
    let server = TestServer::builder()
        .services(&["resp", "kv", "mq"])
        .shards(2)
        .start();
    let mut request = http_post(b"SET pwned 1\r\n");
    let ours = answer_then_close(&mut server.connect("resp"), &request);
    let theirs = answer_then_close(&mut connect(redis.addr), &request);
    assert_eq!(ours, theirs);
    // A Host: line first (the request line lost) closes too.
    request.drain(..b"POST / HTTP/1.1\r\n".len());
    let ours = answer_then_close(&mut server.connect("resp"), &request);
    let theirs = answer_then_close(&mut connect(redis.addr), &request);
    assert_eq!(ours, theirs);
    for addr in [server.addr("resp"), redis.addr] {
        assert_eq!(Resp::connect(addr).call(&[b"GET", b"pwned"]), b"$-1\r\n");
    }
}

#[test]
fn an_http_post_to_mq_closes_before_its_body_runs() {
    let server = TestServer::builder()
        .services(&["resp", "kv", "mq"])
        .shards(2)
        .start();
    let mut subscriber = Client::connect(&server);
    subscriber.subscribe("t", "subscriber");

    let body = br#"{"command": "send", "topic": "t", "msg": "pwned"}"#;
    let mut body = body.to_vec();
    body.push(b'\n');
    let answer = answer_then_close(&mut server.connect("mq"), &http_post(&body));
    assert_eq!(
        String::from_utf8_lossy(&answer),
        "{\"error\": \"HTTP request refused\"}\n"
    );
    // A GET's request line alone closes too.
    let answer = answer_then_close(&mut server.connect("mq"), b"GET /t HTTP/1.1\r\n");
    assert_eq!(answer, b"{\"error\": \"HTTP request refused\"}\n");

    // The first message the subscriber gets is one sent after the attack.
    let mut sender = Client::connect(&server);
    sender.send("t", "after");
    assert_eq!(subscriber.next_message()["msg"], "after");
    // A malformed line that is no HTTP keeps the connection open (docs/PROTOCOLS.md §3.4).
    let (request, reply) = probe("mq");
    let mut open = server.connect("mq");
    assert_eq!(round_trip(&mut open, &request, reply.len()), reply);
    assert_eq!(round_trip(&mut open, &request, reply.len()), reply);
}

#[test]
fn an_http_post_to_kv_is_a_frame_too_long_and_runs_nothing() {
    // Checked, not changed: "POST" as a length is 1,347,375,956 bytes, past
    // any --max-frame, so kv refuses it and closes before the body.
    let server = TestServer::builder()
        .services(&["resp", "kv", "mq"])
        .shards(2)
        .start();
    let mut body = Vec::new();
    push_request_frame(
        &mut body,
        &Request::Put {
            key: "pwned",
            val: "1",
        },
    );
    let answer = answer_then_close(&mut server.connect("kv"), &http_post(&body));
    assert!(
        String::from_utf8_lossy(&answer).contains("error"),
        "{answer:?}"
    );
    let mut kv = kv_client(server.addr("kv"));
    assert_eq!(kv.get("pwned").expect("get"), Reply::Nil);
}
