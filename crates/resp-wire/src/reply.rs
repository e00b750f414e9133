//! Replies as a client reads them: [`reply_len`] finds where the RESP2 or
//! RESP3 reply at the head of a buffer ends (for clients and for a shard
//! gathering its peers' replies), [`parse_reply`] decodes it into a
//! [`Value`] borrowing from the buffer (for tests and the load generator).
//!
//! Servers write replies strictly, so they are read strictly: every line
//! ends in `\r\n`, numbers are numbers. Neither function panics or recurses
//! without bound: [`reply_len`] is iterative and refuses replies nested more
//! than [`MAX_DEPTH`] deep, so [`parse_reply`], which runs only on what
//! `reply_len` accepted, recurses at most that deep. Streamed RESP3 replies
//! (`$?`, `*?`) are not supported.

use thiserror::Error;

use super::multibulk::string2ll;

/// The deepest nesting of aggregates (arrays, maps, sets, pushes,
/// attributes) accepted.
pub const MAX_DEPTH: usize = 64;

/// A reply that is not RESP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum ReplyError {
    #[error("unknown reply type {0:#04x}")]
    UnknownType(u8),
    #[error("a line does not end in CRLF")]
    BadLineEnd,
    #[error("invalid length or count")]
    InvalidLength,
    #[error("invalid {0}")]
    InvalidScalar(&'static str),
    #[error("aggregates nested more than {MAX_DEPTH} deep")]
    TooDeep,
}

