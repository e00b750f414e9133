//! The crash campaign's hashes, lists, sets and sorted sets (issue 27:
//! every type survives the campaign). A typed key's state is kept, like a
//! string's, as bytes: a canonical text of the whole value (its type, then
//! its elements one a line, sorted where the type has no order), so the
//! model's histories and checks serve it unchanged. The check reads a typed
//! key with DUMP and decodes the payload with percore's own reader
//! (`percore_protocols::resp::rdb`), which `tests/it/resp_dump.rs` holds to
//! redis-server's.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use percore_protocols::kv::values::{Aggregate, OwnedValue};

use super::model::State;
use crate::common::rng::Rng;

/// A typed key's value as the client models it.
#[derive(Clone, Debug, PartialEq)]
pub enum Typed {
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    List(VecDeque<Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    ZSet(BTreeMap<Vec<u8>, i64>),
}

/// Which type the typed key `index` of a client holds.
pub fn kind_of(index: usize) -> Typed {
    match index % 4 {
        0 => Typed::Hash(BTreeMap::new()),
        1 => Typed::List(VecDeque::new()),
        2 => Typed::Set(BTreeSet::new()),
        _ => Typed::ZSet(BTreeMap::new()),
    }
}

impl Typed {
    /// The canonical text of a value: its type's letter, then each element
    /// on a line of its own (fields and members sorted; a list in order).
    /// The campaign's elements hold no newline, `=` or space.
    pub fn canonical(&self) -> Vec<u8> {
        let lines: Vec<Vec<u8>> = match self {
            Typed::Hash(hash) => hash
                .iter()
                .map(|(f, v)| [&f[..], b"=", v].concat())
                .collect(),
            Typed::List(list) => list.iter().cloned().collect(),
            Typed::Set(set) => set.iter().cloned().collect(),
            Typed::ZSet(zset) => zset
                .iter()
                .map(|(m, s)| [&m[..], b" ", s.to_string().as_bytes()].concat())
                .collect(),
        };
        let letter: &[u8] = match self {
            Typed::Hash(_) => b"H",
            Typed::List(_) => b"L",
            Typed::Set(_) => b"S",
            Typed::ZSet(_) => b"Z",
        };
        [letter.to_vec(), lines.concat_with(b'\n')].concat()
    }

    /// The value a checked state holds, for the key `index` (empty when
    /// the key is absent).
    pub fn from_state(index: usize, state: &State) -> Typed {
        let mut typed = kind_of(index);
        let Some(text) = state.val() else {
            return typed;
        };
        for line in text.split(|&b| b == b'\n').skip(1) {
            let split = |at: u8| {
                let i = line.iter().position(|&b| b == at).unwrap_or(line.len());
                (
                    line[..i].to_vec(),
                    line.get(i + 1..).unwrap_or_default().to_vec(),
                )
            };
            match &mut typed {
                Typed::Hash(hash) => {
                    let (field, value) = split(b'=');
                    hash.insert(field, value);
                }
                Typed::List(list) => list.push_back(line.to_vec()),
                Typed::Set(set) => {
                    set.insert(line.to_vec());
                }
                Typed::ZSet(zset) => {
                    let (member, score) = split(b' ');
                    let score = String::from_utf8_lossy(&score).parse().unwrap_or(0);
                    zset.insert(member, score);
                }
            }
        }
        typed
    }

    fn is_empty(&self) -> bool {
        match self {
            Typed::Hash(hash) => hash.is_empty(),
            Typed::List(list) => list.is_empty(),
            Typed::Set(set) => set.is_empty(),
            Typed::ZSet(zset) => zset.is_empty(),
        }
    }

    /// The state this value is: absent when empty, as Redis removes an
    /// emptied key.
    pub fn state(&self) -> State {
        if self.is_empty() {
            State::Absent
        } else {
            State::Plain(self.canonical())
        }
    }

