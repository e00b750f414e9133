//! Routing one batch of kv requests over the shards, as pure state: no
//! executor, no channels, so it is unit-tested as it is. A round takes the
//! batch's requests in order; a request for a key this shard owns is
//! answered at once, the others are gathered per owner (as they came off the
//! wire), and once the owners' replies are back, [`RoundPlan::assemble`] puts
//! every reply back in request order. Sending and waiting is the service's
//! part (`mod.rs`).
//!
//! A round ends early when its replies could pass the batch's output budget:
//! local replies are measured, and forwarded replies of unknown size (Get,
//! ListKeys) are counted, so one batch never holds more than about the budget
//! plus [`UNSIZED_REPLIES_PER_ROUND`] values. Tested in `route_tests.rs`.

use std::ops::Range;

use super::durable::log::ShardLog;
use super::handle::{apply, push_keys_frame, Outcome};
use super::protocol::{decode_request, push_error_frame, str_array, Request};
use percore::codec::{encode_frame, split_frame, LengthPrefixed};
use percore::cross_shard::{owner_of, Ticket};
use percore::service::Batch;
use percore_keyspace::write::Keys;
use percore_keyspace::SharedStore;

/// Forwarded Gets (or one ListKeys) per round: their replies' size is only
/// known once they come back, and a Get may return a value as long as
/// `--max-frame`.
pub(super) const UNSIZED_REPLIES_PER_ROUND: usize = 32;

/// One connection's round, its buffers reused from round to round.
#[derive(Default)]
pub struct RoundPlan {
    /// Replies made on this shard, in order.
    local: Vec<u8>,
    /// Where each request's reply will come from, in request order.
    slots: Vec<ReplySource>,
    /// Requests gathered for each other shard.
    pub(super) outboxes: Vec<Vec<u8>>,
    /// The round's messages in flight, and then their replies, one per
    /// shard: kept here so that a round allocates neither.
    pub(super) tickets: Vec<Option<Ticket>>,
    pub(super) replies: Vec<OwnerReplies>,
}

/// Where one request's reply comes from.
#[derive(Debug, PartialEq, Eq)]
enum ReplySource {
    /// A reply in `local`.
    Local(Range<usize>),
    /// The next reply from this shard.
    Remote(usize),
    /// ListKeys: this shard's keys (an array frame in `local`) merged with
    /// the next reply of every other shard.
    Gather(Range<usize>),
    /// A ListKeys whose part here failed: the error in `local`, and the
    /// next reply of every other shard dropped.
    GatherFailed(Range<usize>),
}

/// The shard a round runs on, and what its own keys' requests run against.
#[derive(Clone, Copy)]
pub(super) struct Here<'a> {
    pub store: &'a SharedStore,
    pub log: Option<&'a ShardLog>,
    /// The round's time, ms since the epoch, read once for it.
    pub now: u64,
    pub here: usize,
    pub shards: usize,
}

/// How a round of a sharded batch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Round {
    /// Every request left (or the batch's output budget) was reached.
    Whole,
    /// Cut short so its replies stay bounded: requests may remain.
    Cut,
}

/// What a planned round holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Planned {
    pub round: Round,
    /// Requests gathered for other shards (a ListKeys counts once).
    pub forwarded: u64,
}

impl RoundPlan {
    /// Takes the batch's requests until the batch or the round is done.
    /// `new_buffer` gives an owner's outbox its buffer (from the mesh's pool,
    /// the message's protocol tag in place).
    pub(super) fn plan(
        &mut self,
        batch: &mut Batch<'_, LengthPrefixed>,
        shard: Here<'_>,
        mut new_buffer: impl FnMut() -> Vec<u8>,
    ) -> Planned {
        let Here {
            store,
            log,
            now,
            here,
            shards,
        } = shard;
        let RoundPlan {
            local,
            slots,
            outboxes,
            ..
        } = self;
        local.clear();
        slots.clear();
        outboxes.resize_with(shards, Vec::new);
        let mut forward = |outbox: &mut Vec<u8>, frame: &[u8]| {
            if outbox.capacity() == 0 {
                *outbox = new_buffer();
            }
            encode_frame(frame, outbox);
        };

        let mut round = Round::Whole;
        let mut forwarded = 0;
        let mut unsized_replies = 0;
        loop {
            // A round takes at least one request; past the batch's budget,
            // next_request itself stops.
            let full =
                local.len() >= batch.output_room() || unsized_replies >= UNSIZED_REPLIES_PER_ROUND;
            if full && !slots.is_empty() {
                round = Round::Cut;
                break;
            }
            let Some(frame) = batch.next_request() else {
                break;
            };
            let start = local.len();
            let request = match decode_request(frame) {
                Ok(request) => request,
                Err(error) => {
                    push_error_frame(local, &error.to_string());
                    slots.push(ReplySource::Local(start..local.len()));
                    batch.failed();
                    continue;
                }
            };
            match request.key().map(|key| owner_of(key.as_bytes(), shards)) {
                Some(owner) if owner == here => {
                    let outcome = store
                        .with_mut(|store| apply(&mut Keys::new(store, log, now), request, local));
                    match outcome {
                        Outcome::Served => batch.served(),
                        Outcome::Refused => batch.failed(),
                    }
                    slots.push(ReplySource::Local(start..local.len()));
                }
                Some(owner) => {
                    batch.served();
                    if matches!(request, Request::Get { .. }) {
                        unsized_replies += 1;
                    }
                    forward(&mut outboxes[owner], frame);
                    slots.push(ReplySource::Remote(owner));
                    forwarded += 1;
                }
                None => {
                    batch.served();
                    for (shard, outbox) in outboxes.iter_mut().enumerate() {
                        if shard != here {
                            forward(outbox, frame);
                        }
                    }
                    store.with_mut(|store| apply(&mut Keys::new(store, log, now), request, local));
                    slots.push(ReplySource::Gather(start..local.len()));
                    forwarded += 1;
                    // The whole store may come back: one per round.
                    unsized_replies = UNSIZED_REPLIES_PER_ROUND;
                }
            }
        }
        Planned { round, forwarded }
    }

