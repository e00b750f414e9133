//! One shard's part of the key space: its keys, values and expiry times,
//! shared by kv and resp (docs/PROTOCOLS.md §6.3). The store is plain state, used from its
//! shard's thread only; the caller reads the clock ([`now_ms`]) once per
//! batch and passes it in, so a store without TTLs never reads it.
//!
//! - `entry.rs`: one key, value and expiry time in a single allocation.
//! - `table.rs`: the entries, dense, found by key: the order SCAN walks.
//! - `deadlines.rs`: the keys with a TTL by expiry time, for the sweep.
//! - `values/`: hashes, sets, sorted sets and lists, and the slab they live
//!   in; `typed.rs`: the store's side of them.
//!
//! Expiry (docs/PROTOCOLS.md §6.2): a key whose time `at` is at or before `now` is gone
//! for every reader at once (lazy), and stays stored, counted by [`Store::len`]
//! and [`Store::bytes`], until a write to it or [`Store::sweep`] (active)
//! frees it. The service calls `sweep` from a per-shard timer, about every
//! 100 ms, with a budget of about 1,000 keys (some 0.3 ms: README "kv
//! memory"), and calls it again at once, after a yield, while a round uses
//! its whole budget; that bounds the memory expired keys hold without a
//! long pause.
//!
//! Measured on 1,000,000 16-byte keys with 32-byte values: see README ("kv
//! memory").

mod deadlines;
mod entry;
mod eviction;
mod hasher;
mod memory_cap;
mod scan;
mod table;
#[cfg(test)]
mod tests;
mod typed;
pub mod values;
mod victims;

use std::time::{SystemTime, UNIX_EPOCH};

use deadlines::Deadlines;
use entry::{Entry, MAX_KEY};
use eviction::Eviction;
pub use eviction::Policy;
pub use hasher::KeyHasher;
use table::Table;
use values::Slab;
pub use victims::EvictionSettings;

/// Milliseconds since the Unix epoch, the unit of every expiry time (what
/// Redis's PEXPIREAT takes). 0 if the clock is before the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

/// Keys, values and expiry times of one shard.
#[derive(Debug, Default)]
pub struct Store {
    table: Table,
    /// Exactly the keys whose entry has an expiry time, by that time.
    deadlines: Deadlines,
    /// Accounted memory: every entry's cost ([`Store::cost`], plus
    /// [`Store::ttl_cost`] for one with a TTL).
    bytes: u64,
    /// Past this, writes that add data are refused (`--max-memory`, this
    /// shard's share); `None`: no cap.
    cap: Option<u64>,
    /// The hashes, sets, sorted sets and lists, by the slot their entries
    /// hold.
    slab: Slab,
    /// `maxmemory-policy` and the clocks keys' accesses are read from
    /// (`eviction.rs`, `victims.rs`).
    eviction: Eviction,
}

/// A write refused for `--max-memory`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfMemory;

/// What one key costs besides its key and value bytes: its allocation's
/// header and length word, its place in the table and in the vector of
/// entries (measured: README "kv memory").
pub const ENTRY_OVERHEAD: u64 = 48;

/// What a TTL adds to a key besides a second copy of the key: the 8-byte
/// time in its entry, its place in the deadline index and the copy's
/// allocation header (measured: README "kv memory").
pub const TTL_OVERHEAD: u64 = 82;

/// How many keys [`Store::prefetch`] loads ahead: a pipelined batch's
/// worth (16 to 32 requests a read), few enough that the first are still
/// cached when served.
pub const PREFETCH_AHEAD: usize = 32;

/// Below this many keys a shard's table and entries stay in its caches,
/// its lookups do not miss, and prefetching them is only cost: the hop
/// bench's owner, reading 1,024 keys, spent 15 % more CPU per request with
/// it (results/scaling.md).
const PREFETCH_FROM_KEYS: usize = 4096;

