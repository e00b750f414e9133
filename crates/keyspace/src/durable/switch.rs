//! While a compaction runs: what each key written since the log switched
//! held at the switch, so that the snapshot holds the key space exactly as
//! of the switch and the new log, replayed over it, ends at the state the
//! shard has (`compact.rs`).
//!
//! A key's value is taken at its first write after the switch (a copy, as
//! the undo journal takes one: an aggregate is copied whole, once per
//! compaction); a key not written since is read from the store as it is. A
//! Clear cannot be kept this way: it spoils the compaction, which then
//! fails, leaving the old files for the next one.

use std::collections::HashMap;

use super::record::Record;
use super::undo::Settled;
use crate::values::OwnedValue;
use crate::Store;

/// A key's value and expiry time at the switch; `None`: it was not there.
type AtSwitch = Option<(OwnedValue, Option<u64>)>;

/// The keys written since the switch, with what they held at it.
#[derive(Debug, Default)]
pub struct SwitchJournal {
    before: HashMap<Box<[u8]>, AtSwitch>,
    /// A Clear came: the state at the switch is gone.
    spoiled: bool,
}

impl SwitchJournal {
    /// Notes what `record`, about to be applied to `store`, replaces, if it
    /// is the first write of its key since the switch.
    pub fn note(&mut self, record: &Record<'_>, store: &Store) {
        let Some(key) = record.key() else {
            self.spoiled = true;
            return;
        };
        if !self.before.contains_key(key) {
            // At time 0 every stored entry reads as live: its own TTL goes
            // with it.
            let before = store
                .value_with_expiry(key, 0)
                .map(|(value, at)| (value.to_owned(), at));
            self.before.insert(key.into(), before);
        }
    }

    /// Whether a Clear came since the switch.
    pub fn spoiled(&self) -> bool {
        self.spoiled
    }

    /// `key`'s value and expiry at the switch, live at `now`: from the
    /// journal if it was written since, else from `store`, unchanged.
    pub fn at_switch<'s>(
        &'s self,
        store: &'s Store,
        key: &[u8],
        now: u64,
    ) -> Option<(Settled<'s>, Option<u64>)> {
        match self.before.get(key) {
            Some(before) => before
                .as_ref()
                .filter(|(_, at)| at.is_none_or(|at| at > now))
                .map(|(value, at)| (Settled::Before(value.clone()), *at)),
            None => store
                .value_with_expiry(key, now)
                .map(|(value, at)| (Settled::Now(value), at)),
        }
    }
}
