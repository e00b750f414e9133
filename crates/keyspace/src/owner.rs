//! What answers the key space's mesh messages (and a transaction's RUN
//! steps, `holds.rs`) on the shard that owns their keys.
//!
//! The key space names no protocol: each protocol that serves it registers,
//! on the [`KeySpacePlan`](super::KeySpacePlan) before any shard starts, an
//! [`OwnerHandler`] under its message tag ([`Protocol`]), and the owner runs
//! a message with the handler its first byte names. One indirect call per
//! message, never per request.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use super::{Gauges, Protocol, SharedStore};
use crate::durable::compact::Compactor;
use crate::durable::log::ShardLog;
use crate::durable::Fsync;

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
    /// makes the sender wait while those are behind. Called once per
    /// message; `None` when there is nothing to wait for.
    pub before_reply: Option<fn() -> Option<Wait>>,
}

/// Runs a message's requests (`body`: what follows its tag) in order on
/// this shard (`shard`: this shard and how many there are), appending one
/// reply frame each to `replies`; returns how many it answered.
pub type ServeFn = fn(
    store: &SharedStore,
    log: Option<&ShardLog>,
    shard: (usize, usize),
    body: &[u8],
    replies: &mut Vec<u8>,
) -> usize;

/// What a message's replies wait for ([`OwnerHandler::before_reply`]).
pub type Wait = Pin<Box<dyn Future<Output = ()>>>;

/// The handlers registered for each message tag, indexed by the tag.
pub(super) type Handlers = [Option<OwnerHandler>; Protocol::COUNT];

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
}

impl Owner {
    /// Answers one message with its protocol's handler; under `--fsync
    /// always` the replies leave once the message's writes are on disk, and
    /// otherwise each becomes that protocol's disk error.
    pub(super) fn serve(
        &self,
        message: &[u8],
        mut replies: Vec<u8>,
    ) -> impl Future<Output = Vec<u8>> {
        // Marked before the message's writes: its commit covers them.
        let mark = self.log.as_ref().map(ShardLog::mark);
        let log = self.log.as_deref();
        let body = message.get(1..).unwrap_or_default();
        let handler = self.handler(message);
        let requests = handler.map_or(0, |handler| {
            (handler.serve)(&self.store, log, self.shard, body, &mut replies)
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
        // how a publisher on another shard slows down. Safe for an owner to
        // wait on: deliveries drain without waiting on anything.
        let room = handler
            .and_then(|handler| handler.before_reply)
            .and_then(|before_reply| before_reply());
        async move {
            if let Some(room) = room {
                room.await;
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
        }
    }

    /// The handler registered for a message's tag (its first byte).
    pub(super) fn handler(&self, message: &[u8]) -> Option<OwnerHandler> {
        let tag = usize::from(*message.first()?);
        self.handlers.get(tag).copied().flatten()
    }
}
