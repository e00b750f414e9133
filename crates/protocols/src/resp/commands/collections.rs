//! What the hash, set, sorted set and list commands share: the WRONGTYPE
//! reply, scores written as redis-server 7.0 writes them, the cursor of
//! HSCAN/SSCAN/ZSCAN, and random picks.

use super::super::protocol::write::{self, Proto};
use super::glob;
use super::keyspace::parse_cursor;
use super::strings::{parse_i64, refusal, NOT_INTEGER, SYNTAX};
use crate::resp::protocol::Command;
use percore_keyspace::typed::WRONGTYPE;
use percore_keyspace::write::Refused;

pub fn wrong_type(out: &mut Vec<u8>) {
    write::error(out, WRONGTYPE);
}

/// Answers a write's outcome: `reply` on success, the refusal otherwise.
pub fn answer<T>(out: &mut Vec<u8>, done: Result<T, Refused>, reply: impl FnOnce(&mut Vec<u8>, T)) {
    match done {
        Ok(value) => reply(out, value),
        Err(refused) => refusal(out, &refused),
    }
}

/// A score as redis 7.0 writes one: C's `%.17g` (`1.1` is
/// `1.1000000000000001`), `inf` and `-inf`.
pub fn format_score(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return "0".into();
    }
    let exp_form = format!("{d:.16e}");
    let (mantissa, exp) = exp_form.split_once('e').unwrap_or((&exp_form, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..17).contains(&exp) {
        let mantissa = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let fixed = format!("{d:.*}", (16 - exp) as usize);
        trim_zeros(&fixed).to_string()
    }
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// A score: a bulk string in RESP2, a double in RESP3.
pub fn score(out: &mut Vec<u8>, d: f64, proto: Proto) {
    let text = format_score(d);
    match proto {
        Proto::Resp2 => write::bulk(out, text.as_bytes()),
        Proto::Resp3 => {
            out.push(b',');
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// A float as Redis reads a score or increment (`strtod`, no NaN):
/// `inf`, `+inf`, `-inf` in any case too.
pub fn parse_score(text: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(text).ok()?;
    if text.is_empty()
        || text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace)
    {
        return None;
    }
    let value: f64 = match text.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    (!value.is_nan()).then_some(value)
}

/// HSCAN/SSCAN/ZSCAN's `cursor [MATCH p] [COUNT n]` (from `args[2]`).
pub struct ScanArgs<'a> {
    pub cursor: u64,
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
}

impl<'a> ScanArgs<'a> {
    /// Err: the error to answer.
    pub fn read(args: &Command<'a>) -> Result<ScanArgs<'a>, &'static str> {
        let cursor = parse_cursor(args.at(2)).ok_or("ERR invalid cursor")?;
        let (mut pattern, mut count) = (None, 10usize);
        let mut i = 3;
        while i < args.len() {
            let value = (i + 1 < args.len()).then(|| args.at(i + 1));
            match value {
                Some(value) if args.at(i).eq_ignore_ascii_case(b"match") => pattern = Some(value),
                Some(value) if args.at(i).eq_ignore_ascii_case(b"count") => {
                    match parse_i64(value) {
                        None => return Err(NOT_INTEGER),
                        Some(n) if n < 1 => return Err(SYNTAX),
                        Some(n) => count = n as usize,
                    }
                }
                _ => return Err(SYNTAX),
            }
            i += 2;
        }
        Ok(ScanArgs {
            cursor,
            pattern,
            count,
        })
    }

    /// Walks positions `0..len` from the top down as SCAN does
    /// (`kv/store/scan.rs`: a removal moves only the last element down), at
    /// least `count` of them; `visit` gets each position whose name
    /// matches (`name` reads it). Returns the next cursor (0: done).
    pub fn walk<'s>(
        &self,
        len: usize,
        name: impl Fn(usize) -> Option<&'s [u8]>,
        mut visit: impl FnMut(usize),
    ) -> u64 {
        let mut left = match self.cursor {
            0 => len,
            cursor => usize::try_from(cursor).map_or(len, |c| c.min(len)),
        };
        let stop = left.saturating_sub(self.count.max(1));
        while left > stop {
            left -= 1;
            if let Some(n) = name(left) {
                if self.pattern.is_none_or(|p| glob::matches(p, n)) {
                    visit(left);
                }
            }
        }
        left as u64
    }
}

/// The head of a SCAN-like reply: `[cursor, [` with `items` to follow.
pub fn scan_reply_head(out: &mut Vec<u8>, next: u64, items: usize) {
    write::array_len(out, 2);
    write::bulk_int(out, next as i64);
    write::array_len(out, items);
}

/// `count` distinct positions of `0..len` at random (all of them when
/// `count >= len`, in order), in O(count): SPOP and the RAND* commands
/// of one member must not pay for the whole value.
pub fn distinct_positions(len: usize, count: usize) -> Vec<usize> {
    if count >= len {
        return (0..len).collect();
    }
    if count == 1 {
        return vec![any_position(len)];
    }
    if count > len / 2 {
        // Most of them: a partial Fisher-Yates over every position.
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..count {
            let j = fastrand::usize(i..len);
            all.swap(i, j);
        }
        all.truncate(count);
        return all;
    }
    // Floyd's sampling: each of `len - count..len` adds one new position,
    // then a shuffle (Floyd's order is not uniform).
    let mut seen = std::collections::HashSet::with_capacity(count);
    let mut chosen = Vec::with_capacity(count);
    for j in len - count..len {
        let t = fastrand::usize(..=j);
        let pick = if seen.contains(&t) { j } else { t };
        seen.insert(pick);
        chosen.push(pick);
    }
    fastrand::shuffle(&mut chosen);
    chosen
}

/// A random position of `0..len` (len > 0).
pub fn any_position(len: usize) -> usize {
    fastrand::usize(..len.max(1))
}

/// The count of HRANDFIELD, SRANDMEMBER, ZRANDMEMBER: Err, the error.
/// Redis goes on to build a reply of any length a negative count asks
/// for (repeats allowed); percore refuses one past 2^24 elements as out of
/// range, rather than allocate a reply it cannot hold.
pub fn rand_count(arg: &[u8]) -> Result<i64, &'static str> {
    match parse_i64(arg) {
        None => Err(NOT_INTEGER),
        Some(i64::MIN) => Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"),
        Some(n) if n < -(1 << 24) => Err("ERR value is out of range"),
        Some(n) => Ok(n),
    }
}

