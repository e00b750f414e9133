//! Cluster mode for resp (SPEC 6.4): percore nodes that serve as one Redis
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
//! hop. Inside a node, keys still live on shards by SPEC 3.5's hash.

mod nodes;
mod redirect;
mod replies;
pub mod slot;
pub mod slot_keys;

#[cfg(test)]
mod measure;

pub use nodes::{ClusterError, Node};
pub use redirect::Redirect;
pub use replies::run;

use redirect::KeyPositions;

/// This node's view of the cluster: every node, which one it is, and where
/// each served command's keys are.
#[derive(Clone, Debug)]
pub struct Cluster {
    nodes: Vec<Node>,
    me: usize,
    keys: KeyPositions,
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
                Ok(Some(Cluster {
                    nodes,
                    me,
                    keys: KeyPositions::of_served_commands(),
                }))
            }
        }
    }

    /// Every node, in the listed order (which is slot order).
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// This node.
    pub fn me(&self) -> &Node {
        &self.nodes[self.me]
    }

    /// Whether this node serves `slot`.
    pub fn owns(&self, slot: u16) -> bool {
        let me = self.me();
        (me.first_slot..=me.last_slot).contains(&slot)
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
}
