//! Reported deliveries (issue 26): a resp message that a shard hands to
//! another shard's subscribers comes back as a report of how many of their
//! live subscriptions it reached, once it is in their outboxes. A PUBLISH
//! replies the sum of its reports (a subscriber whose shard has read its
//! UNSUBSCRIBE is not counted), and a command whose keyspace events went to
//! other shards replies once they are placed, so that each subscriber sees
//! events in the order of the commands, as from Redis (docs/PROTOCOLS.md
//! "PUBLISH counts and keyspace events across shards").
//!
//! Reports travel the brokers' delivery lane, whose handler never waits, so
//! a shard waiting for reports cannot be part of a cycle of waits. A lane
//! is FIFO and each shard handles its deliveries in order, so the reports
//! from a peer come in the order of the deliveries sent to it: counting
//! them per peer tells which are in ([`Reports::settled`]).

use std::task::{Context, Poll, Waker};

/// The token of a delivery whose count nobody sums (a keyspace event):
/// only its arrival matters.
pub const UNCOUNTED: u32 = u32::MAX;

/// One shard's reported deliveries to its peers.
#[derive(Default)]
pub(crate) struct Reports {
    /// Per peer: reported deliveries sent, and reports received.
    sent: Vec<u64>,
    /// Reported deliveries sent to any peer: whether a span of work made
    /// any ([`Reports::made`]).
    made: u64,
    received: Vec<u64>,
    /// Open counts by token: the subscriptions reached so far.
    counts: Vec<u64>,
    free: Vec<u32>,
    /// Tasks waiting for reports, woken at each report.
    waiting: Vec<Waker>,
}

impl Reports {
    /// A reported delivery to `peer` was posted.
    pub fn sent(&mut self, peer: usize) {
        if self.sent.len() <= peer {
            self.sent.resize(peer + 1, 0);
            self.received.resize(peer + 1, 0);
        }
        self.sent[peer] += 1;
        self.made += 1;
    }

    /// How many reported deliveries this shard has sent so far: a span of
    /// work that leaves it unchanged has nothing to wait for.
    pub fn made(&self) -> u64 {
        self.made
    }

    /// A report from `peer`: the delivery it answers reached `count`
    /// subscriptions there.
    pub fn received(&mut self, peer: usize, token: u32, count: u64) {
        if let Some(received) = self.received.get_mut(peer) {
            *received += 1;
        }
        if let Some(sum) = self.counts.get_mut(token as usize) {
            *sum += count;
        }
        self.waiting.drain(..).for_each(Waker::wake);
    }

    /// A new count, at 0.
    pub fn open(&mut self) -> u32 {
        match self.free.pop() {
            Some(token) => {
                self.counts[token as usize] = 0;
                token
            }
            None => {
                self.counts.push(0);
                (self.counts.len() - 1) as u32
            }
        }
    }

    /// Adds `n` to an open count (what this shard delivered itself).
    pub fn add(&mut self, token: u32, n: u64) {
        if let Some(sum) = self.counts.get_mut(token as usize) {
            *sum += n;
        }
    }

    /// The count of `token`, which is closed (its reports must all be in:
    /// after [`Reports::settled`] of a mark taken once they were sent).
    pub fn close(&mut self, token: u32) -> u64 {
        match self.counts.get(token as usize) {
            Some(&count) => {
                self.free.push(token);
                count
            }
            None => 0,
        }
    }

    /// Whether some report is still to come.
    pub fn pending(&self) -> bool {
        self.sent != self.received
    }

    /// Where the reports stand: what must have come for every delivery
    /// sent so far to be in. `None` when nothing is pending (no
    /// allocation then).
    pub fn mark(&self) -> Option<Vec<u64>> {
        self.pending().then(|| self.sent.clone())
    }

    /// Whether every delivery counted in `mark` is reported; if not, `cx`
    /// is woken at the next report.
    pub fn settled(&mut self, mark: &[u64], cx: &mut Context<'_>) -> Poll<()> {
        let done = mark
            .iter()
            .zip(&self.received)
            .all(|(want, received)| received >= want);
        if done {
            return Poll::Ready(());
        }
        if !self.waiting.iter().any(|w| w.will_wake(cx.waker())) {
            self.waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn a_mark_is_settled_once_each_peer_reported_what_was_sent_before_it() {
        let mut reports = Reports::default();
        assert!(reports.mark().is_none());
        let token = reports.open();
        reports.add(token, 2);
        reports.sent(1);
        reports.sent(3);
        let mark = reports.mark().expect("pending");
        reports.sent(1);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(reports.settled(&mark, &mut cx).is_pending());
        reports.received(1, token, 4);
        assert!(reports.settled(&mark, &mut cx).is_pending());
        reports.received(3, token, 1);
        assert!(reports.settled(&mark, &mut cx).is_ready());
        assert!(reports.pending());
        reports.received(1, UNCOUNTED, 9);
        assert!(!reports.pending());
        assert_eq!(reports.close(token), 7);
        assert_eq!(reports.open(), token);
    }
}