/// The arguments LMPOP and ZMPOP share, `numkeys key... WHERE [COUNT n]`
/// (and BLMPOP's and BZMPOP's after their timeout): the keys, `where_`'s
/// reading of the word after them (LEFT|RIGHT, MIN|MAX), and the count;
/// Err: redis 7.0's error.
pub fn mpop_args<'a>(
    args: &Command<'a>,
    where_: impl Fn(&[u8]) -> Option<bool>,
) -> Result<(Vec<&'a [u8]>, bool, usize), &'static str> {
    let numkeys = match parse_i64(args.at(1)) {
        Some(n) if n > 0 => n as usize,
        _ => return Err("ERR numkeys should be greater than 0"),
    };
    if 2 + numkeys >= args.len() {
        return Err(SYNTAX);
    }
    let keys: Vec<&[u8]> = args.iter().skip(2).take(numkeys).collect();
    let Some(which) = where_(args.at(2 + numkeys)) else {
        return Err(SYNTAX);
    };
    let mut count = 1;
    let mut counted = false;
    let mut i = 3 + numkeys;
    while i < args.len() {
        if !counted && args.at(i).eq_ignore_ascii_case(b"count") && i + 1 < args.len() {
            counted = true;
            count = match parse_i64(args.at(i + 1)) {
                Some(n) if n > 0 => n as usize,
                _ => return Err("ERR count should be greater than 0"),
            };
            i += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    Ok((keys, which, count))
}

#[cfg(test)]
mod tests {
    use super::distinct_positions;

    #[test]
    fn distinct_positions_are_distinct_and_in_range() {
        for (len, count) in [
            (10, 1),
            (10, 3),
            (10, 6),
            (10, 10),
            (10, 20),
            (1000, 37),
            (5, 0),
        ] {
            let mut got = distinct_positions(len, count);
            assert_eq!(got.len(), count.min(len), "{len} {count}");
            assert!(got.iter().all(|&p| p < len));
            got.sort_unstable();
            got.dedup();
            assert_eq!(got.len(), count.min(len), "{len} {count}: repeats");
        }
    }

    use super::*;

    #[test]
    fn scores_read_as_redis_writes_them() {
        for (d, text) in [
            (1.1, "1.1000000000000001"),
            (2.0, "2"),
            (0.5, "0.5"),
            (-3.25, "-3.25"),
            (1e20, "1e+20"),
            (1.5e-5, "1.5e-05"),
            (123456789.0, "123456789"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (0.0001, "0.0001"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
        ] {
            assert_eq!(format_score(d), text, "{d}");
        }
    }
}
