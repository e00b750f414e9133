//! The entries of one shard, dense: a `Vec` of entries in positions
//! `0..len`, and a hash table from key to position. This is what an
//! `indexmap::IndexSet` is, built for the store's memory: the table holds
//! bare positions and the vector bare entries, where an `IndexSet` also keeps
//! every key's hash (8 bytes a key, plus the spare room its vector reserves
//! to match the table's), and rehashing on growth reads the keys instead.
//!
//! Dense positions give the two things a plain hash set cannot: a cursor
//! for SCAN that survives inserts and deletes (positions only ever move
//! down, [`Table::swap_remove`]), and a uniform pick for RANDOMKEY.
//!
//! Guarantees: an insert of a new key appends it at position `len`; a
//! replace keeps the key's position; a removal moves only the last entry,
//! into the freed position.

use std::cell::Cell;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::entry::Entry;
use super::KeyHasher;

/// Keys are hashed with the shard's randomly keyed [`KeyHasher`]: they
/// come from the network (`hasher.rs`).
#[derive(Debug, Default)]
pub(super) struct Table {
    hasher: KeyHasher,
    /// Each entry's position in `entries`, found by the entry's key.
    positions: HashTable<usize>,
    entries: Vec<Entry>,
    /// The position [`Table::get`] last found: a command's touch of the
    /// key it just read ([`Table::find_again`]) needs no second hash and
    /// probe (eviction's access clock, issue 26).
    last: Cell<usize>,
}

impl Table {
    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Starts loading the entries of the keys hashed to `hashes` into the
    /// cache, waiting for none: a lookup is three loads that each wait for
    /// the one before (the table's slot, the position's `entries` slot, the
    /// entry's allocation), and a batch's lookups made one after the other
    /// pay those misses in turn. Here each stage is issued for every key
    /// before the next stage starts, so the misses of a batch overlap.
    /// Candidates are every slot whose tag matches, keys uncompared: a
    /// wrong one costs a wasted prefetch, never a wrong answer.
    pub fn prefetch(&self, hashes: &[u64]) {
        let entries = &self.entries;
        for &hash in hashes {
            self.positions.find(hash, |&i| {
                prefetch(entries.as_ptr().wrapping_add(i).cast());
                false
            });
        }
        for &hash in hashes {
            self.positions.find(hash, |&i| {
                if let Some(entry) = entries.get(i) {
                    prefetch(entry.bytes().as_ptr());
                }
                false
            });
        }
    }

