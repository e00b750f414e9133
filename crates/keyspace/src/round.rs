//! The one engine by which a connection's batch reaches the shards that own
//! its keys, for every protocol that serves the key space (kv and resp).
//!
//! A round takes a batch's requests in order. A request this shard can
//! answer is answered at once ([`Round::here`]); one for a key another shard
//! owns is gathered into that owner's outbox ([`Round::forward`]); a request
//! over several shards becomes a [`Round::merge`] followed by one part per
//! shard. Then [`Round::finish`] sends one mesh message per owner (all in
//! flight before any reply is awaited), lets this shard's writes reach the
//! disk meanwhile, and puts every reply back in request order in the batch's
//! output, counting each as served or failed.
//!
//! Until a round forwards, replies go straight into the batch's output: a
//! one-shard server, or a batch of local keys, never copies a reply. From
//! then on they are kept in the round and placed by their slot.
//!
//! The engine names no protocol: what it needs of one (how its replies
//! look, how parts merge, its disk error) is a [`Replies`] type. The round's
//! buffers are reused from round to round, so a round allocates nothing
//! once a connection has warmed up. The owner's side of the exchange is the
//! key space's `owner.rs`.

use std::fmt::Debug;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Range;

use percore::codec::{begin_frame, end_frame, split_frame, Decoder};
use percore::cross_shard::{Mesh, Ticket};
use percore::service::Batch;

/// What the engine needs of a protocol's replies.
pub trait Replies {
    /// How the replies of a request's parts become its one reply.
    type Merge: Copy + Debug + PartialEq;
    /// Whether an owner's reply frame is the reply itself, as the client
    /// gets it (kv, whose replies are such frames), rather than wrapping
    /// it (resp).
    const FRAME_IS_REPLY: bool;
    /// In place of a reply an owner never sent (it is gone).
    const SHARD_GONE: &'static [u8];
    /// Whether a whole reply is an error.
    fn is_error(reply: &[u8]) -> bool;
    /// The length of the whole reply that `replies` starts with.
    fn reply_len(replies: &[u8]) -> Option<usize>;
    /// Appends the reply to a request whose write could not reach the disk
    /// (`reason`: why).
    fn disk_error(out: &mut Vec<u8>, reason: &str);
    /// Appends the reply merged from `parts`, in the order they were planned.
    fn merge(merge: Self::Merge, parts: &[&[u8]], out: &mut Vec<u8>);
}

/// One connection's round, its buffers reused from round to round.
pub struct Round<R: Replies> {
    /// Replies made on this shard once the round forwards.
    local: Vec<u8>,
    /// Where each reply comes from, in request order, once the round
    /// forwards.
    slots: Vec<Slot<R::Merge>>,
    /// Requests gathered for each shard.
    outboxes: Vec<Vec<u8>>,
    /// Whether a request of this round has gone to another shard (or is
    /// merged from parts).
    forwarding: bool,
    /// Requests sent to other shards this round.
    forwarded: u64,
    /// The round's messages in flight, and then their replies, one per
    /// shard: kept here so that a round allocates neither.
    tickets: Vec<Option<Ticket>>,
    replies: Vec<Vec<u8>>,
    /// How far each shard's replies have been read, while assembling.
    read: Vec<usize>,
    /// Where each part of a merge lies, reused.
    places: Vec<(Option<usize>, Range<usize>)>,
    protocol: PhantomData<R>,
}

impl<R: Replies> Default for Round<R> {
    fn default() -> Round<R> {
        Round {
            local: Vec::new(),
            slots: Vec::new(),
            outboxes: Vec::new(),
            forwarding: false,
            forwarded: 0,
            tickets: Vec::new(),
            replies: Vec::new(),
            read: Vec::new(),
            places: Vec::new(),
            protocol: PhantomData,
        }
    }
}

/// Where one reply comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Slot<M> {
    /// A reply in `local`.
    Local(Range<usize>),
    /// The next reply from this shard.
    Remote(usize),
    /// The next `parts` slots' replies, merged into one.
    Merge { merge: M, parts: usize },
    /// A reply this shard makes once the round's other shards have
    /// answered something else than the mesh's replies: resp's PUBLISH
    /// count, summed from the subscriber shards' reports (the protocol's
    /// token for it; [`Round::finish`]'s `late` writes it).
    Late(u32),
}

