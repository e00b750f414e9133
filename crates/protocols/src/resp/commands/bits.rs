//! The bit commands on one string (SETBIT, GETBIT, BITCOUNT, BITPOS), run on
//! the key's owner with redis-server 7.0's replies and errors. Bits are
//! numbered from the most significant bit of the first byte, as in Redis; a
//! missing key reads as an endless run of zero bits.

use super::super::protocol::write;
use super::strings::{parse_i64, refusal, NOT_INTEGER, SYNTAX};
use super::Cmd;
use crate::resp::protocol::Command;
use percore_keyspace::write::{ShardKeys, Ttl};

const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BAD_BIT: &str = "ERR bit is not an integer or out of range";
const BAD_BITPOS: &str = "ERR The bit argument must be 1 or 0.";
/// Redis's `proto-max-bulk-len` in bits: no offset reaches past it.
const MAX_BITS: u64 = 512 * 1024 * 1024 * 8;

/// Runs one bit command on the key's owner; its reply goes to `out`.
pub fn run(cmd: Cmd, args: &Command<'_>, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    match cmd {
        Cmd::SetBit => set_bit(args, keys, out),
        Cmd::GetBit => match offset(args.at(2)) {
            None => write::error(out, BAD_OFFSET),
            Some(at) => {
                let val = keys.get(args.at(1)).unwrap_or_default();
                write::int(out, i64::from(bit_at(val, at)));
            }
        },
        Cmd::BitCount => bit_count(args, keys, out),
        Cmd::BitPos => bit_pos(args, keys, out),
        _ => write::error(out, "ERR internal: not a bit command"),
    }
}

/// A bit offset as redis reads it: a non-negative integer below 2^32.
fn offset(arg: &[u8]) -> Option<u64> {
    let n = parse_i64(arg)?;
    u64::try_from(n).ok().filter(|&n| n < MAX_BITS)
}

fn bit_at(val: &[u8], at: u64) -> bool {
    val.get((at / 8) as usize)
        .is_some_and(|byte| byte & (0x80 >> (at % 8)) != 0)
}

/// `SETBIT key offset 0|1`: the old bit; the string grows with zero bytes
/// to reach the offset, and keeps its time to live.
fn set_bit(args: &Command<'_>, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    let Some(at) = offset(args.at(2)) else {
        return write::error(out, BAD_OFFSET);
    };
    let on = match parse_i64(args.at(3)) {
        Some(0) => false,
        Some(1) => true,
        _ => return write::error(out, BAD_BIT),
    };
    let key = args.at(1);
    let old = keys.get(key).unwrap_or_default();
    let was = bit_at(old, at);
    let byte = (at / 8) as usize;
    if was == on && byte < old.len() {
        // Nothing changes: nothing to log (redis still counts it dirty,
        // which no client sees).
        return write::int(out, i64::from(was));
    }
    let mut val = Vec::with_capacity(old.len().max(byte + 1));
    val.extend_from_slice(old);
    if val.len() <= byte {
        val.resize(byte + 1, 0);
    }
    let mask = 0x80u8 >> (at % 8);
    if on {
        val[byte] |= mask;
    } else {
        val[byte] &= !mask;
    }
    match keys.set(key, &val, Ttl::Keep) {
        Ok(()) => write::int(out, i64::from(was)),
        Err(refused) => refusal(out, &refused),
    }
}

/// A `start end [BYTE|BIT]` range over a string of `len` bytes, clamped as
/// redis 7.0 does, as inclusive bit positions; None when it is empty.
fn bit_range(len: usize, start: i64, end: i64, in_bits: bool) -> Option<(u64, u64)> {
    let total = if in_bits { len as i64 * 8 } else { len as i64 };
    let clamp = |n: i64| if n < 0 { (total + n).max(0) } else { n };
    let start = clamp(start);
    let end = clamp(end).min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(if in_bits {
        (start, end)
    } else {
        (start * 8, end * 8 + 7)
    })
}

/// `BYTE` or `BIT`, in any case.
fn unit(arg: &[u8]) -> Option<bool> {
    if arg.eq_ignore_ascii_case(b"bit") {
        Some(true)
    } else if arg.eq_ignore_ascii_case(b"byte") {
        Some(false)
    } else {
        None
    }
}

