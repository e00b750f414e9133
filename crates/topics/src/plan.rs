//! The topics' plan: made once, cloned into every service that serves the
//! topics (mq and resp, docs/PROTOCOLS.md §6.3), and turned into one [`Broker`] per shard
//! by whichever of them starts first there; the other finds it with
//! [`ShardContext::shared`]. As the key space's `KeySpacePlan`, so that
//! `--services resp` alone still has its brokers and lanes.

use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

use super::broker::{Broker, MqPlan};
use percore::server::ShardContext;
use percore::service::StartError;

/// The brokers' plan: their lanes, planned by the first service's
/// `prepare` (the outer `None`: not yet; the inner: one shard, no lanes). A
/// mutex because a lane plan is `Send` but not `Sync`; it is only taken
/// while the server starts.
#[derive(Clone, Default)]
pub struct BrokerPlan {
    lanes: Arc<Mutex<Option<Option<MqPlan>>>>,
}

impl BrokerPlan {
    /// Plans the lanes for `shards` shards (once, whoever calls first).
    pub fn prepare(&self, shards: usize) {
        let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        lanes.get_or_insert_with(|| (shards > 1).then(|| MqPlan::new(shards)));
    }

    /// This shard's broker: built by the first service to ask on this
    /// shard, shared with the others.
    pub async fn on_shard(&self, shard: &ShardContext) -> Result<Rc<Broker>, StartError> {
        if let Some(broker) = shard.shared::<Broker>() {
            return Ok(broker);
        }
        let planned = self
            .lanes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let broker = Broker::start(
            planned.flatten(),
            shard.id(),
            shard.shards(),
            shard.stop_watch(),
        )
        .await?;
        shard.share(broker.clone());
        Ok(broker)
    }
}
