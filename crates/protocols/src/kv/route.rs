//! kv's part of a round over the shards (the key space's round engine,
//! `percore_keyspace::round`, spreads it and puts the replies back in
//! order): which requests are answered here, which go to their key's owner,
//! and ListKeys, whose parts from every shard merge into one sorted list.
//! Pure state, no executor: unit-tested as it is (`route_tests.rs`).
//!
//! A round ends early when its replies could pass the batch's output budget:
//! replies made here are measured, and forwarded replies of unknown size
//! (Get, ListKeys) are counted, so one batch never holds more than about the
//! budget plus [`UNSIZED_REPLIES_PER_ROUND`] values.

use super::durable::log::ShardLog;
use super::forwarded::push_forwarded;
use super::handle::{apply, push_keys_frame, Op, Outcome};
use super::protocol::{decode_request, push_error_frame, str_array, Request};
use percore::codec::{split_frame, LengthPrefixed};
use percore::cross_shard::owner_of;
use percore::service::Batch;
use percore_keyspace::round::{Replies, Round};
use percore_keyspace::write::ShardKeys;
use percore_keyspace::SharedStore;

/// Forwarded Gets (or one ListKeys) per round: their replies' size is only
/// known once they come back, and a Get may return a value as long as
/// `--max-frame`.
pub(super) const UNSIZED_REPLIES_PER_ROUND: usize = 32;

/// kv's round: one per connection, its buffers reused.
pub type RoundPlan = Round<KvReplies>;

/// kv's replies, as the round engine sees them: length-prefixed frames.
pub struct KvReplies;

/// How parts merge in kv: only ListKeys has parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvMerge {
    /// Every shard's keys, in one sorted list; a part's error instead, if
    /// one failed.
    ListKeys,
}

impl Replies for KvReplies {
    type Merge = KvMerge;
    /// An owner's replies are kv's reply frames, as clients get them.
    const FRAME_IS_REPLY: bool = true;
    /// `{"error": "the key's shard is unavailable"}`, framed.
    const SHARD_GONE: &'static [u8] = b"\0\0\0\x26\x81\xa5error\xbethe key's shard is unavailable";

    /// Of kv's replies only errors are maps (`{"error": ...}`), of one
    /// entry.
    fn is_error(reply: &[u8]) -> bool {
        reply.get(4) == Some(&0x81)
    }

    fn reply_len(replies: &[u8]) -> Option<usize> {
        split_frame(replies).map(|(_, after)| replies.len() - after.len())
    }

    fn disk_error(out: &mut Vec<u8>, reason: &str) {
        super::push_disk_error(out, reason)
    }

    fn merge(KvMerge::ListKeys: KvMerge, parts: &[&[u8]], out: &mut Vec<u8>) {
        if let Some(error) = parts.iter().find(|part| Self::is_error(part)) {
            out.extend_from_slice(error);
            return;
        }
        let mut keys: Vec<&[u8]> = parts.iter().flat_map(|part| keys_of(part)).collect();
        keys.sort_unstable();
        push_keys_frame(out, keys);
    }
}

/// The shard a round runs on, and what its own keys' requests run against.
#[derive(Clone, Copy)]
pub(super) struct ThisShard<'a> {
    pub store: &'a SharedStore,
    pub log: Option<&'a ShardLog>,
    /// The round's time, ms since the epoch, read once for it.
    pub now: u64,
    pub here: usize,
    pub shards: usize,
}

/// How a round of a sharded batch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RoundEnd {
    /// Every request left (or the batch's output budget) was reached.
    Whole,
    /// Cut short so its replies stay bounded: requests may remain.
    Cut,
}

/// Takes the batch's requests into `plan` until the batch or the round is
/// done: answers those for this shard's keys (into the batch's output until
/// the round forwards), gathers the others per owner. `new_buffer` gives an
/// owner's outbox its buffer (from the mesh's pool, the message's protocol
/// tag in place).
pub(super) fn plan_round(
    plan: &mut RoundPlan,
    batch: &mut Batch<'_, LengthPrefixed>,
    shard: ThisShard<'_>,
    mut new_buffer: impl FnMut() -> Vec<u8>,
) -> RoundEnd {
    let ThisShard {
        store,
        log,
        now,
        here,
        shards,
    } = shard;
    plan.begin(shards);
    let taken_before = batch.taken();
    let mut unsized_replies = 0;
    loop {
        // A round takes at least one request; past the batch's budget,
        // next_request itself stops.
        let full =
            plan.held() >= batch.output_room() || unsized_replies >= UNSIZED_REPLIES_PER_ROUND;
        if full && batch.taken() > taken_before {
            return RoundEnd::Cut;
        }
        let Some(frame) = batch.next_request() else {
            return RoundEnd::Whole;
        };
        let request = match decode_request(frame) {
            Ok(request) => request,
            Err(error) => {
                answer_here(plan, batch, |out| {
                    push_error_frame(out, &error.to_string());
                    Outcome::Refused
                });
                continue;
            }
        };
        match request.key().map(|key| owner_of(key.as_bytes(), shards)) {
            Some(owner) if owner == here => {
                answer_here(plan, batch, |out| {
                    store.with_mut(|keys| {
                        apply(
                            &mut ShardKeys::new(keys, store.marks(), log, now),
                            Op::from(request),
                            out,
                        )
                    })
                });
            }
            Some(owner) => {
                if matches!(request, Request::Get { .. }) {
                    unsized_replies += 1;
                }
                plan.forward(owner, &mut new_buffer, |body| {
                    push_forwarded(body, &request)
                });
            }
            None => {
                // ListKeys: every shard's part, merged.
                plan.merge(KvMerge::ListKeys, shards);
                for shard in 0..shards {
                    if shard == here {
                        answer_here(plan, batch, |out| {
                            store.with_mut(|keys| {
                                apply(
                                    &mut ShardKeys::new(keys, store.marks(), log, now),
                                    Op::from(request),
                                    out,
                                )
                            })
                        });
                    } else {
                        plan.forward(shard, &mut new_buffer, |body| {
                            push_forwarded(body, &request)
                        });
                    }
                }
                // The whole store may come back: one per round.
                unsized_replies = UNSIZED_REPLIES_PER_ROUND;
            }
        }
    }
}

/// A reply made here: into the batch's output, and counted now, until the
/// round forwards; from then on kept in the round, and counted once
/// assembled.
fn answer_here(
    plan: &mut RoundPlan,
    batch: &mut Batch<'_, LengthPrefixed>,
    reply: impl FnOnce(&mut Vec<u8>) -> Outcome,
) {
    let direct = !plan.is_forwarding();
    let outcome = plan.here(batch.out(), reply);
    if direct {
        match outcome {
            Outcome::Served => batch.served(),
            Outcome::Refused => batch.failed(),
        }
    }
}

/// The keys of a ListKeys reply frame (length prefix included).
fn keys_of(frame: &[u8]) -> Vec<&[u8]> {
    let body = split_frame(frame).map_or(&[][..], |(body, _)| body);
    str_array(body).unwrap_or_default()
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;
