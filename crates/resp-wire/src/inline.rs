//! Inline requests (`SET k v\r\n`, what telnet and `redis-cli` pipes send):
//! a line split into words as redis' `sdssplitargs` splits it, quotes and
//! escapes undone. The words are copied out of the line, so they live in the
//! caller's scratch buffer; inline requests are rare, multibulk ones are not.
//!
//! The rules, `sdssplitargs`' to the byte:
//! - words are separated by C `isspace` bytes (space, `\t`, `\n`, `\v`, `\f`,
//!   `\r`), but only space, `\t`, `\n` and `\r` end an unquoted word: `a\vb`
//!   is one word;
//! - a quote may open anywhere in a word (`a"b c"` is `ab c`); a closing
//!   quote must be followed by a space byte or the line's end, else the
//!   quotes are unbalanced, as they are when the line ends inside them;
//! - within `"..."`: `\xHH` (two hex digits) is that byte; `\n`, `\r`, `\t`,
//!   `\b`, `\a` are those controls; a backslash before any other byte is that
//!   byte (`\"`, `\\`, `\z` is `z`);
//! - within `'...'`: `\'` is `'`, every other byte (backslash too) is itself.
//!
//! The line never holds a NUL: redis would not have found its end (see
//! `multibulk`), and neither does [`RespDecoder`](super::RespDecoder).

use super::ProtocolError;

/// Splits `line` (its ending removed) into words, appended to `scratch`; each
/// word's range in `scratch` is pushed to `spans`. On an error, what was
/// pushed is garbage for the caller to clear.
pub fn split_inline(
    line: &[u8],
    scratch: &mut Vec<u8>,
    spans: &mut Vec<(usize, usize)>,
) -> Result<(), ProtocolError> {
    let mut i = 0;
    loop {
        while line.get(i).is_some_and(|&b| is_c_space(b)) {
            i += 1;
        }
        if i == line.len() {
            return Ok(());
        }
        let start = scratch.len();
        i = word(line, i, scratch)?;
        spans.push((start, scratch.len()));
    }
}

/// Reads the word at `line[i]` into `scratch`; returns where reading stopped.
fn word(line: &[u8], mut i: usize, scratch: &mut Vec<u8>) -> Result<usize, ProtocolError> {
    enum In {
        Bare,
        Double,
        Single,
    }
    let mut state = In::Bare;
    loop {
        let byte = line.get(i).copied();
        match (&state, byte) {
            (In::Bare, None) => return Ok(i),
            (In::Bare, Some(b' ' | b'\n' | b'\r' | b'\t')) => return Ok(i + 1),
            (In::Bare, Some(b'"')) => state = In::Double,
            (In::Bare, Some(b'\'')) => state = In::Single,
            (In::Double | In::Single, None) => return Err(ProtocolError::UnbalancedQuotes),
            (In::Double, Some(b'"')) | (In::Single, Some(b'\'')) => {
                return match line.get(i + 1) {
                    Some(&next) if !is_c_space(next) => Err(ProtocolError::UnbalancedQuotes),
                    _ => Ok(i + 1),
                };
            }
            (In::Double, Some(b'\\')) => {
                if let Some(value) = hex_escape(line.get(i + 1..i + 4)) {
                    scratch.push(value);
                    i += 3;
                } else if let Some(&escaped) = line.get(i + 1) {
                    scratch.push(unescape(escaped));
                    i += 1;
                } else {
                    // A backslash last on the line stands for itself, and
                    // the quote is left open.
                    scratch.push(b'\\');
                }
            }
            (In::Single, Some(b'\\')) if line.get(i + 1) == Some(&b'\'') => {
                scratch.push(b'\'');
                i += 1;
            }
            (_, Some(other)) => scratch.push(other),
        }
        i += 1;
    }
}

/// `x` and two hex digits: the byte they spell.
fn hex_escape(escape: Option<&[u8]>) -> Option<u8> {
    let [b'x', high, low] = escape? else {
        return None;
    };
    let digit = |b: &u8| char::from(*b).to_digit(16);
    Some((digit(high)? * 16 + digit(low)?) as u8)
}

/// The byte a backslash escape (other than `\xHH`) stands for in `"..."`.
fn unescape(byte: u8) -> u8 {
    match byte {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    }
}

/// C's `isspace` in the C locale.
pub fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Appends `word` to an inline request so that `split_inline` gives it
/// back: bare when it is non-empty and holds only printable ASCII other than
/// quotes and backslashes, else in double quotes with `\xHH` escapes.
pub fn push_inline_word(word: &[u8], out: &mut Vec<u8>) {
    let plain = |b: &u8| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\');
    if !word.is_empty() && word.iter().all(plain) {
        out.extend_from_slice(word);
        return;
    }
    out.push(b'"');
    for &byte in word {
        if plain(&byte) || byte == b' ' || byte == b'\'' {
            out.push(byte);
        } else {
            let hex = b"0123456789abcdef";
            out.extend_from_slice(b"\\x");
            out.push(hex[usize::from(byte >> 4)]);
            out.push(hex[usize::from(byte & 15)]);
        }
    }
    out.push(b'"');
}
