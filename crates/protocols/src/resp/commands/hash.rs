//! The hash commands (issue 27), run on the key's owner with redis-server
//! 7.0's replies and errors: HSET HSETNX HGET HMGET HMSET HDEL HLEN HSTRLEN
//! HEXISTS HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.

use super::super::protocol::write::{self, Proto};
use super::collections::{
    answer, any_position, distinct_positions, rand_count, scan_reply_head, wrong_type, ScanArgs,
};
use super::connection::wrong_arity;
use super::string_float::parse_float;
use super::strings::{parse_i64, NOT_INTEGER, SYNTAX};
use super::Cmd;
use crate::kv::durable::ops::Op;
use crate::kv::values::{Aggregate, Hash, Kind, HASH_ELEMENT};
use crate::resp::protocol::Command;
use percore_keyspace::typed::WrongType;
use percore_keyspace::write::ShardKeys;

/// `key`'s hash: `Ok(None)` if absent.
fn hash<'k>(keys: &'k ShardKeys<'_>, key: &[u8]) -> Result<Option<&'k Hash>, WrongType> {
    match keys.typed(key, Kind::Hash)? {
        Some(Aggregate::Hash(hash)) => Ok(Some(hash)),
        _ => Ok(None),
    }
}

/// Runs one hash command on the key's owner; its reply goes to `out`.
pub fn run(
    cmd: Cmd,
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    let key = args.at(1);
    let found = match hash(keys, key) {
        Err(WrongType) => return wrong_type(out),
        Ok(found) => found,
    };
    match cmd {
        Cmd::HSet | Cmd::HMSet => {
            if args.len() % 2 != 0 {
                let name = if cmd == Cmd::HSet { "hset" } else { "hmset" };
                return wrong_arity(out, name);
            }
            let elems: Vec<&[u8]> = args.iter().skip(2).collect();
            let added = elems.chunks(2).map(pair_cost).sum();
            let done = keys.apply(key, Op::HSet, &elems, added);
            answer(out, done, |out, new| {
                if cmd == Cmd::HSet {
                    write::int(out, new)
                } else {
                    write::ok(out)
                }
            });
        }
        Cmd::HSetNx => {
            if found.is_some_and(|h| h.get(args.at(2)).is_some()) {
                return write::int(out, 0);
            }
            let elems = [args.at(2), args.at(3)];
            let done = keys.apply(key, Op::HSet, &elems, pair_cost(&elems));
            answer(out, done, |out, _| write::int(out, 1));
        }
        Cmd::HGet => match found.and_then(|h| h.get(args.at(2))) {
            Some(val) => write::bulk(out, val),
            None => write::null(out, proto),
        },
        Cmd::HMGet => {
            write::array_len(out, args.len() - 2);
            for field in args.iter().skip(2) {
                match found.and_then(|h| h.get(field)) {
                    Some(val) => write::bulk(out, val),
                    None => write::null(out, proto),
                }
            }
        }
        Cmd::HDel => {
            let fields: Vec<&[u8]> = args.iter().skip(2).collect();
            let Some(hash) = found else {
                return write::int(out, 0);
            };
            if !fields.iter().any(|f| hash.get(f).is_some()) {
                return write::int(out, 0);
            }
            let done = keys.apply(key, Op::HDel, &fields, 0);
            answer(out, done, write::int);
        }
        Cmd::HLen => write::int(out, found.map_or(0, Hash::len) as i64),
        Cmd::HStrLen => write::int(
            out,
            found.and_then(|h| h.get(args.at(2))).map_or(0, <[u8]>::len) as i64,
        ),
        Cmd::HExists => write::int(
            out,
            i64::from(found.is_some_and(|h| h.get(args.at(2)).is_some())),
        ),
        Cmd::HKeys | Cmd::HVals => {
            let hash = found.map_or_else(|| None, Some);
            write::array_len(out, hash.map_or(0, Hash::len));
            for (field, val) in hash.into_iter().flat_map(Hash::iter) {
                write::bulk(out, if cmd == Cmd::HKeys { field } else { val });
            }
        }
        Cmd::HGetAll => {
            write::map_len(out, found.map_or(0, Hash::len), proto);
            for (field, val) in found.into_iter().flat_map(Hash::iter) {
                write::bulk(out, field);
                write::bulk(out, val);
            }
        }
        Cmd::HIncrBy => {
            let Some(by) = parse_i64(args.at(3)) else {
                return write::error(out, NOT_INTEGER);
            };
            let old = match found.and_then(|h| h.get(args.at(2))) {
                None => 0,
                Some(val) => match parse_i64(val) {
                    Some(n) => n,
                    None => return write::error(out, "ERR hash value is not an integer"),
                },
            };
            let Some(new) = old.checked_add(by) else {
                return write::error(out, "ERR increment or decrement would overflow");
            };
            let text = new.to_string();
            let elems = [args.at(2), text.as_bytes()];
            let done = keys.apply(key, Op::HSet, &elems, pair_cost(&elems));
            answer(out, done, |out, _| write::int(out, new));
        }
        Cmd::HIncrByFloat => {
            let Some(by) = parse_float(args.at(3)) else {
                return write::error(out, "ERR value is not a valid float");
            };
            if !by.is_finite() {
                return write::error(out, "ERR value is NaN or Infinity");
            }
            let old = match found.and_then(|h| h.get(args.at(2))) {
                None => 0.0,
                Some(val) => match parse_float(val) {
                    Some(n) => n,
                    None => return write::error(out, "ERR hash value is not a float"),
                },
            };
            let sum = old + by;
            if !sum.is_finite() {
                return write::error(out, "ERR increment would produce NaN or Infinity");
            }
            let sum = if sum == 0.0 { 0.0 } else { sum };
            let text = sum.to_string();
            let elems = [args.at(2), text.as_bytes()];
            let done = keys.apply(key, Op::HSet, &elems, pair_cost(&elems));
            answer(out, done, |out, _| write::bulk(out, text.as_bytes()));
        }
        Cmd::HRandField => rand_field(args, found, proto, out),
        Cmd::HScan => {
            let scan = match ScanArgs::read(args) {
                Ok(scan) => scan,
                Err(error) => return write::error(out, error),
            };
            let Some(hash) = found else {
                return scan_reply_head(out, 0, 0);
            };
            let mut picked = Vec::new();
            let next = scan.walk(
                hash.len(),
                |i| hash.at(i).map(|(f, _)| f),
                |i| picked.push(i),
            );
            scan_reply_head(out, next, picked.len() * 2);
            for (field, val) in picked.into_iter().filter_map(|i| hash.at(i)) {
                write::bulk(out, field);
                write::bulk(out, val);
            }
        }
        _ => write::error(out, "ERR internal: not a hash command"),
    }
}

