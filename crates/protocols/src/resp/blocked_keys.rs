//! The owner's side of the blocking commands (issue 27): per key this shard
//! owns, the clients blocked on it, first blocked first served, as Redis
//! 7.0 keeps them (`blocked.c`: `db->blocking_keys`, served by
//! `handleClientsBlockedOnKeys` after each command).
//!
//! A connection blocks by queuing its [`Waiter`] on each key's owner
//! (`INTERNAL-BLOCK id key`, [`block_on`]) and leaves with
//! `INTERNAL-UNBLOCK id key` ([`unblock`]). A write that may fill a waited
//! key marks it ready (the key space's hook, [`filled`]); when the command
//! that did it has run (the outermost [`execute`], so a MULTI/EXEC is served
//! after its last command, as in Redis), [`serve_ready`] serves each ready
//! key's waiters in order while it holds elements: it claims a waiter
//! (`waiter.rs`), runs its one-key form (LMPOP, ZMPOP, LMOVE...) here, with
//! no await, and sends the reply over the waiter's channel. A waiter of
//! another type than the key's value is passed over and stays, as Redis's
//! is. A serve that pushes (LMOVE to a key of this shard) marks its
//! destination ready in turn, so chains of BLMOVEs are served in the same
//! run.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::blocking_forms::reshape;
use super::move_keys::bulk_value;
use super::moves_in_flight::Moving;
use super::waiter::{Served, Waiter};
use super::*;

/// This shard's waited keys, each with its waiters in the order they
/// blocked.
type Queues = HashMap<Box<[u8]>, VecDeque<Arc<Waiter>>>;

/// One shard's waits, in its `RespShard`: reached only through this
/// module's synchronous functions, so no borrow outlives one of them.
#[derive(Default)]
pub struct BlockedKeys {
    queues: RefCell<Queues>,
    /// Waited keys a write may have filled, in the order they were.
    ready: RefCell<Vec<Box<[u8]>>>,
    /// How deep in `execute` this shard is (an EXEC runs its queue inside).
    depth: Cell<u32>,
}

thread_local! {
    /// Where a waiter's one-key form is held to run, reused: a scratch
    /// buffer, set before each use, that holds no shared state.
    static ARGS: RefCell<protocol::Args> = RefCell::new(protocol::Args::unbounded());
}

/// The key space's hook: a write may have filled `key`.
pub(super) fn filled(here: &RespShard, key: &[u8]) {
    let blocked = &here.blocked_keys;
    if blocked.queues.borrow().contains_key(key) {
        let mut ready = blocked.ready.borrow_mut();
        if !ready.iter().any(|k| &**k == key) {
            ready.push(key.into());
        }
    }
}

/// Entering `execute`: whether this is the outermost call.
pub(super) fn enter(here: &RespShard) -> bool {
    let depth = &here.blocked_keys.depth;
    depth.set(depth.get() + 1);
    depth.get() == 1
}

/// Whether the command running now is a client's own, not one that
/// another runs (`EXEC`'s queued commands, a blocking form's inner one).
pub(super) fn outermost(here: &RespShard) -> bool {
    here.blocked_keys.depth.get() <= 1
}

/// Leaving `execute`; the outermost call serves the keys its command
/// filled.
pub(super) fn leave(outermost: bool, keys: &mut ShardKeys<'_>, shard: &RespShard) {
    if outermost {
        serve_ready(keys, shard);
        // An `INTERNAL-MOVE-PUSH`'s chain ends with it here.
        super::moves_in_flight::ended(shard);
    }
    let depth = &shard.blocked_keys.depth;
    depth.set(depth.get().saturating_sub(1));
}

