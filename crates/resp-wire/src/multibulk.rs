//! The one reading of a request's framing, shared by [`RespDecoder`] (which
//! only wants to know where a command ends) and [`parse_command`] (which wants
//! its arguments): both drive the same [`Progress`], so a frame the decoder
//! cut at an error makes the parser find that very error.
//!
//! It follows redis 7.0's `processMultibulkBuffer` and `processInlineBuffer`
//! to the byte, quirks included:
//! - a header line (`*N`, `$N`) ends at the first `\r`, wherever it is, and
//!   the byte after it is skipped unchecked; so are the two bytes after an
//!   argument's data (redis never checks that they are `\r\n`);
//! - lines are searched with `strchr`, so a NUL byte before the line's end
//!   hides it: the connection then waits until the line is too long;
//! - numbers are read by `string2ll`: optional `-`, no `+`, no leading zero,
//!   at most 20 characters;
//! - a count above 1,048,576 is refused (docs/PROTOCOLS.md §6.1's limit; redis 7.0 takes
//!   up to `INT_MAX`), a count of 0 or below (any negative one, not only -1)
//!   is an empty command that gets no reply;
//! - a client that must authenticate and has not (`--requirepass`) gets
//!   redis' `authRequired` limits: a count above [`UNAUTH_MAX_ARGS`] and a
//!   bulk above [`UNAUTH_MAX_BULK`] are refused from their headers, after
//!   the checks every client gets.
//!
//! Where redis' answer depends on how the bytes were cut into reads (its
//! 64 KiB line limits are checked only while no line end has arrived), this
//! reading takes the strict side: a line end must lie within the first
//! [`MAX_LINE`] + 1 bytes of its line. So the frames found never depend on
//! read boundaries.
//!
//! [`RespDecoder`]: super::RespDecoder
//! [`parse_command`]: super::parse_command

use super::ProtocolError;

/// redis' `PROTO_INLINE_MAX_SIZE`: the longest a line may be before its end
/// (an inline request, a `*N` or a `$N` line).
pub const MAX_LINE: usize = 64 * 1024;

/// The fewest bytes an argument takes on the wire: `$0\r\n` and two bytes.
const MIN_ARG_WIRE: usize = 6;

/// The smallest command limit, whatever `--max-frame` is.
pub const COMMAND_LIMIT_FLOOR: usize = 16 << 20;

/// Most arguments a command may have (docs/PROTOCOLS.md §6.1).
pub const MAX_ARGS: i64 = 1 << 20;

/// Most arguments an unauthenticated client's command may have (redis 7.0's
/// `processMultibulkBuffer`, docs/PROTOCOLS.md §6.1).
pub const UNAUTH_MAX_ARGS: i64 = 10;

/// The longest argument an unauthenticated client may send (redis 7.0's).
pub const UNAUTH_MAX_BULK: usize = 16384;

/// The most bytes a multibulk command may take on the wire (our limit, not
/// redis'): 16 times `--max-frame`, and never under 16 MiB. A command that
/// would pass it is refused as soon as its headers show it, before its data
/// is buffered, with [`ProtocolError::CommandTooLong`].
pub fn command_limit(max_frame: usize) -> usize {
    max_frame.saturating_mul(16).max(COMMAND_LIMIT_FLOOR)
}

/// What a line search found.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The line's end byte is at this index of the buffer.
    End(usize),
    /// Not yet: more bytes may bring it.
    Pending,
    /// More than [`MAX_LINE`] bytes came without it (or a NUL hides it).
    TooLong,
}

/// Looks for `end` in the line that starts at `buf[from]`, as redis' `strchr`
/// does: a NUL first hides it for good. `scanned` counts the line's bytes
/// already known to hold neither, so a line arriving in pieces is scanned
/// once; the caller resets it to 0 for a new line.
pub fn find_line(buf: &[u8], from: usize, end: u8, scanned: &mut usize) -> Line {
    let horizon = buf.len().min(from.saturating_add(MAX_LINE + 1));
    let look = from.saturating_add(*scanned).min(horizon);
    match memchr::memchr2(end, 0, &buf[look..horizon]) {
        Some(offset) if buf[look + offset] == end => {
            *scanned = look + offset - from;
            return Line::End(look + offset);
        }
        // A NUL: `strchr` stops there, so this line's end is never seen
        // (and `max` below keeps it so).
        Some(_) => *scanned = MAX_LINE + 1,
        None => *scanned = (*scanned).max(horizon - from),
    }
    if buf.len() - from > MAX_LINE {
        Line::TooLong
    } else {
        Line::Pending
    }
}

/// redis' `string2ll`: the whole of `digits` as an `i64`, or `None`.
pub fn string2ll(digits: &[u8]) -> Option<i64> {
    // 21 bytes or more are refused (`LONG_STR_SIZE`), which also keeps the
    // accumulation below from overflowing a u64.
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    if digits == b"0" {
        return Some(0);
    }
    let (negative, rest) = match digits {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, digits),
    };
    if !matches!(rest.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let mut value: u64 = 0;
    for &byte in rest {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(byte - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(value)
    } else {
        i64::try_from(value).ok()
    }
}

/// The limits a command is read under.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The longest argument (`--max-frame`): longer is [`Step::BulkTooLong`].
    pub max_bulk: usize,
    /// The most wire bytes a command may take ([`command_limit`]).
    pub command: usize,
    /// The client must authenticate and has not: redis' smaller limits.
    pub unauthenticated: bool,
}

