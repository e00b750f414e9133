//! yell, docs/PROTOCOLS.md §3.1, against the real server with 4 shards.

use std::io::Write;
use std::net::Shutdown;

use crate::common::*;

#[test]
fn lines_come_back_upper_cased_with_their_endings() {
    let server = TestServer::builder().services(&["yell"]).start();
    let mut conn = server.connect("yell");
    assert_eq!(round_trip(&mut conn, b"hello\n", 6), b"HELLO\n");
    assert_eq!(
        round_trip(&mut conn, b"Mixed Case 42\r\n", 15),
        b"MIXED CASE 42\r\n"
    );
    assert_eq!(round_trip(&mut conn, b"\n", 1), b"\n");
}

#[test]
fn unicode_follows_python_and_invalid_utf8_passes_through() {
    let server = TestServer::builder().services(&["yell"]).start();
    let mut conn = server.connect("yell");
    let upper = "STRASSE ÉTÉ ǄEMAL\n".as_bytes();
    assert_eq!(
        round_trip(&mut conn, "straße été ǆemal\n".as_bytes(), upper.len()),
        upper
    );
    assert_eq!(
        round_trip(&mut conn, b"ab\xff\xc3(cd\r\n", 9),
        b"AB\xff\xc3(CD\r\n"
    );
}

#[test]
fn ten_thousand_pipelined_lines_in_one_write() {
    let server = TestServer::builder().services(&["yell"]).start();
    let mut conn = server.connect("yell");
    let mut request = Vec::new();
    let mut expected = Vec::new();
    for i in 0..10_000 {
        request.extend_from_slice(format!("line number {i}\n").as_bytes());
        expected.extend_from_slice(format!("LINE NUMBER {i}\n").as_bytes());
    }
    let writer = write_in_background(&conn, request, false);
    assert_eq!(read_n(&mut conn, expected.len()), expected);
    writer.join().unwrap();
}

#[test]
fn a_line_arriving_byte_by_byte_is_answered_once_complete() {
    let server = TestServer::builder().services(&["yell"]).start();
    let mut conn = server.connect("yell");
    for byte in b"slow line\r\n" {
        conn.write_all(&[*byte]).unwrap();
        conn.flush().unwrap();
    }
    assert_eq!(read_n(&mut conn, 11), b"SLOW LINE\r\n");
}

#[test]
fn a_half_closed_client_gets_every_reply_but_none_for_an_unterminated_line() {
    let server = TestServer::builder().services(&["yell"]).start();
    let mut conn = server.connect("yell");
    conn.write_all(b"one\ntwo\r\nthree").unwrap();
    conn.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_close(&mut conn), b"ONE\nTWO\r\n");
}

#[test]
fn a_too_long_line_is_refused_and_closed_while_others_are_served() {
    let server = TestServer::builder()
        .services(&["yell"])
        .args(&["--max-frame", "16"])
        .start();
    let mut bystander = server.connect("yell");
    assert_eq!(round_trip(&mut bystander, b"before\n", 7), b"BEFORE\n");

    // Exactly the limit, with either ending, is fine.
    let mut conn = server.connect("yell");
    let limit = b"0123456789abcdef\r\n";
    assert_eq!(
        round_trip(&mut conn, limit, limit.len()),
        b"0123456789ABCDEF\r\n"
    );
    // One byte more: the lines before it are answered, then the error, then close.
    conn.write_all(b"ok\n0123456789abcdefg\nnever\n").unwrap();
    assert_eq!(read_to_close(&mut conn), b"OK\nERR line too long\n");

    // Too long without any newline at all: refused once max + 1 bytes wait.
    let mut endless = server.connect("yell");
    let writer = write_in_background(&endless, vec![b'x'; 1 << 20], false);
    assert_eq!(read_to_close(&mut endless), b"ERR line too long\n");
    let _ = writer.join();

    assert_eq!(round_trip(&mut bystander, b"after\n", 6), b"AFTER\n");
    let stopped = server.stop();
    assert_eq!(stopped.json["services"]["yell"]["errors"], 2);
}
