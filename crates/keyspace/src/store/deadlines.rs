//! The keys with a TTL, ordered by expiry time: what the active sweep reads
//! to find expired keys without scanning the table.
//!
//! A `BTreeSet` of `(time, key)` rather than a `BinaryHeap` with lazy
//! invalidation: a heap cannot remove an entry when its key's TTL is changed,
//! removed or its key deleted, so a key whose TTL is pushed back on every
//! access (a session key) would leave one stale entry per access until the
//! old times pass, memory the `--max-memory` accounting could not bound. The
//! set holds exactly one entry per key with a TTL, and every change is
//! O(log n).

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// Expiry times of keys, earliest first.
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    set: BTreeSet<Deadline>,
}

/// One key's expiry time. Ordered by time, then key (the derived order, which
/// [`Probe`]'s order below repeats for lookups by borrowed key).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Deadline {
    at: u64,
    key: Box<[u8]>,
}

impl Deadlines {
    pub fn insert(&mut self, at: u64, key: &[u8]) {
        self.set.insert(Deadline {
            at,
            key: key.into(),
        });
    }

    /// Removes `key`'s entry at `at`, without allocating.
    pub fn remove(&mut self, at: u64, key: &[u8]) {
        self.set.remove(&(at, key) as &dyn Probe);
    }

    /// The earliest time and its key.
    pub fn first(&self) -> Option<(u64, &[u8])> {
        self.set.first().map(|d| (d.at, &*d.key))
    }

    /// Removes and returns the earliest entry if its time is at or before
    /// `now`.
    pub fn pop_expired(&mut self, now: u64) -> Option<(u64, Box<[u8]>)> {
        if self.set.first()?.at > now {
            return None;
        }
        self.set.pop_first().map(|d| (d.at, d.key))
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn clear(&mut self) {
        self.set.clear();
    }
}

/// A deadline seen as its parts, so that a stored `Deadline` and a borrowed
/// `(u64, &[u8])` compare alike: `BTreeSet::remove` takes any `Q` the stored
/// type borrows as, and `dyn Probe` is one both can be.
trait Probe {
    fn parts(&self) -> (u64, &[u8]);
}

impl Probe for Deadline {
    fn parts(&self) -> (u64, &[u8]) {
        (self.at, &self.key)
    }
}

impl Probe for (u64, &[u8]) {
    fn parts(&self) -> (u64, &[u8]) {
        (self.0, self.1)
    }
}

impl<'a> Borrow<dyn Probe + 'a> for Deadline {
    fn borrow(&self) -> &(dyn Probe + 'a) {
        self
    }
}

impl PartialEq for dyn Probe + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn Probe + '_ {}

impl PartialOrd for dyn Probe + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn Probe + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().cmp(&other.parts())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_removal_by_borrowed_key() {
        let mut deadlines = Deadlines::default();
        deadlines.insert(30, b"c");
        deadlines.insert(10, b"b");
        deadlines.insert(10, b"a");
        deadlines.insert(20, b"d");
        deadlines.remove(10, b"b");
        deadlines.remove(10, b"zzz");
        assert_eq!(deadlines.len(), 3);
        assert_eq!(deadlines.first(), Some((10, &b"a"[..])));
        assert_eq!(deadlines.pop_expired(9), None);
        assert_eq!(deadlines.pop_expired(25), Some((10, b"a"[..].into())));
        assert_eq!(deadlines.pop_expired(25), Some((20, b"d"[..].into())));
        assert_eq!(deadlines.pop_expired(25), None);
        assert_eq!(deadlines.len(), 1);
    }
}
