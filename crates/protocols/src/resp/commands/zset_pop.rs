//! The sorted set commands that pick members rather than ranges: ZPOPMIN,
//! ZPOPMAX and ZRANDMEMBER, and how a list of members with scores is
//! written (RESP2 flat, RESP3 pairs), for every sorted set reply.

use super::super::protocol::write::{self, Proto};
use super::collections::{answer, any_position, distinct_positions, rand_count, score, wrong_type};
use super::strings::{parse_i64, SYNTAX};
use super::zset::zset;
use super::Cmd;
use crate::kv::durable::ops::Op;
use crate::kv::values::ZSet;
use crate::resp::protocol::Command;
use percore_keyspace::typed::WrongType;
use percore_keyspace::write::ShardKeys;

const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";

/// Writes `picked` as a range reply: members, or members with scores
/// (RESP3: pairs).
pub fn reply_range(out: &mut Vec<u8>, picked: &[(&[u8], f64)], with_scores: bool, proto: Proto) {
    match (with_scores, proto) {
        (false, _) => {
            write::array_len(out, picked.len());
            picked.iter().for_each(|(m, _)| write::bulk(out, m));
        }
        (true, Proto::Resp2) => {
            write::array_len(out, picked.len() * 2);
            picked.iter().for_each(|(m, s)| {
                write::bulk(out, m);
                score(out, *s, proto);
            });
        }
        (true, Proto::Resp3) => {
            write::array_len(out, picked.len());
            picked.iter().for_each(|(m, s)| {
                write::array_len(out, 2);
                write::bulk(out, m);
                score(out, *s, proto);
            });
        }
    }
}

/// `ZPOPMIN key [count]` and ZPOPMAX.
pub fn pop(
    cmd: Cmd,
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    if args.len() > 3 {
        return write::error(out, SYNTAX);
    }
    let count = match args.arg(2).map(parse_i64) {
        None => None,
        Some(Some(n)) if n >= 0 => Some(n as usize),
        Some(_) => return write::error(out, NOT_POSITIVE),
    };
    let key = args.at(1);
    let found = match zset(keys, key) {
        Err(WrongType) => return wrong_type(out),
        Ok(found) => found,
    };
    let popped = pop_from(found, cmd == Cmd::ZPopMax, count.unwrap_or(1));
    let reply = |out: &mut Vec<u8>| match count {
        None => {
            write::array_len(out, popped.len() * 2);
            popped.iter().for_each(|(m, s)| {
                write::bulk(out, m);
                score(out, *s, proto);
            });
        }
        Some(_) => {
            let borrowed: Vec<(&[u8], f64)> = popped.iter().map(|(m, s)| (&m[..], *s)).collect();
            reply_range(out, &borrowed, true, proto);
        }
    };
    if popped.is_empty() {
        return reply(out);
    }
    let members: Vec<&[u8]> = popped.iter().map(|(m, _)| &m[..]).collect();
    let done = keys.apply(key, Op::ZRem, &members, 0);
    answer(out, done, |out, _| reply(out));
}

/// The `count` lowest (or highest) members of `found`, owned.
pub fn pop_from(found: Option<&ZSet>, max: bool, count: usize) -> Vec<(Vec<u8>, f64)> {
    let Some(zset) = found else {
        return Vec::new();
    };
    let own = |(m, s): (&[u8], f64)| (m.to_vec(), s);
    if max {
        zset.iter().rev().take(count).map(own).collect()
    } else {
        zset.iter().take(count).map(own).collect()
    }
}

/// `ZRANDMEMBER key [count [WITHSCORES]]`.
pub fn rand_member(args: &Command<'_>, found: Option<&ZSet>, proto: Proto, out: &mut Vec<u8>) {
    if args.len() > 4 || (args.len() == 4 && !args.at(3).eq_ignore_ascii_case(b"withscores")) {
        return write::error(out, SYNTAX);
    }
    if args.len() == 2 {
        return match found.and_then(|z| z.at(any_position(z.len()))) {
            Some((member, _)) => write::bulk(out, member),
            None => write::null(out, proto),
        };
    }
    let count = match rand_count(args.at(2)) {
        Ok(count) => count,
        Err(error) => return write::error(out, error),
    };
    let Some(zset) = found else {
        return write::array_len(out, 0);
    };
    let positions: Vec<usize> = if count >= 0 {
        distinct_positions(zset.len(), count as usize)
    } else {
        (0..count.unsigned_abs())
            .map(|_| any_position(zset.len()))
            .collect()
    };
    let picked: Vec<(&[u8], f64)> = positions.into_iter().filter_map(|i| zset.at(i)).collect();
    reply_range(out, &picked, args.len() == 4, proto);
}
