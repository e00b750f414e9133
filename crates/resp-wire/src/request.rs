//! Redis requests: [`RespDecoder`] finds where each command ends in a
//! connection's buffer, [`parse_command`] takes one such frame apart into
//! [`Args`], and [`encode_command`] writes a command (to forward an inline
//! command to another shard as multibulk, or from a client).
//!
//! A request starting with `*` is multibulk, any other is inline, as in
//! redis 7.0's `processInputBuffer`. The framing rules, redis' quirks
//! included, are in `multibulk`; the inline word rules in `inline`.
//!
//! Guarantees the service builds on:
//! - a malformed command is a frame too, cut where redis sees the error (at
//!   least one byte), and `parse_command` on that frame gives that error, so
//!   the service answers it like redis and closes;
//! - the frames found do not depend on how the stream was cut into reads;
//! - nothing is copied or allocated per command, and a command arriving in
//!   many reads is scanned once: the decoder keeps its place between reads;
//! - memory never grows with a declared count or length: an argument longer
//!   than `--max-frame` is `FrameTooLong` from its header, a command longer
//!   than [`command_limit`] a `CommandTooLong` error from its headers;
//! - a connection that must authenticate and has not (the service says so
//!   with [`RespDecoder::require_auth`] before each command) gets redis'
//!   unauthenticated limits, refused from the headers in the same way.

use std::cell::Cell;

use super::args::RETAIN_SPANS;
use super::inline::split_inline;
use super::multibulk::{command_limit, find_line, Limits, Line, Progress, Step, MAX_LINE};
use super::{Args, ProtocolError};
use percore::codec::{Decoder, FrameSpan, FrameTooLong};

/// The request decoder: one per connection. Its `max_frame` bounds one
/// argument (what redis' `proto-max-bulk-len` bounds), and through
/// [`command_limit`] a whole multibulk command; an inline line is bounded by
/// [`MAX_LINE`] alone, as in redis.
#[derive(Debug, Default)]
pub struct RespDecoder {
    /// How far the command at the head of the buffer has been read (for an
    /// inline one, only `scanned` is used).
    pub(super) progress: Progress,
    /// The arguments of the multibulk command being read, and of the last
    /// one returned, as ranges of its frame: the parse the service would
    /// otherwise do again ([`RespDecoder::parsed`]).
    spans: Vec<(usize, usize)>,
    /// The wire length of the last frame returned, when `spans` holds its
    /// whole, well-formed arguments.
    parsed_len: Option<usize>,
    /// The wire length of the last frame returned and why it is refused,
    /// when the decoder cut it at an error.
    refused: Option<(usize, ProtocolError)>,
    /// Whether the next command is read under redis' unauthenticated limits.
    /// A `Cell`, so that the service can set it through the shared borrow
    /// [`Batch::decoder`](percore::service::Batch::decoder) lends.
    unauthenticated: Cell<bool>,
}

impl Decoder for RespDecoder {
    fn decode(&mut self, buf: &[u8], max_frame: usize) -> Result<Option<FrameSpan>, FrameTooLong> {
        // The connection loop only ever appends to an unfinished command; a
        // shorter buffer (another caller's way) starts afresh, never panics.
        if self.progress.pos > buf.len() {
            self.progress = Progress::default();
        }
        if self.progress.pos == 0 {
            // A new command: the last one's arguments are no longer wanted.
            self.spans.clear();
            self.spans.shrink_to(RETAIN_SPANS);
        }
        self.parsed_len = None;
        self.refused = None;
        let end = match buf.first() {
            None => return Ok(None),
            Some(b'*') => {
                let limits = Limits {
                    max_bulk: max_frame,
                    command: command_limit(max_frame),
                    unauthenticated: self.unauthenticated.get(),
                };
                loop {
                    match self.progress.step(buf, limits) {
                        Step::Arg { start, end } => self.spans.push((start, end)),
                        Step::Done => {
                            self.parsed_len = Some(self.progress.pos);
                            break self.progress.pos;
                        }
                        Step::More => return Ok(None),
                        Step::Bad { end, error } => {
                            self.refused = Some((end, error));
                            break end;
                        }
                        Step::BulkTooLong => {
                            self.progress = Progress::default();
                            return Err(FrameTooLong { max_frame });
                        }
                    }
                }
            }
            Some(_) => match find_line(buf, 0, b'\n', &mut self.progress.scanned) {
                Line::End(newline) => newline + 1,
                Line::Pending => return Ok(None),
                Line::TooLong => MAX_LINE + 1,
            },
        };
        self.progress = Progress::default();
        Ok(Some(FrameSpan {
            start: 0,
            end,
            wire_len: end,
        }))
    }
}

