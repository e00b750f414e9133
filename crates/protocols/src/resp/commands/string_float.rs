//! INCRBYFLOAT and GETSET, run on the key's owner with redis-server 7.0's
//! replies and errors. Redis adds in C's `long double`; percore adds in
//! `f64` and writes the shortest text that reads back as the same `f64`,
//! which is redis's text whenever the sum is exact in both (README, "What
//! differs from Redis").

use super::super::protocol::write::{self, Proto};
use super::strings::refusal;
use crate::resp::protocol::Command;
use percore_keyspace::write::{ShardKeys, Ttl};

const NOT_FLOAT: &str = "ERR value is not a valid float";
const NAN_OR_INF: &str = "ERR increment would produce NaN or Infinity";
/// Redis's `MAX_LONG_DOUBLE_CHARS`: no longer text reads as a float.
const MAX_FLOAT_TEXT: usize = 5 * 1024;

/// A float as redis's `string2ld` reads one: no space before it, nothing
/// after it, not NaN (an infinity reads, and the sum is then refused).
pub fn parse_float(text: &[u8]) -> Option<f64> {
    if text.is_empty() || text.len() > MAX_FLOAT_TEXT || text[0].is_ascii_whitespace() {
        return None;
    }
    let value: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
    (!value.is_nan()).then_some(value)
}

/// `INCRBYFLOAT key increment`: the new value as a bulk string; the key
/// keeps its time to live.
pub fn incr_by_float(args: &Command<'_>, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    let key = args.at(1);
    let old = match keys.get(key) {
        None => Some(0.0),
        Some(val) => parse_float(val),
    };
    let (Some(old), Some(by)) = (old, parse_float(args.at(2))) else {
        return write::error(out, NOT_FLOAT);
    };
    let sum = old + by;
    if !sum.is_finite() {
        return write::error(out, NAN_OR_INF);
    }
    // No negative zero, as redis.
    let sum = if sum == 0.0 { 0.0 } else { sum };
    let text = sum.to_string();
    match keys.set(key, text.as_bytes(), Ttl::Keep) {
        Ok(()) => write::bulk(out, text.as_bytes()),
        Err(refused) => refusal(out, &refused),
    }
}

/// `GETSET key value`: the old value (or null); the key's time to live is
/// cleared, as a plain SET clears it.
pub fn get_set(args: &Command<'_>, keys: &mut ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    let key = args.at(1);
    let written = out.len();
    match keys.get(key) {
        Some(old) => write::bulk(out, old),
        None => write::null(out, proto),
    }
    if let Err(refused) = keys.set(key, args.at(2), Ttl::Clear) {
        out.truncate(written);
        refusal(out, &refused);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_as_string2ld() {
        assert_eq!(parse_float(b"10.5"), Some(10.5));
        assert_eq!(parse_float(b"-3"), Some(-3.0));
        assert_eq!(parse_float(b" 1"), None);
        assert_eq!(parse_float(b"1 "), None);
        assert_eq!(parse_float(b"nan"), None);
        assert_eq!(parse_float(b""), None);
        assert_eq!(parse_float(b"inf"), Some(f64::INFINITY));
    }
}
