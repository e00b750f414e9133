//! The sorted set commands over several keys (issue 27): ZUNION, ZINTER,
//! ZDIFF, their STORE forms and ZINTERCARD, with
//! redis-server 7.0's options (WEIGHTS, AGGREGATE SUM|MIN|MAX, WITHSCORES)
//! and errors; a set is an input whose members score 1, as in Redis. With
//! every key here they run in one step; over several shards
//! `resp/gather.rs` gathers the inputs and calls [`combine`] the same way.
//! ZRANGESTORE and ZMPOP too.

use std::collections::HashMap;

use super::super::protocol::write::{self, Proto};
use super::collections::{answer, mpop_args, parse_score, wrong_type};
use super::strings::{parse_i64, NOT_INTEGER, SYNTAX};
use super::zset_pop::reply_range;
use super::Cmd;
use crate::kv::values::{Aggregate, OwnedValue, ValueRef, ZSet};
use crate::resp::protocol::Command;
use percore_keyspace::typed::WrongType;
use percore_keyspace::write::ShardKeys;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Agg {
    Sum,
    Min,
    Max,
}

/// A multi-key sorted set command, read.
pub struct Request<'a> {
    pub how: How,
    pub dest: Option<&'a [u8]>,
    pub sources: Vec<&'a [u8]>,
    weights: Vec<f64>,
    agg: Agg,
    pub with_scores: bool,
    /// ZINTERCARD: its limit (0: none).
    pub card: Option<usize>,
}