impl Store {
    /// A store that refuses writes adding data past `cap` accounted bytes.
    pub fn with_cap(cap: Option<u64>) -> Store {
        let mut store = Store {
            cap,
            ..Store::default()
        };
        // Keys loaded at start are as accessed then; eviction's random
        // picks are keyed as the shard's hash is.
        store.eviction.set_now(now_ms());
        store.eviction.seed(store.table.hash(b"eviction"));
        store
    }

    /// Starts loading the entries of `keys` (the first
    /// [`PREFETCH_AHEAD`]) into the cache, so that a batch's lookups overlap
    /// their cache misses (`table.rs`, `Table::prefetch`). A store of fewer
    /// than `PREFETCH_FROM_KEYS` (4,096) keys is left as it is.
    pub fn prefetch<'k>(&self, keys: impl Iterator<Item = &'k [u8]>) {
        if self.table.len() < PREFETCH_FROM_KEYS {
            return;
        }
        let mut hashes = [0u64; PREFETCH_AHEAD];
        let mut n = 0;
        for (slot, key) in hashes.iter_mut().zip(keys) {
            *slot = self.table.hash(key);
            n += 1;
        }
        self.table.prefetch(&hashes[..n]);
    }

    /// `key`'s string value, unless it is absent, expired at `now`, or not a
    /// string. One hash lookup; the time is compared only for a key with a
    /// TTL.
    #[inline]
    pub fn get(&self, key: &[u8], now: u64) -> Option<&[u8]> {
        let entry = self.table.get(key)?;
        (!entry.expired(now) && !entry.is_aggregate()).then(|| entry.value())
    }

    /// `key`'s string value and expiry time, unless it is absent, expired or
    /// not a string.
    pub fn get_with_expiry(&self, key: &[u8], now: u64) -> Option<(&[u8], Option<u64>)> {
        let entry = self.table.get(key)?;
        (!entry.expired(now) && !entry.is_aggregate()).then(|| (entry.value(), entry.expiry()))
    }

    /// Sets `key` with no TTL, unless the memory cap refuses it.
    pub fn put(&mut self, key: &[u8], val: &[u8]) -> Result<(), OutOfMemory> {
        if self.refuses(key, val, false) {
            return Err(OutOfMemory);
        }
        self.load(key, val);
        Ok(())
    }

    /// Sets `key` to `val` with no TTL, whatever the cap (kv Put, Redis SET,
    /// and loading what was already acknowledged). Clears any TTL it had.
    pub fn load(&mut self, key: &[u8], val: &[u8]) {
        self.set(key, val, None);
    }

    /// Sets `key` to `val`, expiring at `at` (ms since the epoch; a time
    /// already past makes the key expired at once), whatever the cap.
    pub fn load_expiring(&mut self, key: &[u8], val: &[u8], at: u64) {
        self.set(key, val, Some(at));
    }

    /// Replaces `key`'s value and keeps its TTL (INCR, APPEND, SETRANGE, SET
    /// KEEPTTL), whatever the cap. A key absent or expired at `now` is set
    /// anew, with no TTL. Returns the TTL kept, which is what a log must
    /// record (a PutExpiring with it, or a Put).
    pub fn set_keep_ttl(&mut self, key: &[u8], val: &[u8], now: u64) -> Option<u64> {
        let at = self
            .table
            .get(key)
            .filter(|entry| !entry.expired(now))
            .and_then(Entry::expiry);
        self.set(key, val, at);
        at
    }

    fn set(&mut self, key: &[u8], val: &[u8], at: Option<u64>) {
        let hash = self.table.hash(key);
        // An overwrite that keeps the entry's layout (a string of the same
        // length, no TTL before or after: redis-benchmark's SET, a record
        // of fixed size updated) writes the value in place: no allocation,
        // and the accounting is unchanged.
        if at.is_none() {
            let found = self.table.find_hashed(hash, key);
            if let Some(entry) = found.and_then(|at| self.table.at_mut(at)) {
                if entry.overwrite_value(val) {
                    return;
                }
            }
        }
        let clock = self.eviction.new_clock();
        self.insert_entry_hashed(hash, key, Entry::new(key, val, at, clock));
    }

    /// Stores `entry` (of `key`), replacing (and forgetting) any entry of
    /// its key.
    fn insert_entry(&mut self, key: &[u8], entry: Entry) {
        self.insert_entry_hashed(self.table.hash(key), key, entry)
    }

    /// [`Store::insert_entry`] with the key's hash already made.
    fn insert_entry_hashed(&mut self, hash: u64, key: &[u8], entry: Entry) {
        let cost = Store::entry_cost(&self.slab, &entry);
        let at = entry.expiry();
        if let Some(old) = self.table.insert_hashed(hash, entry) {
            self.forget(&old);
        }
        if let Some(at) = at {
            self.deadlines.insert(at, key);
        }
        self.bytes += cost;
    }

    /// Takes a removed entry out of the accounting and the deadlines, and
    /// frees its aggregate.
    fn forget(&mut self, old: &Entry) {
        self.bytes -= Store::entry_cost(&self.slab, old);
        if let Some(at) = old.expiry() {
            self.deadlines.remove(at, old.key());
        }
        if let Some(slot) = old.slot() {
            self.slab.remove(slot);
        }
    }

    /// Removes `key`. True if it was live at `now`; an expired key is
    /// removed too, and reports false (Redis DEL counts only live keys).
    pub fn del(&mut self, key: &[u8], now: u64) -> bool {
        match self.table.swap_remove(key) {
            Some(old) => {
                self.forget(&old);
                !old.expired(now)
            }
            None => false,
        }
    }

    /// Removes `key` if it is expired at `now`; returns its position if it
    /// is live.
    fn live_position(&mut self, key: &[u8], now: u64) -> Option<usize> {
        let position = self.table.find(key)?;
        if self.table.at(position)?.expired(now) {
            self.del(key, now);
            return None;
        }
        Some(position)
    }

    /// Sets (or moves) `key`'s expiry time to `at`, ms since the epoch; a
    /// time already past makes it expired at once. False, and nothing
    /// changes, if `key` is not live at `now`. Not refused by the memory cap
    /// (Redis's EXPIRE is not either), though a first TTL costs
    /// [`Store::ttl_cost`] and copies the entry.
    pub fn expire_at(&mut self, key: &[u8], at: u64, now: u64) -> bool {
        self.set_expiry(key, Some(at), now).is_some()
    }

    /// Removes `key`'s TTL. True if it had one (and was live at `now`).
    pub fn persist(&mut self, key: &[u8], now: u64) -> bool {
        self.set_expiry(key, None, now)
            .is_some_and(|old| old.is_some())
    }

    /// Sets a live key's expiry; returns the one it had, or `None` if `key`
    /// is not live.
    fn set_expiry(&mut self, key: &[u8], at: Option<u64>, now: u64) -> Option<Option<u64>> {
        let position = self.live_position(key, now)?;
        let entry = self.table.at_mut(position)?;
        let (old_at, old_cost) = (entry.expiry(), Store::entry_cost(&self.slab, entry));
        entry.set_expiry(at);
        let new_cost = Store::entry_cost(&self.slab, entry);
        if let Some(old_at) = old_at {
            self.deadlines.remove(old_at, key);
        }
        if let Some(at) = at {
            self.deadlines.insert(at, key);
        }
        self.bytes = self.bytes - old_cost + new_cost;
        Some(old_at)
    }

    /// `None`: `key` is not live at `now`; `Some(None)`: live, no TTL;
    /// `Some(Some(at))`: live until `at` (TTL, PTTL, EXPIRETIME).
    pub fn expiry(&self, key: &[u8], now: u64) -> Option<Option<u64>> {
        let entry = self.table.get(key)?;
        (!entry.expired(now)).then(|| entry.expiry())
    }

    /// The active expiry: removes up to `budget` keys expired at `now`,
    /// earliest time first, and returns how many. It reads the deadline
    /// index only, O(log n) a key: never a key that is not expired, never a
    /// scan of the table. Fewer than `budget` removed means none is left.
    pub fn sweep(&mut self, now: u64, budget: usize) -> usize {
        self.sweep_with(now, budget, |_| {})
    }

    /// [`Store::sweep`], calling `freed` with each key it frees (resp's
    /// `expired` keyspace event).
    pub fn sweep_with(&mut self, now: u64, budget: usize, mut freed: impl FnMut(&[u8])) -> usize {
        let mut removed = 0;
        while removed < budget {
            let Some((_, key)) = self.deadlines.pop_expired(now) else {
                break;
            };
            if let Some(old) = self.table.swap_remove(&key) {
                self.bytes -= Store::entry_cost(&self.slab, &old);
                if let Some(slot) = old.slot() {
                    self.slab.remove(slot);
                }
                freed(&key);
            }
            removed += 1;
        }
        removed
    }

    /// The earliest expiry time of any key, expired or not: when a sweep
    /// next has work.
    pub fn next_expiry(&self) -> Option<u64> {
        self.deadlines.first().map(|(at, _)| at)
    }

    /// Keys stored, expired ones the sweep has not freed included (as
    /// Redis's DBSIZE counts them).
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.len() == 0
    }

    /// Keys stored with a TTL (INFO keyspace's `expires`), expired ones
    /// included.
    pub fn expiring_len(&self) -> usize {
        self.deadlines.len()
    }

    /// Accounted memory of every stored key, value and TTL.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Removes every key (FLUSHDB), and frees the memory they held.
    pub fn clear(&mut self) {
        self.table.clear();
        self.deadlines.clear();
        self.slab.clear();
        self.bytes = 0;
    }

    /// Takes every key out, leaving the store empty with its cap: a Clear
    /// whose keys may have to come back ([`Store::put_back`]).
    pub fn take_all(&mut self) -> Store {
        let mut empty = Store::with_cap(self.cap);
        empty.eviction = self.eviction.clone();
        std::mem::replace(self, empty)
    }

    /// Puts back the keys [`Store::take_all`] took, replacing what the store
    /// holds; the cap stays the current one.
    pub fn put_back(&mut self, old: Store) {
        let (cap, eviction) = (self.cap, self.eviction.clone());
        *self = old;
        self.cap = cap;
        self.eviction = eviction;
    }

    /// Removes every key `keep` says no to, in O(len): what a log's Clear
    /// does to the keys one old shard of a start with another shard count
    /// held.
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8]) -> bool) {
        let (deadlines, bytes, slab) = (&mut self.deadlines, &mut self.bytes, &mut self.slab);
        self.table.retain(|entry| {
            if keep(entry.key()) {
                return true;
            }
            *bytes -= Store::entry_cost(slab, entry);
            if let Some(at) = entry.expiry() {
                deadlines.remove(at, entry.key());
            }
            if let Some(slot) = entry.slot() {
                slab.remove(slot);
            }
            false
        });
    }

    /// Every key live at `now`, with its value and expiry time, in no order
    /// (a snapshot).
    pub fn for_each<'s>(
        &'s self,
        now: u64,
        mut visit: impl FnMut(&'s [u8], values::ValueRef<'s>, Option<u64>),
    ) {
        for entry in self.table.iter().filter(|entry| !entry.expired(now)) {
            if let Some(value) = self.value_of(entry) {
                visit(entry.key(), value, entry.expiry());
            }
        }
    }

    /// Every key live at `now`, sorted by bytes (kv ListKeys).
    pub fn sorted_keys(&self, now: u64) -> Vec<&[u8]> {
        let mut keys: Vec<&[u8]> = self
            .table
            .iter()
            .filter(|entry| !entry.expired(now))
            .map(Entry::key)
            .collect();
        keys.sort_unstable();
        keys
    }
}