/// How far a multibulk command has been read. Starts at `Default` on the
/// command's `*`; everything it records stays valid as more bytes are
/// appended, so the decoder keeps it between reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    /// Bytes read from the command's start: its count line, whole arguments,
    /// and the header of the argument whose data is awaited.
    pub pos: usize,
    /// Arguments not yet read whole; `None` until the count line is read.
    left: Option<usize>,
    /// The data length of the argument whose header is read.
    bulk: Option<usize>,
    /// Bytes of the line at `pos` known to hold no line end (see [`find_line`]).
    pub scanned: usize,
}

/// One step of [`Progress::step`].
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// An argument: its data is `buf[start..end]`.
    Arg { start: usize, end: usize },
    /// The command is whole: it is `buf[..pos]`.
    Done,
    /// More bytes are needed.
    More,
    /// The command is malformed; redis sees it by byte `end`.
    Bad { error: ProtocolError, end: usize },
    /// An argument is declared longer than `max_bulk`.
    BulkTooLong,
}

impl Progress {
    /// Reads the next piece of the command at the head of `buf` (which starts
    /// with `*`). Arguments and commands past `limits` are refused from their
    /// headers alone.
    pub fn step(&mut self, buf: &[u8], limits: Limits) -> Step {
        let left = match self.left {
            Some(left) => left,
            None => match self.count_line(buf, limits) {
                Ok(left) => left,
                Err(step) => return step,
            },
        };
        if left == 0 {
            return Step::Done;
        }
        let len = match self.bulk {
            Some(len) => len,
            None => match self.bulk_header(buf, left, limits) {
                Ok(len) => len,
                Err(step) => return step,
            },
        };
        let start = self.pos;
        if buf.len() - start < len.saturating_add(2) {
            return Step::More;
        }
        self.pos = start + len + 2;
        self.left = Some(left - 1);
        self.bulk = None;
        Step::Arg {
            start,
            end: start + len,
        }
    }

    /// Reads `*N\r?`: the number of arguments.
    fn count_line(&mut self, buf: &[u8], limits: Limits) -> Result<usize, Step> {
        let cr = self.header_line(buf, ProtocolError::TooBigMultibulkCount)?;
        let end = cr + 2;
        let count = match buf.get(1..cr).and_then(string2ll) {
            Some(count) if count <= MAX_ARGS => count,
            _ => return Err(bad(ProtocolError::InvalidMultibulkLength, end)),
        };
        if limits.unauthenticated && count > UNAUTH_MAX_ARGS {
            return Err(bad(ProtocolError::UnauthenticatedMultibulkLength, end));
        }
        let limit = limits.command;
        let count = usize::try_from(count).unwrap_or(0);
        if end.saturating_add(count.saturating_mul(MIN_ARG_WIRE)) > limit {
            return Err(bad(ProtocolError::CommandTooLong { limit }, end));
        }
        self.pos = end;
        self.scanned = 0;
        self.left = Some(count);
        Ok(count)
    }

    /// Reads `$N\r?` at `pos`: the length of the next argument's data.
    fn bulk_header(&mut self, buf: &[u8], left: usize, limits: Limits) -> Result<usize, Step> {
        let cr = self.header_line(buf, ProtocolError::TooBigBulkCount)?;
        let end = cr + 2;
        let first = buf[self.pos];
        if first != b'$' {
            return Err(bad(ProtocolError::ExpectedDollar(first), end));
        }
        let digits = buf.get(self.pos + 1..cr);
        let len = match digits.and_then(string2ll).map(usize::try_from) {
            Some(Ok(len)) => len,
            _ => return Err(bad(ProtocolError::InvalidBulkLength, end)),
        };
        if len > limits.max_bulk {
            return Err(Step::BulkTooLong);
        }
        if limits.unauthenticated && len > UNAUTH_MAX_BULK {
            return Err(bad(ProtocolError::UnauthenticatedBulkLength, end));
        }
        let limit = limits.command;
        let least = end
            .saturating_add(len)
            .saturating_add(2)
            .saturating_add((left - 1).saturating_mul(MIN_ARG_WIRE));
        if least > limit {
            return Err(bad(ProtocolError::CommandTooLong { limit }, end));
        }
        self.pos = end;
        self.scanned = 0;
        self.bulk = Some(len);
        Ok(len)
    }

    /// Finds the `\r` ending the header line at `pos`, and the byte after it.
    fn header_line(&mut self, buf: &[u8], too_long: ProtocolError) -> Result<usize, Step> {
        if let Some(cr) = usual_header(buf, self.pos) {
            return if cr + 1 < buf.len() {
                Ok(cr)
            } else {
                Err(Step::More)
            };
        }
        match find_line(buf, self.pos, b'\r', &mut self.scanned) {
            Line::End(cr) if cr + 1 < buf.len() => Ok(cr),
            Line::End(_) | Line::Pending => Err(Step::More),
            Line::TooLong => Err(bad(too_long, self.pos + MAX_LINE + 1)),
        }
    }
}

/// The fast way through the usual header, a type byte then at most 20
/// digits or `-` then `\r`: that `\r` is the line's end (no `\r` or NUL comes
/// before it). `None` sends anything else the general way, [`find_line`].
fn usual_header(buf: &[u8], pos: usize) -> Option<usize> {
    let rest = buf.get(pos + 1..)?;
    for (i, &byte) in rest.iter().enumerate().take(21) {
        match byte {
            b'\r' => return Some(pos + 1 + i),
            b'0'..=b'9' | b'-' => {}
            _ => return None,
        }
    }
    None
}

fn bad(error: ProtocolError, end: usize) -> Step {
    Step::Bad { error, end }
}
