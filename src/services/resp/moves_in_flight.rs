//! Items on their way between two shards for a blocked BLMOVE or
//! BRPOPLPUSH (issue 27), so that the push that woke it answers once the
//! item is in its destination, as in Redis, where a client served by a push
//! has its move done (and the moves it wakes in turn: `Linked LMOVEs`,
//! `Circular BRPOPLPUSH` in Redis's suite) before the push's reply.
//!
//! A move whose destination another shard owns is made in two steps: the
//! source's owner pops the item for the blocked client (`blocked_keys.rs`)
//! and its connection pushes it to the destination (`blocking.rs`). The
//! owner hands the item over with a [`Moving`] token, dropped once the push
//! has run (a push that wakes a move of its own makes that one's token
//! first). A connection's round of commands during which such a move began
//! (its push may have woken it) waits, before the next round and before
//! its replies go, until no token is left ([`settled_since`]); other rounds
//! do not wait (a client that reads meanwhile may find the item in neither
//! list, README). One atomic read per round when no move began.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Tokens alive, over every shard.
static IN_FLIGHT: AtomicU32 = AtomicU32::new(0);

/// Tokens made so far, over every shard.
static STARTED: AtomicU64 = AtomicU64::new(0);

/// Batches waiting for the count to come to zero.
static SETTLED: Mutex<Vec<flume::Sender<()>>> = Mutex::new(Vec::new());

/// How long a batch waits at most: a token is dropped with its item in
/// every case (pushed, refused, or its connection's task gone), so this
/// only bounds the wait should one be kept by a fault.
const MOST: Duration = Duration::from_secs(1);

/// One item popped for a blocked move, not yet in its destination.
#[derive(Debug)]
pub(super) struct Moving(());

impl Moving {
    pub fn start() -> Moving {
        IN_FLIGHT.fetch_add(1, Ordering::AcqRel);
        STARTED.fetch_add(1, Ordering::AcqRel);
        Moving(())
    }
}

impl Drop for Moving {
    fn drop(&mut self) {
        if IN_FLIGHT.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Under the lock, so that a batch that found one in flight and
            // is about to wait is told (it looks again under the lock).
            let waiting = std::mem::take(&mut *settled_list());
            for batch in waiting {
                let _ = batch.send(());
            }
        }
    }
}

/// How many moves began so far: taken when a round begins.
pub(super) fn started() -> u64 {
    STARTED.load(Ordering::Acquire)
}

/// After a round that began at [`started`] `since`: returns at once if no
/// move began meanwhile, else once no item is on its way between shards.
pub(super) async fn settled_since(since: u64) {
    if started() != since {
        settled().await;
    }
}

/// Returns once no item is on its way between shards.
async fn settled() {
    if IN_FLIGHT.load(Ordering::Acquire) == 0 {
        return;
    }
    let tell = {
        let mut waiting = settled_list();
        if IN_FLIGHT.load(Ordering::Acquire) == 0 {
            return;
        }
        let (tx, rx) = flume::bounded(1);
        waiting.push(tx);
        rx
    };
    futures_lite::future::or(
        async {
            let _ = tell.recv_async().await;
        },
        glommio::timer::sleep(MOST),
    )
    .await;
}

fn settled_list() -> std::sync::MutexGuard<'static, Vec<flume::Sender<()>>> {
    SETTLED.lock().unwrap_or_else(PoisonError::into_inner)
}
