//! The items the shards' brokers send each other over the cross-shard lanes,
//! many to a message: `[tag][name len u32][name][body len u32][body]`,
//! lengths in little endian. Only percore writes them, but they are read
//! defensively: a short buffer or an unknown tag ends the iteration instead
//! of panicking.

/// A name space of subscriptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// mq's topics, which are resp's channels (docs/PROTOCOLS.md §6.3).
    Channel,
    /// resp's shard channels (SSUBSCRIBE, SPUBLISH): a space of their own.
    Shard,
    /// resp's patterns (PSUBSCRIBE), matched against channels.
    Pattern,
}

/// A message as its sender gave it: each subscriber's bytes are made from
/// it on the subscriber's shard, in the subscriber's protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// An mq sender's line, ending included: what mq subscribers get as is.
    Line(&'a [u8]),
    /// A resp PUBLISH's message: what resp subscribers get as is.
    Message(&'a [u8]),
}

/// One item on a lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record<'a> {
    /// To the topic's owner: an mq sender's line, to fan out.
    Publish { topic: &'a [u8], line: &'a [u8] },
    /// To the name's owner (every shard, for a pattern): the sender shard
    /// has `delta` more subscriptions to `name`.
    Interest {
        space: Space,
        name: &'a [u8],
        delta: i32,
    },
    /// From the owner: a message for this shard's subscribers of `topic`
    /// (and, on a channel, of the patterns that match it). With `report`,
    /// the receiving shard answers with a [`Record::Report`] carrying it
    /// (resp's messages only: an mq line is never reported).
    Deliver {
        space: Space,
        topic: &'a [u8],
        payload: Payload<'a>,
        report: Option<u32>,
    },
    /// Back to the shard that sent a reported delivery, once it is in the
    /// subscribers' outboxes: how many subscriptions it reached
    /// (`reports.rs`). Reports from one shard come in the order of its
    /// deliveries.
    Report { token: u32, count: u64 },
}

const PUBLISH: u8 = 0;
const INTEREST_CHANNEL: u8 = 1;
const INTEREST_SHARD: u8 = 2;
const INTEREST_PATTERN: u8 = 3;
const DELIVER_LINE: u8 = 4;
const DELIVER_CHANNEL_MESSAGE: u8 = 5;
const DELIVER_SHARD_MESSAGE: u8 = 6;
const DELIVER_CHANNEL_MESSAGE_REPORTED: u8 = 7;
const DELIVER_SHARD_MESSAGE_REPORTED: u8 = 8;
const REPORT: u8 = 9;

impl Record<'_> {
    /// Appends the record to a lane message.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let delta_bytes;
        let (token_bytes, count_bytes);
        let (tag, name, body): (u8, &[u8], &[u8]) = match *self {
            Record::Publish { topic, line } => (PUBLISH, topic, line),
            Record::Interest { space, name, delta } => {
                delta_bytes = delta.to_le_bytes();
                let tag = match space {
                    Space::Channel => INTEREST_CHANNEL,
                    Space::Shard => INTEREST_SHARD,
                    Space::Pattern => INTEREST_PATTERN,
                };
                (tag, name, &delta_bytes)
            }
            Record::Deliver {
                space,
                topic,
                payload,
                report,
            } => match (space, payload, report) {
                (_, Payload::Line(line), _) => (DELIVER_LINE, topic, line),
                (Space::Shard, Payload::Message(message), None) => {
                    (DELIVER_SHARD_MESSAGE, topic, message)
                }
                (_, Payload::Message(message), None) => (DELIVER_CHANNEL_MESSAGE, topic, message),
                (space, Payload::Message(message), Some(token)) => {
                    let tag = if space == Space::Shard {
                        DELIVER_SHARD_MESSAGE_REPORTED
                    } else {
                        DELIVER_CHANNEL_MESSAGE_REPORTED
                    };
                    // The token goes before the name: `[tag][token][name][body]`.
                    out.push(tag);
                    out.extend_from_slice(&token.to_le_bytes());
                    push_fields(out, topic, message);
                    return;
                }
            },
            Record::Report { token, count } => {
                token_bytes = token.to_le_bytes();
                count_bytes = count.to_le_bytes();
                (REPORT, &token_bytes[..], &count_bytes[..])
            }
        };
        out.push(tag);
        push_fields(out, name, body);
    }
}

