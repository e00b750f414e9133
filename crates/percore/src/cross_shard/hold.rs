//! A shard's hold: while a transaction over several shards' keys runs
//! (resp's MULTI/EXEC, MSET, RENAME... across shards, README "Transactions
//! across shards"), every owner shard it concerns is held by it, and serves
//! nothing else until released: its connections wait before their next
//! round, and its mesh inbox before its next message. The holder's own
//! commands reach it over the key space's hold mesh, which never waits.
//!
//! A hold carries a lease ([`LEASE`]): a holder that vanished (a bug, a
//! shard gone) cannot wedge the shard; whoever waits past the lease frees
//! it, and the late holder's next step finds its hold lost.
//!
//! A shard is one thread: plain cells, no locks.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use futures_lite::FutureExt;

/// How long a hold lasts unless its holder renews it (each step of the
/// transaction does).
pub const LEASE: Duration = Duration::from_secs(10);
/// How long a shard stays kept for the transaction it refused first,
/// unless that one asks again meanwhile (a retry comes within a few ms).
const RESERVED_FOR: Duration = Duration::from_millis(10);

/// One shard's hold: who holds it (a token, 0 when free) and until when.
pub struct Hold {
    token: Cell<u64>,
    deadline: Cell<Instant>,
    lease: Duration,
    /// Bumped at each release: a waiter wakes when it changed.
    generation: Cell<u64>,
    waiters: RefCell<Vec<Waker>>,
    /// The transaction refused first since the last take, and until when
    /// the shard is kept for it: without it, under contention the shard's
    /// own transactions (whose takes need no hop) or a lucky retrier could
    /// win every time, and a transaction from another shard starve (seen:
    /// 5 s at 4 shards on 2 CPUs).
    reserved: Cell<u64>,
    reserved_until: Cell<Instant>,
}

impl Default for Hold {
    fn default() -> Self {
        Hold::with_lease(LEASE)
    }
}

impl Hold {
    /// A free hold whose holds last `lease` unless renewed.
    pub fn with_lease(lease: Duration) -> Hold {
        Hold {
            token: Cell::new(0),
            deadline: Cell::new(Instant::now()),
            lease,
            generation: Cell::new(0),
            waiters: RefCell::default(),
            reserved: Cell::new(0),
            reserved_until: Cell::new(Instant::now()),
        }
    }

    /// Whether some holder holds the shard now: one cell read, the only
    /// cost to traffic while no transaction runs.
    pub fn is_held(&self) -> bool {
        self.token.get() != 0
    }

    /// Takes the hold for `token` (never 0) if it is free, already
    /// `token`'s, or its lease has passed; false: busy, try again later.
    /// A free shard is kept a while for the transaction it refused first:
    /// the others are refused meanwhile, so each waiter gets its turn.
    pub fn take(&self, token: u64) -> bool {
        let now = Instant::now();
        let held = self.token.get();
        if held != 0 && held != token && now < self.deadline.get() {
            self.reserve(token, now);
            return false;
        }
        let reserved = self.reserved.get();
        if reserved != 0 && reserved != token && now < self.reserved_until.get() {
            return false;
        }
        self.reserved.set(0);
        if held != 0 && held != token {
            lease_passed(held);
        }
        self.token.set(token);
        self.deadline.set(now + self.lease);
        true
    }

    /// Keeps the shard for `token`, refused now, unless it is kept for
    /// another that still asks.
    fn reserve(&self, token: u64, now: Instant) {
        let reserved = self.reserved.get();
        if reserved == 0 || reserved == token || now >= self.reserved_until.get() {
            self.reserved.set(token);
            self.reserved_until.set(now + RESERVED_FOR);
        }
    }

    /// Extends `token`'s hold by a lease; false when it is not (or no
    /// longer) `token`'s.
    pub fn renew(&self, token: u64) -> bool {
        let now = Instant::now();
        if token == 0 || self.token.get() != token || now >= self.deadline.get() {
            return false;
        }
        self.deadline.set(now + self.lease);
        true
    }

