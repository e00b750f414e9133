//! Holding the owner shards of a transaction across shards (README
//! "Transactions across shards"; the hold itself is
//! `percore::cross_shard::hold`, its messages `keyspace/holds.rs`).
//!
//! The shard that runs the transaction takes the hold of every shard its
//! keys live on, in ascending shard order; a shard already held answers
//! busy, and then every hold taken is let go and the whole is tried again
//! after a short random wait, so two transactions never wait on each other.
//! While they are held, nothing else runs on those shards. The transaction
//! then runs with the same code as outside one ([`Resp::on_shard`]), which
//! sends its steps over the hold mesh instead of the request mesh while
//! [`within`] marks the task as the holder.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::*;

/// How long a transaction tries to hold its shards before it gives up.
const HOLD_PATIENCE: Duration = Duration::from_secs(10);
/// The first wait after a busy shard; doubled each time up to the most.
const FIRST_WAIT: Duration = Duration::from_micros(20);
const MOST_WAIT: Duration = Duration::from_micros(500);

/// Why a transaction could not hold its shards.
pub(super) const NOT_HELD: &str = "ERR percore could not hold the shards of a transaction across shards in time (README: Transactions across shards)";

/// The token of the transaction running now on `here`, when the calling
/// task is one that holds its shards.
pub(super) fn current(here: &RespShard) -> Option<u64> {
    Some(here.holder.get()).filter(|&token| token != 0)
}

/// Runs `future` as the holder of `token`'s shards: while it is polled,
/// [`current`] on `here` is `token`, so its steps go over the hold mesh.
pub(super) fn within<F: Future>(
    here: Rc<RespShard>,
    token: u64,
    future: F,
) -> impl Future<Output = F::Output> {
    Within {
        here,
        token,
        future: Box::pin(future),
    }
}

struct Within<F> {
    here: Rc<RespShard>,
    token: u64,
    future: Pin<Box<F>>,
}

impl<F: Future> Future for Within<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // A `Cell`, set and put back around the poll: only the task polled
        // now sees it.
        let before = self.here.holder.replace(self.token);
        let polled = self.future.as_mut().poll(cx);
        self.here.holder.set(before);
        polled
    }
}

/// The holds a transaction took: let go at [`Held::release`], or, if the
/// task is dropped before (its connection gone mid-transaction), by a task
/// of their own, so that the shards need not wait for the lease.
pub(super) struct Held {
    keys: Rc<KeySpace>,
    shards: Vec<usize>,
    token: u64,
}

impl Held {
    pub(super) fn token(&self) -> u64 {
        self.token
    }

    /// Lets every hold go, this shard's first (no hop).
    pub(super) async fn release(mut self) {
        let shards = std::mem::take(&mut self.shards);
        release(&self.keys, &shards, self.token).await;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.shards.is_empty() {
            return;
        }
        let (keys, shards, token) = (
            self.keys.clone(),
            std::mem::take(&mut self.shards),
            self.token,
        );
        glommio::spawn_local(async move { release(&keys, &shards, token).await }).detach();
    }
}

async fn release(keys: &KeySpace, shards: &[usize], token: u64) {
    let here = keys.shard();
    if shards.contains(&here) {
        keys.release_hold(here, token).await;
    }
    for &shard in shards.iter().filter(|&&shard| shard != here) {
        keys.release_hold(shard, token).await;
    }
}

impl Resp {
    /// Holds every shard of `shards` (ascending, no repeats) for a new
    /// transaction; `Err` when they stayed busy for [`HOLD_PATIENCE`].
    pub(super) async fn hold_all(&self, shards: &[usize]) -> Result<Held, &'static str> {
        let token = self.keys.new_token();
        let started = Instant::now();
        let mut wait = FIRST_WAIT;
        loop {
            let mut taken = 0;
            for &shard in shards {
                if !self.keys.take_hold(shard, token).await {
                    break;
                }
                taken += 1;
            }
            if taken == shards.len() {
                return Ok(Held {
                    keys: self.keys.clone(),
                    shards: shards.to_vec(),
                    token,
                });
            }
            release(&self.keys, &shards[..taken], token).await;
            if started.elapsed() >= HOLD_PATIENCE || self.stop.server_stopping() {
                return Err(NOT_HELD);
            }
            glommio::timer::sleep(jitter(wait, token)).await;
            wait = (wait * 2).min(MOST_WAIT);
        }
    }

    /// Runs `run` while holding every shard of `shards`: atomic with
    /// respect to every other client. Its output, or the error of shards
    /// that could not be held.
    pub(super) async fn holding<T, F: Future<Output = T>>(
        &self,
        shards: &[usize],
        run: F,
    ) -> Result<T, &'static str> {
        let held = self.hold_all(shards).await?;
        let done = within(self.here.clone(), held.token(), run).await;
        held.release().await;
        Ok(done)
    }

    /// The shards, ascending, that the keys of `keys` live on.
    pub(super) fn shards_of<'k>(&self, keys: impl IntoIterator<Item = &'k [u8]>) -> Vec<usize> {
        let mut shards: Vec<usize> = keys
            .into_iter()
            .map(|key| owner_of(key, self.shards))
            .collect();
        shards.sort_unstable();
        shards.dedup();
        shards
    }
}

/// `wait`, give or take half, differently for each transaction: two that
/// met at a busy shard try again at different times.
fn jitter(wait: Duration, token: u64) -> Duration {
    use std::hash::{BuildHasher, RandomState};
    let spread = wait.as_micros().max(1) as u64;
    let offset = RandomState::new().hash_one(token) % spread;
    wait / 2 + Duration::from_micros(offset)
}