impl<'a> Request<'a> {
    /// Err: the error to answer.
    pub fn read(cmd: Cmd, args: &Command<'a>) -> Result<Request<'a>, String> {
        let how = match cmd {
            Cmd::ZUnion | Cmd::ZUnionStore => How::Union,
            Cmd::ZInter | Cmd::ZInterStore | Cmd::ZInterCard => How::Inter,
            _ => How::Diff,
        };
        let store = matches!(cmd, Cmd::ZUnionStore | Cmd::ZInterStore | Cmd::ZDiffStore);
        let first = if store { 2 } else { 1 };
        let name = super::NAMES[cmd as usize];
        let numkeys = match parse_i64(args.at(first)) {
            None => return Err(NOT_INTEGER.into()),
            Some(n) if n < 1 => {
                return Err(format!(
                    "ERR at least 1 input key is needed for '{name}' command"
                ))
            }
            Some(n) => n as usize,
        };
        if numkeys > args.len() - first - 1 {
            return Err(SYNTAX.into());
        }
        let sources: Vec<&[u8]> = args.iter().skip(first + 1).take(numkeys).collect();
        let mut request = Request {
            how,
            dest: store.then(|| args.at(1)),
            sources,
            weights: vec![1.0; numkeys],
            agg: Agg::Sum,
            with_scores: false,
            card: (cmd == Cmd::ZInterCard).then_some(0),
        };
        let mut i = first + 1 + numkeys;
        let weighted = how != How::Diff && cmd != Cmd::ZInterCard;
        while i < args.len() {
            let arg = args.at(i);
            if cmd == Cmd::ZInterCard && arg.eq_ignore_ascii_case(b"limit") && i + 1 < args.len() {
                match parse_i64(args.at(i + 1)) {
                    None => return Err("ERR LIMIT can't be negative".into()),
                    Some(n) if n < 0 => return Err("ERR LIMIT can't be negative".into()),
                    Some(n) => request.card = Some(n as usize),
                }
                i += 2;
            } else if weighted && arg.eq_ignore_ascii_case(b"weights") && i + numkeys < args.len() {
                for j in 0..numkeys {
                    match parse_score(args.at(i + 1 + j)) {
                        Some(w) => request.weights[j] = w,
                        None => return Err("ERR weight value is not a float".into()),
                    }
                }
                i += 1 + numkeys;
            } else if weighted && arg.eq_ignore_ascii_case(b"aggregate") && i + 1 < args.len() {
                request.agg = match args.at(i + 1).to_ascii_lowercase().as_slice() {
                    b"sum" => Agg::Sum,
                    b"min" => Agg::Min,
                    b"max" => Agg::Max,
                    _ => return Err(SYNTAX.into()),
                };
                i += 2;
            } else if !store && cmd != Cmd::ZInterCard && arg.eq_ignore_ascii_case(b"withscores") {
                request.with_scores = true;
                i += 1;
            } else {
                return Err(SYNTAX.into());
            }
        }
        Ok(request)
    }
}

/// One input: a sorted set, or a set (every member scores 1).
#[derive(Clone, Copy)]
pub enum Input<'s> {
    ZSet(&'s ZSet),
    Set(&'s crate::kv::values::Set),
}

impl<'s> Input<'s> {
    /// The input a value is; Err if it is neither a set nor a sorted set.
    pub fn of(value: ValueRef<'s>) -> Result<Input<'s>, WrongType> {
        match value {
            ValueRef::Agg(Aggregate::ZSet(z)) => Ok(Input::ZSet(z)),
            ValueRef::Agg(Aggregate::Set(s)) => Ok(Input::Set(s)),
            _ => Err(WrongType),
        }
    }

    fn len(&self) -> usize {
        match self {
            Input::ZSet(z) => z.len(),
            Input::Set(s) => s.len(),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Input::ZSet(z) => z.score(member),
            Input::Set(s) => s.contains(member).then_some(1.0),
        }
    }

    fn members(&self) -> Box<dyn Iterator<Item = (&'s [u8], f64)> + 's> {
        match *self {
            Input::ZSet(z) => Box::new(z.iter()),
            Input::Set(s) => Box::new(s.iter().map(|m| (m, 1.0))),
        }
    }
}

fn weighted(score: f64, weight: f64) -> f64 {
    let value = score * weight;
    if value.is_nan() {
        0.0
    } else {
        value
    }
}

fn aggregate(agg: Agg, a: f64, b: f64) -> f64 {
    match agg {
        Agg::Sum => {
            let sum = a + b;
            if sum.is_nan() {
                0.0
            } else {
                sum
            }
        }
        Agg::Min => a.min(b),
        Agg::Max => a.max(b),
    }
}

/// The result of `request` over `inputs` (`None`: an absent key), as a
/// sorted set.
pub fn combine(request: &Request<'_>, inputs: &[Option<Input<'_>>]) -> ZSet {
    let mut result = ZSet::default();
    match request.how {
        How::Union => {
            let mut scores: HashMap<&[u8], f64> = HashMap::new();
            let mut order: Vec<&[u8]> = Vec::new();
            for (input, &w) in inputs.iter().zip(&request.weights) {
                let Some(input) = input else { continue };
                for (member, s) in input.members() {
                    let s = weighted(s, w);
                    match scores.get_mut(member) {
                        Some(old) => *old = aggregate(request.agg, *old, s),
                        None => {
                            scores.insert(member, s);
                            order.push(member);
                        }
                    }
                }
            }
            for member in order {
                result.insert(member, scores[member]);
            }
        }
        How::Inter => {
            if inputs.iter().any(Option::is_none) {
                return result;
            }
            let present: Vec<(Input<'_>, f64)> = inputs
                .iter()
                .flatten()
                .copied()
                .zip(request.weights.iter().copied())
                .collect();
            let Some(smallest) = (0..present.len()).min_by_key(|&i| present[i].0.len()) else {
                return result;
            };
            'members: for (member, _) in present[smallest].0.members() {
                let mut total: Option<f64> = None;
                for (input, w) in &present {
                    let Some(s) = input.score(member) else {
                        continue 'members;
                    };
                    let s = weighted(s, *w);
                    total = Some(total.map_or(s, |t| aggregate(request.agg, t, s)));
                }
                if let Some(total) = total {
                    result.insert(member, total);
                }
            }
        }
        How::Diff => {
            let Some(Some(first)) = inputs.first() else {
                return result;
            };
            for (member, s) in first.members() {
                if !inputs[1..]
                    .iter()
                    .flatten()
                    .any(|i| i.score(member).is_some())
                {
                    result.insert(member, s);
                }
            }
        }
    }
    result
}

/// Answers a combined result: the count (STORE forms, after storing;
/// ZINTERCARD, up to its limit) or the members.
pub fn reply(request: &Request<'_>, result: &ZSet, proto: Proto, out: &mut Vec<u8>) {
    if let Some(limit) = request.card {
        let n = if limit == 0 {
            result.len()
        } else {
            result.len().min(limit)
        };
        return write::int(out, n as i64);
    }
    let picked: Vec<(&[u8], f64)> = result.iter().collect();
    reply_range(out, &picked, request.with_scores, proto);
}

/// Runs one of them with every key here.
pub fn run(
    cmd: Cmd,
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    let request = match Request::read(cmd, args) {
        Ok(request) => request,
        Err(error) => return write::error(out, &error),
    };
    let mut inputs = Vec::with_capacity(request.sources.len());
    for key in &request.sources {
        match keys.value(key).map(Input::of) {
            None => inputs.push(None),
            Some(Ok(input)) => inputs.push(Some(input)),
            Some(Err(WrongType)) => return wrong_type(out),
        }
    }
    let result = combine(&request, &inputs);
    let Some(dest) = request.dest else {
        return reply(&request, &result, proto, out);
    };
    let count = result.len() as i64;
    let done = if count == 0 {
        keys.del(dest).map(|_| ())
    } else {
        keys.put_value(dest, OwnedValue::Agg(Aggregate::ZSet(result)), None)
    };
    answer(out, done, |out, ()| write::int(out, count));
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT o c]`, both
/// keys here.
pub fn range_store(args: &Command<'_>, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    let range = match super::zset::store_range(args) {
        Ok(range) => range,
        Err(error) => return write::error(out, error),
    };
    let found = match super::zset::zset(keys, args.at(2)) {
        Ok(found) => found,
        Err(_) => return wrong_type(out),
    };
    let result = selected(&range, found);
    store_result(args.at(1), result, keys, out);
}

/// What `range` selects of `found`, as a sorted set of its own.
pub fn selected(range: &super::zset_range::Range<'_>, found: Option<&ZSet>) -> ZSet {
    let mut result = ZSet::default();
    if let Some(zset) = found {
        for (member, s) in range.select(zset) {
            result.insert(member, s);
        }
    }
    result
}

/// Stores `result` as `dest` (empty: `dest` goes) and answers its size.
fn store_result(dest: &[u8], result: ZSet, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    let count = result.len() as i64;
    let done = if count == 0 {
        keys.del(dest).map(|_| ())
    } else {
        keys.put_value(dest, OwnedValue::Agg(Aggregate::ZSet(result)), None)
    };
    answer(out, done, |out, ()| write::int(out, count));
}

/// ZMPOP's `numkeys key... MIN|MAX [COUNT n]`: the keys, whether MAX, the
/// count; Err: the error.
pub fn zmpop_args<'a>(args: &Command<'a>) -> Result<(Vec<&'a [u8]>, bool, usize), &'static str> {
    mpop_args(args, |word| match word {
        w if w.eq_ignore_ascii_case(b"min") => Some(false),
        w if w.eq_ignore_ascii_case(b"max") => Some(true),
        _ => None,
    })
}

/// `ZMPOP numkeys key... MIN|MAX [COUNT n]`, every key here.
pub fn zmpop(args: &Command<'_>, keys: &mut ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    let (names, max, count) = match zmpop_args(args) {
        Ok(read) => read,
        Err(error) => return write::error(out, error),
    };
    for key in names {
        let found = match super::zset::zset(keys, key) {
            Err(_) => return wrong_type(out),
            Ok(None) => continue,
            Ok(Some(found)) => found,
        };
        let popped = super::zset_pop::pop_from(Some(found), max, count);
        let members: Vec<&[u8]> = popped.iter().map(|(m, _)| &m[..]).collect();
        let done = keys.apply(key, crate::kv::durable::ops::Op::ZRem, &members, 0);
        return answer(out, done, |out, _| {
            write::array_len(out, 2);
            write::bulk(out, key);
            write::array_len(out, popped.len());
            for (m, s) in &popped {
                write::array_len(out, 2);
                write::bulk(out, m);
                super::collections::score(out, *s, proto);
            }
        });
    }
    write::null_array(out, proto);
}
