//! Eviction (issue 26, docs/PROTOCOLS.md §7.3): Redis 7.0's
//! `maxmemory-policy`, per shard. What a key keeps for it is Redis's 24-bit
//! `lru` field, in its entry (`entry.rs`): under an LRU (or random, or ttl)
//! policy the LRU clock of its last access, in seconds modulo 2^24 (Redis's
//! `LRU_CLOCK_RESOLUTION` of 1000 ms); under an LFU policy the minute of its
//! last decrement (16 bits) and its logarithmic access counter (8 bits), as
//! Redis's `LFULogIncr`/`LFUDecrAndReturn` keep them.
//!
//! Which key goes (the store's [`Store::victim`](super::Store::victim)):
//! - `allkeys-random`: a key picked uniformly (the table is dense, so one
//!   random position);
//! - `allkeys-lru`/`-lfu`: of `maxmemory-samples` keys picked uniformly, the
//!   one idle longest (least frequently used). This is the sampling of
//!   Redis before 3.0, without evict.c's pool of 16 candidates kept across
//!   evictions: the same guarantee (a key accessed within the last tick is
//!   never taken while a sample holds an older one; more samples, a closer
//!   approximation), less close to true LRU when few keys are idle;
//! - `volatile-lru`/`-lfu`/`-random`: the same among keys with a TTL,
//!   sampled from the table (up to [`TRIES`] picks a sample); when none of
//!   those picks has a TTL, the key with the nearest expiry, so a key with a
//!   TTL is always found when there is one, and a key without one never
//!   goes;
//! - `volatile-ttl`: the key with the nearest expiry, exactly (the deadline
//!   index is ordered by time), where Redis samples.

use super::entry::CLOCK_MAX;

/// Redis's `maxmemory-policy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// Writes past the cap are refused (the default).
    #[default]
    NoEviction,
    AllKeysLru,
    AllKeysLfu,
    AllKeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    /// The policy CONFIG names, any case.
    pub fn parse(name: &str) -> Option<Policy> {
        Some(match name.to_ascii_lowercase().as_str() {
            "noeviction" => Policy::NoEviction,
            "allkeys-lru" => Policy::AllKeysLru,
            "allkeys-lfu" => Policy::AllKeysLfu,
            "allkeys-random" => Policy::AllKeysRandom,
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => return None,
        })
    }

    /// Whether keys keep an access counter rather than a time.
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    /// Whether only keys with a TTL may go.
    pub fn volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }
}

/// Redis's `LFU_INIT_VAL`: a new key's counter, so that it is not evicted
/// before it had a chance to be read.
const LFU_INIT: u32 = 5;

/// How many table positions a volatile policy picks, at most, to find the
/// keys with a TTL of one sample, before it takes the nearest expiry.
pub(super) const TRIES: usize = 64;

/// A shard's eviction settings and state.
#[derive(Clone, Debug)]
pub(super) struct Eviction {
    pub policy: Policy,
    /// `maxmemory-samples`.
    pub samples: usize,
    /// `lfu-log-factor` and `lfu-decay-time`.
    pub log_factor: u32,
    pub decay_minutes: u32,
    /// The LRU clock now (seconds, 24 bits), set once per batch.
    pub clock: u32,
    /// Minutes now, 16 bits (Redis's `LFUGetTimeInMinutes`).
    pub minutes: u32,
    /// Keys evicted since the start or CONFIG RESETSTAT (`evicted_keys`).
    pub evicted: u64,
    rng: u64,
}

