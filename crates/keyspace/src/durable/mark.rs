//! Under `--fsync always`, which batches a discard of the log concerns
//! (`log.rs`): a batch notes a [`Mark`] before it writes and commits with it
//! once answered; a discard (a failed write of the log, which drops every
//! record not yet durable) starts a new generation, and a batch marked in
//! an earlier one whose records may have been dropped is told its commit
//! failed, also one that was still waiting for its turn to flush.
//!
//! While a batch open across a discard is still open, writes are refused:
//! it may have written what was dropped and must not write again before it
//! is told, so the last discard is the only one that can concern it.
//!
//! A batch is failed when the dropped range begins before the end of its
//! span of the log. Every span is appended with no await (kv's and resp's
//! rounds, a part run here by a resp command that waits on other shards, an
//! owner's message), and a flush takes the whole buffer at one point, so a
//! span is all durable or all dropped: the answer is exact.

use std::ops::Range;
use std::rc::Rc;

use super::log::ShardLog;

/// Where a batch's writes begin: taken before the batch runs
/// ([`ShardLog::mark`]) and given to [`ShardLog::commit`] once it is
/// answered. It counts the batch open until it is dropped (a panic or a
/// dropped connection included).
pub struct Mark {
    pub(super) log: Rc<ShardLog>,
    pub(super) position: u64,
    pub(super) generation: u64,
}

impl Drop for Mark {
    fn drop(&mut self) {
        self.log.close_batch(self.generation);
    }
}

/// A shard's discards, as far as open batches are concerned.
#[derive(Debug, Default)]
pub(super) struct Discards {
    /// Discards so far: a batch's [`Mark`] notes it.
    generation: u64,
    /// Open batches that began in this generation, and before it.
    fresh: u64,
    stale: u64,
    /// The last discard: the log positions it dropped, and why.
    last: Option<(Range<u64>, String)>,
}

impl Discards {
    /// A batch opens: the generation it is marked in.
    pub fn open(&mut self) -> u64 {
        self.fresh += 1;
        self.generation
    }

    /// A batch marked in `generation` closes.
    pub fn close(&mut self, generation: u64) {
        if generation == self.generation {
            self.fresh -= 1;
        } else {
            self.stale -= 1;
        }
    }

    /// Why writes are refused: while a batch open across the last discard
    /// is open.
    pub fn refusal(&self) -> Option<String> {
        match &self.last {
            Some((_, reason)) if self.stale > 0 => Some(reason.clone()),
            _ => None,
        }
    }

    /// Why the records of a batch marked in `generation`, up to `target`,
    /// may have been dropped, if they may.
    pub fn discarded(&self, generation: u64, target: u64) -> Option<String> {
        match &self.last {
            Some((dropped, reason)) if generation != self.generation && dropped.start < target => {
                Some(reason.clone())
            }
            _ => None,
        }
    }

    /// The records at `dropped` were discarded: every open batch is now
    /// stale.
    pub fn record(&mut self, dropped: Range<u64>, reason: String) {
        self.generation += 1;
        self.stale += std::mem::take(&mut self.fresh);
        self.last = Some((dropped, reason));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_open_across_a_discard_fails_and_holds_writes_back_until_closed() {
        let mut discards = Discards::default();
        let before = discards.open();
        discards.record(10..20, "full".into());
        assert_eq!(discards.refusal().as_deref(), Some("full"));
        // Its span met the dropped range.
        assert_eq!(discards.discarded(before, 20).as_deref(), Some("full"));
        // A batch marked after it is not concerned.
        let after = discards.open();
        assert_eq!(discards.discarded(after, 20), None);
        discards.close(before);
        assert_eq!(discards.refusal(), None);
        discards.close(after);
        assert_eq!((discards.fresh, discards.stale), (0, 0));
    }
}
