//! What answers the key space's mesh messages (and a transaction's RUN
//! steps, `holds.rs`) on the shard that owns their keys.
//!
//! The key space names no protocol: each protocol that serves it registers,
//! on the [`KeySpacePlan`](super::KeySpacePlan) before any shard starts, an
//! [`OwnerHandler`] under its message tag ([`Protocol`]), and the owner runs
//! a message with the handler its first byte names. One indirect call per
//! message, never per request.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use super::{FilledHook, Gauges, Protocol, SharedStore};
use crate::durable::compact::Compactor;
use crate::durable::log::ShardLog;
use crate::durable::Fsync;
use percore::cross_shard::Answer;

/// What a protocol runs on the shard that owns a message's keys: plain
/// functions, so that the plan holding them is `Send` and `Sync` and a
/// handler costs one indirect call per message.
#[derive(Clone, Copy)]
pub struct OwnerHandler {
    /// Runs a message's requests ([`ServeFn`]).
    pub serve: ServeFn,
    /// Appends one reply frame holding the error `text`.
    pub push_error: fn(replies: &mut Vec<u8>, text: &str),
    /// Appends the reply to a request whose write could not reach the disk
    /// (`reason`: why).
    pub push_disk_error: fn(replies: &mut Vec<u8>, reason: &str),
    /// What the replies wait for once the message has run, if anything: a
    /// protocol whose requests fan out over other lanes (resp's PUBLISH)
    /// makes the sender wait while those are behind, and until what they
    /// carried is placed (resp's reported deliveries: PUBLISH counts,
    /// keyspace events); the wait may then rewrite the replies (resp's
    /// late PUBLISH counts). Called once per message, with the protocol's
    /// state on this shard; `None` when there is nothing to wait for.
    pub before_reply: Option<BeforeReply>,
    /// Makes the protocol's state on a shard (this shard, how many): its
    /// registries, which its tasks on the shard are handed rather than find
    /// through thread-locals (resp's `RespShard`). Made as the shard's key
    /// space starts, before its mesh can bring a message, so that a message
    /// from a shard that started first finds it; the protocol's service
    /// takes it with [`KeySpace::state`](super::KeySpace::state), and
    /// [`ServeFn`] and `before_reply` are lent it.
    pub state: Option<MakeState>,
    /// Told, with the protocol's state on the shard, of each key the
    /// shard's active expiry frees (resp's `expired` keyspace event).
    pub expired: Option<ExpiredHook>,
    /// Told, with the protocol's state on the shard, of each key a write
    /// may have filled (resp's blocked clients: `filled.rs`).
    pub filled: Option<FilledHook>,
    /// Told, with the protocol's state on the shard, of each key evicted
    /// under `maxmemory-policy` (`write.rs`: resp's `evicted` keyspace
    /// event and tracking's invalidation).
    pub evicted: Option<EvictedHook>,
}

/// What is told of each key the active expiry frees: the protocol's state
/// on the shard ([`OwnerHandler::state`]), and the key.
pub type ExpiredHook = fn(state: &dyn Any, key: &[u8]);

/// What is told of each key evicted: the protocol's state on the shard,
/// and the key.
pub type EvictedHook = fn(state: &dyn Any, key: &[u8]);

/// The hook `pick` finds in each protocol's handler ([`ExpiredHook`],
/// [`FilledHook`], [`EvictedHook`]), with that protocol's state on one shard.
pub(super) fn hooks<H>(
    handlers: &Handlers,
    states: &States,
    pick: impl Fn(&OwnerHandler) -> Option<H>,
) -> Vec<(H, Rc<dyn Any>)> {
    handlers
        .iter()
        .zip(states)
        .filter_map(|(handler, state)| Some((pick(handler.as_ref()?)?, state.clone()?)))
        .collect()
}

/// Runs a message's requests (`body`: what follows its tag) in order on
/// this shard (`shard`: this shard and how many there are; `state`: the
/// protocol's state here, [`OwnerHandler::state`]), appending one reply
/// frame each to `replies`; returns how many it answered.
pub type ServeFn = fn(
    store: &SharedStore,
    log: Option<&ShardLog>,
    shard: (usize, usize),
    state: Option<&dyn Any>,
    body: &[u8],
    replies: &mut Vec<u8>,
) -> usize;

/// What a message's replies wait for, given the protocol's state on the
/// shard ([`OwnerHandler::before_reply`]).
pub type BeforeReply = fn(state: Option<&dyn Any>) -> Option<Wait>;

/// Makes a protocol's state on a shard, given (this shard, how many)
/// ([`OwnerHandler::state`]).
pub type MakeState = fn(shard: (usize, usize)) -> Rc<dyn Any>;

