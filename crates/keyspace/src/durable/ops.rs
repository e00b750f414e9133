//! The logged operations on hashes, sets, sorted sets and lists (record kind
//! 7, `record.rs`), and what each does to a store: the one code path for a
//! live write and for its replay, so that a restart rebuilds exactly what
//! was served.
//!
//! A record logs the operation, not the value: an HSET logs its pairs, a
//! push its items. Commands with a random or computed result log what they
//! did (SPOP logs an SREM of the members it took, HINCRBY an HSET of the
//! sum, LINSERT the index it found). A snapshot holds each aggregate as one
//! record of its adding op with [`REPLACE`] set (the whole value, element
//! by element), then an Expire if it has a TTL.
//!
//! The body after the key: `[op: u8]` then elements, each `[len: u32 LE]
//! [bytes]`; numbers are 8-byte LE elements (i64, or f64 for scores).

use super::record::{Record, MAX_FIELD};
use crate::values::{Aggregate, Kind, ValueRef};
use crate::Store;

/// Set on an op: the key's old value goes first (a snapshot's record).
pub const REPLACE: u8 = 0x80;

/// What a record of kind 7 does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Op {
    /// (field, value) pairs.
    HSet = 1,
    /// Fields.
    HDel = 2,
    /// Members.
    SAdd = 3,
    SRem = 4,
    /// (score as f64, member) pairs.
    ZAdd = 5,
    /// Members.
    ZRem = 6,
    /// Items, each pushed at the head in turn.
    LPush = 7,
    /// Items, each pushed at the tail.
    RPush = 8,
    /// A count (i64): items popped from the head.
    LPop = 9,
    RPop = 10,
    /// An index (i64, 0-based from the head) and an item.
    LSet = 11,
    /// An index (0..=len) and an item inserted there.
    LInsert = 12,
    /// Start and end (i64, end excluded): the items kept.
    LTrim = 13,
    /// A count (i64, as LREM's) and an item.
    LRem = 14,
}

impl Op {
    pub fn from_u8(code: u8) -> Option<Op> {
        use Op::*;
        [
            HSet, HDel, SAdd, SRem, ZAdd, ZRem, LPush, RPush, LPop, RPop, LSet, LInsert, LTrim,
            LRem,
        ]
        .into_iter()
        .find(|op| *op as u8 == code)
    }

    /// The type of value the op works on.
    pub fn kind(self) -> Kind {
        match self {
            Op::HSet | Op::HDel => Kind::Hash,
            Op::SAdd | Op::SRem => Kind::Set,
            Op::ZAdd | Op::ZRem => Kind::ZSet,
            _ => Kind::List,
        }
    }

    /// Whether it may make the key (an adding op).
    fn creates(self) -> bool {
        matches!(self, Op::HSet | Op::SAdd | Op::ZAdd | Op::LPush | Op::RPush)
    }
}

/// Appends one element.
pub fn push_elem(body: &mut Vec<u8>, elem: &[u8]) {
    body.extend_from_slice(&(elem.len() as u32).to_le_bytes());
    body.extend_from_slice(elem);
}

/// The elements of a body, in order; stops at the first malformed one.
pub fn elems(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = body;
    std::iter::from_fn(move || {
        let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let elem = rest.get(4..4 + len)?;
        rest = &rest[4 + len..];
        Some(elem)
    })
}

/// Whether `body` (op byte included) is a well-formed op record's.
pub fn valid(body: &[u8]) -> bool {
    let Some((&code, mut rest)) = body.split_first() else {
        return false;
    };
    if Op::from_u8(code & !REPLACE).is_none() {
        return false;
    }
    while !rest.is_empty() {
        let Some(len) = rest
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map(|b| u32::from_le_bytes(b) as usize)
        else {
            return false;
        };
        if len > MAX_FIELD || rest.len() < 4 + len {
            return false;
        }
        rest = &rest[4 + len..];
    }
    true
}

fn number(elem: Option<&[u8]>) -> i64 {
    elem.and_then(|e| e.try_into().ok())
        .map_or(0, i64::from_le_bytes)
}

fn score(elem: &[u8]) -> f64 {
    elem.try_into().map_or(0.0, f64::from_le_bytes)
}

/// Does `op` (with [`REPLACE`] if set in `code`) with the elements of
/// `body` to `key` at `now`; returns the op's count (fields or members
/// added or removed, a list's new length, items popped). Elements that do
/// not fit the op are ignored: a valid record never has them.
pub fn apply_op(store: &mut Store, key: &[u8], code: u8, body: &[u8], now: u64) -> i64 {
    let Some(op) = Op::from_u8(code & !REPLACE) else {
        return 0;
    };
    if code & REPLACE != 0 {
        store.del(key, now);
    }
    let create = op.creates();
    let changed = store.change(key, op.kind(), now, create, |agg| change(agg, op, body));
    changed.unwrap_or(0)
}

