//! CONFIG SET port (README "CONFIG"): resp moves to the new port on every
//! shard and stops accepting on the old one, the connections already open
//! staying, as redis's `changeListenPort`; a port that cannot be bound
//! fails the whole CONFIG SET with redis's error and nothing of it is
//! applied, the old port still served.

use std::net::{SocketAddr, TcpListener, TcpStream};

use crate::common::resp::{shard_serving, Resp};
use crate::common::*;

fn server(shards: usize) -> Server {
    TestServer::builder()
        .services(&["resp"])
        .shards(shards)
        .start()
}

fn at(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[test]
fn a_port_held_elsewhere_fails_the_whole_config_set() {
    let server = server(2);
    let addr = server.addr("resp");
    let mut resp = Resp::connect(addr);
    let before: Vec<String> = ["maxmemory", "port", "client-query-buffer-limit"]
        .iter()
        .map(|name| resp.cmd(&format!("CONFIG GET {name}")))
        .collect();
    let held = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = held.local_addr().expect("its address").port();
    let reply = resp.cmd(&format!(
        "CONFIG SET maxmemory 10000001 port {port} client-query-buffer-limit 10m"
    ));
    assert!(
        reply.starts_with("-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port"),
        "{reply}"
    );
    let after: Vec<String> = ["maxmemory", "port", "client-query-buffer-limit"]
        .iter()
        .map(|name| resp.cmd(&format!("CONFIG GET {name}")))
        .collect();
    assert_eq!(before, after);
    // The old port still takes new connections, on every shard.
    let mut fresh = Resp::connect(addr);
    assert_eq!(fresh.cmd("PING"), "+PONG\r\n");
    assert!(
        TcpStream::connect(at(port)).is_ok(),
        "the holder keeps its port"
    );
}

#[test]
fn the_port_moves_and_open_connections_stay() {
    let shards = 2;
    let server = server(shards);
    let old = server.addr("resp");
    let mut open = Resp::connect(old);
    open.cmd("SET k v");
    let port = free_port();
    assert_eq!(open.cmd(&format!("CONFIG SET port {port}")), "+OK\r\n");
    assert_eq!(
        open.cmd("CONFIG GET port"),
        format!(
            "*2\r\n$4\r\nport\r\n${}\r\n{port}\r\n",
            port.to_string().len()
        )
    );
    assert!(open
        .cmd("INFO server")
        .contains(&format!("tcp_port:{port}\r\n")));
    // The connection opened before the move is still served.
    assert_eq!(open.cmd("GET k"), "$1\r\nv\r\n");
    // The old port takes no new connection; the new one takes them on
    // every shard.
    wait_until("the old port refuses connections", || {
        TcpStream::connect(old).is_err()
    });
    let mut seen = vec![false; shards];
    wait_until("connections on every shard at the new port", || {
        let mut resp = Resp::connect(at(port));
        assert_eq!(resp.cmd("GET k"), "$1\r\nv\r\n");
        seen[shard_serving(&mut resp, shards)] = true;
        seen.iter().all(|&s| s)
    });
    // And back: the port it left is free again.
    let mut moved = Resp::connect(at(port));
    assert_eq!(
        moved.cmd(&format!("CONFIG SET port {}", old.port())),
        "+OK\r\n"
    );
    assert_eq!(Resp::connect(old).cmd("PING"), "+PONG\r\n");
    // Setting the port served changes nothing.
    assert_eq!(
        moved.cmd(&format!("CONFIG SET port {}", old.port())),
        "+OK\r\n"
    );
    assert_eq!(moved.cmd("PING"), "+PONG\r\n");
}
