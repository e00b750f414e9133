//! A look ahead at the commands waiting in a connection's buffer, without
//! parsing them: the second word of each whole multibulk command (a GET's
//! or a SET's key), for a server to prefetch what those commands will
//! read before it serves the first. It is a hint and nothing more: it stops
//! at the first command that is not a plain, whole multibulk command
//! (inline, cut short, malformed), and the words it yields are never
//! checked against a command's key positions; the decoder
//! ([`RespDecoder`](crate::RespDecoder)) still reads every command.

/// The second word (arguments\[1\]) of each whole multibulk command at the
/// start of `buf`, in order; a command of one word yields nothing.
pub fn second_words(buf: &[u8]) -> SecondWords<'_> {
    SecondWords { rest: buf }
}

/// The iterator [`second_words`] returns.
pub struct SecondWords<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for SecondWords<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let (count, mut at) = header(self.rest, b'*', 0)?;
            let mut second = None;
            for i in 0..count {
                let (len, start) = header(self.rest, b'$', at)?;
                let end = start.checked_add(len)?;
                if self.rest.get(end..end.checked_add(2)?)? != b"\r\n" {
                    return None;
                }
                if i == 1 {
                    second = Some(&self.rest[start..end]);
                }
                at = end + 2;
            }
            self.rest = &self.rest[at..];
            if second.is_some() {
                return second;
            }
        }
    }
}

/// Reads `<marker><digits>\r\n` at `at`: the number, and where the next
/// byte is. Numbers past 9 digits are refused (no real command has them,
/// and the sum of positions cannot overflow).
fn header(buf: &[u8], marker: u8, at: usize) -> Option<(usize, usize)> {
    if *buf.get(at)? != marker {
        return None;
    }
    let mut value = 0usize;
    let mut i = at + 1;
    loop {
        match *buf.get(i)? {
            digit @ b'0'..=b'9' if i - at <= 9 => value = value * 10 + usize::from(digit - b'0'),
            b'\r' if i > at + 1 && buf.get(i + 1) == Some(&b'\n') => return Some((value, i + 2)),
            _ => return None,
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn yields_each_commands_second_word() {
        let buf = b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        let words: Vec<&[u8]> = second_words(buf).collect();
        assert_eq!(words, [&b"foo"[..], b"k"]);
    }

    #[test]
    fn stops_at_an_inline_or_unfinished_command() {
        let inline = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\nGET b\r\n*2\r\n$3\r\nGET\r\n$1\r\nc\r\n";
        assert_eq!(second_words(inline).collect::<Vec<_>>(), [&b"a"[..]]);
        let cut = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$5\r\nab";
        assert_eq!(second_words(cut).collect::<Vec<_>>(), [&b"a"[..]]);
        assert_eq!(
            second_words(b"*2\r\n$3\r\nGET\r\n$99999999999\r\n").count(),
            0
        );
        assert_eq!(second_words(b"*\r\n").count(), 0);
    }

    proptest! {
        /// Any bytes: it ends, never panics, and what it yields lies inside
        /// the buffer.
        #[test]
        fn any_bytes(buf in proptest::collection::vec(any::<u8>(), 0..256)) {
            for word in second_words(&buf) {
                let (start, end) = (buf.as_ptr() as usize, buf.as_ptr() as usize + buf.len());
                prop_assert!(word.as_ptr() as usize >= start && word.as_ptr() as usize + word.len() <= end);
            }
        }

        /// Well-formed commands: the second word of each, as encoded.
        #[test]
        fn well_formed(commands in proptest::collection::vec(
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 1..5), 0..8)
        ) {
            let mut buf = Vec::new();
            for words in &commands {
                crate::encode_command(words.iter().map(Vec::as_slice), &mut buf);
            }
            let expected: Vec<&[u8]> = commands.iter().filter_map(|w| w.get(1).map(Vec::as_slice)).collect();
            prop_assert_eq!(second_words(&buf).collect::<Vec<_>>(), expected);
        }
    }
}
