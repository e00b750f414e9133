//! What answers the key space's mesh messages (and a transaction's RUN
//! steps, `holds.rs`) on the shard that owns their keys.

use std::future::Future;
use std::rc::Rc;

use super::super::kv::durable::compact::Compactor;
use super::super::kv::durable::log::ShardLog;
use super::super::kv::durable::Fsync;
use super::{Gauges, Protocol, SharedStore};

/// What answers the mesh's messages on the shard that owns their keys.
pub(super) struct Owner {
    /// This shard, and how many there are.
    pub(super) shard: (usize, usize),
    pub(super) store: SharedStore,
    pub(super) log: Option<Rc<ShardLog>>,
    pub(super) compactor: Option<Rc<Compactor>>,
    pub(super) gauges: Gauges,
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
        let protocol = message.first().copied();
        let body = message.get(1..).unwrap_or_default();
        let requests = if protocol == Some(Protocol::Kv as u8) {
            super::super::kv::serve_forwarded(&self.store, log, body, &mut replies)
        } else if protocol == Some(Protocol::Resp as u8) {
            super::super::resp::serve_forwarded(&self.store, log, self.shard, body, &mut replies)
        } else {
            0
        };
        // Where the message's writes end: read before any await.
        let target = self.log.as_ref().map_or(0, |log| log.position());
        self.gauges.update(&self.store.borrow());
        if let (Some(log), Some(compactor)) = (&self.log, &self.compactor) {
            compactor.maybe_start(log, &self.store);
        }
        let log = self.log.clone();
        let (store, gauges) = (self.store.clone(), self.gauges.clone());
        // resp's messages may hold PUBLISHes, fanned out over this shard's
        // broker lanes: the reply waits while those are behind, which is
        // how a publisher on another shard slows down. Safe for an owner to
        // wait on: deliveries drain without waiting on anything.
        let broker = (protocol == Some(Protocol::Resp as u8))
            .then(crate::services::mq::Broker::here)
            .flatten();
        async move {
            if let Some(broker) = broker {
                broker.delivery_room().await;
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
                gauges.update(&store.borrow());
                replies.clear();
                for _ in 0..requests {
                    if protocol == Some(Protocol::Kv as u8) {
                        super::super::kv::push_disk_error(&mut replies, &reason);
                    } else {
                        super::super::resp::push_disk_error(&mut replies, &reason);
                    }
                }
            }
            replies
        }
    }
}