/// `INTERNAL-BLOCK-ON id key`: queues waiter `id` on `key`, last. A key
/// that holds elements already is served at once, after this command; one
/// of another type answers WRONGTYPE.
pub(super) fn block_on(
    here: &RespShard,
    command: &Command<'_>,
    keys: &ShardKeys<'_>,
    out: &mut Vec<u8>,
) {
    let key = command.at(2);
    let waiter = std::str::from_utf8(command.at(1))
        .ok()
        .and_then(|id| id.parse().ok())
        .and_then(Waiter::find);
    let Some(waiter) = waiter else {
        return write::error(out, "ERR internal: no such blocked client");
    };
    let kind = keys.kind(key);
    if kind.is_some_and(|kind| kind != waiter.form.kind) {
        // As Redis before blocking: a key of another type refuses the
        // command (once blocked, such a key is passed over instead).
        if waiter.claim() {
            let mut refused = Vec::new();
            commands::collections::wrong_type(&mut refused);
            waiter.serve(Served::Reply(refused));
        }
    } else if !waiter.claimed() {
        here.blocked_keys
            .queues
            .borrow_mut()
            .entry(key.into())
            .or_default()
            .push_back(waiter);
        if kind.is_some() {
            filled(here, key);
        }
    }
    write::ok(out);
}

/// `INTERNAL-UNBLOCK id key`: waiter `id` waits on `key` no more.
pub(super) fn unblock(here: &RespShard, command: &Command<'_>, out: &mut Vec<u8>) {
    let key = command.at(2);
    let id: Option<u64> = std::str::from_utf8(command.at(1))
        .ok()
        .and_then(|id| id.parse().ok());
    let mut queues = here.blocked_keys.queues.borrow_mut();
    if let Some(queue) = queues.get_mut(key) {
        queue.retain(|waiter| Some(waiter.id) != id && !waiter.claimed());
        if queue.is_empty() {
            queues.remove(key);
        }
    }
    write::ok(out);
}

/// Serves the ready keys' waiters, until no key is ready.
fn serve_ready(keys: &mut ShardKeys<'_>, shard: &RespShard) {
    loop {
        let key = {
            let mut ready = shard.blocked_keys.ready.borrow_mut();
            (!ready.is_empty()).then(|| ready.remove(0))
        };
        let Some(key) = key else {
            return;
        };
        while let Some(waiter) = next_waiter(shard, &key, keys) {
            serve(&waiter, &key, keys, shard);
        }
    }
}

/// The first waiter of `key` that its value can serve, claimed and out of
/// the queue; waiters someone else took are dropped on the way.
fn next_waiter(here: &RespShard, key: &[u8], keys: &ShardKeys<'_>) -> Option<Arc<Waiter>> {
    let kind = keys.kind(key)?;
    {
        let mut queues = here.blocked_keys.queues.borrow_mut();
        let queue = queues.get_mut(key)?;
        let mut at = 0;
        let mut found = None;
        while at < queue.len() {
            let waiter = &queue[at];
            if waiter.claimed() {
                queue.remove(at);
            } else if waiter.form.kind != kind {
                at += 1;
            } else if waiter.claim() {
                found = queue.remove(at);
                break;
            } else {
                queue.remove(at);
            }
        }
        if queue.is_empty() {
            queues.remove(key);
        }
        found
    }
}

/// Serves `waiter` (claimed) from `key`: its one-key form runs here, and the
/// reply goes to its connection.
fn serve(waiter: &Waiter, key: &[u8], keys: &mut ShardKeys<'_>, shard: &RespShard) {
    let form = &waiter.form;
    // BLPOP and BZPOP* run their M-form in RESP2 and reshape its reply.
    let reshaped = matches!(
        waiter.cmd,
        Cmd::BLPop | Cmd::BRPop | Cmd::BZPopMin | Cmd::BZPopMax
    );
    let asked = if reshaped || form.moves() {
        Proto::Resp2
    } else {
        waiter.proto
    };
    let mut got = Vec::new();
    ARGS.with(|args| {
        // A waiter is served by one command at a time: no nested borrow.
        let Ok(mut args) = args.try_borrow_mut() else {
            return write::error(&mut got, "ERR internal: a blocked client served twice");
        };
        args.set_words(&form.words_for(key));
        execute::execute_for_waiter(form.inner, &args.view(&[]), keys, asked, shard, &mut got);
    });
    let served = if got.first() == Some(&b'-') {
        Served::Reply(got)
    } else if form.moves() {
        match bulk_value(&got) {
            Some(item) => Served::Moved(item.to_vec(), Moving::start(shard)),
            None => Served::Reply(got),
        }
    } else {
        let mut reply = Vec::new();
        reshape(waiter.cmd, &got, waiter.proto, &mut reply);
        Served::Reply(reply)
    };
    waiter.serve(served);
}
