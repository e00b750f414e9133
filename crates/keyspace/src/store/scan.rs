//! Walking a shard's keys a step at a time (SCAN) and picking one at random
//! (RANDOMKEY), over the table's dense positions.
//!
//! SCAN walks positions from the top down. Between steps, keys come and go,
//! but only in two ways (`table.rs`): a new key is appended at the top, and
//! a removal moves the last key, the highest position, down into the freed
//! one. So a key's position never rises, and a key at or below the next
//! position to visit stays there: a key present for a whole iteration is
//! visited, and a key may be visited twice only if it was moved down from
//! the part already walked (which Redis allows too).

use super::entry::Entry;
use super::Store;

/// Random picks of RANDOMKEY before it walks on from the last one.
const RANDOM_TRIES: usize = 16;

impl Store {
    /// One step of a SCAN over this shard: visits the keys live at `now` in
    /// the next `count` positions (at least 1) and returns the cursor to
    /// pass next, 0 once the iteration is complete. A cursor of 0 starts
    /// one. A full iteration visits every key present for its whole length
    /// at least once, whatever keys are added and removed between steps;
    /// keys added meanwhile may or may not be visited. Each step is O(count).
    ///
    /// The cursor is the number of positions still to visit (positions
    /// `0..cursor`), so it is at most [`Store::len`]: small enough for a
    /// caller to put a shard number in its high bits.
    pub fn scan<'s>(
        &'s self,
        cursor: u64,
        count: usize,
        now: u64,
        mut visit: impl FnMut(&'s [u8]),
    ) -> u64 {
        let len = self.table.len();
        let mut left = match cursor {
            0 => len,
            cursor => usize::try_from(cursor).map_or(len, |c| c.min(len)),
        };
        let stop = left.saturating_sub(count.max(1));
        while left > stop {
            left -= 1;
            if let Some(entry) = self.table.at(left).filter(|e| !e.expired(now)) {
                visit(entry.key());
            }
        }
        left as u64
    }

    /// A key live at `now`, chosen by `seed` (RANDOMKEY): `None` only if
    /// there is none. O(1) while most keys are live; past a few picks of
    /// expired keys it walks on from the last pick, through at most the
    /// expired keys the sweep has not freed yet.
    pub fn random_key(&self, now: u64, seed: u64) -> Option<&[u8]> {
        let len = self.table.len();
        if len == 0 {
            return None;
        }
        let mut state = seed;
        let mut pick = 0;
        for _ in 0..RANDOM_TRIES {
            pick = (split_mix(&mut state) % len as u64) as usize;
            match self.table.at(pick) {
                Some(entry) if !entry.expired(now) => return Some(entry.key()),
                _ => {}
            }
        }
        (0..len)
            .filter_map(|step| self.table.at((pick + step) % len))
            .find(|entry| !entry.expired(now))
            .map(Entry::key)
    }
}

/// SplitMix64: one well-mixed number per call from any seed, so that
/// consecutive seeds pick unrelated positions.
fn split_mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::super::tests::{key, op, Op};
    use super::*;

    #[test]
    fn random_key_finds_a_live_key_when_there_is_one() {
        let mut store = Store::default();
        assert_eq!(store.random_key(0, 1), None);
        for i in 0..1000 {
            store.load_expiring(format!("gone{i}").as_bytes(), b"v", 10);
        }
        assert_eq!(store.random_key(10, 7), None, "every key expired");
        store.load(b"live", b"v");
        for seed in 0..20 {
            assert_eq!(store.random_key(10, seed), Some(&b"live"[..]));
        }
        let picked: BTreeSet<&[u8]> = (0..200)
            .filter_map(|seed| store.random_key(0, seed))
            .collect();
        assert!(
            picked.len() > 100,
            "seeds spread the picks: {}",
            picked.len()
        );
    }

    #[test]
    fn scan_walks_every_key_once_when_nothing_changes() {
        let mut store = Store::default();
        assert_eq!(store.scan(0, 10, 0, |_| panic!("empty")), 0);
        for i in 0..25 {
            store.load(format!("k{i}").as_bytes(), b"v");
        }
        store.load_expiring(b"expired", b"v", 1);
        let mut seen = Vec::new();
        let mut cursor = store.scan(0, 10, 1, |key| seen.push(key.to_vec()));
        let mut steps = 1;
        while cursor != 0 {
            cursor = store.scan(cursor, 10, 1, |key| seen.push(key.to_vec()));
            steps += 1;
        }
        assert_eq!(steps, 3);
        seen.sort();
        let mut expected: Vec<Vec<u8>> = (0..25).map(|i| format!("k{i}").into_bytes()).collect();
        expected.sort();
        assert_eq!(seen, expected, "each live key once, the expired one not");
    }

    proptest! {
    /// SCAN's guarantee: with random changes between its steps, a full
    /// iteration visits every key present (and live) for its whole length.
    #[test]
    fn scan_visits_every_key_present_throughout(
        initial in 0u8..40,
        ops in prop::collection::vec(op(), 0..300),
    ) {
        let mut store = Store::default();
        for k in 0..initial {
            store.load(&key(k), b"v");
        }
        let now = 0;
        // Keys present since the iteration began, and never removed since.
        let mut throughout: BTreeSet<Vec<u8>> = (0..initial).map(key).collect();
        let mut seen: BTreeSet<Vec<u8>> = BTreeSet::new();
        let mut cursor = store.scan(0, 3, now, |k| { seen.insert(k.to_vec()); });
        let mut steps = 1usize;
        let mut ops = ops.into_iter();
        while cursor != 0 {
            // Changes between steps: no clock here, so TTLs only in the
            // future; a key that was deleted or cleared leaves `throughout`.
            for op in ops.by_ref() {
                match op {
                    Op::Set(k, _) => store.load(&key(k), b"v"),
                    Op::SetExpiring(k, _, t) => store.load_expiring(&key(k), b"v", 1 + u64::from(t)),
                    Op::SetKeepTtl(k, _) => { store.set_keep_ttl(&key(k), b"w", now); }
                    Op::Del(k) => {
                        store.del(&key(k), now);
                        throughout.remove(&key(k));
                    }
                    Op::Expire(k, t) => { store.expire_at(&key(k), 1 + u64::from(t), now); }
                    Op::Persist(k) => { store.persist(&key(k), now); }
                    Op::Sweep(budget) => { store.sweep(now, usize::from(budget)); }
                    Op::Clear => {
                        store.clear();
                        throughout.clear();
                    }
                    Op::Scan => break,
                }
            }
            let count = steps % 4 + 1;
            cursor = store.scan(cursor, count, now, |k| { seen.insert(k.to_vec()); });
            steps += 1;
            prop_assert!(steps <= 1000, "an iteration ends");
        }
        let missed: Vec<_> = throughout.difference(&seen).collect();
        prop_assert!(missed.is_empty(), "missed {:?}", missed);
    }
    }
}
