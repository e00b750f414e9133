//! A sorted set: each member's score in an `IndexMap` (ZSCORE in O(1), dense
//! positions for ZSCAN and ZRANDMEMBER), and the members in score order in
//! a `BTreeSet` of (score, member) (ranges by score, by lex and by rank).
//! A member's bytes are held once, in an `Rc<[u8]>` both structures share.
//!
//! Why a B-tree and not a skip list: std's B-tree packs 11 entries a node
//! (24 bytes each here) where a skip list pays a node and ~1.33 forward
//! pointers per member; what it lacks is rank, which is O(rank) here
//! (ZRANK, ZRANGE by index walk from the nearer end) against Redis's
//! O(log n). README "Aggregate memory" has the figures.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::ops::Bound;
use std::rc::Rc;

use indexmap::IndexMap;

use super::super::KeyHasher;

/// What a member costs besides its bytes: the map's entry (hash, `Rc`,
/// score), its index slot, the B-tree's entry and the `Rc`'s header
/// (estimated, README "Aggregate memory").
pub const ZSET_ELEMENT: u64 = 96;

/// A score with a total order (never NaN: the commands refuse it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score(pub f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.partial_cmp(&other.0).unwrap_or(Ordering::Equal)
    }
}

#[derive(Clone, Debug, Default)]
pub struct ZSet {
    scores: IndexMap<Rc<[u8]>, f64, KeyHasher>,
    order: BTreeSet<(Score, Rc<[u8]>)>,
    bytes: u64,
}

fn cost(member: &[u8]) -> u64 {
    member.len() as u64 + ZSET_ELEMENT
}

/// The smallest member, for a bound below every member of a score.
fn least() -> Rc<[u8]> {
    Rc::from(&[][..])
}

impl ZSet {
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }

    /// Sets `member`'s score (-0 is kept as 0, as Redis prints it); returns
    /// the score it had.
    pub fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        let score = if score == 0.0 { 0.0 } else { score };
        match self.scores.get_full_mut(member) {
            Some((_, shared, old)) => {
                let previous = *old;
                if previous != score {
                    let shared = shared.clone();
                    *old = score;
                    self.order.remove(&(Score(previous), shared.clone()));
                    self.order.insert((Score(score), shared));
                }
                Some(previous)
            }
            None => {
                let shared: Rc<[u8]> = Rc::from(member);
                self.scores.insert(shared.clone(), score);
                self.order.insert((Score(score), shared));
                self.bytes += cost(member);
                None
            }
        }
    }

    /// Removes `member`; its score if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (shared, score) = self.scores.swap_remove_entry(member)?;
        self.order.remove(&(Score(score), shared));
        self.bytes -= cost(member);
        Some(score)
    }

    /// Members ranked below `member` (ZRANK); O(rank).
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let (shared, &score) = self.scores.get_key_value(member)?;
        Some(self.order.range(..(Score(score), shared.clone())).count())
    }

    /// Every (member, score) in order, lowest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], f64)> {
        self.order.iter().map(|(s, m)| (&**m, s.0))
    }

    /// The (member, score) at map `position` (ZSCAN, ZRANDMEMBER).
    pub fn at(&self, position: usize) -> Option<(&[u8], f64)> {
        self.scores.get_index(position).map(|(m, s)| (&**m, *s))
    }

    /// The members with a score from `min` to `max`, lowest first; each
    /// bound excluded when its flag says so.
    pub fn by_score(
        &self,
        min: f64,
        min_excl: bool,
        max: f64,
        max_excl: bool,
    ) -> Vec<(&[u8], f64)> {
        let lower = Bound::Included((Score(min), least()));
        self.order
            .range((lower, Bound::Unbounded))
            .skip_while(move |(s, _)| min_excl && s.0 == min)
            .take_while(move |(s, _)| if max_excl { s.0 < max } else { s.0 <= max })
            .map(|(s, m)| (&**m, s.0))
            .collect()
    }

    /// The members from `min` to `max` by bytes (all with one score, as
    /// Redis's lex ranges assume), lowest first: from the first member in
    /// order at or past `min`, while they are within `max`, as a search
    /// of the ordered set finds them.
    pub fn by_lex(&self, min: Bound<&[u8]>, max: Bound<&[u8]>) -> Vec<(&[u8], f64)> {
        let above_min = move |m: &[u8]| match min {
            Bound::Unbounded => true,
            Bound::Included(b) => m >= b,
            Bound::Excluded(b) => m > b,
        };
        let below_max = move |m: &[u8]| match max {
            Bound::Unbounded => true,
            Bound::Included(b) => m <= b,
            Bound::Excluded(b) => m < b,
        };
        self.order
            .iter()
            .skip_while(move |(_, m)| !above_min(m))
            .take_while(move |(_, m)| below_max(m))
            .map(|(s, m)| (&**m, s.0))
            .collect()
    }
}
