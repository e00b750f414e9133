//! chat, docs/PROTOCOLS.md §3.3, against the real server with 4 shards.

use std::io::Write;

use crate::common::*;

#[test]
fn every_line_is_answered_and_a_bare_newline_is_accepted() {
    let server = TestServer::builder().services(&["chat"]).start();
    let mut conn = server.connect("chat");
    assert_eq!(
        round_trip(&mut conn, b"hello\r\n", 17),
        b"You sent: hello\r\n"
    );
    assert_eq!(round_trip(&mut conn, b"bare\n", 16), b"You sent: bare\r\n");
    let pipelined = b"a\r\nb\r\n";
    assert_eq!(
        round_trip(&mut conn, pipelined, 26),
        b"You sent: a\r\nYou sent: b\r\n"
    );
}

#[test]
fn a_lone_dot_closes_the_connection_after_earlier_replies() {
    let server = TestServer::builder().services(&["chat"]).start();
    let mut conn = server.connect("chat");
    conn.write_all(b"last words\r\n.\r\nignored\r\n").unwrap();
    assert_eq!(read_to_close(&mut conn), b"You sent: last words\r\n");
    // A dot inside a line is just text.
    let mut other = server.connect("chat");
    assert_eq!(round_trip(&mut other, b"..\r\n", 14), b"You sent: ..\r\n");
    let stopped = server.stop();
    assert_eq!(stopped.json["services"]["chat"]["messages"], 2);
}

#[test]
fn a_too_long_line_gets_the_error_with_crlf_and_a_close() {
    let server = TestServer::builder()
        .services(&["chat"])
        .args(&["--max-frame", "8"])
        .start();
    let mut conn = server.connect("chat");
    conn.write_all(b"123456789\r\n").unwrap();
    assert_eq!(read_to_close(&mut conn), b"ERR line too long\r\n");
}
