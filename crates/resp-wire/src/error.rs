//! Why a request is refused. The service answers every one of these with
//! `-ERR Protocol error: ...` and closes the connection, as redis does; the
//! texts are redis 7.0's, byte for byte (checked against redis-server 7.0.15,
//! see the tests).

use std::io::Write;

use thiserror::Error;

/// What the service answers when [`RespDecoder`](super::RespDecoder) reports
/// `FrameTooLong` (an argument longer than `--max-frame`): redis' answer to a
/// bulk length above its `proto-max-bulk-len`.
pub const BULK_TOO_LONG_REPLY: &[u8] = b"-ERR Protocol error: invalid bulk length\r\n";

/// A malformed request. `Display` is the text redis writes after
/// `Protocol error: `, except for a byte above 0x7f in
/// [`ProtocolError::ExpectedDollar`], which redis writes raw and `Display`
/// (being UTF-8) as `\xHH`; [`ProtocolError::write_reply`] writes what redis
/// writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum ProtocolError {
    /// `*N` with N not a number or above 1,048,576 (docs/PROTOCOLS.md §6.1).
    #[error("invalid multibulk length")]
    InvalidMultibulkLength,
    /// `$N` with N not a number or negative.
    #[error("invalid bulk length")]
    InvalidBulkLength,
    /// An argument's header starts with this byte instead of `$`.
    #[error("expected '$', got '{}'", Shown(*.0))]
    ExpectedDollar(u8),
    /// `*N` with N above 10 from a client that must authenticate and has
    /// not (redis' `authRequired` limit).
    #[error("unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    /// `$N` with N above 16384 from a client that must authenticate and has
    /// not.
    #[error("unauthenticated bulk length")]
    UnauthenticatedBulkLength,
    /// No `\r` within 64 KiB of a `*`.
    #[error("too big mbulk count string")]
    TooBigMultibulkCount,
    /// No `\r` within 64 KiB of an argument's header.
    #[error("too big bulk count string")]
    TooBigBulkCount,
    /// No `\n` within 64 KiB of an inline request's start.
    #[error("too big inline request")]
    TooBigInline,
    /// An inline request's quotes do not close, or a closing quote is
    /// followed by something other than a space.
    #[error("unbalanced quotes in request")]
    UnbalancedQuotes,
    /// Our own limit (not redis'): the command's headers show that it would
    /// take more than `limit` bytes on the wire (see
    /// [`command_limit`](super::command_limit)).
    #[error("command longer than {limit} bytes")]
    CommandTooLong { limit: usize },
    /// Not from redis: the frame given to [`parse_command`](super::parse_command)
    /// is not one command as [`RespDecoder`](super::RespDecoder) cuts them
    /// (it stops short, or bytes follow the command). Never happens to frames
    /// the decoder found.
    #[error("the frame is not one whole command")]
    NotOneCommand,
}

impl ProtocolError {
    /// Appends the whole error reply, `-ERR Protocol error: ...\r\n`, exactly
    /// as redis writes it.
    pub fn write_reply(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"-ERR Protocol error: ");
        match *self {
            ProtocolError::ExpectedDollar(byte) => {
                out.extend_from_slice(b"expected '$', got '");
                out.push(redis_shown(byte));
                out.push(b'\'');
            }
            // Every other text is ASCII; writing to a Vec cannot fail.
            ref other => {
                let _ = write!(out, "{other}");
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// The byte redis writes for `byte` in an error text: `\r` and `\n` become
/// spaces (its error replies must stay on one line).
fn redis_shown(byte: u8) -> u8 {
    match byte {
        b'\r' | b'\n' => b' ',
        other => other,
    }
}

/// A byte as `Display` shows it: ASCII as redis writes it, others as `\xHH`.
struct Shown(u8);

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let byte = redis_shown(self.0);
        if byte.is_ascii() {
            write!(f, "{}", char::from(byte))
        } else {
            write!(f, "\\x{byte:02x}")
        }
    }
}
