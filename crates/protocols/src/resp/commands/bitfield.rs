//! BITFIELD and BITFIELD_RO on one string, run on the key's owner with
//! redis-server 7.0's replies: GET, SET and INCRBY of signed (`i1`..`i64`)
//! and unsigned (`u1`..`u63`) integers at any bit offset (`#n`: n times the
//! width), OVERFLOW WRAP, SAT or FAIL for the operations after it. Every
//! operation is parsed before any runs, so an error changes nothing; a
//! command with a SET or INCRBY grows the string (with zero bytes) to its
//! farthest write first, creating the key if need be, as redis does.

use super::super::protocol::write::{self, Proto};
use super::strings::{parse_i64, refusal, NOT_INTEGER, SYNTAX};
use super::Cmd;
use crate::resp::protocol::Command;
use percore_keyspace::write::{ShardKeys, Ttl};

const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BAD_OVERFLOW: &str = "ERR Invalid OVERFLOW type specified";
const READ_ONLY: &str = "ERR BITFIELD_RO only supports the GET subcommand";
/// Redis's `proto-max-bulk-len` in bytes: no offset reaches past it.
const MAX_BYTES: u64 = 512 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Get,
    Set,
    IncrBy,
}

/// One operation, parsed.
#[derive(Clone, Copy, Debug)]
struct Op {
    kind: Kind,
    signed: bool,
    bits: u32,
    offset: u64,
    /// SET's value or INCRBY's increment.
    value: i64,
    overflow: Overflow,
}

/// `i<bits>` or `u<bits>`.
fn parse_type(arg: &[u8]) -> Option<(bool, u32)> {
    let (signed, rest) = match arg.split_first()? {
        (b'i', rest) => (true, rest),
        (b'u', rest) => (false, rest),
        _ => return None,
    };
    let bits = parse_i64(rest)?;
    let max = if signed { 64 } else { 63 };
    (1..=max).contains(&bits).then_some((signed, bits as u32))
}

/// A bit offset, `#n` meaning n times the width.
fn parse_offset(arg: &[u8], bits: u32) -> Option<u64> {
    let (hash, digits) = match arg.strip_prefix(b"#") {
        Some(rest) => (true, rest),
        None => (false, arg),
    };
    let mut n = parse_i64(digits)?;
    if hash {
        n = n.wrapping_mul(i64::from(bits));
    }
    u64::try_from(n).ok().filter(|&n| n >> 3 < MAX_BYTES)
}