impl RespDecoder {
    /// Whether the connection must authenticate and has not: its commands
    /// are then read under redis' unauthenticated limits (docs/PROTOCOLS.md §6.1). Set
    /// before each command; a command read in pieces is read under one
    /// setting, since only a command run (AUTH, RESET) changes it.
    pub fn require_auth(&self, unauthenticated: bool) {
        self.unauthenticated.set(unauthenticated);
    }

    /// Puts the arguments of `frame`, the frame this decoder returned last,
    /// into `args`: those it found while cutting a multibulk command (no
    /// second pass over the bytes), else what [`parse_command`] finds (an
    /// inline command, a malformed one). The same result as
    /// `parse_command(frame, args)` either way, except that a frame cut at
    /// an unauthenticated limit gives that error, which `parse_command`
    /// (reading as for an authenticated client) does not see.
    pub fn parsed(&self, frame: &[u8], args: &mut Args) -> Result<(), ProtocolError> {
        if let Some((len, error)) = self.refused {
            if len == frame.len() && frame.first() == Some(&b'*') {
                args.clear(false);
                return Err(error);
            }
        }
        match self.parsed_len {
            Some(len) if len == frame.len() && frame.first() == Some(&b'*') => {
                args.clear(false);
                args.spans.extend_from_slice(&self.spans);
                Ok(())
            }
            _ => parse_command(frame, args),
        }
    }
}

/// Parses one frame as [`RespDecoder`] cut it into `args` (whose previous
/// contents are dropped, their memory kept), as for a client that needs no
/// authentication. On success the command is read
/// through `args.view(frame)`; it may be empty (no reply is due). On an
/// error `args` is left empty, and the service writes
/// [`ProtocolError::write_reply`] and closes.
pub fn parse_command(frame: &[u8], args: &mut Args) -> Result<(), ProtocolError> {
    let parsed = parse_into(frame, args);
    if parsed.is_err() {
        args.clear(args.inline);
    }
    parsed
}

fn parse_into(frame: &[u8], args: &mut Args) -> Result<(), ProtocolError> {
    match frame.first() {
        None => Err(ProtocolError::NotOneCommand),
        Some(b'*') => {
            args.clear(false);
            let mut progress = Progress::default();
            let limits = Limits {
                max_bulk: args.max_bulk,
                command: args.limit,
                unauthenticated: false,
            };
            loop {
                match progress.step(frame, limits) {
                    Step::Arg { start, end } => args.spans.push((start, end)),
                    Step::Done if progress.pos == frame.len() => return Ok(()),
                    Step::Done | Step::More => return Err(ProtocolError::NotOneCommand),
                    Step::Bad { error, .. } => return Err(error),
                    Step::BulkTooLong => return Err(ProtocolError::InvalidBulkLength),
                }
            }
        }
        Some(_) => {
            args.clear(true);
            match find_line(frame, 0, b'\n', &mut 0) {
                Line::End(newline) if newline + 1 == frame.len() => {
                    let line = match &frame[..newline] {
                        [line @ .., b'\r'] => line,
                        line => line,
                    };
                    split_inline(line, &mut args.scratch, &mut args.spans)
                }
                Line::End(_) | Line::Pending => Err(ProtocolError::NotOneCommand),
                Line::TooLong => Err(ProtocolError::TooBigInline),
            }
        }
    }
}

/// Appends a multibulk command of `args` to `out`. The count is written from
/// the iterator's length; should the iterator yield another number of
/// arguments, the count is rewritten to match.
pub fn encode_command<'a, I>(args: I, out: &mut Vec<u8>)
where
    I: IntoIterator<Item = &'a [u8]>,
    I::IntoIter: ExactSizeIterator,
{
    let args = args.into_iter();
    let start = out.len();
    let announced = args.len();
    push_header(b'*', announced, out);
    let header_end = out.len();
    let mut count = 0;
    for arg in args {
        push_header(b'$', arg.len(), out);
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
        count += 1;
    }
    if count != announced {
        let mut header = Vec::new();
        push_header(b'*', count, &mut header);
        out.splice(start..header_end, header);
    }
}

/// Appends `{kind}{n}\r\n`.
fn push_header(kind: u8, n: usize, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.push(kind);
    out.extend_from_slice(&digits[at..]);
    out.extend_from_slice(b"\r\n");
}
