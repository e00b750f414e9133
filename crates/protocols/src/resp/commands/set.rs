//! The set commands (issue 27), run on the key's owner with redis-server
//! 7.0's replies and errors: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS
//! SPOP SRANDMEMBER SSCAN, and SMOVE, SINTER, SINTERCARD, SUNION, SDIFF and
//! the STORE forms when all their keys live on this shard (one step, atomic
//! as in Redis); over several shards `resp/gather.rs` runs them with
//! [`algebra`] on the values it gathers.

use super::super::protocol::write::{self, Proto};
use super::collections::{
    answer, any_position, distinct_positions, rand_count, scan_reply_head, wrong_type, ScanArgs,
};
use super::strings::{parse_i64, SYNTAX};
use super::Cmd;
use crate::kv::durable::ops::Op;
use crate::kv::values::{Aggregate, Kind, OwnedValue, Set, SET_ELEMENT};
use crate::resp::protocol::Command;
use percore_keyspace::typed::WrongType;
use percore_keyspace::write::ShardKeys;

/// `key`'s set: `Ok(None)` if absent.
pub fn set<'k>(keys: &'k ShardKeys<'_>, key: &[u8]) -> Result<Option<&'k Set>, WrongType> {
    match keys.typed(key, Kind::Set)? {
        Some(Aggregate::Set(set)) => Ok(Some(set)),
        _ => Ok(None),
    }
}

fn members_cost<'a>(members: impl Iterator<Item = &'a [u8]>) -> u64 {
    members.map(|m| m.len() as u64 + SET_ELEMENT).sum()
}

/// Runs one set command on this shard; its reply goes to `out`.
pub fn run(
    cmd: Cmd,
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    match cmd {
        Cmd::SInter
        | Cmd::SUnion
        | Cmd::SDiff
        | Cmd::SInterCard
        | Cmd::SInterStore
        | Cmd::SUnionStore
        | Cmd::SDiffStore => return multi_key(cmd, args, keys, proto, out),
        Cmd::SMove => return smove(args, keys, out),
        _ => {}
    }
    let key = args.at(1);
    let found = match set(keys, key) {
        Err(WrongType) => return wrong_type(out),
        Ok(found) => found,
    };
    match cmd {
        Cmd::SAdd => {
            let members: Vec<&[u8]> = args.iter().skip(2).collect();
            let fresh = |m: &&[u8]| found.is_none_or(|s| !s.contains(m));
            if !members.iter().any(fresh) {
                return write::int(out, 0);
            }
            let added = members_cost(members.iter().copied());
            let done = keys.apply(key, Op::SAdd, &members, added);
            answer(out, done, write::int);
        }
        Cmd::SRem => {
            let members: Vec<&[u8]> = args.iter().skip(2).collect();
            if !found.is_some_and(|s| members.iter().any(|m| s.contains(m))) {
                return write::int(out, 0);
            }
            let done = keys.apply(key, Op::SRem, &members, 0);
            answer(out, done, write::int);
        }
        Cmd::SCard => write::int(out, found.map_or(0, Set::len) as i64),
        Cmd::SIsMember => write::int(
            out,
            i64::from(found.is_some_and(|s| s.contains(args.at(2)))),
        ),
        Cmd::SMIsMember => {
            write::array_len(out, args.len() - 2);
            for member in args.iter().skip(2) {
                write::int(out, i64::from(found.is_some_and(|s| s.contains(member))));
            }
        }
        Cmd::SMembers => {
            write::set_len(out, found.map_or(0, Set::len), proto);
            for member in found.into_iter().flat_map(Set::iter) {
                write::bulk(out, member);
            }
        }
        Cmd::SPop => spop(args, keys, proto, out),
        Cmd::SRandMember => rand_member(args, found, proto, out),
        Cmd::SScan => {
            let scan = match ScanArgs::read(args) {
                Ok(scan) => scan,
                Err(error) => return write::error(out, error),
            };
            let Some(set) = found else {
                return scan_reply_head(out, 0, 0);
            };
            let mut picked = Vec::new();
            let next = scan.walk(set.len(), |i| set.at(i), |i| picked.push(i));
            scan_reply_head(out, next, picked.len());
            for member in picked.into_iter().filter_map(|i| set.at(i)) {
                write::bulk(out, member);
            }
        }
        _ => write::error(out, "ERR internal: not a set command"),
    }
}

