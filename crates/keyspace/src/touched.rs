//! Which keys were written since resp's WATCH read them: a count of
//! writes per slot of a small table, bumped by every logged write
//! ([`super::write::ShardKeys`]'s one way in). A FLUSH bumps nothing: a watched
//! key it removed is seen gone (WATCH also notes whether the key is live),
//! and one that was not there is untouched, as Redis has it.
//!
//! WATCH notes a key's slot's count on its owner; EXEC aborts if it moved,
//! as Redis aborts on any write to a watched key, even one that leaves the
//! value as it was, or that another write put back in between (comparing
//! values alone missed those: a transfer out and back between a WATCH and
//! its EXEC let a check-and-set overwrite a value it never read). Two keys
//! may share a slot: a write to the other aborts too, which a retry
//! absorbs, as it absorbs Redis's own FLUSHALL aborts.
//!
//! One table per shard ([`Touched`], in the shard's [`Marks`](super::Marks),
//! which every [`ShardKeys`](super::write::ShardKeys) of the shard is
//! handed); its cost on the write path is a hash of the key and an
//! increment.
//!
//! The same way in also counts the shard's writes since its last SAVE or
//! BGSAVE: INFO's `rdb_changes_since_last_save`, summed over the shards
//! (Redis's dirty count; a write that changes nothing, such as a SETBIT to
//! the bit already there, is never logged, so never counted, as in Redis).

use std::cell::Cell;

/// Slots of the table: collisions are rare at a few hundred watched keys.
const SLOTS: usize = 4096;

/// One shard's counts of writes: per slot, and since its last snapshot.
/// `Cell`s: nothing borrows them.
pub struct Touched {
    writes: Box<[Cell<u64>; SLOTS]>,
    /// Writes since this shard's last snapshot started.
    changes: Cell<u64>,
}

impl Default for Touched {
    fn default() -> Touched {
        Touched {
            writes: Box::new([const { Cell::new(0) }; SLOTS]),
            changes: Cell::new(0),
        }
    }
}

fn slot(key: &[u8]) -> usize {
    // FNV-1a: short keys hash in a few nanoseconds.
    let hash = key.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash as usize) % SLOTS
}

impl Touched {
    /// A write to `key`; `None`: every key (FLUSHDB, FLUSHALL), which moves
    /// no version (see above).
    pub fn touch(&self, key: Option<&[u8]>) {
        self.changes.set(self.changes.get().wrapping_add(1));
        if let Some(key) = key {
            let count = &self.writes[slot(key)];
            count.set(count.get().wrapping_add(1));
        }
    }

    /// This shard's writes since its last SAVE or BGSAVE
    /// ([`Touched::saved`]).
    pub fn changes(&self) -> u64 {
        self.changes.get()
    }

    /// A SAVE or BGSAVE started on this shard: its changes are in it.
    pub fn saved(&self) {
        self.changes.set(0);
    }

    /// Where `key`'s writes stand on this shard: it changes at each write
    /// to the key (or to a key of its slot).
    pub fn version(&self, key: &[u8]) -> u64 {
        self.writes[slot(key)].get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_moves_its_keys_version_only() {
        let touched = Touched::default();
        let before = touched.version(b"k");
        let other = touched.version(b"other-key-far-away");
        touched.touch(Some(b"k"));
        assert_ne!(touched.version(b"k"), before);
        if slot(b"k") != slot(b"other-key-far-away") {
            assert_eq!(touched.version(b"other-key-far-away"), other);
        }
        let now = touched.version(b"k");
        touched.touch(None);
        assert_eq!(touched.version(b"k"), now);
        assert_eq!(touched.changes(), 2);
        touched.saved();
        assert_eq!(touched.changes(), 0);
    }
}
