//! BITOP (AND, OR, XOR, NOT) with redis-server 7.0's replies: the sources
//! read as strings (a missing one as empty), the result as long as the
//! longest, shorter sources padded with zero bytes; the destination set to
//! it with no expiry, or removed when it is empty; the reply its length.
//! With every key on one shard, [`run`] does it there in one step (atomic);
//! with keys on several, `resp/move_keys.rs` reads the sources on their
//! owners and writes the destination on its owner ([`parse`] and
//! [`compute`] are shared).

use super::super::protocol::write;
use super::strings::{refusal, SYNTAX};
use crate::kv::values::Kind;
use crate::resp::protocol::Command;
use percore_keyspace::typed::WRONGTYPE;
use percore_keyspace::write::{ShardKeys, Ttl};

const NOT_ONE_SOURCE: &str = "ERR BITOP NOT must be called with a single source key.";

/// A BITOP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    And,
    Or,
    Xor,
    Not,
}

/// The operation `BITOP op dest src...` asks for; Err: the error to answer,
/// checked before any key is read (as redis does).
pub fn parse(args: &Command<'_>) -> Result<Op, &'static str> {
    let name = args.at(1);
    let op = if name.eq_ignore_ascii_case(b"and") {
        Op::And
    } else if name.eq_ignore_ascii_case(b"or") {
        Op::Or
    } else if name.eq_ignore_ascii_case(b"xor") {
        Op::Xor
    } else if name.eq_ignore_ascii_case(b"not") {
        Op::Not
    } else {
        return Err(SYNTAX);
    };
    if op == Op::Not && args.len() != 4 {
        return Err(NOT_ONE_SOURCE);
    }
    Ok(op)
}

/// The result of `op` over `sources` (None: a missing key).
pub fn compute(op: Op, sources: &[Option<&[u8]>]) -> Vec<u8> {
    let longest = sources.iter().map(|s| s.map_or(0, <[u8]>::len)).max();
    let mut result = vec![0u8; longest.unwrap_or(0)];
    let byte = |source: &Option<&[u8]>, i: usize| source.and_then(|s| s.get(i).copied());
    for (i, out) in result.iter_mut().enumerate() {
        let mut bytes = sources.iter().map(|s| byte(s, i).unwrap_or(0));
        let first = bytes.next().unwrap_or(0);
        *out = match op {
            Op::And => bytes.fold(first, |acc, b| acc & b),
            Op::Or => bytes.fold(first, |acc, b| acc | b),
            Op::Xor => bytes.fold(first, |acc, b| acc ^ b),
            Op::Not => !first,
        };
    }
    result
}

/// `BITOP op dest src...` with every key on this shard.
pub fn run(args: &Command<'_>, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    let op = match parse(args) {
        Ok(op) => op,
        Err(error) => return write::error(out, error),
    };
    // A source of another type: WRONGTYPE, as Redis (the destination is
    // overwritten whatever it holds).
    if (3..args.len()).any(|i| keys.wrong_type(args.at(i), Kind::String)) {
        return write::error(out, WRONGTYPE);
    }
    let result = {
        let sources: Vec<Option<&[u8]>> = (3..args.len()).map(|i| keys.get(args.at(i))).collect();
        compute(op, &sources)
    };
    let dest = args.at(2);
    let done = if result.is_empty() {
        keys.del(dest).map(|_| ())
    } else {
        keys.set(dest, &result, Ttl::Clear)
    };
    match done {
        Ok(()) => write::int(out, result.len() as i64),
        Err(refused) => refusal(out, &refused),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_pad_shorter_sources_with_zero_bytes() {
        let (a, b): (&[u8], &[u8]) = (b"\xff\x0f", b"\xf0");
        assert_eq!(compute(Op::And, &[Some(a), Some(b)]), b"\xf0\x00");
        assert_eq!(compute(Op::Or, &[Some(a), Some(b)]), b"\xff\x0f");
        assert_eq!(compute(Op::Xor, &[Some(a), Some(b)]), b"\x0f\x0f");
        assert_eq!(compute(Op::Not, &[Some(a)]), b"\x00\xf0");
        assert_eq!(compute(Op::And, &[Some(a), None]), b"\x00\x00");
        assert!(compute(Op::Or, &[None, None]).is_empty());
    }
}