/// `BITCOUNT key [start end [BYTE|BIT]]`; a missing key counts 0 before
/// its arguments are read, as in redis 7.0.
fn bit_count(args: &Command<'_>, keys: &ShardKeys<'_>, out: &mut Vec<u8>) {
    let Some(val) = keys.get(args.at(1)) else {
        return write::int(out, 0);
    };
    let range = match args.len() {
        2 => bit_range(val.len(), 0, -1, false),
        4 | 5 => {
            let (Some(start), Some(end)) = (parse_i64(args.at(2)), parse_i64(args.at(3))) else {
                return write::error(out, NOT_INTEGER);
            };
            let in_bits = if args.len() == 5 {
                match unit(args.at(4)) {
                    Some(in_bits) => in_bits,
                    None => return write::error(out, SYNTAX),
                }
            } else {
                false
            };
            // Both counted from the end and crossed: empty, before the
            // clamping would turn them into the first byte (redis 7.0).
            if start < 0 && end < 0 && start > end {
                return write::int(out, 0);
            }
            bit_range(val.len(), start, end, in_bits)
        }
        _ => return write::error(out, SYNTAX),
    };
    let count = range.map_or(0, |(lo, hi)| {
        let (first, last) = ((lo / 8) as usize, (hi / 8) as usize);
        let whole: u32 = val[first..=last].iter().map(|b| b.count_ones()).sum();
        // Less the bits of the end bytes outside the range.
        let before = (u16::from(val[first]) >> (8 - lo % 8)).count_ones();
        let after = (u16::from(val[last]) & ((1u16 << (7 - hi % 8)) - 1)).count_ones();
        whole - before - after
    });
    write::int(out, i64::from(count));
}

/// `BITPOS key 0|1 [start [end [BYTE|BIT]]]`: the first bit set (or clear)
/// in the range; -1 when there is none, except that, with no end given, a
/// search for a clear bit finds the first bit past the string.
fn bit_pos(args: &Command<'_>, keys: &ShardKeys<'_>, out: &mut Vec<u8>) {
    let want = match parse_i64(args.at(2)) {
        None => return write::error(out, NOT_INTEGER),
        Some(0) => false,
        Some(1) => true,
        Some(_) => return write::error(out, BAD_BITPOS),
    };
    let Some(val) = keys.get(args.at(1)) else {
        return write::int(out, if want { -1 } else { 0 });
    };
    let (range, end_given) = match args.len() {
        3 => (bit_range(val.len(), 0, -1, false), false),
        4..=6 => {
            let Some(start) = parse_i64(args.at(3)) else {
                return write::error(out, NOT_INTEGER);
            };
            let in_bits = if args.len() == 6 {
                match unit(args.at(5)) {
                    Some(in_bits) => in_bits,
                    None => return write::error(out, SYNTAX),
                }
            } else {
                false
            };
            let end = if args.len() >= 5 {
                match parse_i64(args.at(4)) {
                    Some(end) => end,
                    None => return write::error(out, NOT_INTEGER),
                }
            } else {
                -1
            };
            (bit_range(val.len(), start, end, in_bits), args.len() >= 5)
        }
        _ => return write::error(out, SYNTAX),
    };
    let Some((lo, hi)) = range else {
        return write::int(out, -1);
    };
    let found = (lo..=hi).find(|&at| bit_at(val, at) == want);
    let pos = match found {
        Some(at) => at as i64,
        None if want || end_given => -1,
        // The string read as padded with zero bits to its right.
        None => ((hi / 8 + 1) * 8) as i64,
    };
    write::int(out, pos);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_clamp_as_redis() {
        assert_eq!(bit_range(3, 0, -1, false), Some((0, 23)));
        assert_eq!(bit_range(3, 1, 1, false), Some((8, 15)));
        assert_eq!(bit_range(3, 5, 3, true), None);
        assert_eq!(bit_range(3, -100, 100, true), Some((0, 23)));
        assert_eq!(bit_range(0, 0, -1, false), None);
    }
}
