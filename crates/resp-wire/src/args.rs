//! A parsed command's arguments, kept per connection and reused: after the
//! first few commands, parsing one allocates nothing. A multibulk command's
//! arguments are ranges of its frame (no copy); an inline command's are
//! copied, unescaped, into a scratch buffer (see `inline`).

use super::multibulk::{command_limit, COMMAND_LIMIT_FLOOR};

/// Spans kept between commands, at most: a command with more arguments
/// (24 KiB or more on the wire) gives back what it grew.
pub(super) const RETAIN_SPANS: usize = 4096;

/// The longest command name [`Command::name_upper`] uppercases.
pub const MAX_NAME: usize = 32;

/// Where [`parse_command`](super::parse_command) puts a command's arguments.
/// Read them through [`Args::view`] with the frame they were parsed from.
#[derive(Clone, Debug)]
pub struct Args {
    /// Each argument's range: in the frame, or in `scratch` when inline.
    pub(super) spans: Vec<(usize, usize)>,
    /// An inline command's words, unescaped.
    pub(super) scratch: Vec<u8>,
    pub(super) inline: bool,
    /// The longest argument accepted (`--max-frame`).
    pub(super) max_bulk: usize,
    /// The longest command accepted, in wire bytes ([`command_limit`]).
    pub(super) limit: usize,
}

impl Default for Args {
    /// For frames from a [`RespDecoder`](super::RespDecoder) run with a
    /// `--max-frame` of 1 MiB or less (whose command limit is the 16 MiB
    /// floor); see [`Args::with_max_frame`].
    fn default() -> Self {
        Args {
            spans: Vec::new(),
            scratch: Vec::new(),
            inline: false,
            max_bulk: usize::MAX,
            limit: COMMAND_LIMIT_FLOOR,
        }
    }
}

impl Args {
    /// Applies the decoder's limits for `max_frame`, so that a command cut
    /// for being too long is refused with the decoder's limit in its text,
    /// and an argument longer than `max_frame` (which the decoder reports as
    /// `FrameTooLong`) is refused as redis refuses it: invalid bulk length.
    pub fn with_max_frame(max_frame: usize) -> Self {
        Args {
            max_bulk: max_frame,
            limit: command_limit(max_frame),
            ..Args::default()
        }
    }

    /// For commands another shard forwarded: the connection that read each
    /// one held it to its `--max-frame` limits already, so the owner takes
    /// it whole, however long (a 64 MiB SET under a raised `--max-frame`).
    pub fn unbounded() -> Self {
        Args {
            limit: usize::MAX,
            ..Args::default()
        }
    }

    /// Holds the command `words` (copied, as an inline command's are): how
    /// resp runs a part of a multi-key command (`GET key` of an MGET) on its
    /// own shard without encoding and parsing it. Read it with
    /// `view(&[])`.
    pub fn set_words(&mut self, words: &[&[u8]]) {
        self.clear(true);
        for word in words {
            let start = self.scratch.len();
            self.scratch.extend_from_slice(word);
            self.spans.push((start, self.scratch.len()));
        }
    }

    /// Forgets the previous command, keeping the memory unless it was large.
    pub(super) fn clear(&mut self, inline: bool) {
        self.spans.clear();
        self.spans.shrink_to(RETAIN_SPANS);
        self.scratch.clear();
        self.inline = inline;
    }

    /// How many arguments the command has (the name included); 0 for an
    /// empty line, `*0` or a negative count, which get no reply.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Whether the command came inline (its words are copies).
    pub fn is_inline(&self) -> bool {
        self.inline
    }

    /// Argument `i` of the command parsed from `frame`.
    pub fn get<'a>(&'a self, frame: &'a [u8], i: usize) -> Option<&'a [u8]> {
        self.view(frame).arg(i)
    }

    /// The command parsed from `frame`, to read its arguments.
    pub fn view<'a>(&'a self, frame: &'a [u8]) -> Command<'a> {
        Command {
            base: if self.inline { &self.scratch } else { frame },
            spans: &self.spans,
            inline: self.inline,
        }
    }
}

/// A parsed command: its arguments, borrowed from the frame (or from the
/// [`Args`] scratch for an inline command). Given another frame than the one
/// parsed, its arguments are wrong but reading them never panics.
#[derive(Clone, Copy, Debug)]
pub struct Command<'a> {
    base: &'a [u8],
    spans: &'a [(usize, usize)],
    inline: bool,
}

impl<'a> Command<'a> {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn is_inline(&self) -> bool {
        self.inline
    }

    /// Argument `i` (0 is the command's name).
    pub fn arg(&self, i: usize) -> Option<&'a [u8]> {
        let &(start, end) = self.spans.get(i)?;
        self.base.get(start..end)
    }

    /// Argument `i`, empty when there is none: for code that has already
    /// checked the arity.
    pub fn at(&self, i: usize) -> &'a [u8] {
        self.arg(i).unwrap_or_default()
    }

    /// Every argument, the name first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + DoubleEndedIterator + 'a {
        let base = self.base;
        self.spans
            .iter()
            .map(move |&(start, end)| base.get(start..end).unwrap_or_default())
    }

    /// Whether argument `i` is `word`, ignoring ASCII case.
    pub fn arg_is(&self, i: usize, word: &[u8]) -> bool {
        self.arg(i)
            .is_some_and(|arg| arg.eq_ignore_ascii_case(word))
    }

    /// Whether the command's name is `name`, ignoring ASCII case.
    pub fn name_is(&self, name: &[u8]) -> bool {
        self.arg_is(0, name)
    }

    /// The name in upper case, written to `buf`, for matching against
    /// literals; `None` when there is no name or it is longer than
    /// [`MAX_NAME`] (no command has such a name).
    pub fn name_upper<'b>(&self, buf: &'b mut [u8; MAX_NAME]) -> Option<&'b [u8]> {
        let name = self.arg(0)?;
        let upper = buf.get_mut(..name.len())?;
        upper.copy_from_slice(name);
        upper.make_ascii_uppercase();
        Some(upper)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_command;
    use super::*;

    #[test]
    fn command_views_compare_names_without_case() {
        let frame = b"*3\r\n$3\r\nsEt\r\n$1\r\nk\r\n$1\r\nv\r\n";
        let mut args = Args::default();
        parse_command(frame, &mut args).unwrap();
        let command = args.view(frame);
        assert!(command.name_is(b"SET") && command.arg_is(1, b"K") && !command.is_inline());
        let mut buf = [0; MAX_NAME];
        assert_eq!(command.name_upper(&mut buf), Some(&b"SET"[..]));
        assert_eq!(command.iter().next_back(), Some(&b"v"[..]));
        assert_eq!((command.len(), command.arg(3)), (3, None));
        // The wrong frame gives wrong arguments, never a panic.
        assert_eq!(args.get(b"", 0), None);
    }
}
