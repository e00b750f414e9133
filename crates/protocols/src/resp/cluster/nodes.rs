//! The node table of a static cluster (docs/PROTOCOLS.md §6.4), read from
//! `--cluster-nodes ID=HOST:PORT,...` and `--cluster-id ID`: each node's
//! name, the address clients are sent to, its 40-hex node id, and its
//! contiguous range of slots. Membership is the command line, so every node
//! started with the same list computes the same table, and clients that ask
//! any node see one cluster.

use std::net::{Ipv4Addr, Ipv6Addr};

use thiserror::Error;

pub use percore::cross_shard::slot::slot_range;
use percore::cross_shard::slot::SLOTS;

/// What is wrong with the cluster options: one line, naming the option.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ClusterError {
    #[error("--cluster-id is given without --cluster-nodes (give both, or neither)")]
    IdWithoutNodes,
    #[error("--cluster-nodes is given without --cluster-id (say which listed node this is)")]
    NodesWithoutId,
    #[error("--cluster-nodes lists no node")]
    NoNodes,
    #[error("--cluster-nodes: '{0}' is not ID=HOST:PORT")]
    NotAnEntry(String),
    #[error("--cluster-nodes: '{entry}': {reason}")]
    BadAddress { entry: String, reason: String },
    #[error("--cluster-nodes: the id '{0}' is listed twice")]
    DuplicateId(String),
    #[error("--cluster-nodes: the address {0} is listed twice")]
    DuplicateAddress(String),
    #[error("--cluster-nodes: {0} nodes, but there are only 16384 slots to share")]
    TooManyNodes(usize),
    #[error("--cluster-id '{id}' is not in --cluster-nodes (ids listed: {listed})")]
    NotListed { id: String, listed: String },
    #[error("--cluster-shard-aware: node {node}'s {shards} shards need ports {port}+1 to {port}+{shards}, past 65535")]
    ShardPortsPast {
        node: String,
        port: u16,
        shards: usize,
    },
    #[error("--cluster-shard-aware is given, but resp is not served (see --services)")]
    ShardAwareWithoutResp,
    #[error("--cluster-shard-aware: the --resp address {0} is no address clients can reach; give --cluster-nodes and --cluster-id to say where this node is reached")]
    NoClientAddress(String),
}

/// One node of the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Its name on the command line (`A` of `A=10.0.0.1:6379`).
    pub name: String,
    /// The host clients are sent to, as written (an IPv6 address without
    /// its brackets, as Redis writes one in `-MOVED`).
    pub host: String,
    pub port: u16,
    /// The Redis node id: the SHA-1 of its name in lowercase hex, so the
    /// same on every node and across restarts.
    pub id: String,
    /// Its slots, first and last, both included.
    pub first_slot: u16,
    pub last_slot: u16,
}

impl Node {
    /// The port CLUSTER NODES writes after `@`: Redis's default cluster
    /// bus port, port + 10000, or 0 where that is no port. No bus listens
    /// there (no gossip); clients do not use it.
    pub fn bus_port(&self) -> u32 {
        let bus = u32::from(self.port) + 10_000;
        if bus <= u32::from(u16::MAX) {
            bus
        } else {
            0
        }
    }
}

