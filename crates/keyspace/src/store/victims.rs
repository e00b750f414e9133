//! The store's side of eviction (`eviction.rs`): keys' access clocks
//! (touched by the reads and writes Redis counts as access), what OBJECT
//! IDLETIME and FREQ read, the settings, and the choice of the key to evict.
//! Deleting it is the caller's (`write.rs`): an eviction is logged, and told
//! to WATCH, tracking and keyspace events, as a delete.

use super::eviction::{Policy, TRIES};
use super::Store;

/// What CONFIG sets for eviction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvictionSettings {
    pub policy: Policy,
    /// `maxmemory-samples`, at least 1.
    pub samples: usize,
    /// `lfu-log-factor`.
    pub log_factor: u32,
    /// `lfu-decay-time`, in minutes; 0: counters never decay.
    pub decay_minutes: u32,
}

impl Store {
    /// Reads the time for the accesses and keys that follow: `now` in ms
    /// since the epoch (once per batch).
    #[inline]
    pub fn set_now(&mut self, now: u64) {
        self.eviction.set_now(now);
    }

    /// `key` was accessed (Redis's `lookupKey` without `LOOKUP_NOTOUCH`):
    /// its clock moves to now, written only when it changes.
    #[inline]
    pub fn touch(&mut self, key: &[u8]) {
        let Some(position) = self.table.find_again(key) else {
            return;
        };
        let eviction = &mut self.eviction;
        if let Some(entry) = self.table.at_mut(position) {
            let clock = eviction.accessed(entry.clock());
            entry.set_clock(clock);
        }
    }

    /// Seconds since `key` was last accessed (OBJECT IDLETIME); `None` if
    /// it is not live at `now`.
    pub fn idle_seconds(&self, key: &[u8], now: u64) -> Option<u64> {
        let entry = self.table.get(key).filter(|e| !e.expired(now))?;
        Some(self.eviction.idle_seconds(entry.clock()))
    }

    /// `key`'s LFU counter, decayed (OBJECT FREQ); `None` if it is not
    /// live.
    pub fn frequency(&self, key: &[u8], now: u64) -> Option<u32> {
        let entry = self.table.get(key).filter(|e| !e.expired(now))?;
        Some(self.eviction.decayed(entry.clock()))
    }

    pub fn policy(&self) -> Policy {
        self.eviction.policy
    }

    pub fn set_eviction(&mut self, settings: EvictionSettings) {
        let e = &mut self.eviction;
        e.policy = settings.policy;
        e.samples = settings.samples.max(1);
        e.log_factor = settings.log_factor;
        e.decay_minutes = settings.decay_minutes;
    }

    /// Keys evicted (INFO's `evicted_keys`).
    pub fn evicted(&self) -> u64 {
        self.eviction.evicted
    }

    /// Counts one eviction.
    pub fn count_eviction(&mut self) {
        self.eviction.evicted += 1;
    }

    /// CONFIG RESETSTAT.
    pub fn reset_evicted(&mut self) {
        self.eviction.evicted = 0;
    }

    /// Whether the store is over its cap: what CONFIG SET maxmemory makes
    /// it evict down from.
    pub fn over_cap(&self) -> bool {
        self.cap.is_some_and(|cap| self.bytes > cap)
    }

    /// Whether the policy has a key it may evict.
    pub fn may_evict(&self) -> bool {
        match self.eviction.policy {
            Policy::NoEviction => false,
            policy if policy.volatile() => self.deadlines.len() > 0,
            _ => self.table.len() > 0,
        }
    }

    /// The key the policy evicts next (module docs of `eviction.rs`), or
    /// `None`: nothing may go (noeviction, an empty store, or no key with
    /// a TTL under a volatile policy).
    pub fn victim(&mut self) -> Option<Vec<u8>> {
        let len = self.table.len();
        if len == 0 {
            return None;
        }
        let nearest = |store: &Store| store.deadlines.first().map(|(_, key)| key.to_vec());
        let policy = self.eviction.policy;
        match policy {
            Policy::NoEviction => None,
            Policy::VolatileTtl => nearest(self),
            Policy::AllKeysRandom => {
                let at = self.eviction.below(len);
                self.table.at(at).map(|e| e.key().to_vec())
            }
            Policy::VolatileRandom => {
                self.deadlines.first()?;
                self.sample(1).or_else(|| nearest(self))
            }
            Policy::AllKeysLru | Policy::AllKeysLfu => self.sample(self.eviction.samples),
            Policy::VolatileLru | Policy::VolatileLfu => {
                self.deadlines.first()?;
                self.sample(self.eviction.samples).or_else(|| nearest(self))
            }
        }
    }

    /// Of `samples` keys picked uniformly (with a TTL, under a volatile
    /// policy, within [`TRIES`] picks), the one that deserves most to go.
    fn sample(&mut self, samples: usize) -> Option<Vec<u8>> {
        let volatile = self.eviction.policy.volatile();
        let len = self.table.len();
        let mut best: Option<(u64, usize)> = None;
        let (mut found, mut tries) = (0, 0);
        while found < samples && tries < samples.max(TRIES) {
            tries += 1;
            let at = self.eviction.below(len);
            let Some(entry) = self.table.at(at) else {
                continue;
            };
            if volatile && entry.expiry().is_none() {
                continue;
            }
            found += 1;
            let score = self.eviction.score(entry.clock());
            if best.is_none_or(|(top, _)| score > top) {
                best = Some((score, at));
            }
        }
        let (_, at) = best?;
        self.table.at(at).map(|e| e.key().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(policy: Policy) -> Store {
        let mut store = Store::with_cap(None);
        store.set_eviction(EvictionSettings {
            policy,
            samples: 5,
            log_factor: 10,
            decay_minutes: 1,
        });
        store
    }

    #[test]
    fn volatile_policies_take_only_keys_with_a_ttl_ttl_the_nearest() {
        for policy in [
            Policy::VolatileLru,
            Policy::VolatileLfu,
            Policy::VolatileRandom,
            Policy::VolatileTtl,
        ] {
            let mut store = store(policy);
            for i in 0..1000u64 {
                store.load(format!("plain{i}").as_bytes(), b"v");
            }
            assert_eq!(store.victim(), None, "{policy:?}: no key with a TTL");
            store.load_expiring(b"late", b"v", u64::MAX - 1);
            store.load_expiring(b"soon", b"v", u64::MAX - 2);
            for _ in 0..50 {
                let victim = store.victim().expect("a key with a TTL");
                assert!(victim == b"late" || victim == b"soon", "{policy:?}");
                if policy == Policy::VolatileTtl {
                    assert_eq!(victim, b"soon");
                }
            }
        }
        assert_eq!(store(Policy::NoEviction).victim(), None);
    }

    #[test]
    fn allkeys_lru_takes_an_idle_key_over_one_just_accessed() {
        let mut store = store(Policy::AllKeysLru);
        store.set_now(1_000_000);
        for i in 0..100u64 {
            store.load(format!("key{i}").as_bytes(), b"v");
        }
        store.set_now(1_010_000);
        for i in 0..99u64 {
            store.touch(format!("key{i}").as_bytes());
        }
        assert_eq!(store.idle_seconds(b"key99", 1_010_000), Some(10));
        assert_eq!(store.idle_seconds(b"key0", 1_010_000), Some(0));
        // Every sample of 5 that holds key99 takes it: over many picks it
        // is taken far more often than 1 in 100 (about 1 in 20).
        let taken = (0..2000)
            .filter(|_| store.victim().as_deref() == Some(&b"key99"[..]))
            .count();
        assert!(taken > 2000 / 100 * 2, "{taken}");
    }
}
