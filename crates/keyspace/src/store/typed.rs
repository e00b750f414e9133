//! The store's side of hashes, sets, sorted sets and lists: reading a key's
//! value whatever its type, and changing an aggregate in place with its
//! accounted memory following the change. An aggregate left empty goes
//! with its key, as in Redis.

use super::entry::{Entry, MAX_KEY};
use super::values::{Aggregate, Kind, OwnedValue, ValueRef};
use super::Store;

impl Store {
    /// What `entry` holds.
    pub(super) fn value_of<'s>(&'s self, entry: &'s Entry) -> Option<ValueRef<'s>> {
        match entry.slot() {
            None => Some(ValueRef::Str(entry.value())),
            Some(slot) => self.slab.get(slot).map(ValueRef::Agg),
        }
    }

    /// `key`'s value, whatever its type, unless it is absent or expired.
    pub fn value(&self, key: &[u8], now: u64) -> Option<ValueRef<'_>> {
        let entry = self.table.get(key)?;
        if entry.expired(now) {
            return None;
        }
        self.value_of(entry)
    }

    /// `key`'s value and expiry time, whatever its type.
    pub fn value_with_expiry(&self, key: &[u8], now: u64) -> Option<(ValueRef<'_>, Option<u64>)> {
        let entry = self.table.get(key)?;
        if entry.expired(now) {
            return None;
        }
        Some((self.value_of(entry)?, entry.expiry()))
    }

    /// `key`'s type, if it is live.
    /// Whether any key of this shard holds a hash, set, sorted set or list:
    /// when none does, every live key is a string, and a string command
    /// needs no second look-up to know it.
    pub fn holds_aggregates(&self) -> bool {
        !self.slab.is_empty()
    }

    pub fn kind(&self, key: &[u8], now: u64) -> Option<Kind> {
        self.value(key, now).map(|value| value.kind())
    }

    /// `key`'s aggregate, if it is live and one.
    pub fn aggregate(&self, key: &[u8], now: u64) -> Option<&Aggregate> {
        match self.value(key, now)? {
            ValueRef::Agg(agg) => Some(agg),
            ValueRef::Str(_) => None,
        }
    }

    /// Runs `change` on `key`'s aggregate of `kind`, made empty (with no
    /// TTL) first if the key is absent and `create` says so; an aggregate
    /// the change leaves empty is removed with its key. The accounting
    /// follows. `None`, and nothing changes, if there is no such aggregate
    /// (absent without `create`, or another type: callers answer WRONGTYPE
    /// before they get here). Whatever the cap: callers ask
    /// [`Store::refuses_growth`] first.
    pub fn change<R>(
        &mut self,
        key: &[u8],
        kind: Kind,
        now: u64,
        create: bool,
        change: impl FnOnce(&mut Aggregate) -> R,
    ) -> Option<R> {
        match self.live_position(key, now) {
            Some(position) => {
                let slot = self.table.at(position)?.slot()?;
                let agg = self.slab.get_mut(slot).filter(|agg| agg.kind() == kind)?;
                let before = agg.bytes();
                let result = change(agg);
                let (after, empty) = (agg.bytes(), agg.is_empty());
                self.bytes = self.bytes - before + after;
                if empty {
                    self.del(key, now);
                }
                Some(result)
            }
            None if create => {
                let mut agg = Aggregate::empty(kind);
                let result = change(&mut agg);
                if !agg.is_empty() {
                    self.load_value(key, OwnedValue::Agg(agg), None);
                }
                Some(result)
            }
            None => None,
        }
    }

    /// Stores `value` as `key`'s, expiring at `at` if given, replacing
    /// whatever the key held, whatever the cap (RENAME, COPY, the STORE
    /// forms, a snapshot's record, an undo).
    pub fn load_value(&mut self, key: &[u8], value: OwnedValue, at: Option<u64>) {
        match value {
            OwnedValue::Str(val) => self.set(key, &val, at),
            OwnedValue::Agg(agg) => {
                let slot = self.slab.insert(agg);
                let clock = self.eviction.new_clock();
                self.insert_entry(key, Entry::aggregate(key, slot, at, clock));
            }
        }
    }

    /// What `key` costs as accounted (MEMORY USAGE): its entry, its TTL,
    /// its elements; `None` if it is not live.
    pub fn memory_usage(&self, key: &[u8], now: u64) -> Option<u64> {
        let entry = self.table.get(key).filter(|e| !e.expired(now))?;
        Some(Store::entry_cost(&self.slab, entry))
    }

    /// Whether a write that adds `added` accounted bytes to `key` is
    /// refused by the memory cap (or its key is too long for an entry).
    pub fn refuses_growth(&self, key: &[u8], added: u64) -> bool {
        if key.len() > MAX_KEY {
            return true;
        }
        let new_key = if self.table.get(key).is_none() {
            Store::cost(key, &[0; 4])
        } else {
            0
        };
        self.cap.is_some_and(|cap| {
            let added = added + new_key;
            added > 0 && self.bytes + added > cap
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_aggregate_is_accounted_per_element_and_goes_when_empty() {
        let mut store = Store::default();
        store.change(b"h", Kind::Hash, 0, true, |agg| {
            if let Aggregate::Hash(hash) = agg {
                hash.set(b"f", b"v");
                hash.set(b"g", b"w");
            }
        });
        assert_eq!(store.kind(b"h", 0), Some(Kind::Hash));
        assert_eq!(store.get(b"h", 0), None, "not a string");
        let two = store.bytes();
        store.change(b"h", Kind::Hash, 0, false, |agg| {
            if let Aggregate::Hash(hash) = agg {
                hash.remove(b"g");
            }
        });
        assert!(store.bytes() < two);
        assert_eq!(
            store.change(b"h", Kind::Set, 0, true, |_| ()),
            None,
            "another type"
        );
        store.change(b"h", Kind::Hash, 0, false, |agg| {
            if let Aggregate::Hash(hash) = agg {
                hash.remove(b"f");
            }
        });
        assert_eq!(store.kind(b"h", 0), None);
        assert_eq!((store.len(), store.bytes()), (0, 0));
        // A string over an aggregate frees it.
        store.change(b"s", Kind::Set, 0, true, |agg| {
            if let Aggregate::Set(set) = agg {
                set.add(b"m");
            }
        });
        store.load(b"s", b"v");
        assert_eq!(store.bytes(), Store::cost(b"s", b"v"));
        store.expire_at(b"s", 5, 0);
        store.load_value(b"s", OwnedValue::Agg(Aggregate::empty(Kind::List)), Some(9));
        assert_eq!(store.kind(b"s", 0), Some(Kind::List));
        assert_eq!(store.sweep(10, 10), 1);
        assert_eq!((store.len(), store.bytes()), (0, 0));
    }
}