fn push_fields(out: &mut Vec<u8>, name: &[u8], body: &[u8]) {
    for field in [name, body] {
        out.extend_from_slice(&(field.len() as u32).to_le_bytes());
        out.extend_from_slice(field);
    }
}

/// The records of one lane message, in order.
pub fn records(mut message: &[u8]) -> impl Iterator<Item = Record<'_>> {
    std::iter::from_fn(move || {
        let (&tag, mut rest) = message.split_first()?;
        let mut token = None;
        if tag == DELIVER_CHANNEL_MESSAGE_REPORTED || tag == DELIVER_SHARD_MESSAGE_REPORTED {
            let (bytes, after) = rest.split_first_chunk::<4>()?;
            token = Some(u32::from_le_bytes(*bytes));
            rest = after;
        }
        let (name, rest) = field(rest)?;
        let (body, rest) = field(rest)?;
        message = rest;
        let interest = |space| {
            let delta = i32::from_le_bytes(body.try_into().ok()?);
            Some(Record::Interest { space, name, delta })
        };
        let deliver = |space, payload| Record::Deliver {
            space,
            topic: name,
            payload,
            report: token,
        };
        Some(match tag {
            PUBLISH => Record::Publish {
                topic: name,
                line: body,
            },
            INTEREST_CHANNEL => interest(Space::Channel)?,
            INTEREST_SHARD => interest(Space::Shard)?,
            INTEREST_PATTERN => interest(Space::Pattern)?,
            DELIVER_LINE => deliver(Space::Channel, Payload::Line(body)),
            DELIVER_CHANNEL_MESSAGE => deliver(Space::Channel, Payload::Message(body)),
            DELIVER_SHARD_MESSAGE => deliver(Space::Shard, Payload::Message(body)),
            DELIVER_CHANNEL_MESSAGE_REPORTED => deliver(Space::Channel, Payload::Message(body)),
            DELIVER_SHARD_MESSAGE_REPORTED => deliver(Space::Shard, Payload::Message(body)),
            REPORT => Record::Report {
                token: u32::from_le_bytes(name.try_into().ok()?),
                count: u64::from_le_bytes(body.try_into().ok()?),
            },
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
                space: Space::Channel,
                name: b"t",
                delta: 1,
            },
            Record::Publish {
                topic: b"t",
                line: b"{'command':'send'}\n",
            },
            Record::Deliver {
                space: Space::Channel,
                topic: "\u{e9}".as_bytes(),
                payload: Payload::Line(b"x\r\n"),
                report: None,
            },
            Record::Deliver {
                space: Space::Channel,
                topic: b"\xff",
                payload: Payload::Message(b"m\0"),
                report: None,
            },
            Record::Deliver {
                space: Space::Channel,
                topic: b"k",
                payload: Payload::Message(b"ev"),
                report: Some(7),
            },
            Record::Report {
                token: u32::MAX,
                count: 3,
            },
            Record::Deliver {
                space: Space::Shard,
                topic: b"s",
                payload: Payload::Message(b""),
                report: Some(0),
            },
            Record::Interest {
                space: Space::Pattern,
                name: b"p*",
                delta: -1,
            },
            Record::Interest {
                space: Space::Shard,
                name: b"s",
                delta: 1,
            },
        ];
        let mut message = Vec::new();
        sent.iter().for_each(|r| r.encode(&mut message));
        assert_eq!(records(&message).collect::<Vec<_>>(), sent);
        // A cut message yields the whole records before the cut, no more.
        assert_eq!(records(&message[..message.len() - 1]).count(), 8);
        // So does an unknown tag.
        message[0] = 99;
        assert_eq!(records(&message).count(), 0);
    }
}
