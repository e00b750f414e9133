//! Routing one batch of resp commands over the shards, as pure state: no
//! executor, no channels. As in kv's `route.rs`, a round takes the batch's
//! commands in order: a command this shard can answer is answered at once,
//! the others are gathered per owner shard, and once the owners' replies
//! are back, [`RoundPlan::assemble`] puts every reply back in command order.
//!
//! Until the first command of a round goes to another shard, replies are
//! written straight to the batch's output (a one-shard server, or a batch of
//! local keys, never copies a reply). From then on they are kept in `local`
//! and placed by their slot. A command over several keys or shards becomes a
//! [`Slot::Merge`] followed by one slot per part; its parts' replies are
//! merged as [`Merge`] says.

use std::ops::Range;

use super::commands::Merge;
use super::protocol::write::{self, Proto};
use super::protocol::{parse_reply, Value};
use percore::codec::{begin_frame, end_frame, split_frame};
use percore::cross_shard::Ticket;

/// One connection's round, its buffers reused from round to round.
#[derive(Default)]
pub struct RoundPlan {
    /// Replies made on this shard once the round forwards.
    local: Vec<u8>,
    /// Where each reply comes from, in command order, once the round
    /// forwards.
    slots: Vec<Slot>,
    /// Commands gathered for each shard.
    pub outboxes: Vec<Vec<u8>>,
    /// Whether a command of this round has gone to another shard (or is
    /// merged from parts).
    forwarding: bool,
    /// Commands sent to other shards this round.
    forwarded: u64,
    /// The round's messages in flight, and then their replies, one per
    /// shard: kept here so that a round allocates neither.
    pub tickets: Vec<Option<Ticket>>,
    pub replies: Vec<OwnerReplies>,
}

/// Where one reply comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Slot {
    /// A reply in `local`.
    Local(Range<usize>),
    /// The next reply from this shard.
    Remote(usize),
    /// The next `parts` slots' replies, merged into one.
    Merge {
        merge: Merge,
        parts: usize,
        proto: Proto,
    },
}

impl RoundPlan {
    /// Starts a round over `shards` shards.
    pub fn begin(&mut self, shards: usize) {
        self.local.clear();
        self.slots.clear();
        self.outboxes.resize_with(shards, Vec::new);
        self.forwarding = false;
        self.forwarded = 0;
    }

    /// Whether the round has sent commands to other shards.
    pub fn forwarded(&self) -> u64 {
        self.forwarded
    }

    /// Whether the round has replies to assemble.
    pub fn is_forwarding(&self) -> bool {
        self.forwarding
    }

    /// Bytes of replies this round holds so far (for the output budget).
    pub fn held(&self) -> usize {
        self.local.len()
    }

    /// A reply made on this shard: `reply` writes it, to the batch's output
    /// or, once the round forwards, to its slot.
    pub fn here<R>(&mut self, out: &mut Vec<u8>, reply: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        if !self.forwarding {
            return reply(out);
        }
        let start = self.local.len();
        let result = reply(&mut self.local);
        self.slots.push(Slot::Local(start..self.local.len()));
        result
    }

    /// A command for shard `owner`: `encode` writes it (one frame's body)
    /// into the owner's outbox; `new_buffer` gives an empty outbox its buffer.
    pub fn forward(
        &mut self,
        owner: usize,
        new_buffer: impl FnOnce() -> Vec<u8>,
        encode: impl FnOnce(&mut Vec<u8>),
    ) {
        self.forwarding = true;
        self.forwarded += 1;
        let outbox = &mut self.outboxes[owner];
        if outbox.is_empty() {
            *outbox = new_buffer();
        }
        let start = begin_frame(outbox);
        encode(outbox);
        end_frame(outbox, start);
        self.slots.push(Slot::Remote(owner));
    }

    /// This shard's writes of the round did not reach the disk, and were
    /// taken back (`reason`): every reply kept here becomes the disk error
    /// (each is counted when assembled).
    pub fn fail_local(&mut self, reason: &str) {
        let mut local = Vec::with_capacity(self.local.len());
        for slot in &mut self.slots {
            if let Slot::Local(range) = slot {
                let start = local.len();
                disk_error(&mut local, reason);
                *range = start..local.len();
            }
        }
        self.local = local;
    }

