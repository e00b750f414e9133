//! What an owner knows of the other shards' subscribers, as plain data:
//!
//! - [`Interest`]: for the names (topics, channels, shard channels) this
//!   shard owns, how many subscribers each shard has. A message goes once to
//!   each shard with subscribers, and resp's PUBLISH replies the sum.
//! - [`Patterns`]: every resp pattern subscription of the server, counted
//!   per shard. Every shard keeps the whole table, as the owner side of
//!   patterns, so that the owner of any channel knows which shards have a
//!   pattern that matches it.
//!
//! Shards send the changes as deltas (+1 a subscription, −1 one gone).
//! Deltas commute: a shard's changes may reach the owner over two paths
//! (mq's lane, resp's acknowledged mesh requests) in any order and the
//! counts still end right. A count may dip below zero for a moment (a
//! decrement that overtook its increment); only positive counts are
//! interest.

use std::collections::HashMap;

use super::glob;

/// One name's subscriber counts, by shard; zeros are dropped.
#[derive(Default)]
pub struct Counts(Vec<(u32, i64)>);

impl Counts {
    /// Applies `shard`'s delta; whether no shard has a count left.
    fn apply(&mut self, shard: usize, delta: i64) -> bool {
        let shard = shard as u32;
        match self.0.iter().position(|&(s, _)| s == shard) {
            Some(at) => {
                self.0[at].1 += delta;
                if self.0[at].1 == 0 {
                    self.0.swap_remove(at);
                }
            }
            None if delta != 0 => self.0.push((shard, delta)),
            None => {}
        }
        self.0.is_empty()
    }

    /// The shards with subscribers, and how many each has.
    pub fn positive(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.0
            .iter()
            .filter(|&&(_, n)| n > 0)
            .map(|&(shard, n)| (shard as usize, n as u64))
    }

    /// Subscribers over every shard.
    pub fn total(&self) -> u64 {
        self.positive().map(|(_, n)| n).sum()
    }
}

/// For the names this shard owns: subscribers per shard.
#[derive(Default)]
pub struct Interest {
    by_name: HashMap<Box<[u8]>, Counts>,
}

impl Interest {
    /// Applies `shard`'s change to `name`'s subscriber count.
    pub fn apply(&mut self, name: &[u8], shard: usize, delta: i64) {
        match self.by_name.get_mut(name) {
            Some(counts) => {
                if counts.apply(shard, delta) {
                    self.by_name.remove(name);
                }
            }
            None => {
                let mut counts = Counts::default();
                if !counts.apply(shard, delta) {
                    self.by_name.insert(name.into(), counts);
                }
            }
        }
    }

    /// The shards to send a message on `name` to, with their subscribers.
    pub fn shards(&self, name: &[u8]) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.by_name
            .get(name)
            .into_iter()
            .flat_map(Counts::positive)
    }

    /// `name`'s subscribers over every shard.
    pub fn count(&self, name: &[u8]) -> u64 {
        self.by_name.get(name).map_or(0, Counts::total)
    }

    /// The names with subscribers somewhere.
    pub fn names(&self) -> impl Iterator<Item = &[u8]> {
        self.by_name
            .iter()
            .filter(|(_, counts)| counts.total() > 0)
            .map(|(name, _)| &**name)
    }

    /// Names owned here that have subscribers (or a passing negative count).
    pub fn held(&self) -> usize {
        self.by_name.len()
    }
}

/// Every pattern subscribed to on any shard, with its counts per shard, in a
/// vector so that a publish walks them without hashing.
#[derive(Default)]
pub struct Patterns {
    entries: Vec<(Box<[u8]>, Counts)>,
    at: HashMap<Box<[u8]>, usize>,
}

impl Patterns {
    /// Applies `shard`'s change to `pattern`'s subscriber count.
    pub fn apply(&mut self, pattern: &[u8], shard: usize, delta: i64) {
        let at = match self.at.get(pattern) {
            Some(&at) => at,
            None => {
                self.entries.push((pattern.into(), Counts::default()));
                self.at.insert(pattern.into(), self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        if self.entries[at].1.apply(shard, delta) {
            self.entries.swap_remove(at);
            self.at.remove(pattern);
            if let Some((moved, _)) = self.entries.get(at) {
                self.at.insert(moved.clone(), at);
            }
        }
    }

    /// The counts of every pattern that matches `channel` (Redis's glob).
    pub fn matching<'a>(&'a self, channel: &'a [u8]) -> impl Iterator<Item = &'a Counts> + 'a {
        self.entries
            .iter()
            .filter(move |(pattern, _)| glob::matches(pattern, channel))
            .map(|(_, counts)| counts)
    }

    /// The patterns with subscribers somewhere.
    pub fn names(&self) -> impl Iterator<Item = &[u8]> {
        self.entries
            .iter()
            .filter(|(_, counts)| counts.total() > 0)
            .map(|(pattern, _)| &**pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_deltas_in_any_order() {
        let mut interest = Interest::default();
        interest.apply(b"t", 3, 1);
        interest.apply(b"t", 1, 1);
        interest.apply(b"t", 3, 1);
        assert_eq!(interest.shards(b"t").collect::<Vec<_>>(), [(3, 2), (1, 1)]);
        assert_eq!(interest.count(b"t"), 3);
        // A decrement that overtook its increment: no interest meanwhile.
        interest.apply(b"u", 2, -1);
        assert_eq!(interest.count(b"u"), 0);
        assert_eq!(interest.names().collect::<Vec<_>>(), [b"t"]);
        interest.apply(b"u", 2, 1);
        assert_eq!(interest.held(), 1, "back to zero is forgotten");
        interest.apply(b"t", 3, -2);
        interest.apply(b"t", 1, -1);
        assert_eq!(interest.held(), 0);
    }

    #[test]
    fn patterns_match_as_redis_and_are_forgotten_at_zero() {
        let mut patterns = Patterns::default();
        patterns.apply(b"news.*", 0, 1);
        patterns.apply(b"news.*", 2, 2);
        patterns.apply(b"n?ws.[st]*", 1, 1);
        patterns.apply(b"other", 1, 1);
        let totals: Vec<u64> = patterns
            .matching(b"news.sport")
            .map(Counts::total)
            .collect();
        assert_eq!(totals, [3, 1]);
        patterns.apply(b"news.*", 0, -1);
        patterns.apply(b"news.*", 2, -2);
        let mut left: Vec<&[u8]> = patterns.names().collect();
        left.sort();
        assert_eq!(left, [&b"n?ws.[st]*"[..], b"other"]);
        assert_eq!(patterns.matching(b"news.sport").count(), 1);
        patterns.apply(b"n?ws.[st]*", 1, -1);
        patterns.apply(b"other", 1, -1);
        assert_eq!(patterns.names().count(), 0);
        assert!(patterns.entries.is_empty() && patterns.at.is_empty());
    }
}
