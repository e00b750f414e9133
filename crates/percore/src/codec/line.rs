//! Lines ending in `\n` or `\r\n` (yell, chat, mq). docs/PROTOCOLS.md §3.1: a line is too
//! long when its content, ending not counted, exceeds `--max-frame`, or when
//! more than `--max-frame` + 1 bytes have arrived with no `\n` (the + 1 leaves
//! room for a `\r`). So a connection never buffers more than that.

use super::{Decoder, FrameSpan, FrameTooLong};

/// The line decoder. The frame it yields is the whole line, ending included,
/// because some services answer with the same ending.
#[derive(Debug, Default)]
pub struct Lines {
    /// Bytes at the head of the buffer already known to hold no `\n`.
    scanned: usize,
}

impl Decoder for Lines {
    fn decode(&mut self, buf: &[u8], max_frame: usize) -> Result<Option<FrameSpan>, FrameTooLong> {
        // A `\n` further out than this would end a line that is too long.
        let horizon = buf.len().min(max_frame.saturating_add(2));
        let from = self.scanned.min(horizon);
        match memchr::memchr(b'\n', &buf[from..horizon]) {
            Some(offset) => {
                self.scanned = 0;
                let newline = from + offset;
                let (content, _) = split_line_ending(&buf[..=newline]);
                if content.len() > max_frame {
                    return Err(FrameTooLong { max_frame });
                }
                Ok(Some(FrameSpan {
                    start: 0,
                    end: newline + 1,
                    wire_len: newline + 1,
                }))
            }
            None if buf.len() > max_frame.saturating_add(1) => Err(FrameTooLong { max_frame }),
            None => {
                self.scanned = horizon;
                Ok(None)
            }
        }
    }
}

/// Splits a line into its content and its ending (`\r\n`, `\n` or nothing).
pub fn split_line_ending(line: &[u8]) -> (&[u8], &[u8]) {
    let cut = match line {
        [.., b'\r', b'\n'] => line.len() - 2,
        [.., b'\n'] => line.len() - 1,
        _ => line.len(),
    };
    line.split_at(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], max: usize) -> (Vec<&[u8]>, Result<usize, FrameTooLong>) {
        let mut decoder = Lines::default();
        let mut frames = Vec::new();
        let mut pos = 0;
        loop {
            match decoder.decode(&input[pos..], max) {
                Ok(Some(span)) => {
                    frames.push(&input[pos + span.start..pos + span.end]);
                    pos += span.wire_len;
                }
                Ok(None) => return (frames, Ok(pos)),
                Err(e) => return (frames, Err(e)),
            }
        }
    }

    #[test]
    fn lines_keep_their_endings() {
        let (frames, rest) = decode_all(b"a\nbc\r\nd", 10);
        assert_eq!(frames, [&b"a\n"[..], b"bc\r\n"]);
        assert_eq!(rest, Ok(6));
    }

    #[test]
    fn the_limit_counts_content_not_the_ending() {
        assert_eq!(decode_all(b"abcd\r\n", 4).0, [b"abcd\r\n"]);
        assert!(decode_all(b"abcde\n", 4).1.is_err());
        // Up to max + 1 bytes may wait for their `\n`; one more is too long.
        assert_eq!(decode_all(b"abcd\r", 4).1, Ok(0));
        assert!(decode_all(b"abcd\rx", 4).1.is_err());
    }

    #[test]
    fn a_line_arriving_byte_by_byte_is_scanned_once() {
        let mut decoder = Lines::default();
        let line = b"hello world\n";
        for end in 1..line.len() {
            assert_eq!(decoder.decode(&line[..end], 64), Ok(None));
            assert_eq!(decoder.scanned, end);
        }
        let span = decoder.decode(line, 64).unwrap().unwrap();
        assert_eq!(span.wire_len, line.len());
        assert_eq!(decoder.scanned, 0);
    }

    #[test]
    fn split_line_ending_handles_every_ending() {
        assert_eq!(split_line_ending(b"a\r\n"), (&b"a"[..], &b"\r\n"[..]));
        assert_eq!(split_line_ending(b"a\n"), (&b"a"[..], &b"\n"[..]));
        assert_eq!(split_line_ending(b"a"), (&b"a"[..], &b""[..]));
        assert_eq!(split_line_ending(b"\r"), (&b"\r"[..], &b""[..]));
    }
}