    /// Releases `token`'s hold (nothing if it is not `token`'s) and wakes
    /// whoever waits for it.
    pub fn release(&self, token: u64) {
        if token != 0 && self.token.get() == token {
            self.free();
        }
    }

    fn free(&self) {
        self.token.set(0);
        self.generation.set(self.generation.get().wrapping_add(1));
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        waiters.into_iter().for_each(Waker::wake);
    }

    /// Ready once the shard is free: at once when it is (no yield), else
    /// at its release, or when its lease passes (then it is freed).
    pub async fn until_free(&self) {
        while self.is_held() {
            let deadline = self.deadline.get();
            if Instant::now() >= deadline {
                lease_passed(self.token.get());
                self.free();
                return;
            }
            let seen = self.generation.get();
            let released = poll_fn(|cx| {
                if self.generation.get() != seen {
                    return Poll::Ready(());
                }
                self.waiters.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            });
            let lease = glommio::timer::sleep(deadline.saturating_duration_since(Instant::now()));
            released.or(lease).await;
        }
    }
}

/// A hold whose holder let its lease pass: a bug or a shard gone, worth a
/// line on stderr.
fn lease_passed(token: u64) {
    eprintln!(
        "percore: shard {}: a cross-shard transaction's hold outlived its lease and was freed",
        token >> 48
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    use glommio::LocalExecutorBuilder;

    fn on_a_shard<F: std::future::Future<Output = ()> + 'static>(
        test: impl FnOnce() -> F + Send + 'static,
    ) {
        LocalExecutorBuilder::default()
            .spawn(test)
            .expect("start an executor")
            .join()
            .expect("the test runs to its end");
    }

    #[test]
    fn a_held_shard_is_busy_for_others_and_free_after_release() {
        on_a_shard(|| async {
            let hold = Hold::default();
            assert!(!hold.is_held());
            assert!(hold.take(1));
            assert!(hold.take(1), "taking again is renewing");
            assert!(!hold.take(2));
            assert!(hold.renew(1));
            assert!(!hold.renew(2));
            hold.release(2);
            assert!(hold.is_held(), "only its holder releases it");
            hold.release(1);
            assert!(!hold.is_held());
            assert!(hold.take(2));
        });
    }

    #[test]
    fn a_free_shard_is_kept_for_the_transaction_it_refused_first() {
        on_a_shard(|| async {
            let hold = Hold::default();
            assert!(hold.take(1));
            assert!(!hold.take(2), "busy: 2 is refused first");
            assert!(!hold.take(3), "busy: 3 after it");
            hold.release(1);
            assert!(!hold.take(3), "kept for 2");
            assert!(!hold.take(1), "kept for 2, even from the last holder");
            assert!(hold.take(2));
            hold.release(2);
            assert!(hold.take(3), "nobody refused since: free for all");
            hold.release(3);
            // A reservation whose transaction asks no more lapses.
            assert!(hold.take(1));
            assert!(!hold.take(2));
            hold.release(1);
            glommio::timer::sleep(RESERVED_FOR + Duration::from_millis(5)).await;
            assert!(hold.take(3));
        });
    }

    #[test]
    fn a_waiter_goes_on_at_the_release() {
        on_a_shard(|| async {
            let hold = Rc::new(Hold::default());
            assert!(hold.take(7));
            let waiting = hold.clone();
            let waiter = glommio::spawn_local(async move { waiting.until_free().await });
            glommio::executor().yield_now().await;
            assert!(hold.is_held());
            hold.release(7);
            waiter.await;
            assert!(!hold.is_held());
        });
    }

    #[test]
    fn a_lease_that_passed_frees_the_shard() {
        on_a_shard(|| async {
            let hold = Hold::with_lease(Duration::from_millis(20));
            assert!(hold.take(1 << 48));
            let started = Instant::now();
            hold.until_free().await;
            assert!(started.elapsed() >= Duration::from_millis(15));
            assert!(!hold.is_held());
            assert!(!hold.renew(1 << 48), "the late holder finds its hold lost");
            // And a new holder may take an expired hold at once.
            assert!(hold.take(2));
            glommio::timer::sleep(Duration::from_millis(25)).await;
            assert!(hold.take(3));
        });
    }
}
