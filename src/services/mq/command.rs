//! The mq command line (SPEC 3.4): a dict with a `command` key, written as
//! JSON or in the Python-literal form the seed's clients send (what
//! `ast.literal_eval` reads), or the bare line `quit`.
//!
//! JSON goes through serde_json with a map visitor that keeps only the three
//! keys it needs, so the common line allocates nothing and its topic borrows
//! from the line; a repeated key overrides the earlier one, as in JSON and
//! Python. Other lines go through a small recursive-descent reader of Python
//! literals. Either way a topic written with escapes is decoded into the
//! connection's scratch buffer.
//!
//! The Python reader departs from Python in a few corners: it refuses
//! adjacent literals (`'a' 'b'`), triple quotes, `\N{...}` escapes and lone
//! surrogates, and lets unhashable dict keys and set items (`{[1]: 2}`) by.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use thiserror::Error;
use CommandError::{NotADict, TooDeep};

/// One parsed command; the topic borrows from the line, or from the scratch buffer when it had escapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    Subscribe { topic: &'a str },
    Unsubscribe { topic: &'a str },
    Send { topic: &'a str },
    Quit,
}

/// Why a line is not a command; the text is the reason sent to the client.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CommandError {
    #[error("invalid UTF-8")]
    InvalidUtf8,
    #[error("not a JSON or Python dict")]
    NotADict,
    #[error("nesting too deep")]
    TooDeep,
    #[error("missing 'command'")]
    MissingCommand,
    #[error("'command' must be a string")]
    CommandNotString,
    #[error("unknown command '{0}'")]
    UnknownCommand(String),
    #[error("missing 'topic'")]
    MissingTopic,
    #[error("'topic' must be a string")]
    TopicNotString,
    #[error("send needs a string 'msg'")]
    MsgNotString,
}

/// Containers nested deeper than this in a Python-form line are refused, so
/// the reader's recursion stays bounded.
const MAX_DEPTH: usize = 32;
/// How much of an unknown command is echoed back to the client.
const ECHO_CHARS: usize = 32;

/// Parses one line (without its line ending).
pub fn parse<'a>(line: &'a [u8], scratch: &'a mut String) -> Result<Command<'a>, CommandError> {
    if line == b"quit" {
        return Ok(Command::Quit);
    }
    let text = std::str::from_utf8(line).map_err(|_| CommandError::InvalidUtf8)?;
    // The seed's Python form is never JSON: not trying it spares a serde_json error, which allocates.
    let json = if may_be_json(text) {
        json_fields(text, scratch).ok()
    } else {
        None
    };
    let fields = match json {
        Some(fields) => fields,
        None => python_fields(text, scratch)?,
    };
    fields.into_command(scratch)
}

/// A value under one of the keys we read.
#[derive(Clone, Copy, Debug)]
enum Field<'a> {
    Text(&'a str),
    /// A string with escapes, decoded into the buffer it was read with.
    Decoded,
    NotText,
}

/// What a dict held under the keys we read. Escaped topics are decoded into
/// the caller's scratch; only keys and commands spelled with escapes land in
/// the buffers here, so they rarely allocate.
#[derive(Default)]
struct Fields<'a> {
    command: Option<Field<'a>>,
    topic: Option<Field<'a>>,
    msg: Option<Field<'a>>,
    key_buf: String,
    command_buf: String,
}

impl<'a> Fields<'a> {
    /// Reads the value of one entry with `read_value`, given the buffer an
    /// escaped string should be decoded into, and keeps it if we need it.
    fn entry<E>(
        &mut self,
        key: Field<'a>,
        scratch: &mut String,
        read_value: impl FnOnce(Option<&mut String>) -> Result<Field<'a>, E>,
    ) -> Result<(), E> {
        let name = match key {
            Field::Text(name) => name,
            Field::Decoded => self.key_buf.as_str(),
            Field::NotText => "",
        };
        let (slot, buf) = match name {
            "command" => (&mut self.command, Some(&mut self.command_buf)),
            "topic" => (&mut self.topic, Some(scratch)),
            "msg" => (&mut self.msg, None),
            _ => return read_value(None).map(drop),
        };
        *slot = Some(read_value(buf)?);
        Ok(())
    }

