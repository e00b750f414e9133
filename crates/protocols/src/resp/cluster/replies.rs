//! The CLUSTER commands in cluster mode (docs/PROTOCOLS.md §6.4): SLOTS, SHARDS, NODES,
//! INFO, MYID, KEYSLOT, and READONLY / READWRITE, written byte for byte as
//! a redis-server 7.0 cluster node writes them (the shapes were taken from
//! a live three-node redis cluster, in RESP2 and RESP3), so that cluster
//! clients and proxies parse them with their own code. Every node is a
//! master with no replica, always connected and healthy: membership is the
//! command line. COUNTKEYSINSLOT and GETKEYSINSLOT ask every shard and are
//! in `slot_keys.rs`.

use std::time::{SystemTime, UNIX_EPOCH};

use super::super::command_table;
use super::super::commands::{connection::wrong_arity, Cmd};
use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;
use super::slot::key_slot;
use super::{Cluster, Node};

/// Runs CLUSTER (all but the subcommands over every shard), READONLY or
/// READWRITE on a cluster node.
pub fn run(cluster: &Cluster, cmd: Cmd, args: &Command<'_>, proto: Proto, out: &mut Vec<u8>) {
    match cmd {
        // Every node is a master: reading from replicas changes nothing.
        Cmd::ReadOnly | Cmd::ReadWrite => write::ok(out),
        Cmd::Cluster => match subcommand(args, out) {
            Some("cluster|slots") => slots(cluster, proto, out),
            Some("cluster|shards") => shards(cluster, proto, out),
            Some("cluster|nodes") => write::verbatim(out, nodes_text(cluster).as_bytes(), proto),
            Some("cluster|info") => write::verbatim(out, info_text(cluster).as_bytes(), proto),
            Some("cluster|myid") => write::bulk(out, cluster.me().id.as_bytes()),
            Some("cluster|help") => super::super::commands::help::write_help(
                out,
                args.at(0),
                super::super::commands::help::CLUSTER,
            ),
            Some("cluster|keyslot") => write::int(out, i64::from(key_slot(args.at(2)))),
            Some(_) => write::error(out, "ERR internal: a CLUSTER subcommand over every shard"),
            None => {}
        },
        _ => write::error(out, "ERR internal: not a cluster command"),
    }
}