/// The table read from the options: every node in the listed order, and
/// which one this node is.
pub fn parse(nodes: &str, me: &str) -> Result<(Vec<Node>, usize), ClusterError> {
    let entries: Vec<&str> = nodes
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    if entries.is_empty() {
        return Err(ClusterError::NoNodes);
    }
    if entries.len() > usize::from(SLOTS) {
        return Err(ClusterError::TooManyNodes(entries.len()));
    }
    let count = entries.len();
    let mut table: Vec<Node> = Vec::with_capacity(count);
    for (i, entry) in entries.iter().enumerate() {
        let (name, address) = entry
            .split_once('=')
            .filter(|(name, _)| valid_name(name))
            .ok_or_else(|| ClusterError::NotAnEntry(entry.to_string()))?;
        let (host, port) = parse_address(address).map_err(|reason| ClusterError::BadAddress {
            entry: entry.to_string(),
            reason,
        })?;
        if table.iter().any(|node| node.name == name) {
            return Err(ClusterError::DuplicateId(name.to_string()));
        }
        if table
            .iter()
            .any(|node| node.host.eq_ignore_ascii_case(&host) && node.port == port)
        {
            return Err(ClusterError::DuplicateAddress(address.to_string()));
        }
        let (first_slot, last_slot) = slot_range(i, count);
        table.push(Node {
            name: name.to_string(),
            host,
            port,
            id: node_id(name),
            first_slot,
            last_slot,
        });
    }
    let me = table
        .iter()
        .position(|node| node.name == me)
        .ok_or_else(|| ClusterError::NotListed {
            id: me.to_string(),
            listed: table
                .iter()
                .map(|node| node.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    Ok((table, me))
}

/// The shard-aware table (README "Shard-aware cluster mode"): every node of
/// `table` becomes `shards` nodes, one per shard, entry `j*shards + i` being
/// shard i of node j, reached at node j's host and port + 1 + i, named
/// `NAME/i` (its id the SHA-1 of that), with docs/PROTOCOLS.md §6.4's range of entry k of
/// `n*shards`: so the shards of node j together serve node j's plain
/// cluster-mode range, and the key placement by slot
/// ([`slot_owner`](percore::cross_shard::placement::slot_owner)) puts each key on
/// the shard whose entry serves its slot. Every node is assumed to run
/// `shards` shards: membership is the command line.
pub fn split_by_shard(table: &[Node], shards: usize) -> Result<Vec<Node>, ClusterError> {
    let entries = table.len() * shards;
    if entries > usize::from(SLOTS) {
        return Err(ClusterError::TooManyNodes(entries));
    }
    let mut split = Vec::with_capacity(entries);
    for (j, node) in table.iter().enumerate() {
        for i in 0..shards {
            let port = u16::try_from(i + 1)
                .ok()
                .and_then(|i| node.port.checked_add(i))
                .ok_or_else(|| ClusterError::ShardPortsPast {
                    node: node.name.clone(),
                    port: node.port,
                    shards,
                })?;
            let name = format!("{}/{i}", node.name);
            let (first_slot, last_slot) = slot_range(j * shards + i, entries);
            split.push(Node {
                id: node_id(&name),
                name,
                host: node.host.clone(),
                port,
                first_slot,
                last_slot,
            });
        }
    }
    Ok(split)
}

/// A node id as Redis writes one: 40 lowercase hex characters.
fn node_id(name: &str) -> String {
    // SHA-1 because a Redis node id is 160 bits in hex, and a hash of the
    // name makes it stable: the same on every node and after a restart,
    // with no file to keep. sha1_smol is small, has no dependencies, and is
    // the SHA-1 crate the field's tools use; this is not a security use.
    sha1_smol::Sha1::from(name.as_bytes()).digest().to_string()
}

/// A node's name: printable, no spaces (it appears in error messages).
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (b'!'..=b'~').contains(&b))
}

/// `HOST:PORT`, where HOST is an IPv4 address, an IPv6 address in
/// brackets, or a DNS name; PORT is 1 to 65535.
fn parse_address(address: &str) -> Result<(String, u16), String> {
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| format!("'{address}' has no port (HOST:PORT)"))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|&port| port != 0)
        .ok_or_else(|| format!("'{port}' is not a port (1 to 65535)"))?;
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner
            .parse::<Ipv6Addr>()
            .map(|ip| (ip.to_string(), port))
            .map_err(|_| format!("'{inner}' is not an IPv6 address"));
    }
    if host.parse::<Ipv4Addr>().is_ok() || valid_dns_name(host) {
        return Ok((host.to_string(), port));
    }
    if host.contains(':') {
        return Err(format!(
            "write an IPv6 address in brackets: [{host}]:{port}"
        ));
    }
    Err(format!("'{host}' is not an IP address or a host name"))
}