    fn into_command(self, scratch: &'a str) -> Result<Command<'a>, CommandError> {
        let name = match self.command {
            None => return Err(CommandError::MissingCommand),
            Some(Field::NotText) => return Err(CommandError::CommandNotString),
            Some(Field::Text(name)) => name,
            Some(Field::Decoded) => self.command_buf.as_str(),
        };
        if !matches!(name, "subscribe" | "unsubscribe" | "send") {
            let end = name
                .char_indices()
                .nth(ECHO_CHARS)
                .map_or(name.len(), |(at, _)| at);
            return Err(CommandError::UnknownCommand(name[..end].to_owned()));
        }
        let topic = match self.topic {
            None => return Err(CommandError::MissingTopic),
            Some(Field::NotText) => return Err(CommandError::TopicNotString),
            Some(Field::Text(topic)) => topic,
            Some(Field::Decoded) => scratch,
        };
        Ok(match (name, self.msg) {
            ("subscribe", _) => Command::Subscribe { topic },
            ("unsubscribe", _) => Command::Unsubscribe { topic },
            (_, Some(Field::Text(_) | Field::Decoded)) => Command::Send { topic },
            _ => return Err(CommandError::MsgNotString),
        })
    }
}

/// Whether the line may be a JSON object: one opens with `{"` or is `{}`.
fn may_be_json(text: &str) -> bool {
    let mut tokens = text.bytes().filter(|b| !b" \t\r\n".contains(b));
    tokens.next() == Some(b'{') && matches!(tokens.next(), Some(b'"' | b'}'))
}

fn json_fields<'a>(text: &'a str, scratch: &mut String) -> Result<Fields<'a>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let fields = (&mut de).deserialize_map(DictVisitor(scratch))?;
    de.end()?;
    Ok(fields)
}

/// Reads the top-level JSON object; holds the scratch for an escaped topic.
struct DictVisitor<'s>(&'s mut String);

impl<'de> Visitor<'de> for DictVisitor<'_> {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a dict")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key_seed(FieldSeed(Some(&mut fields.key_buf)))? {
            fields.entry(key, self.0, |buf| map.next_value_seed(FieldSeed(buf)))?;
        }
        Ok(fields)
    }
}

/// Reads any JSON value as a `Field`, decoding an escaped string into its
/// buffer, or dropping it when there is none (a `msg` only has to be a string).
struct FieldSeed<'s>(Option<&'s mut String>);

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = Field<'de>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Field<'de>, D::Error> {
        de.deserialize_any(self)
    }
}

macro_rules! not_text {
    ($($visit:ident($($ty:ty)?)),*) => {$(
        fn $visit<E: de::Error>(self, $(_: $ty)?) -> Result<Field<'de>, E> {
            Ok(Field::NotText)
        }
    )*};
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = Field<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Field<'de>, E> {
        Ok(Field::Text(text))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Field<'de>, E> {
        if let Some(buf) = self.0 {
            buf.clear();
            buf.push_str(text);
        }
        Ok(Field::Decoded)
    }

    not_text!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_unit()
    );

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::NotText)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::NotText)
    }
}