/// One decoded reply; strings borrow from the buffer.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// `+OK`
    Simple(&'a [u8]),
    /// `-ERR ...`: the whole text, code included.
    Error(&'a [u8]),
    /// `:42`
    Int(i64),
    /// `$3\r\nabc`, or `$-1` as `None`.
    Bulk(Option<&'a [u8]>),
    /// `*N`, or `*-1` as `None`.
    Array(Option<Vec<Value<'a>>>),
    /// RESP3 `%N`: N key-value pairs.
    Map(Vec<(Value<'a>, Value<'a>)>),
    /// RESP3 `~N`
    Set(Vec<Value<'a>>),
    /// RESP3 `>N`: out-of-band data (pub/sub messages).
    Push(Vec<Value<'a>>),
    /// RESP3 `_`
    Null,
    /// RESP3 `#t` / `#f`
    Bool(bool),
    /// RESP3 `,1.5` (also `inf`, `-inf`, `nan`).
    Double(f64),
    /// RESP3 `(`: the digits, sign included.
    BigNumber(&'a [u8]),
    /// RESP3 `=N\r\nfmt:text`
    Verbatim { format: &'a [u8], text: &'a [u8] },
    /// RESP3 `!N\r\n...`: an error as a bulk string.
    BulkError(&'a [u8]),
}

/// The first element of a reply: whole, or an aggregate's header.
enum Head<'a> {
    Leaf(Value<'a>),
    /// `kind` and its count as written (pairs for a map or attribute).
    Aggregate {
        kind: u8,
        count: usize,
    },
}

/// The length of the whole reply at the head of `buf`, or `None` when more
/// bytes are needed. An attribute (`|N`) counts with the reply it precedes.
pub fn reply_len(buf: &[u8]) -> Result<Option<usize>, ReplyError> {
    // Elements still to read in each open aggregate, innermost last.
    let mut left = [0usize; MAX_DEPTH];
    let mut depth = 0;
    let mut pos = 0;
    loop {
        let Some((head, next)) = head(buf, pos)? else {
            return Ok(None);
        };
        pos = next;
        if let Head::Aggregate { kind, count } = head {
            let children = children(kind, count)?;
            if children > 0 {
                let slot = left.get_mut(depth).ok_or(ReplyError::TooDeep)?;
                *slot = children;
                depth += 1;
                continue;
            }
        }
        // An element is whole: so are the aggregates it completes.
        loop {
            let Some(open) = depth.checked_sub(1) else {
                return Ok(Some(pos));
            };
            left[open] -= 1;
            if left[open] > 0 {
                break;
            }
            depth = open;
        }
    }
}

/// The reply at the head of `buf`, decoded, and its length; `None` when more
/// bytes are needed. An attribute is read and dropped: the value is the
/// reply it precedes.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Value<'_>, usize)>, ReplyError> {
    let Some(len) = reply_len(buf)? else {
        return Ok(None);
    };
    let mut pos = 0;
    let value = build(&buf[..len], &mut pos)?;
    Ok(Some((value, len)))
}

/// Decodes the element at `pos` of a reply `reply_len` accepted (so whole,
/// well formed and at most `MAX_DEPTH` deep: recursion is bounded).
fn build<'a>(buf: &'a [u8], pos: &mut usize) -> Result<Value<'a>, ReplyError> {
    let (head, next) = head(buf, *pos)?.ok_or(ReplyError::InvalidLength)?;
    *pos = next;
    let (kind, count) = match head {
        Head::Leaf(value) => return Ok(value),
        Head::Aggregate { kind, count } => (kind, count),
    };
    // Every element takes 3 bytes or more, so this bounds the capacity.
    let capacity = count.min(buf.len() / 3);
    let mut list = |n: usize| -> Result<Vec<Value<'a>>, ReplyError> {
        let mut items = Vec::with_capacity(capacity.min(n));
        for _ in 0..n {
            items.push(build(buf, pos)?);
        }
        Ok(items)
    };
    Ok(match kind {
        b'*' => Value::Array(Some(list(count)?)),
        b'~' => Value::Set(list(count)?),
        b'>' => Value::Push(list(count)?),
        b'|' => {
            list(children(kind, count)? - 1)?;
            build(buf, pos)?
        }
        _ => {
            let mut pairs = Vec::with_capacity(capacity);
            for _ in 0..count {
                let key = build(buf, pos)?;
                pairs.push((key, build(buf, pos)?));
            }
            Value::Map(pairs)
        }
    })
}

/// The elements an aggregate holds: a map's pairs count twice, and an
/// attribute also holds the reply it precedes.
fn children(kind: u8, count: usize) -> Result<usize, ReplyError> {
    let children = match kind {
        b'%' => count.checked_mul(2),
        b'|' => count.checked_mul(2).and_then(|n| n.checked_add(1)),
        _ => Some(count),
    };
    children.ok_or(ReplyError::InvalidLength)
}

/// Reads the element starting at `buf[pos]`: `None` when incomplete, else
/// what it is and where it ends.
fn head(buf: &[u8], pos: usize) -> Result<Option<(Head<'_>, usize)>, ReplyError> {
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let Some((line, mut next)) = line(buf, pos + 1)? else {
        return Ok(None);
    };
    let leaf = match kind {
        b'+' => Value::Simple(line),
        b'-' => Value::Error(line),
        b':' => Value::Int(number(line).ok_or(ReplyError::InvalidScalar("integer"))?),
        b'_' if line.is_empty() => Value::Null,
        b'#' if line == b"t" => Value::Bool(true),
        b'#' if line == b"f" => Value::Bool(false),
        b',' => Value::Double(number(line).ok_or(ReplyError::InvalidScalar("double"))?),
        b'(' if is_big_number(line) => Value::BigNumber(line),
        b'_' | b'#' | b'(' => return Err(ReplyError::InvalidScalar("null, boolean or big number")),
        b'$' | b'=' | b'!' => {
            let len = match string2ll(line) {
                Some(-1) if kind == b'$' => return Ok(Some((Head::Leaf(Value::Bulk(None)), next))),
                Some(len) => usize::try_from(len).map_err(|_| ReplyError::InvalidLength)?,
                None => return Err(ReplyError::InvalidLength),
            };
            let end = next.saturating_add(len);
            let Some(tail) = buf.get(end..end.saturating_add(2)) else {
                return Ok(None);
            };
            if tail != b"\r\n" {
                return Err(ReplyError::BadLineEnd);
            }
            let data = &buf[next..end];
            next = end + 2;
            match kind {
                b'$' => Value::Bulk(Some(data)),
                b'!' => Value::BulkError(data),
                _ => match data {
                    [_, _, _, b':', ..] => Value::Verbatim {
                        format: &data[..3],
                        text: &data[4..],
                    },
                    _ => return Err(ReplyError::InvalidScalar("verbatim string")),
                },
            }
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let count = match string2ll(line) {
                Some(-1) if kind == b'*' => {
                    return Ok(Some((Head::Leaf(Value::Array(None)), next)))
                }
                Some(count) => usize::try_from(count).map_err(|_| ReplyError::InvalidLength)?,
                None => return Err(ReplyError::InvalidLength),
            };
            return Ok(Some((Head::Aggregate { kind, count }, next)));
        }
        other => return Err(ReplyError::UnknownType(other)),
    };
    Ok(Some((Head::Leaf(leaf), next)))
}

/// The line starting at `buf[from]` and where the next one starts; `None`
/// until its `\r\n` has arrived.
fn line(buf: &[u8], from: usize) -> Result<Option<(&[u8], usize)>, ReplyError> {
    let rest = buf.get(from..).unwrap_or_default();
    let Some(at) = memchr::memchr2(b'\r', b'\n', rest) else {
        return Ok(None);
    };
    match rest.get(at..at + 2) {
        None if rest[at] == b'\r' => Ok(None),
        Some(b"\r\n") => Ok(Some((&rest[..at], from + at + 2))),
        _ => Err(ReplyError::BadLineEnd),
    }
}

/// An integer or a double as written in a reply.
fn number<T: std::str::FromStr>(text: &[u8]) -> Option<T> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn is_big_number(text: &[u8]) -> bool {
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}