    /// The next `parts` replies (made here or forwarded) merge into one.
    pub fn merge(&mut self, merge: Merge, parts: usize, proto: Proto) {
        self.forwarding = true;
        self.slots.push(Slot::Merge {
            merge,
            parts,
            proto,
        });
    }

    /// Appends every reply in command order, and counts each as served or
    /// failed (an error reply) with `count`.
    pub fn assemble(
        &self,
        replies: &mut [OwnerReplies],
        out: &mut Vec<u8>,
        mut count: impl FnMut(bool),
    ) {
        let mut slots = self.slots.iter();
        while let Some(slot) = slots.next() {
            let start = out.len();
            match slot {
                Slot::Local(range) => out.extend_from_slice(&self.local[range.clone()]),
                Slot::Remote(owner) => {
                    let reply = replies[*owner].next();
                    out.extend_from_slice(replies[*owner].get(reply));
                }
                Slot::Merge {
                    merge,
                    parts,
                    proto,
                } => {
                    // Where each part's reply lies, then the replies.
                    let mut places: Vec<(Option<usize>, Range<usize>)> = Vec::with_capacity(*parts);
                    for _ in 0..*parts {
                        places.push(match slots.next() {
                            Some(Slot::Local(range)) => (None, range.clone()),
                            Some(Slot::Remote(owner)) => (Some(*owner), replies[*owner].next()),
                            _ => (Some(usize::MAX), 0..0),
                        });
                    }
                    let gathered: Vec<&[u8]> = places
                        .into_iter()
                        .map(|(source, range)| match source {
                            None => &self.local[range],
                            Some(owner) => replies.get(owner).map_or(SHARD_GONE, |r| r.get(range)),
                        })
                        .collect();
                    merge_replies(*merge, &gathered, *proto, out);
                }
            }
            count(out.get(start) == Some(&b'-'));
        }
    }
}

/// resp's reply to a write that could not reach the disk (docs/PROTOCOLS.md §7.1).
fn disk_error(out: &mut Vec<u8>, reason: &str) {
    write::error(out, &format!("MISCONF disk: {reason}"));
}

/// Replaces every whole reply in `out` from `from` on with the disk error
/// (`reason`): they were made here, with writes that were taken back.
/// Returns how many were not errors already.
pub fn fail_replies(out: &mut Vec<u8>, from: usize, reason: &str) -> u64 {
    let (mut replies, mut were_fine, mut at) = (0, 0, from);
    while let Ok(Some(len)) = super::protocol::reply_len(&out[at..]) {
        if out[at] != b'-' {
            were_fine += 1;
        }
        replies += 1;
        at += len;
    }
    out.truncate(from);
    for _ in 0..replies {
        disk_error(out, reason);
    }
    were_fine
}

/// In place of a reply a shard did not send (it is gone).
const SHARD_GONE: &[u8] = b"-ERR the key's shard is unavailable\r\n";

/// Merges the replies of a command's parts into its one reply.
pub fn merge_replies(merge: Merge, parts: &[&[u8]], proto: Proto, out: &mut Vec<u8>) {
    if merge != Merge::Array {
        if let Some(error) = parts.iter().find(|part| part.first() == Some(&b'-')) {
            out.extend_from_slice(error);
            return;
        }
    }
    match merge {
        Merge::Array => {
            write::array_len(out, parts.len());
            parts.iter().for_each(|part| out.extend_from_slice(part));
        }
        Merge::Sum => {
            let sum: i64 = parts
                .iter()
                .filter_map(|part| match parse_reply(part) {
                    Ok(Some((Value::Int(n), _))) => Some(n),
                    _ => None,
                })
                .sum();
            write::int(out, sum);
        }
        Merge::AllOk => match parts.first() {
            Some(first) => out.extend_from_slice(first),
            None => write::ok(out),
        },
        Merge::Concat => {
            let mut total = 0;
            let mut bodies: Vec<&[u8]> = Vec::with_capacity(parts.len());
            for part in parts {
                if let Some((len, body)) = array_body(part) {
                    total += len;
                    bodies.push(body);
                }
            }
            write::array_len(out, total);
            bodies.iter().for_each(|body| out.extend_from_slice(body));
        }
        Merge::AnyNonNull => {
            let found: Vec<&&[u8]> = parts
                .iter()
                .filter(|part| {
                    !matches!(part.first(), Some(b'_') | None) && !part.starts_with(b"$-1")
                })
                .collect();
            match found.len() {
                0 => write::null(out, proto),
                n => out.extend_from_slice(found[pick(n)]),
            }
        }
        Merge::Last => out.extend_from_slice(parts.last().copied().unwrap_or_default()),
        Merge::Text => {
            let mut text = Vec::new();
            for part in parts {
                if let Ok(Some((Value::Bulk(Some(bytes)), _))) = parse_reply(part) {
                    text.extend_from_slice(bytes);
                }
            }
            write::verbatim(out, &text, proto);
        }
    }
}

