//! Cluster mode for resp (docs/PROTOCOLS.md §6.4): percore nodes that serve as one Redis
//! Cluster with static membership, so that cluster clients (redis-py's
//! RedisCluster, `redis-cli -c`) and proxies (Envoy's redis_proxy) spread
//! keys over several machines by themselves.
//!
//! Pure state, no runtime: the node table and slot ranges (`nodes.rs`),
//! hash slots (`slot.rs`), the check that sends a command for another
//! node's slot elsewhere (`redirect.rs`), the CLUSTER replies (`replies.rs`)
//! and the slot's keys on one shard (`slot_keys.rs`). Every shard holds its
//! own copy of the same [`Cluster`], built once from the command line, so a
//! MOVED check reads only the shard's own memory: no lock, no cross-shard
//! hop. Inside a node, keys live on shards by docs/PROTOCOLS.md §3.5's hash; in
//! shard-aware mode (`--cluster-shard-aware`) each shard is a node of the
//! cluster of its own, with its own port and slot range, and keys live on
//! shards by slot ([`percore::cross_shard::placement`]), so that a cluster client
//! reaches the owning core with no hop.

mod nodes;
mod redirect;
mod replies;
pub mod slot_keys;

/// Hash slots are how owners are computed in cluster placement: they live
/// with the owners (`percore::cross_shard::slot`).
pub use percore::cross_shard::slot;

#[cfg(test)]
mod measure;

pub use nodes::{slot_range, ClusterError, Node};
pub use redirect::Redirect;
pub use replies::run;

/// This node's view of the cluster: every node, and which one it is.
#[derive(Clone, Debug)]
pub struct Cluster {
    nodes: Vec<Node>,
    me: usize,
    /// The slots served here without MOVED, first and last: `me`'s range,
    /// or on a shard-aware node's shared port, the range of all its shards.
    served: (u16, u16),
    /// Shard-aware mode: every node's shard count (all nodes run as many).
    shards_per_node: Option<usize>,
}

impl Cluster {
    /// The cluster the options describe; `None` for neither option (not a
    /// cluster). Either option alone, or a list that does not name this
    /// node exactly once with unique ids and addresses, is an error.
    pub fn from_options(
        nodes: Option<&str>,
        id: Option<&str>,
    ) -> Result<Option<Cluster>, ClusterError> {
        match (nodes, id) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(ClusterError::IdWithoutNodes),
            (Some(_), None) => Err(ClusterError::NodesWithoutId),
            (Some(nodes), Some(id)) => {
                let (nodes, me) = nodes::parse(nodes, id)?;
                let served = (nodes[me].first_slot, nodes[me].last_slot);
                Ok(Some(Cluster {
                    nodes,
                    me,
                    served,
                    shards_per_node: None,
                }))
            }
        }
    }

    /// The same cluster in shard-aware mode: each node's `shards` shards are
    /// nodes of their own, shard i at the node's host and port + 1 + i
    /// (`nodes::split_by_shard`). `me` is this node's shard 0 until
    /// [`Cluster::on_shard`] says which shard reads it.
    pub fn shard_aware(self, shards: usize) -> Result<Cluster, ClusterError> {
        let shards = shards.max(1);
        let nodes = nodes::split_by_shard(&self.nodes, shards)?;
        let me = self.me * shards;
        Ok(Cluster {
            served: (nodes[me].first_slot, nodes[me + shards - 1].last_slot),
            nodes,
            me,
            shards_per_node: Some(shards),
        })
    }

    /// How many nodes the command line listed (in shard-aware mode, each is
    /// several entries of [`Cluster::nodes`]).
    pub fn listed_nodes(&self) -> usize {
        self.nodes.len() / self.shards_per_node.unwrap_or(1)
    }

    /// Shard `shard`'s views: the one for connections to the node's shared
    /// `--resp` port, and in shard-aware mode the one for connections to
    /// the shard's own port. Both name the shard's entry as `myself`; the
    /// shared port serves every slot of the node (a key another shard owns
    /// hops, as without cluster mode), the shard's port only its own slots
    /// (the others get `-MOVED` to their shard's port, so that a cluster
    /// client's every request reaches the owning core).
    pub fn on_shard(&self, shard: usize) -> (Cluster, Option<Cluster>) {
        let Some(shards) = self.shards_per_node else {
            return (self.clone(), None);
        };
        let me = self.me - self.me % shards + shard.min(shards - 1);
        let shared = Cluster { me, ..self.clone() };
        let own = Cluster {
            served: (self.nodes[me].first_slot, self.nodes[me].last_slot),
            ..shared.clone()
        };
        (shared, Some(own))
    }

    /// Every node, in the listed order (which is slot order).
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// This node.
    pub fn me(&self) -> &Node {
        &self.nodes[self.me]
    }

    /// Whether this node (or, in shard-aware mode, this view) serves `slot`.
    pub fn owns(&self, slot: u16) -> bool {
        (self.served.0..=self.served.1).contains(&slot)
    }

    /// The node that serves `slot` (every slot has one).
    pub fn owner(&self, slot: u16) -> &Node {
        let after = self.nodes.partition_point(|node| node.first_slot <= slot);
        &self.nodes[after.saturating_sub(1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_come_in_pairs() {
        assert!(matches!(Cluster::from_options(None, None), Ok(None)));
        assert_eq!(
            Cluster::from_options(None, Some("a")).unwrap_err(),
            ClusterError::IdWithoutNodes
        );
        assert_eq!(
            Cluster::from_options(Some("a=h:1"), None).unwrap_err(),
            ClusterError::NodesWithoutId
        );
    }

    #[test]
    fn every_slot_has_one_owner() {
        let cluster =
            Cluster::from_options(Some("a=127.0.0.1:1,b=127.0.0.1:2,c=127.0.0.1:3"), Some("c"))
                .expect("valid")
                .expect("a cluster");
        assert_eq!(cluster.me().name, "c");
        for slot in 0..slot::SLOTS {
            let owner = cluster.owner(slot);
            assert!((owner.first_slot..=owner.last_slot).contains(&slot));
            assert_eq!(cluster.owns(slot), owner.name == "c");
        }
        assert_eq!(cluster.owner(0).name, "a");
        assert_eq!(cluster.owner(5461).name, "b");
        assert_eq!(cluster.owner(16383).name, "c");
    }

    #[test]
    fn a_shard_port_serves_its_shard_and_the_shared_port_the_node() {
        let cluster = Cluster::from_options(Some("a=127.0.0.1:1,b=127.0.0.1:2"), Some("b"))
            .expect("valid")
            .expect("a cluster")
            .shard_aware(2)
            .expect("valid");
        assert_eq!(cluster.listed_nodes(), 2);
        let (shared, own) = cluster.on_shard(1);
        let own = own.expect("shard-aware");
        assert_eq!(shared.me().name, "b/1");
        assert_eq!(own.me().port, 4);
        for slot in [0u16, 8191, 8192, 12287, 12288, 16383] {
            assert_eq!(shared.owns(slot), slot >= 8192, "{slot}");
            assert_eq!(own.owns(slot), slot >= 12288, "{slot}");
        }
        assert_eq!(own.owner(9000).name, "b/0");
        assert_eq!(own.owner(0).name, "a/0");
        // Each shard's slots are the ones placement puts on it.
        for slot in 0..slot::SLOTS {
            let node = own.owner(slot);
            let entry = percore::cross_shard::placement::entry_of_slot(slot, 4);
            assert_eq!(node.name, cluster.nodes()[entry].name);
        }
    }
}
