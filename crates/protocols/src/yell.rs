//! yell (docs/PROTOCOLS.md §3.1), easynetwork's YellEchoServer (§0): every line comes back
//! upper-cased, with the ending it came with.
//!
//! ```python
//! async def handle(reader, writer):
//!     while line := await reader.readline():
//!         writer.write(line.upper())
//! ```

use percore::codec::Lines;
use percore::service::{Batch, Flow, Opening, Service};

#[derive(Debug, Default, Clone, Copy)]
pub struct Yell;

impl Service for Yell {
    type Decoder = Lines;
    type Session = ();

    fn open_session(&self, _: &mut Opening<'_>) {}

    /// Nothing is kept between lines: a connection may move (moving.rs).
    fn movable(&self, _: &()) -> bool {
        true
    }

    async fn serve(&self, _: &mut (), batch: &mut Batch<'_, Lines>) -> Flow {
        while let Some(line) = batch.next_request() {
            push_upper(line, batch.out());
            batch.served();
        }
        Flow::Continue
    }

    fn frame_too_long(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"ERR line too long\n");
    }
}

/// Appends `line` upper-cased as Python's `str.upper()` does for valid UTF-8
/// (`straße` becomes `STRASSE`); for any other bytes, only ASCII letters change.
pub fn push_upper(line: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(line);
    if line.is_ascii() {
        out[start..].make_ascii_uppercase();
        return;
    }
    match std::str::from_utf8(line) {
        Ok(text) => {
            out.truncate(start);
            let mut utf8 = [0u8; 4];
            for upper in text.chars().flat_map(char::to_uppercase) {
                out.extend_from_slice(upper.encode_utf8(&mut utf8).as_bytes());
            }
        }
        Err(_) => out[start..].make_ascii_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::push_upper;

    fn upper(line: &[u8]) -> Vec<u8> {
        let mut out = b"kept:".to_vec();
        push_upper(line, &mut out);
        out.split_off(5)
    }

    #[test]
    fn ascii_and_unicode_follow_python() {
        assert_eq!(upper(b"hello, world 1\r\n"), b"HELLO, WORLD 1\r\n");
        assert_eq!(upper("straße\n".as_bytes()), "STRASSE\n".as_bytes());
        assert_eq!(upper("ǆ ŉ ﬁ é\n".as_bytes()), "Ǆ ʼN FI É\n".as_bytes());
    }

    #[test]
    fn invalid_utf8_changes_only_ascii_letters() {
        assert_eq!(upper(b"ab\xff\xfecd\xc3\n"), b"AB\xff\xfeCD\xc3\n");
    }
}