/// What a field and value add, as accounted (a replaced field adds less:
/// the cap is asked with the larger figure).
fn pair_cost(pair: &[&[u8]]) -> u64 {
    pair.iter().map(|e| e.len() as u64).sum::<u64>() + HASH_ELEMENT
}

/// `HRANDFIELD key [count [WITHVALUES]]`.
fn rand_field(args: &Command<'_>, found: Option<&Hash>, proto: Proto, out: &mut Vec<u8>) {
    if args.len() > 4 || (args.len() == 4 && !args.at(3).eq_ignore_ascii_case(b"withvalues")) {
        return write::error(out, SYNTAX);
    }
    if args.len() == 2 {
        return match found {
            Some(hash) => match hash.at(any_position(hash.len())) {
                Some((field, _)) => write::bulk(out, field),
                None => write::null(out, proto),
            },
            None => write::null(out, proto),
        };
    }
    let count = match rand_count(args.at(2)) {
        Ok(count) => count,
        Err(error) => return write::error(out, error),
    };
    let with_values = args.len() == 4;
    let Some(hash) = found else {
        return write::array_len(out, 0);
    };
    let positions: Vec<usize> = if count >= 0 {
        distinct_positions(hash.len(), count as usize)
    } else {
        (0..count.unsigned_abs())
            .map(|_| any_position(hash.len()))
            .collect()
    };
    let pairs = positions.iter().filter_map(|&i| hash.at(i));
    match (with_values, proto) {
        (false, _) => {
            write::array_len(out, positions.len());
            pairs.for_each(|(f, _)| write::bulk(out, f));
        }
        (true, Proto::Resp2) => {
            write::array_len(out, positions.len() * 2);
            pairs.for_each(|(f, v)| {
                write::bulk(out, f);
                write::bulk(out, v);
            });
        }
        (true, Proto::Resp3) => {
            write::array_len(out, positions.len());
            pairs.for_each(|(f, v)| {
                write::array_len(out, 2);
                write::bulk(out, f);
                write::bulk(out, v);
            });
        }
    }
}
