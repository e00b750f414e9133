//! The list commands that take from one list and give to another or pop
//! from the first of several (issue 27): LMOVE and RPOPLPUSH when both keys
//! live here, LMPOP when all its keys do, and the argument readers that the
//! blocking forms (`resp/blocking_forms.rs`) and the commands over several
//! shards (`resp/gather.rs`, `resp/gather_moves.rs`) share with them.

use super::super::protocol::write::{self, Proto};
use super::collections::{answer, mpop_args, wrong_type};
use super::list::{items_cost, list, pop_items};
use super::strings::SYNTAX;
use super::Cmd;
use crate::kv::durable::ops::Op;
use crate::resp::protocol::Command;
use percore_keyspace::typed::WrongType;
use percore_keyspace::write::ShardKeys;

/// LMOVE's and BLMOVE's `LEFT|RIGHT`: whether it is RIGHT (the tail).
pub fn side(arg: &[u8]) -> Option<bool> {
    if arg.eq_ignore_ascii_case(b"left") {
        Some(false)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Some(true)
    } else {
        None
    }
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT` and `RPOPLPUSH source
/// destination`, both keys here: atomic, as in Redis.
pub(super) fn lmove(
    cmd: Cmd,
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    let (src, dst) = (args.at(1), args.at(2));
    let (from_tail, to_tail) = match cmd {
        Cmd::RPopLPush => (true, false),
        _ => match (side(args.at(3)), side(args.at(4))) {
            (Some(from), Some(to)) => (from, to),
            _ => return write::error(out, SYNTAX),
        },
    };
    // As Redis: the source first (absent: null, whatever the
    // destination), then the destination.
    let Ok(from) = list(keys, src) else {
        return wrong_type(out);
    };
    if from.is_none() {
        return write::null(out, proto);
    }
    if list(keys, dst).is_err() {
        return wrong_type(out);
    }
    let done = pop_items(keys, src, from_tail, 1).and_then(|items| {
        let Some(item) = items.into_iter().next() else {
            return Ok(None);
        };
        let op = if to_tail { Op::RPush } else { Op::LPush };
        keys.apply(dst, op, &[&item], items_cost([&item[..]].into_iter()))
            .map(|_| Some(item))
    });
    answer(out, done, |out, item| match item {
        Some(item) => write::bulk(out, &item),
        None => write::null(out, proto),
    });
}

/// LMPOP's `numkeys key... LEFT|RIGHT [COUNT n]`: the keys, whether from
/// the tail, and the count; Err: the error.
pub fn lmpop_args<'a>(args: &Command<'a>) -> Result<(Vec<&'a [u8]>, bool, usize), &'static str> {
    mpop_args(args, side)
}

/// `LMPOP numkeys key... LEFT|RIGHT [COUNT n]`, every key here.
pub(super) fn lmpop(args: &Command<'_>, keys: &mut ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    let (names, tail, count) = match lmpop_args(args) {
        Ok(read) => read,
        Err(error) => return write::error(out, error),
    };
    for key in names {
        match list(keys, key) {
            Err(WrongType) => return wrong_type(out),
            Ok(None) => continue,
            Ok(Some(_)) => {
                let done = pop_items(keys, key, tail, count);
                return answer(out, done, |out, items| {
                    write::array_len(out, 2);
                    write::bulk(out, key);
                    write::array_len(out, items.len());
                    items.iter().for_each(|i| write::bulk(out, i));
                });
            }
        }
    }
    write::null_array(out, proto);
}
