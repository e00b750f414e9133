//! Items on their way between two shards for a blocked BLMOVE or
//! BRPOPLPUSH (issue 27), so that the push that woke it answers once the
//! item is in its destination, as in Redis, where a client served by a push
//! has its move done (and the moves it wakes in turn: `Linked LMOVEs`,
//! `Circular BRPOPLPUSH` in Redis's suite) before the push's reply.
//!
//! A move whose destination another shard owns is made in two steps: the
//! source's owner pops the item for the blocked client (`blocked_keys.rs`)
//! and its connection pushes it to the destination (`blocking.rs`), with
//! `INTERNAL-MOVE-PUSH` ([`push`]). The owner hands the item over with a
//! [`Moving`] token, dropped once that push has run. Tokens are numbered
//! as they are made; a move woken by such a push continues its chain (the
//! chain keeps the number of its first token), so the chain is done when
//! its last token is. A connection's round of commands during which a
//! token was made (its push may have woken a move) waits, before the next
//! round and before its replies go, until every chain with a token made in
//! that time is done ([`settled_since`]); a chain begun later is not waited
//! for, and other rounds do not wait (a client that reads meanwhile may
//! find the item in neither list, README). One atomic read per round when
//! no move began.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::*;

/// Tokens made so far, over every shard: the last one's number.
static MADE: AtomicU64 = AtomicU64::new(0);

/// Chains with a token alive, by their first token's number, and the
/// rounds waiting for some of them.
static CHAINS: Mutex<Chains> = Mutex::new(Chains {
    alive: None,
    waiting: Vec::new(),
});

struct Chains {
    alive: Option<HashMap<u64, Chain>>,
    waiting: Vec<flume::Sender<()>>,
}

/// A chain's tokens alive, and its last token's number.
struct Chain {
    tokens: u32,
    last: u64,
}

thread_local! {
    /// Where the push is held to run, reused: a scratch buffer, set before
    /// each use, that holds no shared state. (The chain the push continues
    /// is the shard's: `RespShard::continuing`.)
    static ARGS: RefCell<protocol::Args> = RefCell::new(protocol::Args::unbounded());
}

/// How long a round waits at most: a token is dropped with its item in
/// every case (pushed, refused, or its connection's task gone), so this
/// only bounds the wait should one be kept by a fault.
const MOST: Duration = Duration::from_secs(1);

/// One item popped for a blocked move, not yet in its destination.
#[derive(Debug)]
pub(super) struct Moving {
    chain: u64,
}

impl Moving {
    /// A token made on `here` (which an `INTERNAL-MOVE-PUSH` running there
    /// may have put on a chain).
    pub fn start(here: &RespShard) -> Moving {
        let number = MADE.fetch_add(1, Ordering::AcqRel) + 1;
        let chain = here.continuing.get().unwrap_or(number);
        let mut chains = chains();
        let entry = chains
            .alive
            .get_or_insert_with(HashMap::new)
            .entry(chain)
            .or_insert(Chain {
                tokens: 0,
                last: number,
            });
        entry.tokens += 1;
        entry.last = number;
        Moving { chain }
    }

    /// The chain it belongs to, for the push that ends it.
    pub fn chain(&self) -> u64 {
        self.chain
    }
}

impl Drop for Moving {
    fn drop(&mut self) {
        let mut chains = chains();
        let Some(alive) = chains.alive.as_mut() else {
            return;
        };
        let done = alive.get_mut(&self.chain).is_some_and(|chain| {
            chain.tokens -= 1;
            chain.tokens == 0
        });
        if done {
            alive.remove(&self.chain);
            // Under the lock: a round about to wait looked under it too.
            for round in std::mem::take(&mut chains.waiting) {
                let _ = round.send(());
            }
        }
    }
}

/// How many tokens were made so far: taken when a round begins.
pub(super) fn made() -> u64 {
    MADE.load(Ordering::Acquire)
}

/// After a round that began when [`made`] was `since`: returns at once if
/// no token was made meanwhile, else once every chain with a token made
/// meanwhile is done.
pub(super) async fn settled_since(since: u64) {
    let until = made();
    if until == since {
        return;
    }
    loop {
        let told = {
            let mut chains = chains();
            let waited = chains.alive.as_ref().is_some_and(|alive| {
                alive
                    .iter()
                    .any(|(&first, chain)| first <= until && chain.last > since)
            });
            if !waited {
                return;
            }
            let (tell, told) = flume::bounded(1);
            chains.waiting.push(tell);
            told
        };
        let woken = futures_lite::future::or(async { told.recv_async().await.is_ok() }, async {
            glommio::timer::sleep(MOST).await;
            false
        })
        .await;
        if !woken {
            return;
        }
    }
}

/// `INTERNAL-MOVE-PUSH chain LPUSH|RPUSH key item`: the push that ends a
/// move of chain `chain`, answered as the push; the moves it wakes (served
/// when this command has run, `blocked_keys.rs`) continue the chain.
pub(super) fn push(
    command: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    shard: &RespShard,
    out: &mut Vec<u8>,
) {
    let chain = std::str::from_utf8(command.at(1))
        .ok()
        .and_then(|n| n.parse().ok());
    let push = if command.at(2).eq_ignore_ascii_case(b"rpush") {
        Cmd::RPush
    } else {
        Cmd::LPush
    };
    shard.continuing.set(chain);
    ARGS.with(|args| {
        let Ok(mut args) = args.try_borrow_mut() else {
            return write::error(out, "ERR internal: a move pushed twice at once");
        };
        args.set_words(&[command.at(2), command.at(3), command.at(4)]);
        execute::execute_for_waiter(push, &args.view(&[]), keys, proto, shard, out);
    });
}

/// The command that ran here has served what it filled: the next one
/// continues no chain.
pub(super) fn ended(here: &RespShard) {
    here.continuing.set(None);
}

fn chains() -> std::sync::MutexGuard<'static, Chains> {
    CHAINS.lock().unwrap_or_else(PoisonError::into_inner)
}