    /// The position of `key`'s entry.
    #[inline]
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        self.find_hashed(self.hash(key), key)
    }

    /// [`Table::find`] with the key's [`Table::hash`] already made.
    #[inline]
    pub fn find_hashed(&self, hash: u64, key: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        let matches = |&i: &usize| entries.get(i).is_some_and(|e| e.key() == key);
        self.positions.find(hash, matches).copied()
    }

    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        let i = self.find(key)?;
        self.last.set(i);
        self.entries.get(i)
    }

    /// [`Table::find`], trying first the position the last
    /// [`Table::get`] found (compared by key: positions move on removals).
    #[inline]
    pub fn find_again(&self, key: &[u8]) -> Option<usize> {
        let last = self.last.get();
        if self.entries.get(last).is_some_and(|e| e.key() == key) {
            return Some(last);
        }
        self.find(key)
    }

    /// The entry at `position`, if `position < len`.
    pub fn at(&self, position: usize) -> Option<&Entry> {
        self.entries.get(position)
    }

    /// The entry at `position`, to change its value or expiry: never its
    /// key, which would leave it unfindable.
    pub fn at_mut(&mut self, position: usize) -> Option<&mut Entry> {
        self.entries.get_mut(position)
    }

    /// Stores `entry`: in its key's position if the key is there (returning
    /// the entry it replaces), else appended at position `len`. `hash` is
    /// the key's [`Table::hash`], made once by the caller.
    pub fn insert_hashed(&mut self, hash: u64, entry: Entry) -> Option<Entry> {
        if let Some(i) = self.find_hashed(hash, entry.key()) {
            if let Some(slot) = self.entries.get_mut(i) {
                return Some(std::mem::replace(slot, entry));
            }
        }
        let (hasher, entries) = (&self.hasher, &self.entries);
        let rehash = |&i: &usize| entries.get(i).map_or(0, |e| hasher.hash_one(e.key()));
        self.positions.insert_unique(hash, entries.len(), rehash);
        self.entries.push(entry);
        None
    }

    /// Removes `key`'s entry; the last entry moves into its position. Two
    /// hashes: the key's, and the moved entry's to find its slot.
    pub fn swap_remove(&mut self, key: &[u8]) -> Option<Entry> {
        let entries = &self.entries;
        let matches = |&i: &usize| entries.get(i).is_some_and(|e| e.key() == key);
        let (position, _) = self
            .positions
            .find_entry(self.hasher.hash_one(key), matches)
            .ok()?
            .remove();
        let last = self.entries.len() - 1;
        if position != last {
            if let Some(moved) = self.entries.last() {
                let hash = self.hash(moved.key());
                if let Some(slot) = self.positions.find_mut(hash, |&i| i == last) {
                    *slot = position;
                }
            }
        }
        Some(self.entries.swap_remove(position))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Keeps the entries `keep` says yes to, in O(len).
    pub fn retain(&mut self, mut keep: impl FnMut(&Entry) -> bool) {
        self.entries.retain(|e| keep(e));
        let (hasher, entries) = (&self.hasher, &self.entries);
        self.positions.clear();
        self.positions.reserve(entries.len(), |&i| {
            entries.get(i).map_or(0, |e| hasher.hash_one(e.key()))
        });
        for (i, entry) in entries.iter().enumerate() {
            let rehash = |&j: &usize| entries.get(j).map_or(0, |e| hasher.hash_one(e.key()));
            self.positions
                .insert_unique(hasher.hash_one(entry.key()), i, rehash);
        }
    }

    /// Drops every entry and the memory they held.
    pub fn clear(&mut self) {
        self.positions = HashTable::new();
        self.entries = Vec::new();
    }
}

/// Asks the CPU to bring the cache line at `address` in, without waiting
/// for it ([`Table::prefetch`]).
#[inline(always)]
fn prefetch(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults and reads nothing the
    // program sees, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: u32) -> Entry {
        Entry::new(format!("key{i}").as_bytes(), &i.to_le_bytes(), None, 0)
    }

    #[test]
    fn positions_stay_dense_and_findable_through_growth_and_removals() {
        let mut table = Table::default();
        for i in 0..10_000 {
            assert!(table
                .insert_hashed(table.hash(entry(i).key()), entry(i))
                .is_none());
        }
        let before = table.find(b"key17");
        assert!(
            table
                .insert_hashed(table.hash(entry(17).key()), entry(17))
                .is_some(),
            "a replace"
        );
        assert_eq!(table.find(b"key17"), before, "keeps its position");
        for i in (0..10_000).filter(|i| i % 3 != 0) {
            let last = table.at(table.len() - 1).map(|e| e.key().to_vec());
            let position = table.find(format!("key{i}").as_bytes());
            assert!(table.swap_remove(format!("key{i}").as_bytes()).is_some());
            // Only the last entry moved, into the freed position.
            if let (Some(last), Some(position)) = (last, position) {
                if position < table.len() {
                    assert_eq!(table.find(&last), Some(position));
                }
            }
        }
        assert_eq!(table.len(), 3334);
        for i in 0..10_000 {
            let key = format!("key{i}");
            let found = table.find(key.as_bytes());
            assert_eq!(found.is_some(), i % 3 == 0, "{key}");
            if let Some(position) = found {
                assert_eq!(table.at(position).map(Entry::key), Some(key.as_bytes()));
            }
        }
        table.retain(|e| e.key().len() > 6);
        assert!(table.iter().all(|e| table.get(e.key()).is_some()));
        assert_eq!(
            table.len(),
            (0..10_000).filter(|i| i % 3 == 0 && *i >= 1000).count()
        );
    }
}
