//! resp's cluster mode against redis-server's, docs/PROTOCOLS.md §6.4: three percore
//! nodes and a three-node redis-server 7.0 cluster with the same slot
//! ranges answer the same commands byte for byte, ids and ports aside.

use std::net::{SocketAddr, TcpListener};
use std::time::Instant;

use crate::common::cluster::{distinct_free_ports, Nodes};
use crate::common::resp::{words, RedisServer, Resp};
use crate::common::*;
use percore_protocols::resp::protocol::reply_len;

/// Three redis-server 7.0 cluster nodes holding docs/PROTOCOLS.md §6.4's slot ranges,
/// once they all agree (`cluster_state:ok`, three nodes known).
fn redis_cluster(dir: &TempDir) -> Option<(Vec<RedisServer>, Vec<u16>)> {
    // A cluster node also listens on its port + 10000 (its bus).
    let ports = distinct_free_ports(3, |port| {
        port <= 55_535 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok()
    });
    let mut servers = Vec::new();
    for port in &ports {
        let config = dir.path.join(format!("nodes-{port}.conf"));
        let config = config.to_string_lossy();
        let dir = dir.path.to_string_lossy();
        let extra = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            &config,
            "--dir",
            &dir,
        ];
        servers.push(RedisServer::start_on(*port, &extra)?);
    }
    for (i, port) in ports.iter().enumerate() {
        let mut node = Resp::connect(SocketAddr::from(([127, 0, 0, 1], *port)));
        let (first, last) = (i * 16384 / 3, (i + 1) * 16384 / 3 - 1);
        assert_eq!(
            node.cmd(&format!("CLUSTER ADDSLOTSRANGE {first} {last}")),
            "+OK\r\n"
        );
        if i > 0 {
            assert_eq!(
                node.cmd(&format!("CLUSTER MEET 127.0.0.1 {}", ports[0])),
                "+OK\r\n"
            );
        }
    }
    let give_up = Instant::now() + DEADLINE;
    for port in &ports {
        let mut node = Resp::connect(SocketAddr::from(([127, 0, 0, 1], *port)));
        loop {
            let info = node.cmd("CLUSTER INFO");
            let slots = node.cmd("CLUSTER SLOTS");
            if info.contains("cluster_state:ok")
                && info.contains("cluster_known_nodes:3")
                && !slots.contains("$0\r\n")
            {
                break;
            }
            assert!(
                Instant::now() < give_up,
                "the redis cluster did not form: {info}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    Some((servers, ports))
}

/// Commands whose replies depend only on the slot map, sent to the first
/// node (which serves slots 0-5460) and to the third (10922-16383).
const SEQUENCE: &[&str] = &[
    "FLUSHALL",
    "GET foo",
    "SET foo bar",
    "GET foo",
    "SET a 1",
    "MSET a 1 b 2",
    "MSET {a}x 1 a 2",
    "MGET {a}x a",
    "MGET a a",
    "MGET {a}x b",
    "DEL {x}1 {x}2",
    "EXISTS a b",
    "EXISTS a {a}x",
    "SSUBSCRIBE a b",
    "SUNSUBSCRIBE foo bar",
    "GET x",
    "SET {b}k v EX 100",
    "CLUSTER KEYSLOT foo",
    "CLUSTER KEYSLOT {a}b",
    "CLUSTER KEYSLOT a{}{b}",
    "CLUSTER COUNTKEYSINSLOT 12182",
    "CLUSTER COUNTKEYSINSLOT 15495",
    "CLUSTER COUNTKEYSINSLOT x",
    "CLUSTER COUNTKEYSINSLOT 16384",
    "CLUSTER COUNTKEYSINSLOT 1 2",
    "CLUSTER GETKEYSINSLOT 12182 10",
    "CLUSTER GETKEYSINSLOT 12182 0",
    "CLUSTER GETKEYSINSLOT 1 -1",
    "CLUSTER GETKEYSINSLOT x 1",
    "CLUSTER FOO",
    "CLUSTER KEYSLOT",
    "CLUSTER MYID x",
    "CLUSTER SLOTS",
    "CLUSTER SHARDS",
    "CLUSTER MYID",
    "READONLY",
    "READWRITE",
    "READONLY x",
    "SELECT 1",
    "SELECT 0",
    "CONFIG GET cluster-enabled",
    "INFO cluster",
    "DBSIZE",
];

/// A reply with each node's id and port written as its place in the list;
/// CLUSTER SHARDS's elements sorted (redis lists them in its hash table's
/// order, percore in slot order).
fn normalised(line: &str, reply: &[u8], ids: &[String], ports: &[u16]) -> String {
    let mut text = if line == "CLUSTER SHARDS" {
        sorted_elements(reply)
    } else {
        String::from_utf8_lossy(reply).into_owned()
    };
    for (i, id) in ids.iter().enumerate() {
        text = text.replace(id.as_str(), &format!("{:<40}", format!("<id {i}>")));
    }
    for (i, port) in ports.iter().enumerate() {
        text = text.replace(&port.to_string(), &format!("<port {i}>"));
    }
    text
}

/// An array reply with its elements, each byte for byte, in sorted order.
fn sorted_elements(reply: &[u8]) -> String {
    let header = reply.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
    let (head, mut rest) = reply.split_at(header);
    let mut elements = Vec::new();
    while let Ok(Some(len)) = reply_len(rest) {
        elements.push(String::from_utf8_lossy(&rest[..len]).into_owned());
        rest = &rest[len..];
    }
    elements.sort();
    String::from_utf8_lossy(head).into_owned() + &elements.concat() + &String::from_utf8_lossy(rest)
}

#[test]
fn replies_equal_a_redis_cluster_byte_for_byte() {
    let dir = TempDir::new();
    let Some((_redis, redis_ports)) = redis_cluster(&dir) else {
        panic!("redis-server is missing: .ci/run installs it");
    };
    let nodes = Nodes::cluster(3, 2);
    let ids = |ports: &[u16]| -> Vec<String> {
        ports
            .iter()
            .map(|port| {
                let mut node = Resp::connect(SocketAddr::from(([127, 0, 0, 1], *port)));
                let reply = node.cmd("CLUSTER MYID");
                reply
                    .trim_end()
                    .rsplit('\n')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    let (redis_ids, ours_ids) = (ids(&redis_ports), ids(&nodes.ports));
    for node in [0, 2] {
        for hello in ["HELLO 2", "HELLO 3"] {
            let at = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
            let mut redis = Resp::connect(at(redis_ports[node]));
            let mut ours = Resp::connect(at(nodes.ports[node]));
            redis.cmd(hello);
            let greeting = ours.cmd(hello);
            assert!(
                greeting.contains("$4\r\nmode\r\n$7\r\ncluster\r\n"),
                "{greeting}"
            );
            for line in SEQUENCE {
                let expected =
                    normalised(line, &redis.call(&words(line)), &redis_ids, &redis_ports);
                let got = normalised(line, &ours.call(&words(line)), &ours_ids, &nodes.ports);
                assert_eq!(got, expected, "node {node}, {hello}: {line}");
            }
        }
    }
}
