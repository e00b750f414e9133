//! The Python-literal form of a command line, what the Python original's clients send
//! and `ast.literal_eval` reads: a small recursive-descent reader of the
//! literals a line may hold. A repeated key overrides the earlier one, as in
//! Python; a str written with escapes is decoded into the buffer its key
//! asks for.
//!
//! The reader departs from Python in a few corners: it refuses adjacent
//! literals (`'a' 'b'`), triple quotes, `\N{...}` escapes and lone
//! surrogates, and lets unhashable dict keys and set items (`{[1]: 2}`) by.

use super::CommandError::{self, NotADict, TooDeep};
use super::{FieldValue, Fields};

/// Containers nested deeper than this in a Python-form line are refused, so
/// the reader's recursion stays bounded.
const MAX_DEPTH: usize = 32;

/// Reads the dict into `fields` (fresh, or asking for the `msg`).
pub(super) fn python_fields<'a>(
    text: &'a str,
    scratch: &mut String,
    mut fields: Fields<'a>,
) -> Result<Fields<'a>, CommandError> {
    let mut reader = PyReader { text, pos: 0 };
    reader.skip_ws();
    if !reader.eat(b'{') {
        // Read it all the same, so that a deep non-dict says it is too deep.
        reader.value(0, None)?;
        return Err(NotADict);
    }
    loop {
        reader.skip_ws();
        if reader.eat(b'}') {
            break;
        }
        let key = reader.value(1, Some(&mut fields.key_buf))?;
        reader.skip_ws();
        if !reader.eat(b':') {
            return Err(NotADict);
        }
        fields.entry(key, scratch, |buf| reader.value(1, buf))?;
        if reader.after_item(b'}')? {
            break;
        }
    }
    reader.skip_ws();
    if reader.pos != text.len() {
        return Err(NotADict);
    }
    Ok(fields)
}

/// The subset of `ast.literal_eval` a command line may use: str and bytes
/// literals, numbers, True/False/None, lists, tuples, sets and dicts.
struct PyReader<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> PyReader<'a> {
    fn rest(&self) -> &'a [u8] {
        self.text.as_bytes().get(self.pos..).unwrap_or_default()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.rest().first() == Some(&byte);
        self.pos += usize::from(found);
        found
    }

    fn skip_ws(&mut self) {
        self.pos += self
            .rest()
            .iter()
            .take_while(|b| b" \t\x0c\r\n".contains(b))
            .count();
    }

    /// After an item in a container: true at the closing bracket, false after a comma.
    fn after_item(&mut self, close: u8) -> Result<bool, CommandError> {
        self.skip_ws();
        if self.eat(b',') {
            Ok(false)
        } else if self.eat(close) {
            Ok(true)
        } else {
            Err(NotADict)
        }
    }

    /// Reads one literal; a str with escapes is decoded into `buf` if given.
    fn value(
        &mut self,
        depth: usize,
        buf: Option<&mut String>,
    ) -> Result<FieldValue<'a>, CommandError> {
        self.skip_ws();
        if let Some(opening) = self.string_opening() {
            return self.string(opening, buf);
        }
        let rest = self.rest();
        match rest.first().ok_or(NotADict)? {
            open @ (b'[' | b'(' | b'{') if depth < MAX_DEPTH => {
                self.pos += 1;
                self.container(*open, depth + 1)?;
            }
            b'[' | b'(' | b'{' => return Err(TooDeep),
            letter if letter.is_ascii_alphabetic() => {
                let len = rest
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                if !matches!(&rest[..len], b"True" | b"False" | b"None") {
                    return Err(NotADict);
                }
                self.pos += len;
            }
            _ => self.pos += number_len(rest).ok_or(NotADict)?,
        }
        Ok(FieldValue::NotText)
    }

    /// A list, tuple, set or dict after its opening bracket; the contents are only checked.
    fn container(&mut self, open: u8, depth: usize) -> Result<(), CommandError> {
        let close = match open {
            b'[' => b']',
            b'(' => b')',
            _ => b'}',
        };
        let mut is_dict = None;
        loop {
            self.skip_ws();
            if self.eat(close) {
                return Ok(());
            }
            self.value(depth, None)?;
            if open == b'{' {
                self.skip_ws();
                let pair = self.eat(b':');
                if *is_dict.get_or_insert(pair) != pair {
                    return Err(NotADict);
                }
                if pair {
                    self.value(depth, None)?;
                }
            }
            if self.after_item(close)? {
                return Ok(());
            }
        }
    }

    /// At a string literal, its opening: prefix and quote.
    fn string_opening(&self) -> Option<Opening> {
        let rest = self.rest();
        let prefix_len = rest
            .iter()
            .take(3)
            .position(|b| matches!(b, b'\'' | b'"'))?;
        let (_, raw, bytes) = STRING_PREFIXES
            .into_iter()
            .find(|(prefix, ..)| rest[..prefix_len].eq_ignore_ascii_case(prefix))?;
        Some(Opening {
            len: prefix_len + 1,
            quote: rest[prefix_len],
            raw,
            bytes,
        })
    }

    /// One string literal; it stays borrowed from the line unless it has escapes.
    fn string(
        &mut self,
        opening: Opening,
        mut buf: Option<&mut String>,
    ) -> Result<FieldValue<'a>, CommandError> {
        self.pos += opening.len;
        // A backslash shields the next character from closing the literal, even in a raw one.
        let mut len = 0;
        loop {
            match self.rest().get(len).ok_or(NotADict)? {
                b'\\' => len += 2,
                b'\n' | b'\r' => return Err(NotADict),
                byte if *byte == opening.quote => break,
                _ => len += 1,
            }
        }
        let body = self.text.get(self.pos..self.pos + len).ok_or(NotADict)?;
        self.pos += len + 1;
        if opening.bytes {
            let valid = body.is_ascii() && (opening.raw || unescape(body, true, None).is_ok());
            return valid.then_some(FieldValue::NotText).ok_or(NotADict);
        }
        if opening.raw || !body.contains('\\') {
            return Ok(FieldValue::Text(body));
        }
        if let Some(out) = buf.as_deref_mut() {
            out.clear();
        }
        unescape(body, false, buf).map(|()| FieldValue::Decoded)
    }
}