impl<R: Replies> Round<R> {
    /// Starts a round over `shards` shards.
    pub fn begin(&mut self, shards: usize) {
        self.local.clear();
        self.slots.clear();
        self.outboxes.resize_with(shards, Vec::new);
        self.forwarding = false;
        self.forwarded = 0;
    }

    /// How many requests the round has sent to other shards so far.
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
    pub fn here<T>(&mut self, out: &mut Vec<u8>, reply: impl FnOnce(&mut Vec<u8>) -> T) -> T {
        if !self.forwarding {
            return reply(out);
        }
        let start = self.local.len();
        let result = reply(&mut self.local);
        self.slots.push(Slot::Local(start..self.local.len()));
        result
    }

    /// [`Round::here`] for a request whose reply may be late: `reply`
    /// writes it, or returns the protocol's token for a reply made at the
    /// end of the round, once [`Round::finish`]'s `settled` is ready (and
    /// then writes nothing).
    pub fn here_or_late(
        &mut self,
        out: &mut Vec<u8>,
        reply: impl FnOnce(&mut Vec<u8>) -> Option<u32>,
    ) {
        let late = if self.forwarding {
            let start = self.local.len();
            let late = reply(&mut self.local);
            match late {
                None => self.slots.push(Slot::Local(start..self.local.len())),
                Some(_) => self.local.truncate(start),
            }
            late
        } else {
            let start = out.len();
            let late = reply(out);
            if late.is_some() {
                out.truncate(start);
            }
            late
        };
        if let Some(token) = late {
            // From here on replies are placed by their slot, after those
            // already in the output.
            self.forwarding = true;
            self.slots.push(Slot::Late(token));
        }
    }

    /// A request for shard `owner`: `encode` writes it (one frame's body)
    /// into the owner's outbox; `new_buffer` gives an empty outbox its
    /// buffer (from the mesh's pool, the protocol's tag in place).
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

    /// The next `parts` replies (made here or forwarded) merge into one.
    pub fn merge(&mut self, merge: R::Merge, parts: usize) {
        self.forwarding = true;
        self.slots.push(Slot::Merge { merge, parts });
    }

    /// What the round has gathered for `shard` so far (frames).
    pub fn outbox(&self, shard: usize) -> &[u8] {
        self.outboxes.get(shard).map_or(&[], Vec::as_slice)
    }

    /// Ends the round: sends every owner its requests, one message each,
    /// all in flight before any reply is awaited; waits for `committed`
    /// (this shard's writes of the round reaching the disk under `--fsync
    /// always`, made before any await so that it covers exactly them) while
    /// the owners work; then waits for `settled` (what this shard's
    /// requests handed to other shards is placed there: resp's reported
    /// deliveries, made before the call), has `late` write each late reply
    /// ([`Round::here_or_late`]), and [`Round::complete`]s. `mesh` is
    /// `None` on a server of one shard.
    pub async fn finish<D: Decoder>(
        &mut self,
        mesh: Option<&Mesh>,
        committed: impl Future<Output = Result<(), String>>,
        settled: impl Future<Output = ()>,
        mut late: impl FnMut(u32, &mut Vec<u8>),
        batch: &mut Batch<'_, D>,
        answered: usize,
    ) {
        let mesh = mesh.filter(|_| self.forwarding);
        if let Some(mesh) = mesh {
            send(mesh, &mut self.outboxes, &mut self.tickets).await;
        }
        let committed = committed.await;
        settled.await;
        for slot in &mut self.slots {
            if let Slot::Late(token) = *slot {
                let start = self.local.len();
                late(token, &mut self.local);
                *slot = Slot::Local(start..self.local.len());
            }
        }
        let mut replies = std::mem::take(&mut self.replies);
        if let Some(mesh) = mesh {
            for ticket in self.tickets.drain(..) {
                replies.push(match ticket {
                    Some(ticket) => mesh.reply(ticket).await,
                    None => Vec::new(),
                });
            }
        }
        self.complete(&replies, committed, batch, answered);
        for reply in replies.drain(..) {
            match mesh {
                Some(mesh) if reply.capacity() > 0 => mesh.recycle(reply),
                _ => drop(reply),
            }
        }
        self.replies = replies;
    }