/// What a message's replies wait for ([`OwnerHandler::before_reply`]),
/// and then what it rewrites in them, if anything.
pub type Wait = Pin<Box<dyn Future<Output = Option<Rewrite>>>>;

/// Rewrites a message's reply frames once its wait is over.
pub type Rewrite = Box<dyn FnOnce(&mut Vec<u8>)>;

/// The handlers registered for each message tag, indexed by the tag.
pub(super) type Handlers = [Option<OwnerHandler>; Protocol::COUNT];

/// Each protocol's state on one shard ([`OwnerHandler::state`]), by tag.
pub(super) type States = [Option<Rc<dyn Any>>; Protocol::COUNT];

/// The states of the protocols in `handlers` on `shard`.
pub(super) fn states(handlers: &Handlers, shard: (usize, usize)) -> States {
    let mut states = States::default();
    for (state, handler) in states.iter_mut().zip(handlers) {
        *state = handler
            .and_then(|handler| handler.state)
            .map(|make| make(shard));
    }
    states
}

/// What answers the mesh's messages on the shard that owns their keys.
pub(super) struct Owner {
    /// This shard, and how many there are.
    pub(super) shard: (usize, usize),
    pub(super) store: SharedStore,
    pub(super) log: Option<Rc<ShardLog>>,
    pub(super) compactor: Option<Rc<Compactor>>,
    pub(super) gauges: Gauges,
    /// What each protocol runs here, by its tag.
    pub(super) handlers: Handlers,
    /// Each protocol's state here, by its tag.
    pub(super) states: States,
}

impl Owner {
    /// Answers one message with its protocol's handler; under `--fsync
    /// always` the replies leave once the message's writes are on disk, and
    /// otherwise each becomes that protocol's disk error. A message whose
    /// replies wait on other shards ([`OwnerHandler::before_reply`]) is
    /// answered apart: the sender's next messages are served meanwhile.
    pub(super) fn serve(
        &self,
        message: &[u8],
        mut replies: Vec<u8>,
    ) -> Answer<impl Future<Output = Vec<u8>> + 'static> {
        // Marked before the message's writes: its commit covers them.
        let mark = self.log.as_ref().map(ShardLog::mark);
        let log = self.log.as_deref();
        let body = message.get(1..).unwrap_or_default();
        let handler = self.handler(message);
        let state = self.state(message);
        let requests = handler.map_or(0, |handler| {
            (handler.serve)(&self.store, log, self.shard, state, body, &mut replies)
        });
        // Where the message's writes end: read before any await.
        let target = self.log.as_ref().map_or(0, |log| log.position());
        self.store.with(|store| self.gauges.update(store));
        if let (Some(log), Some(compactor)) = (&self.log, &self.compactor) {
            compactor.maybe_start(log, &self.store);
        }
        let log = self.log.clone();
        let (store, gauges) = (self.store.clone(), self.gauges.clone());
        // resp's messages may hold PUBLISHes, fanned out over this shard's
        // broker lanes: the reply waits while those are behind, which is
        // how a publisher on another shard slows down, and until the other
        // shards report what they delivered. Safe for an owner to wait on:
        // deliveries and reports drain without waiting on anything.
        let room = handler
            .and_then(|handler| handler.before_reply)
            .and_then(|before_reply| before_reply(state));
        let apart = room.is_some();
        let answer = async move {
            if let Some(room) = room {
                if let Some(rewrite) = room.await {
                    rewrite(&mut replies);
                }
            }
            let commit = match (&log, &mark) {
                (Some(log), Some(mark))
                    if log.policy() == Fsync::Always && log.appended_since(mark) =>
                {
                    log.commit(mark, target).await
                }
                _ => Ok(()),
            };
            if let Err(reason) = commit {
                // None of the message's writes was kept.
                store.with(|store| gauges.update(store));
                replies.clear();
                if let Some(handler) = handler {
                    for _ in 0..requests {
                        (handler.push_disk_error)(&mut replies, &reason);
                    }
                }
            }
            replies
        };
        if apart {
            Answer::Apart(answer)
        } else {
            Answer::InOrder(answer)
        }
    }

    /// The handler registered for a message's tag (its first byte).
    pub(super) fn handler(&self, message: &[u8]) -> Option<OwnerHandler> {
        let tag = usize::from(*message.first()?);
        self.handlers.get(tag).copied().flatten()
    }

    /// The state of the protocol a message's tag names.
    fn state(&self, message: &[u8]) -> Option<&dyn Any> {
        let tag = usize::from(*message.first()?);
        self.states.get(tag)?.as_deref()
    }
}