/// The served subcommand `args` names (`cluster|slots`...), with its arity
/// checked; else writes redis's error and returns `None`.
pub(super) fn subcommand(args: &Command<'_>, out: &mut Vec<u8>) -> Option<&'static str> {
    let entry = command_table::lookup(b"cluster")
        .and_then(|parent| command_table::lookup_subcommand(parent, args.at(1)));
    match entry {
        None => {
            let shown = String::from_utf8_lossy(args.at(1));
            write::error(
                out,
                &format!("ERR unknown subcommand '{shown}'. Try CLUSTER HELP."),
            );
            None
        }
        Some(entry) if !command_table::arity_ok(entry, args.len()) => {
            wrong_arity(out, entry.name);
            None
        }
        Some(entry) => Some(entry.name),
    }
}

/// `CLUSTER SLOTS`: per node, its range, then its endpoint, port, id and
/// an empty map of metadata.
fn slots(cluster: &Cluster, proto: Proto, out: &mut Vec<u8>) {
    write::array_len(out, cluster.nodes().len());
    for node in cluster.nodes() {
        write::array_len(out, 3);
        write::int(out, i64::from(node.first_slot));
        write::int(out, i64::from(node.last_slot));
        write::array_len(out, 4);
        write::bulk(out, node.host.as_bytes());
        write::int(out, i64::from(node.port));
        write::bulk(out, node.id.as_bytes());
        write::map_len(out, 0, proto);
    }
}

/// `CLUSTER SHARDS`: per node, a map of its slot ranges and its one node.
fn shards(cluster: &Cluster, proto: Proto, out: &mut Vec<u8>) {
    write::array_len(out, cluster.nodes().len());
    for node in cluster.nodes() {
        write::map_len(out, 2, proto);
        write::bulk(out, b"slots");
        write::array_len(out, 2);
        write::int(out, i64::from(node.first_slot));
        write::int(out, i64::from(node.last_slot));
        write::bulk(out, b"nodes");
        write::array_len(out, 1);
        write::map_len(out, 7, proto);
        write::bulk(out, b"id");
        write::bulk(out, node.id.as_bytes());
        write::bulk(out, b"port");
        write::int(out, i64::from(node.port));
        write::bulk(out, b"ip");
        write::bulk(out, node.host.as_bytes());
        write::bulk(out, b"endpoint");
        write::bulk(out, node.host.as_bytes());
        write::bulk(out, b"role");
        write::bulk(out, b"master");
        write::bulk(out, b"replication-offset");
        write::int(out, 0);
        write::bulk(out, b"health");
        write::bulk(out, b"online");
    }
}

/// `CLUSTER NODES`: one line per node, `\n`-terminated: id,
/// `host:port@busport`, flags, master (`-`), ping sent, pong received (now:
/// every node counts as reachable), config epoch (its place in the list,
/// from 1: unique, as Redis wants), link state, slot range.
fn nodes_text(cluster: &Cluster) -> String {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut text = String::new();
    for (i, node) in cluster.nodes().iter().enumerate() {
        let myself = if node == cluster.me() { "myself," } else { "" };
        text.push_str(&format!(
            "{} {}:{}@{} {myself}master - 0 {now_ms} {} connected {}\n",
            node.id,
            node.host,
            node.port,
            node.bus_port(),
            i + 1,
            range_text(node),
        ));
    }
    text
}

/// A slot range as CLUSTER NODES writes it: `first-last`, or one slot alone.
fn range_text(node: &Node) -> String {
    if node.first_slot == node.last_slot {
        node.first_slot.to_string()
    } else {
        format!("{}-{}", node.first_slot, node.last_slot)
    }
}

/// `CLUSTER INFO`: redis 7.0's fields, `\r\n`-terminated, as a node of
/// a cluster whose bus sent nothing writes them. The state is always ok:
/// every slot is served by a listed node.
fn info_text(cluster: &Cluster) -> String {
    let known = cluster.nodes().len();
    let my_epoch = cluster
        .nodes()
        .iter()
        .position(|node| node == cluster.me())
        .map_or(0, |i| i + 1);
    // Redis writes a message type's counts only when not zero: with no
    // bus, only the totals are left.
    let fields: [(&str, usize); 11] = [
        ("cluster_slots_assigned", 16_384),
        ("cluster_slots_ok", 16_384),
        ("cluster_slots_pfail", 0),
        ("cluster_slots_fail", 0),
        ("cluster_known_nodes", known),
        ("cluster_size", known),
        ("cluster_current_epoch", known),
        ("cluster_my_epoch", my_epoch),
        ("cluster_stats_messages_sent", 0),
        ("cluster_stats_messages_received", 0),
        ("total_cluster_links_buffer_limit_exceeded", 0),
    ];
    let mut text = String::from("cluster_state:ok\r\n");
    for (name, value) in fields {
        text.push_str(&format!("{name}:{value}\r\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::super::protocol::{encode_command, parse_command, Args};
    use super::*;

    fn three(me: &str) -> Cluster {
        Cluster::from_options(
            Some("a=127.0.0.1:17001,b=127.0.0.1:17002,c=127.0.0.1:17003"),
            Some(me),
        )
        .expect("valid")
        .expect("a cluster")
    }

    fn reply(cluster: &Cluster, line: &str, proto: Proto) -> String {
        let mut frame = Vec::new();
        let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        encode_command(words.iter().copied(), &mut frame);
        let mut args = Args::default();
        parse_command(&frame, &mut args).expect("parses");
        let command = args.view(&frame);
        let cmd = super::super::super::commands::lookup(command.at(0))
            .expect("served")
            .cmd;
        let mut out = Vec::new();
        run(cluster, cmd, &command, proto, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    // The ids: SHA-1 of "a", "b", "c".
    const A: &str = "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8";
    const B: &str = "e9d71f5ee7c92d6dc9e92ffdad17b8bd49418f98";
    const C: &str = "84a516841ba77a5b4648de2cd0dfcb30ea46dbb4";

    #[test]
    fn slots_are_written_as_redis_writes_them() {
        let node = |first: u32, last: u32, port: u32, id: &str, map: &str| {
            format!("*3\r\n:{first}\r\n:{last}\r\n*4\r\n$9\r\n127.0.0.1\r\n:{port}\r\n$40\r\n{id}\r\n{map}0\r\n")
        };
        let expected = |map: &str| {
            format!(
                "*3\r\n{}{}{}",
                node(0, 5460, 17001, A, map),
                node(5461, 10921, 17002, B, map),
                node(10922, 16383, 17003, C, map)
            )
        };
        assert_eq!(
            reply(&three("a"), "CLUSTER SLOTS", Proto::Resp2),
            expected("*")
        );
        assert_eq!(
            reply(&three("b"), "cluster slots", Proto::Resp3),
            expected("%")
        );
    }

    #[test]
    fn shards_are_written_as_redis_writes_them() {
        let shard = |first: u32, last: u32, port: u32, id: &str, map: &str, fields: u32| {
            format!(
                "{map}{}\r\n$5\r\nslots\r\n*2\r\n:{first}\r\n:{last}\r\n$5\r\nnodes\r\n*1\r\n{map}{fields}\r\n\
                 $2\r\nid\r\n$40\r\n{id}\r\n$4\r\nport\r\n:{port}\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n\
                 $8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n\
                 $18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n",
                if map == "*" { 4 } else { 2 }
            )
        };
        let expected = |map: &str, fields: u32| {
            format!(
                "*3\r\n{}{}{}",
                shard(0, 5460, 17001, A, map, fields),
                shard(5461, 10921, 17002, B, map, fields),
                shard(10922, 16383, 17003, C, map, fields)
            )
        };
        assert_eq!(
            reply(&three("c"), "CLUSTER SHARDS", Proto::Resp2),
            expected("*", 14)
        );
        assert_eq!(
            reply(&three("c"), "CLUSTER SHARDS", Proto::Resp3),
            expected("%", 7)
        );
    }

    #[test]
    fn nodes_info_and_myid_are_redis_text() {
        let b = three("b");
        let nodes = nodes_text(&b);
        let lines: Vec<Vec<&str>> = nodes.lines().map(|l| l.split(' ').collect()).collect();
        assert!(nodes.ends_with('\n') && lines.len() == 3);
        assert_eq!(lines[0][..4], [A, "127.0.0.1:17001@27001", "master", "-"]);
        assert_eq!(
            lines[1][..4],
            [B, "127.0.0.1:17002@27002", "myself,master", "-"]
        );
        assert_eq!(lines[2][6..], ["3", "connected", "10922-16383"]);
        assert!(lines[1][5].parse::<u64>().is_ok());
        let resp2 = reply(&b, "CLUSTER NODES", Proto::Resp2);
        assert!(resp2.starts_with(&format!("${}\r\n{A} ", nodes.len())));
        let resp3 = reply(&b, "CLUSTER NODES", Proto::Resp3);
        assert!(resp3.starts_with(&format!("={}\r\ntxt:{A} ", nodes.len() + 4)));

        // As a redis 7.0 cluster node whose bus sent nothing writes it.
        let info = "cluster_state:ok\r\ncluster_slots_assigned:16384\r\n\
                    cluster_slots_ok:16384\r\ncluster_slots_pfail:0\r\n\
                    cluster_slots_fail:0\r\ncluster_known_nodes:3\r\ncluster_size:3\r\n\
                    cluster_current_epoch:3\r\ncluster_my_epoch:2\r\n\
                    cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n\
                    total_cluster_links_buffer_limit_exceeded:0\r\n";
        assert_eq!(
            reply(&b, "CLUSTER INFO", Proto::Resp2),
            format!("${}\r\n{info}\r\n", info.len())
        );
        assert_eq!(
            reply(&b, "CLUSTER INFO", Proto::Resp3),
            format!("={}\r\ntxt:{info}\r\n", info.len() + 4)
        );
        assert_eq!(
            reply(&b, "CLUSTER MYID", Proto::Resp2),
            format!("$40\r\n{B}\r\n")
        );
        assert_eq!(reply(&b, "CLUSTER KEYSLOT foo", Proto::Resp2), ":12182\r\n");
        assert_eq!(reply(&b, "READONLY", Proto::Resp2), "+OK\r\n");
        assert_eq!(reply(&b, "READWRITE", Proto::Resp3), "+OK\r\n");
    }

    #[test]
    fn errors_equal_redis() {
        let a = three("a");
        let r2 = |line| reply(&a, line, Proto::Resp2);
        assert_eq!(
            r2("CLUSTER FOO"),
            "-ERR unknown subcommand 'FOO'. Try CLUSTER HELP.\r\n"
        );
        assert_eq!(
            r2("CLUSTER KEYSLOT a b"),
            "-ERR wrong number of arguments for 'cluster|keyslot' command\r\n"
        );
        assert_eq!(
            r2("CLUSTER SLOTS x"),
            "-ERR wrong number of arguments for 'cluster|slots' command\r\n"
        );
        assert_eq!(
            r2("CLUSTER MYID x"),
            "-ERR wrong number of arguments for 'cluster|myid' command\r\n"
        );
    }

    #[test]
    fn a_one_slot_range_is_one_number() {
        let node = |first, last| Node {
            name: "n".into(),
            host: "h".into(),
            port: 1,
            id: String::new(),
            first_slot: first,
            last_slot: last,
        };
        assert_eq!(range_text(&node(7, 7)), "7");
        assert_eq!(range_text(&node(0, 16383)), "0-16383");
    }
}