/// A DNS name: dot-separated labels of letters, digits and `-`, none
/// empty, none starting or ending with `-`; not all digits and dots (that
/// is a malformed IPv4 address).
fn valid_dns_name(host: &str) -> bool {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    host.len() <= 253
        && host.split('.').all(label_ok)
        && !host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_split_in_contiguous_near_equal_ranges() {
        assert_eq!(slot_range(0, 1), (0, 16383));
        assert_eq!(slot_range(0, 2), (0, 8191));
        assert_eq!(slot_range(1, 2), (8192, 16383));
        assert_eq!(
            (0..3).map(|i| slot_range(i, 3)).collect::<Vec<_>>(),
            [(0, 5460), (5461, 10921), (10922, 16383)]
        );
        for n in [1, 2, 3, 5, 7, 100, 1000, 16384] {
            let mut next = 0u32;
            for i in 0..n {
                let (first, last) = slot_range(i, n);
                assert_eq!(u32::from(first), next, "n={n} i={i}");
                assert!(last >= first);
                let size = u32::from(last - first) + 1;
                assert!(size == 16384 / n as u32 || size == 16384 / n as u32 + 1);
                next = u32::from(last) + 1;
            }
            assert_eq!(next, 16384);
        }
    }

    #[test]
    fn the_table_follows_the_list() {
        let (nodes, me) =
            parse("a=127.0.0.1:7001, b=[::1]:7002,c=node-3.example:7003", "b").expect("valid");
        assert_eq!(me, 1);
        assert_eq!(nodes[0].host, "127.0.0.1");
        assert_eq!(nodes[1].host, "::1");
        assert_eq!(nodes[2].host, "node-3.example");
        assert_eq!(nodes[2].port, 7003);
        assert_eq!((nodes[1].first_slot, nodes[1].last_slot), (5461, 10921));
        // SHA-1("a"), as `printf a | sha1sum` prints it.
        assert_eq!(nodes[0].id, "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8");
        assert_eq!(nodes[0].bus_port(), 17001);
        let (high, _) = parse("a=127.0.0.1:60000", "a").expect("valid");
        assert_eq!(high[0].bus_port(), 0);
    }

    #[test]
    fn each_shard_becomes_a_node_of_its_nodes_range() {
        let (table, _) = parse("a=10.0.0.1:6999,b=10.0.0.2:7099", "b").expect("valid");
        let split = split_by_shard(&table, 2).expect("valid");
        let seen: Vec<(&str, &str, u16, u16, u16)> = split
            .iter()
            .map(|n| {
                (
                    n.name.as_str(),
                    n.host.as_str(),
                    n.port,
                    n.first_slot,
                    n.last_slot,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("a/0", "10.0.0.1", 7000, 0, 4095),
                ("a/1", "10.0.0.1", 7001, 4096, 8191),
                ("b/0", "10.0.0.2", 7100, 8192, 12287),
                ("b/1", "10.0.0.2", 7101, 12288, 16383),
            ]
        );
        // The shards of a node serve what the node serves in plain mode.
        let (three, _) = parse("a=h:1,b=h:2,c=h:3", "a").expect("valid");
        let split = split_by_shard(&three, 4).expect("valid");
        for (j, node) in three.iter().enumerate() {
            assert_eq!(split[j * 4].first_slot, node.first_slot);
            assert_eq!(split[j * 4 + 3].last_slot, node.last_slot);
        }
        let (high, _) = parse("a=h:65534", "a").expect("valid");
        assert_eq!(
            split_by_shard(&high, 2).unwrap_err(),
            ClusterError::ShardPortsPast {
                node: "a".into(),
                port: 65534,
                shards: 2
            }
        );
        assert_eq!(
            split_by_shard(&table, 8193).unwrap_err(),
            ClusterError::TooManyNodes(16386)
        );
    }

    #[test]
    fn bad_options_name_the_problem() {
        let err = |nodes: &str, me: &str| parse(nodes, me).unwrap_err();
        assert_eq!(err("", "a"), ClusterError::NoNodes);
        assert_eq!(err("a", "a"), ClusterError::NotAnEntry("a".into()));
        assert_eq!(
            err("=1.2.3.4:5", "a"),
            ClusterError::NotAnEntry("=1.2.3.4:5".into())
        );
        assert!(matches!(
            err("a=1.2.3.4", "a"),
            ClusterError::BadAddress { .. }
        ));
        assert!(matches!(
            err("a=1.2.3.4:0", "a"),
            ClusterError::BadAddress { .. }
        ));
        assert!(matches!(
            err("a=1.2.3.4:70000", "a"),
            ClusterError::BadAddress { .. }
        ));
        assert!(matches!(
            err("a=1.2.3:5", "a"),
            ClusterError::BadAddress { .. }
        ));
        assert!(matches!(
            err("a=::1:5", "a"),
            ClusterError::BadAddress { .. }
        ));
        assert!(matches!(
            err("a=bad_host:5", "a"),
            ClusterError::BadAddress { .. }
        ));
        assert_eq!(
            err("a=h:1,a=h:2", "a"),
            ClusterError::DuplicateId("a".into())
        );
        assert_eq!(
            err("a=h:1,b=H:1", "a"),
            ClusterError::DuplicateAddress("H:1".into())
        );
        assert_eq!(
            err("a=h:1,b=h:2", "c"),
            ClusterError::NotListed {
                id: "c".into(),
                listed: "a, b".into()
            }
        );
        let many: Vec<String> = (0..16385)
            .map(|i| format!("n{i}=h:{}", i % 60000 + 1))
            .collect();
        assert_eq!(
            err(&many.join(","), "n0"),
            ClusterError::TooManyNodes(16385)
        );
    }
}
