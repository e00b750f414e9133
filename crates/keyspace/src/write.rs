//! The one way into a shard's keys for every protocol: reads that see only
//! live keys, and writes that are checked, logged and applied, in that order.
//!
//! A write is refused while the shard's log cannot take it (`--data-dir` on a
//! failing disk) or when it would add data past `--max-memory`; otherwise it
//! is logged (with `--data-dir`) before it is applied, so what a client was
//! told is done is what a restart finds. Expiry times are absolute Unix
//! milliseconds, logged as such.

use crate::durable::log::ShardLog;
use crate::durable::record::Record;
use crate::{Marks, Store};

/// Why a write was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The log cannot take writes now: why.
    Disk(String),
    /// It would add data past `--max-memory` (docs/PROTOCOLS.md §7.3).
    OutOfMemory,
}

/// What a set does to the key's time to live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// No expiry (a plain SET, a kv Put).
    Clear,
    /// Whatever the key had (INCR, APPEND, SET KEEPTTL).
    Keep,
    /// Expire at this Unix time in milliseconds.
    At(u64),
}

/// A shard's keys, as one request sees them at `now` (Unix milliseconds,
/// read once per batch).
pub struct ShardKeys<'a> {
    pub store: &'a mut Store,
    /// What the shard's writes note besides the keys (`marks.rs`): the
    /// shard's own, from its [`SharedStore::marks`](crate::SharedStore::marks).
    pub(super) marks: &'a Marks,
    log: Option<&'a ShardLog>,
    pub now: u64,
}

pub use crate::store::PREFETCH_AHEAD;

