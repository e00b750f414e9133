//! PUBLISH counts and keyspace events that keep Redis's order across shards
//! (issue 26; docs/PROTOCOLS.md "PUBLISH counts and keyspace events across
//! shards"). A resp message that the broker hands to another shard's
//! subscribers is reported back once it is in their outboxes, with how many
//! live subscriptions it reached there (`percore_topics`' `reports.rs`). A
//! reply waits for the reports of what its command sent:
//!
//! - a PUBLISH with subscribers on other shards replies the sum of the
//!   reports: a subscriber whose shard has read its UNSUBSCRIBE is not
//!   counted, as in Redis. The command leaves its count late ([`LateCounts`]);
//!   the round of its connection writes it once the reports are in
//!   (`Round::here_or_late`), or, forwarded from another shard, the owner
//!   rewrites its reply frame before the message's replies leave
//!   ([`before_reply`]). Elsewhere (MULTI, scripts) it counts with the
//!   owner's figures, as before.
//! - a command whose keyspace events went to other shards replies once
//!   they are placed: a client that waits for each reply sees the events
//!   in the order of its commands.
//!
//! The wait is once per round of a connection's batch and once per
//! forwarded message, not per command: a pipeline stays a pipeline. Each
//! waits only for the deliveries it made itself (`Broker::settled_since`),
//! and a forwarded message that waits is answered apart (the mesh's
//! `Answer::Apart`): the sender's next messages are served meanwhile. With
//! every subscriber on the channel's owner, or none anywhere (the
//! notifications off, the default), nothing is reported and nothing waits.

use std::any::Any;
use std::cell::{Cell, RefCell};

use super::protocol::write;
use percore::codec::{begin_frame, end_frame, split_frame};
use percore_keyspace::Wait;

/// Where a command may leave its PUBLISH count late, on one shard.
#[derive(Default)]
pub struct LateCounts {
    /// Whether the command running now may leave its count late.
    open: Cell<bool>,
    /// The late count the command just run left, if any.
    left: Cell<Option<u32>>,
    /// The forwarded message being served: its late replies, by frame
    /// number, and their counts' tokens; taken by [`before_reply`].
    message: RefCell<Vec<(usize, u32)>>,
    /// The broker's reported deliveries made before the message
    /// (`Broker::reports_made`): the message waits only for its own.
    message_from: Cell<u64>,
}

impl LateCounts {
    /// Runs a command whose caller can write its reply late; the count it
    /// left late, if any (then it wrote no reply).
    pub fn run(&self, command: impl FnOnce()) -> Option<u32> {
        self.open.set(true);
        command();
        self.open.set(false);
        self.left.take()
    }

    /// Whether the command running now may leave its count late: only the
    /// command its caller runs, never one that command runs in turn (a
    /// queued command of `EXEC`, whose reply is part of another).
    pub fn allowed(&self, here: &super::RespShard) -> bool {
        self.open.get() && super::blocked_keys::outermost(here)
    }

    /// The command running now leaves its count late: `token`'s.
    pub fn leave(&self, token: u32) {
        self.left.set(Some(token));
    }

    /// A forwarded message begins: what it hands other shards is counted
    /// from here.
    pub fn begin_message(&self, here: &super::RespShard) {
        if let Some(broker) = here.broker() {
            self.message_from.set(broker.reports_made());
        }
    }

    /// Frame `frame` of the forwarded message being served is late.
    pub fn late_frame(&self, frame: usize, token: u32) {
        self.message.borrow_mut().push((frame, token));
    }
}

/// Before a forwarded message's replies leave (the key space's
/// `before_reply`): they wait while the delivery lanes are behind, and
/// until the other shards have reported every delivery sent so far; its
/// late PUBLISH counts are then written into their frames.
pub(super) fn before_reply(state: Option<&dyn Any>) -> Option<Wait> {
    let here = state?.downcast_ref::<super::RespShard>()?;
    let broker = here.broker()?;
    let late = std::mem::take(&mut *here.late.message.borrow_mut());
    let behind = !broker.delivery_has_room();
    let from = here.late.message_from.get();
    // Boxed only when there is something to wait for.
    if !behind && late.is_empty() && broker.reports_made() == from {
        return None;
    }
    let settled = broker.settled_since(from);
    let broker = broker.clone();
    Some(Box::pin(async move {
        if behind {
            broker.delivery_room().await;
        }
        settled.await;
        if late.is_empty() {
            return None;
        }
        let counts: Vec<(usize, u64)> = late
            .iter()
            .map(|&(frame, token)| (frame, broker.close_count(token)))
            .collect();
        Some(Box::new(move |replies: &mut Vec<u8>| rewrite(replies, &counts)) as _)
    }))
}

/// Replaces reply frame `n` of `replies` with the integer reply `count`,
/// for each `(n, count)` (in frame order).
fn rewrite(replies: &mut Vec<u8>, counts: &[(usize, u64)]) {
    let old = std::mem::take(replies);
    let mut rest = &old[..];
    let mut counts = counts.iter().peekable();
    let mut n = 0;
    while let Some((frame, next)) = split_frame(rest) {
        let start = begin_frame(replies);
        match counts.next_if(|(late, _)| *late == n) {
            Some(&(_, count)) => write::int(replies, count as i64),
            None => replies.extend_from_slice(frame),
        }
        end_frame(replies, start);
        rest = next;
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_frame_gets_its_count_and_the_others_stay() {
        let mut replies = Vec::new();
        for reply in [&b"+OK\r\n"[..], b":0\r\n", b"$1\r\nx\r\n", b":0\r\n"] {
            let start = begin_frame(&mut replies);
            replies.extend_from_slice(reply);
            end_frame(&mut replies, start);
        }
        rewrite(&mut replies, &[(1, 12), (3, 3)]);
        let mut frames = Vec::new();
        let mut rest = &replies[..];
        while let Some((frame, next)) = split_frame(rest) {
            frames.push(frame.to_vec());
            rest = next;
        }
        assert_eq!(
            frames,
            [
                b"+OK\r\n".to_vec(),
                b":12\r\n".to_vec(),
                b"$1\r\nx\r\n".to_vec(),
                b":3\r\n".to_vec()
            ]
        );
    }
}