/// Every operation of the command, or the error to answer.
fn parse(args: &Command<'_>) -> Result<Vec<Op>, &'static str> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let rest = args.len() - j - 1;
        let sub = args.at(j);
        let kind = if sub.eq_ignore_ascii_case(b"get") && rest >= 2 {
            Kind::Get
        } else if sub.eq_ignore_ascii_case(b"set") && rest >= 3 {
            Kind::Set
        } else if sub.eq_ignore_ascii_case(b"incrby") && rest >= 3 {
            Kind::IncrBy
        } else if sub.eq_ignore_ascii_case(b"overflow") && rest >= 1 {
            let name = args.at(j + 1);
            overflow = if name.eq_ignore_ascii_case(b"wrap") {
                Overflow::Wrap
            } else if name.eq_ignore_ascii_case(b"sat") {
                Overflow::Sat
            } else if name.eq_ignore_ascii_case(b"fail") {
                Overflow::Fail
            } else {
                return Err(BAD_OVERFLOW);
            };
            j += 2;
            continue;
        } else {
            return Err(SYNTAX);
        };
        let (signed, bits) = parse_type(args.at(j + 1)).ok_or(BAD_TYPE)?;
        let offset = parse_offset(args.at(j + 2), bits).ok_or(BAD_OFFSET)?;
        let value = if kind == Kind::Get {
            0
        } else {
            parse_i64(args.at(j + 3)).ok_or(NOT_INTEGER)?
        };
        ops.push(Op {
            kind,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
        j += if kind == Kind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

/// Runs BITFIELD or BITFIELD_RO on the key's owner.
pub fn run(
    cmd: Cmd,
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    let ops = match parse(args) {
        Ok(ops) => ops,
        Err(error) => return write::error(out, error),
    };
    let key = args.at(1);
    let farthest = ops
        .iter()
        .filter(|op| op.kind != Kind::Get)
        .map(|op| op.offset + u64::from(op.bits) - 1)
        .max();
    let Some(farthest) = farthest else {
        // Reads only: a missing key reads as zero bits.
        let val = keys.get(key).unwrap_or_default();
        write::array_len(out, ops.len());
        for op in &ops {
            write_value(out, op.signed, op.bits, get(val, op.offset, op.bits));
        }
        return;
    };
    if cmd == Cmd::BitFieldRo {
        return write::error(out, READ_ONLY);
    }
    let old = keys.get(key);
    let existed = old.is_some();
    let mut val = old.unwrap_or_default().to_vec();
    let needed = (farthest / 8 + 1) as usize;
    let grown = val.len() < needed;
    if grown {
        val.resize(needed, 0);
    }
    let mut replies = Vec::new();
    write::array_len(&mut replies, ops.len());
    for op in &ops {
        let old = get(&val, op.offset, op.bits);
        if op.kind == Kind::Get {
            write_value(&mut replies, op.signed, op.bits, old);
            continue;
        }
        // Redis's overflow checks: SET checks the value given (an unsigned
        // field takes it as u64, so a negative one overflows), INCRBY the
        // field plus the increment.
        let (start, by) = match (op.kind, op.signed) {
            (Kind::IncrBy, true) => (i128::from(extend(old, op.bits)), op.value),
            (Kind::IncrBy, false) => (i128::from(old), op.value),
            (_, true) => (i128::from(op.value), 0),
            (_, false) => (i128::from(op.value as u64), 0),
        };
        match apply(op.signed, op.bits, op.overflow, start, by) {
            None => write::null(&mut replies, proto),
            Some(new) => {
                let shown = if op.kind == Kind::IncrBy { new } else { old };
                write_value(&mut replies, op.signed, op.bits, shown);
                set(&mut val, op.offset, op.bits, new);
            }
        }
    }
    // Redis creates (or grows) the string even when every write failed.
    let changed = !existed || grown || keys.get(key) != Some(&val[..]);
    if changed {
        if let Err(refused) = keys.set(key, &val, Ttl::Keep) {
            return refusal(out, &refused);
        }
    }
    out.extend_from_slice(&replies);
}

/// A field's raw bits as redis shows them: sign-extended when signed.
fn write_value(out: &mut Vec<u8>, signed: bool, bits: u32, raw: u64) {
    write::int(
        out,
        if signed {
            extend(raw, bits)
        } else {
            raw as i64
        },
    );
}

/// The `bits`-wide field at bit `offset` of `val` (zero bits past its
/// end), raw.
fn get(val: &[u8], offset: u64, bits: u32) -> u64 {
    let mut value = 0u64;
    for j in 0..u64::from(bits) {
        let at = offset + j;
        let bit = val
            .get((at / 8) as usize)
            .is_some_and(|byte| byte & (0x80 >> (at % 8)) != 0);
        value = (value << 1) | u64::from(bit);
    }
    value
}

/// Sign-extends a `bits`-wide field.
fn extend(raw: u64, bits: u32) -> i64 {
    if bits < 64 && raw & (1 << (bits - 1)) != 0 {
        (raw | (u64::MAX << bits)) as i64
    } else {
        raw as i64
    }
}

/// Writes the low `bits` of `value` at bit `offset` of `val` (long enough).
fn set(val: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let on = value & (1u64 << (u64::from(bits) - 1 - j)) != 0;
        let at = offset + j;
        let mask = 0x80u8 >> (at % 8);
        let byte = &mut val[(at / 8) as usize];
        if on {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

/// `start + by` stored in a `bits`-wide field: its new raw bits, or None
/// when it overflows under FAIL (WRAP keeps the low bits, SAT the nearest
/// limit).
fn apply(signed: bool, bits: u32, overflow: Overflow, start: i128, by: i64) -> Option<u64> {
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let (min, max) = if signed {
        let max = (1i128 << (bits - 1)) - 1;
        (-max - 1, max)
    } else {
        (0, i128::from(mask))
    };
    let sum = start + i128::from(by);
    if (min..=max).contains(&sum) {
        return Some(sum as u64 & mask);
    }
    match overflow {
        Overflow::Fail => None,
        Overflow::Sat if sum > max => Some(max as u64 & mask),
        Overflow::Sat => Some(min as u64 & mask),
        Overflow::Wrap => Some(sum as u64 & mask),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_and_write_across_bytes() {
        let mut val = vec![0u8; 2];
        set(&mut val, 7, 5, 23);
        assert_eq!(val, [0b0000_0001, 0b0111_0000]);
        assert_eq!(get(&val, 7, 5), 23);
        assert_eq!(extend(get(&val, 7, 5), 5), -9);
        assert_eq!(get(&val, 100, 8), 0);
    }

    #[test]
    fn overflow_wraps_saturates_or_fails() {
        assert_eq!(apply(false, 8, Overflow::Wrap, 250, 10), Some(4));
        assert_eq!(apply(false, 8, Overflow::Sat, 250, 10), Some(255));
        assert_eq!(apply(false, 8, Overflow::Fail, 250, 10), None);
        assert_eq!(apply(false, 8, Overflow::Sat, 5, -10), Some(0));
        assert_eq!(apply(true, 8, Overflow::Wrap, 120, 10), Some(0x82));
        assert_eq!(apply(true, 8, Overflow::Sat, -120, -10), Some(0x80));
        assert_eq!(
            apply(true, 64, Overflow::Sat, i128::from(i64::MAX), 1),
            Some(i64::MAX as u64)
        );
        assert_eq!(parse_type(b"u64"), None);
        assert_eq!(parse_type(b"i64"), Some((true, 64)));
        assert_eq!(parse_offset(b"#2", 8), Some(16));
    }
}