    /// A random write on `key` and the value it leaves; `unique` is a value
    /// no other write makes. Besides the element writes, the writes that
    /// are not blind (pushes and pops at either end, LTRIM, LREM, LSET,
    /// LINSERT, HINCRBY, ZINCRBY): replayed twice or out of order, they
    /// would leave another value. A write Redis refuses (LSET past the end)
    /// leaves the value as it was, as the model then does.
    pub fn write(&self, key: &[u8], unique: Vec<u8>, rng: &mut Rng) -> (Vec<Vec<u8>>, Typed) {
        let mut after = self.clone();
        let mut pick =
            |prefix: &[u8], n: u64| [prefix, rng.below(n).to_string().as_bytes()].concat();
        let roll = pick(b"", 10)[0] - b'0';
        let command = |words: &[&[u8]]| words.iter().map(|w| w.to_vec()).collect();
        let args = match &mut after {
            Typed::Hash(hash) => {
                let field = pick(b"f", 6);
                if roll < 5 {
                    hash.insert(field.clone(), unique.clone());
                    command(&[b"HSET", key, &field, &unique])
                } else if roll < 8 {
                    hash.remove(&field);
                    command(&[b"HDEL", key, &field])
                } else {
                    let delta = pick(b"", 5);
                    let now = hash.get(&b"count"[..]).map_or(0, |v| number(v));
                    let next = now + number(&delta);
                    hash.insert(b"count".to_vec(), next.to_string().into_bytes());
                    command(&[b"HINCRBY", key, b"count", &delta])
                }
            }
            Typed::List(list) => {
                let len = list.len() as u64;
                let index = pick(b"", len.max(1)).to_vec();
                let at = number(&index) as usize;
                match roll {
                    0..=2 => {
                        list.push_back(unique.clone());
                        command(&[b"RPUSH", key, &unique])
                    }
                    3 | 4 => {
                        list.push_front(unique.clone());
                        command(&[b"LPUSH", key, &unique])
                    }
                    5 => {
                        list.pop_front();
                        command(&[b"LPOP", key])
                    }
                    6 => {
                        list.pop_back();
                        command(&[b"RPOP", key])
                    }
                    7 => {
                        // Keep all but the first `at` items.
                        let kept: VecDeque<Vec<u8>> = list.iter().skip(at).cloned().collect();
                        *list = kept;
                        command(&[b"LTRIM", key, &index, b"-1"])
                    }
                    8 if at < list.len() => {
                        // An item that is there: LSET in range, then
                        // LINSERT before it or LREM of it, by turns.
                        let item = list[at].clone();
                        match rng_turn(&unique) {
                            0 => {
                                list[at] = unique.clone();
                                command(&[b"LSET", key, &index, &unique])
                            }
                            1 => {
                                list.insert(at, unique.clone());
                                command(&[b"LINSERT", key, b"BEFORE", &item, &unique])
                            }
                            _ => {
                                list.retain(|x| *x != item);
                                command(&[b"LREM", key, b"0", &item])
                            }
                        }
                    }
                    _ => {
                        // Past the end: refused, nothing changes.
                        let past = (len + 1).to_string().into_bytes();
                        command(&[b"LSET", key, &past, &unique])
                    }
                }
            }
            Typed::Set(set) => {
                let member = pick(b"m", 10);
                if roll < 6 {
                    set.insert(member.clone());
                    command(&[b"SADD", key, &member])
                } else {
                    set.remove(&member);
                    command(&[b"SREM", key, &member])
                }
            }
            Typed::ZSet(zset) => {
                let member = pick(b"m", 8);
                let score = pick(b"", 2_000_000);
                if roll < 4 {
                    zset.insert(member.clone(), number(&score));
                    command(&[b"ZADD", key, &score, &member])
                } else if roll < 7 {
                    zset.remove(&member);
                    command(&[b"ZREM", key, &member])
                } else {
                    let delta = pick(b"", 1000);
                    *zset.entry(member.clone()).or_insert(0) += number(&delta);
                    command(&[b"ZINCRBY", key, &delta, &member])
                }
            }
        };
        (args, after)
    }
}

/// A decimal the campaign wrote.
fn number(text: &[u8]) -> i64 {
    String::from_utf8_lossy(text).parse().unwrap_or(0)
}

/// One of three turns, from a unique value's sequence number.
fn rng_turn(unique: &[u8]) -> u64 {
    let seq = unique.split(|&b| b == b'.').nth(1).unwrap_or_default();
    number(seq).unsigned_abs() % 3
}

/// The canonical text of a value a DUMP payload holds, as
/// [`Typed::canonical`] writes it for the model; a string is its bytes.
pub fn canonical_of(value: &OwnedValue) -> Vec<u8> {
    let typed = match value {
        OwnedValue::Str(bytes) => return bytes.to_vec(),
        OwnedValue::Agg(Aggregate::Hash(hash)) => {
            Typed::Hash(hash.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect())
        }
        OwnedValue::Agg(Aggregate::List(list)) => {
            Typed::List(list.iter().map(<[u8]>::to_vec).collect())
        }
        OwnedValue::Agg(Aggregate::Set(set)) => {
            Typed::Set(set.iter().map(<[u8]>::to_vec).collect())
        }
        OwnedValue::Agg(Aggregate::ZSet(zset)) => {
            Typed::ZSet(zset.iter().map(|(m, s)| (m.to_vec(), s as i64)).collect())
        }
    };
    typed.canonical()
}

/// Lines joined with a separator before each.
trait ConcatWith {
    fn concat_with(&self, separator: u8) -> Vec<u8>;
}

impl ConcatWith for Vec<Vec<u8>> {
    fn concat_with(&self, separator: u8) -> Vec<u8> {
        let mut out = Vec::new();
        for line in self {
            out.push(separator);
            out.extend_from_slice(line);
        }
        out
    }
}
