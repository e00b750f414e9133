//! The lines of a load run's mq connections: the commands they write, and
//! what a subscriber makes of the `msg` of a delivered line.

use crate::drivers::ReplyBuffer;

/// What a subscriber makes of a delivered line's `msg`.
pub(super) enum Delivery {
    Hello,
    Message {
        publisher: usize,
        seq: u64,
        nanos: u64,
    },
    End {
        publisher: usize,
        count: u64,
    },
    Malformed,
}

impl Delivery {
    pub(super) fn parse(msg: Option<&[u8]>) -> Delivery {
        let Some(text) = msg.and_then(|m| std::str::from_utf8(m).ok()) else {
            return Delivery::Malformed;
        };
        let mut words = text.split(' ');
        let first = words.next().unwrap_or("");
        if first == "hello" {
            return Delivery::Hello;
        }
        let (Ok(publisher), Some(second), Some(third)) =
            (first.parse(), words.next(), words.next())
        else {
            return Delivery::Malformed;
        };
        match (second, third.parse(), second.parse()) {
            ("end", Ok(count), _) => Delivery::End { publisher, count },
            (_, Ok(nanos), Ok(seq)) => Delivery::Message {
                publisher,
                seq,
                nanos,
            },
            _ => Delivery::Malformed,
        }
    }
}

/// Appends `{"command":"<command>","topic":"t<topic>"[,"msg":"<msg>"]}\n`.
/// Messages are ours: digits, words and padding, nothing to escape.
pub(super) fn push_command(
    out: &mut Vec<u8>,
    command: &str,
    topic: usize,
    msg: Option<std::fmt::Arguments>,
) {
    use std::io::Write as _;
    let _ = write!(out, "{{\"command\":\"{command}\",\"topic\":\"t{topic}\"");
    if let Some(msg) = msg {
        let _ = write!(out, ",\"msg\":\"{msg}\"");
    }
    out.extend_from_slice(b"}\n");
}

/// Hands every complete line in the inbox to `each`, then consumes them.
pub(super) fn for_each_line(inbox: &mut ReplyBuffer, mut each: impl FnMut(&[u8])) {
    let data = inbox.data();
    let mut used = 0;
    for end in memchr::memchr_iter(b'\n', data) {
        each(&data[used..=end]);
        used = end + 1;
    }
    inbox.consume(used);
}

/// The `msg` text of a line we wrote.
pub(super) fn msg_of(line: &[u8]) -> Option<&[u8]> {
    let start = memchr::memmem::find(line, b"\"msg\":\"")? + 7;
    let len = memchr::memchr(b'"', &line[start..])?;
    Some(&line[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_parse_back() {
        let mut line = Vec::new();
        push_command(&mut line, "send", 2, Some(format_args!("7 41 123456 xx")));
        assert_eq!(
            line,
            b"{\"command\":\"send\",\"topic\":\"t2\",\"msg\":\"7 41 123456 xx\"}\n"
        );
        assert!(matches!(
            Delivery::parse(msg_of(&line)),
            Delivery::Message {
                publisher: 7,
                seq: 41,
                nanos: 123456
            }
        ));
        assert!(matches!(
            Delivery::parse(Some(b"3 end 90")),
            Delivery::End {
                publisher: 3,
                count: 90
            }
        ));
        assert!(matches!(Delivery::parse(Some(b"hello 4")), Delivery::Hello));
        assert!(matches!(Delivery::parse(Some(b"zzz")), Delivery::Malformed));
    }
}
