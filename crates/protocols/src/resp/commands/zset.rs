//! The sorted set commands (issue 27), run on the key's owner with
//! redis-server 7.0's replies and errors: ZADD (NX XX GT LT CH INCR)
//! ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT, the
//! ZRANGE family (`zset_range.rs` reads the ranges), ZREMRANGEBY*, ZSCAN;
//! ZPOPMIN, ZPOPMAX and ZRANDMEMBER are in `zset_pop.rs`. Every write is
//! logged as the ZADD or ZREM of what it changed.

use std::collections::HashMap;

use super::super::protocol::write::{self, Proto};
use super::collections::{answer, parse_score, scan_reply_head, score, wrong_type, ScanArgs};
use super::strings::SYNTAX;
use super::zset_pop;
use super::zset_range::{read_range, Kind as RangeKind, Range};
use super::Cmd;
use crate::kv::durable::ops::Op;
use crate::kv::values::{Aggregate, Kind, ZSet, ZSET_ELEMENT};
use crate::resp::protocol::Command;
use percore_keyspace::typed::WrongType;
use percore_keyspace::write::ShardKeys;

const NOT_FLOAT: &str = "ERR value is not a valid float";
const NAN: &str = "ERR resulting score is not a number (NaN)";

/// `key`'s sorted set: `Ok(None)` if absent.
pub fn zset<'k>(keys: &'k ShardKeys<'_>, key: &[u8]) -> Result<Option<&'k ZSet>, WrongType> {
    match keys.typed(key, Kind::ZSet)? {
        Some(Aggregate::ZSet(zset)) => Ok(Some(zset)),
        _ => Ok(None),
    }
}

/// Runs one sorted set command on the key's owner; its reply goes to `out`.
pub fn run(
    cmd: Cmd,
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    match cmd {
        Cmd::ZAdd => return zadd(args, keys, proto, out),
        Cmd::ZIncrBy => {
            let Some(by) = parse_score(args.at(2)) else {
                return write::error(out, NOT_FLOAT);
            };
            return add(
                args.at(1),
                &[(by, args.at(3))],
                Flags {
                    incr: true,
                    ..Flags::default()
                },
                keys,
                proto,
                out,
            );
        }
        Cmd::ZRange
        | Cmd::ZRangeByScore
        | Cmd::ZRevRangeByScore
        | Cmd::ZRevRange
        | Cmd::ZRangeByLex
        | Cmd::ZRevRangeByLex => return range(cmd, args, keys, proto, out),
        Cmd::ZCount
        | Cmd::ZLexCount
        | Cmd::ZRemRangeByRank
        | Cmd::ZRemRangeByScore
        | Cmd::ZRemRangeByLex => return count_or_remove(cmd, args, keys, out),
        Cmd::ZPopMin | Cmd::ZPopMax => return zset_pop::pop(cmd, args, keys, proto, out),
        _ => {}
    }
    let key = args.at(1);
    let found = match zset(keys, key) {
        Err(WrongType) => return wrong_type(out),
        Ok(found) => found,
    };
    match cmd {
        Cmd::ZRem => {
            let members: Vec<&[u8]> = args.iter().skip(2).collect();
            if !found.is_some_and(|z| members.iter().any(|m| z.score(m).is_some())) {
                return write::int(out, 0);
            }
            let done = keys.apply(key, Op::ZRem, &members, 0);
            answer(out, done, write::int);
        }
        Cmd::ZCard => write::int(out, found.map_or(0, ZSet::len) as i64),
        Cmd::ZScore => match found.and_then(|z| z.score(args.at(2))) {
            Some(s) => score(out, s, proto),
            None => write::null(out, proto),
        },
        Cmd::ZMScore => {
            write::array_len(out, args.len() - 2);
            for member in args.iter().skip(2) {
                match found.and_then(|z| z.score(member)) {
                    Some(s) => score(out, s, proto),
                    None => write::null(out, proto),
                }
            }
        }
        Cmd::ZRank | Cmd::ZRevRank => {
            match found.and_then(|z| z.rank(args.at(2)).map(|r| (r, z.len()))) {
                Some((rank, len)) => {
                    let rank = if cmd == Cmd::ZRank {
                        rank
                    } else {
                        len - 1 - rank
                    };
                    write::int(out, rank as i64)
                }
                None => write::null(out, proto),
            }
        }
        Cmd::ZRandMember => zset_pop::rand_member(args, found, proto, out),
        Cmd::ZScan => {
            let scan = match ScanArgs::read(args) {
                Ok(scan) => scan,
                Err(error) => return write::error(out, error),
            };
            let Some(zset) = found else {
                return scan_reply_head(out, 0, 0);
            };
            let mut picked = Vec::new();
            let next = scan.walk(
                zset.len(),
                |i| zset.at(i).map(|(m, _)| m),
                |i| picked.push(i),
            );
            scan_reply_head(out, next, picked.len() * 2);
            for (member, s) in picked.into_iter().filter_map(|i| zset.at(i)) {
                write::bulk(out, member);
                score(out, s, Proto::Resp2);
            }
        }
        _ => write::error(out, "ERR internal: not a sorted set command"),
    }
}

