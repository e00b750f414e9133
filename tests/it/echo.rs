//! echo, docs/PROTOCOLS.md §3.2, against the real server with 4 shards.

use std::net::Shutdown;

use crate::common::*;

#[test]
fn bytes_come_back_unchanged() {
    let server = TestServer::builder().services(&["echo"]).start();
    let mut conn = server.connect("echo");
    assert_eq!(
        round_trip(&mut conn, b"no framing \x00\xff\r", 14),
        b"no framing \x00\xff\r"
    );
    conn.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_close(&mut conn), b"");
}

#[test]
fn one_mebibyte_round_trip() {
    let server = TestServer::builder().services(&["echo"]).start();
    let mut conn = server.connect("echo");
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    let writer = write_in_background(&conn, data.clone(), true);
    assert_eq!(read_to_close(&mut conn), data);
    writer.join().unwrap();
    let stopped = server.stop();
    let echo = &stopped.json["services"]["echo"];
    assert_eq!(echo["bytes_in"], 1 << 20);
    assert_eq!(echo["bytes_out"], 1 << 20);
}