/// The string prefixes Python knows, with whether they make a literal raw, and bytes.
const STRING_PREFIXES: [(&[u8], bool, bool); 6] = [
    (b"", false, false),
    (b"u", false, false),
    (b"r", true, false),
    (b"b", false, true),
    (b"rb", true, true),
    (b"br", true, true),
];

struct Opening {
    len: usize,
    quote: u8,
    raw: bool,
    bytes: bool,
}

/// The length of the number `bytes` starts with: an int (decimal, 0x, 0o or
/// 0b), a float or an imaginary number, with an optional sign.
fn number_len(bytes: &[u8]) -> Option<usize> {
    // How many digits of `radix` start at `from`, with single underscores between them.
    let digits = |from: usize, radix: u32, leading_underscore: bool| {
        let is_digit = |at: usize| {
            bytes
                .get(at)
                .is_some_and(|b| char::from(*b).is_digit(radix))
        };
        let mut at = from;
        loop {
            if is_digit(at) {
                at += 1;
            } else if bytes.get(at) == Some(&b'_')
                && (at > from || leading_underscore)
                && is_digit(at + 1)
            {
                at += 2;
            } else {
                return at - from;
            }
        }
    };
    let mut start = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    if start == 1 {
        // Python takes `- 1` for `-1`.
        start += bytes[1..]
            .iter()
            .take_while(|b| b" \t\x0c".contains(b))
            .count();
    }
    let radix = match (bytes.get(start), bytes.get(start + 1).map(|b| b | 0x20)) {
        (Some(b'0'), Some(b'x')) => 16,
        (Some(b'0'), Some(b'o')) => 8,
        (Some(b'0'), Some(b'b')) => 2,
        _ => 10,
    };
    if radix != 10 {
        let len = digits(start + 2, radix, true);
        return (len > 0).then_some(start + 2 + len);
    }
    let whole = digits(start, 10, false);
    let mut end = start + whole;
    let has_point = bytes.get(end) == Some(&b'.');
    if has_point {
        end += 1 + digits(end + 1, 10, false);
    }
    if end == start + usize::from(has_point) {
        return None;
    }
    let has_exponent = matches!(bytes.get(end), Some(b'e' | b'E'));
    if has_exponent {
        let exponent_sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
        let exponent = digits(end + 1 + exponent_sign, 10, false);
        if exponent == 0 {
            return None;
        }
        end += 1 + exponent_sign + exponent;
    }
    if matches!(bytes.get(end), Some(b'j' | b'J')) {
        return Some(end + 1);
    }
    // Python refuses a non-zero int written with a leading zero, like `01`.
    let whole_digits = bytes.get(start..start + whole).unwrap_or_default();
    let octal_like = !has_point
        && !has_exponent
        && whole_digits.first() == Some(&b'0')
        && whole_digits.iter().any(|b| b"123456789".contains(b));
    (!octal_like).then_some(end)
}

