//! The list commands (issue 27), run on the key's owner with redis-server
//! 7.0's replies and errors: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP (with
//! count) LLEN LINDEX LSET LRANGE LTRIM LREM LINSERT LPOS; LMOVE,
//! RPOPLPUSH and LMPOP are in `list_move.rs`. Each write is logged as the
//! list op it did, with positions resolved (LINSERT logs the index it
//! found).

use super::super::protocol::write::{self, Proto};
use super::collections::{answer, wrong_type};
use super::strings::{parse_i64, NOT_INTEGER, SYNTAX};
use super::{list_move, Cmd};
use crate::kv::durable::ops::Op;
use crate::kv::values::{Aggregate, Kind, List, LIST_ELEMENT};
use crate::resp::protocol::Command;
use percore_keyspace::typed::WrongType;
use percore_keyspace::write::{Refused, ShardKeys};

const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";

/// `key`'s list: `Ok(None)` if absent.
pub fn list<'k>(keys: &'k ShardKeys<'_>, key: &[u8]) -> Result<Option<&'k List>, WrongType> {
    match keys.typed(key, Kind::List)? {
        Some(Aggregate::List(list)) => Ok(Some(list)),
        _ => Ok(None),
    }
}

pub(super) fn items_cost<'a>(items: impl Iterator<Item = &'a [u8]>) -> u64 {
    items.map(|i| i.len() as u64 + LIST_ELEMENT).sum()
}

/// A list index from the head (negative: from the tail) as a position.
fn position(index: i64, len: usize) -> Option<usize> {
    let index = if index < 0 { index + len as i64 } else { index };
    usize::try_from(index).ok().filter(|&i| i < len)
}

/// The positions `start..end` (end excluded) of LRANGE's and LTRIM's
/// `start stop`, clamped as Redis clamps them.
pub fn span(start: i64, stop: i64, len: usize) -> (usize, usize) {
    let len = len as i64;
    let start = if start < 0 {
        (start + len).max(0)
    } else {
        start
    };
    let stop = if stop < 0 {
        stop + len
    } else {
        stop.min(len - 1)
    };
    if start > stop || start >= len {
        return (0, 0);
    }
    (start as usize, (stop + 1) as usize)
}

/// Runs one list command on this shard; its reply goes to `out`.
pub fn run(
    cmd: Cmd,
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    match cmd {
        Cmd::LMove | Cmd::RPopLPush => return list_move::lmove(cmd, args, keys, proto, out),
        Cmd::LMPop => return list_move::lmpop(args, keys, proto, out),
        _ => {}
    }
    let key = args.at(1);
    let found = match list(keys, key) {
        Err(WrongType) => return wrong_type(out),
        Ok(found) => found,
    };
    match cmd {
        Cmd::LPush | Cmd::RPush | Cmd::LPushX | Cmd::RPushX => {
            if matches!(cmd, Cmd::LPushX | Cmd::RPushX) && found.is_none() {
                return write::int(out, 0);
            }
            let items: Vec<&[u8]> = args.iter().skip(2).collect();
            let op = if matches!(cmd, Cmd::LPush | Cmd::LPushX) {
                Op::LPush
            } else {
                Op::RPush
            };
            let done = keys.apply(key, op, &items, items_cost(items.iter().copied()));
            answer(out, done, write::int);
        }
        Cmd::LPop | Cmd::RPop => pop(cmd, args, keys, proto, out),
        Cmd::LLen => write::int(out, found.map_or(0, List::len) as i64),
        Cmd::LIndex => {
            let Some(index) = parse_i64(args.at(2)) else {
                return write::error(out, NOT_INTEGER);
            };
            match found.and_then(|l| position(index, l.len()).and_then(|i| l.get(i))) {
                Some(item) => write::bulk(out, item),
                None => write::null(out, proto),
            }
        }
        Cmd::LSet => {
            let Some(index) = parse_i64(args.at(2)) else {
                return write::error(out, NOT_INTEGER);
            };
            let Some(list) = found else {
                return write::error(out, "ERR no such key");
            };
            let Some(at) = position(index, list.len()) else {
                return write::error(out, "ERR index out of range");
            };
            let at = (at as i64).to_le_bytes();
            let item = args.at(3);
            let done = keys.apply(key, Op::LSet, &[&at, item], items_cost([item].into_iter()));
            answer(out, done, |out, _| write::ok(out));
        }
        Cmd::LRange => {
            let (Some(start), Some(stop)) = (parse_i64(args.at(2)), parse_i64(args.at(3))) else {
                return write::error(out, NOT_INTEGER);
            };
            let Some(list) = found else {
                return write::array_len(out, 0);
            };
            let (from, to) = span(start, stop, list.len());
            write::array_len(out, to - from);
            list.iter()
                .skip(from)
                .take(to - from)
                .for_each(|i| write::bulk(out, i));
        }
        Cmd::LTrim => {
            let (Some(start), Some(stop)) = (parse_i64(args.at(2)), parse_i64(args.at(3))) else {
                return write::error(out, NOT_INTEGER);
            };
            let Some(list) = found else {
                return write::ok(out);
            };
            let (from, to) = span(start, stop, list.len());
            if (from, to) == (0, list.len()) {
                return write::ok(out);
            }
            let (from, to) = ((from as i64).to_le_bytes(), (to as i64).to_le_bytes());
            let done = keys.apply(key, Op::LTrim, &[&from, &to], 0);
            answer(out, done, |out, _| write::ok(out));
        }
        Cmd::LRem => {
            let Some(count) = parse_i64(args.at(2)) else {
                return write::error(out, NOT_INTEGER);
            };
            let item = args.at(3);
            if !found.is_some_and(|l| l.iter().any(|i| i == item)) {
                return write::int(out, 0);
            }
            let count = count.to_le_bytes();
            let done = keys.apply(key, Op::LRem, &[&count, item], 0);
            answer(out, done, write::int);
        }
        Cmd::LInsert => {
            let before = match args.at(2) {
                w if w.eq_ignore_ascii_case(b"before") => true,
                w if w.eq_ignore_ascii_case(b"after") => false,
                _ => return write::error(out, SYNTAX),
            };
            let Some(list) = found else {
                return write::int(out, 0);
            };
            let Some(pivot) = list.iter().position(|i| i == args.at(3)) else {
                return write::int(out, -1);
            };
            let at = ((pivot + usize::from(!before)) as i64).to_le_bytes();
            let item = args.at(4);
            let done = keys.apply(
                key,
                Op::LInsert,
                &[&at, item],
                items_cost([item].into_iter()),
            );
            answer(out, done, |out, _| {
                write::int(out, (list_len(keys, key)) as i64)
            });
        }
        Cmd::LPos => lpos(args, found, proto, out),
        _ => write::error(out, "ERR internal: not a list command"),
    }
}

