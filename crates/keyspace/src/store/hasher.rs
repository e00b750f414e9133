//! The hash of every table in the key space: the shard's keys
//! (`table.rs`) and the fields, members and sorted-set members of its
//! values (`values/`).
//!
//! Keys and members come from the network, so the hash is keyed with
//! random seeds (a fixed hash would let a client aim every key at one
//! bucket): aHash, seeded once per process from the OS's random source and
//! once per shard thread from its own counter, which hashes a short key in a
//! fraction of std's SipHash time (results/counts.md, "The key space's
//! hash"). A value's table takes its shard's seeds: making one touches no
//! memory another shard writes (aHash's own `RandomState::new` bumps a
//! process-wide atomic counter).

use std::hash::BuildHasher;

/// A [`BuildHasher`] with its shard's random seeds; `Default` gives them.
#[derive(Clone, Debug)]
pub struct KeyHasher(ahash::RandomState);

thread_local! {
    /// This shard thread's seeds, drawn once.
    static SHARD_SEEDS: ahash::RandomState = ahash::RandomState::new();
}

impl Default for KeyHasher {
    fn default() -> KeyHasher {
        KeyHasher(SHARD_SEEDS.with(Clone::clone))
    }
}

impl BuildHasher for KeyHasher {
    type Hasher = ahash::AHasher;

    #[inline]
    fn build_hasher(&self) -> ahash::AHasher {
        self.0.build_hasher()
    }
}