/// Decodes a str literal's escapes, appending to `out` when given. An unknown
/// escape keeps its backslash, as Python does; bytes know no \u, \U or \N.
fn unescape(body: &str, bytes: bool, mut out: Option<&mut String>) -> Result<(), CommandError> {
    let mut push = |text: &str| {
        if let Some(out) = out.as_deref_mut() {
            out.push_str(text);
        }
    };
    let hex = |digits: Option<&str>| {
        let digits = digits.filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        let code = u32::from_str_radix(digits.ok_or(NotADict)?, 16);
        code.ok().and_then(char::from_u32).ok_or(NotADict)
    };
    let mut rest = body;
    while let Some(at) = rest.find('\\') {
        push(&rest[..at]);
        let after = &rest[at + 1..];
        let (decoded, len) = match after.chars().next().ok_or(NotADict)? {
            escape @ ('\\' | '\'' | '"') => (escape, 1),
            'a' => ('\x07', 1),
            'b' => ('\x08', 1),
            'f' => ('\x0c', 1),
            'n' => ('\n', 1),
            'r' => ('\r', 1),
            't' => ('\t', 1),
            'v' => ('\x0b', 1),
            '0'..='7' => {
                let len = after
                    .bytes()
                    .take(3)
                    .take_while(|b| (b'0'..=b'7').contains(b))
                    .count();
                let code = u32::from_str_radix(&after[..len], 8)
                    .ok()
                    .and_then(char::from_u32);
                (code.ok_or(NotADict)?, len)
            }
            'x' => (hex(after.get(1..3))?, 3),
            'u' if !bytes => (hex(after.get(1..5))?, 5),
            'U' if !bytes => (hex(after.get(1..9))?, 9),
            'N' if !bytes => return Err(NotADict),
            _ => ('\\', 0),
        };
        push(decoded.encode_utf8(&mut [0; 4]));
        rest = &after[len..];
    }
    push(rest);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{error, subscribed};

    #[test]
    fn python_literal_subset() {
        for value in [
            "0x_1f", "0o17", "0b1", "1_000", "00", "- 1", "+1.5e-3", "1.", ".5", "2j", "1e5J",
        ]
        .into_iter()
        .chain([
            "True",
            "None",
            "r'\\d'",
            "b'\\x00'",
            "Rb\"x\"",
            "()",
            "(1,)",
            "{1, 2}",
            "{}",
            "{(1, 'a'): []}",
        ]) {
            let line = format!("{{'x': {value}, 'command': 'subscribe', 'topic': 'foo'}}");
            assert_eq!(subscribed(&line), "foo", "{line}");
        }
        for value in [
            "01",
            "1_",
            "1__0",
            ".",
            "1e",
            "0x",
            "true",
            "b'é'",
            "ur'x'",
            "{1: 2, 3}",
            "[1 2]",
            "(,)",
        ]
        .into_iter()
        .chain(["'\\x4'", "'\\U00110000'", "'a\rb'", "'a", "f'x'"])
        // Python takes these two, but a Rust str cannot hold a lone surrogate,
        // and named escapes would need the Unicode name table.
        .chain(["'\\ud800'", "'\\N{EN DASH}'"])
        {
            let line = format!("{{'x': {value}, 'command': 'subscribe', 'topic': 'foo'}}");
            assert_eq!(error(&line), "not a JSON or Python dict", "{line}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error() {
        assert_eq!(
            error(&format!("{{'a':{}]}}", "[".repeat(40))),
            "nesting too deep"
        );
        for open in ["[", "{", "(", "{'a':", "{\"a\":["] {
            assert_eq!(error(&open.repeat(100_000)), "nesting too deep", "{open}");
        }
    }
}