fn list_len(keys: &ShardKeys<'_>, key: &[u8]) -> usize {
    list(keys, key).ok().flatten().map_or(0, List::len)
}

/// Pops `count` items from `key`'s head (or tail): the items, logged.
pub fn pop_items(
    keys: &mut ShardKeys<'_>,
    key: &[u8],
    tail: bool,
    count: usize,
) -> Result<Vec<Vec<u8>>, Refused> {
    let items: Vec<Vec<u8>> = match list(keys, key).ok().flatten() {
        None => return Ok(Vec::new()),
        Some(list) if tail => list.iter().rev().take(count).map(<[u8]>::to_vec).collect(),
        Some(list) => list.iter().take(count).map(<[u8]>::to_vec).collect(),
    };
    if items.is_empty() {
        return Ok(items);
    }
    let n = (items.len() as i64).to_le_bytes();
    let op = if tail { Op::RPop } else { Op::LPop };
    keys.apply(key, op, &[&n], 0).map(|_| items)
}

/// `LPOP key [count]` and RPOP.
fn pop(cmd: Cmd, args: &Command<'_>, keys: &mut ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    if args.len() > 3 {
        let name = if cmd == Cmd::LPop { "lpop" } else { "rpop" };
        return super::connection::wrong_arity(out, name);
    }
    let count = match args.arg(2).map(parse_i64) {
        None => None,
        Some(Some(n)) if n >= 0 => Some(n as usize),
        Some(_) => return write::error(out, NOT_POSITIVE),
    };
    let key = args.at(1);
    if !keys.exists(key) {
        return match count {
            None => write::null(out, proto),
            Some(_) => write::null_array(out, proto),
        };
    }
    let done = pop_items(keys, key, cmd == Cmd::RPop, count.unwrap_or(1));
    answer(out, done, |out, items| match count {
        None => match items.first() {
            Some(item) => write::bulk(out, item),
            None => write::null(out, proto),
        },
        Some(_) => {
            write::array_len(out, items.len());
            items.iter().for_each(|i| write::bulk(out, i));
        }
    });
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`.
fn lpos(args: &Command<'_>, found: Option<&List>, proto: Proto, out: &mut Vec<u8>) {
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0usize);
    let mut i = 3;
    while i < args.len() {
        let (opt, Some(value)) = (args.at(i), args.arg(i + 1)) else {
            return write::error(out, SYNTAX);
        };
        let Some(n) = parse_i64(value) else {
            return write::error(out, NOT_INTEGER);
        };
        if opt.eq_ignore_ascii_case(b"rank") {
            if n == 0 {
                return write::error(out, "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
            }
            rank = n;
        } else if opt.eq_ignore_ascii_case(b"count") {
            if n < 0 {
                return write::error(out, "ERR COUNT can't be negative");
            }
            count = Some(n as usize);
        } else if opt.eq_ignore_ascii_case(b"maxlen") {
            if n < 0 {
                return write::error(out, "ERR MAXLEN can't be negative");
            }
            maxlen = n as usize;
        } else {
            return write::error(out, SYNTAX);
        }
        i += 2;
    }
    let element = args.at(2);
    let len = found.map_or(0, List::len);
    let scanned = if maxlen == 0 { len } else { maxlen.min(len) };
    let want = match count {
        Some(0) => usize::MAX,
        Some(n) => n,
        None => 1,
    };
    let mut matches = Vec::new();
    if let Some(list) = found {
        let skip = rank.unsigned_abs().saturating_sub(1) as usize;
        let hits: Box<dyn Iterator<Item = usize>> = if rank > 0 {
            Box::new(
                (0..len)
                    .take(scanned)
                    .filter(|&p| list.get(p) == Some(element)),
            )
        } else {
            Box::new(
                (0..len)
                    .rev()
                    .take(scanned)
                    .filter(|&p| list.get(p) == Some(element)),
            )
        };
        matches.extend(hits.skip(skip).take(want));
    }
    match count {
        None => match matches.first() {
            Some(&p) => write::int(out, p as i64),
            None => write::null(out, proto),
        },
        Some(_) => {
            write::array_len(out, matches.len());
            matches.iter().for_each(|&p| write::int(out, p as i64));
        }
    }
}