/// `SPOP key [count]`: the members taken are logged as an SREM of them.
fn spop(args: &Command<'_>, keys: &mut ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    let key = args.at(1);
    if args.len() > 3 {
        return write::error(out, SYNTAX);
    }
    let count = match args.arg(2).map(parse_i64) {
        None => None,
        Some(None) => return write::error(out, "ERR value is out of range, must be positive"),
        Some(Some(n)) if n < 0 => {
            return write::error(out, "ERR value is out of range, must be positive")
        }
        Some(Some(n)) => Some(n as usize),
    };
    let Ok(found) = set(keys, key) else {
        return wrong_type(out);
    };
    let Some(found) = found else {
        return match count {
            None => write::null(out, proto),
            Some(_) => write::set_len(out, 0, proto),
        };
    };
    let taken: Vec<Vec<u8>> = distinct_positions(found.len(), count.unwrap_or(1))
        .into_iter()
        .filter_map(|i| found.at(i).map(<[u8]>::to_vec))
        .collect();
    if taken.is_empty() {
        return write::set_len(out, 0, proto);
    }
    let members: Vec<&[u8]> = taken.iter().map(Vec::as_slice).collect();
    let done = keys.apply(key, Op::SRem, &members, 0);
    answer(out, done, |out, _| match count {
        None => write::bulk(out, members[0]),
        Some(_) => {
            write::set_len(out, members.len(), proto);
            members.iter().for_each(|m| write::bulk(out, m));
        }
    });
}

/// `SRANDMEMBER key [count]`.
fn rand_member(args: &Command<'_>, found: Option<&Set>, proto: Proto, out: &mut Vec<u8>) {
    if args.len() > 3 {
        return write::error(out, SYNTAX);
    }
    if args.len() == 2 {
        return match found.and_then(|s| s.at(any_position(s.len()))) {
            Some(member) => write::bulk(out, member),
            None => write::null(out, proto),
        };
    }
    let count = match rand_count(args.at(2)) {
        Ok(count) => count,
        Err(error) => return write::error(out, error),
    };
    let Some(set) = found else {
        return write::array_len(out, 0);
    };
    let positions: Vec<usize> = if count >= 0 {
        distinct_positions(set.len(), count as usize)
    } else {
        (0..count.unsigned_abs())
            .map(|_| any_position(set.len()))
            .collect()
    };
    write::array_len(out, positions.len());
    for member in positions.into_iter().filter_map(|i| set.at(i)) {
        write::bulk(out, member);
    }
}

/// `SMOVE source destination member` with both keys here.
fn smove(args: &Command<'_>, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    let (src, dst, member) = (args.at(1), args.at(2), args.at(3));
    let (Ok(from), Ok(_)) = (set(keys, src), set(keys, dst)) else {
        return wrong_type(out);
    };
    if !from.is_some_and(|s| s.contains(member)) {
        return write::int(out, 0);
    }
    if src == dst {
        return write::int(out, 1);
    }
    let done = keys
        .apply(src, Op::SRem, &[member], 0)
        .and_then(|_| keys.apply(dst, Op::SAdd, &[member], members_cost([member].into_iter())));
    answer(out, done, |out, _| write::int(out, 1));
}

/// Which set operation a multi-key command does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algebra {
    Inter,
    Union,
    Diff,
}

/// The source keys, destination, operation and SINTERCARD's limit of a
/// multi-key set command; Err: the error to answer.
pub struct MultiKey<'a> {
    pub algebra: Algebra,
    pub sources: Vec<&'a [u8]>,
    pub dest: Option<&'a [u8]>,
    /// SINTERCARD: its limit (0: none).
    pub card: Option<usize>,
}

impl<'a> MultiKey<'a> {
    pub fn read(cmd: Cmd, args: &Command<'a>) -> Result<MultiKey<'a>, &'static str> {
        let all: Vec<&[u8]> = args.iter().skip(1).collect();
        let algebra = match cmd {
            Cmd::SInter | Cmd::SInterStore | Cmd::SInterCard => Algebra::Inter,
            Cmd::SUnion | Cmd::SUnionStore => Algebra::Union,
            _ => Algebra::Diff,
        };
        Ok(match cmd {
            Cmd::SInterStore | Cmd::SUnionStore | Cmd::SDiffStore => MultiKey {
                algebra,
                dest: Some(all[0]),
                sources: all[1..].to_vec(),
                card: None,
            },
            Cmd::SInterCard => {
                let (sources, limit) = intercard_args(args)?;
                MultiKey {
                    algebra,
                    dest: None,
                    sources,
                    card: Some(limit),
                }
            }
            _ => MultiKey {
                algebra,
                dest: None,
                sources: all,
                card: None,
            },
        })
    }
}