fn python_fields<'a>(text: &'a str, scratch: &mut String) -> Result<Fields<'a>, CommandError> {
    let mut reader = PyReader { text, pos: 0 };
    reader.skip_ws();
    if !reader.eat(b'{') {
        // Read it all the same, so that a deep non-dict says it is too deep.
        reader.value(0, None)?;
        return Err(NotADict);
    }
    let mut fields = Fields::default();
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
    fn value(&mut self, depth: usize, buf: Option<&mut String>) -> Result<Field<'a>, CommandError> {
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
        Ok(Field::NotText)
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
    ) -> Result<Field<'a>, CommandError> {
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
            return valid.then_some(Field::NotText).ok_or(NotADict);
        }
        if opening.raw || !body.contains('\\') {
            return Ok(Field::Text(body));
        }
        if let Some(out) = buf.as_deref_mut() {
            out.clear();
        }
        unescape(body, false, buf).map(|()| Field::Decoded)
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
    use super::*;
    use proptest::prelude::*;

    fn parsed(line: &str) -> Result<Command<'_>, CommandError> {
        // Leaked so that a topic decoded into the scratch outlives this call.
        parse(line.as_bytes(), Box::leak(Box::default()))
    }

    /// The topic of a line that must parse as a subscribe.
    fn subscribed(line: &str) -> &str {
        match parsed(line) {
            Ok(Command::Subscribe { topic }) => topic,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    fn error(line: &str) -> String {
        match parsed(line) {
            Ok(command) => panic!("{line:?} parsed as {command:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn reads_the_seed_form_json_and_quit() {
        let send = Ok(Command::Send { topic: "foo" });
        assert_eq!(
            parsed("{'command':'send', 'topic':'foo', 'msg':'blah'}"),
            send
        );
        assert_eq!(
            parsed(r#"{"command": "send", "topic": "foo", "msg": "m"}"#),
            send
        );
        assert_eq!(
            subscribed(r#"{"command": "subscribe", "topic": "foo"}"#),
            "foo"
        );
        let unsubscribe = Ok(Command::Unsubscribe { topic: "foo" });
        assert_eq!(
            parsed(r#" {"command":"unsubscribe","topic":"foo"} "#),
            unsubscribe
        );
        assert_eq!(
            parsed("{ 'command' : 'unsubscribe', 'topic': 'foo', }"),
            unsubscribe
        );
        assert_eq!(parsed("quit"), Ok(Command::Quit));
        assert_eq!(error(" quit"), "not a JSON or Python dict");
    }

    #[test]
    fn unescaped_topics_borrow_from_the_line() {
        for line in [
            &br#"{"command":"subscribe","topic":"foo"}"#[..],
            b"{'command':'subscribe','topic':'foo'}",
        ] {
            let mut scratch = String::new();
            let Ok(Command::Subscribe { topic }) = parse(line, &mut scratch) else {
                panic!()
            };
            assert!(line.as_ptr_range().contains(&topic.as_ptr()));
        }
    }

    #[test]
    fn field_order_extra_keys_and_duplicates() {
        for line in [
            r#"{"msg":"m","x":{"a":[1,2.5e3,null,true,{"b":"\""}]},"topic":"foo","command":"send"}"#,
            "{'msg':'m', 'x': {'a': [1, -2.5e3, None, True, (1,), {2, 3}, {1: b'x'}]}, 1: 'y', 'topic':'foo', 'command':'send'}",
            r#"{"command":"send","topic":"bar","msg":"m","topic":"foo"}"#,
            "{'command':'send','topic':'bar','msg':'m','topic':'foo'}",
            r#"{"command":3,"command":"send","topic":"f\u006f\u006f","msg":"m","topic":"foo"}"#,
            "{'command':3,'command':'send','topic':'f\\x6f\\x6f','msg':2,'msg':'m','topic':'foo'}",
        ] {
            assert_eq!(parsed(line), Ok(Command::Send { topic: "foo" }), "{line}");
        }
        assert_eq!(
            subscribed(r#"{"command":"subscribe","topic":"foo","msg":1}"#),
            "foo"
        );
        assert_eq!(
            subscribed("{'command':'subscribe','topic':'foo','msg':None}"),
            "foo"
        );
    }

    #[test]
    fn escapes_decode_to_the_same_topic() {
        for (line, topic) in [
            (r#"{"command":"subscribe","topic":"f\u006fo"}"#, "foo"),
            (r#"{"c\u006fmmand":"sub\u0073cribe","topic":"foo"}"#, "foo"),
            (r"{'command':'subscribe','topic':'f\x6fo'}", "foo"),
            (r"{'command':'subscribe','topic':u'f\157\u006f'}", "foo"),
            (r"{'c\x6fmmand':'sub\x73cribe','topic':'foo'}", "foo"),
            (r#"{'command':'subscribe','topic':"it's"}"#, "it's"),
            (r"{'command':'subscribe','topic':'it\'s'}", "it's"),
            (
                r#"{"command":"subscribe","topic":"say \"hi\""}"#,
                "say \"hi\"",
            ),
            (
                r#"{"command":"subscribe","topic":"日本\ud83d\ude00"}"#,
                "日本😀",
            ),
            (
                r"{'command':'subscribe','topic':'日本\U0001F600'}",
                "日本😀",
            ),
            (
                r"{'command':'subscribe','topic':'\a\b\f\n\r\t\v\0\777'}",
                "\x07\x08\x0c\n\r\t\x0b\0\u{1ff}",
            ),
            (r"{'command':'subscribe','topic':'a\qb\\'}", r"a\qb\"),
            (r"{'command':'subscribe','topic':r'a\'b'}", r"a\'b"),
        ] {
            assert_eq!(subscribed(line), topic, "{line}");
        }
    }

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
    fn each_reason() {
        assert_eq!(
            parse(b"{\"command\":\"\xff\"}", &mut String::new()),
            Err(CommandError::InvalidUtf8)
        );
        for (line, reason) in [
            ("[1]", "not a JSON or Python dict"),
            ("\"x\"", "not a JSON or Python dict"),
            ("3", "not a JSON or Python dict"),
            ("{1, 2}", "not a JSON or Python dict"),
            ("{'command':'send'", "not a JSON or Python dict"),
            ("{'a': 1} x", "not a JSON or Python dict"),
            (r#"{"a":1} x"#, "not a JSON or Python dict"),
            (r#"{"topic":"foo"}"#, "missing 'command'"),
            ("{'topic':'foo'}", "missing 'command'"),
            (
                r#"{"command":["send"],"topic":"foo"}"#,
                "'command' must be a string",
            ),
            (
                "{'command':b'send','topic':'foo'}",
                "'command' must be a string",
            ),
            (
                r#"{"command":"foo","topic":"foo"}"#,
                "unknown command 'foo'",
            ),
            ("{'command':'foo'}", "unknown command 'foo'"),
            (r#"{"command":"subscribe"}"#, "missing 'topic'"),
            ("{'command':'unsubscribe'}", "missing 'topic'"),
            (
                r#"{"command":"subscribe","topic":null}"#,
                "'topic' must be a string",
            ),
            (
                "{'command':'send','topic':b'foo','msg':'m'}",
                "'topic' must be a string",
            ),
            (
                r#"{"command":"send","topic":"foo"}"#,
                "send needs a string 'msg'",
            ),
            (
                "{'command':'send','topic':'foo','msg':1.5}",
                "send needs a string 'msg'",
            ),
            (
                "{'command':'send','topic':'foo','msg':b'm'}",
                "send needs a string 'msg'",
            ),
        ] {
            assert_eq!(error(line), reason, "{line}");
        }
        let long = format!("{{'command':'{}'}}", "é".repeat(40));
        assert_eq!(
            error(&long),
            format!("unknown command '{}'", "é".repeat(32))
        );
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

    /// Writes a string the way Python's repr does.
    fn python_repr(text: &str) -> String {
        let quote = if text.contains('\'') && !text.contains('"') {
            '"'
        } else {
            '\''
        };
        let mut out = String::from(quote);
        for c in text.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c == quote => out.extend(['\\', c]),
                c if c.is_control() || (c.is_whitespace() && c != ' ') => match u32::from(c) {
                    code @ ..=0xff => out.push_str(&format!("\\x{code:02x}")),
                    code @ ..=0xffff => out.push_str(&format!("\\u{code:04x}")),
                    code => out.push_str(&format!("\\U{code:08x}")),
                },
                c => out.push(c),
            }
        }
        out.push(quote);
        out
    }

    fn tricky_text() -> impl Strategy<Value = String> {
        let tricky = prop_oneof![
            any::<char>(),
            Just('\''),
            Just('"'),
            Just('\\'),
            Just('\n'),
            Just('\u{85}')
        ];
        proptest::collection::vec(tricky, 0..24).prop_map(String::from_iter)
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(line in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&line, &mut String::new());
        }

        #[test]
        fn literal_soup_never_panics(line in r#"[{}\[\]()'"\\:,. a-zA-Z0-9_+-]{0,80}"#) {
            let _ = parse(line.as_bytes(), &mut String::new());
        }

        #[test]
        fn topics_round_trip(topic in tricky_text(), msg in tricky_text()) {
            let json = serde_json::json!({"command": "send", "topic": &topic, "msg": &msg}).to_string();
            let python = format!("{{'command': 'send', 'topic': {}, 'msg': {}}}", python_repr(&topic), python_repr(&msg));
            for line in [json, python] {
                let mut scratch = String::new();
                let expected = Ok(Command::Send { topic: &topic });
                prop_assert_eq!(parse(line.as_bytes(), &mut scratch), expected, "{}", line);
            }
        }
    }
}