/// ZADD's options (GEOADD's NX, XX and CH too: `geo.rs`).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Flags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub ch: bool,
    pub incr: bool,
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`.
fn zadd(args: &Command<'_>, keys: &mut ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    let mut flags = Flags::default();
    let mut i = 2;
    while i < args.len() {
        let arg = args.at(i);
        let flag = match arg.to_ascii_lowercase().as_slice() {
            b"nx" => &mut flags.nx,
            b"xx" => &mut flags.xx,
            b"gt" => &mut flags.gt,
            b"lt" => &mut flags.lt,
            b"ch" => &mut flags.ch,
            b"incr" => &mut flags.incr,
            _ => break,
        };
        *flag = true;
        i += 1;
    }
    let elements = args.len() - i;
    if elements == 0 || elements % 2 != 0 {
        return write::error(out, SYNTAX);
    }
    if flags.nx && flags.xx {
        return write::error(
            out,
            "ERR XX and NX options at the same time are not compatible",
        );
    }
    if [flags.gt, flags.lt, flags.nx]
        .iter()
        .filter(|&&f| f)
        .count()
        > 1
    {
        return write::error(
            out,
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        );
    }
    if flags.incr && elements > 2 {
        return write::error(
            out,
            "ERR INCR option supports a single increment-element pair",
        );
    }
    let mut pairs = Vec::with_capacity(elements / 2);
    while i < args.len() {
        let Some(s) = parse_score(args.at(i)) else {
            return write::error(out, NOT_FLOAT);
        };
        pairs.push((s, args.at(i + 1)));
        i += 2;
    }
    add(args.at(1), &pairs, flags, keys, proto, out);
}

/// ZADD's, ZINCRBY's and GEOADD's work: decides each pair against the set
/// (and the pairs before it), then logs and applies the changes as one ZADD.
pub(super) fn add(
    key: &[u8],
    pairs: &[(f64, &[u8])],
    flags: Flags,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    let found = match zset(keys, key) {
        Err(WrongType) => return wrong_type(out),
        Ok(found) => found,
    };
    if flags.xx && found.is_none() {
        return if flags.incr {
            write::null(out, proto)
        } else {
            write::int(out, 0)
        };
    }
    let mut pending: HashMap<&[u8], f64> = HashMap::new();
    let (mut added, mut updated) = (0i64, 0i64);
    let mut last: Option<f64> = None;
    for &(s, member) in pairs {
        let current = pending
            .get(member)
            .copied()
            .or_else(|| found.and_then(|z| z.score(member)));
        last = None;
        match current {
            Some(cur) => {
                if flags.nx {
                    continue;
                }
                let new = if flags.incr { cur + s } else { s };
                if new.is_nan() {
                    return write::error(out, NAN);
                }
                if (flags.lt && new >= cur) || (flags.gt && new <= cur) {
                    continue;
                }
                last = Some(new);
                if new != cur {
                    updated += 1;
                    pending.insert(member, new);
                }
            }
            None => {
                if flags.xx {
                    continue;
                }
                if s.is_nan() {
                    return write::error(out, NAN);
                }
                last = Some(s);
                added += 1;
                pending.insert(member, s);
            }
        }
    }
    let reply = |out: &mut Vec<u8>| {
        if flags.incr {
            match last {
                Some(s) => score(out, s, proto),
                None => write::null(out, proto),
            }
        } else {
            write::int(out, if flags.ch { added + updated } else { added })
        }
    };
    if pending.is_empty() {
        return reply(out);
    }
    // In the command's order, each member once, with its last score.
    let mut seen = std::collections::HashSet::new();
    let texts: Vec<([u8; 8], &[u8])> = pairs
        .iter()
        .rev()
        .filter(|(_, m)| pending.contains_key(m) && seen.insert(*m))
        .map(|(_, m)| (pending[m].to_le_bytes(), *m))
        .collect();
    let mut elems: Vec<&[u8]> = Vec::with_capacity(texts.len() * 2);
    for (s, m) in texts.iter().rev() {
        elems.push(s);
        elems.push(m);
    }
    let cost = texts
        .iter()
        .map(|(_, m)| m.len() as u64 + ZSET_ELEMENT)
        .sum();
    let done = keys.apply(key, Op::ZAdd, &elems, cost);
    answer(out, done, |out, _| reply(out));
}

/// How a range command reads its arguments: ZRANGE's options or the fixed
/// kind and direction of an older form.
fn range_form(cmd: Cmd) -> (bool, RangeKind, bool) {
    match cmd {
        Cmd::ZRange => (true, RangeKind::Rank, false),
        Cmd::ZRevRange => (false, RangeKind::Rank, true),
        Cmd::ZRangeByScore => (false, RangeKind::Score, false),
        Cmd::ZRevRangeByScore => (false, RangeKind::Score, true),
        Cmd::ZRangeByLex => (false, RangeKind::Lex, false),
        _ => (false, RangeKind::Lex, true),
    }
}

/// ZRANGE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
/// ZREVRANGEBYLEX.
fn range(cmd: Cmd, args: &Command<'_>, keys: &ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    let (zrange, kind, rev) = range_form(cmd);
    if !zrange && kind == RangeKind::Rank && args.len() > 5 {
        return write::error(out, SYNTAX);
    }
    let (range, with_scores) = match read_range(args, 4, zrange, kind, rev) {
        Ok(read) => read,
        Err(error) => return write::error(out, error),
    };
    match zset(keys, args.at(1)) {
        Err(WrongType) => wrong_type(out),
        Ok(None) => write::array_len(out, 0),
        Ok(Some(zset)) => zset_pop::reply_range(out, &range.select(zset), with_scores, proto),
    }
}

/// The range `ZRANGESTORE dst src min max [options]` selects, read from
/// `args` (Err: the error).
pub fn store_range<'a>(args: &Command<'a>) -> Result<Range<'a>, &'static str> {
    read_range(args, 5, true, RangeKind::Rank, false).map(|(range, _)| range)
}

/// ZCOUNT, ZLEXCOUNT, and ZREMRANGEBYRANK/SCORE/LEX (logged as the ZREM of
/// what they remove).
fn count_or_remove(cmd: Cmd, args: &Command<'_>, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    let kind = match cmd {
        Cmd::ZCount | Cmd::ZRemRangeByScore => RangeKind::Score,
        Cmd::ZLexCount | Cmd::ZRemRangeByLex => RangeKind::Lex,
        _ => RangeKind::Rank,
    };
    let key = args.at(1);
    let by = match Range::bounds(kind, args.at(2), args.at(3)) {
        Ok(by) => by,
        Err(error) => return write::error(out, error),
    };
    let range = Range {
        by,
        rev: false,
        limit: None,
    };
    let found = match zset(keys, key) {
        Err(WrongType) => return wrong_type(out),
        Ok(found) => found,
    };
    let picked: Vec<Vec<u8>> = found
        .map(|z| {
            range
                .select(z)
                .into_iter()
                .map(|(m, _)| m.to_vec())
                .collect()
        })
        .unwrap_or_default();
    if matches!(cmd, Cmd::ZCount | Cmd::ZLexCount) || picked.is_empty() {
        return write::int(out, picked.len() as i64);
    }
    let members: Vec<&[u8]> = picked.iter().map(Vec::as_slice).collect();
    let done = keys.apply(key, Op::ZRem, &members, 0);
    answer(out, done, write::int);
}