/// An array reply's element count and the bytes after its header.
fn array_body(reply: &[u8]) -> Option<(usize, &[u8])> {
    let rest = reply.strip_prefix(b"*")?;
    let end = rest.iter().position(|&b| b == b'\r')?;
    let len = std::str::from_utf8(&rest[..end]).ok()?.parse().ok()?;
    Some((len, rest.get(end + 2..)?))
}

/// A number below `n`, at random enough for RANDOMKEY.
fn pick(n: usize) -> usize {
    use std::hash::{BuildHasher, RandomState};
    (RandomState::new().hash_one(n) % n as u64) as usize
}

/// The reply frames one owner sent back, read in order.
pub struct OwnerReplies {
    pub buffer: Vec<u8>,
    read: usize,
}

impl OwnerReplies {
    pub fn new(buffer: Vec<u8>) -> OwnerReplies {
        OwnerReplies { buffer, read: 0 }
    }

    /// Where the next reply (its frame's body) lies; empty when the owner
    /// sent none (it is gone).
    fn next(&mut self) -> Range<usize> {
        let rest = &self.buffer[self.read..];
        match split_frame(rest) {
            Some((body, after)) => {
                let start = self.read + (rest.len() - after.len() - body.len());
                self.read += rest.len() - after.len();
                start..start + body.len()
            }
            None => 0..0,
        }
    }

    /// The reply at `range` ([`OwnerReplies::next`]), or an error in place
    /// of a reply never sent.
    fn get(&self, range: Range<usize>) -> &[u8] {
        if range.is_empty() {
            SHARD_GONE
        } else {
            &self.buffer[range]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_commit_turns_every_reply_made_here_into_the_disk_error() {
        let mut out = b"+before\r\n".to_vec();
        let from = out.len();
        out.extend_from_slice(b"+OK\r\n:3\r\n-OOM full\r\n$2\r\nab\r\n");
        assert_eq!(fail_replies(&mut out, from, "full"), 3);
        assert_eq!(
            out,
            b"+before\r\n-MISCONF disk: full\r\n-MISCONF disk: full\r\n\
              -MISCONF disk: full\r\n-MISCONF disk: full\r\n"
                .to_vec()
        );

        // Once forwarding, the replies kept here fail; the owners' stand.
        let mut plan = RoundPlan::default();
        plan.begin(2);
        plan.forward(1, Vec::new, |body| body.extend_from_slice(b"x"));
        plan.here(&mut Vec::new(), write::ok);
        plan.fail_local("full");
        let mut owner = Vec::new();
        let start = begin_frame(&mut owner);
        owner.extend_from_slice(b"+OK\r\n");
        end_frame(&mut owner, start);
        let mut replies = [OwnerReplies::new(Vec::new()), OwnerReplies::new(owner)];
        let (mut out, mut failed) = (Vec::new(), 0);
        plan.assemble(&mut replies, &mut out, |f| failed += f as u32);
        assert_eq!(out, b"+OK\r\n-MISCONF disk: full\r\n".to_vec());
        assert_eq!(failed, 1);
    }
}
