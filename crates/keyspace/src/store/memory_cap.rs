//! The memory cap (`--max-memory`, CONFIG SET maxmemory; docs/PROTOCOLS.md
//! §7.3): what an entry costs as accounted, and whether a write fits under
//! the shard's share of the cap. What makes room when it does not is
//! `victims.rs`.

use super::*;

impl Store {
    /// What a key with this value and no TTL costs, as accounted.
    pub fn cost(key: &[u8], val: &[u8]) -> u64 {
        (key.len() + val.len()) as u64 + ENTRY_OVERHEAD
    }

    /// What a TTL on `key` adds to its cost.
    pub fn ttl_cost(key: &[u8]) -> u64 {
        key.len() as u64 + TTL_OVERHEAD
    }

    pub(super) fn entry_cost(slab: &Slab, entry: &Entry) -> u64 {
        let ttl = entry.expiry().map_or(0, |_| Store::ttl_cost(entry.key()));
        let elements = entry
            .slot()
            .and_then(|slot| slab.get(slot))
            .map_or(0, values::Aggregate::bytes);
        Store::cost(entry.key(), entry.value()) + ttl + elements
    }

    /// Whether setting `key` to `val` (with a TTL if `ttl`) is refused by
    /// the memory cap: only a write that adds data past it is. A key longer
    /// than an entry holds (2 GiB) is refused whatever the cap; every write
    /// that is not a replay of the log (whose fields are at most 1 GiB)
    /// asks first.
    pub fn refuses(&self, key: &[u8], val: &[u8], ttl: bool) -> bool {
        if key.len() > MAX_KEY {
            return true;
        }
        let Some(cap) = self.cap else {
            return false;
        };
        let old = self
            .table
            .get(key)
            .map_or(0, |e| Store::entry_cost(&self.slab, e));
        let new = Store::cost(key, val) + if ttl { Store::ttl_cost(key) } else { 0 };
        new > old && self.bytes - old + new > cap
    }

    /// Whether `key` set to `val` (with a TTL if `ttl`) is refused even by
    /// an empty store: eviction would free everything for nothing.
    pub fn never_fits(&self, key: &[u8], val: &[u8], ttl: bool) -> bool {
        let new = Store::cost(key, val) + if ttl { Store::ttl_cost(key) } else { 0 };
        key.len() > MAX_KEY || self.cap.is_some_and(|cap| new > cap)
    }

    /// Whether setting every pair (with no TTL) is refused by the memory
    /// cap, taken together: what an all-or-nothing write (MSET's part on
    /// one shard) asks first. A key named twice counts twice, which can
    /// only refuse sooner.
    pub fn refuses_all<'k>(&self, pairs: impl Iterator<Item = (&'k [u8], &'k [u8])>) -> bool {
        let mut added = 0u64;
        for (key, val) in pairs {
            if key.len() > MAX_KEY {
                return true;
            }
            let old = self
                .table
                .get(key)
                .map_or(0, |e| Store::entry_cost(&self.slab, e));
            added += Store::cost(key, val).saturating_sub(old);
        }
        self.cap
            .is_some_and(|cap| added > 0 && self.bytes + added > cap)
    }

    /// Whether the memory cap leaves no room for even the smallest new key
    /// (an empty name and value): the store is full. resp's MULTI asks it
    /// where Redis asks whether its used memory is past `maxmemory`
    /// (queuing, and EXEC, of a command that may add data).
    /// Under an eviction policy with keys it may take, a write would evict
    /// first: not full, as Redis evicts before it compares.
    pub fn full(&self) -> bool {
        self.cap
            .is_some_and(|cap| self.bytes.saturating_add(ENTRY_OVERHEAD) > cap)
            && !self.may_evict()
    }

    /// Changes the memory cap (CONFIG SET maxmemory); `None`: no cap. Keys
    /// already held stay: only later writes that add data are refused.
    pub fn set_cap(&mut self, cap: Option<u64>) {
        self.cap = cap;
    }
}