    /// This shard's writes of the round did not reach the disk, and were
    /// taken back (`reason`): every reply made here becomes kv's disk error.
    /// Returns how many of them were not errors already.
    pub(super) fn fail_local(&mut self, reason: &str) -> u64 {
        let made = std::mem::take(&mut self.local);
        let mut were_fine = 0;
        for slot in &mut self.slots {
            let (range, gather) = match slot {
                ReplySource::Local(range) => (range.clone(), false),
                ReplySource::Gather(range) => (range.clone(), true),
                ReplySource::Remote(_) | ReplySource::GatherFailed(_) => continue,
            };
            if !is_error_frame(&made[range]) {
                were_fine += 1;
            }
            let start = self.local.len();
            super::push_disk_error(&mut self.local, reason);
            let range = start..self.local.len();
            *slot = match gather {
                false => ReplySource::Local(range),
                true => ReplySource::GatherFailed(range),
            };
        }
        were_fine
    }

    /// The replies made here, in order: the whole answer of a round that
    /// forwarded nothing.
    pub(super) fn local(&self) -> &[u8] {
        &self.local
    }

    /// Appends every reply in request order: local ones, each owner's next,
    /// and ListKeys merged over the shards. Returns how many of the owners'
    /// replies are errors (their refusals, or a shard gone).
    pub(super) fn assemble(
        &self,
        replies: &mut [OwnerReplies],
        here: usize,
        out: &mut Vec<u8>,
    ) -> u64 {
        let mut errors = 0;
        for slot in &self.slots {
            match slot {
                ReplySource::Local(range) => out.extend_from_slice(&self.local[range.clone()]),
                ReplySource::Remote(owner) => {
                    if !replies[*owner].copy_next(out) {
                        errors += 1;
                    }
                }
                ReplySource::Gather(range) => {
                    let mut keys = keys_of(&self.local[range.clone()]);
                    for (shard, from) in replies.iter_mut().enumerate() {
                        if shard != here {
                            keys.extend(from.next().map(keys_of).unwrap_or_default());
                        }
                    }
                    keys.sort_unstable();
                    push_keys_frame(out, keys);
                }
                ReplySource::GatherFailed(range) => {
                    for (shard, from) in replies.iter_mut().enumerate() {
                        if shard != here {
                            from.next();
                        }
                    }
                    // Counted when it failed.
                    out.extend_from_slice(&self.local[range.clone()]);
                }
            }
        }
        errors
    }
}

/// The reply frames one owner sent back, read in order.
pub(super) struct OwnerReplies {
    pub buffer: Vec<u8>,
    read: usize,
}

impl OwnerReplies {
    pub fn new(buffer: Vec<u8>) -> OwnerReplies {
        OwnerReplies { buffer, read: 0 }
    }

    /// The next whole frame, length prefix included.
    fn next(&mut self) -> Option<&[u8]> {
        let rest = &self.buffer[self.read..];
        let (_, after) = split_frame(rest)?;
        let frame = &rest[..rest.len() - after.len()];
        self.read += frame.len();
        Some(frame)
    }

    /// Copies the next reply to `out`; a shard that did not answer (it is
    /// gone) gets an error reply in its place. Whether the reply is not an
    /// error.
    fn copy_next(&mut self, out: &mut Vec<u8>) -> bool {
        match self.next() {
            Some(frame) => {
                out.extend_from_slice(frame);
                !is_error_frame(frame)
            }
            None => {
                push_error_frame(out, "the key's shard is unavailable");
                false
            }
        }
    }
}

/// Whether a reply frame (length prefix included) is an error: of kv's
/// replies only errors are maps (`{"error": ...}`), here of one entry.
fn is_error_frame(frame: &[u8]) -> bool {
    frame.get(4) == Some(&0x81)
}

/// The keys of a ListKeys reply frame (length prefix included).
fn keys_of(frame: &[u8]) -> Vec<&[u8]> {
    let body = split_frame(frame).map_or(&[][..], |(body, _)| body);
    str_array(body).unwrap_or_default()
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;
