//! The ranges of the sorted set commands: by rank, by score and by lex, as
//! redis 7.0 reads them (`(` for an exclusive score, `[`/`(`/`-`/`+` for
//! lex), with REV and LIMIT, and the selection of a set's members they
//! name. ZRANGE, ZRANGEBYSCORE, ZREVRANGE..., ZCOUNT, ZLEXCOUNT and the
//! ZREMRANGEBY* commands all select through [`Range::select`].

use std::ops::Bound;

use super::collections::parse_score;
use super::strings::{parse_i64, NOT_INTEGER, SYNTAX};
use crate::kv::values::ZSet;
use crate::resp::protocol::Command;

pub const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
pub const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";

/// One end of a lex range.
#[derive(Clone, Copy, Debug)]
pub enum Lex<'a> {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    Incl(&'a [u8]),
    Excl(&'a [u8]),
}

fn parse_lex(arg: &[u8]) -> Option<Lex<'_>> {
    match arg {
        b"-" => Some(Lex::Min),
        b"+" => Some(Lex::Max),
        [b'[', rest @ ..] => Some(Lex::Incl(rest)),
        [b'(', rest @ ..] => Some(Lex::Excl(rest)),
        _ => None,
    }
}

/// A score bound: the score and whether it is excluded.
fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    match arg {
        [b'(', rest @ ..] => parse_score(rest).map(|s| (s, true)),
        _ => parse_score(arg).map(|s| (s, false)),
    }
}

/// What a range selects by.
#[derive(Clone, Copy, Debug)]
pub enum By<'a> {
    Rank(i64, i64),
    /// min, min excluded, max, max excluded.
    Score(f64, bool, f64, bool),
    Lex(Lex<'a>, Lex<'a>),
}

/// A range: what it selects by, in which direction, how much of it.
#[derive(Clone, Copy, Debug)]
pub struct Range<'a> {
    pub by: By<'a>,
    pub rev: bool,
    /// LIMIT offset count (count < 0: all the rest).
    pub limit: Option<(i64, i64)>,
}

/// Which kind of range a command's two bounds are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Rank,
    Score,
    Lex,
}

impl<'a> Range<'a> {
    /// Reads `min` and `max` (already in low-high order) as `kind`; Err:
    /// the error to answer.
    pub fn bounds(kind: Kind, min: &'a [u8], max: &'a [u8]) -> Result<By<'a>, &'static str> {
        match kind {
            Kind::Rank => match (parse_i64(min), parse_i64(max)) {
                (Some(start), Some(stop)) => Ok(By::Rank(start, stop)),
                _ => Err(NOT_INTEGER),
            },
            Kind::Score => match (parse_score_bound(min), parse_score_bound(max)) {
                (Some((min, min_excl)), Some((max, max_excl))) => {
                    Ok(By::Score(min, min_excl, max, max_excl))
                }
                _ => Err(NOT_FLOAT_RANGE),
            },
            Kind::Lex => match (parse_lex(min), parse_lex(max)) {
                (Some(min), Some(max)) => Ok(By::Lex(min, max)),
                _ => Err(NOT_LEX_RANGE),
            },
        }
    }

    /// The members it selects from `zset`, in reply order.
    pub fn select<'s>(&self, zset: &'s ZSet) -> Vec<(&'s [u8], f64)> {
        let mut picked: Vec<(&[u8], f64)> = match self.by {
            By::Rank(start, stop) => {
                let len = zset.len() as i64;
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
                    return Vec::new();
                }
                let (skip, take) = (start as usize, (stop - start + 1) as usize);
                return if self.rev {
                    zset.iter().rev().skip(skip).take(take).collect()
                } else {
                    zset.iter().skip(skip).take(take).collect()
                };
            }
            By::Score(min, min_excl, max, max_excl) => zset.by_score(min, min_excl, max, max_excl),
            By::Lex(min, max) => {
                let lower = match min {
                    Lex::Min => Bound::Unbounded,
                    Lex::Max => return Vec::new(),
                    Lex::Incl(b) => Bound::Included(b),
                    Lex::Excl(b) => Bound::Excluded(b),
                };
                let upper = match max {
                    Lex::Max => Bound::Unbounded,
                    Lex::Min => return Vec::new(),
                    Lex::Incl(b) => Bound::Included(b),
                    Lex::Excl(b) => Bound::Excluded(b),
                };
                zset.by_lex(lower, upper)
            }
        };
        if self.rev {
            picked.reverse();
        }
        if let Some((offset, count)) = self.limit {
            if offset < 0 {
                return Vec::new();
            }
            let count = if count < 0 {
                usize::MAX
            } else {
                count as usize
            };
            picked = picked
                .into_iter()
                .skip(offset as usize)
                .take(count)
                .collect();
        }
        picked
    }
}

/// The options of ZRANGE (`zrange`: BYSCORE, BYLEX, REV, LIMIT,
/// WITHSCORES from `args[first]`) or of the older forms (`kind` fixed,
/// WITHSCORES and LIMIT only, `rev` as the name says; WITHSCORES is read
/// even where refused, as Redis reads it): the range and
/// WITHSCORES. `min` and `max` are the arguments at `first - 2` and `first
/// - 1`.
pub fn read_range<'a>(
    args: &Command<'a>,
    first: usize,
    zrange: bool,
    mut kind: Kind,
    mut rev: bool,
) -> Result<(Range<'a>, bool), &'static str> {
    let (mut limit, mut with_scores) = (None, false);
    // ZRANGESTORE (its ranges start one argument later) takes no WITHSCORES.
    let store = zrange && first == 5;
    let mut i = first;
    while i < args.len() {
        let arg = args.at(i);
        if !store && arg.eq_ignore_ascii_case(b"withscores") {
            with_scores = true;
        } else if arg.eq_ignore_ascii_case(b"limit") && i + 2 < args.len() {
            match (parse_i64(args.at(i + 1)), parse_i64(args.at(i + 2))) {
                (Some(offset), Some(count)) => limit = Some((offset, count)),
                _ => return Err(NOT_INTEGER),
            }
            i += 2;
        } else if zrange && arg.eq_ignore_ascii_case(b"byscore") {
            kind = Kind::Score;
        } else if zrange && arg.eq_ignore_ascii_case(b"bylex") {
            kind = Kind::Lex;
        } else if zrange && arg.eq_ignore_ascii_case(b"rev") {
            rev = true;
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    if limit.is_some() && kind == Kind::Rank {
        return Err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if with_scores && kind == Kind::Lex {
        return Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    let (mut min, mut max) = (args.at(first - 2), args.at(first - 1));
    if rev && kind != Kind::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    let by = Range::bounds(kind, min, max)?;
    Ok((Range { by, rev, limit }, with_scores))
}
