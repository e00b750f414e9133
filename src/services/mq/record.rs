//! The items mq's shards send each other over the cross-shard lanes, many to
//! a message: `[tag][topic len u32][topic][line len u32][line]`, lengths in
//! little endian. Only percore writes them, but they are read defensively: a
//! short buffer ends the iteration instead of panicking.

use super::topics::Change;

/// One item on a lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record<'a> {
    /// To the topic's owner: a sender's line, to fan out.
    Publish { topic: &'a str, line: &'a [u8] },
    /// To the topic's owner: the sender shard's first or last subscriber.
    Interest { topic: &'a str, change: Change },
    /// From the owner: a line for this shard's subscribers of the topic.
    Deliver { topic: &'a str, line: &'a [u8] },
}

const PUBLISH: u8 = 0;
const FIRST: u8 = 1;
const LAST: u8 = 2;
const DELIVER: u8 = 3;

impl Record<'_> {
    /// Appends the record to a lane message.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let (tag, topic, line): (u8, &str, &[u8]) = match *self {
            Record::Publish { topic, line } => (PUBLISH, topic, line),
            Record::Interest { topic, change } => match change {
                Change::First => (FIRST, topic, b""),
                Change::Last => (LAST, topic, b""),
                Change::None => return,
            },
            Record::Deliver { topic, line } => (DELIVER, topic, line),
        };
        out.push(tag);
        for field in [topic.as_bytes(), line] {
            out.extend_from_slice(&(field.len() as u32).to_le_bytes());
            out.extend_from_slice(field);
        }
    }
}

/// The records of one lane message, in order.
pub fn records(mut message: &[u8]) -> impl Iterator<Item = Record<'_>> {
    std::iter::from_fn(move || {
        let (&tag, rest) = message.split_first()?;
        let (topic, rest) = field(rest)?;
        let (line, rest) = field(rest)?;
        message = rest;
        let topic = std::str::from_utf8(topic).ok()?;
        Some(match tag {
            PUBLISH => Record::Publish { topic, line },
            FIRST => Record::Interest {
                topic,
                change: Change::First,
            },
            LAST => Record::Interest {
                topic,
                change: Change::Last,
            },
            DELIVER => Record::Deliver { topic, line },
            _ => return None,
        })
    })
}

fn field(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<4>()?;
    let len = u32::from_le_bytes(*len) as usize;
    (rest.len() >= len).then(|| rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_in_order() {
        let sent = [
            Record::Interest {
                topic: "t",
                change: Change::First,
            },
            Record::Publish {
                topic: "t",
                line: b"{'command':'send'}\n",
            },
            Record::Deliver {
                topic: "\u{e9}",
                line: b"x\r\n",
            },
            Record::Interest {
                topic: "t",
                change: Change::Last,
            },
        ];
        let mut message = Vec::new();
        sent.iter().for_each(|r| r.encode(&mut message));
        assert_eq!(records(&message).collect::<Vec<_>>(), sent);
        // A cut message yields the whole records before the cut, no more.
        assert_eq!(records(&message[..message.len() - 1]).count(), 3);
    }
}
