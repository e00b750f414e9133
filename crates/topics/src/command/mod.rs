//! The mq command line (docs/PROTOCOLS.md §3.4): a dict with a `command` key, written as
//! JSON or in the Python-literal form the Python original's clients send (what
//! `ast.literal_eval` reads), or the bare line `quit`.
//!
//! This module gives a command its meaning; `json` and `python` read the two
//! forms into the same `Fields`, keeping only the three keys a command needs. Either way a topic written with escapes is decoded into the
//! connection's scratch buffer.

mod http;
mod json;
mod python;

use thiserror::Error;

/// One parsed command; the topic borrows from the line, or from the scratch buffer when it had escapes.
/// `Http` is a line of an HTTP request (`http`): the connection is closed, so
/// nothing after it (a body that holds a command) runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    Subscribe { topic: &'a str },
    Unsubscribe { topic: &'a str },
    Send { topic: &'a str },
    Quit,
    Http,
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

/// How much of an unknown command is echoed back to the client.
const ECHO_CHARS: usize = 32;

/// Parses one line (without its line ending).
pub fn parse<'a>(line: &'a [u8], scratch: &'a mut String) -> Result<Command<'a>, CommandError> {
    if line == b"quit" {
        return Ok(Command::Quit);
    }
    let parsed = std::str::from_utf8(line)
        .map_err(|_| CommandError::InvalidUtf8)
        .and_then(move |text| fields(text, scratch, None)?.into_command(scratch));
    match parsed {
        // Looked for only among lines that are not commands: no cost to
        // the lines that are.
        Err(_) if http::is_http_line(line) => Ok(Command::Http),
        parsed => parsed,
    }
}

/// Reads a line's dict in whichever form it is written; with `msg_buf`, an
/// escaped `msg` is decoded into it (it comes back in the fields).
fn fields<'a>(
    text: &'a str,
    scratch: &mut String,
    mut msg_buf: Option<String>,
) -> Result<Fields<'a>, CommandError> {
    let want_msg = msg_buf.is_some();
    let mut fresh = || Fields {
        want_msg,
        msg_buf: msg_buf.take().unwrap_or_default(),
        ..Fields::default()
    };
    // The Python-literal form is never JSON: not trying it spares a serde_json error, which allocates.
    let json = if json::may_be_json(text) {
        json::json_fields(text, scratch, fresh()).ok()
    } else {
        None
    };
    match json {
        Some(fields) => Ok(fields),
        None => python::python_fields(text, scratch, fresh()),
    }
}

/// Buffers that [`send_msg`] decodes escaped strings into, reused from line
/// to line.
#[derive(Default)]
pub struct SendScratch {
    topic: String,
    msg: String,
}

/// The `msg` of a send line (without its ending), its escapes decoded: what
/// resp subscribers of the topic receive (docs/PROTOCOLS.md §6.3). None unless the line's
/// `msg` is a string. Read once per message and shard, not per subscriber.
pub fn send_msg<'a>(line: &'a [u8], scratch: &'a mut SendScratch) -> Option<&'a str> {
    let text = std::str::from_utf8(line).ok()?;
    let msg_buf = std::mem::take(&mut scratch.msg);
    let mut fields = fields(text, &mut scratch.topic, Some(msg_buf)).ok()?;
    std::mem::swap(&mut scratch.msg, &mut fields.msg_buf);
    match fields.msg? {
        FieldValue::Text(msg) => Some(msg),
        FieldValue::Decoded => Some(scratch.msg.as_str()),
        FieldValue::NotText => None,
    }
}

/// A value under one of the keys we read.
#[derive(Clone, Copy, Debug)]
enum FieldValue<'a> {
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
    command: Option<FieldValue<'a>>,
    topic: Option<FieldValue<'a>>,
    msg: Option<FieldValue<'a>>,
    key_buf: String,
    command_buf: String,
    /// Whether an escaped `msg` is decoded (into `msg_buf`), or only checked.
    want_msg: bool,
    msg_buf: String,
}

impl<'a> Fields<'a> {
    /// Reads the value of one entry with `read_value`, given the buffer an
    /// escaped string should be decoded into, and keeps it if we need it.
    fn entry<E>(
        &mut self,
        key: FieldValue<'a>,
        scratch: &mut String,
        read_value: impl FnOnce(Option<&mut String>) -> Result<FieldValue<'a>, E>,
    ) -> Result<(), E> {
        let name = match key {
            FieldValue::Text(name) => name,
            FieldValue::Decoded => self.key_buf.as_str(),
            FieldValue::NotText => "",
        };
        let (slot, buf) = match name {
            "command" => (&mut self.command, Some(&mut self.command_buf)),
            "topic" => (&mut self.topic, Some(scratch)),
            "msg" => (&mut self.msg, self.want_msg.then_some(&mut self.msg_buf)),
            _ => return read_value(None).map(drop),
        };
        *slot = Some(read_value(buf)?);
        Ok(())
    }

    fn into_command(self, scratch: &'a str) -> Result<Command<'a>, CommandError> {
        let name = match self.command {
            None => return Err(CommandError::MissingCommand),
            Some(FieldValue::NotText) => return Err(CommandError::CommandNotString),
            Some(FieldValue::Text(name)) => name,
            Some(FieldValue::Decoded) => self.command_buf.as_str(),
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
            Some(FieldValue::NotText) => return Err(CommandError::TopicNotString),
            Some(FieldValue::Text(topic)) => topic,
            Some(FieldValue::Decoded) => scratch,
        };
        Ok(match (name, self.msg) {
            ("subscribe", _) => Command::Subscribe { topic },
            ("unsubscribe", _) => Command::Unsubscribe { topic },
            (_, Some(FieldValue::Text(_) | FieldValue::Decoded)) => Command::Send { topic },
            _ => return Err(CommandError::MsgNotString),
        })
    }
}

#[cfg(test)]
mod tests;