/// SINTERCARD's `numkeys key... [LIMIT n]`.
fn intercard_args<'a>(args: &Command<'a>) -> Result<(Vec<&'a [u8]>, usize), &'static str> {
    let numkeys = match parse_i64(args.at(1)) {
        None => return Err("ERR numkeys should be greater than 0"),
        Some(n) if n <= 0 => return Err("ERR numkeys should be greater than 0"),
        Some(n) => n as usize,
    };
    if numkeys > args.len() - 2 {
        return Err("ERR Number of keys can't be greater than number of args");
    }
    let sources: Vec<&[u8]> = args.iter().skip(2).take(numkeys).collect();
    let mut limit = 0;
    let mut i = 2 + numkeys;
    while i < args.len() {
        if args.at(i).eq_ignore_ascii_case(b"limit") && i + 1 < args.len() {
            limit = match parse_i64(args.at(i + 1)) {
                Some(n) if n < 0 => return Err("ERR LIMIT can't be negative"),
                None => return Err("ERR LIMIT can't be negative"),
                Some(n) => n as usize,
            };
            i += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    Ok((sources, limit))
}

/// The members of an intersection, union or difference of `sets` (`None`:
/// an absent key, an empty set), in the order of the set it walks.
pub fn algebra<'s>(algebra: Algebra, sets: &[Option<&'s Set>], limit: usize) -> Vec<&'s [u8]> {
    let limit = if limit == 0 { usize::MAX } else { limit };
    match algebra {
        Algebra::Inter => {
            if sets.iter().any(Option::is_none) {
                return Vec::new();
            }
            let mut present: Vec<&Set> = sets.iter().flatten().copied().collect();
            present.sort_by_key(|s| s.len());
            let Some((smallest, rest)) = present.split_first() else {
                return Vec::new();
            };
            smallest
                .iter()
                .filter(|m| rest.iter().all(|s| s.contains(m)))
                .take(limit)
                .collect()
        }
        Algebra::Union => {
            let mut seen = std::collections::HashSet::new();
            sets.iter()
                .flatten()
                .flat_map(|s| s.iter())
                .filter(|m| seen.insert(*m))
                .collect()
        }
        Algebra::Diff => {
            let Some(Some(first)) = sets.first() else {
                return Vec::new();
            };
            first
                .iter()
                .filter(|m| !sets[1..].iter().flatten().any(|s| s.contains(m)))
                .collect()
        }
    }
}

/// Writes the reply of a multi-key set command whose result is `members`
/// (for a STORE form, after storing it).
pub fn reply_members(card: Option<usize>, members: &[&[u8]], proto: Proto, out: &mut Vec<u8>) {
    if card.is_some() {
        return write::int(out, members.len() as i64);
    }
    write::set_len(out, members.len(), proto);
    members.iter().for_each(|m| write::bulk(out, m));
}

/// A set value of `members` (what a STORE form stores).
pub fn set_of(members: &[&[u8]]) -> OwnedValue {
    let mut set = Set::default();
    members.iter().for_each(|m| {
        set.add(m);
    });
    OwnedValue::Agg(Aggregate::Set(set))
}

/// SINTER, SUNION, SDIFF, SINTERCARD and the STORE forms, every key here.
fn multi_key(
    cmd: Cmd,
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    let request = match MultiKey::read(cmd, args) {
        Ok(request) => request,
        Err(error) => return write::error(out, error),
    };
    let mut sets = Vec::with_capacity(request.sources.len());
    for key in &request.sources {
        match set(keys, key) {
            Ok(found) => sets.push(found),
            Err(WrongType) => return wrong_type(out),
        }
    }
    let members = algebra(request.algebra, &sets, request.card.unwrap_or(0));
    let Some(dest) = request.dest else {
        return reply_members(request.card, &members, proto, out);
    };
    let count = members.len() as i64;
    let value = set_of(&members);
    let done = if count == 0 {
        keys.del(dest).map(|_| ())
    } else {
        keys.put_value(dest, value, None)
    };
    answer(out, done, |out, ()| write::int(out, count));
}
