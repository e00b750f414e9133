//! Under `--fsync always`, what each write not yet on stable storage
//! replaced in the store, so that a failed group commit can take those writes
//! back (docs/PROTOCOLS.md §7.1: a write that cannot be logged is not applied).
//!
//! A write's entry is kept from just before it is applied until the log
//! knows its record durable ([`Journal::settle`]); a failed write of the log
//! discards every record not yet durable and [`Journal::undo`] restores the
//! store, newest first, to what the durable records made of it. A Clear
//! keeps the whole table it replaced. Only `always` keeps a journal: it pays
//! a flush per batch anyway, and under `everysec`/`no` what was applied is
//! acknowledged and stays.

use std::collections::VecDeque;

use super::record::Record;
use crate::values::{OwnedValue, ValueRef};
use crate::Store;

/// One write's way back.
#[derive(Debug)]
enum Undo {
    /// The key's entry before the write: `None` if there was none.
    Key {
        /// The log position after the write's record.
        after: u64,
        key: Box<[u8]>,
        before: Option<(OwnedValue, Option<u64>)>,
    },
    /// A Clear: every key the shard held before it.
    Clear { after: u64, old: Box<Store> },
}

impl Undo {
    fn after(&self) -> u64 {
        match self {
            Undo::Key { after, .. } | Undo::Clear { after, .. } => *after,
        }
    }
}

/// The writes of one shard not yet durable, oldest first.
#[derive(Debug, Default)]
pub struct Journal {
    entries: VecDeque<Undo>,
}

/// A key's entry as stored, expired or not: what restoring it puts back.
/// An aggregate is copied whole: `always` pays that per write to one.
fn raw_entry(store: &Store, key: &[u8]) -> Option<(OwnedValue, Option<u64>)> {
    // At time 0 every stored entry reads as live.
    store
        .value_with_expiry(key, 0)
        .map(|(value, at)| (value.to_owned(), at))
}

/// A key's value as the durable records leave it: the store's now, or
/// what the journal keeps of it.
#[derive(Debug)]
pub enum Settled<'s> {
    Now(ValueRef<'s>),
    Before(OwnedValue),
}

impl Settled<'_> {
    pub fn value(&self) -> ValueRef<'_> {
        match self {
            Settled::Now(value) => *value,
            Settled::Before(value) => value.as_ref(),
        }
    }
}

impl Journal {
    /// Notes what `record`, logged up to position `after` and about to be
    /// applied to `store`, replaces. A Clear takes the store's keys now (the
    /// store is left empty, as the Clear leaves it).
    pub fn note(&mut self, record: &Record<'_>, after: u64, store: &mut Store) {
        self.entries.push_back(match record.key() {
            Some(key) => Undo::Key {
                after,
                key: key.into(),
                before: raw_entry(store, key),
            },
            None => Undo::Clear {
                after,
                old: Box::new(store.take_all()),
            },
        });
    }

    /// The records up to `durable` are on stable storage: their writes stay.
    pub fn settle(&mut self, durable: u64) {
        while self
            .entries
            .front()
            .is_some_and(|undo| undo.after() <= durable)
        {
            self.entries.pop_front();
        }
    }

    /// Takes back every write noted and not settled, newest first: the store
    /// is then what the durable records made it.
    pub fn undo(&mut self, store: &mut Store) {
        while let Some(undo) = self.entries.pop_back() {
            match undo {
                Undo::Key { key, before, .. } => match before {
                    None => {
                        store.del(&key, 0);
                    }
                    Some((value, at)) => store.load_value(&key, value, at),
                },
                Undo::Clear { old, .. } => store.put_back(*old),
            }
        }
    }

    /// `key`'s value and expiry time as the durable records leave it, live
    /// at `now`: what a snapshot may hold while later writes may still be
    /// taken back.
    pub fn settled<'s>(
        &self,
        store: &'s Store,
        key: &[u8],
        now: u64,
    ) -> Option<(Settled<'s>, Option<u64>)> {
        let live = |at: Option<u64>| at.is_none_or(|at| at > now);
        for undo in &self.entries {
            match undo {
                Undo::Key {
                    key: named, before, ..
                } if **named == *key => {
                    return before
                        .as_ref()
                        .filter(|(_, at)| live(*at))
                        .map(|(value, at)| (Settled::Before(value.clone()), *at));
                }
                Undo::Clear { old, .. } => {
                    return old
                        .value_with_expiry(key, now)
                        .map(|(value, at)| (Settled::Before(value.to_owned()), at));
                }
                Undo::Key { .. } => {}
            }
        }
        store
            .value_with_expiry(key, now)
            .map(|(value, at)| (Settled::Now(value), at))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_restores_what_the_durable_records_made() {
        let mut store = Store::default();
        store.load(b"a", b"1");
        store.load_expiring(b"b", b"2", 5_000);
        let mut journal = Journal::default();
        // Durable: up to 10. Not durable: the rest.
        journal.note(
            &Record::Put {
                key: b"a",
                val: b"x",
            },
            10,
            &mut store,
        );
        store.load(b"a", b"x");
        journal.note(
            &Record::Put {
                key: b"a",
                val: b"y",
            },
            20,
            &mut store,
        );
        store.load(b"a", b"y");
        journal.note(&Record::Del { key: b"b" }, 30, &mut store);
        store.del(b"b", 0);
        journal.note(
            &Record::Put {
                key: b"c",
                val: b"3",
            },
            40,
            &mut store,
        );
        store.load(b"c", b"3");
        journal.settle(10);
        assert_eq!(
            journal
                .settled(&store, b"a", 0)
                .and_then(|(v, _)| match v.value() {
                    ValueRef::Str(val) => Some(val.to_vec()),
                    ValueRef::Agg(_) => None,
                }),
            Some(b"x".to_vec())
        );
        journal.note(&Record::Clear, 50, &mut store);
        store.clear();
        journal.undo(&mut store);
        assert!(journal.is_empty());
        assert_eq!(store.get(b"a", 0), Some(&b"x"[..]));
        assert_eq!(
            store.get_with_expiry(b"b", 0),
            Some((&b"2"[..], Some(5_000)))
        );
        assert_eq!(store.get(b"c", 0), None);
        assert_eq!(store.len(), 2);
    }
}
