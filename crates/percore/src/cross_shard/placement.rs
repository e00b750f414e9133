//! Who owns a key or topic: one shard, chosen by a hash that every shard,
//! run and machine agrees on.
//!
//! Two placements, fixed for the life of the process before any shard
//! starts: docs/PROTOCOLS.md §3.5's FNV-1a hash (the default), or, in resp's shard-aware
//! cluster mode, by hash slot, so that each shard owns contiguous slot
//! ranges and can present itself to cluster clients as a node of its own
//! (README "Shard-aware cluster mode").

use std::sync::atomic::{AtomicUsize, Ordering};

use super::slot::{key_slot, SLOTS};

/// 0: keys are placed by FNV-1a. n > 0: by slot, in a cluster of n nodes
/// whose every node runs the same number of shards. Written once by the
/// command line before the server starts, read (one relaxed load, no lock)
/// by every placement decision.
static SLOT_PLACEMENT_NODES: AtomicUsize = AtomicUsize::new(0);

/// Places keys by slot from now on, for a cluster of `nodes` nodes
/// (docs/PROTOCOLS.md §6.4: slot ranges) of equal shard counts: see [`slot_owner`]. Call it
/// before the server starts, never while shards run.
pub fn place_by_slot(nodes: usize) {
    SLOT_PLACEMENT_NODES.store(nodes, Ordering::Relaxed);
}

/// The shard that owns `key` among `shards`. By default 64-bit FNV-1a of
/// the bytes, modulo the shard count: stable across runs, builds and
/// machines, as docs/PROTOCOLS.md §3.5 asks, and documented in README so that clients may
/// route themselves. After [`place_by_slot`], [`slot_owner`].
pub fn owner_of(key: &[u8], shards: usize) -> usize {
    // One shard owns everything: no hash to make (it was ~2.6 % of a
    // one-shard resp server's CPU under `redis-benchmark -P 16`).
    if shards <= 1 {
        return 0;
    }
    match SLOT_PLACEMENT_NODES.load(Ordering::Relaxed) {
        0 => fnv_owner(key, shards),
        nodes => slot_owner(key, nodes, shards),
    }
}

/// docs/PROTOCOLS.md §3.5's placement: FNV-1a of the key, modulo the shard count.
pub fn fnv_owner(key: &[u8], shards: usize) -> usize {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let hash = key
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    (hash % shards.max(1) as u64) as usize
}

/// Shard-aware placement: the cluster's `nodes × shards` shard-nodes split
/// the 16,384 slots as docs/PROTOCOLS.md §6.4 splits them among nodes (entry k of m owns
/// `[k*16384/m, (k+1)*16384/m)`), entry k being shard `k % shards` of node
/// `k / shards`; a key belongs to the shard of the entry that owns its slot
/// (its hash tag's, when it has one). The entries of one node together own
/// exactly that node's docs/PROTOCOLS.md §6.4 range, so nodes agree with plain cluster
/// mode on which node serves a slot; a key of a slot another node serves
/// (kv, or a connection to the shared port) still has one owner here.
pub fn slot_owner(key: &[u8], nodes: usize, shards: usize) -> usize {
    let shards = shards.max(1);
    let entries = nodes.max(1) * shards;
    (entry_of_slot(key_slot(key), entries)) % shards
}

/// The entry of `entries` whose docs/PROTOCOLS.md §6.4 range holds `slot`: the largest k
/// with `k*16384/entries <= slot`, i.e. `((slot+1)*entries - 1) / 16384`.
pub fn entry_of_slot(slot: u16, entries: usize) -> usize {
    ((usize::from(slot) + 1) * entries - 1) / usize::from(SLOTS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cross_shard::slot::slot_range;

    #[test]
    fn owners_are_stable_and_spread() {
        // Fixed values: the hash is part of the contract.
        assert_eq!(fnv_owner(b"", 4), (0xcbf2_9ce4_8422_2325u64 % 4) as usize);
        assert_eq!(fnv_owner(b"foo", 1), 0);
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            counts[fnv_owner(format!("key:{i:012}").as_bytes(), 4)] += 1;
        }
        assert!(counts.iter().all(|&n| n > 800), "{counts:?}");
    }

    #[test]
    fn a_slot_belongs_to_the_entry_whose_range_holds_it() {
        for entries in [1, 2, 3, 4, 6, 7, 64, 16384] {
            for k in 0..entries {
                let (first, last) = slot_range(k, entries);
                assert_eq!(entry_of_slot(first, entries), k, "{entries} {k}");
                assert_eq!(entry_of_slot(last, entries), k, "{entries} {k}");
            }
        }
    }

    #[test]
    fn slot_placement_keeps_tags_together_and_spreads() {
        assert_eq!(
            slot_owner(b"{user:42}:name", 1, 4),
            slot_owner(b"{user:42}:mail", 1, 4)
        );
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            counts[slot_owner(format!("key:{i}").as_bytes(), 2, 4)] += 1;
        }
        assert!(counts.iter().all(|&n| n > 800), "{counts:?}");
    }
}