fn change(agg: &mut Aggregate, op: Op, body: &[u8]) -> i64 {
    let mut items = elems(body);
    let mut count = 0i64;
    match agg {
        Aggregate::Hash(hash) => {
            while let Some(field) = items.next() {
                match op {
                    Op::HSet => {
                        let Some(val) = items.next() else { break };
                        count += i64::from(hash.set(field, val));
                    }
                    _ => count += i64::from(hash.remove(field)),
                }
            }
        }
        Aggregate::Set(set) => {
            for member in items {
                count += i64::from(match op {
                    Op::SAdd => set.add(member),
                    _ => set.remove(member),
                });
            }
        }
        Aggregate::ZSet(zset) => match op {
            Op::ZAdd => {
                while let (Some(s), Some(member)) = (items.next(), items.next()) {
                    count += i64::from(zset.insert(member, score(s)).is_none());
                }
            }
            _ => {
                for member in items {
                    count += i64::from(zset.remove(member).is_some());
                }
            }
        },
        Aggregate::List(list) => {
            match op {
                Op::LPush => items.for_each(|item| list.push_front(item)),
                Op::RPush => items.for_each(|item| list.push_back(item)),
                Op::LPop | Op::RPop => {
                    let n = number(items.next()).max(0);
                    for _ in 0..n {
                        let popped = match op {
                            Op::LPop => list.pop_front(),
                            _ => list.pop_back(),
                        };
                        if popped.is_none() {
                            break;
                        }
                        count += 1;
                    }
                    return count;
                }
                Op::LSet => {
                    let index = number(items.next());
                    if let (Ok(index), Some(item)) = (usize::try_from(index), items.next()) {
                        list.set(index, item);
                    }
                }
                Op::LInsert => {
                    let index = number(items.next());
                    if let (Ok(index), Some(item)) = (usize::try_from(index), items.next()) {
                        if index <= list.len() {
                            list.insert(index, item);
                        }
                    }
                }
                Op::LTrim => {
                    let start = number(items.next()).max(0) as usize;
                    let end = number(items.next()).max(0) as usize;
                    list.keep(start, end);
                }
                Op::LRem => {
                    let n = number(items.next());
                    if let Some(item) = items.next() {
                        count = list.remove_equal(item, n.unsigned_abs() as usize, n >= 0) as i64;
                    }
                    return count;
                }
                _ => {}
            }
            count = list.len() as i64;
        }
    }
    count
}

/// Appends the records that rebuild `key` as `value` with expiry `at`
/// into an empty store: a snapshot's records for the key.
pub fn snapshot_records(key: &[u8], value: ValueRef<'_>, at: Option<u64>, out: &mut Vec<u8>) {
    let agg = match value {
        ValueRef::Str(val) => {
            return super::load::snapshot_record(key, val, at).encode(out);
        }
        ValueRef::Agg(agg) => agg,
    };
    let mut body = Vec::with_capacity(agg.bytes() as usize + 1);
    let op = match agg {
        Aggregate::Hash(hash) => {
            hash.iter().for_each(|(f, v)| {
                push_elem(&mut body, f);
                push_elem(&mut body, v);
            });
            Op::HSet
        }
        Aggregate::Set(set) => {
            set.iter().for_each(|m| push_elem(&mut body, m));
            Op::SAdd
        }
        Aggregate::ZSet(zset) => {
            zset.iter().for_each(|(m, s)| {
                push_elem(&mut body, &s.to_le_bytes());
                push_elem(&mut body, m);
            });
            Op::ZAdd
        }
        Aggregate::List(list) => {
            list.iter().for_each(|i| push_elem(&mut body, i));
            Op::RPush
        }
    };
    Record::Agg {
        key,
        op: op as u8 | REPLACE,
        body: &body,
    }
    .encode(out);
    if let Some(at) = at {
        Record::Expire { key, at }.encode(out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::apply_record;
    use super::super::record::{scan, Scan};
    use super::*;
    use proptest::prelude::*;

    /// Every key's snapshot records, by key: a value's canonical bytes.
    fn snapshot(store: &Store) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut all = Vec::new();
        store.for_each(0, |key, value, at| {
            let mut bytes = Vec::new();
            snapshot_records(key, value, at, &mut bytes);
            all.push((key.to_vec(), bytes));
        });
        all.sort();
        all
    }

    fn element() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(b'a'..b'e', 0..3),
            (0i64..6).prop_map(|n| n.to_le_bytes().to_vec()),
        ]
    }

    proptest! {
        /// A run of ops, applied live; its log replayed into an empty
        /// store; and the snapshot of the result replayed: all three hold
        /// the same values.
        #[test]
        fn a_log_and_a_snapshot_rebuild_what_the_ops_made(
            ops in prop::collection::vec(
                (0usize..2, 1u8..=14, prop::collection::vec(element(), 0..6)),
                1..60,
            )
        ) {
            let mut live = Store::default();
            let mut log = Vec::new();
            for (key, code, elems) in &ops {
                let key: &[u8] = if *key == 0 { b"a" } else { b"b" };
                let mut body = Vec::new();
                elems.iter().for_each(|e| push_elem(&mut body, e));
                apply_op(&mut live, key, *code, &body, 1);
                Record::Agg { key, op: *code, body: &body }.encode(&mut log);
            }
            let mut replayed = Store::default();
            prop_assert_eq!(scan(&log, |r| apply_record(&mut replayed, r, 0)), Scan::Clean);
            prop_assert_eq!(snapshot(&replayed), snapshot(&live));
            prop_assert_eq!(replayed.bytes(), live.bytes());
            let mut snap = Vec::new();
            live.for_each(0, |key, value, at| snapshot_records(key, value, at, &mut snap));
            let mut loaded = Store::default();
            prop_assert_eq!(scan(&snap, |r| apply_record(&mut loaded, r, 0)), Scan::Clean);
            prop_assert_eq!(snapshot(&loaded), snapshot(&live));
            prop_assert_eq!(loaded.bytes(), live.bytes());
        }
    }
}