impl<'a> ShardKeys<'a> {
    pub fn new(
        store: &'a mut Store,
        marks: &'a Marks,
        log: Option<&'a ShardLog>,
        now: u64,
    ) -> ShardKeys<'a> {
        // The clock keys' accesses and new keys are stamped with.
        store.set_now(now);
        ShardKeys {
            store,
            marks,
            log,
            now,
        }
    }

    /// This shard's writes since its last SAVE or BGSAVE (`touched.rs`).
    pub fn changes(&self) -> u64 {
        self.marks.touched.changes()
    }

    /// A SAVE or BGSAVE started on this shard: its changes are in it.
    pub fn saved(&self) {
        self.marks.touched.saved();
    }

    /// Where `key`'s writes stand on this shard, for WATCH (`touched.rs`).
    pub fn version(&self, key: &[u8]) -> u64 {
        self.marks.touched.version(key)
    }

    /// Evicts keys as `maxmemory-policy` picks them (`store/eviction.rs`)
    /// while `refused` says a write is refused by the memory cap; whether
    /// it no longer is. Under noeviction, or with nothing left that may go,
    /// nothing more is evicted and the write stays refused (Redis's OOM).
    /// The caller checked that the log takes writes.
    pub(crate) fn make_room(&mut self, refused: impl Fn(&Store) -> bool) -> bool {
        // Each eviction removes a key: at most every key goes.
        for _ in 0..=self.store.len() {
            if !refused(self.store) {
                return true;
            }
            let Some(key) = self.store.victim() else {
                return false;
            };
            self.evict(&key);
        }
        !refused(self.store)
    }

    /// Evicts down to the memory cap (CONFIG SET maxmemory to a lower
    /// value evicts at once, as Redis 7.0 does); how many keys went. None
    /// while the log cannot take writes.
    pub fn evict_to_cap(&mut self) -> usize {
        if self.writable().is_err() {
            return 0;
        }
        let before = self.store.evicted();
        self.make_room(Store::over_cap);
        (self.store.evicted() - before) as usize
    }

    /// An eviction is a delete for the log (a restart does not bring the
    /// key back) and WATCH (`log_write`), and is told to the protocol
    /// (the `evicted` event, tracking's invalidation: the protocols'
    /// [`EvictedHook`](crate::EvictedHook)s, through the shard's marks).
    fn evict(&mut self, key: &[u8]) {
        self.log_write(&Record::Del { key });
        self.store.del(key, self.now);
        self.store.count_eviction();
        self.marks.evicted(key);
    }

    /// SAVE and BGSAVE: asks for a snapshot of this shard's keys once the
    /// batch ends ([`ShardLog::ask_snapshot`]). Whether there is a log to
    /// snapshot (`--data-dir`).
    pub fn ask_snapshot(&self) -> bool {
        self.log.inspect(|log| log.ask_snapshot()).is_some()
    }

    /// Starts loading the entries of `keys` (the first
    /// [`PREFETCH_AHEAD`]) into the cache, before a batch serves them one
    /// after the other ([`Store::prefetch`]).
    pub fn prefetch<'k>(&self, keys: impl Iterator<Item = &'k [u8]>) {
        self.store.prefetch(keys);
    }

    /// The live string value of `key` (`None` for a key of another type:
    /// `typed.rs` reads those).
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.store.get(key, self.now)
    }

    /// `None`: no live key; `Some(None)`: no expiry; `Some(Some(at))`.
    pub fn expiry(&self, key: &[u8]) -> Option<Option<u64>> {
        self.store.expiry(key, self.now)
    }

    pub(super) fn writable(&self) -> Result<(), Refused> {
        match self.log.and_then(ShardLog::refusal) {
            Some(reason) => Err(Refused::Disk(reason.to_string())),
            None => Ok(()),
        }
    }

    /// Logs a write about to be applied (with `--data-dir`); under `always`
    /// the log also notes what it replaces, to take it back if its record
    /// never reaches the disk.
    /// Every write comes this way: it also moves the key's version for
    /// WATCH (`touched.rs`).
    pub(super) fn log_write(&mut self, record: &Record<'_>) {
        self.marks.touched.touch(record.key());
        if let Some(log) = self.log {
            log.append_write(record, self.store);
        }
    }

    /// Sets `key` to `val`, its time to live as `ttl` says; a time already
    /// past removes the key instead, as redis 7.0's SET does.
    pub fn set(&mut self, key: &[u8], val: &[u8], ttl: Ttl) -> Result<(), Refused> {
        if matches!(ttl, Ttl::At(at) if at <= self.now) {
            return self.del(key).map(|_| ());
        }
        self.writable()?;
        let at = match ttl {
            Ttl::Clear => None,
            Ttl::At(at) => Some(at),
            Ttl::Keep => self.expiry(key).flatten(),
        };
        let ttl = at.is_some();
        if self.store.refuses(key, val, ttl)
            && (self.store.never_fits(key, val, ttl)
                || !self.make_room(|store| store.refuses(key, val, ttl)))
        {
            return Err(Refused::OutOfMemory);
        }
        self.log_write(&match at {
            None => Record::Put { key, val },
            Some(at) => Record::PutExpiring { key, val, at },
        });
        match at {
            None => self.store.load(key, val),
            Some(at) => self.store.load_expiring(key, val, at),
        }
        Ok(())
    }

    /// Sets every pair with no TTL, or none of them: refused as a whole
    /// when the log cannot take writes or when the pairs together would add
    /// data past `--max-memory`, so a refused MSET leaves none of its keys on
    /// this shard (Redis refuses a whole command for OOM too).
    pub fn set_all<'k>(
        &mut self,
        pairs: impl Iterator<Item = (&'k [u8], &'k [u8])> + Clone,
    ) -> Result<(), Refused> {
        self.writable()?;
        if self.store.refuses_all(pairs.clone())
            && !self.make_room(|store| store.refuses_all(pairs.clone()))
        {
            return Err(Refused::OutOfMemory);
        }
        pairs
            .into_iter()
            .try_for_each(|(key, val)| self.set(key, val, Ttl::Clear))
    }

    /// Removes `key`; whether a live key was there.
    pub fn del(&mut self, key: &[u8]) -> Result<bool, Refused> {
        if !self.exists(key) {
            // An expired key still held goes too, unlogged: a restart drops
            // it anyway, its time being past.
            self.store.del(key, self.now);
            return Ok(false);
        }
        self.writable()?;
        self.log_write(&Record::Del { key });
        Ok(self.store.del(key, self.now))
    }

    /// Gives `key` an expiry at `at`; a time already past removes it, as
    /// Redis does. Whether there was a live key.
    pub fn expire_at(&mut self, key: &[u8], at: u64) -> Result<bool, Refused> {
        if !self.exists(key) {
            return Ok(false);
        }
        if at <= self.now {
            return self.del(key);
        }
        self.writable()?;
        self.log_write(&Record::Expire { key, at });
        Ok(self.store.expire_at(key, at, self.now))
    }

    /// Removes `key`'s expiry; whether it had one.
    pub fn persist(&mut self, key: &[u8]) -> Result<bool, Refused> {
        if self.expiry(key).flatten().is_none() {
            return Ok(false);
        }
        self.writable()?;
        self.log_write(&Record::Persist { key });
        Ok(self.store.persist(key, self.now))
    }

    /// Removes every key of this shard.
    pub fn clear(&mut self) -> Result<(), Refused> {
        self.writable()?;
        self.log_write(&Record::Clear);
        self.store.clear();
        Ok(())
    }
}