impl Default for Eviction {
    fn default() -> Eviction {
        Eviction {
            policy: Policy::NoEviction,
            samples: 5,
            log_factor: 10,
            decay_minutes: 1,
            clock: 0,
            minutes: 0,
            evicted: 0,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl Eviction {
    /// Reads the time: `now` in ms since the epoch.
    pub fn set_now(&mut self, now: u64) {
        let seconds = now / 1000;
        self.clock = (seconds & u64::from(CLOCK_MAX)) as u32;
        self.minutes = ((seconds / 60) & 0xFFFF) as u32;
    }

    pub fn seed(&mut self, seed: u64) {
        self.rng = seed | 1;
    }

    /// A uniform number below `n` (xorshift64*; eviction's picks need no
    /// more than that).
    pub fn below(&mut self, n: usize) -> usize {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((u128::from(r) * n as u128) >> 64) as usize
    }

    /// The clock a new key starts with.
    pub fn new_clock(&self) -> u32 {
        if self.policy.is_lfu() {
            (self.minutes << 8) | LFU_INIT
        } else {
            self.clock
        }
    }

    /// The clock of a key accessed now that had `old` (Redis's
    /// `updateLFU`, or the LRU clock).
    pub fn accessed(&mut self, old: u32) -> u32 {
        if !self.policy.is_lfu() {
            return self.clock;
        }
        let counter = self.log_incr(self.decayed(old));
        (self.minutes << 8) | counter
    }

    /// Seconds since the access `clock` records (Redis's
    /// `estimateObjectIdleTime`, its clock wrapping every 194 days).
    pub fn idle_seconds(&self, clock: u32) -> u64 {
        let (now, then) = (u64::from(self.clock), u64::from(clock & CLOCK_MAX));
        if now >= then {
            now - then
        } else {
            now + (u64::from(CLOCK_MAX) - then)
        }
    }

    /// The LFU counter of `clock` after its decay (Redis's
    /// `LFUDecrAndReturn`): one less per `lfu-decay-time` minutes passed.
    pub fn decayed(&self, clock: u32) -> u32 {
        let (then, counter) = (clock >> 8, clock & 0xFF);
        let elapsed = if self.minutes >= then {
            self.minutes - then
        } else {
            0xFFFF - then + self.minutes
        };
        let periods = elapsed.checked_div(self.decay_minutes).unwrap_or(0);
        counter.saturating_sub(periods)
    }

    /// Redis's `LFULogIncr`: the counter grows with probability
    /// 1 / ((counter - LFU_INIT) * lfu-log-factor + 1), up to 255.
    fn log_incr(&mut self, counter: u32) -> u32 {
        if counter >= 255 {
            return 255;
        }
        let base = f64::from(counter.saturating_sub(LFU_INIT));
        let p = 1.0 / (base * f64::from(self.log_factor) + 1.0);
        let r = self.below(1 << 30) as f64 / f64::from(1u32 << 30);
        if r < p {
            counter + 1
        } else {
            counter
        }
    }

    /// How much a key with `clock` deserves to go, the larger the sooner:
    /// its idle seconds, or under LFU 255 less its counter.
    pub fn score(&self, clock: u32) -> u64 {
        if self.policy.is_lfu() {
            u64::from(255 - self.decayed(clock).min(255))
        } else {
            self.idle_seconds(clock)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_time_wraps_with_the_clock() {
        let mut e = Eviction::default();
        e.set_now(10_000);
        assert_eq!(e.idle_seconds(e.new_clock()), 0);
        assert_eq!(e.idle_seconds(4), 6);
        e.clock = 2;
        assert_eq!(e.idle_seconds(CLOCK_MAX - 1), 3);
    }

    #[test]
    fn lfu_counters_grow_logarithmically_and_decay_by_the_minute() {
        let mut e = Eviction {
            policy: Policy::AllKeysLfu,
            ..Eviction::default()
        };
        e.set_now(60_000 * 100);
        let mut clock = e.new_clock();
        assert_eq!(e.decayed(clock), LFU_INIT);
        for _ in 0..1000 {
            clock = e.accessed(clock);
        }
        let counter = e.decayed(clock);
        // Redis's table (redis.conf): factor 10, 1K hits give about 18.
        assert!((10..=30).contains(&counter), "{counter}");
        e.set_now(60_000 * 103);
        assert_eq!(e.decayed(clock), counter - 3, "one less a minute");
        let fresh = e.accessed(clock);
        assert!(
            e.score(fresh) <= e.score(clock),
            "an access never lowers it"
        );
    }

    #[test]
    fn picks_are_uniform_enough() {
        let mut e = Eviction::default();
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            seen[e.below(10)] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
    }
}