    /// Puts every reply of the round in request order into the batch's
    /// output, after the replies written there directly, and counts each
    /// forwarded or merged one as served or failed (an error reply).
    /// `replies` holds each shard's reply message (empty for a shard sent
    /// nothing, or gone). If `committed` failed, every reply made here
    /// (those in the output from `answered` on, and those kept in the
    /// round) becomes the protocol's disk error: none of those writes was
    /// kept.
    pub fn complete<D: Decoder>(
        &mut self,
        replies: &[Vec<u8>],
        committed: Result<(), String>,
        batch: &mut Batch<'_, D>,
        answered: usize,
    ) {
        if let Err(reason) = committed {
            let were_fine = fail_replies::<R>(batch.out(), answered, &reason);
            batch.served_as_failed(were_fine);
            self.fail_local(&reason);
        }
        if !self.forwarding {
            return;
        }
        let (mut served, mut failed) = (0, 0);
        self.assemble(replies, batch.out(), |error| {
            if error {
                failed += 1
            } else {
                served += 1
            }
        });
        for _ in 0..served {
            batch.served();
        }
        for _ in 0..failed {
            batch.failed();
        }
    }

    /// This shard's writes of the round did not reach the disk, and were
    /// taken back (`reason`): every reply kept here becomes the disk error
    /// (each is counted when assembled).
    fn fail_local(&mut self, reason: &str) {
        let mut local = Vec::with_capacity(self.local.len());
        for slot in &mut self.slots {
            if let Slot::Local(range) = slot {
                let start = local.len();
                R::disk_error(&mut local, reason);
                *range = start..local.len();
            }
        }
        self.local = local;
    }

    /// Appends every reply in request order, and counts each as served or
    /// failed (an error reply) with `count`.
    fn assemble(&mut self, replies: &[Vec<u8>], out: &mut Vec<u8>, mut count: impl FnMut(bool)) {
        let mut places = std::mem::take(&mut self.places);
        let read = &mut self.read;
        read.clear();
        read.resize(replies.len(), 0);
        let mut next = |owner: usize| match (replies.get(owner), read.get_mut(owner)) {
            (Some(from), Some(at)) => next_reply::<R>(from, at),
            _ => 0..0,
        };
        let mut slots = self.slots.iter();
        while let Some(slot) = slots.next() {
            let start = out.len();
            match slot {
                Slot::Local(range) => out.extend_from_slice(&self.local[range.clone()]),
                // Written by `finish` before assembling: never here.
                Slot::Late(_) => {}
                Slot::Remote(owner) => {
                    let reply = next(*owner);
                    out.extend_from_slice(reply_at::<R>(replies, *owner, reply));
                }
                Slot::Merge { merge, parts } => {
                    // Where each part's reply lies, then the replies.
                    places.clear();
                    for _ in 0..*parts {
                        places.push(match slots.next() {
                            Some(Slot::Local(range)) => (None, range.clone()),
                            Some(Slot::Late(_)) => (None, 0..0),
                            Some(Slot::Remote(owner)) => (Some(*owner), next(*owner)),
                            _ => (Some(usize::MAX), 0..0),
                        });
                    }
                    let local = &self.local;
                    let gathered: Vec<&[u8]> = places
                        .iter()
                        .map(|(source, range)| match source {
                            None => &local[range.clone()],
                            Some(owner) => reply_at::<R>(replies, *owner, range.clone()),
                        })
                        .collect();
                    R::merge(*merge, &gathered, out);
                }
            }
            count(R::is_error(&out[start..]));
        }
        self.places = places;
    }
}

/// The reply at `range` of `owner`'s replies, or the protocol's error in
/// place of a reply never sent.
fn reply_at<R: Replies>(replies: &[Vec<u8>], owner: usize, range: Range<usize>) -> &[u8] {
    match replies.get(owner) {
        Some(from) if !range.is_empty() => &from[range],
        _ => R::SHARD_GONE,
    }
}

/// Where the next reply of `from` lies, from `at` on (the whole frame, or
/// its body, as [`Replies::FRAME_IS_REPLY`] says), and moves `at` past it;
/// empty when the owner sent no more.
fn next_reply<R: Replies>(from: &[u8], at: &mut usize) -> Range<usize> {
    let rest = from.get(*at..).unwrap_or_default();
    match split_frame(rest) {
        Some((body, after)) => {
            let frame_len = rest.len() - after.len();
            let start = if R::FRAME_IS_REPLY {
                *at
            } else {
                *at + frame_len - body.len()
            };
            *at += frame_len;
            start..*at
        }
        None => 0..0,
    }
}

#[path = "round_exchange.rs"]
mod exchange;
pub use exchange::{exchange, fail_replies, send};

#[cfg(test)]
#[path = "round_tests.rs"]
mod tests;
