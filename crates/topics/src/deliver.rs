//! How one message becomes each subscriber's bytes (docs/PROTOCOLS.md §6.3), on the
//! subscriber's shard. A message travels as its sender wrote it ([`Payload`]:
//! an mq line, or a resp PUBLISH's message); each form a subscriber may need
//! is made at most once per message and shard, into buffers reused from
//! message to message, and then copied into each subscriber's outbox:
//!
//! - an mq subscriber gets an mq sender's line as it came, and a resp
//!   message as the line `{"command": "send", "topic": T, "msg": m}` + `\n`
//!   (T and m JSON strings, invalid UTF-8 replaced by U+FFFD);
//! - a resp subscriber gets `message`, `pmessage` or `smessage` with the
//!   resp message, or an mq line's `msg` field, decoded once with mq's own
//!   command reader. RESP2 and RESP3 frames differ only in their first byte
//!   (`*` an array, `>` a push), so one frame serves both.

use super::command::{self, SendScratch};
use super::record::Payload;
use percore::codec::split_line_ending;
use percore::server::outbox::Outbox;
use percore_resp_wire::write;

/// The form a subscriber takes its messages in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// An mq connection: lines.
    Line,
    /// A resp connection speaking RESP2: arrays.
    Resp2,
    /// A resp connection speaking RESP3: push messages.
    Resp3,
    /// A resp connection in MONITOR: each message is written as it is
    /// (`resp/monitor.rs` made it a whole reply).
    Monitor,
}

/// One shard's buffers for the messages it delivers.
#[derive(Default)]
pub struct Renderer {
    /// The mq line of a resp message.
    line: Vec<u8>,
    line_made: bool,
    /// The resp message of an mq line.
    payload: Vec<u8>,
    /// None: not read yet; Some(false): the line has no `msg`.
    payload_read: Option<bool>,
    send_scratch: SendScratch,
    /// The resp frame being delivered.
    frame: Vec<u8>,
}

/// The kinds of resp frames a delivery makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Message,
    PMessage,
    SMessage,
}

impl Renderer {
    /// Forgets the forms made for the previous message.
    pub fn start(&mut self) {
        self.line_made = false;
        self.payload_read = None;
    }

    /// The message as an mq subscriber gets it.
    pub fn line<'a>(&'a mut self, topic: &[u8], payload: Payload<'a>) -> &'a [u8] {
        match payload {
            Payload::Line(line) => line,
            Payload::Message(message) => {
                if !self.line_made {
                    self.line.clear();
                    json_line(&mut self.line, topic, message);
                    self.line_made = true;
                }
                &self.line
            }
        }
    }

    /// Makes the resp frame of `kind` (the RESP2 form), for `pattern` if a
    /// pmessage; false if the message has nothing to give resp subscribers
    /// (an mq line without a string `msg`, which mq never passes on).
    pub fn frame(
        &mut self,
        kind: Kind,
        pattern: &[u8],
        topic: &[u8],
        payload: Payload<'_>,
    ) -> bool {
        let message = match payload {
            Payload::Message(message) => message,
            Payload::Line(line) => {
                if self.payload_read.is_none() {
                    let (content, _) = split_line_ending(line);
                    let msg = command::send_msg(content, &mut self.send_scratch);
                    self.payload.clear();
                    self.payload
                        .extend_from_slice(msg.unwrap_or_default().as_bytes());
                    self.payload_read = Some(msg.is_some());
                }
                if self.payload_read != Some(true) {
                    return false;
                }
                &self.payload
            }
        };
        let frame = &mut self.frame;
        frame.clear();
        let name: &[u8] = match kind {
            Kind::Message => b"message",
            Kind::PMessage => b"pmessage",
            Kind::SMessage => b"smessage",
        };
        write::array_len(frame, if kind == Kind::PMessage { 4 } else { 3 });
        write::bulk(frame, name);
        if kind == Kind::PMessage {
            write::bulk(frame, pattern);
        }
        write::bulk(frame, topic);
        write::bulk(frame, message);
        true
    }

    /// Queues the frame last made for a resp subscriber, in its protocol;
    /// false if its outbox has overflowed.
    pub fn push_frame(&mut self, outbox: &Outbox, format: Format) -> bool {
        if let Some(first) = self.frame.first_mut() {
            *first = if format == Format::Resp3 { b'>' } else { b'*' };
        }
        outbox.push(&self.frame)
    }
}

/// `{"command": "send", "topic": T, "msg": m}` and `\n`: a resp message as
/// an mq sender would have written it.
pub fn json_line(out: &mut Vec<u8>, topic: &[u8], msg: &[u8]) {
    out.extend_from_slice(b"{\"command\": \"send\", \"topic\": ");
    json_string(out, topic);
    out.extend_from_slice(b", \"msg\": ");
    json_string(out, msg);
    out.extend_from_slice(b"}\n");
}

/// `bytes` as a JSON string, escaped as serde_json escapes, each invalid
/// UTF-8 sequence replaced by U+FFFD as `String::from_utf8_lossy` does.
fn json_string(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        for &b in chunk.valid().as_bytes() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                0..=0x1f => {
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                }
                _ => out.push(b),
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn taken(outbox: &Outbox) -> Vec<u8> {
        let mut out = Vec::new();
        outbox.take(&mut out);
        outbox.written();
        out
    }

    #[test]
    fn a_resp_message_becomes_an_mq_line() {
        let mut line = Vec::new();
        json_line(&mut line, b"news", b"say \"hi\"\n\x01\xffok\xe9");
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "{\"command\": \"send\", \"topic\": \"news\", \"msg\": \"say \\\"hi\\\"\\n\\u0001\u{fffd}ok\u{fffd}\"}\n"
        );
    }

    #[test]
    fn an_mq_line_becomes_resp_frames_of_its_msg() {
        let mut renderer = Renderer::default();
        renderer.start();
        let line = Payload::Line(b"{'command':'send','topic':'t','msg':'a\\'b'}\r\n");
        assert!(renderer.frame(Kind::Message, b"", b"t", line));
        let outbox = Outbox::new(1 << 10);
        renderer.push_frame(&outbox, Format::Resp2);
        renderer.push_frame(&outbox, Format::Resp3);
        assert_eq!(
            taken(&outbox),
            b"*3\r\n$7\r\nmessage\r\n$1\r\nt\r\n$3\r\na'b\r\n>3\r\n$7\r\nmessage\r\n$1\r\nt\r\n$3\r\na'b\r\n"
        );
        assert!(renderer.frame(Kind::PMessage, b"t*", b"t", line));
        renderer.push_frame(&outbox, Format::Resp2);
        assert_eq!(
            taken(&outbox),
            b"*4\r\n$8\r\npmessage\r\n$2\r\nt*\r\n$1\r\nt\r\n$3\r\na'b\r\n"
        );
        assert_eq!(
            renderer.line(b"t", line),
            b"{'command':'send','topic':'t','msg':'a\\'b'}\r\n"
        );
        renderer.start();
        let message = Payload::Message(b"m");
        assert!(renderer.frame(Kind::SMessage, b"", b"s", message));
        renderer.push_frame(&outbox, Format::Resp3);
        assert_eq!(
            taken(&outbox),
            b">3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\nm\r\n"
        );
    }

    proptest! {
        #[test]
        fn json_strings_are_serde_jsons_of_the_lossy_text(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut ours = Vec::new();
            json_string(&mut ours, &bytes);
            let theirs = serde_json::to_string(&String::from_utf8_lossy(&bytes)).unwrap();
            prop_assert_eq!(String::from_utf8(ours).unwrap(), theirs);
        }
    }
}
